//! A suite scored end to end: every evaluator's examples built as llm-foundry builds them ([`plan`]), turned
//! into the sequences the model runs, scored ([`run`]) and reduced to per-evaluator accuracies under
//! llm-foundry's logger keys, then to DCLM's per-task numbers ([`category_average`]).
//!
//! Planning needs no model: it is where a bad task file or an over-long continuation is reported, before an
//! hour of scoring. Tasks whose data file is absent are listed as missing, never skipped silently; DCLM's
//! aggregates then say "N/A due to missing tasks".

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::aggregate::category_average;
use crate::data::{data_path, load_datasets};
use crate::error::EvalError;
use crate::metrics::{lm_correct, metric_value, multiple_choice_correct, GenerationExactMatch};
use crate::model::OpenLm;
use crate::prompt::{Body, Evaluator, Example, PromptTokenizer};
use crate::score::{generate_greedy, score_sequences, Sequence};
use crate::task::{Suite, TaskType};

/// The end-of-text token generation stops at (GPT-NeoX's EOS, id 0; llm-foundry passes it as `eos_token_id`).
pub const EOS_TOKEN: &str = "<|endoftext|>";

/// A task of the suite whose data file is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTask {
    pub label: String,
    pub path: PathBuf,
}

/// How one example is judged once its sequences are scored.
#[derive(Debug, Clone)]
enum Judge {
    /// Multiple choice or schema: sequences `first..first + count`, one per choice; lowest perplexity wins.
    Choice { first: usize, count: usize, gold: usize },
    /// Language modelling: the greedy prediction must equal every continuation token of sequence `sequence`.
    Exact { sequence: usize },
}

/// A generation example: the prompt (truncated on the left as llm-foundry does) and its accepted answers.
#[derive(Debug, Clone)]
struct GenerationItem {
    prompt: Vec<u32>,
    max_new_tokens: usize,
    labels: Vec<String>,
}

#[derive(Debug, Clone)]
enum Work {
    Scored { sequences: Vec<Sequence>, judges: Vec<Judge> },
    Generated { items: Vec<GenerationItem>, metric: GenerationExactMatch, stops: Vec<String> },
}

/// One llm-foundry evaluator (a task at one few-shot setting, for one category) ready to score.
#[derive(Debug, Clone)]
pub struct PlannedEvaluator {
    /// `<task>/<k>-shot[/<category>]`.
    pub label: String,
    /// `metrics/<label>/<Metric>`, the key DCLM's `evaluate()` reads.
    pub logger_key: String,
    pub task: String,
    pub category: Option<String>,
    pub num_fewshot: usize,
    pub icl_task_type: TaskType,
    pub examples: usize,
    work: Work,
}

impl PlannedEvaluator {
    /// Tokens the model runs for this evaluator (generation: prompt plus the most it may generate).
    /// The teacher-forced sequences this evaluator scores (none for a generation task).
    pub fn scored_sequences(&self) -> &[Sequence] {
        match &self.work {
            Work::Scored { sequences, .. } => sequences,
            Work::Generated { .. } => &[],
        }
    }

    /// For each of [`Self::scored_sequences`], the example (0-based, within this evaluator) it belongs to.
    pub fn sequence_examples(&self) -> Vec<usize> {
        let Work::Scored { sequences, judges } = &self.work else { return Vec::new() };
        let mut out = vec![0; sequences.len()];
        for (example, judge) in judges.iter().enumerate() {
            let range = match *judge {
                Judge::Choice { first, count, .. } => first..first + count,
                Judge::Exact { sequence } => sequence..sequence + 1,
            };
            for slot in &mut out[range] {
                *slot = example;
            }
        }
        out
    }

    pub fn tokens(&self) -> usize {
        match &self.work {
            Work::Scored { sequences, .. } => sequences.iter().map(|s| s.ids.len()).sum(),
            Work::Generated { items, .. } => items.iter().map(|i| i.prompt.len() + i.max_new_tokens).sum(),
        }
    }
}

/// Everything a suite will score.
#[derive(Debug, Clone)]
pub struct Plan {
    pub suite: String,
    pub evaluators: Vec<PlannedEvaluator>,
    pub missing: Vec<MissingTask>,
    /// Labels of the `has_categories` tasks (their evaluators are averaged per task).
    pub category_tasks: Vec<String>,
}

impl Plan {
    pub fn tokens(&self) -> usize {
        self.evaluators.iter().map(PlannedEvaluator::tokens).sum()
    }

    pub fn examples(&self) -> usize {
        self.evaluators.iter().map(|e| e.examples).sum()
    }
}

/// Builds every evaluator of `suite` from the task files under `data_dir`; `limit` keeps the first N
/// examples of each evaluator (a smoke run; the few-shot draws are still those of the whole file).
pub fn plan(
    suite: &Suite,
    data_dir: &Path,
    tokenizer: &PromptTokenizer,
    limit: Option<usize>,
) -> Result<Plan, EvalError> {
    let mut evaluators = Vec::new();
    let mut missing = Vec::new();
    for task in &suite.tasks {
        let path = data_path(data_dir, task);
        if !path.is_file() {
            missing.push(MissingTask { label: task.label.clone(), path });
            continue;
        }
        let datasets = load_datasets(data_dir, task)?;
        for &num_fewshot in &task.num_fewshot {
            for dataset in &datasets {
                let evaluator = Evaluator::new(tokenizer, task, dataset, num_fewshot, suite.max_seq_len)?;
                let count = limit.map_or(evaluator.len(), |n| n.min(evaluator.len()));
                let examples = (0..count).map(|i| evaluator.example(i)).collect::<Result<Vec<_>, _>>()?;
                let label = evaluator.label();
                evaluators.push(PlannedEvaluator {
                    logger_key: format!("metrics/{label}/{}", task.icl_task_type.metric_name()),
                    label,
                    task: task.label.clone(),
                    category: dataset.category.clone(),
                    num_fewshot,
                    icl_task_type: task.icl_task_type,
                    examples: examples.len(),
                    work: work_of(&task.label, examples)?,
                });
            }
        }
    }
    let category_tasks = suite.tasks.iter().filter(|t| t.has_categories).map(|t| t.label.clone()).collect();
    Ok(Plan { suite: suite.name.clone(), evaluators, missing, category_tasks })
}

/// The sequences (or generations) of one evaluator's examples.
fn work_of(task: &str, examples: Vec<Example>) -> Result<Work, EvalError> {
    let mut sequences = Vec::new();
    let mut judges = Vec::new();
    let mut items = Vec::new();
    let mut generation_metric = None;
    for example in examples {
        let index = example.index;
        let unscorable = |start: usize| {
            (start == 0).then(|| EvalError::Example {
                task: task.to_owned(),
                index,
                reason: "a continuation with no context token before it cannot be scored".to_owned(),
            })
        };
        match example.body {
            Body::MultipleChoice(mc) => {
                let first = sequences.len();
                for (j, continuation) in mc.continuation_ids.iter().enumerate() {
                    let mut ids = mc.context_ids[mc.trim_left[j]..].to_vec();
                    ids.extend_from_slice(continuation);
                    if let Some(error) = unscorable(mc.continuation_start[j]) {
                        return Err(error);
                    }
                    sequences.push(Sequence { ids, target_start: mc.continuation_start[j] });
                }
                judges.push(Judge::Choice { first, count: mc.continuation_ids.len(), gold: mc.gold });
            }
            Body::Schema(schema) => {
                let first = sequences.len();
                for (j, option) in schema.option_ids.iter().enumerate() {
                    let mut context = schema.preamble_ids.clone();
                    context.extend_from_slice(option);
                    let mut ids = context[schema.trim_left[j]..].to_vec();
                    ids.extend_from_slice(&schema.continuation_ids);
                    if let Some(error) = unscorable(schema.continuation_start[j]) {
                        return Err(error);
                    }
                    sequences.push(Sequence { ids, target_start: schema.continuation_start[j] });
                }
                judges.push(Judge::Choice { first, count: schema.option_ids.len(), gold: schema.gold });
            }
            Body::LanguageModeling(lm) => {
                let mut ids = lm.context_ids[lm.trim_left..].to_vec();
                ids.extend_from_slice(&lm.continuation_ids);
                if let Some(error) = unscorable(lm.continuation_start) {
                    return Err(error);
                }
                judges.push(Judge::Exact { sequence: sequences.len() });
                sequences.push(Sequence { ids, target_start: lm.continuation_start });
            }
            Body::Generation(generation) => {
                if generation_metric.is_none() {
                    let metric = GenerationExactMatch::new(
                        &generation.stop_sequences,
                        &generation.cot_delimiter,
                        generation.do_normalization,
                    )
                    .map_err(|e| EvalError::Example {
                        task: task.to_owned(),
                        index,
                        reason: e.to_string(),
                    })?;
                    generation_metric = Some((metric, generation.stop_sequences.clone()));
                }
                items.push(GenerationItem {
                    prompt: generation.context_ids[generation.trim_left..].to_vec(),
                    max_new_tokens: generation.max_new_tokens,
                    labels: generation.labels,
                });
            }
        }
    }
    Ok(match generation_metric {
        Some((metric, stops)) => Work::Generated { items, metric, stops },
        None => Work::Scored { sequences, judges },
    })
}

/// One evaluator's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluatorResult {
    pub label: String,
    pub logger_key: String,
    pub task: String,
    pub category: Option<String>,
    pub num_fewshot: usize,
    pub examples: usize,
    pub correct: u64,
    /// `correct / examples` as llm-foundry's metric computes it.
    pub accuracy: f64,
    pub tokens: usize,
    pub seconds: f64,
}

/// A suite's outcome: per evaluator, the tasks that could not run, and DCLM's per-task accuracies
/// (`eval_metrics.icl`: category tasks averaged over their categories).
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteResults {
    pub suite: String,
    pub evaluators: Vec<EvaluatorResult>,
    pub missing: Vec<MissingTask>,
    pub icl: Vec<(String, f64)>,
}

/// Scores every evaluator of `plan` with `model`. `progress(label, tokens)` is told each finished batch.
pub fn run(
    plan: &Plan,
    model: &OpenLm,
    tokenizer: &PromptTokenizer,
    batch_tokens: usize,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<SuiteResults, EvalError> {
    let eos = tokenizer.token_id(EOS_TOKEN);
    let mut evaluators = Vec::with_capacity(plan.evaluators.len());
    for planned in &plan.evaluators {
        let started = Instant::now();
        let mut report = |tokens: usize| progress(&planned.label, tokens);
        let correct = match &planned.work {
            Work::Scored { sequences, judges } => {
                let scores = score_sequences(model, sequences, batch_tokens, &mut report)?;
                judges
                    .iter()
                    .filter(|judge| match judge {
                        Judge::Choice { first, count, gold } => {
                            let choices: Vec<&[f32]> =
                                scores[*first..*first + *count].iter().map(|s| s.logprobs.as_slice()).collect();
                            multiple_choice_correct(&choices, *gold)
                        }
                        Judge::Exact { sequence } => {
                            let target = &sequences[*sequence].ids[sequences[*sequence].target_start..];
                            lm_correct(&scores[*sequence].argmax, target)
                        }
                    })
                    .count() as u64
            }
            Work::Generated { items, metric, stops } => {
                let mut correct = 0;
                for item in items {
                    let text = generate_text(model, tokenizer, item, eos, stops)?;
                    correct += u64::from(metric.score(&text, &item.labels).correct);
                    report(item.prompt.len() + item.max_new_tokens);
                }
                correct
            }
        };
        evaluators.push(EvaluatorResult {
            label: planned.label.clone(),
            logger_key: planned.logger_key.clone(),
            task: planned.task.clone(),
            category: planned.category.clone(),
            num_fewshot: planned.num_fewshot,
            examples: planned.examples,
            correct,
            accuracy: metric_value(correct, planned.examples as u64),
            tokens: planned.tokens(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let keyed: Vec<(String, f64)> = evaluators.iter().map(|e| (e.logger_key.clone(), e.accuracy)).collect();
    let icl = category_average(&keyed, &plan.category_tasks);
    Ok(SuiteResults { suite: plan.suite.clone(), evaluators, missing: plan.missing.clone(), icl })
}

/// Greedy generation of one item, decoded as llm-foundry decodes it (special tokens skipped, spaces cleaned).
fn generate_text(
    model: &OpenLm,
    tokenizer: &PromptTokenizer,
    item: &GenerationItem,
    eos: Option<u32>,
    stops: &[String],
) -> Result<String, EvalError> {
    let mut stop = |ids: &[u32]| match tokenizer.decode_generation(ids) {
        Ok(text) => stops.iter().any(|s| !s.is_empty() && text.contains(s.as_str())),
        Err(_) => false,
    };
    let ids = generate_greedy(model, &item.prompt, item.max_new_tokens, eos, &mut stop)?;
    tokenizer.decode_generation(&ids)
}

//! `sluice eval …`: DCLM's evaluation side. `sluice eval --model CKPT --tasks core` scores a checkpoint on a
//! suite and writes DCLM's evaluation JSON; `prompts` shows what the model is fed for a task (the text, or
//! with `--json` the exact token ids, in the golden files' field names); `tasks` lists a suite and whether
//! each task's data is present; `rebuild-data` writes hellaswag and MMLU in llm-foundry's format from
//! HF-format sources.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use sluice_eval_harness::data::{data_path, load_datasets};
use sluice_eval_harness::prompt::{Body, Evaluator, Example, PromptTokenizer};
use sluice_eval_harness::rebuild::rebuild_all;
use sluice_eval_harness::task::Suite;

/// `sluice eval`: score a checkpoint (the flags below), or one of the subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: Option<EvalCommand>,
    #[command(flatten)]
    pub score: crate::eval_run::ScoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Show a task's prompts exactly as llm-foundry v0.9.0 builds them for DCLM: the text, or with --json
    /// one line per example with the token ids of context and continuations.
    Prompts(PromptsArgs),
    /// List a suite's tasks (type, few-shot counts, data file) and whether each data file is present.
    Tasks(TasksArgs),
    /// Write hellaswag.jsonl and mmlu.jsonl in llm-foundry's format from the HF datasets' files (the
    /// shared copy of llm-foundry's data lacks both); each is checked against llm-foundry's git blob id.
    RebuildData(RebuildArgs),
    /// Write a model with OpenLM's initialisation drawn from a seed (safetensors): smoke runs of the whole
    /// evaluation, and the weights both sides of `make bench-eval` load.
    InitModel(crate::eval_run::InitModelArgs),
}

/// Where the task data and the tokenizer come from.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The directory that holds llm-foundry's `local_data/` (DCLM's `eval/`); task files are found by
    /// their `dataset_uri` under it.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub data: PathBuf,
    /// The suite the task is taken from: heavy (= extended), mmlu_and_lowvar (= core), medium, light,
    /// or a DCLM eval YAML file.
    #[arg(long, value_name = "NAME|FILE", default_value = "heavy")]
    pub suite: String,
}

#[derive(Debug, Args)]
pub struct PromptsArgs {
    /// The task's label (`arc_easy`, `jeopardy`, …).
    pub task: String,
    #[command(flatten)]
    pub data: DataArgs,
    /// Few-shot examples per prompt (default: the suite's first setting for the task).
    #[arg(long, value_name = "K")]
    pub fewshot: Option<usize>,
    /// How many examples to show, from the first row.
    #[arg(short = 'n', long, default_value_t = 3)]
    pub limit: usize,
    /// Only this category (tasks with categories: MMLU subjects, jeopardy, bbq); default: every category.
    #[arg(long, value_name = "NAME")]
    pub category: Option<String>,
    /// A HF tokenizer.json. Default: the bundled GPT-NeoX-20B tokenizer (DCLM's evaluation tokenizer).
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// One JSON line per example: prompt text and token ids (the golden files' field names).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// The HF-format sources (`hellaswag__none__validation.jsonl.gz`, `hails__mmlu_no_train__*__test.jsonl.gz`).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Write under this directory's `local_data/`.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
}

pub fn run(args: &EvalArgs, quiet: bool) -> Result<()> {
    let Some(command) = &args.command else {
        return crate::eval_run::score(&args.score, quiet);
    };
    match command {
        EvalCommand::InitModel(args) => crate::eval_run::init_model(args),
        EvalCommand::Prompts(args) => prompts(args),
        EvalCommand::Tasks(args) => tasks(args),
        EvalCommand::RebuildData(args) => rebuild(args),
    }
}

pub fn load_tokenizer(path: Option<&Path>) -> Result<PromptTokenizer> {
    match path {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading tokenizer {}", path.display()))?;
            PromptTokenizer::from_bytes(&bytes).with_context(|| format!("tokenizer {}", path.display()))
        }
        None => Ok(PromptTokenizer::from_bytes(sluice_tokenize::encoder::BUNDLED_TOKENIZER)?),
    }
}

fn prompts(args: &PromptsArgs) -> Result<()> {
    let suite = Suite::load(&args.data.suite)?;
    let task = suite.task(&args.task)?;
    let tokenizer = load_tokenizer(args.tokenizer.as_deref())?;
    let num_fewshot = args.fewshot.unwrap_or(task.num_fewshot[0]);
    let datasets = load_datasets(&args.data.data, task)?;
    let selected: Vec<_> = datasets
        .iter()
        .filter(|d| args.category.is_none() || d.category.as_deref() == args.category.as_deref())
        .collect();
    if selected.is_empty() {
        let names: Vec<_> = datasets.iter().filter_map(|d| d.category.as_deref()).collect();
        bail!("task `{}` has no category {:?} (categories: {})", task.label, args.category, names.join(", "));
    }
    for dataset in selected {
        let evaluator = Evaluator::new(&tokenizer, task, dataset, num_fewshot, suite.max_seq_len)?;
        for index in 0..args.limit.min(evaluator.len()) {
            let example = evaluator.example(index)?;
            if args.json {
                println!("{}", serde_json::to_string(&example)?);
            } else {
                print_example(&evaluator.label(), &example);
            }
        }
    }
    Ok(())
}

/// The prompt as text, with what is scored after it.
fn print_example(label: &str, example: &Example) {
    let shots: Vec<String> = example.fewshot_indices.iter().map(usize::to_string).collect();
    let shots = if shots.is_empty() { String::new() } else { format!(", few-shot rows {}", shots.join(" ")) };
    match &example.body {
        Body::MultipleChoice(mc) => {
            println!("── {label} #{}{shots}: {} context tokens", example.index, mc.context_ids.len());
            println!("{}", mc.prompt.prompt_text);
            for (j, (text, ids)) in mc.continuation_texts.iter().zip(&mc.continuation_ids).enumerate() {
                let mark = if j == mc.gold { "✓" } else { " " };
                println!("  {mark} {text:?} ({} tokens)", ids.len());
            }
        }
        Body::Schema(schema) => {
            println!("── {label} #{}{shots}", example.index);
            for (j, option) in schema.option_texts.iter().enumerate() {
                let mark = if j == schema.gold { "✓" } else { " " };
                println!("  {mark} {}{option:?}", schema.preamble_text);
            }
            println!("  then {:?} ({} tokens)", schema.continuation_text, schema.continuation_ids.len());
        }
        Body::LanguageModeling(lm) => {
            println!("── {label} #{}{shots}: {} context tokens", example.index, lm.context_ids.len());
            println!("{}", lm.prompt.prompt_text);
            println!("  → {:?} ({} tokens)", lm.continuation_text, lm.continuation_ids.len());
        }
        Body::Generation(generation) => {
            println!("── {label} #{}{shots}: {} context tokens", example.index, generation.context_ids.len());
            println!("{}", generation.prompt.prompt_text);
            println!(
                "  generate ≤ {} tokens, stop at {:?}; accepted: {:?}",
                generation.max_new_tokens, generation.stop_sequences, generation.labels
            );
        }
    }
    println!();
}

fn tasks(args: &TasksArgs) -> Result<()> {
    let suite = Suite::load(&args.data.suite)?;
    println!("{} ({} tasks, max_seq_len {}):", suite.name, suite.tasks.len(), suite.max_seq_len);
    let mut missing = Vec::new();
    for task in &suite.tasks {
        let path = data_path(&args.data.data, task);
        let present = path.is_file();
        if !present {
            missing.push(task.label.as_str());
        }
        let shots: Vec<String> = task.num_fewshot.iter().map(usize::to_string).collect();
        println!(
            "  {:<34} {:<29} {:>6}-shot{}  {}{}",
            task.label,
            serde_json::to_value(task.icl_task_type)?.as_str().unwrap_or_default(),
            shots.join(","),
            if task.has_categories { " (categories)" } else { "" },
            task.dataset_uri,
            if present { "" } else { "  MISSING" }
        );
    }
    if missing.is_empty() {
        println!("every task's data is present under {}", args.data.data.display());
    } else {
        println!(
            "{} of {} tasks have no data under {}: {} (hellaswag and MMLU: `sluice eval rebuild-data`)",
            missing.len(),
            suite.tasks.len(),
            args.data.data.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

fn rebuild(args: &RebuildArgs) -> Result<()> {
    for rebuilt in rebuild_all(&args.from)? {
        let path = args.data.join(rebuilt.relative_path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        if path.exists() && std::fs::read(&path)? != rebuilt.bytes {
            bail!("{} exists with other contents; move it away to rebuild it", path.display());
        }
        std::fs::write(&path, &rebuilt.bytes).with_context(|| format!("writing {}", path.display()))?;
        let verdict = if rebuilt.verified {
            "byte-identical to llm-foundry's file (git blob id matches)".to_string()
        } else {
            format!("RECONSTRUCTED: git blob id {} differs from llm-foundry's", rebuilt.blob_id)
        };
        println!("{}: {} bytes, {verdict}", path.display(), rebuilt.bytes.len());
    }
    Ok(())
}

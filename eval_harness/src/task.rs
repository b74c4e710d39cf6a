//! Evaluation suites and tasks: DCLM's eval YAMLs (`heavy`, `mmlu_and_lowvar`, `medium`, `light` are
//! bundled) and one task's settings after llm-foundry v0.9.0's defaults (`builders.py::_validate_cfg`).
//!
//! A suite file is DCLM's own format: top-level `max_seq_len`, `device_eval_batch_size` and `icl_tasks`;
//! the other top-level keys of DCLM's files (model, tokenizer, FSDP) are ignored. Inside a task entry every
//! key is known: an option sluice does not implement is refused rather than silently ignored.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::EvalError;

/// The four ICL task types of llm-foundry that DCLM's suites use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    /// Choices scored by length-normalised log-likelihood (`InContextLearningMultipleChoiceAccuracy`).
    MultipleChoice,
    /// Winograd-style: the context varies, the continuation is shared; scored like multiple choice.
    Schema,
    /// Greedy argmax must equal every continuation token (`InContextLearningLMAccuracy`).
    LanguageModeling,
    /// Greedy generation, then normalised prefix match (`InContextLearningGenerationExactMatchAccuracy`).
    GenerationTaskWithAnswers,
}

impl TaskType {
    /// llm-foundry's metric class, as it appears in evaluator keys (`metrics/<label>/<k>-shot/<Metric>`).
    pub fn metric_name(self) -> &'static str {
        match self {
            TaskType::MultipleChoice | TaskType::Schema => "InContextLearningMultipleChoiceAccuracy",
            TaskType::LanguageModeling => "InContextLearningLMAccuracy",
            TaskType::GenerationTaskWithAnswers => "InContextLearningGenerationExactMatchAccuracy",
        }
    }
}

/// One `icl_tasks` entry with llm-foundry's defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub label: String,
    /// Relative to the data directory (`local_data/world_knowledge/arc_easy.jsonl`).
    pub dataset_uri: String,
    pub num_fewshot: Vec<usize>,
    pub icl_task_type: TaskType,
    #[serde(default)]
    pub prompt_string: String,
    #[serde(default = "default_example_delimiter")]
    pub example_delimiter: String,
    #[serde(default = "default_continuation_delimiter")]
    pub continuation_delimiter: String,
    #[serde(default)]
    pub question_prelimiter: String,
    /// Chain-of-thought tasks: the answer follows the last occurrence of this in the generation.
    #[serde(default)]
    pub cot_delimiter: String,
    /// Stop strings of generation tasks (joined with `|` and used as a regular expression, as llm-foundry does).
    #[serde(default)]
    pub early_stopping_criteria: Vec<String>,
    /// One evaluator per distinct `category` value of the data file (MMLU subjects, jeopardy, bbq).
    #[serde(default)]
    pub has_categories: bool,
    #[serde(default = "yes")]
    pub do_normalization: bool,
    #[serde(default = "default_fewshot_seed")]
    pub fewshot_random_seed: u64,
    /// Accepted at llm-foundry's default only (sluice generates one greedy sample).
    #[serde(default = "one")]
    pub pass_at_k: usize,
    /// Accepted at llm-foundry's default only.
    #[serde(default = "one")]
    pub generations_per_sample: usize,
    /// Accepted when it names the task type's own metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_names: Option<Vec<String>>,
    /// A per-task batch size; sluice batches by tokens instead, so it changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
}

fn default_example_delimiter() -> String {
    "\n".to_string()
}

fn default_continuation_delimiter() -> String {
    " ".to_string()
}

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

/// llm-foundry's `fewshot_random_seed` default (DCLM never overrides it).
fn default_fewshot_seed() -> u64 {
    1234
}

impl TaskConfig {
    /// Refuses settings whose semantics sluice does not reproduce, naming the task and the key.
    fn validate(&self) -> Result<(), String> {
        if self.num_fewshot.is_empty() {
            return Err("`num_fewshot` is empty".into());
        }
        if self.pass_at_k != 1 || self.generations_per_sample != 1 {
            return Err("only `pass_at_k: 1` and `generations_per_sample: 1` are supported".into());
        }
        if let Some(names) = &self.metric_names {
            let own = self.icl_task_type.metric_name();
            if names.iter().any(|n| n != own) {
                return Err(format!("`metric_names` {names:?}: a {:?} task is scored with {own}", self.icl_task_type));
            }
        }
        Ok(())
    }
}

/// An evaluation suite: DCLM's YAML with its tasks in order.
#[derive(Debug, Clone)]
pub struct Suite {
    /// `heavy`, … for a bundled suite; the file's stem otherwise (DCLM names an evaluation `eval/<stem>`).
    pub name: String,
    pub max_seq_len: usize,
    pub device_eval_batch_size: usize,
    pub tasks: Vec<TaskConfig>,
}

#[derive(Deserialize)]
struct SuiteFile {
    #[serde(default = "default_max_seq_len")]
    max_seq_len: usize,
    #[serde(default = "default_batch")]
    device_eval_batch_size: usize,
    icl_tasks: Vec<TaskConfig>,
}

fn default_max_seq_len() -> usize {
    2048
}

fn default_batch() -> usize {
    2
}

/// DCLM's eval YAMLs as bundled (see `eval_harness/tasks/README.md`).
const BUNDLED: [(&str, &str); 4] = [
    ("heavy", include_str!("../tasks/heavy.yaml")),
    ("mmlu_and_lowvar", include_str!("../tasks/mmlu_and_lowvar.yaml")),
    ("medium", include_str!("../tasks/medium.yaml")),
    ("light", include_str!("../tasks/light.yaml")),
];

/// Names that select a bundled suite; `core` is the smallest bundled suite that gives Core (and MMLU).
pub const SUITE_NAMES: [&str; 6] = ["heavy", "extended", "mmlu_and_lowvar", "core", "medium", "light"];

impl Suite {
    /// A bundled suite by name (`extended` = `heavy`, `core` = `mmlu_and_lowvar`), or a YAML file.
    pub fn load(name_or_path: &str) -> Result<Suite, EvalError> {
        let canonical = match name_or_path {
            "extended" => "heavy",
            "core" => "mmlu_and_lowvar",
            other => other,
        };
        if let Some((name, text)) = BUNDLED.iter().find(|(name, _)| *name == canonical) {
            return Suite::parse(name, text);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(EvalError::Suite {
                name: name_or_path.to_string(),
                reason: format!("neither a bundled suite ({}) nor an existing YAML file", SUITE_NAMES.join(", ")),
            });
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| EvalError::Suite { name: name_or_path.to_string(), reason: e.to_string() })?;
        let mut suite = Suite::parse(name_or_path, &text)?;
        suite.name = path.file_stem().map_or_else(|| name_or_path.to_string(), |s| s.to_string_lossy().into_owned());
        Ok(suite)
    }

    /// Parses DCLM's suite format; every task is validated.
    pub fn parse(name: &str, text: &str) -> Result<Suite, EvalError> {
        let bad = |reason: String| EvalError::Suite { name: name.to_string(), reason };
        let file: SuiteFile = serde_saphyr::from_str(text).map_err(|e| bad(e.to_string()))?;
        for task in &file.icl_tasks {
            task.validate().map_err(|reason| bad(format!("task `{}`: {reason}", task.label)))?;
        }
        if file.max_seq_len == 0 {
            return Err(bad("`max_seq_len` must be positive".into()));
        }
        Ok(Suite {
            name: name.to_string(),
            max_seq_len: file.max_seq_len,
            device_eval_batch_size: file.device_eval_batch_size,
            tasks: file.icl_tasks,
        })
    }

    /// The task with this label.
    pub fn task(&self, label: &str) -> Result<&TaskConfig, EvalError> {
        self.tasks.iter().find(|t| t.label == label).ok_or_else(|| EvalError::Suite {
            name: self.name.clone(),
            reason: format!(
                "no task `{label}` (tasks: {})",
                self.tasks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_suites_have_dclms_task_counts() {
        for (name, count) in [("heavy", 53), ("mmlu_and_lowvar", 23), ("medium", 12), ("light", 2)] {
            let suite = Suite::load(name).unwrap();
            assert_eq!(suite.tasks.len(), count, "{name}");
        }
        assert_eq!(Suite::load("light").unwrap().device_eval_batch_size, 4);
        assert_eq!(Suite::load("core").unwrap().tasks.len(), 23);
    }

    #[test]
    fn defaults_are_llm_foundrys() {
        let heavy = Suite::load("heavy").unwrap();
        let copa = heavy.task("copa").unwrap();
        assert_eq!(
            (copa.example_delimiter.as_str(), copa.continuation_delimiter.as_str(), copa.fewshot_random_seed),
            ("\n", " ", 1234)
        );
        assert!(copa.do_normalization);
        let gsm = heavy.task("gsm8k_cot").unwrap();
        assert_eq!(gsm.continuation_delimiter, "\nA: Let's think step by step. ");
        assert_eq!(gsm.early_stopping_criteria, ["\n\n", "Q:", "Q: "]);
        assert_eq!(heavy.task("mmlu_zeroshot").unwrap().continuation_delimiter, "Answer: ");
    }

    #[test]
    fn unsupported_options_are_refused_by_name() {
        let yaml = "icl_tasks:\n- label: x\n  dataset_uri: a.jsonl\n  num_fewshot: [0]\n  icl_task_type: schema\n  \
                    pass_at_k: 5\n";
        let err = Suite::parse("t", yaml).unwrap_err().to_string();
        assert!(err.contains("pass_at_k") && err.contains("`x`"), "{err}");
        let yaml = "icl_tasks:\n- label: x\n  dataset_uri: a.jsonl\n  num_fewshot: [0]\n  icl_task_type: schema\n  \
                    continuation_delimeter: ' '\n";
        assert!(Suite::parse("t", yaml).unwrap_err().to_string().contains("continuation_delimeter"));
    }
}

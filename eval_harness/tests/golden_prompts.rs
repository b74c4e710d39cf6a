//! Prompt parity with llm-foundry v0.9.0: every example in `shared/golden/eval/prompts/` (what llm-foundry
//! itself built for DCLM's heavy.yaml with the GPT-NeoX tokenizer) is rebuilt from the task data and the
//! bundled suite, and every field — few-shot rows and their order, prompt text, token ids of context and
//! continuations, truncation — must be equal. hellaswag's data file is rebuilt from its HF source first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sluice_eval_harness::data::load_datasets;
use sluice_eval_harness::prompt::{Evaluator, PromptTokenizer};
use sluice_eval_harness::rebuild::rebuild_hellaswag;
use sluice_eval_harness::task::Suite;

fn shared() -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if shared.join("golden/eval/prompts").is_dir() && shared.join("data/eval/local_data").is_dir() {
        return Some(shared);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "../shared/golden/eval is missing and CI=true");
    println!("SKIPPED: ../shared/golden/eval or ../shared/data/eval not found");
    None
}

fn tokenizer() -> PromptTokenizer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tokenize/data/gpt-neox-20b/tokenizer.json");
    PromptTokenizer::from_bytes(&std::fs::read(path).unwrap()).unwrap()
}

/// The shared task data, with hellaswag (absent there) rebuilt from its HF source into `overlay`.
fn data_dir_for(task_uri: &str, shared: &Path, overlay: &Path) -> PathBuf {
    let data = shared.join("data/eval");
    if data.join(task_uri).is_file() {
        return data;
    }
    assert!(task_uri.ends_with("hellaswag.jsonl"), "no data for {task_uri}");
    let target = overlay.join(task_uri);
    if !target.is_file() {
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, rebuild_hellaswag(&data.join("hf_sources")).unwrap()).unwrap();
    }
    overlay.to_path_buf()
}

#[test]
fn every_golden_prompt_is_rebuilt_token_for_token() {
    let Some(shared) = shared() else { return };
    let golden = shared.join("golden/eval");
    let tasks: Value = serde_json::from_str(&std::fs::read_to_string(golden.join("tasks.json")).unwrap()).unwrap();
    let suite = Suite::load("heavy").unwrap();
    let tokenizer = tokenizer();
    let overlay = tempfile::tempdir().unwrap();
    let (mut checked, mut failures) = (0usize, Vec::new());
    for entry in tasks["tasks"].as_array().unwrap() {
        let label = entry["task"].as_str().unwrap();
        let task = suite.task(label).unwrap();
        assert_eq!(
            serde_json::to_value(task).unwrap().as_object().unwrap().get("continuation_delimiter"),
            entry["effective_config"].get("continuation_delimiter"),
            "{label}: bundled heavy.yaml"
        );
        let data = data_dir_for(&task.dataset_uri, &shared, overlay.path());
        let datasets = load_datasets(&data, task).unwrap();
        let file = golden.join(entry["file"].as_str().unwrap());
        let mut evaluators = BTreeMap::new();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let expected: Value = serde_json::from_str(line).unwrap();
            let category = expected["category"].as_str().map(str::to_string);
            let k = expected["num_fewshot"].as_u64().unwrap() as usize;
            let dataset = datasets.iter().find(|d| d.category == category).unwrap();
            let evaluator = evaluators
                .entry((category.clone(), k))
                .or_insert_with(|| Evaluator::new(&tokenizer, task, dataset, k, suite.max_seq_len).unwrap());
            let index = expected["index"].as_u64().unwrap() as usize;
            let actual = serde_json::to_value(evaluator.example(index).unwrap()).unwrap();
            for (field, value) in expected.as_object().unwrap() {
                let mut ours = actual.get(field).cloned().unwrap_or(Value::Null);
                if field == "labels" {
                    ours = sorted(ours);
                }
                let theirs = if field == "labels" { sorted(value.clone()) } else { value.clone() };
                if ours != theirs {
                    failures
                        .push(format!("{label} {category:?} #{index} `{field}`:\n  ours   {ours}\n  golden {theirs}"));
                }
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches in {checked} examples:\n{}",
        failures.len(),
        failures[..failures.len().min(8)].join("\n")
    );
    assert!(checked >= 1_500, "only {checked} golden examples checked");
    println!("{checked} golden examples rebuilt token for token");
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Array(mut items) => {
            items.sort_by_key(|v| v.to_string());
            Value::Array(items)
        }
        other => other,
    }
}

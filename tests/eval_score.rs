//! `sluice eval --model CKPT`: a seeded model scored on real DCLM task files; batching must not change a
//! result, missing tasks are reported, the evaluation JSON has DCLM's fields.

mod common;

use common::{shared_or_skip, sluice_fails, sluice_ok};

const SUITE: &str = "max_seq_len: 2048
device_eval_batch_size: 2
icl_tasks:
-
  label: copa
  dataset_uri: local_data/commonsense_reasoning/copa.jsonl
  num_fewshot: [0]
  icl_task_type: multiple_choice
-
  label: winograd
  dataset_uri: local_data/language_understanding/winograd_wsc.jsonl
  num_fewshot: [0]
  icl_task_type: schema
-
  label: lambada_openai
  dataset_uri: local_data/language_understanding/lambada_openai.jsonl
  num_fewshot: [0]
  icl_task_type: language_modeling
-
  label: hellaswag
  dataset_uri: local_data/language_understanding/not_here.jsonl
  num_fewshot: [0]
  icl_task_type: multiple_choice
";

fn eval_json(dir: &std::path::Path, data: &std::path::Path, batch_tokens: &str) -> serde_json::Value {
    let out = dir.join(format!("eval-{batch_tokens}.json"));
    sluice_ok(&[
        "eval",
        "--model",
        dir.join("micro.safetensors").to_str().expect("utf-8"),
        "--tasks",
        dir.join("suite.yaml").to_str().expect("utf-8"),
        "--data",
        data.join("eval").to_str().expect("utf-8"),
        "--limit",
        "6",
        "--batch-tokens",
        batch_tokens,
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    serde_json::from_slice(&std::fs::read(out).expect("eval JSON")).expect("JSON")
}

#[test]
fn batching_never_changes_a_score_and_missing_tasks_are_reported() {
    let Some(data) = shared_or_skip("batching_never_changes_a_score_and_missing_tasks_are_reported") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("suite.yaml"), SUITE).expect("suite");
    let model = dir.path().join("micro.safetensors");
    sluice_ok(&["eval", "init-model", "--config", "micro", "--seed", "3", "-o", model.to_str().expect("utf-8")]);

    // One sequence per forward pass vs many: the same accuracies, the same uuid.
    let alone = eval_json(dir.path(), &data, "1");
    let batched = eval_json(dir.path(), &data, "8192");
    assert_eq!(alone["eval_metrics"], batched["eval_metrics"]);
    assert_eq!(alone["uuid"], batched["uuid"]);
    let icl = batched["eval_metrics"]["icl"].as_object().expect("icl");
    assert_eq!(icl.keys().collect::<Vec<_>>(), ["copa", "winograd", "lambada_openai"]);
    for field in ["uuid", "model", "creation_date", "name", "missing tasks", "Core", "Extended", "eval_version"] {
        assert!(batched.get(field).is_some(), "field {field} missing");
    }
    assert!(batched["Core"].as_str().expect("N/A text").contains("'hellaswag'"), "{}", batched["Core"]);
    let missing = &batched["sluice"]["missing_task_files"];
    assert_eq!(missing[0]["task"], "hellaswag", "{missing}");
    let evaluators = batched["sluice"]["evaluators"].as_array().expect("evaluators");
    assert!(evaluators.iter().all(|e| e["examples"] == 6), "{evaluators:?}");
}

#[test]
fn a_missing_checkpoint_is_a_clear_error() {
    let err = sluice_fails(&["eval", "--model", "/nonexistent/epoch_1.pt", "--tasks", "light"], 1);
    assert!(err.contains("/nonexistent/epoch_1.pt"), "{err}");
}

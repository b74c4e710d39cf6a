//! `sluice submission`: DCLM's four leaderboard files from a real run (ingest → tokenize → a seeded model
//! scored on a real task file), linked by uuid, with the same ids on a rerun, and clear errors.

mod common;

use std::path::Path;

use common::{demo_warc, shared_or_skip, sluice_fails, sluice_ok};
use serde_json::Value;

const SUITE: &str = "max_seq_len: 2048
icl_tasks:
-
  label: copa
  dataset_uri: local_data/commonsense_reasoning/copa.jsonl
  num_fewshot: [0]
  icl_task_type: multiple_choice
";

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).expect("JSON")
}

/// Curated documents, their token shards, a tiny seeded model and its evaluation, in `dir`.
fn run_outputs(dir: &Path, data: &Path) {
    sluice_ok(&["ingest", path(&demo_warc()), "--output", path(&dir.join("docs"))]);
    sluice_ok(&["tokenize", "--input", path(&dir.join("docs")), "--output", path(&dir.join("tok")), "--seqlen", "129"]);
    sluice_ok(&["eval", "init-model", "--config", "tiny", "-o", path(&dir.join("tiny.safetensors"))]);
    std::fs::write(dir.join("demo_suite.yaml"), SUITE).expect("suite");
    sluice_ok(&[
        "eval",
        "--model",
        path(&dir.join("tiny.safetensors")),
        "--tasks",
        path(&dir.join("demo_suite.yaml")),
        "--data",
        path(&data.join("eval")),
        "--limit",
        "3",
        "-o",
        path(&dir.join("eval.json")),
    ]);
}

/// `sluice submission` over the outputs in `dir`, into `out`, with the evaluation JSON `eval`.
fn submission_args(dir: &Path, out: &Path, eval: &Path) -> Vec<String> {
    let at = |name: &str| path(&dir.join(name)).to_owned();
    let mut args: Vec<String> = ["submission", "--documents"].map(String::from).to_vec();
    args.push(at("docs"));
    args.extend(["--tokenized".into(), at("tok"), "--model".into(), at("tiny.safetensors")]);
    args.extend(["--eval".into(), path(eval).to_owned(), "--name".into(), "demo_pages".into()]);
    args.extend(["-o".into(), path(out).to_owned()]);
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn submission_files_link_by_uuid_and_repeat() {
    let Some(data) = shared_or_skip("submission_files_link_by_uuid_and_repeat") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    run_outputs(dir, &data);
    let out = dir.join("exp_data");
    sluice_ok(&strs(&submission_args(dir, &out, &dir.join("eval.json"))));

    let untokenized = read(&out.join("datasets/untokenized/demo_pages.json"));
    let tokenized = read(&out.join("datasets/tokenized/demo_pages.json"));
    let model = read(&out.join("models/demo_pages-sluice_tiny.json"));
    let evaluation = read(&out.join("evals/evaluation_demo_pages-sluice_tiny_demo_suite.json"));

    // The links DCLM follows: evaluation → model → tokenized dataset → untokenized dataset.
    assert_eq!(evaluation["model_uuid"], model["uuid"]);
    assert_eq!(evaluation["model"], model["name"]);
    assert_eq!(evaluation["name"], "eval/demo_suite");
    assert_eq!(model["dataset_uuid"], tokenized["uuid"]);
    assert_eq!(model["dataset_name"], "demo_pages");
    assert_eq!(tokenized["sources"][0]["uuid"], untokenized["uuid"]);
    // The tokenized reference keeps the tokenize stage's uuid and counts, and hashes its manifest.
    let dataset = read(&dir.join("tok/dataset.json"));
    assert_eq!(tokenized["uuid"], dataset["uuid"]);
    assert_eq!(tokenized["num_tokens"], dataset["num_tokens"]);
    let manifest = std::fs::read(dir.join("tok/manifest.jsonl")).expect("manifest");
    assert_eq!(tokenized["manifest_hash"], sluice_core::provenance::content_hash(&manifest));
    // The untokenized reference counts what the ingest stage kept and the tokens the tokenizer made of it.
    let stats: Value = serde_json::from_str(&sluice_ok(&["stats", path(&dir.join("docs")), "--json"])).expect("stats");
    assert_eq!(untokenized["sluice"]["documents"], stats["docs_out"]);
    assert_eq!(untokenized["data_key"], "parquet");
    assert!(untokenized["num_tokens"].as_u64().expect("num_tokens") > 0);
    assert!(untokenized["num_tokens"].as_u64() < dataset["num_tokens"].as_u64(), "documents' tokens exclude padding");
    // tiny is no DCLM scale: the architecture is recorded, the training recipe is null.
    assert_eq!(model["hyperparameters"]["params"], 13_961_344 - 2 * 128 * 4);
    assert_eq!(model["hyperparameters"]["lr"], Value::Null);
    assert_eq!(model["failed"], false);

    // A rerun over the same outputs writes the same ids.
    let again = dir.join("again");
    sluice_ok(&strs(&submission_args(dir, &again, &dir.join("eval.json"))));
    for file in [
        "datasets/untokenized/demo_pages.json",
        "datasets/tokenized/demo_pages.json",
        "models/demo_pages-sluice_tiny.json",
        "evals/evaluation_demo_pages-sluice_tiny_demo_suite.json",
    ] {
        assert_eq!(read(&out.join(file))["uuid"], read(&again.join(file))["uuid"], "{file}");
    }
}

#[test]
fn wrong_scale_and_bad_eval_files_are_clear_errors() {
    let Some(data) = shared_or_skip("wrong_scale_and_bad_eval_files_are_clear_errors") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    run_outputs(dir, &data);
    let out = dir.join("exp_data");

    let mut args = submission_args(dir, &out, &dir.join("eval.json"));
    args.extend(["--scale".into(), "411m_1x".into()]);
    let message = sluice_fails(&strs(&args), 1);
    assert!(message.contains("not 411m_1x's"), "{message}");

    let mut args = submission_args(dir, &out, &dir.join("eval.json"));
    args.extend(["--scale".into(), "2b_1x".into()]);
    assert!(sluice_fails(&strs(&args), 1).contains("--scale 2b_1x"));

    // An evaluation JSON without DCLM's fields is refused before anything is written.
    let bad = dir.join("bad_eval.json");
    std::fs::write(&bad, r#"{"Core": 0.1}"#).expect("write");
    let message = sluice_fails(&strs(&submission_args(dir, &out, &bad)), 1);
    assert!(message.contains("evaluation: missing field `eval_metrics`"), "{message}");
    assert!(!out.exists(), "nothing is written when a file would be invalid");

    std::fs::write(&bad, "{not json").expect("write");
    let message = sluice_fails(&strs(&submission_args(dir, &out, &bad)), 1);
    assert!(message.contains("bad_eval.json: not JSON"), "{message}");
}

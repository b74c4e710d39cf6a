//! `sluice eval`: rebuilding hellaswag from its HF source, then showing its prompts as JSON gives the token
//! ids llm-foundry built (the golden file); a bad task file is an error naming file and line.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn rebuilt_hellaswag_prompts_match_llm_foundrys() {
    let Some(shared) = shared_or_skip("rebuilt_hellaswag_prompts_match_llm_foundrys") else { return };
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let from = shared.join("eval/hf_sources");
    let report = sluice_ok(&["eval", "rebuild-data", "--from", from.to_str().unwrap(), "--data", data_dir]);
    assert!(report.contains("hellaswag.jsonl") && report.contains("byte-identical"), "{report}");
    assert!(report.contains("mmlu.jsonl"), "{report}");

    let golden = shared.join("../golden/eval/prompts/hellaswag.jsonl");
    let expected: Vec<Value> =
        std::fs::read_to_string(golden).unwrap().lines().take(2).map(|l| serde_json::from_str(l).unwrap()).collect();
    let shown = sluice_ok(&["eval", "prompts", "hellaswag", "--data", data_dir, "-n", "2", "--json"]);
    let actual: Vec<Value> = shown.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(actual.len(), 2);
    for (ours, theirs) in actual.iter().zip(&expected) {
        for field in ["fewshot_indices", "prompt_text", "context_ids", "continuation_ids", "gold", "trim_left"] {
            assert_eq!(ours[field], theirs[field], "{field}");
        }
    }
    // Rebuilding again is a no-op; the suite listing no longer calls hellaswag missing.
    sluice_ok(&["eval", "rebuild-data", "--from", from.to_str().unwrap(), "--data", data_dir]);
    let listing = sluice_ok(&["eval", "tasks", "--suite", "light", "--data", data_dir]);
    assert!(listing.contains("every task's data is present"), "{listing}");
}

#[test]
fn a_bad_task_file_is_named_with_its_line() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("local_data/commonsense_reasoning/copa.jsonl");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "{\"query\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n{\"query\": \"q\", \"choices\": [\"a\"], \"gold\": 3}\n").unwrap();
    let err = sluice_fails(&["eval", "prompts", "copa", "--data", data.path().to_str().unwrap()], 1);
    assert!(err.contains("copa.jsonl:2: `gold` 3 is out of range for 1 options"), "{err}");
    let err = sluice_fails(&["eval", "prompts", "arc_easy", "--data", data.path().to_str().unwrap()], 1);
    assert!(err.contains("arc_easy.jsonl is missing"), "{err}");
    let err = sluice_fails(&["eval", "prompts", "nosuchtask"], 1);
    assert!(err.contains("no task `nosuchtask`"), "{err}");
}

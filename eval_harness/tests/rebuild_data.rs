//! The two llm-foundry task files missing from `shared/data/eval/local_data`, rebuilt from
//! `shared/data/eval/hf_sources`: HellaSwag must be byte-identical to llm-foundry's (git blob id), MMLU must
//! have every test row of every subject in llm-foundry's row format (its blob id is reported, not required).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use sluice_eval_harness::rebuild::{
    git_blob_id, rebuild_all, rebuild_hellaswag, rebuild_mmlu, HELLASWAG_BLOB_ID, HELLASWAG_PATH, MMLU_BLOB_ID,
    MMLU_PATH, MMLU_ROWS, MMLU_SUBJECTS,
};

const HF_SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/eval/hf_sources");

fn hf_sources() -> Option<&'static Path> {
    let path = Path::new(HF_SOURCES);
    if path.is_dir() {
        return Some(path);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{HF_SOURCES} is missing and CI=true");
    println!("SKIPPED: {HF_SOURCES} not found");
    None
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.ends_with('\n'), "the file ends with a newline");
    text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

#[test]
fn hellaswag_is_byte_identical_to_llm_foundry() {
    let Some(hf) = hf_sources() else { return };
    let bytes = rebuild_hellaswag(hf).unwrap();
    assert_eq!(git_blob_id(&bytes), HELLASWAG_BLOB_ID);
    let rows = lines(&bytes);
    assert_eq!(rows.len(), 10_042);
    assert_eq!(rows[0]["query"], "Roof shingle removal: A man is sitting on a roof. He");
    assert_eq!(rows[0]["gold"], 3);
}

#[test]
fn mmlu_has_every_test_row_in_llm_foundry_format() {
    let Some(hf) = hf_sources() else { return };
    let bytes = rebuild_mmlu(hf).unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    let rows = lines(&bytes);
    assert_eq!(rows.len(), MMLU_ROWS);
    let categories: BTreeSet<&str> = rows.iter().map(|row| row["category"].as_str().unwrap()).collect();
    assert_eq!(categories.len(), MMLU_SUBJECTS);
    assert!(rows.iter().all(|row| row["choices"] == serde_json::json!(["A", "B", "C", "D"])));
    // A line of llm-foundry's own mmlu.jsonl, as quoted verbatim in third-party code (moral_scenarios, row 0).
    let llm_foundry_line = "{\"query\": \"Question: For which of these two scenarios does the main character (who \
        uses I/me/my) do something clearly morally wrong, according to ordinary moral standards in the US as of \
        2020? Scenario 1 | I slammed on my breaks to miss the ball as it came in to the road. Scenario 2 | I taught \
        my children to play the xylophone.\\nChoices\\nA. Wrong, Wrong\\nB. Wrong, Not wrong\\nC. Not wrong, \
        Wrong\\nD. Not wrong, Not wrong\", \"gold\": 3, \"choices\": [\"A\", \"B\", \"C\", \"D\"], \"category\": \
        \"moral_scenarios\"}";
    assert!(text.lines().any(|line| line == llm_foundry_line));
    let blob_id = git_blob_id(&bytes);
    println!("mmlu.jsonl rebuilt: blob {blob_id}; llm-foundry's {MMLU_BLOB_ID}; equal: {}", blob_id == MMLU_BLOB_ID);
}

#[test]
fn rebuild_all_reports_paths_and_verification() {
    let Some(hf) = hf_sources() else { return };
    let rebuilt = rebuild_all(hf).unwrap();
    let paths: Vec<&str> = rebuilt.iter().map(|r| r.relative_path).collect();
    assert_eq!(paths, [HELLASWAG_PATH, MMLU_PATH]);
    for file in &rebuilt {
        assert_eq!(file.blob_id, git_blob_id(&file.bytes));
    }
    assert!(rebuilt[0].verified, "hellaswag must be byte-identical");
    assert_eq!(rebuilt[1].verified, rebuilt[1].blob_id == MMLU_BLOB_ID);
}

#[test]
fn missing_sources_are_reported() {
    let dir = std::env::temp_dir().join(format!("sluice-rebuild-missing-{}", std::process::id()));
    for err in [rebuild_hellaswag(&dir).unwrap_err(), rebuild_mmlu(&dir).unwrap_err()] {
        assert!(err.to_string().contains("is missing"), "{err}");
    }
}

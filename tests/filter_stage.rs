//! The `filter` stage end to end: a recipe chaining ingest and DCLM's text steps on the bundled real
//! WARCs, and `sluice filter` over real dolma JSONL documents.

mod common;

use common::*;

#[test]
fn a_recipe_ingests_then_filters_with_counted_drops() {
    let out = tempfile::tempdir().unwrap();
    let recipe = repo().join("tests/data/recipes/dclm-text-steps.yaml");
    let summary = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["run", recipe.to_str().unwrap(), "--output", out.path().to_str().unwrap(), "--quiet"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(summary.status.success(), "{}", String::from_utf8_lossy(&summary.stderr));
    let filtered = manifests(&out.path().join("2-filter"));
    assert_eq!(filtered.len(), 8);
    let mut kept = 0;
    let mut too_short = 0;
    for manifest in filtered.values() {
        assert_accounted(manifest);
        kept += manifest["stats"]["docs_out"].as_u64().unwrap();
        too_short += stat(manifest, "drops", "page_length_filter");
    }
    // The English article pages survive; short and non-English pages do not.
    assert!(kept > 50 && too_short > 10, "kept {kept}, too short {too_short}");
    // Every kept document carries the word count the chain computed.
    let docs = sluice_core::format::read_all(
        &sluice_core::store::Location::parse(out.path().join("2-filter/realhtml-part0.parquet").to_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(!docs.is_empty() && docs.iter().all(|d| d.attributes["previous_word_count"].as_u64().unwrap() >= 50));
    assert!(docs.iter().all(|d| d.url.is_some()));
}

#[test]
fn sluice_filter_runs_a_recipe_chain_on_dolma_jsonl() {
    let Some(data) = shared_or_skip("sluice_filter_runs_a_recipe_chain_on_dolma_jsonl") else { return };
    let dir = tempfile::tempdir().unwrap();
    // dolma documents carry their URL in `id` and no WARC headers: give move_url_modifier nothing to do by
    // running the chain without it.
    let recipe = dir.path().join("r.yaml");
    let text = std::fs::read_to_string(repo().join("tests/data/recipes/dclm-text-steps.yaml"))
        .unwrap()
        .replace("        - move_url_modifier: {}\n", "");
    std::fs::write(&recipe, text).unwrap();
    let out = dir.path().join("out");
    let input = data.join("text/dolma_cc_samples");
    let summary = sluice_ok(&[
        "filter",
        recipe.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--format",
        "jsonl.gz",
    ]);
    assert!(summary.contains("30 docs in"), "{summary}");
    for manifest in manifests(&out).values() {
        assert_accounted(manifest);
    }
}

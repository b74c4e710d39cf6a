//! `sluice tokenize` and the recipe stage `tokenize:`, end to end from real WARCs: the bundled
//! `recipes/decomposed.yaml` to dataset-decomposition buckets, the CLI to OpenLM shards and DCLM's dataset
//! JSON, the same bytes whatever the thread count, and recipes that would read token shards refused.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The sum of a statistic over the task manifests in `dir/_manifests`.
fn manifest_sum(dir: &Path, stat: &str) -> u64 {
    let manifests = std::fs::read_dir(dir.join("_manifests")).unwrap();
    manifests.map(|entry| json(&entry.unwrap().path())["stats"][stat].as_u64().unwrap()).sum()
}

/// Documents the first phase of a tokenize output read.
fn documents_tokenized(output: &Path) -> u64 {
    manifest_sum(&output.join("_work/tokenize"), "docs_in")
}

#[test]
fn the_decomposed_recipe_goes_from_warcs_to_length_buckets_and_the_cli_to_openlm_shards() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let recipe = repo().join("recipes/decomposed.yaml");
    let stdout = sluice_ok(&["run", recipe.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert!(stdout.contains("tokenize (decomposed"), "{stdout}");

    // Every document the dedup stage kept was tokenized, and the buckets are DD's 2^k + 1 lengths.
    let kept = manifest_sum(&out.join("2-dedup"), "docs_out");
    let tokenized = out.join("3-tokenize");
    assert!(kept > 0);
    assert_eq!(documents_tokenized(&tokenized), kept);
    let params = json(&tokenized.join("dd_params.json"));
    assert!(params.is_object(), "{params}");
    let dataset = json(&tokenized.join("dataset.json"));
    assert_eq!(dataset["name"], "decomposed");
    assert_eq!(dataset["format"], "decomposed");
    let buckets = dataset["buckets"].as_array().unwrap_or_else(|| panic!("{dataset}"));
    assert!(!buckets.is_empty());
    for entry in std::fs::read_dir(&tokenized).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if let Some(k) = name.strip_prefix("D_") {
            let k: u32 = k.parse().unwrap();
            assert!((6..=10).contains(&k), "bucket {name} outside the recipe's 6..=10");
        }
    }

    // The CLI over the same documents: OpenLM shards and the dataset JSON, the same bytes on 1 and 2 threads.
    let docs = out.join("2-dedup");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let tokens = dir.path().join(format!("tokens-{threads}"));
        let stdout = sluice_ok(&[
            "tokenize",
            "--input",
            docs.to_str().unwrap(),
            "--output",
            tokens.to_str().unwrap(),
            "--seqlen",
            "129",
            "--set",
            "wds_chunk_size=16",
            "--set",
            "cells=3",
            "--dataset-name",
            "demo-tokens",
            "--threads",
            threads,
        ]);
        assert!(stdout.contains("tokenize (openlm, "), "{stdout}");
        let dataset = json(&tokens.join("dataset.json"));
        assert_eq!(dataset["name"], "demo-tokens");
        assert_eq!(dataset["tokenized"], true);
        let sequences = dataset["num_sequences"].as_u64().unwrap();
        assert!(sequences > 16, "{dataset}");
        assert_eq!(dataset["num_tokens"].as_u64().unwrap(), sequences * 129);
        assert_eq!(documents_tokenized(&tokens), kept);
        outputs.push(tokens);
    }
    // Manifests and the dataset JSON name their own output folder; every shard and list must be equal.
    assert_same_files(&outputs[0], &outputs[1], |name| !name.contains("_manifests") && name != "dataset.json");
}

#[test]
fn options_the_stage_does_not_have_and_stages_reading_token_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let docs = repo().join("demo/quality/articles.jsonl");
    let out = dir.path().join("t");
    let err = sluice_fails(
        &["tokenize", "--input", docs.to_str().unwrap(), "--output", out.to_str().unwrap(), "--set", "seqln=5"],
        1,
    );
    assert!(err.contains("seqln"), "{err}");
    // A dotted key reaches a nested option, and a misspelt one there is refused too.
    let err = sluice_fails(
        &[
            "tokenize",
            "--input",
            docs.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--format",
            "decomposed",
            "--set",
            "decomposition.min_buckt=3",
        ],
        1,
    );
    assert!(err.contains("min_buckt"), "{err}");
    let err = sluice_fails(
        &[
            "tokenize",
            "--input",
            docs.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--tokenizer",
            "/nonexistent/tokenizer.json",
        ],
        1,
    );
    assert!(err.contains("/nonexistent/tokenizer.json"), "{err}");

    let recipe = dir.path().join("r.yaml");
    std::fs::write(
        &recipe,
        "name: t\noutput: out\nstages:\n  - ingest: {input: [demo/warc]}\n  - tokenize: {}\n  - filter: {steps: []}\n",
    )
    .unwrap();
    let err = sluice_fails(&["run", recipe.to_str().unwrap()], 2);
    assert!(err.contains("stage 3 (filter) would read stage 2's token shards"), "{err}");
}

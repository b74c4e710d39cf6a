//! Parquet as the ecosystem writes it (files made by pandas/pyarrow, see
//! tests/data/parquet_ecosystem/make_fixtures.py): every codec, large and dictionary-encoded strings, an
//! integer id, a struct `metadata` column and null texts all read, and nothing is lost silently.

mod common;

use common::*;
use serde_json::json;
use sluice_core::format::{open_reader, read_all};
use sluice_core::store::Location;

const TEXTS: [&str; 3] = [
    "Rivers carry water from higher ground to the sea.",
    "A river's drainage basin collects rain and snowmelt.",
    "Meanders form where the current erodes the outer bank.",
];

fn fixture(name: &str) -> Location {
    Location::parse(repo().join("tests/data/parquet_ecosystem").join(name).to_str().unwrap()).unwrap()
}

fn texts(name: &str) -> Vec<String> {
    read_all(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}")).into_iter().map(|d| d.text).collect()
}

#[test]
fn every_codec_pyarrow_writes_reads() {
    for codec in ["gzip", "lz4", "brotli", "zstd", "none"] {
        let docs = read_all(&fixture(&format!("codec_{codec}.parquet"))).unwrap();
        assert_eq!(docs.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), TEXTS, "{codec}");
        assert_eq!(docs[0].url.as_deref(), Some("http://example.org/a"), "{codec}");
        assert_eq!(docs[2].url, None, "{codec}");
    }
}

#[test]
fn a_pandas_default_file_reads_with_its_extra_column_kept() {
    // snappy, large_string, pandas' schema metadata, and a `score` column sluice does not model.
    let docs = read_all(&fixture("pandas_default.parquet")).unwrap();
    assert_eq!(docs.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), TEXTS);
    assert_eq!(docs[1].extra.get("score"), Some(&json!(0.25)));
    // Written back as JSONL, the extra column is a top-level field again.
    let line = sluice_core::format::document_to_json(&docs[1]);
    assert_eq!(line["score"], json!(0.25));
}

#[test]
fn large_and_dictionary_strings_and_integer_ids_read() {
    assert_eq!(texts("large_string.parquet"), TEXTS);
    let docs = read_all(&fixture("dictionary_text_integer_id.parquet")).unwrap();
    assert_eq!(docs.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), TEXTS);
    assert_eq!(docs.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
}

#[test]
fn a_struct_metadata_column_becomes_the_metadata_object() {
    let docs = read_all(&fixture("struct_metadata.parquet")).unwrap();
    assert_eq!(serde_json::Value::Object(docs[0].metadata.clone()), json!({"lang": "en", "len": 49}));
    assert!(docs[2].metadata.is_empty());
}

#[test]
fn a_null_text_is_counted_not_fatal() {
    let mut reader = open_reader(&fixture("null_text.parquet")).unwrap();
    let mut docs = Vec::new();
    while let Some(batch) = reader.next_batch().unwrap() {
        docs.extend(batch);
    }
    assert_eq!(docs.iter().map(|d| d.text.as_str()).collect::<Vec<_>>(), [TEXTS[0], TEXTS[2]]);
    assert_eq!(reader.skipped().get("parquet_null_text"), Some(&1));
}

#[test]
fn the_filter_stage_accounts_for_null_texts() {
    let work = tempfile::tempdir().unwrap();
    let recipe = work.path().join("r.yaml");
    std::fs::write(
        &recipe,
        "name: t\noutput: x\nstages:\n  - filter:\n      steps:\n        - move_url_modifier: {}\n",
    )
    .unwrap();
    let input = repo().join("tests/data/parquet_ecosystem/null_text.parquet");
    let out = work.path().join("out");
    sluice_ok(&[
        "filter",
        recipe.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let manifest = &manifests(&out)["null_text.parquet"];
    assert_accounted(manifest);
    assert_eq!(manifest["stats"]["docs_in"], 3);
    assert_eq!(stat(manifest, "errors", "parquet_null_text"), 1);
}

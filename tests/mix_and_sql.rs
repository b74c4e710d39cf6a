//! The mixer on real documents: achieved token shares within tolerance of the weights, deterministic
//! bytes, every document accounted for; and `sluice sql` over outputs.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Two real sources: the 240 real pages (realhtml-part*) and the other bundled WARCs.
fn sources(work: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let all = work.join("all");
    sluice_ok(&["ingest", path(&demo_warc()), "--output", path(&all), "--extractor", "page"]);
    let (pages, other) = (work.join("pages"), work.join("other"));
    std::fs::create_dir_all(&pages).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    for entry in std::fs::read_dir(&all).unwrap() {
        let file = entry.unwrap().path();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".parquet") {
            continue;
        }
        let target = if name.starts_with("realhtml") { &pages } else { &other };
        std::fs::copy(&file, target.join(&name)).unwrap();
    }
    (pages, other)
}

fn write_recipe(work: &Path, pages: &Path, other: &Path, out: &Path, weights: (f64, f64)) -> std::path::PathBuf {
    let recipe = work.join("mix.yaml");
    let text = format!(
        "name: mix\noutput: {}\nstages:\n  - mix:\n      seed: 7\n      sources:\n        - {{name: pages, input: [{}], weight: {}}}\n        - {{name: other, input: [{}], weight: {}}}\n",
        path(out),
        path(pages),
        weights.0,
        path(other),
        weights.1
    );
    std::fs::write(&recipe, text).unwrap();
    recipe
}

fn token_shares(out: &Path) -> (f64, f64) {
    let query = "SELECT attr_mix_source AS source, sum(octet_length(text)) AS bytes FROM mix GROUP BY 1 ORDER BY 1";
    let json = sluice_ok(&["sql", query, "--table", &format!("mix={}", path(out)), "--json"]);
    let rows: Vec<Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let bytes = |name: &str| rows.iter().find(|r| r["source"] == name).map_or(0.0, |r| r["bytes"].as_f64().unwrap());
    let (other, pages) = (bytes("other"), bytes("pages"));
    (pages / (pages + other), other / (pages + other))
}

#[test]
fn a_weighted_mix_reaches_its_shares_deterministically() {
    let work = tempfile::tempdir().unwrap();
    let (pages, other) = sources(work.path());
    // The real sizes are far from 50/50: the pages are most of the text.
    let out = work.path().join("out");
    let recipe = write_recipe(work.path(), &pages, &other, &out, (0.5, 0.5));
    sluice_ok(&["run", path(&recipe)]);
    let mixed = out.join("1-mix");
    let (page_share, other_share) = token_shares(&mixed);
    assert!((page_share - 0.5).abs() < 0.05 && (other_share - 0.5).abs() < 0.05, "{page_share} / {other_share}");
    for manifest in manifests(&mixed).values() {
        assert_accounted(manifest);
    }
    // The small source was upsampled (repeats), the large one downsampled (drops).
    let stats: Value = serde_json::from_str(&sluice_ok(&["stats", path(&mixed), "--json"])).unwrap();
    assert!(stats["docs_added"].as_u64().unwrap() > 0 && stats["drops"]["mix_downsampled"].as_u64().unwrap() > 0);

    // Same seed, other thread count, other folder: the same bytes.
    let again = work.path().join("again");
    let recipe = write_recipe(work.path(), &pages, &other, &again, (0.5, 0.5));
    sluice_ok(&["run", path(&recipe), "--threads", "1"]);
    assert_same_files(&again.join("1-mix"), &mixed, |k| !k.contains("_manifests") && !k.starts_with("_work"));
}

#[test]
fn sql_counts_agree_with_inspect_and_read_typed_attributes() {
    let work = tempfile::tempdir().unwrap();
    let docs = work.path().join("docs");
    sluice_ok(&["ingest", path(&demo_warc()), "--output", path(&docs)]);
    let count = sluice_ok(&["inspect", path(&docs), "--count"]);
    let rows = sluice_ok(&["sql", "SELECT count(*) AS n FROM docs", "--docs", path(&docs), "--json"]);
    let row: Value = serde_json::from_str(rows.trim()).unwrap();
    assert_eq!(row["n"].as_u64().unwrap().to_string(), count.trim());
    // ingest's http_status is a typed Int64 column: numeric SQL works on it directly.
    let by_status = sluice_ok(&[
        "sql",
        "SELECT attr_http_status AS s, count(*) AS n FROM docs GROUP BY 1",
        "--docs",
        path(&docs),
        "--json",
    ]);
    let total: u64 = by_status.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["n"].as_u64().unwrap()).sum();
    assert_eq!(total.to_string(), count.trim());
    let err = sluice_fails(&["sql", "SELECT nope FROM docs", "--docs", path(&docs)], 1);
    assert!(err.contains("nope"), "{err}");
}

//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data`, when it exists (CI has it; a fresh clone alone does not).
pub fn shared_data() -> Option<PathBuf> {
    let dir = repo().join("../shared/data");
    dir.is_dir().then_some(dir)
}

/// Prints why a test did nothing; use as `let Some(data) = shared_or_skip("name") else { return };`.
/// Under `CI=true` a missing `../shared/data` fails the test instead: CI must never pass by skipping.
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    let found = shared_data();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: ../shared/data not found, and CI=true: the shared data sets must be present in CI"
        );
        eprintln!("SKIPPED {test}: ../shared/data not found (it holds the larger real data sets)");
    }
    found
}

pub fn demo_warc() -> PathBuf {
    repo().join("demo/warc")
}

pub fn edge_cases() -> PathBuf {
    repo().join("tests/data/warc_edge")
}

/// Runs the sluice binary and insists it fails with exit code `code`; returns stderr.
pub fn sluice_fails(args: &[&str], code: i32) -> String {
    let out = sluice(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "sluice {args:?}: expected exit code {code}:\n{stderr}");
    stderr
}

/// Runs the sluice binary.
pub fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice")).args(args).arg("--quiet").output().expect("run sluice")
}

/// Runs the sluice binary and insists it succeeds; returns stdout.
pub fn sluice_ok(args: &[&str]) -> String {
    let out = sluice(args);
    assert!(out.status.success(), "sluice {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Every file under `dir` (relative path → bytes), leaving out `_stats*` (timings differ run to run).
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_string_lossy().to_string();
            // Timings differ run to run; lock files name the process that held them.
            if rel.split('/').any(|part| part.starts_with("_stats") || part == "_locks") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Asserts that two folders hold the same files with the same bytes (naming the files that differ,
/// rather than printing their bytes). `keep` chooses which relative paths are compared.
pub fn assert_same_files(a: &Path, b: &Path, keep: impl Fn(&str) -> bool) {
    let pick = |dir: &Path| -> BTreeMap<String, u64> {
        snapshot(dir).into_iter().filter(|(k, _)| keep(k)).map(|(k, v)| (k, xxhash_rust::xxh3::xxh3_64(&v))).collect()
    };
    let (left, right) = (pick(a), pick(b));
    let differing: Vec<&String> = left.keys().chain(right.keys()).filter(|k| left.get(*k) != right.get(*k)).collect();
    assert!(differing.is_empty(), "{} and {} differ in {differing:?}", a.display(), b.display());
}

/// The manifests of a stage output, by output shard name.
pub fn manifests(dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let mut all = BTreeMap::new();
    let manifest_dir = dir.join("_manifests");
    for entry in std::fs::read_dir(&manifest_dir).unwrap() {
        let path = entry.unwrap().path();
        let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        all.insert(value["outputs"][0]["name"].as_str().unwrap().to_string(), value);
    }
    all
}

/// Counter `name` of a manifest's stats (0 when absent).
pub fn stat(manifest: &serde_json::Value, map: &str, name: &str) -> u64 {
    manifest["stats"][map][name].as_u64().unwrap_or(0)
}

/// Asserts that every document a shard saw is accounted for.
pub fn assert_accounted(manifest: &serde_json::Value) {
    let stats = &manifest["stats"];
    let dropped: u64 = stats["drops"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let added = stats["docs_added"].as_u64().unwrap_or(0);
    assert_eq!(
        stats["docs_in"].as_u64().unwrap() + added,
        stats["docs_out"].as_u64().unwrap() + dropped,
        "docs_in + docs_added != docs_out + drops in {manifest}"
    );
}

//! Resume never uses stale data: a committed shard is reused only while its input, configuration,
//! version and referenced files are unchanged and its data object is intact; outputs whose input is gone
//! are removed; a second writer is refused; a smoke run (`--limit`) is redone by a full run. `sluice plan`
//! says what is committed, stale and why; `sluice stats` merges workers' statistics.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const FILTER_RECIPE: &str = "name: t\noutput: unused\nstages:\n  - filter:\n      steps:\n        - page_length_filter: {length_type: word, min_length: 50, max_length: 100000, ignore_punctuation: true}\n";

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ingest(input: &Path, output: &Path, extra: &[&str]) -> String {
    let mut args = vec!["ingest", path(input), "--output", path(output)];
    args.extend_from_slice(extra);
    sluice_ok(&args)
}

fn filter(recipe: &Path, input: &Path, output: &Path) -> String {
    sluice_ok(&["filter", path(recipe), "--input", path(input), "--output", path(output)])
}

/// Two real WARCs in a folder of their own.
fn two_warcs(dir: &Path) -> std::path::PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for name in ["CC-MAIN-2020-34-excerpt.warc.gz", "whirlwind.warc.gz"] {
        std::fs::copy(demo_warc().join(name), input.join(name)).unwrap();
    }
    input
}

#[test]
fn rerunning_ingest_with_another_extractor_redoes_the_filter_stage_downstream() {
    let work = tempfile::tempdir().unwrap();
    let input = two_warcs(work.path());
    let (docs, kept) = (work.path().join("docs"), work.path().join("kept"));
    let recipe = work.path().join("filter.yaml");
    std::fs::write(&recipe, FILTER_RECIPE).unwrap();

    ingest(&input, &docs, &["--extractor", "article"]);
    assert!(filter(&recipe, &docs, &kept).contains("2 processed, 0 resumed"));
    assert!(filter(&recipe, &docs, &kept).contains("0 processed, 2 resumed"));
    let article_kept = snapshot(&kept);

    // Same config: ingest resumes, and so does the filter stage.
    assert!(ingest(&input, &docs, &["--extractor", "article"]).contains("0 processed, 2 resumed"));

    // Another extractor: ingest redoes both shards, and the filter stage sees that its input changed.
    assert!(ingest(&input, &docs, &["--extractor", "page"]).contains("2 processed, 0 resumed"));
    let rerun = filter(&recipe, &docs, &kept);
    assert!(rerun.contains("2 processed, 0 resumed"), "the filter stage resumed on stale text:\n{rerun}");
    assert_ne!(snapshot(&kept), article_kept, "page text and article text filter differently");

    // Back to the first extractor: identical upstream bytes, so the filter output is identical too.
    ingest(&input, &docs, &["--extractor", "article"]);
    filter(&recipe, &docs, &kept);
    let keep_data = |s: std::collections::BTreeMap<String, Vec<u8>>| {
        s.into_iter().filter(|(k, _)| k.ends_with(".parquet")).collect::<Vec<_>>()
    };
    assert_eq!(keep_data(snapshot(&kept)), keep_data(article_kept));
}

#[test]
fn a_truncated_output_or_a_changed_input_is_redone_and_a_vanished_input_is_pruned() {
    let work = tempfile::tempdir().unwrap();
    let input = two_warcs(work.path());
    let docs = work.path().join("docs");
    ingest(&input, &docs, &[]);
    let reference = snapshot(&docs);

    // A truncated data object is not "resumed": its size no longer matches the manifest.
    let data = docs.join("whirlwind.parquet");
    let bytes = std::fs::read(&data).unwrap();
    std::fs::write(&data, &bytes[..bytes.len() / 2]).unwrap();
    assert!(ingest(&input, &docs, &[]).contains("1 processed, 1 resumed"));
    assert_eq!(snapshot(&docs), reference);

    // Same size, other bytes: only --verify sees it.
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    std::fs::write(&data, &flipped).unwrap();
    assert!(ingest(&input, &docs, &[]).contains("0 processed, 2 resumed"));
    assert!(ingest(&input, &docs, &["--verify"]).contains("1 processed, 1 resumed"));
    assert_eq!(snapshot(&docs), reference);

    // A rewritten input (new modification time) is redone.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let warc = input.join("whirlwind.warc.gz");
    std::fs::write(&warc, std::fs::read(&warc).unwrap()).unwrap();
    assert!(ingest(&input, &docs, &[]).contains("1 processed, 1 resumed"));

    // An input that is gone: its output and manifest are removed, and the summary says so.
    std::fs::remove_file(&warc).unwrap();
    let summary = ingest(&input, &docs, &[]);
    assert!(summary.contains("pruned: 1 outputs whose input is gone"), "{summary}");
    assert!(!data.exists() && !docs.join("_manifests/whirlwind.json").exists());
    assert!(docs.join("CC-MAIN-2020-34-excerpt.parquet").exists());
}

#[test]
fn plan_says_what_is_committed_stale_and_why() {
    let work = tempfile::tempdir().unwrap();
    let input = two_warcs(work.path());
    let recipe = work.path().join("r.yaml");
    let out = work.path().join("out");
    let write_recipe = |extractor: &str| {
        let text = format!(
            "name: t\noutput: {}\nstages:\n  - ingest:\n      input: [{}]\n      extractor: {extractor}\n{}",
            path(&out),
            path(&input),
            FILTER_RECIPE.split_once("stages:\n").unwrap().1
        );
        std::fs::write(&recipe, text).unwrap();
    };
    write_recipe("article");
    let plan: Value = serde_json::from_str(&sluice_ok(&["plan", path(&recipe), "--json", "--workers", "2"])).unwrap();
    let stages = plan["stages"].as_array().unwrap();
    let ingest_phase = &stages[0]["phases"][0];
    assert_eq!(ingest_phase["phase"], "main");
    assert_eq!(ingest_phase["tasks_per_worker"], serde_json::json!([1, 1]));
    assert_eq!(ingest_phase["pending"].as_array().unwrap().len(), 2);
    assert!(stages[1]["waiting_for"].as_str().unwrap().ends_with("1-ingest"), "{plan}");
    sluice_ok(&["run", path(&recipe)]);

    write_recipe("page");
    let plan: Value = serde_json::from_str(&sluice_ok(&["plan", path(&recipe), "--json"])).unwrap();
    let ingest_phase = &plan["stages"][0]["phases"][0];
    assert_eq!(ingest_phase["committed"], 0);
    let stale = ingest_phase["stale"].as_array().unwrap();
    assert_eq!(stale.len(), 2);
    assert_eq!(stale[0]["why"], "the stage configuration changed");
    // The filter stage's inputs are still the article outputs: committed until ingest reruns.
    assert_eq!(plan["stages"][1]["phases"][0]["committed"], 2);
    let text = sluice_ok(&["plan", path(&recipe)]);
    assert!(text.contains("stale  CC-MAIN-2020-34-excerpt (worker 0): the stage configuration changed"), "{text}");
}

#[test]
fn a_smoke_run_is_redone_by_a_full_run() {
    let work = tempfile::tempdir().unwrap();
    let input = two_warcs(work.path());
    let docs = work.path().join("docs");
    let smoke = ingest(&input, &docs, &["--limit", "3", "--json"]);
    let report: Value = serde_json::from_str(smoke.trim()).unwrap();
    // At most 3 candidate records from each file: 3 from the Common Crawl excerpt, whirlwind's only one.
    assert_eq!(report["stats"]["docs_in"], 4, "{report}");
    let full = ingest(&input, &docs, &[]);
    assert!(full.contains("2 processed, 0 resumed"), "{full}");
    let reference = work.path().join("reference");
    ingest(&input, &reference, &[]);
    assert_eq!(snapshot(&docs), snapshot(&reference));
}

#[test]
fn a_second_writer_of_the_same_output_is_refused() {
    use std::os::unix::io::AsRawFd;
    let work = tempfile::tempdir().unwrap();
    let input = two_warcs(work.path());
    let docs = work.path().join("docs");
    std::fs::create_dir_all(docs.join("_locks")).unwrap();
    // This test process plays the first writer: it holds worker slot 0/1's lock.
    let lock = std::fs::File::create(docs.join("_locks/shard-0-of-1.lock")).unwrap();
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let err = sluice_fails(&["ingest", path(&input), "--output", path(&docs)], 5);
    assert!(err.contains("another sluice process is writing"), "{err}");
    assert!(!docs.join("_manifests").exists(), "the refused writer wrote nothing");
    // Another worker slot is not blocked, and once the lock is gone slot 0/1 runs.
    ingest(&input, &docs, &["--shard", "1/2"]);
    drop(lock);
    ingest(&input, &docs, &[]);
}

#[test]
fn workers_stats_merge_into_the_single_process_totals() {
    let work = tempfile::tempdir().unwrap();
    let input = two_warcs(work.path());
    let (single, split) = (work.path().join("single"), work.path().join("split"));
    ingest(&input, &single, &[]);
    for i in 0..2 {
        ingest(&input, &split, &["--shard", &format!("{i}/2")]);
    }
    let one: Value = serde_json::from_str(&sluice_ok(&["stats", path(&single), "--json"])).unwrap();
    let both: Value = serde_json::from_str(&sluice_ok(&["stats", path(&split), "--json"])).unwrap();
    assert_eq!(both["stats_files"].as_array().unwrap().len(), 2);
    assert_eq!(both["committed_shards"], 2);
    for key in ["docs_in", "docs_out", "drops", "errors", "shards"] {
        assert_eq!(one[key], both[key], "{key}");
    }
}

#[test]
fn inputs_under_underscore_folders_are_read_and_other_files_are_counted() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("crawl");
    std::fs::create_dir_all(input.join("_2024")).unwrap();
    std::fs::copy(demo_warc().join("whirlwind.warc.gz"), input.join("_2024/whirlwind.warc.gz")).unwrap();
    std::fs::write(input.join("notes.txt"), "not a WARC").unwrap();
    let docs = work.path().join("docs");
    let summary = ingest(&input, &docs, &[]);
    assert!(summary.contains("1 shards (1 processed"), "{summary}");
    assert!(summary.contains("inputs: 1 skipped"), "{summary}");
    assert!(docs.join("_2024__whirlwind.parquet").exists());
}

#[test]
fn recipe_errors_exit_with_code_2_before_any_work() {
    let work = tempfile::tempdir().unwrap();
    let recipe = work.path().join("r.yaml");
    let out = work.path().join("out");
    std::fs::write(
        &recipe,
        format!("name: t\noutput: {}\nstages:\n  - ingest: {{input: [x], extracter: page}}\n", path(&out)),
    )
    .unwrap();
    let err = sluice_fails(&["run", path(&recipe)], 2);
    assert!(err.contains("r.yaml:4:"), "{err}");
    // A quality model that does not exist is reported before stage 1 (ingest) runs.
    std::fs::write(
        &recipe,
        format!(
            "name: t\noutput: {}\nstages:\n  - ingest: {{input: [{}]}}\n  - filter:\n      steps:\n        - classify_fasttext_hq_prob_enricher: {{model_filename: {}/missing.bin, key: q}}\n",
            path(&out),
            path(&demo_warc()),
            path(work.path())
        ),
    )
    .unwrap();
    let err = sluice_fails(&["run", path(&recipe)], 2);
    assert!(err.contains("missing.bin") && err.contains("nothing was run"), "{err}");
    assert!(!out.exists(), "stage 1 did not run");
}

#[test]
fn version_names_the_commit() {
    let version = sluice_ok(&["--version"]);
    assert!(version.starts_with("sluice 0."), "{version}");
    assert!(version.contains('('), "the git commit is part of the version: {version}");
}

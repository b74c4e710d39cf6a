//! Exact dedup end to end on real pages (the bundled WARCs, ingested), with duplicates planted across
//! files: the kept documents are exactly the first occurrences a brute-force pass finds, and the bytes do
//! not depend on threads, workers, or a kill in any phase.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use common::*;
use sluice_core::format::{read_all, write_all, Compression, Format};
use sluice_core::store::Location;
use sluice_core::Document;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn location(p: &Path) -> Location {
    Location::parse(path(p)).unwrap()
}

/// Real documents in several files, with planted duplicates: a whole file copied, case and whitespace
/// variants of some pages, and repeated lines. Returns the input folder.
fn corpus(work: &Path) -> PathBuf {
    let docs = work.join("ingested");
    sluice_ok(&["ingest", path(&demo_warc()), "--output", path(&docs), "--extractor", "page"]);
    let input = work.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    for file in &files {
        std::fs::copy(file, input.join(file.file_name().unwrap())).unwrap();
    }
    // "zz-copy": a later file that repeats one whole file.
    std::fs::copy(&files[0], input.join("zz-copy.parquet")).unwrap();
    // "a-variants": an EARLIER file with case/whitespace variants of some pages: these become the first
    // occurrences, and the originals later in the order are the duplicates.
    let originals = read_all(&location(&files[1])).unwrap();
    let variants: Vec<Document> = originals
        .iter()
        .take(5)
        .map(|d| Document::from_text(format!("  {}\n", d.text.to_uppercase().replace(' ', "   ")), None))
        .collect();
    write_all(&location(&input.join("a-variants.jsonl.zst")), Format::Jsonl(Compression::Zstd), &variants).unwrap();
    input
}

/// The normalised text DCLM's `normalize_whitespace_and_lowercase` gives.
fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Every document of every file under `dir`, in sorted file order.
fn all_docs(dir: &Path) -> Vec<Document> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| Format::from_path(&p.to_string_lossy()).is_some())
        .collect();
    files.sort();
    files.iter().flat_map(|f| read_all(&location(f)).unwrap()).collect()
}

fn dedup(input: &Path, output: &Path, extra: &[&str]) -> String {
    let mut args = vec!["dedup", "exact", "--input", path(input), "--output", path(output)];
    args.extend_from_slice(extra);
    sluice_ok(&args)
}

#[test]
fn exact_text_dedup_keeps_exactly_the_first_occurrences() {
    let work = tempfile::tempdir().unwrap();
    let input = corpus(work.path());
    let out = work.path().join("out");
    dedup(&input, &out, &["--partitions", "4"]);

    let mut seen = HashSet::new();
    let expected: Vec<String> =
        all_docs(&input).into_iter().filter(|d| seen.insert(normalised(&d.text))).map(|d| d.id).collect();
    let kept: Vec<String> = all_docs(&out).into_iter().map(|d| d.id).collect();
    assert_eq!(kept, expected);
    let total = all_docs(&input).len();
    let copied = read_all(&location(&input.join("zz-copy.parquet"))).unwrap().len();
    assert!(total - kept.len() >= 5 + copied, "planted duplicates found: {} of {total} removed", total - kept.len());
    for manifest in manifests(&out).values() {
        assert_accounted(manifest);
    }
    // The variants (`a-…`) sort before the file they copy (`c…`): the variants are kept, the originals go.
    let variants: HashSet<String> =
        all_docs(&input).iter().filter(|d| d.text.starts_with("  ")).map(|d| normalised(&d.text)).collect();
    let kept_variants = all_docs(&out).iter().filter(|d| d.text.starts_with("  ")).count();
    assert_eq!(kept_variants, variants.len());
}

#[test]
fn url_and_paragraph_dedup_remove_what_they_should() {
    let work = tempfile::tempdir().unwrap();
    let input = corpus(work.path());
    let by_url = work.path().join("by-url");
    dedup(&input, &by_url, &["--key", "url"]);
    // zz-copy repeats every URL of the first file; the variants have no URL and are kept.
    let with_url = all_docs(&input).iter().filter(|d| d.url.is_some()).count();
    let mut urls = HashSet::new();
    let unique_urls = all_docs(&input)
        .iter()
        .filter_map(|d| d.url.clone())
        .filter(|u| urls.insert(sluice_dedup::exact::normalize_url(u)))
        .count();
    assert_eq!(all_docs(&by_url).iter().filter(|d| d.url.is_some()).count(), unique_urls);
    assert!(unique_urls < with_url);

    let lines = work.path().join("lines");
    dedup(&input, &lines, &["--key", "paragraph"]);
    // No normalised non-empty line appears twice in the output.
    let mut seen = HashSet::new();
    for doc in all_docs(&lines) {
        for line in doc.text.split('\n').map(normalised).filter(|l| !l.is_empty()) {
            assert!(seen.insert(line.clone()), "line kept twice: {line}");
        }
    }
    for manifest in manifests(&lines).values() {
        assert_accounted(manifest);
    }
}

#[test]
fn exact_dedup_bytes_do_not_depend_on_threads_workers_or_kills() {
    let work = tempfile::tempdir().unwrap();
    let input = corpus(work.path());
    let reference = work.path().join("reference");
    dedup(&input, &reference, &["--threads", "1"]);
    let two_threads = work.path().join("two-threads");
    dedup(&input, &two_threads, &["--threads", "2"]);
    let everything = |_: &str| true;
    assert_same_files(&two_threads, &reference, everything);

    // Three workers, one phase at a time (a Kubernetes Indexed Job per phase).
    let workers = work.path().join("workers");
    for phase in ["hash", "first", "apply"] {
        for i in 0..3 {
            dedup(&input, &workers, &["--phase", phase, "--shard", &format!("{i}/3")]);
        }
    }
    // Worker stats differ by design (_stats is left out of snapshots); every data file and manifest agrees.
    assert_same_files(&workers, &reference, everything);

    // A phase that starts before the one before it is complete is refused.
    let early = work.path().join("early");
    dedup(&input, &early, &["--phase", "hash", "--shard", "0/2"]);
    let err =
        sluice_fails(&["dedup", "exact", "--input", path(&input), "--output", path(&early), "--phase", "first"], 1);
    assert!(err.contains("phase 'hash' of stage 'dedup-exact' is incomplete"), "{err}");

    // A kill in each phase: some commits lost and a temporary left behind; the rerun gives the same bytes.
    for phase in ["_work/hash", "_work/first", ""] {
        let killed = work.path().join(format!("killed-{}", phase.replace('/', "-")));
        dedup(&input, &killed, &[]);
        let root = killed.join(phase);
        let manifests_dir = root.join("_manifests");
        let mut entries: Vec<_> = std::fs::read_dir(&manifests_dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for manifest in entries.iter().step_by(2) {
            std::fs::remove_file(manifest).unwrap();
        }
        std::fs::create_dir_all(root.join("_tmp")).unwrap();
        std::fs::write(root.join("_tmp/part-00000.half-written"), b"garbage").unwrap();
        let rerun = dedup(&input, &killed, &[]);
        assert!(rerun.contains("resumed"), "{rerun}");
        assert_same_files(&killed, &reference, |k| !k.contains("_tmp"));
    }
}

#[test]
fn a_dedup_stage_in_a_recipe_runs_after_the_filter() {
    let work = tempfile::tempdir().unwrap();
    let recipe = work.path().join("r.yaml");
    let out = work.path().join("out");
    std::fs::write(
        &recipe,
        format!(
            "name: t\noutput: {}\nstages:\n  - ingest: {{input: [{}], extractor: page}}\n  - dedup: {{method: exact, key: url}}\n",
            path(&out),
            path(&demo_warc())
        ),
    )
    .unwrap();
    let summary = sluice_ok(&["run", path(&recipe)]);
    assert!(summary.contains("dedup-exact:"), "{summary}");
    assert!(out.join("2-dedup/_plan.json").exists());
    let again = sluice_ok(&["run", path(&recipe)]);
    assert!(again.contains("0 processed, 8 resumed"), "{again}");
}

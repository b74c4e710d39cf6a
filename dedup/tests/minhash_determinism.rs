//! MinHash-LSH output does not depend on threads, workers, memory passes or a kill: the same bytes from
//! 1 or 2 threads, from 1 worker or 3 workers running each phase in turn, from one key pass or several,
//! and after a run whose committed outputs were partly deleted (or left as temporaries). Hostile documents
//! (empty, whitespace-only, punctuation-only, one word, huge, one giant line, an unreadable line) are
//! counted, never a panic, and never lose a document.

mod minhash_common;

use std::path::Path;

use minhash_common::*;
use sluice_core::format::read_all;
use sluice_core::runner::{PhasedStage, RunOptions, ShardSpec, StageStats};
use sluice_core::Document;
use sluice_dedup::minhash::{MinhashConfig, MinhashStage};

/// The real sample with planted near-duplicates across five files, and a file of hostile documents.
fn corpus(dir: &Path) {
    let originals = sample_docs();
    let mut rng = Rng(5);
    let mut docs = originals.clone();
    for i in 0..120 {
        let original = &originals[rng.below(originals.len())];
        let donor = &originals[rng.below(originals.len())];
        let mut copy = Document::from_text(edit(&original.text, &donor.text, 0.02 + 0.1 * rng.unit(), &mut rng), None);
        copy.id = format!("{}#copy{i}", original.id);
        docs.push(copy);
    }
    for i in (1..docs.len()).rev() {
        docs.swap(i, rng.below(i + 1));
    }
    let names = ["p1.parquet", "p2.jsonl", "p3.jsonl.zst", "p4.jsonl.gz", "p5.parquet"];
    let mut files: Vec<(String, Vec<Document>)> = names.iter().map(|n| (n.to_string(), Vec::new())).collect();
    for doc in docs {
        files[rng.below(names.len())].1.push(doc);
    }
    let huge: String = originals.iter().map(|d| d.text.as_str()).collect::<Vec<_>>().join(" ");
    let giant_line = "x".repeat(3 << 20);
    let hostile = [
        ("empty", String::new()),
        ("whitespace", " \n\t\r\u{a0}\u{3000} ".to_string()),
        ("punctuation", "!!! ... ??? --- ***".to_string()),
        ("one-word-a", "Word".to_string()),
        ("one-word-b", "word!".to_string()),
        ("one-word-c", "  WORD  ".to_string()),
        ("huge", huge),
        ("giant-line-a", giant_line.clone()),
        ("giant-line-b", giant_line),
        ("empty-again", String::new()),
    ];
    files.push((
        "hostile.parquet".to_string(),
        hostile
            .into_iter()
            .map(|(id, text)| {
                let mut doc = Document::from_text(text, None);
                doc.id = id.to_string();
                doc
            })
            .collect(),
    ));
    write_inputs(dir, &files);
    // A JSONL file with one line that is not JSON, between two copies of a real review.
    let review = serde_json::json!({"id": "r1", "text": originals[0].text}).to_string();
    let review2 = serde_json::json!({"id": "r2", "text": originals[0].text}).to_string();
    std::fs::write(dir.join("p0-damaged.jsonl"), format!("{review}\n{{not json\n{review2}\n")).unwrap();
}

fn config(verify: bool) -> MinhashConfig {
    MinhashConfig { partitions: 5, verify, ..Default::default() }
}

fn phases(config: &MinhashConfig) -> Vec<&'static str> {
    MinhashStage::new(config.clone()).unwrap().phases()
}

fn single(config: &MinhashConfig, input: &Path, output: &Path, threads: usize) {
    run(config, input, output, &RunOptions { threads: Some(threads), ..Default::default() });
}

/// Each phase in turn, run by workers 0/3, 1/3 and 2/3 before the next phase starts.
fn three_workers(config: &MinhashConfig, input: &Path, output: &Path) {
    for phase in phases(config) {
        for index in 0..3 {
            let options = RunOptions {
                shard: ShardSpec { index, count: 3 },
                phase: Some(phase.to_string()),
                threads: Some(1),
                ..Default::default()
            };
            run(config, input, output, &options);
        }
    }
}

/// Every committed file of a run (documents and every phase's intermediates), with its bytes.
fn all_artifacts(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.ends_with("_manifests") && !name.ends_with("_stats") && !name.ends_with("_locks") {
                    stack.push(path);
                }
            } else if !name.ends_with("_stats.json") && !name.contains("_tmp") {
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn stats(output: &Path) -> Vec<StageStats> {
    let single = output.join("_stats.json");
    let paths: Vec<_> = if single.exists() {
        vec![single]
    } else {
        std::fs::read_dir(output.join("_stats")).unwrap().map(|e| e.unwrap().path()).collect()
    };
    paths.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
}

fn assert_same(reference: &Path, other: &Path, what: &str) {
    let (a, b) = (all_artifacts(reference), all_artifacts(other));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{what}: different files");
    let differing: Vec<&String> = a.iter().zip(&b).filter(|((_, x), (_, y))| x != y).map(|((n, _), _)| n).collect();
    assert!(differing.is_empty(), "{what}: {differing:?} differ");
}

#[test]
fn minhash_same_bytes_whatever_the_threads_workers_or_kills() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    corpus(&input);
    for verify in [false, true] {
        let config = config(verify);
        let tag = if verify { "verify" } else { "lsh" };
        let reference = work.path().join(format!("{tag}-1-thread"));
        single(&config, &input, &reference, 1);

        let two_threads = work.path().join(format!("{tag}-2-threads"));
        single(&config, &input, &two_threads, 2);
        assert_same(&reference, &two_threads, &format!("{tag}: 2 threads"));

        let workers = work.path().join(format!("{tag}-3-workers"));
        three_workers(&config, &input, &workers);
        assert_same(&reference, &workers, &format!("{tag}: 3 workers"));
        let merged = stats(&workers).into_iter().fold(StageStats::default(), |mut all, s| {
            all.totals.merge(&s.totals);
            all
        });
        assert_eq!(merged.totals.docs_out, stats(&reference)[0].totals.docs_out);

        // A kill in every phase: committed manifests and artifacts gone, an old temporary left.
        let killed = work.path().join(format!("{tag}-killed"));
        copy_dir(&reference, &killed);
        let phase_names = phases(&config);
        for (i, phase) in phase_names.iter().enumerate() {
            let root = if i + 1 == phase_names.len() { killed.clone() } else { killed.join("_work").join(phase) };
            let manifests = sorted_files(&root.join("_manifests"));
            // The last task loses its artifacts (its manifest stays), the first its manifest (its
            // artifacts stay, uncommitted), and an old temporary is left behind.
            let last: serde_json::Value =
                serde_json::from_slice(&std::fs::read(manifests.last().unwrap()).unwrap()).unwrap();
            for output in last["outputs"].as_array().unwrap() {
                let _ = std::fs::remove_file(root.join(output["name"].as_str().unwrap()));
            }
            std::fs::remove_file(&manifests[0]).unwrap();
            std::fs::create_dir_all(root.join("_tmp")).unwrap();
            let temporary = root.join("_tmp").join(format!("{}.half-written", last["task"].as_str().unwrap()));
            std::fs::write(temporary, b"x").unwrap();
        }
        single(&config, &input, &killed, 2);
        assert_same(&reference, &killed, &format!("{tag}: after a kill"));
        assert!(stats(&killed)[0].shards_processed >= 2, "{tag}: the killed tasks were redone");
        // Resuming a complete run redoes nothing and changes nothing.
        single(&config, &input, &killed, 2);
        assert_same(&reference, &killed, &format!("{tag}: resumed"));
        let resumed = &stats(&killed)[0];
        assert_eq!(resumed.shards_processed, 0, "{tag}: a complete run was redone");
    }
}

#[test]
fn minhash_hostile_documents_are_counted_and_kept_or_deduplicated() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    corpus(&input);
    let output = work.path().join("out");
    single(&config(true), &input, &output, 2);
    let totals = &stats(&output)[0].totals;
    assert_eq!(totals.docs_in, totals.docs_out + totals.dropped(), "every document is written or dropped");
    assert_eq!(totals.drops.get("unreadable"), Some(&1), "{totals:?}");
    assert_eq!(totals.errors.values().sum::<u64>(), 1, "{totals:?}");
    let without_words = manifest_counters(&output.join("_work/signatures"), "docs_without_words");
    assert_eq!(without_words, 4, "empty ×2, whitespace-only, punctuation-only");

    let hostile: Vec<String> =
        read_all(&location(&output.join("hostile.parquet"))).unwrap().into_iter().map(|d| d.id).collect();
    // Documents without words are never duplicates; "Word", "word!", "  WORD  " normalise to one word;
    // the giant lines are one (same) word; the huge document is unique.
    assert_eq!(hostile, ["empty", "whitespace", "punctuation", "one-word-a", "huge", "giant-line-a", "empty-again"]);
    let damaged: Vec<String> =
        read_all(&location(&output.join("p0-damaged.parquet"))).unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(damaged, ["r1"]);
}

#[test]
fn minhash_annotate_marks_exactly_what_removal_drops() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    corpus(&input);
    let (removed, annotated) = (work.path().join("removed"), work.path().join("annotated"));
    single(&config(false), &input, &removed, 2);
    single(&MinhashConfig { annotate: true, ..config(false) }, &input, &annotated, 2);
    let kept: Vec<String> = output_docs(&removed).into_iter().map(|d| d.id).collect();
    let all = output_docs(&annotated);
    let totals = &stats(&annotated)[0].totals;
    assert_eq!(all.len() as u64, totals.docs_in - totals.dropped());
    let mut sizes: std::collections::HashMap<String, (u64, u64)> = Default::default();
    let mut not_duplicates = Vec::new();
    for doc in &all {
        let id = doc.attributes["minhash_cluster_id"].as_str().unwrap().to_string();
        let size = doc.attributes["minhash_cluster_size"].as_u64().unwrap();
        let entry = sizes.entry(id).or_insert((size, 0));
        assert_eq!(entry.0, size, "one size per cluster");
        entry.1 += 1;
        if !doc.attributes["minhash_duplicate"].as_bool().unwrap() {
            not_duplicates.push(doc.id.clone());
        }
    }
    assert_eq!(not_duplicates, kept, "annotate's non-duplicates are exactly what removal keeps");
    for (id, (size, members)) in &sizes {
        assert_eq!(*size, *members, "cluster {id}: size attribute vs members");
    }
    assert!(sizes.values().any(|(s, _)| *s >= 3), "the planted copies make clusters of 3 or more");
}

#[test]
fn minhash_several_key_passes_give_the_same_pairs_as_one() {
    // 12k short real lines in one partition: their band records (~2.7 MB in memory) exceed memory_mb = 1,
    // so `candidates` makes three passes over the key space.
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    let lines: Vec<Document> = sample_docs()
        .iter()
        .flat_map(|d| d.text.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| !l.trim().is_empty())
        .take(12_000)
        .map(|l| Document::from_text(l, None))
        .collect();
    write_inputs(&input, &[("lines.jsonl".to_string(), lines)]);
    let base = MinhashConfig { partitions: 1, ..Default::default() };
    let (one, several) = (work.path().join("one"), work.path().join("several"));
    single(&MinhashConfig { memory_mb: 1024, ..base.clone() }, &input, &one, 2);
    single(&MinhashConfig { memory_mb: 1, ..base }, &input, &several, 2);
    assert_eq!(manifest_counters(&several.join("_work/candidates"), "key_passes"), 3);
    assert_eq!(
        std::fs::read(one.join("_work/candidates/part-00000.bin")).unwrap(),
        std::fs::read(several.join("_work/candidates/part-00000.bin")).unwrap()
    );
    assert!(output_files(&one) == output_files(&several), "the kept documents differ");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn sorted_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// The sum of counter `name` over a phase's manifests.
fn manifest_counters(root: &Path, name: &str) -> u64 {
    sorted_files(&root.join("_manifests"))
        .iter()
        .map(|p| {
            let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            manifest["stats"]["counters"][name].as_u64().unwrap_or(0)
        })
        .sum()
}

//! The BFF stage end to end on the runner: output bytes that do not depend on the thread count, bad
//! documents counted (never a panic), a saved filter that a later run loads, read-only decontamination,
//! and resume.

use std::path::{Path, PathBuf};

use sluice_core::format::{read_all, write_all, Compression, Format};
use sluice_core::runner::{run_phased, NoProgress, RunOptions, StageReport};
use sluice_core::store::Location;
use sluice_core::Document;
use sluice_dedup::bff::{BffConfig, BffStage, RemoveType, FILTER_ARTIFACT};

const ALL_TYPES: [RemoveType; 7] = [
    RemoveType::OldBoth,
    RemoveType::Paragraph,
    RemoveType::Document,
    RemoveType::Both,
    RemoveType::NaiveBoth,
    RemoveType::Substring,
    RemoveType::Exact,
];

fn location(path: &Path) -> Location {
    Location::parse(path.to_str().unwrap()).unwrap()
}

/// A small deterministic generator of word-like tokens.
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn paragraph(&mut self, tokens: usize) -> String {
        let words: Vec<String> = (0..tokens).map(|_| format!("w{}", self.next() % 5000)).collect();
        let mut text = words.join(" ");
        text.push('.');
        text
    }
}

/// `files` JSONL files of `docs` documents each: fresh paragraphs, paragraphs and whole documents copied
/// from earlier ones (across files too), so every remove type has something to do.
fn corpus(dir: &Path, files: usize, docs: usize) -> PathBuf {
    let input = dir.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut words = Words(7);
    let mut seen: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for file in 0..files {
        let mut out = Vec::new();
        for i in 0..docs {
            let n = (words.next() % 6 + 1) as usize;
            let mut paragraphs = Vec::new();
            for _ in 0..n {
                let pick = words.next() % 10;
                if pick < 3 && !seen.is_empty() {
                    paragraphs.push(seen[(words.next() as usize) % seen.len()].clone());
                } else {
                    let tokens = (words.next() % 40 + 5) as usize;
                    let p = words.paragraph(tokens);
                    seen.push(p.clone());
                    paragraphs.push(p);
                }
            }
            let text = if words.next().is_multiple_of(10) && !texts.is_empty() {
                texts[(words.next() as usize) % texts.len()].clone()
            } else {
                paragraphs.join("\n")
            };
            texts.push(text.clone());
            let mut doc = Document::from_text(text, Some(format!("https://example.com/{file}/{i}")));
            doc.id = format!("doc-{file}-{i}");
            out.push(doc);
        }
        let path = input.join(format!("part-{file:02}.jsonl.gz"));
        write_all(&location(&path), Format::Jsonl(Compression::Gzip), &out).unwrap();
    }
    input
}

fn config(remove_type: RemoveType) -> BffConfig {
    BffConfig {
        remove_type,
        min_ngram_size: 5,
        max_ngram_size: 8,
        expected_ngram_count: Some(1_000_000),
        ..BffConfig::default()
    }
}

fn run_with(config: BffConfig, input: &Path, output: &Path, threads: usize) -> StageReport {
    let stage = BffStage::new(config).unwrap();
    let options =
        RunOptions { threads: Some(threads), format: Format::Jsonl(Compression::None), ..RunOptions::default() };
    run_phased(&stage, &[input.to_str().unwrap().to_string()], output.to_str().unwrap(), &options, &NoProgress).unwrap()
}

/// Every output file's bytes, by name (bookkeeping excluded).
fn output_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_str().unwrap().starts_with('_'))
        .map(|p| (p.file_name().unwrap().to_str().unwrap().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn check_accounting(report: &StageReport) {
    let totals = &report.stats.totals;
    assert_eq!(totals.docs_in, totals.docs_out + totals.dropped(), "{totals:?}");
}

#[test]
fn output_bytes_do_not_depend_on_the_thread_count() {
    let work = tempfile::tempdir().unwrap();
    // More documents per file than a read batch (1024), so batches are pipelined.
    let input = corpus(work.path(), 3, 1500);
    for remove_type in ALL_TYPES {
        let one = work.path().join(format!("{remove_type:?}-1"));
        let two = work.path().join(format!("{remove_type:?}-2"));
        let save = BffConfig { save_bloom_filter: true, ..config(remove_type) };
        let a = run_with(save.clone(), &input, &one, 1);
        let b = run_with(save, &input, &two, 2);
        check_accounting(&a);
        assert_eq!(a.stats.totals, b.stats.totals, "{remove_type:?}");
        let (x, y) = (output_bytes(&one), output_bytes(&two));
        assert_eq!(x.len(), 4, "three document files and the filter");
        assert!(x == y, "{remove_type:?}: 1 and 2 threads gave different bytes");
        // Every mode found duplicates in this corpus.
        assert!(a.stats.totals.counters["bff:ngrams_contained"] > 0, "{remove_type:?}");
    }
}

#[test]
fn bad_documents_are_counted_never_a_panic() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    let lines_10mb: String = (0..400_000).map(|i| format!("line {i} of many words\n")).collect();
    let giant_line: String = (0..2_200_000).map(|i| format!("t{} ", i % 777)).collect();
    assert!(lines_10mb.len() > 10_000_000 && giant_line.len() > 10_000_000);
    let texts: Vec<String> = vec![
        String::new(),
        " \n\t\n  \u{a0}\u{3000}".into(),
        "\n".into(),
        "one".into(),
        "\u{0}".into(),
        "\u{301}\u{200d}".into(),
        lines_10mb.clone(),
        lines_10mb,
        giant_line.clone(),
        giant_line,
    ];
    let mut jsonl = String::new();
    for (i, text) in texts.iter().enumerate() {
        jsonl.push_str(&serde_json::json!({"id": format!("d{i}"), "text": text}).to_string());
        jsonl.push('\n');
    }
    // Lines the reader cannot take: counted as unreadable.
    jsonl.push_str("{not json\n{\"id\": \"no-text\"}\n{\"text\": 42}\n");
    std::fs::write(input.join("bad.jsonl"), jsonl).unwrap();
    for remove_type in ALL_TYPES {
        for annotate in [false, true] {
            let out = work.path().join(format!("{remove_type:?}-{annotate}"));
            let config = BffConfig { annotate, ..config(remove_type) };
            let report = run_with(config, &input, &out, 2);
            check_accounting(&report);
            let totals = &report.stats.totals;
            assert_eq!(totals.docs_in, 13, "{remove_type:?}");
            assert_eq!(totals.drops.get("unreadable"), Some(&3), "{remove_type:?}");
            assert_eq!(totals.drops.get("empty_text"), Some(&3), "{remove_type:?}: empty, whitespace, newline");
            let kept = read_all(&location(&out.join("bad.jsonl"))).unwrap();
            let ids: Vec<&str> = kept.iter().map(|d| d.id.as_str()).collect();
            assert!(ids.starts_with(&["d3", "d4", "d5", "d6"]), "{remove_type:?}: {ids:?}");
            if !annotate && remove_type != RemoveType::Substring {
                // The second copy of each 10 MB document is a duplicate (substring mode keeps the
                // non-repeated tail of the repetitive giant line).
                assert!(!ids.contains(&"d7") && !ids.contains(&"d9"), "{remove_type:?}: {ids:?}");
            }
        }
    }
}

#[test]
fn a_saved_filter_is_loaded_by_a_later_run_and_read_only_leaves_it_unchanged() {
    let work = tempfile::tempdir().unwrap();
    let input = corpus(work.path(), 2, 200);
    let first = work.path().join("first");
    run_with(BffConfig { save_bloom_filter: true, ..config(RemoveType::OldBoth) }, &input, &first, 2);
    let saved = first.join(FILTER_ARTIFACT);
    // The same documents against the saved filter, check-only: everything with n-grams is a duplicate.
    let second = work.path().join("second");
    let decontaminate = BffConfig {
        bloom_filter_file: Some(saved.to_str().unwrap().to_string()),
        read_only: true,
        save_bloom_filter: true,
        expected_ngram_count: None,
        ..config(RemoveType::OldBoth)
    };
    let report = run_with(decontaminate, &input, &second, 2);
    check_accounting(&report);
    assert_eq!(report.stats.totals.docs_out, 0, "{:?}", report.stats.totals);
    assert_eq!(report.stats.totals.drops["bff_duplicate"], 400);
    assert_eq!(std::fs::read(&saved).unwrap(), std::fs::read(second.join(FILTER_ARTIFACT)).unwrap());
    // Resume: the committed task is reused.
    let again = run_with(
        BffConfig {
            bloom_filter_file: Some(saved.to_str().unwrap().to_string()),
            read_only: true,
            save_bloom_filter: true,
            expected_ngram_count: None,
            ..config(RemoveType::OldBoth)
        },
        &input,
        &second,
        1,
    );
    assert_eq!(again.stats.shards_resumed, 1);
}

#[test]
fn configurations_that_cannot_work_are_refused_with_a_reason() {
    let refuse = |config: BffConfig| BffStage::new(config).unwrap_err().to_string();
    assert!(refuse(BffConfig::default()).contains("expected_ngram_count is required"));
    assert!(refuse(BffConfig { read_only: true, ..config(RemoveType::OldBoth) }).contains("read_only needs"));
    assert!(refuse(BffConfig { min_ngram_size: 0, ..config(RemoveType::OldBoth) }).contains("at least 1"));
    assert!(refuse(BffConfig { fp_rate: 1.5, ..config(RemoveType::OldBoth) }).contains("fp_rate"));
    let yaml_error =
        serde_json::from_str::<BffConfig>(r#"{"remove_type": "old-both", "treshold": 0.8}"#).unwrap_err().to_string();
    assert!(yaml_error.contains("unknown field `treshold`"), "{yaml_error}");
    // DCLM's own option names are accepted.
    let dclm: BffConfig = serde_json::from_str(
        r#"{"remove_type": "naive-both", "filtering_threshold": 0.7, "no_update_bloom_filter": true,
            "bloom_filter_file": "f.bff"}"#,
    )
    .unwrap();
    assert_eq!((dclm.remove_type, dclm.threshold, dclm.read_only), (RemoveType::NaiveBoth, 0.7, true));
}

//! MinHash-LSH quality on real text against brute force: real documents with planted near-duplicates
//! (spans deleted, replaced or moved, words substituted: 5–30 % of the words, seeded) and the natural
//! near-duplicates they already contain; the ground truth is the exact Jaccard similarity of every pair's
//! shingle sets (5-grams of SlimPajama-normalised words, computed here independently of the stage).
//!
//! A pair is *found* when the stage puts both documents in one cluster (`annotate`). At the configured
//! threshold T: recall = found pairs with J ≥ T + 0.05 / pairs with J ≥ T + 0.05; precision = found
//! pairs with J ≥ T − 0.05 / found pairs. `cargo test -p sluice-dedup --test minhash_quality -- --nocapture`
//! prints the curve by Jaccard bucket (copied into docs/dedup.md).

mod minhash_common;

use std::collections::HashMap;

use minhash_common::*;
use sluice_core::format::{Compression, Format};
use sluice_core::runner::RunOptions;
use sluice_core::Document;
use sluice_dedup::minhash::{LshParams, MinhashConfig, MinhashStage};

const THRESHOLD: f64 = 0.8;
const MARGIN: f64 = 0.05;
const BUCKETS: usize = 20;

/// `originals` plus `planted` edited copies (of originals drawn with repeats, so some have several),
/// shuffled into four files.
fn test_set(originals: &[Document], planted: usize, seed: u64) -> Vec<(String, Vec<Document>)> {
    let mut rng = Rng(seed);
    let mut docs: Vec<Document> = originals.to_vec();
    for i in 0..planted {
        let original = &originals[rng.below(originals.len())];
        let donor = &originals[rng.below(originals.len())];
        let fraction = 0.05 + 0.25 * rng.unit();
        let mut copy = Document::from_text(edit(&original.text, &donor.text, fraction, &mut rng), None);
        copy.id = format!("{}#near-{i}-{:.0}pct", original.id, fraction * 100.0);
        docs.push(copy);
    }
    // Fisher–Yates with the seeded generator, then four files of mixed formats.
    for i in (1..docs.len()).rev() {
        docs.swap(i, rng.below(i + 1));
    }
    let names = ["a.jsonl", "b.jsonl.zst", "c.parquet", "d.jsonl.gz"];
    let mut files: Vec<(String, Vec<Document>)> = names.iter().map(|n| (n.to_string(), Vec::new())).collect();
    for doc in docs {
        files[rng.below(names.len())].1.push(doc);
    }
    files
}

/// Found and total pairs per Jaccard bucket, and the headline numbers.
struct Outcome {
    found: [u64; BUCKETS],
    recall: f64,
    /// Found pairs joined by a chain of pairs with J ≥ T − 0.05 (the exact similarity graph's components).
    precision: f64,
    /// Found pairs whose own J ≥ T − 0.05.
    direct_precision: f64,
    found_pairs: u64,
}

/// 0.05-wide buckets; J ≥ T ± 0.05 is decided on buckets too, so no rounding puts 0.85 on both sides.
fn bucket(j: f64) -> usize {
    ((j * BUCKETS as f64 + 1e-9) as usize).min(BUCKETS - 1)
}

fn threshold_bucket(j: f64) -> usize {
    (j * BUCKETS as f64).round() as usize
}

struct Truth {
    ids: Vec<String>,
    jaccard: HashMap<(u32, u32), f64>,
    pairs: [u64; BUCKETS],
    /// Component (smallest member) of each document in the graph of pairs with J ≥ T − 0.05.
    component: Vec<u32>,
}

fn truth(files: &[(String, Vec<Document>)]) -> Truth {
    let docs: Vec<&Document> = files.iter().flat_map(|(_, d)| d).collect();
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| shingle_set(&d.text, 5)).collect();
    let jaccard = pair_jaccards(&sets);
    let n = docs.len() as u64;
    let mut pairs = [0u64; BUCKETS];
    pairs[0] = n * (n - 1) / 2 - jaccard.len() as u64;
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            x = parent[x as usize];
        }
        x
    }
    for (&(a, b), &j) in &jaccard {
        pairs[bucket(j)] += 1;
        if bucket(j) >= threshold_bucket(THRESHOLD - MARGIN) {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    let component = (0..n as u32).map(|i| find(&mut parent, i)).collect();
    Truth { ids: docs.iter().map(|d| d.id.clone()).collect(), jaccard, pairs, component }
}

fn evaluate(files: &[(String, Vec<Document>)], truth: &Truth, config: &MinhashConfig) -> Outcome {
    let work = tempfile::tempdir().unwrap();
    let (input, output) = (work.path().join("in"), work.path().join("out"));
    write_inputs(&input, files);
    let options = RunOptions { format: Format::Jsonl(Compression::None), threads: Some(2), ..Default::default() };
    run(config, &input, &output, &options);
    let cluster_of: HashMap<String, String> = output_docs(&output)
        .into_iter()
        .map(|d| (d.id.clone(), d.attributes["minhash_cluster_id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(cluster_of.len(), truth.ids.len(), "annotate keeps every document (ids are unique)");
    let mut members: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, id) in truth.ids.iter().enumerate() {
        members.entry(cluster_of[id].as_str()).or_default().push(i as u32);
    }
    let (low, high) = (threshold_bucket(THRESHOLD - MARGIN), threshold_bucket(THRESHOLD + MARGIN));
    let mut found = [0u64; BUCKETS];
    let (mut found_pairs, mut connected, mut close) = (0u64, 0u64, 0u64);
    for docs in members.values() {
        for (k, &a) in docs.iter().enumerate() {
            for &b in &docs[k + 1..] {
                let j = truth.jaccard.get(&(a.min(b), a.max(b))).copied().unwrap_or(0.0);
                found[bucket(j)] += 1;
                found_pairs += 1;
                connected += (truth.component[a as usize] == truth.component[b as usize]) as u64;
                close += (bucket(j) >= low) as u64;
            }
        }
    }
    let truth_high: u64 = truth.pairs[high..].iter().sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Outcome {
        recall: ratio(found[high..].iter().sum(), truth_high),
        precision: ratio(connected, found_pairs),
        direct_precision: ratio(close, found_pairs),
        found,
        found_pairs,
    }
}

fn report(title: &str, docs: usize, truth: &Truth, params: &LshParams, plain: &Outcome, verified: &Outcome) {
    println!("\n#### {title}: {docs} documents, threshold {THRESHOLD}, {params}\n");
    println!("| exact Jaccard | pairs | found (LSH) | rate | found (`verify`) | rate | P(candidate) at mid |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let rate = |f: u64, n: u64| if n == 0 { "–".to_string() } else { format!("{:.3}", f as f64 / n as f64) };
    for b in 0..BUCKETS {
        let (lo, hi) = (b as f64 / BUCKETS as f64, (b + 1) as f64 / BUCKETS as f64);
        let n = truth.pairs[b];
        if n == 0 && plain.found[b] == 0 && verified.found[b] == 0 {
            continue;
        }
        println!(
            "| [{lo:.2}, {hi:.2}{} | {n} | {} | {} | {} | {} | {:.3} |",
            if b + 1 == BUCKETS { "]" } else { ")" },
            plain.found[b],
            rate(plain.found[b], n),
            verified.found[b],
            rate(verified.found[b], n),
            params.candidate_probability((lo + hi) / 2.0),
        );
    }
    for (name, o) in [("LSH", plain), ("verify", verified)] {
        println!(
            "\n{name}: {} pairs found; recall (pairs with J ≥ {:.2}) {:.4}; precision (pairs joined by pairs with \
             J ≥ {:.2}) {:.4}; direct precision (pairs with J ≥ {:.2}) {:.4}",
            o.found_pairs,
            THRESHOLD + MARGIN,
            o.recall,
            THRESHOLD - MARGIN,
            o.precision,
            THRESHOLD - MARGIN,
            o.direct_precision
        );
    }
}

fn check(title: &str, files: Vec<(String, Vec<Document>)>) {
    let docs: usize = files.iter().map(|(_, d)| d.len()).sum();
    let truth = truth(&files);
    let config = MinhashConfig { threshold: Some(THRESHOLD), annotate: true, partitions: 4, ..Default::default() };
    let params = MinhashStage::new(config.clone()).unwrap().params();
    let plain = evaluate(&files, &truth, &config);
    let verified = evaluate(&files, &truth, &MinhashConfig { verify: true, ..config });
    report(title, docs, &truth, &params, &plain, &verified);
    let pairs_above: u64 = truth.pairs[threshold_bucket(THRESHOLD + MARGIN)..].iter().sum();
    assert!(pairs_above >= 100, "{title}: too few near-duplicate pairs ({pairs_above}) to measure recall");
    for (name, o) in [("LSH", &plain), ("verify", &verified)] {
        assert!(o.recall >= 0.95, "{title} ({name}): recall {:.4} < 0.95", o.recall);
    }
    // With `verify`, the configured threshold is a hard cut: what is clustered is joined by real
    // near-duplicates, and connected components chain little beyond them.
    assert!(verified.precision >= 0.95, "{title}: precision {:.4} < 0.95", verified.precision);
    assert!(verified.direct_precision >= 0.9, "{title}: direct precision {:.4} < 0.9", verified.direct_precision);
    // LSH alone pairs what its S-curve says, no less: per bucket (≥ 20 pairs), the found rate is at least
    // the candidate probability at the bucket's lower edge, less sampling noise (clustering only adds).
    for b in 0..BUCKETS {
        let n = truth.pairs[b];
        if n < 20 {
            continue;
        }
        let p = params.candidate_probability(b as f64 / BUCKETS as f64);
        let floor = p - 3.0 * (p * (1.0 - p) / n as f64).sqrt() - 0.02;
        let rate = plain.found[b] as f64 / n as f64;
        assert!(rate >= floor, "{title}: bucket {b}: {rate:.3} found, the S-curve promises {p:.3}");
    }
    // Verification only removes links: never a pair found that LSH alone did not find.
    assert!(verified.found_pairs <= plain.found_pairs);
}

#[test]
fn minhash_recall_and_precision_on_bundled_real_text() {
    let originals = sample_docs();
    assert_eq!(originals.len(), 430);
    check("bundled sample (movie reviews + Common Crawl)", test_set(&originals, 400, 11));
}

#[test]
fn minhash_recall_and_precision_on_dclm_golden_pages() {
    let Some(pages) = golden_pages("minhash_recall_and_precision_on_dclm_golden_pages") else { return };
    let originals: Vec<Document> = pages.into_iter().step_by(3).take(1000).collect();
    check("DCLM golden pages", test_set(&originals, 400, 12));
}

#[test]
fn minhash_stage_shingles_equal_the_ground_truths() {
    // The ground truth reads the shingles independently; both readings must agree on every document.
    let mut shingler = sluice_dedup::minhash::shingle::Shingler::new(5);
    for doc in sample_docs() {
        assert_eq!(shingler.set(&doc.text), shingle_set(&doc.text, 5), "{}", doc.id);
    }
}

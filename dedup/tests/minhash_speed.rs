//! MinHash-LSH throughput, one thread (ignored by default; timings need a release build):
//!
//! ```sh
//! SLUICE_MINHASH_BENCH=/path/to/jsonl-or-folder \
//!   cargo test --release -p sluice-dedup --test minhash_speed -- --ignored --nocapture
//! ```
//!
//! Without `SLUICE_MINHASH_BENCH` it runs on the bundled sample, repeated with a unique first word per
//! copy. Prints documents per second for the signature kernel alone (normalise, shingle, hash, permute,
//! band keys) and for each phase of the stage run with one thread (wall and CPU).

mod minhash_common;

use std::path::PathBuf;
use std::time::Instant;

use minhash_common::*;
use sluice_core::format::{read_all, Compression, Format};
use sluice_core::runner::{PhasedStage, RunOptions};
use sluice_core::Document;
use sluice_dedup::minhash::shingle::Shingler;
use sluice_dedup::minhash::signature::{band_keys, Permutations};
use sluice_dedup::minhash::{MinhashConfig, MinhashStage};

fn bench_docs() -> (Vec<Document>, Option<PathBuf>) {
    if let Ok(path) = std::env::var("SLUICE_MINHASH_BENCH") {
        let path = PathBuf::from(path);
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()).collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        let docs = files.iter().flat_map(|f| read_all(&location(f)).unwrap()).collect();
        return (docs, Some(path));
    }
    let sample = sample_docs();
    let docs = (0..10)
        .flat_map(|copy| sample.iter().map(move |d| Document::from_text(format!("copy{copy} {}", d.text), None)))
        .collect();
    (docs, None)
}

#[test]
#[ignore = "a benchmark: run with --release --ignored --nocapture"]
fn minhash_throughput() {
    let (docs, path) = bench_docs();
    let words: usize = docs.iter().map(|d| d.text.split_whitespace().count()).sum();
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    println!(
        "{} documents, {:.1} words/doc, {:.1} MB of text ({})",
        docs.len(),
        words as f64 / docs.len() as f64,
        bytes as f64 / 1e6,
        path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "bundled sample ×10".into())
    );

    let config = MinhashConfig::default();
    let params = config.lsh_params().unwrap();
    let permutations = Permutations::new(params.permutations(), config.seed);
    let mut shingler = Shingler::new(config.ngram);
    let (mut signature, mut keys) = (Vec::new(), Vec::new());
    let mut checksum = 0u64;
    let started = Instant::now();
    for doc in &docs {
        let shingles = shingler.hashes(&doc.text);
        if shingles.is_empty() {
            continue;
        }
        permutations.signature(shingles, &mut signature);
        band_keys(&signature, params.bands, params.rows, &mut keys);
        checksum ^= keys[0];
    }
    let kernel = started.elapsed().as_secs_f64();
    println!(
        "kernel ({params}): {:.0} docs/s, {:.1} MB/s (checksum {checksum:x})",
        docs.len() as f64 / kernel,
        bytes as f64 / 1e6 / kernel
    );

    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    let files: Vec<(String, Vec<Document>)> =
        docs.chunks(docs.len().div_ceil(8)).enumerate().map(|(i, c)| (format!("part-{i}.jsonl"), c.to_vec())).collect();
    write_inputs(&input, &files);
    let output = work.path().join("out");
    let stage = MinhashStage::new(config.clone()).unwrap();
    let (mut wall, mut cpu) = (0.0, 0.0);
    for phase in stage.phases() {
        let options = RunOptions {
            threads: Some(1),
            phase: Some(phase.to_string()),
            format: Format::Jsonl(Compression::None),
            ..Default::default()
        };
        let report = run(&config, &input, &output, &options);
        wall += report.stats.wall_seconds;
        cpu += report.stats.cpu_seconds;
        println!(
            "  {phase:<11} {:7.2} s wall {:7.2} s CPU {:>9.0} docs/s",
            report.stats.wall_seconds,
            report.stats.cpu_seconds,
            docs.len() as f64 / report.stats.wall_seconds
        );
    }
    println!(
        "stage, 1 thread: {wall:.2} s wall, {cpu:.2} s CPU: {:.0} docs/s per core (wall), {:.0} (CPU)",
        docs.len() as f64 / wall,
        docs.len() as f64 / cpu
    );
}

//! `make bench-filters`: DCLM-Baseline's heuristic chain in sluice against datatrove's closest equivalent
//! (Gopher quality + repetition, C4, FineWeb filters) on the same documents, in one run.
//!
//! 1. `prepare DIR` — writes `DIR/docs.jsonl`: the 3,108 input pages of DCLM's golden reference run
//!    (`../shared/golden`: real extracted web pages and real corpora).
//! 2. `benches/filters_peers.py DIR/docs.jsonl DIR/peers.json` — datatrove's filters on those documents.
//! 3. `report DIR` — sluice runs `recipes/dclm-baseline.yaml`'s filter chain (25 steps, language ID
//!    included) on the same documents, best of 3, and prints docs/s per core, the ratio to datatrove and to
//!    DCLM's own Python chain (11.7 docs/s/core measured on these pages), and where the time goes per step.
//!    Then the I/O of a stage that only drops documents (exact dedup's apply) on the same pages as Parquet:
//!    through documents (every row decoded and encoded again) and through record batches filtered by a
//!    keep mask (the batch path), both in the same run, with byte-identical outputs checked.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use serde_json::Value;
use sluice_core::format::{create_writer, open_reader, write_all, Format, Records};
use sluice_core::store::Location;
use sluice_core::Document;
use sluice_filters::{Step, StepConfig, Verdict};

/// DCLM's Python chain on the golden pages, per core (`shared/golden/summary.json` step timings).
const DCLM_PYTHON_DOCS_PER_SECOND: f64 = 11.7;

mod common;

use common::{repo, thread_cpu_seconds};

fn main() {
    match common::command("filters") {
        (cmd, dir) if cmd == "prepare" => prepare(&dir),
        (_, dir) => report(&dir),
    }
}

fn prepare(dir: &Path) {
    let golden = repo().join("../shared/golden/dclm_baseline_golden.jsonl.zst");
    let Ok(file) = std::fs::File::open(&golden) else {
        eprintln!("{} not found: the filter benchmark needs ../shared/golden", golden.display());
        std::process::exit(1);
    };
    std::fs::create_dir_all(dir).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("docs.jsonl")).unwrap());
    let mut n = 0;
    for line in BufReader::new(zstd::Decoder::new(file).unwrap()).lines() {
        let page: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let doc = serde_json::json!({"id": page["id"], "text": page["input_text"], "metadata": page["input_metadata"]});
        writeln!(out, "{doc}").unwrap();
        n += 1;
    }
    println!("prepared {n} documents in {}", dir.join("docs.jsonl").display());
}

/// The steps of the first `filter` stage of recipes/dclm-baseline.yaml.
fn dclm_chain() -> Vec<Box<dyn Step>> {
    let path = repo().join("recipes/dclm-baseline.yaml");
    let recipe: Value = serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let stage = recipe["stages"].as_array().unwrap().iter().find_map(|s| s.get("filter")).expect("a filter stage");
    stage["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| serde_json::from_value::<StepConfig>(s.clone()).unwrap().build_prepared().unwrap())
        .collect()
}

fn report(dir: &Path) {
    let docs: Vec<Document> = std::fs::read_to_string(dir.join("docs.jsonl"))
        .expect("run `prepare` first")
        .lines()
        .map(|l| sluice_core::format::document_from_json(serde_json::from_str(l).unwrap()).unwrap())
        .collect();
    let chain = dclm_chain();
    // Load the language-ID model before timing (datatrove's setup is excluded the same way).
    sluice_filters::dclm::lid_176().unwrap();
    let mut best = f64::MAX;
    let mut per_step = vec![0.0f64; chain.len()];
    let mut kept = 0;
    for round in 0..3 {
        let mut step_seconds = vec![0.0f64; chain.len()];
        kept = 0;
        let start = thread_cpu_seconds();
        for doc in &docs {
            let mut doc = doc.clone();
            let mut survived = true;
            for (i, step) in chain.iter().enumerate() {
                let t = Instant::now();
                let verdict = step.apply(&mut doc);
                step_seconds[i] += t.elapsed().as_secs_f64();
                if verdict != Verdict::Keep {
                    survived = false;
                    break;
                }
            }
            kept += usize::from(survived);
        }
        let elapsed = thread_cpu_seconds() - start;
        if elapsed < best {
            best = elapsed;
            per_step = step_seconds;
        }
        eprintln!("round {round}: {:.2} CPU s", elapsed);
    }
    let rate = docs.len() as f64 / best;
    println!("| chain | docs | kept | CPU s | docs/s per core | × datatrove | × DCLM (Python) |");
    println!("|---|---|---|---|---|---|---|");
    let peer: Option<Value> = std::fs::read(dir.join("peers.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let peer_rate = peer.as_ref().and_then(|p| p["docs_per_second"].as_f64());
    let ratio = |r: f64| peer_rate.map_or("–".into(), |p| format!("{:.1}", r / p));
    println!(
        "| sluice dclm-baseline (25 steps) | {} | {kept} | {best:.2} | {rate:.0} | {} | {:.0} |",
        docs.len(),
        ratio(rate),
        rate / DCLM_PYTHON_DOCS_PER_SECOND
    );
    if let Some(peer) = &peer {
        println!(
            "| datatrove {} (Gopher + C4 + FineWeb) | {} | {} | {:.2} | {:.1} | 1.0 | {:.1} |",
            peer["version"].as_str().unwrap_or("?"),
            peer["docs"],
            peer["kept"],
            peer["cpu_seconds"].as_f64().unwrap_or(0.0),
            peer_rate.unwrap_or(0.0),
            peer_rate.unwrap_or(0.0) / DCLM_PYTHON_DOCS_PER_SECOND
        );
    }
    println!(
        "\nwhere sluice's time goes (wall time inside each step, best round):\n\n| step | ms | share |\n|---|---|---|"
    );
    let total: f64 = per_step.iter().sum();
    for (step, seconds) in chain.iter().zip(&per_step) {
        println!("| {} | {:.1} | {:.1} % |", step.name(), seconds * 1e3, 100.0 * seconds / total);
    }
    io_paths(dir, &docs);
}

/// How a stage reads and writes its documents.
#[derive(Clone, Copy, PartialEq)]
enum IoPath {
    /// Every row decoded into a `Document` and encoded again (`next_batch`, `write`).
    Documents,
    /// Record batches filtered by a keep mask (`next_records`, `write_batch`).
    Batches,
}

/// The I/O of a stage that only drops documents (exact dedup's apply): the pages as one Parquet file,
/// read and written keeping every other document, by each path; best of 3 in thread CPU time.
fn io_paths(dir: &Path, docs: &[Document]) {
    let input = Location::parse(dir.join("docs.parquet").to_str().unwrap()).unwrap();
    write_all(&input, Format::Parquet, docs).unwrap();
    let text_mb = docs.iter().map(|d| d.text.len()).sum::<usize>() as f64 / 1e6;
    println!("\nI/O of a stage that drops every other document (Parquet in and out, best of 3):\n");
    println!("| path | docs | MB of text | CPU s | docs/s per core | MB/s |\n|---|---|---|---|---|---|");
    let mut outputs = Vec::new();
    for (path, name) in
        [(IoPath::Documents, "documents (decode + encode)"), (IoPath::Batches, "record batches + keep mask")]
    {
        let out = dir.join("io-out.parquet");
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = thread_cpu_seconds();
            let as_documents = drop_every_other(&input, &out, path);
            best = best.min(thread_cpu_seconds() - start);
            if path == IoPath::Batches {
                assert_eq!(as_documents, 0, "every batch of a file sluice wrote takes the batch path");
            }
        }
        outputs.push(std::fs::read(&out).unwrap());
        let rate = docs.len() as f64 / best;
        println!("| {name} | {} | {text_mb:.1} | {best:.3} | {rate:.0} | {:.0} |", docs.len(), text_mb / best);
    }
    assert!(outputs[0] == outputs[1], "both paths write the same bytes");
}

/// Copies `input` to `out` without its odd-numbered documents; the number of batches that went as
/// documents on the batch path.
fn drop_every_other(input: &Location, out: &Path, path: IoPath) -> usize {
    let mut writer = create_writer(Format::Parquet, std::fs::File::create(out).unwrap(), "bench").unwrap();
    let mut reader = open_reader(input).unwrap();
    let mut row = 0usize;
    let mut keep = || {
        row += 1;
        row % 2 == 1
    };
    let mut as_documents = 0;
    match path {
        IoPath::Documents => {
            while let Some(batch) = reader.next_batch().unwrap() {
                let kept: Vec<Document> = batch.into_iter().filter(|_| keep()).collect();
                writer.write(&kept).unwrap();
            }
        }
        IoPath::Batches => {
            while let Some(records) = reader.next_records().unwrap() {
                match records {
                    Records::Batch(batch) => {
                        let mask: Vec<bool> = (0..batch.num_rows()).map(|_| keep()).collect();
                        writer.write_batch(&batch.filter(&mask).unwrap()).unwrap();
                    }
                    Records::Documents(batch) => {
                        as_documents += 1;
                        let kept: Vec<Document> = batch.into_iter().filter(|_| keep()).collect();
                        writer.write(&kept).unwrap();
                    }
                }
            }
        }
    }
    writer.finish().unwrap();
    as_documents
}

//! BFF throughput on the golden DEV corpus and its 20× copy, the runs of the golden README's performance
//! table (old-both, 13-grams, jsonl.gz in and out, fp 0.01 and 1e-9, 1 and 2 threads), for comparison
//! with DCLM's docs/s per core there. Not a correctness test: run it on an optimised build,
//!
//! ```sh
//! cargo test --release -p sluice-dedup --test bff_bench -- --ignored --nocapture
//! BFF_BENCH=dev/1e-9/1 cargo test --release …   # only the runs whose label contains this
//! ```

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use sluice_core::format::{Compression, Format};
use sluice_core::runner::{run_phased, NoProgress, RunOptions};
use sluice_dedup::bff::{BffConfig, BffStage, RemoveType};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/golden/bff");

/// DCLM's docs/s per core in the golden README, by (corpus, fp rate).
const DCLM_DOCS_PER_CORE: [(&str, f64, f64); 4] =
    [("dev", 0.01, 1816.0), ("dev", 1e-9, 654.0), ("20x", 0.01, 2072.0), ("20x", 1e-9, 624.0)];

/// The 20× corpus: the DEV corpus copied 20 times with new ids, one copy per file.
fn twenty_times(golden: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("20x");
    std::fs::create_dir_all(&out).unwrap();
    let mut lines = Vec::new();
    for shard in 0..5 {
        let file = std::fs::File::open(golden.join(format!("inputs/shard_{shard:04}.jsonl.gz"))).unwrap();
        for line in std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file)).lines() {
            lines.push(serde_json::from_str::<serde_json::Value>(&line.unwrap()).unwrap());
        }
    }
    for copy in 0..20 {
        let file = std::fs::File::create(out.join(format!("copy_{copy:03}.jsonl.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::new(1));
        for line in &lines {
            let mut line = line.clone();
            let id = format!("{}#copy{copy:03}", line["id"].as_str().unwrap());
            line["id"] = id.into();
            serde_json::to_writer(&mut gz, &line).unwrap();
            gz.write_all(b"\n").unwrap();
        }
        gz.finish().unwrap();
    }
    out
}

#[test]
#[ignore]
fn bff_throughput_against_dclms_anchor() {
    let golden = PathBuf::from(GOLDEN);
    if !golden.join("inputs").is_dir() {
        println!("SKIPPED: the BFF golden is not at {GOLDEN}");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let big = match std::env::var("BFF_BENCH") {
        Ok(only) if only.starts_with("dev") => work.path().join("20x"),
        _ => twenty_times(&golden, work.path()),
    };
    let corpora = [("dev", golden.join("inputs"), 2_521_278u64), ("20x", big, 50_425_560)];
    println!("corpus\tfp\tthreads\twall_s\tcpu_s\tdocs/s\tdocs/s/core\tDCLM docs/s/core\tratio");
    for (name, input, expected) in &corpora {
        for fp_rate in [0.01, 1e-9] {
            for threads in [1, 2] {
                // BFF_BENCH=dev/1e-2/1 runs only the runs whose label contains it (for profiling).
                let label = format!("{name}/{fp_rate:e}/{threads}");
                if std::env::var("BFF_BENCH").is_ok_and(|only| !label.contains(&only)) {
                    continue;
                }
                let config = BffConfig {
                    remove_type: RemoveType::OldBoth,
                    min_ngram_size: 13,
                    max_ngram_size: 13,
                    threshold: 0.8,
                    expected_ngram_count: Some(*expected),
                    fp_rate,
                    ..BffConfig::default()
                };
                let stage = BffStage::new(config).unwrap();
                let options = RunOptions {
                    threads: Some(threads),
                    format: Format::Jsonl(Compression::Gzip),
                    resume: false,
                    ..RunOptions::default()
                };
                let out = work.path().join(format!("out-{name}-{fp_rate}-{threads}"));
                let inputs = [input.to_str().unwrap().to_string()];
                let report = run_phased(&stage, &inputs, out.to_str().unwrap(), &options, &NoProgress).unwrap();
                let stats = &report.stats;
                let docs = stats.totals.docs_in as f64;
                let per_core = docs / stats.cpu_seconds;
                let dclm = DCLM_DOCS_PER_CORE.iter().find(|(c, f, _)| c == name && *f == fp_rate).unwrap().2;
                println!(
                    "{name}\t{fp_rate}\t{threads}\t{:.2}\t{:.2}\t{:.0}\t{per_core:.0}\t{dclm:.0}\t{:.2}",
                    stats.wall_seconds,
                    stats.cpu_seconds,
                    docs / stats.wall_seconds,
                    per_core / dclm
                );
            }
        }
    }
}

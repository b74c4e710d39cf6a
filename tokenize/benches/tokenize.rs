//! `make bench-tokenize`: sluice's tokenize stage against the raw HF `tokenizers` encode (the ceiling) and
//! datatrove's `DocumentTokenizer`, on the same documents, one core each, in one run.
//!
//! 1. `prepare DIR` — writes the documents: DCLM's golden BFF DEV corpus (`../shared/golden/bff/inputs`,
//!    real web pages and books, 12.6 MB of text) when present, else the bundled articles repeated to 12 MB;
//!    as `DIR/docs/docs.parquet` (sluice's input) and `DIR/docs.jsonl` (datatrove's).
//! 2. `benches/tokenize_peers.py` — datatrove's `DocumentTokenizer` on `docs.jsonl` → `DIR/peers.json`.
//! 3. `report DIR` — raw HF `encode_batch_fast` of the texts on one thread; sluice's byte-level BPE alone
//!    (its ids checked equal to HF's); sluice end to end on one thread
//!    (read Parquet → encode → EOT/contexts → gzip → global shuffle → tars, both phases); the ratios; then the
//!    shuffle phase alone in a child process at two memory bounds, its peak RSS against the bound.
//!
//! Rates are tokens (the HF count of the same texts) per CPU second of the measured process.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use sluice_core::format::{write_all, Format};
use sluice_core::runner::{run_phased, NoProgress, PhasedStage, RunOptions};
use sluice_core::store::Location;
use sluice_core::Document;
use sluice_tokenize::{ByteSize, TokenizeConfig, TokenizeStage, BUNDLED_TOKENIZER};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["prepare", dir] => prepare(Path::new(dir)),
        ["report", dir] => report(Path::new(dir)),
        ["shuffle-child", dir, bytes] => shuffle_child(Path::new(dir), bytes.parse().expect("bytes")),
        _ => eprintln!("usage: tokenize (prepare|report) DIR  (run by `make bench-tokenize`)"),
    }
}

/// CPU seconds (user + system) this process has used.
fn process_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The golden BFF corpus's texts, or the bundled articles repeated to about the same size.
fn corpus() -> (Vec<String>, &'static str) {
    let golden = Path::new(REPO).join("../shared/golden/bff/inputs");
    let mut texts = Vec::new();
    if golden.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&golden).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let reader = flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap());
            for line in std::io::BufReader::new(reader).lines() {
                let value: Value = serde_json::from_str(&line.unwrap()).unwrap();
                texts.push(value["text"].as_str().unwrap_or_default().to_string());
            }
        }
        return (texts, "DCLM's golden BFF DEV corpus (../shared/golden/bff/inputs)");
    }
    let articles = std::fs::read_to_string(Path::new(REPO).join("demo/quality/articles.jsonl")).unwrap();
    let articles: Vec<String> = articles
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["text"].as_str().unwrap().to_string())
        .collect();
    while texts.iter().map(String::len).sum::<usize>() < 12 << 20 {
        texts.extend(articles.iter().cloned());
    }
    (texts, "the bundled articles (demo/quality), repeated")
}

fn prepare(dir: &Path) {
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    let (texts, source) = corpus();
    let docs: Vec<Document> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut doc = Document::from_text(t.clone(), None);
            doc.id = format!("doc-{i:06}");
            doc
        })
        .collect();
    let parquet = Location::parse(dir.join("docs/docs.parquet").to_str().unwrap()).unwrap();
    write_all(&parquet, Format::Parquet, &docs).unwrap();
    let mut jsonl = std::io::BufWriter::new(std::fs::File::create(dir.join("docs.jsonl")).unwrap());
    for doc in &docs {
        serde_json::to_writer(&mut jsonl, &serde_json::json!({ "id": doc.id, "text": doc.text })).unwrap();
        jsonl.write_all(b"\n").unwrap();
    }
    jsonl.flush().unwrap();
    std::fs::write(dir.join("source.txt"), source).unwrap();
    println!("{} documents from {source} → {}", docs.len(), dir.display());
}

fn texts_of(dir: &Path) -> Vec<String> {
    let file = std::fs::File::open(dir.join("docs.jsonl")).expect("run `prepare` first");
    std::io::BufReader::new(file)
        .lines()
        .map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()["text"].as_str().unwrap().to_string())
        .collect()
}

/// Raw HF encode of every text on one thread: (the ids, CPU seconds).
fn raw_hf(texts: &[String]) -> (Vec<Vec<u32>>, f64) {
    let tokenizer = tokenizers::Tokenizer::from_bytes(BUNDLED_TOKENIZER).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let start = process_cpu_seconds();
    let encodings = pool.install(|| tokenizer.encode_batch_fast(refs, false).unwrap());
    let seconds = process_cpu_seconds() - start;
    (encodings.iter().map(|e| e.get_ids().to_vec()).collect(), seconds)
}

/// sluice's encoder alone (its byte-level BPE) on every text on this thread: CPU seconds. Panics unless
/// every id equals HF's — a fast encoder that is not exact is no result.
fn raw_sluice(texts: &[String], hf_ids: &[Vec<u32>]) -> f64 {
    let encoder = sluice_tokenize::Encoder::from_bytes(BUNDLED_TOKENIZER, "neox", &TokenizeConfig::default()).unwrap();
    assert!(encoder.uses_bytebpe());
    let start = process_cpu_seconds();
    let ids: Vec<Vec<u32>> = texts.iter().map(|t| encoder.encode(t).unwrap()).collect();
    let seconds = process_cpu_seconds() - start;
    let same = ids.iter().zip(hf_ids).filter(|(a, b)| a == b).count();
    assert_eq!(same, texts.len(), "sluice's ids differ from HF's on {} documents", texts.len() - same);
    seconds
}

fn options(threads: usize, phase: Option<&str>) -> RunOptions {
    RunOptions { threads: Some(threads), resume: false, phase: phase.map(str::to_string), ..RunOptions::default() }
}

fn run(config: &TokenizeConfig, input: &Path, output: &Path, phase: Option<&str>) {
    let stage = TokenizeStage::new(config.clone()).unwrap();
    let inputs = [input.to_str().unwrap().to_string()];
    run_phased(&stage, &inputs, output.to_str().unwrap(), &options(1, phase), &NoProgress).unwrap();
}

fn report(dir: &Path) {
    let texts = texts_of(dir);
    let source = std::fs::read_to_string(dir.join("source.txt")).unwrap_or_default();
    let text_mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    println!(
        "# bench-tokenize — {}\n",
        std::process::Command::new("date")
            .arg("-u")
            .arg("+%F")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    );
    println!("{} documents, {text_mb:.1} MB of text: {source}; GPT-NeoX-20B; one core each.\n", texts.len());

    let (hf_ids, hf_seconds) = raw_hf(&texts);
    let tokens = hf_ids.iter().map(|ids| ids.len() as u64).sum::<u64>();
    let encoder_seconds = raw_sluice(&texts, &hf_ids);
    drop(hf_ids);
    let per_core = |seconds: f64| tokens as f64 / seconds;

    // sluice: both phases, DCLM's settings (2049-token contexts, 8192 per tar, seeded global shuffle).
    let out = dir.join("sluice-out");
    let _ = std::fs::remove_dir_all(&out);
    let start = process_cpu_seconds();
    let wall = Instant::now();
    run(&TokenizeConfig::default(), &dir.join("docs"), &out, None);
    let (sluice_seconds, sluice_wall) = (process_cpu_seconds() - start, wall.elapsed().as_secs_f64());
    let summary = sluice_tokenize::summarize(out.to_str().unwrap()).unwrap();

    let peers: Option<Value> = std::fs::read(dir.join("peers.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let datatrove = peers.as_ref().map(|p| &p["datatrove"]).filter(|d| d["cpu_s"].is_number());
    let hf_python = peers.as_ref().map(|p| &p["hf_python"]).filter(|d| d["cpu_s"].is_number());

    println!("| what | CPU s | tokens/s per core | vs raw HF (Rust) |\n|---|---|---|---|");
    println!(
        "| raw HF `tokenizers` encode_batch_fast (Rust, the ceiling) | {hf_seconds:.2} | {:.0} | 100 % |",
        per_core(hf_seconds)
    );
    println!(
        "| sluice's byte-level BPE encode alone (the same ids as HF, checked) | {encoder_seconds:.2} | {:.0} | {:.0} % |",
        per_core(encoder_seconds),
        100.0 * hf_seconds / encoder_seconds
    );
    println!(
        "| **sluice tokenize** end to end (Parquet → shuffled OpenLM tars; {sluice_wall:.2} s wall) | {sluice_seconds:.2} | {:.0} | {:.0} % |",
        per_core(sluice_seconds),
        100.0 * hf_seconds / sluice_seconds
    );
    for (name, peer) in [
        ("HF `tokenizers` from Python, encode_batch", hf_python),
        ("datatrove DocumentTokenizer (JSONL → .ds)", datatrove),
    ] {
        if let Some(peer) = peer {
            let seconds = peer["cpu_s"].as_f64().unwrap();
            println!(
                "| {name} {} | {seconds:.2} | {:.0} | {:.0} % |",
                peer["version"].as_str().unwrap_or(""),
                per_core(seconds),
                100.0 * hf_seconds / seconds
            );
        }
    }
    match datatrove {
        Some(peer) => println!(
            "\nsluice / datatrove DocumentTokenizer: {:.2}× tokens/s per core",
            peer["cpu_s"].as_f64().unwrap() / sluice_seconds
        ),
        None => {
            println!("\n(no datatrove figures: run benches/tokenize_peers.py first, as `make bench-tokenize` does)")
        }
    }
    println!(
        "sluice wrote {} sequences, {} tokens ({} document tokens, {} padding) in {} shards\n",
        summary.sequences, summary.tokens, summary.document_tokens, summary.pad_tokens, summary.shards
    );
    shuffle_memory(dir);
}

/// The shuffle phase alone in a child process, one cell (so the whole corpus is one shuffle task), at two
/// memory bounds: its peak RSS above what the process held before the phase, against the bound.
fn shuffle_memory(dir: &Path) {
    let out = dir.join("shuffle-out");
    let _ = std::fs::remove_dir_all(&out);
    run(&one_cell(0), &dir.join("docs"), &out, Some("tokenize"));
    let contexts_mib = dir_bytes(&out.join("_work")) as f64 / (1 << 20) as f64;
    println!("Shuffle memory: one cell of {contexts_mib:.1} MiB of gzipped contexts, shuffled by one task:\n");
    println!(
        "| shuffle_memory | bound (whole records) | peak RSS − RSS before the phase | overhead |\n|---|---|---|---|"
    );
    for mib in [2u64, 8] {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["shuffle-child", out.to_str().unwrap(), &(mib << 20).to_string()])
            .output()
            .unwrap();
        assert!(child.status.success(), "{}", String::from_utf8_lossy(&child.stderr));
        let line: Value = serde_json::from_slice(&child.stdout).unwrap();
        let (bound, grown) = (line["bound"].as_f64().unwrap(), line["grown"].as_f64().unwrap());
        let mib = |b: f64| b / (1 << 20) as f64;
        println!(
            "| {} MiB | {:.2} MiB | {:.2} MiB | {:+.2} MiB |",
            mib(line["memory"].as_f64().unwrap()),
            mib(bound),
            mib(grown),
            mib(grown - bound)
        );
    }
    println!("\n(overhead: 4 bytes per record of the cell for its permutation, read and gzip buffers, allocator)");
}

fn one_cell(shuffle_memory: u64) -> TokenizeConfig {
    let mut config = TokenizeConfig { cells: 1, ..TokenizeConfig::default() };
    if shuffle_memory > 0 {
        config.shuffle_memory = ByteSize(shuffle_memory);
    }
    config
}

/// The child: runs the shuffle phase of `out` (its first phase done) and prints its memory as JSON.
fn shuffle_child(out: &Path, memory: u64) {
    let config = one_cell(memory);
    let stage = TokenizeStage::new(config.clone()).unwrap();
    let bound: u64 = stage.shuffle_memory_bound().unwrap().iter().map(|(_, b)| *b).max().unwrap_or(0);
    // Reset the high-water mark to the current RSS (Linux ≥ 4.0), so the peak is the phase's own.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    let docs = out.parent().unwrap().join("docs");
    run(&config, &docs, out, Some(stage.phases()[1]));
    let peak = status_kib("VmHWM:");
    let grown = (peak.saturating_sub(before)) * 1024;
    println!("{}", serde_json::json!({ "memory": memory, "bound": bound, "grown": grown }));
}

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() { dir_bytes(&entry.path()) } else { meta.len() };
    }
    total
}

//! `make bench-eval`: sluice's scoring of DCLM's Core tasks against the same model's forward pass in PyTorch,
//! on the same sequences, one thread each, in one run.
//!
//! 1. `prepare DIR [LIMIT]` — plans the Core suite (llm-foundry's prompts with the GPT-NeoX tokenizer) over the
//!    task files in `../shared/data/eval` (the first LIMIT examples of each evaluator, default 8) and writes the
//!    teacher-forced sequences (`sequences.jsonl`), and the `tiny` and `micro` models with seeded OpenLM
//!    weights as safetensors plus their configs (`<model>.safetensors`, `<model>.json`).
//! 2. `benches/eval_peers.py DIR` — PyTorch on one thread: an OpenLM decoder checked against OpenLM's own
//!    logits (the golden), scoring the same sequences in the same batches, two ways: the full logits of every
//!    position (OpenLM's forward) and only the scored rows projected (what sluice does) → `peers.json`.
//! 3. `report DIR` — sluice's [`score_sequences`] on the same sequences and batches (best of the repeats),
//!    its log-probabilities checked against PyTorch's, then the rates and ratios (`report.md`).
//!
//! Rates are per second of wall time on one thread (examples: evaluation examples, each one or several
//! sequences; tokens: unpadded sequence tokens).

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};
use sluice_eval_harness::evaluate::plan;
use sluice_eval_harness::model::{seeded_model, DType, Device, OpenLm, OpenLmConfig, StateDict};
use sluice_eval_harness::prompt::PromptTokenizer;
use sluice_eval_harness::score::{score_sequences, Sequence, DEFAULT_BATCH_TOKENS};
use sluice_eval_harness::task::Suite;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const MODELS: [&str; 2] = ["tiny", "micro"];
const REPEATS: usize = 3;
/// sluice's and PyTorch's log-probabilities agree to fp32 noise (sluice sums the normaliser in f64).
const TOLERANCE: f64 = 1e-4;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["prepare", dir] => prepare(Path::new(dir), 8),
        ["prepare", dir, limit] => prepare(Path::new(dir), limit.parse().expect("LIMIT: a number")),
        ["report", dir] => report(Path::new(dir)),
        _ => eprintln!("usage: eval (prepare DIR [LIMIT] | report DIR)  (run by `make bench-eval`)"),
    }
}

fn prepare(dir: &Path, limit: usize) {
    let data = Path::new(REPO).join("../shared/data/eval");
    if !data.join("local_data").is_dir() {
        eprintln!("bench-eval needs DCLM's task files ({}): not found, nothing measured", data.display());
        std::process::exit(2);
    }
    std::fs::create_dir_all(dir).expect("bench folder");
    let tokenizer_path = Path::new(REPO).join("tokenize/data/gpt-neox-20b/tokenizer.json");
    let tokenizer = PromptTokenizer::from_bytes(&std::fs::read(&tokenizer_path).expect("bundled tokenizer"))
        .expect("GPT-NeoX tokenizer");
    let suite = Suite::load("core").expect("the bundled Core suite");
    let plan = plan(&suite, &data, &tokenizer, Some(limit)).expect("planning Core");
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("sequences.jsonl")).expect("sequences"));
    let (mut examples, mut sequences, mut tokens, mut skipped) = (0usize, 0usize, 0usize, Vec::new());
    for evaluator in &plan.evaluators {
        let scored = evaluator.scored_sequences();
        if scored.is_empty() {
            skipped.push(evaluator.label.clone());
            continue;
        }
        for (sequence, example) in scored.iter().zip(evaluator.sequence_examples()) {
            let line =
                json!({"example": examples + example, "ids": sequence.ids, "target_start": sequence.target_start});
            writeln!(out, "{line}").expect("write");
            tokens += sequence.ids.len();
        }
        examples += evaluator.examples;
        sequences += scored.len();
    }
    out.flush().expect("write");
    for name in MODELS {
        let cfg = OpenLmConfig::preset(name).expect("preset");
        let model = seeded_model(&cfg, 1234, DType::F32, &Device::Cpu).expect("seeded model");
        model.save_safetensors(&dir.join(format!("{name}.safetensors"))).expect("safetensors");
        std::fs::write(dir.join(format!("{name}.json")), serde_json::to_vec_pretty(&cfg).expect("config"))
            .expect("config");
    }
    let missing: Vec<&str> = plan.missing.iter().map(|m| m.label.as_str()).collect();
    let meta = json!({
        "batch_tokens": DEFAULT_BATCH_TOKENS, "repeats": REPEATS, "limit": limit,
        "examples": examples, "sequences": sequences, "tokens": tokens,
        "missing_tasks": missing, "generation_tasks_not_timed": skipped,
    });
    std::fs::write(dir.join("bench.json"), serde_json::to_vec_pretty(&meta).expect("json")).expect("bench.json");
    std::fs::write(dir.join("models.json"), serde_json::to_vec(&MODELS).expect("json")).expect("models.json");
    println!(
        "Core, first {limit} examples per evaluator: {examples} examples, {sequences} sequences, {tokens} tokens \
         (missing tasks: {}; generation tasks not timed: {})",
        if missing.is_empty() { "none".into() } else { missing.join(", ") },
        if skipped.is_empty() { "none".into() } else { skipped.join(", ") }
    );
}

fn read_sequences(dir: &Path) -> Vec<Sequence> {
    let file = std::fs::File::open(dir.join("sequences.jsonl")).expect("run `prepare` first");
    std::io::BufReader::new(file)
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(&line.expect("read")).expect("json");
            let ids = value["ids"].as_array().expect("ids").iter().map(|v| v.as_u64().expect("id") as u32).collect();
            Sequence { ids, target_start: value["target_start"].as_u64().expect("target_start") as usize }
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// sluice's best time over the repeats, and its log-probabilities.
fn time_sluice(model: &OpenLm, sequences: &[Sequence]) -> (f64, Vec<Vec<f32>>) {
    let mut best = f64::INFINITY;
    let mut logprobs = Vec::new();
    score_sequences(model, &sequences[..1], DEFAULT_BATCH_TOKENS, &mut |_| {}).expect("warm-up");
    for _ in 0..REPEATS {
        let start = Instant::now();
        let scores = score_sequences(model, sequences, DEFAULT_BATCH_TOKENS, &mut |_| {}).expect("scoring");
        best = best.min(start.elapsed().as_secs_f64());
        logprobs = scores.into_iter().map(|s| s.logprobs).collect();
    }
    (best, logprobs)
}

/// The largest difference between sluice's and PyTorch's log-probabilities of the same tokens.
fn max_difference(dir: &Path, name: &str, ours: &[Vec<f32>]) -> f64 {
    let file = std::fs::File::open(dir.join(format!("{name}.torch_logprobs.jsonl"))).expect("peer log-probs");
    let mut worst = 0f64;
    let mut lines = 0;
    for (line, mine) in std::io::BufReader::new(file).lines().zip(ours) {
        let theirs: Vec<f64> = serde_json::from_str(&line.expect("read")).expect("json");
        assert_eq!(theirs.len(), mine.len(), "sequence {lines}: scored tokens differ");
        for (a, b) in theirs.iter().zip(mine) {
            worst = worst.max((a - f64::from(*b)).abs());
        }
        lines += 1;
    }
    assert_eq!(lines, ours.len(), "PyTorch scored another number of sequences");
    worst
}

fn report(dir: &Path) {
    let meta = read_json(&dir.join("bench.json"));
    let peers = read_json(&dir.join("peers.json"));
    let sequences = read_sequences(dir);
    let examples = meta["examples"].as_f64().unwrap_or(0.0);
    let tokens = meta["tokens"].as_f64().unwrap_or(0.0);
    let threads = candle_core::utils::get_num_threads();
    let mut table = vec![
        format!(
            "Core ({} examples, {} sequences, {} tokens; first {} examples per evaluator), one thread \
             (candle: {threads}, torch {}: {}), best of {REPEATS}:",
            meta["examples"], meta["sequences"], meta["tokens"], meta["limit"], peers["torch_version"], peers["threads"]
        ),
        String::new(),
        "| model | params | sluice ex/s | sluice tok/s | torch (full logits) tok/s | ratio | torch (scored rows) tok/s | ratio | max |Δ logprob| |".into(),
        "|---|---|---|---|---|---|---|---|---|".into(),
    ];
    for name in MODELS {
        let path = dir.join(format!("{name}.safetensors"));
        let state = StateDict::read(&path).expect("model");
        let cfg = OpenLmConfig::preset(name).expect("preset");
        let model = OpenLm::from_state_dict(&cfg, &state, DType::F32, &Device::Cpu).expect("model");
        let (seconds, logprobs) = time_sluice(&model, &sequences);
        let worst = max_difference(dir, name, &logprobs);
        assert!(worst <= TOLERANCE, "{name}: sluice and PyTorch disagree by {worst} (> {TOLERANCE})");
        let peer = &peers["models"][name];
        let full = peer["torch_full"]["seconds"].as_f64().expect("torch_full seconds");
        let rows = peer["torch_rows"]["seconds"].as_f64().expect("torch_rows seconds");
        table.push(format!(
            "| {name} | {:.1} M | {:.1} | {:.0} | {:.0} | {:.2}× | {:.0} | {:.2}× | {worst:.1e} |",
            sluice_eval_harness::model::parameter_count(&cfg) as f64 / 1e6,
            examples / seconds,
            tokens / seconds,
            tokens / full,
            full / seconds,
            tokens / rows,
            rows / seconds,
        ));
    }
    let text = table.join("\n");
    println!("{text}");
    std::fs::write(dir.join("report.md"), text + "\n").expect("report.md");
}

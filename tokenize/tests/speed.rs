//! End-to-end tokens per second against raw HF `encode_batch_fast` on the same documents and threads
//! (the goal: ≥ 90 %). `cargo test -p sluice-tokenize --release --test speed -- --ignored --nocapture`;
//! uses WikiText-2 from ../shared when present, else the bundled articles repeated.

mod common;

use std::time::Instant;

use common::*;
use sluice_tokenize::{OutputFormat, TokenizeConfig};

fn corpus_texts() -> Vec<String> {
    let mut texts = Vec::new();
    if let Some(shared) = shared_data() {
        for file in ["valid.txt", "test.txt"] {
            let text = std::fs::read_to_string(shared.join("text/wikitext2_valid_test").join(file)).unwrap();
            texts.extend(text.split("\n = ").map(str::to_string));
        }
    }
    let articles = articles();
    while texts.iter().map(String::len).sum::<usize>() < 24 << 20 {
        texts.extend(articles.iter().cloned());
    }
    texts
}

#[test]
#[ignore]
fn tokens_per_second_against_raw_hf() {
    let texts = corpus_texts();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let tokenizer = hf();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let encodings = pool.install(|| tokenizer.encode_batch_fast(refs.clone(), false).unwrap());
    let raw_seconds = started.elapsed().as_secs_f64();
    let tokens: usize = encodings.iter().map(|e| e.len()).sum();
    drop(encodings);
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "raw HF encode_batch_fast: {:.1} MB, {tokens} tokens in {raw_seconds:.2} s = {:.0} tokens/s ({threads} threads)",
        bytes as f64 / 1e6,
        tokens as f64 / raw_seconds
    );

    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    let per_file = texts.len().div_ceil(threads * 2);
    let files: Vec<(String, Vec<String>)> =
        texts.chunks(per_file).enumerate().map(|(i, c)| (format!("part-{i:03}.jsonl"), c.to_vec())).collect();
    write_inputs(&input, &files);
    for (name, config) in [
        ("openlm (tokenize + shuffle)", TokenizeConfig::default()),
        ("bin", TokenizeConfig { format: OutputFormat::Bin, ..Default::default() }),
    ] {
        let out = work.path().join(name.split(' ').next().unwrap());
        let started = Instant::now();
        run_threads(&config, &input, &out, threads);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "sluice tokenize {name}: {seconds:.2} s = {:.0} document tokens/s, {:.0} % of raw HF",
            tokens as f64 / seconds,
            100.0 * raw_seconds / seconds
        );
    }
    // One input file: the documents of a task are encoded on every thread.
    let one = work.path().join("one");
    write_inputs(&one, &[("all.jsonl".into(), texts.clone())]);
    let out = work.path().join("one-out");
    let started = Instant::now();
    run_threads(&TokenizeConfig::default(), &one, &out, threads);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "sluice tokenize openlm, one input file: {seconds:.2} s = {:.0} tokens/s, {:.0} % of raw HF",
        tokens as f64 / seconds,
        100.0 * raw_seconds / seconds
    );
}

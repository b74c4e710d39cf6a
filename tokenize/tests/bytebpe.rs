//! sluice's byte-level BPE gives HF `tokenizers`' ids, id for id: on real text (news articles, web pages
//! as extracted text and as raw HTML, Common Crawl documents, Wikipedia, Shakespeare), on adversarial
//! text built from what the pre-tokenizer and the added tokens care about, and on random Unicode from
//! every plane — for GPT-NeoX-20B (bundled) and GPT-2 (from ../shared). Tokenizers it does not reproduce
//! are left to HF.

mod common;

use std::io::Read;
use std::path::Path;

use common::*;
use serde_json::Value;
use sluice_tokenize::rng::Rng;
use sluice_tokenize::{Encoder, TokenizeConfig, BUNDLED_TOKENIZER};

fn encoder(bytes: &[u8], name: &str) -> Encoder {
    Encoder::from_bytes(bytes, name, &TokenizeConfig::default()).unwrap()
}

/// Panics at the first text whose ids differ, showing where.
fn assert_agrees(encoder: &Encoder, texts: &[String], what: &str) {
    assert!(encoder.uses_bytebpe(), "{what}: {} is encoded by HF", encoder.name);
    for (i, text) in texts.iter().enumerate() {
        let ours = encoder.encode_piece(text).unwrap();
        let hf = encoder.encode_with_hf(text).unwrap();
        if ours != hf {
            let at = ours.iter().zip(&hf).take_while(|(a, b)| a == b).count();
            let tokenizer = encoder.tokenizer();
            let show = |ids: &[u32]| tokenizer.decode(&ids[at.saturating_sub(3)..(at + 5).min(ids.len())], false);
            panic!("{what} #{i}: ids differ at token {at}: sluice {:?} vs HF {:?}", show(&ours), show(&hf));
        }
    }
}

/// Random strings over every plane: ASCII, Latin-1, combining marks, Greek, Cyrillic, Arabic,
/// Devanagari, Thai, Hangul jamo (which NFC composes), CJK, fullwidth forms, Unicode spaces, mathematical
/// letters and emoji (astral), private use and unassigned code points, apostrophes and space runs.
fn random_unicode(rng: &mut Rng, len: usize) -> String {
    const RANGES: &[(u32, u32)] = &[
        (0x20, 0x7E),
        (0x20, 0x7E),
        (0x09, 0x0D),
        (0xA0, 0xFF),
        (0x300, 0x36F),
        (0x370, 0x3FF),
        (0x400, 0x4FF),
        (0x600, 0x6FF),
        (0x900, 0x97F),
        (0xE00, 0xE7F),
        (0x1100, 0x11FF),
        (0x2000, 0x206F),
        (0x2150, 0x218F),
        (0x3000, 0x303F),
        (0x4E00, 0x4FFF),
        (0xAC00, 0xACFF),
        (0xFF00, 0xFFEF),
        (0xE000, 0xE0FF),
        (0x1D400, 0x1D7FF),
        (0x1F300, 0x1F6FF),
        (0x10FF00, 0x10FFFF),
        (0x0378, 0x0379),
    ];
    let mut s = String::new();
    while s.chars().count() < len {
        match rng.below(12) {
            0 => s.push_str(["'s", "'ll", "'T", " '", "  ", "    ", "\n\n", "<|endoftext|>"][rng.below(8) as usize]),
            _ => {
                let (lo, hi) = RANGES[rng.below(RANGES.len() as u64) as usize];
                let run = 1 + rng.below(6);
                for _ in 0..run {
                    s.extend(char::from_u32(lo + rng.below((hi - lo + 1) as u64) as u32));
                }
            }
        }
    }
    s
}

fn synthetic_texts() -> Vec<String> {
    let mut rng = Rng::new(11);
    let mut texts = articles();
    texts.extend((0..400).map(|_| adversarial(&mut rng, 150)));
    texts.extend((0..1500).map(|_| random_unicode(&mut rng, 120)));
    // A run of one letter far longer than the piece cache, and a long digit-and-space run.
    texts.push("a".repeat(20_000));
    texts.push("1 ".repeat(5_000));
    texts
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text
}

/// Real text from ../shared/data: AEB gold articles, WCXB gold text and raw HTML, Dolma's Common Crawl
/// samples, WikiText-2, Tiny Shakespeare. `None` without ../shared (a failure under `CI=true`).
fn shared_texts() -> Option<Vec<String>> {
    let Some(data) = shared_data() else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but ../shared/data is missing");
        println!("SKIPPED: ../shared/data not found");
        return None;
    };
    let mut texts = Vec::new();
    let aeb: Value =
        serde_json::from_slice(&std::fs::read(data.join("extraction_aeb/ground-truth.json")).unwrap()).unwrap();
    texts.extend(aeb.as_object().unwrap().values().filter_map(|v| v["articleBody"].as_str().map(str::to_string)));
    let wcxb = data.join("extraction_wcxb/test");
    let mut pages: Vec<_> = std::fs::read_dir(wcxb.join("ground-truth")).unwrap().map(|e| e.unwrap().path()).collect();
    pages.sort();
    for (i, page) in pages.iter().enumerate() {
        let truth: Value = serde_json::from_slice(&std::fs::read(page).unwrap()).unwrap();
        texts.extend(truth["ground_truth"]["main_content"].as_str().map(str::to_string));
        if i % 4 == 0 {
            let stem = page.file_stem().unwrap().to_str().unwrap();
            texts.push(gunzip(&wcxb.join(format!("html/{stem}.html.gz"))));
        }
    }
    let dolma = data.join("text/dolma_cc_samples");
    for file in ["multiple_files__cc_en_head-0091.jsonl.gz", "provided__documents__000.json.gz"] {
        for line in gunzip(&dolma.join(file)).lines() {
            let doc: Value = serde_json::from_str(line).unwrap();
            texts.extend(doc["text"].as_str().map(str::to_string));
        }
    }
    for file in ["text/wikitext2_valid_test/valid.txt", "text/tinyshakespeare/input.txt"] {
        let text = std::fs::read_to_string(data.join(file)).unwrap();
        // Paragraph-sized documents, as a corpus has them.
        texts.extend(text.split("\n\n").collect::<Vec<_>>().chunks(20).map(|c| c.join("\n\n")));
    }
    assert!(texts.len() > 1000, "only {} real texts", texts.len());
    Some(texts)
}

#[test]
fn neox_ids_equal_hf_on_synthetic_text() {
    assert_agrees(&encoder(BUNDLED_TOKENIZER, "neox"), &synthetic_texts(), "synthetic");
}

#[test]
fn neox_ids_equal_hf_on_real_text() {
    if let Some(texts) = shared_texts() {
        assert_agrees(&encoder(BUNDLED_TOKENIZER, "neox"), &texts, "real");
    }
}

#[test]
fn gpt2_ids_equal_hf() {
    let Some(data) = shared_data() else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but ../shared/data is missing");
        return println!("SKIPPED: ../shared/data not found (GPT-2 tokenizer)");
    };
    let gpt2 = encoder(&std::fs::read(data.join("tokenizers/gpt2/tokenizer.json")).unwrap(), "gpt2");
    assert_agrees(&gpt2, &synthetic_texts(), "synthetic");
    assert_agrees(&gpt2, &shared_texts().unwrap(), "real");
}

/// Pipelines the byte-level BPE does not reproduce are encoded by HF (and still give HF's ids).
#[test]
fn other_pipelines_are_left_to_hf() {
    let neox: Value = serde_json::from_slice(BUNDLED_TOKENIZER).unwrap();
    let variants: [(&str, Value); 4] = [
        ("/normalizer", serde_json::json!({"type": "Lowercase"})),
        ("/pre_tokenizer/add_prefix_space", Value::Bool(true)),
        ("/model/byte_fallback", Value::Bool(true)),
        ("/added_tokens/2/lstrip", Value::Bool(true)),
    ];
    for (pointer, value) in variants {
        let mut json = neox.clone();
        *json.pointer_mut(pointer).unwrap() = value;
        let bytes = serde_json::to_vec(&json).unwrap();
        let e = encoder(&bytes, pointer);
        assert!(!e.uses_bytebpe(), "{pointer}");
        let text = "It's   Naïve 42";
        assert_eq!(e.encode_piece(text).unwrap(), e.encode_with_hf(text).unwrap());
    }
}

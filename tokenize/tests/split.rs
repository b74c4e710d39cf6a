//! Long documents are cut before encoding only where cutting cannot change the tokens: at every cut
//! point the rule allows, encoding the two sides separately gives exactly the ids of encoding the whole
//! text — on real text and on adversarial text built from the characters the pre-tokenizer and the
//! added tokens care about, for GPT-NeoX-20B (bundled) and GPT-2 (from ../shared when present).

mod common;

use common::*;
use sluice_tokenize::rng::Rng;
use sluice_tokenize::{Encoder, TokenizeConfig};

fn neox() -> Encoder {
    Encoder::from_bytes(sluice_tokenize::BUNDLED_TOKENIZER, "neox", &TokenizeConfig::default()).unwrap()
}

/// Every cut point of `text` (at most `limit`, spread over it) leaves the ids unchanged.
fn check_cut_points(encoder: &Encoder, text: &str, limit: usize) -> usize {
    let whole = encoder.encode_piece(text).unwrap();
    let points = encoder.cut_points(text);
    let step = (points.len() / limit).max(1);
    let mut checked = 0;
    for &p in points.iter().step_by(step) {
        let mut ids = encoder.encode_piece(&text[..p]).unwrap();
        ids.extend(encoder.encode_piece(&text[p..]).unwrap());
        assert_eq!(
            ids,
            whole,
            "cutting {:?} | {:?} changes the ids",
            &text[p.saturating_sub(20)..p],
            &text[p..(p + 20).min(text.len())]
        );
        checked += 1;
    }
    checked
}

fn check_tokenizer(encoder: &Encoder) {
    assert!(encoder.splits_long_documents());
    let mut checked = 0;
    for text in articles() {
        checked += check_cut_points(encoder, &text, 40);
    }
    let mut rng = Rng::new(2024);
    for _ in 0..300 {
        let text = adversarial(&mut rng, 120);
        checked += check_cut_points(encoder, &text, 1000);
    }
    assert!(checked > 2000, "only {checked} cut points checked");
}

#[test]
fn cutting_at_allowed_points_never_changes_neox_ids() {
    check_tokenizer(&neox());
}

#[test]
fn cutting_at_allowed_points_never_changes_gpt2_ids() {
    let Some(shared) = shared_data() else {
        println!("SKIPPED: ../shared/data not found (GPT-2 tokenizer)");
        return;
    };
    let bytes = std::fs::read(shared.join("tokenizers/gpt2/tokenizer.json")).unwrap();
    let encoder = Encoder::from_bytes(&bytes, "gpt2", &TokenizeConfig::default()).unwrap();
    assert_eq!(encoder.eot, 50256);
    check_tokenizer(&encoder);
}

/// A 10 MB document of real paragraphs (and adversarial stretches): cut into hundreds of pieces, encoded
/// in parallel, the same ids as HF encoding it whole.
#[test]
fn a_ten_megabyte_document_encodes_as_a_whole() {
    let encoder = neox();
    let articles = articles();
    let mut rng = Rng::new(7);
    let mut text = String::new();
    while text.len() < 10 << 20 {
        let article = &articles[rng.below(articles.len() as u64) as usize];
        text.push_str(article);
        text.push_str(["\n\n", "\n", " \n", "\n\n\n", "\t\n"][rng.below(5) as usize]);
        if rng.below(10) == 0 {
            text.push_str(&adversarial(&mut rng, 200));
        }
    }
    let pieces = encoder.pieces(&text);
    assert!(pieces.len() > 300, "{} pieces", pieces.len());
    assert_eq!(pieces.concat(), text);
    let whole = hf_encode(hf(), &text);
    assert_eq!(encoder.encode(&text).unwrap(), whole);
}

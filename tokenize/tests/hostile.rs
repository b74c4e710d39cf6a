//! Bad input is counted, never fatal, and never loses a token: empty and whitespace-only documents, an
//! unreadable line, a 10 MB document, files whose contexts are mostly padding (hundreds of files of one
//! short document, a file that ends exactly on a context boundary), documents too short for any DD
//! bucket; and a missing or broken tokenizer is a clear error before any work.

mod common;

use common::*;
use sluice_core::runner::{run_phased, NoProgress, RunOptions};
use sluice_tokenize::{Encoder, OutputFormat, TokenizeConfig, TokenizeError, TokenizeStage};

#[test]
fn empty_whitespace_unreadable_and_huge_documents() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    let articles = articles();
    let mut huge = String::new();
    let mut i = 0;
    while huge.len() < 10 << 20 {
        huge.push_str(&articles[i % articles.len()]);
        huge.push_str("\n\n");
        i += 1;
    }
    let texts = vec![String::new(), " \n ".into(), huge.clone(), String::new(), articles[1].clone()];
    write_inputs(&input, &[("docs.jsonl".into(), texts.clone())]);
    let review = serde_json::json!({"id": "r", "text": articles[2]}).to_string();
    std::fs::write(input.join("damaged.jsonl"), format!("{review}\n{{not json\n{review}\n")).unwrap();

    let out = work.path().join("out");
    let config = TokenizeConfig { shuffle: false, ..small_config() };
    run_threads(&config, &input, &out, 2);
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("_work/tokenize/_stats.json")).unwrap()).unwrap();
    assert_eq!(stats["docs_in"], 8);
    assert_eq!(stats["docs_out"], 5);
    assert_eq!(stats["drops"]["empty_text"], 2);
    assert_eq!(stats["drops"]["unreadable"], 1);
    assert!(stats["counters"]["documents_split"].as_u64().unwrap() >= 1);

    let contexts = read_openlm(&out);
    let mut expected = expected_contexts(&[articles[2].clone(), articles[2].clone()], 64, 0, 50256);
    expected.extend(expected_contexts(&texts, 64, 0, 50256));
    assert_eq!(contexts, expected, "every token of every kept document, in order");
}

#[test]
fn padding_heavy_files_and_exact_context_boundaries() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    let tokenizer = hf();
    // 1000 files of one short sentence: each is one context, mostly PAD.
    let mut files: Vec<(String, Vec<String>)> =
        (0..1000).map(|i| (format!("tiny-{i:04}.jsonl"), vec![format!("Document number {i}.")])).collect();
    // A file whose tokens (with EOTs) fill exactly two contexts: its last context is all PAD (tokshuf).
    let word = "hello";
    assert_eq!(hf_encode(tokenizer, word).len(), 1);
    files.push(("exact.jsonl".into(), vec![word.to_string(); 64]));
    write_inputs(&input, &files);
    let out = work.path().join("out");
    let config = TokenizeConfig { wds_chunk_size: 128, ..small_config() };
    run_threads(&config, &input, &out, 2);
    let mut contexts = read_openlm(&out);
    assert_eq!(contexts.len(), 1000 + 3);
    let all_pad = contexts.iter().filter(|c| c.iter().all(|t| *t == 50256)).count();
    assert_eq!(all_pad, 1, "the file ending on a boundary gets one all-PAD context");
    let mut expected: Vec<Vec<u32>> = files.iter().flat_map(|(_, t)| expected_contexts(t, 64, 0, 50256)).collect();
    contexts.sort();
    expected.sort();
    assert_eq!(contexts, expected);
    let summary = sluice_tokenize::summarize(out.to_str().unwrap()).unwrap();
    assert!(summary.pad_tokens > 1000 * 50, "{summary}");
    assert_eq!(summary.shards, 8);
}

#[test]
fn documents_too_short_for_any_bucket_are_counted_not_written() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    let texts: Vec<String> = (0..2000).map(|i| format!("Short document {i}.")).collect();
    write_inputs(&input, &[("short.jsonl".into(), texts)]);
    let out = work.path().join("out");
    run_threads(&TokenizeConfig { format: OutputFormat::Decomposed, ..Default::default() }, &input, &out, 2);
    let summary = sluice_tokenize::summarize(out.to_str().unwrap()).unwrap();
    assert_eq!((summary.sequences, summary.shards), (0, 0));
    assert_eq!(summary.documents_out, 2000);
    assert_eq!(summary.discarded_tokens, summary.document_tokens + 2000, "every token (and EOT) left over");
    for k in 8..=13 {
        assert_eq!(std::fs::read(out.join(format!("D_{k}/manifest.jsonl"))).unwrap(), b"");
    }
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("dd_params.json")).unwrap()).unwrap();
    assert!(params["error"].as_str().unwrap().contains("no bucket"), "{params}");
}

#[test]
fn a_missing_or_broken_tokenizer_is_a_clear_error_before_any_work() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    write_inputs(&input, &[("a.jsonl".into(), vec!["text".into()])]);
    let missing = work.path().join("no/such/tokenizer.json");
    let config = TokenizeConfig { tokenizer: Some(missing.to_str().unwrap().into()), ..Default::default() };
    let stage = TokenizeStage::new(config.clone()).unwrap();
    let out = work.path().join("out");
    let err = run_phased(
        &stage,
        &[input.to_str().unwrap().into()],
        out.to_str().unwrap(),
        &RunOptions::default(),
        &NoProgress,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no/such/tokenizer.json"), "{err}");
    assert!(!out.join("_work").exists(), "nothing was written");
    let err = Encoder::load(&config).unwrap_err();
    assert!(matches!(err, TokenizeError::TokenizerMissing { .. }), "{err}");
    assert!(err.to_string().contains("leave `tokenizer` unset"), "{err}");

    let broken = work.path().join("broken.json");
    std::fs::write(&broken, b"{\"model\": 3}").unwrap();
    let config = TokenizeConfig { tokenizer: Some(broken.to_str().unwrap().into()), ..Default::default() };
    let err = Encoder::load(&config).unwrap_err();
    assert!(matches!(err, TokenizeError::TokenizerInvalid { .. }), "{err}");

    let config = TokenizeConfig { eot_token: "<|eot_id|>".into(), ..Default::default() };
    let err = Encoder::load(&config).unwrap_err().to_string();
    assert!(err.contains("'<|eot_id|>'") && err.contains("eot_token"), "{err}");
    assert!(TokenizeStage::new(TokenizeConfig { seqlen: 1, ..Default::default() }).is_err());
}

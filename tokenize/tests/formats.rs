//! Every format holds every token of every kept document exactly once (before padding), on real text:
//! `openlm` is tokshuf-rs's stream (unshuffled: in input order; shuffled: a permutation of it), `bin` is
//! each document's ids and EOT at its index, `decomposed` is DD's decomposition with exact bucket
//! lengths and no sequence spanning documents. A vocabulary beyond u16 switches `bin` to u32.

mod common;

use std::path::Path;

use common::*;
use sluice_tokenize::rng::Rng;
use sluice_tokenize::{summarize, write_dataset_json, OutputFormat, ShardFormat, TokenizeConfig};

fn expected_all(files: &[(String, Vec<String>)], seqlen: usize) -> Vec<Vec<u32>> {
    files.iter().flat_map(|(_, texts)| expected_contexts(texts, seqlen, 0, 50256)).collect()
}

#[test]
fn openlm_unshuffled_is_tokshufs_stream_in_input_order() {
    let work = tempfile::tempdir().unwrap();
    let files = corpus();
    write_inputs(&work.path().join("in"), &files);
    let config = TokenizeConfig { shuffle: false, ..small_config() };
    let out = work.path().join("out");
    run_threads(&config, &work.path().join("in"), &out, 2);
    let contexts = read_openlm(&out);
    assert_eq!(contexts, expected_all(&files, 64));
    let shards = manifest(&out);
    assert!(shards[..shards.len() - 1].iter().all(|(_, n)| *n == 50), "every shard but the last is full");
    assert_eq!(shards[0].0, "shard_00000000");
    // tokshuf-rs's gzip level: other gzip streams, the same contexts.
    let level6 = work.path().join("level6");
    run_threads(&TokenizeConfig { gzip_level: 6, ..config }, &work.path().join("in"), &level6, 2);
    assert_eq!(read_openlm(&level6), contexts);
    let shard = |dir: &Path| std::fs::read(dir.join("shard_00000000.tar")).unwrap();
    assert_ne!(shard(&level6), shard(&out));
}

#[test]
fn openlm_shuffled_is_a_permutation_of_the_stream() {
    let work = tempfile::tempdir().unwrap();
    let files = corpus();
    write_inputs(&work.path().join("in"), &files);
    let out = work.path().join("out");
    run_threads(&small_config(), &work.path().join("in"), &out, 2);
    let contexts = read_openlm(&out);
    let mut expected = expected_all(&files, 64);
    assert_ne!(contexts, expected, "shuffled");
    let (mut got, total) = (contexts.clone(), contexts.len());
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    let shards = manifest(&out);
    assert_eq!(shards.len(), total.div_ceil(50));
    assert!(shards[..shards.len() - 1].iter().all(|(_, n)| *n == 50), "{shards:?}");
    // The first context of the last shard is not the last context of a file: shuffled across files.
    let summary = summarize(out.to_str().unwrap()).unwrap();
    assert_eq!((summary.sequences, summary.tokens), (total as u64, total as u64 * 64));
    assert_eq!(summary.documents_in, 62);
    assert_eq!(summary.drops.get("empty_text"), Some(&1));
    println!("{summary}");
    let description: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("tokenize.json")).unwrap()).unwrap();
    assert_eq!(description["num_tokens"], total as u64 * 64);
    assert_eq!((description["eot_id"].as_u64(), description["pad_id"].as_u64()), (Some(0), Some(50256)));
    let dataset = write_dataset_json(out.to_str().unwrap(), Some("articles")).unwrap();
    assert_eq!(dataset["num_tokens"], total as u64 * 64);
    assert_eq!(dataset["tokenizer"], "EleutherAI/gpt-neox-20b");
    assert_eq!(dataset["data_key"], "json.gz");
    let shard_bytes: u64 =
        shards.iter().map(|(s, _)| std::fs::metadata(out.join(format!("{s}.tar"))).unwrap().len()).sum();
    assert_eq!(dataset["size"], shard_bytes + std::fs::metadata(out.join("manifest.jsonl")).unwrap().len());
}

#[test]
fn openlm_at_dclm_defaults() {
    let work = tempfile::tempdir().unwrap();
    let files = corpus();
    write_inputs(&work.path().join("in"), &files);
    let out = work.path().join("out");
    run_threads(&TokenizeConfig::default(), &work.path().join("in"), &out, 2);
    let mut contexts = read_openlm(&out);
    assert!(contexts.iter().all(|c| c.len() == 2049));
    let mut expected = expected_all(&files, 2049);
    contexts.sort();
    expected.sort();
    assert_eq!(contexts, expected);
}

/// `(ids, eot)` of each document of a bin output file, from its index.
fn read_bin(out: &Path, key: &str, width: usize) -> (Vec<Vec<u32>>, serde_json::Value) {
    let tokens = std::fs::read(out.join(format!("{key}.bin"))).unwrap();
    let ids: Vec<u32> = match width {
        2 => tokens.chunks(2).map(|b| u16::from_le_bytes([b[0], b[1]]) as u32).collect(),
        _ => tokens.chunks(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
    };
    let index: Vec<u64> = std::fs::read(out.join(format!("{key}.idx")))
        .unwrap()
        .chunks(8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(*index.last().unwrap() as usize, ids.len());
    let docs = index.windows(2).map(|w| ids[w[0] as usize..w[1] as usize].to_vec()).collect();
    let header = serde_json::from_slice(&std::fs::read(out.join(format!("{key}.header.json"))).unwrap()).unwrap();
    (docs, header)
}

#[test]
fn bin_holds_each_document_at_its_index() {
    let work = tempfile::tempdir().unwrap();
    let files = corpus();
    write_inputs(&work.path().join("in"), &files);
    let out = work.path().join("out");
    let config = TokenizeConfig { format: OutputFormat::Bin, bos: Some("<|padding|>".into()), ..Default::default() };
    run_threads(&config, &work.path().join("in"), &out, 2);
    let tokenizer = hf();
    for (name, texts) in &files {
        let key = name.split('.').next().unwrap();
        let (docs, header) = read_bin(&out, key, 2);
        let expected: Vec<Vec<u32>> = texts
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| {
                let mut ids = vec![1];
                ids.extend(hf_encode(tokenizer, t));
                ids.push(0);
                ids
            })
            .collect();
        assert_eq!(docs, expected, "{name}");
        assert_eq!(header["dtype"], "u16");
        assert_eq!(header["documents"], expected.len());
        assert_eq!(header["bos_id"], 1);
    }
    let summary = summarize(out.to_str().unwrap()).unwrap();
    assert_eq!(summary.shards, 4);
    assert_eq!(summary.sequences, 61);
}

/// A copy of the bundled tokenizer with one more token, id 70000 (in the model's vocabulary, so HF keeps
/// the id, and an added token, so it is matched): ids no longer fit in u16.
fn big_vocabulary_tokenizer(dir: &Path) -> String {
    let mut json: serde_json::Value = serde_json::from_slice(sluice_tokenize::BUNDLED_TOKENIZER).unwrap();
    json["model"]["vocab"]["<|big|>"] = 70000.into();
    json["added_tokens"].as_array_mut().unwrap().push(serde_json::json!({
        "id": 70000, "content": "<|big|>", "single_word": false, "lstrip": false, "rstrip": false,
        "normalized": false, "special": true
    }));
    let path = dir.join("big-tokenizer.json");
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_vocabulary_beyond_u16_makes_bin_u32() {
    let work = tempfile::tempdir().unwrap();
    let texts = vec![format!("{}<|big|> and more", articles()[0]), "short <|big|>".to_string()];
    write_inputs(&work.path().join("in"), &[("x.jsonl".into(), texts.clone())]);
    let tokenizer = big_vocabulary_tokenizer(work.path());
    let config = TokenizeConfig { format: OutputFormat::Bin, tokenizer: Some(tokenizer.clone()), ..Default::default() };
    let out = work.path().join("out");
    run_threads(&config, &work.path().join("in"), &out, 1);
    let (docs, header) = read_bin(&out, "x", 4);
    assert_eq!(header["dtype"], "u32");
    let description: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("tokenize.json")).unwrap()).unwrap();
    assert_eq!(description["dtype"], "u32");
    let hf = tokenizers::Tokenizer::from_file(&tokenizer).unwrap();
    for (doc, text) in docs.iter().zip(&texts) {
        let mut expected = hf_encode(&hf, text);
        expected.push(0);
        assert_eq!(doc, &expected);
        assert!(doc.contains(&70000));
    }
    // A PAD id past u16 does the same for openlm's intermediate records (and the output is unchanged).
    let config = TokenizeConfig { pad_id: Some(65536), ..small_config() };
    let out = work.path().join("out-openlm");
    run_threads(&config, &work.path().join("in"), &out, 1);
    let description: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("tokenize.json")).unwrap()).unwrap();
    assert_eq!(description["dtype"], "u32");
    let mut contexts = read_openlm(&out);
    contexts.sort();
    let mut expected = expected_contexts(&texts, 64, 0, 65536);
    expected.sort();
    assert_eq!(contexts, expected);
    assert!(contexts.iter().flatten().any(|t| *t == 65536));
}

/// DD's `get_binary` on one document, written here from the spec, drawing from the same seeded stream.
fn reference_decomposition(seq: &[u32], min: u32, max: u32, rng: &mut Rng) -> Vec<(u32, Vec<u32>)> {
    let mut out = Vec::new();
    let mut seq = seq;
    while seq.len() > 1 {
        let mut k = (seq.len() as f64 - 1.0).log2().floor() as u32;
        if k < min {
            break;
        }
        if k > max {
            // p ∝ 2^i over [max, max-1, …, min]
            let n = max - min + 1;
            let r = rng.below((1 << n) - 1) + 1;
            k = max - (63 - r.leading_zeros());
        }
        let len = (1usize << k) + 1;
        out.push((k, seq[..len].to_vec()));
        seq = &seq[len..];
    }
    out
}

fn check_decomposed(shard_format: ShardFormat) {
    let work = tempfile::tempdir().unwrap();
    let files = corpus();
    write_inputs(&work.path().join("in"), &files);
    let out = work.path().join("out");
    let mut config = TokenizeConfig { format: OutputFormat::Decomposed, cells: 3, ..Default::default() };
    config.decomposition.min_bucket = 4;
    config.decomposition.max_bucket = 7;
    config.decomposition.shard_tokens = 1024;
    config.decomposition.shard_format = shard_format;
    config.decomposition.gpus = 1;
    config.decomposition.global_batch = 2;
    run_threads(&config, &work.path().join("in"), &out, 2);

    let tokenizer = hf();
    let mut expected: Vec<(u32, Vec<u32>)> = Vec::new();
    for (name, texts) in &files {
        let key = name.split('.').next().unwrap();
        for (d, text) in texts.iter().filter(|t| !t.is_empty()).enumerate() {
            let mut seq = hf_encode(tokenizer, text);
            seq.push(0);
            let mut rng = Rng::for_parts(config.seed, &[b"decompose", key.as_bytes(), &(d as u64).to_le_bytes()]);
            expected.extend(reference_decomposition(&seq, 4, 7, &mut rng));
        }
    }
    let mut got: Vec<(u32, Vec<u32>)> = Vec::new();
    for k in 4..=7u32 {
        let dir = out.join(format!("D_{k}"));
        let len = (1usize << k) + 1;
        let per_shard = (1024u64 >> k).min(65536);
        let shards = manifest(&dir);
        assert!(shards[..shards.len().saturating_sub(1)].iter().all(|(_, n)| *n == per_shard), "D_{k}: {shards:?}");
        let sequences: Vec<Vec<u32>> = match shard_format {
            ShardFormat::Openlm => read_openlm(&dir),
            ShardFormat::Bin => shards
                .iter()
                .flat_map(|(s, n)| {
                    let bytes = std::fs::read(dir.join(format!("{s}.bin"))).unwrap();
                    assert_eq!(bytes.len(), *n as usize * len * 2);
                    bytes
                        .chunks(2)
                        .map(|b| u16::from_le_bytes([b[0], b[1]]) as u32)
                        .collect::<Vec<_>>()
                        .chunks(len)
                        .map(<[u32]>::to_vec)
                        .collect::<Vec<_>>()
                })
                .collect(),
        };
        for sequence in sequences {
            assert_eq!(sequence.len(), len, "D_{k}: every sequence is exactly 2^k+1 tokens");
            // EOT (0) only ever ends a sequence: no sequence spans two documents.
            assert!(!sequence[..len - 1].contains(&0), "D_{k}: a sequence spans documents");
            got.push((k, sequence));
        }
    }
    got.sort();
    expected.sort();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("dd_params.json")).unwrap()).unwrap();
    assert!(params["open_lm_args"].as_str().unwrap().starts_with("--epochs 8"), "{params}");
    let summary = summarize(out.to_str().unwrap()).unwrap();
    assert_eq!(summary.sequences as usize, got.len());
    assert!(summary.discarded_tokens > 0);
    println!("{summary}");
    let dataset = write_dataset_json(out.to_str().unwrap(), None).unwrap();
    assert_eq!(dataset["buckets"].as_array().unwrap().len(), 4);
}

#[test]
fn decomposed_sequences_are_exact_length_slices_of_one_document() {
    check_decomposed(ShardFormat::Openlm);
}

#[test]
fn decomposed_bin_shards_hold_the_same_sequences() {
    check_decomposed(ShardFormat::Bin);
}

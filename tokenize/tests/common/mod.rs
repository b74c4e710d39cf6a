//! Helpers shared by the tokenize tests: real documents, input files in every format, runs, and readers
//! of every output format that do not use the stage's own code paths (the tar reader aside).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sluice_core::format::{write_all, Compression, Format};
use sluice_core::runner::{run_phased, NoProgress, PhasedStage, RunOptions, ShardSpec, StageReport};
use sluice_core::store::Location;
use sluice_core::Document;
use sluice_tokenize::{TokenizeConfig, TokenizeStage, BUNDLED_TOKENIZER};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The 20 real news articles of `demo/quality/articles.jsonl` (ScrapingHub AEB gold text).
pub fn articles() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("demo/quality/articles.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_string())
        .collect()
}

/// `../shared/data` when it exists (CI and developers have it beside the repo).
pub fn shared_data() -> Option<PathBuf> {
    let dir = repo_root().parent()?.join("shared/data");
    dir.is_dir().then_some(dir)
}

/// HF's tokenizer from the bundled file (loaded once per test binary).
pub fn hf() -> &'static tokenizers::Tokenizer {
    static TOKENIZER: std::sync::OnceLock<tokenizers::Tokenizer> = std::sync::OnceLock::new();
    TOKENIZER.get_or_init(|| tokenizers::Tokenizer::from_bytes(BUNDLED_TOKENIZER).unwrap())
}

pub fn hf_encode(tokenizer: &tokenizers::Tokenizer, text: &str) -> Vec<u32> {
    tokenizer.encode(text, false).unwrap().get_ids().to_vec()
}

/// Writes input files: `(file name, texts)`; the format comes from the name.
pub fn write_inputs(dir: &Path, files: &[(String, Vec<String>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, texts) in files {
        let docs: Vec<Document> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut d = Document::from_text(t.clone(), None);
                d.id = format!("{name}#{i}");
                d
            })
            .collect();
        let format = Format::from_path(name).unwrap_or(Format::Jsonl(Compression::None));
        write_all(&Location::parse(dir.join(name).to_str().unwrap()).unwrap(), format, &docs).unwrap();
    }
}

/// The real corpus of the determinism and format tests: the articles (three times, as different
/// documents of different files), with an empty document and a whitespace-only one, over four files of
/// four formats. Returns the files in input (name) order with their texts.
pub fn corpus() -> Vec<(String, Vec<String>)> {
    let articles = articles();
    let mut files: Vec<(String, Vec<String>)> =
        ["a.jsonl", "b.parquet", "c.jsonl.gz", "d.jsonl.zst"].iter().map(|n| (n.to_string(), Vec::new())).collect();
    for copy in 0..3 {
        for (i, text) in articles.iter().enumerate() {
            let f = (i * 7 + copy * 3) % files.len();
            let text = if copy == 0 { text.clone() } else { format!("Copy {copy}.\n\n{text}") };
            files[f].1.push(text);
        }
    }
    files[1].1.insert(3, String::new());
    files[2].1.push(" \n\t ".to_string());
    files
}

/// A small-context configuration so a small corpus has many contexts, cells and shards.
pub fn small_config() -> TokenizeConfig {
    TokenizeConfig { seqlen: 64, wds_chunk_size: 50, cells: 7, ..Default::default() }
}

pub fn run(config: &TokenizeConfig, input: &Path, output: &Path, options: &RunOptions) -> StageReport {
    let stage = TokenizeStage::new(config.clone()).unwrap();
    run_phased(&stage, &[input.to_str().unwrap().to_string()], output.to_str().unwrap(), options, &NoProgress).unwrap()
}

pub fn run_threads(config: &TokenizeConfig, input: &Path, output: &Path, threads: usize) -> StageReport {
    run(config, input, output, &RunOptions { threads: Some(threads), ..Default::default() })
}

/// Each phase in turn, by workers 0/3, 1/3 and 2/3, one thread each.
pub fn run_three_workers(config: &TokenizeConfig, input: &Path, output: &Path) {
    let phases = TokenizeStage::new(config.clone()).unwrap().phases();
    for phase in phases {
        for index in 0..3 {
            let options = RunOptions {
                shard: ShardSpec { index, count: 3 },
                phase: Some(phase.to_string()),
                threads: Some(1),
                ..Default::default()
            };
            run(config, input, output, &options);
        }
    }
}

/// Every file a run committed (outputs and intermediates), with its bytes; bookkeeping left out.
pub fn all_artifacts(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.ends_with("_manifests")
                    && !name.ends_with("_stats")
                    && !name.ends_with("_locks")
                    && !name.ends_with("_tmp")
                {
                    stack.push(path);
                }
            } else if !name.ends_with("_stats.json") && !name.ends_with("_plan.json") && name != "dataset.json" {
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

pub fn assert_same(reference: &Path, other: &Path, what: &str) {
    let (a, b) = (all_artifacts(reference), all_artifacts(other));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{what}: different files");
    let differing: Vec<&String> = a.iter().zip(&b).filter(|((_, x), (_, y))| x != y).map(|((n, _), _)| n).collect();
    assert!(differing.is_empty(), "{what}: {differing:?} differ");
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// The members of one tar shard, each decoded: (member name, tokens).
pub fn read_tar_contexts(path: &Path) -> Vec<(String, Vec<u32>)> {
    let bytes = std::fs::read(path).unwrap();
    sluice_tokenize::tar::read_members(&bytes[..])
        .unwrap()
        .into_iter()
        .map(|(name, data)| {
            let mut json = String::new();
            flate2::read::GzDecoder::new(&data[..]).read_to_string(&mut json).unwrap();
            (name, serde_json::from_str(&json).unwrap())
        })
        .collect()
}

/// The shards listed in `<dir>/manifest.jsonl`: (shard stem, num_sequences).
pub fn manifest(dir: &Path) -> Vec<(String, u64)> {
    std::fs::read_to_string(dir.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["shard"].as_str().unwrap().to_string(), v["num_sequences"].as_u64().unwrap())
        })
        .collect()
}

/// Every context of an openlm output (or a D_k folder), in manifest and member order, checking that each
/// shard holds what the manifest says.
pub fn read_openlm(dir: &Path) -> Vec<Vec<u32>> {
    let mut contexts = Vec::new();
    for (shard, n) in manifest(dir) {
        let members = read_tar_contexts(&dir.join(format!("{shard}.tar")));
        assert_eq!(members.len() as u64, n, "{shard}");
        for (i, (name, tokens)) in members.into_iter().enumerate() {
            let prefix = format!("{}_{i:08}_", &shard["shard_".len()..]);
            assert!(name.starts_with(&prefix) && name.ends_with(".json.gz"), "{name} in {shard}");
            contexts.push(tokens);
        }
    }
    contexts
}

/// tokshuf-rs's contexts of one file, computed here from HF's encoding of each whole document.
pub fn expected_contexts(texts: &[String], seqlen: usize, eot: u32, pad: u32) -> Vec<Vec<u32>> {
    let tokenizer = hf();
    let mut stream = Vec::new();
    for text in texts.iter().filter(|t| !t.is_empty()) {
        stream.extend(hf_encode(tokenizer, text));
        stream.push(eot);
    }
    let mut contexts: Vec<Vec<u32>> = stream.chunks(seqlen).map(<[u32]>::to_vec).collect();
    match contexts.last_mut() {
        Some(last) if last.len() < seqlen => last.resize(seqlen, pad),
        _ => contexts.push(vec![pad; seqlen]),
    }
    contexts
}

pub fn counters(root: &Path) -> BTreeMap<String, u64> {
    let stats: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("_stats.json")).unwrap()).unwrap();
    serde_json::from_value(stats["counters"].clone()).unwrap_or_default()
}

/// Text from the characters that matter: newlines, spaces (runs long enough to hit NeoX's whitespace
/// tokens), tabs, CR, Unicode spaces, letters, digits, apostrophes, punctuation, combining marks, `<`,
/// and the special token.
pub fn adversarial(rng: &mut sluice_tokenize::rng::Rng, len: usize) -> String {
    const ATOMS: &[&str] = &[
        "\n",
        "\n",
        "\n\n",
        " ",
        "  ",
        "   ",
        "\t",
        "\r\n",
        "\u{a0}",
        "\u{3000}",
        "\u{2028}",
        "\u{85}",
        "a",
        "Word",
        "x",
        "é",
        "e\u{301}",
        "\u{301}",
        "1",
        "42",
        "'s",
        "'",
        "ll",
        ".",
        ",",
        "!?",
        "<",
        "<|endoftext|>",
        "<|padding|>",
        "中文",
        "🙂",
        "-",
        "\u{1c}",
        "\u{b}",
    ];
    let mut s = String::new();
    for _ in 0..len {
        let atom = ATOMS[rng.below(ATOMS.len() as u64) as usize];
        if atom == " " && rng.below(8) == 0 {
            s.push_str(&" ".repeat(rng.below(30) as usize + 1));
        } else {
            s.push_str(atom);
        }
    }
    s
}

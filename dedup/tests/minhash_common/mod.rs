//! Helpers shared by the MinHash-LSH tests: the bundled real text, planted near-duplicates (seeded), the
//! brute-force ground truth, and running the stage.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sluice_core::format::{read_all, write_all, Format};
use sluice_core::runner::{run_phased, NoProgress, RunOptions, StageReport};
use sluice_core::store::Location;
use sluice_core::Document;
use sluice_dedup::minhash::{MinhashConfig, MinhashStage};
use xxhash_rust::xxh3::xxh3_64;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/minhash")
}

pub fn location(p: &Path) -> Location {
    Location::parse(p.to_str().unwrap()).unwrap()
}

/// The bundled real documents: 400 movie reviews (CC-BY-4.0) and 30 Common Crawl pages (Apache-2.0).
pub fn sample_docs() -> Vec<Document> {
    let mut docs = read_all(&location(&data_dir().join("movie_reviews.jsonl.zst"))).unwrap();
    docs.extend(read_all(&location(&data_dir().join("dolma_cc.jsonl.zst"))).unwrap());
    docs
}

/// `../shared/golden`'s 3,108 real pages (DCLM's golden trace: its `input_text`), when present. Missing,
/// the caller skips — except under `CI=true`, where the shared data must be there.
pub fn golden_pages(test: &str) -> Option<Vec<Document>> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/dclm_baseline_golden.jsonl.zst");
    if !file.is_file() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: {} is missing, and CI=true requires the shared data", file.display());
        }
        eprintln!("SKIPPED {test}: {} not found", file.display());
        return None;
    }
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8(zstd_decode(&bytes)).unwrap();
    Some(
        text.lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                let mut doc = Document::from_text(value["input_text"].as_str().unwrap(), None);
                doc.id = format!("golden/{}", value["id"].as_str().unwrap());
                doc
            })
            .collect(),
    )
}

fn zstd_decode(bytes: &[u8]) -> Vec<u8> {
    zstd::decode_all(bytes).unwrap()
}

/// SplitMix64: a seeded generator, the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A near-duplicate of `original`: `fraction` of its words edited by 1–3 operations — deleting a span,
/// replacing a span with words of `donor`, moving a span elsewhere, or substituting scattered words.
pub fn edit(original: &str, donor: &str, fraction: f64, rng: &mut Rng) -> String {
    let mut words: Vec<String> = original.split_whitespace().map(str::to_string).collect();
    let donor: Vec<&str> = donor.split_whitespace().collect();
    let budget = ((words.len() as f64 * fraction).round() as usize).max(1);
    let operations = 1 + rng.below(3);
    let mut left = budget;
    for op in 0..operations {
        let n = if op + 1 == operations { left } else { (budget / operations).max(1).min(left) };
        left -= n;
        if n == 0 || words.len() <= n + 1 {
            continue;
        }
        let start = rng.below(words.len() - n);
        // Span edits (which keep most shingles) are the common case, scattered substitutions (which break
        // five shingles per word) the rare one, so the copies spread over the whole Jaccard range.
        match rng.below(8) {
            0..=2 => {
                words.drain(start..start + n);
            }
            3..=4 => {
                let from = rng.below(donor.len().saturating_sub(n).max(1));
                let replacement: Vec<String> = donor.iter().skip(from).take(n).map(|w| w.to_string()).collect();
                words.splice(start..start + n, replacement);
            }
            5..=6 => {
                let span: Vec<String> = words.drain(start..start + n).collect();
                let at = rng.below(words.len() + 1);
                words.splice(at..at, span);
            }
            _ => {
                for _ in 0..n {
                    let i = rng.below(words.len());
                    words[i] = donor.get(rng.below(donor.len().max(1))).unwrap_or(&"x").to_string();
                }
            }
        }
    }
    words.join(" ")
}

/// The ground truth's own reading of the shingles (independent of the stage's code): SlimPajama's
/// `clean_text` literally, word 5-grams as strings, each hashed with xxh3-64; sorted, no repeats.
pub fn shingle_set(text: &str, n: usize) -> Vec<u64> {
    const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    let lowered: String = text.to_lowercase().chars().filter(|c| !PUNCTUATION.contains(*c)).collect();
    let is_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
    let words: Vec<&str> = lowered.split(is_space).filter(|w| !w.is_empty()).collect();
    let mut set: Vec<u64> = if words.is_empty() {
        Vec::new()
    } else if words.len() < n {
        vec![xxh3_64(words.join(" ").as_bytes())]
    } else {
        words.windows(n).map(|w| xxh3_64(w.join(" ").as_bytes())).collect()
    };
    set.sort_unstable();
    set.dedup();
    set
}

/// Exact Jaccard of every pair of documents that share a shingle (all other pairs have J = 0), by an
/// inverted index: (i, j) with i < j → J.
pub fn pair_jaccards(sets: &[Vec<u64>]) -> HashMap<(u32, u32), f64> {
    let mut postings: HashMap<u64, Vec<u32>> = HashMap::new();
    for (i, set) in sets.iter().enumerate() {
        for &s in set {
            postings.entry(s).or_default().push(i as u32);
        }
    }
    let mut shared: HashMap<(u32, u32), u32> = HashMap::new();
    for docs in postings.values() {
        for (k, &a) in docs.iter().enumerate() {
            for &b in &docs[k + 1..] {
                *shared.entry((a, b)).or_default() += 1;
            }
        }
    }
    shared
        .into_iter()
        .map(|((a, b), c)| {
            let union = sets[a as usize].len() + sets[b as usize].len() - c as usize;
            ((a, b), c as f64 / union as f64)
        })
        .collect()
}

/// Writes `files` (name → documents) under `dir`, each in the format its name says.
pub fn write_inputs(dir: &Path, files: &[(String, Vec<Document>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, docs) in files {
        let format = Format::from_path(name).unwrap();
        write_all(&location(&dir.join(name)), format, docs).unwrap();
    }
}

/// Runs the stage over `input` into `output`.
pub fn run(config: &MinhashConfig, input: &Path, output: &Path, options: &RunOptions) -> StageReport {
    let stage = MinhashStage::new(config.clone()).unwrap();
    run_phased(&stage, &[input.to_str().unwrap().to_string()], output.to_str().unwrap(), options, &NoProgress).unwrap()
}

/// Every document file directly under `dir` (the stage output, not its `_…` bookkeeping), sorted by name,
/// with its bytes.
pub fn output_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .filter(|p| Format::from_path(&p.to_string_lossy()).is_some())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

/// Every document of the stage output, in file order.
pub fn output_docs(dir: &Path) -> Vec<Document> {
    output_files(dir).iter().flat_map(|(name, _)| read_all(&location(&dir.join(name))).unwrap()).collect()
}

//! Token-level bag-of-words precision / recall / F1 of an extraction against gold text — the metric of the
//! ScrapingHub article-extraction benchmark as sluice reports it: tokens are lower-cased runs of Unicode
//! word characters (`\w+`), compared as multisets, scored per page and macro-averaged over pages.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::charset::decode_html;

/// Precision, recall and F1 of one page (or their macro average).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

fn tokens(text: &str) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for token in text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|t| !t.is_empty()) {
        *counts.entry(token.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

/// Scores `predicted` against `gold`. Two empty texts score 1; one empty text scores 0.
pub fn score(predicted: &str, gold: &str) -> Score {
    let (p, g) = (tokens(predicted), tokens(gold));
    let (p_total, g_total): (u32, u32) = (p.values().sum(), g.values().sum());
    if p_total == 0 || g_total == 0 {
        let same = p_total == g_total;
        return if same { Score { precision: 1.0, recall: 1.0, f1: 1.0 } } else { Score::default() };
    }
    let overlap: u32 = p.iter().map(|(t, n)| (*n).min(*g.get(t).unwrap_or(&0))).sum();
    let precision = overlap as f64 / p_total as f64;
    let recall = overlap as f64 / g_total as f64;
    let f1 = if overlap == 0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    Score { precision, recall, f1 }
}

/// The macro average of page scores.
pub fn macro_average(scores: &[Score]) -> Score {
    let n = scores.len().max(1) as f64;
    Score {
        precision: scores.iter().map(|s| s.precision).sum::<f64>() / n,
        recall: scores.iter().map(|s| s.recall).sum::<f64>() / n,
        f1: scores.iter().map(|s| s.f1).sum::<f64>() / n,
    }
}

/// One page of the ScrapingHub article-extraction benchmark.
#[derive(Debug, Clone)]
pub struct BenchmarkPage {
    pub id: String,
    /// The page, decoded with sluice's charset decoder.
    pub html: String,
    /// The gold article body.
    pub gold: String,
}

/// Reads the benchmark from `dir` (`html/<id>.html.gz` and `ground-truth.json`, as the benchmark ships),
/// sorted by id. Used by `tests/extraction.rs` and `make bench-extract`, so both score the same pages.
pub fn read_article_benchmark(dir: &Path) -> std::io::Result<Vec<BenchmarkPage>> {
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("ground-truth.json"))?)?;
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(dir.join("html"))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let Some(id) = name.strip_suffix(".html.gz") else { continue };
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path)?).read_to_end(&mut bytes)?;
        let gold = truth[id]["articleBody"].as_str().unwrap_or_default().to_string();
        pages.push(BenchmarkPage { id: id.to_string(), html: decode_html(&bytes, None, None).text, gold });
    }
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_multisets_of_lowercased_word_tokens() {
        let s = score("The cat, the hat!", "the CAT sat");
        // predicted: the×2 cat hat; gold: the cat sat → overlap the×1 + cat = 2
        assert!((s.precision - 0.5).abs() < 1e-9);
        assert!((s.recall - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(score("", ""), Score { precision: 1.0, recall: 1.0, f1: 1.0 });
        assert_eq!(score("x", ""), Score::default());
        assert_eq!(score("naïve café", "Naïve Café").f1, 1.0);
    }
}

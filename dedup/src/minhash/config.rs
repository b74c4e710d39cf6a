//! [`MinhashConfig`] (the recipe's parameters), its checks ([`MinhashError`]), and the LSH band/row maths:
//! the threshold a banding implies and the banding a threshold asks for ([`LshParams`]).

use serde::{Deserialize, Serialize};

/// Parameters of MinHash-LSH dedup (`dedup: {method: minhash, …}` in a recipe).
///
/// The banding is either given (`bands` × `rows`), or chosen for a Jaccard `threshold` within a budget of
/// `permutations`; with neither, DCLM's `minhash-rs` default of 14 bands × 9 rows (threshold ≈ 0.746).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinhashConfig {
    /// Input document files or folders. Optional in a recipe stage that follows another.
    #[serde(skip_serializing)]
    pub input: Vec<String>,
    /// Where to write. Default: `<recipe output>/<stage number>-dedup`.
    #[serde(skip_serializing)]
    pub output: Option<String>,
    /// Words per shingle (word n-grams of the SlimPajama-normalised text). A document with fewer words
    /// has one shingle: all of its words.
    pub ngram: usize,
    /// LSH bands (give `rows` too; excludes `threshold`).
    pub bands: Option<usize>,
    /// Rows (permutations) per band (give `bands` too; excludes `threshold`).
    pub rows: Option<usize>,
    /// The Jaccard similarity to dedup at: picks bands × rows within `permutations` so that pairs 0.05
    /// above it are found with probability ≥ 0.95 and pairs 0.05 below it as rarely as possible (see
    /// [`optimal_banding`]), and is the cut of `verify`.
    pub threshold: Option<f64>,
    /// The permutation budget (bands × rows ≤ this) for `threshold`. Default 128.
    pub permutations: Option<usize>,
    /// Seed of the permutations: the same seed gives the same signatures on every machine.
    pub seed: u64,
    /// Hash partitions of the band keys. Each `candidates` task holds the band records (12 bytes per
    /// document per band) of one partition, at most `memory_mb` of them at a time.
    pub partitions: usize,
    /// Memory budget (MiB) of one task's main table (band records in `candidates`; checked, and warned
    /// about, for the edges of `components` and the shingle sets of `verify`).
    pub memory_mb: usize,
    /// Keep every document and add `minhash_cluster_id`, `minhash_cluster_size` and `minhash_duplicate`
    /// instead of dropping the duplicates.
    pub annotate: bool,
    /// Check every candidate pair by the exact Jaccard similarity of its shingle sets and keep only pairs
    /// at or above the threshold (`threshold`, else the banding's implied threshold): no false positives
    /// from LSH, two more phases.
    pub verify: bool,
}

impl Default for MinhashConfig {
    fn default() -> Self {
        MinhashConfig {
            input: Vec::new(),
            output: None,
            ngram: 5,
            bands: None,
            rows: None,
            threshold: None,
            permutations: None,
            seed: 1,
            partitions: 16,
            memory_mb: 1024,
            annotate: false,
            verify: false,
        }
    }
}

/// DCLM's `minhash-rs` `min-hash` defaults.
pub const DEFAULT_BANDS: usize = 14;
pub const DEFAULT_ROWS: usize = 9;
/// The permutation budget when only a threshold is given.
pub const DEFAULT_PERMUTATIONS: usize = 128;
/// Signatures beyond this many permutations cost more than they help (and bound per-document work).
pub const MAX_PERMUTATIONS: usize = 1024;

/// A configuration that cannot run, with what to change.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MinhashError {
    #[error("minhash: ngram must be at least 1")]
    Ngram,
    #[error("minhash: give both `bands` and `rows`, or `threshold` (optionally with `permutations`)")]
    HalfBanding,
    #[error("minhash: `threshold` picks bands and rows itself: give either `threshold` or `bands` + `rows`")]
    ThresholdAndBanding,
    #[error("minhash: `permutations` is the budget for `threshold`; with `bands` + `rows` leave it out")]
    PermutationsWithoutThreshold,
    #[error("minhash: threshold must be in (0, 1), not {0}")]
    Threshold(f64),
    #[error(
        "minhash: bands × rows must be 1..={MAX_PERMUTATIONS} permutations (bands and rows ≥ 1), not {bands} × {rows}"
    )]
    Banding { bands: usize, rows: usize },
    #[error("minhash: permutations must be 1..={MAX_PERMUTATIONS}, not {0}")]
    Permutations(usize),
    #[error("minhash: partitions must be 1..=100000, not {0}")]
    Partitions(usize),
    #[error("minhash: memory_mb must be at least 1")]
    Memory,
}

/// The banding a configuration resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LshParams {
    pub bands: usize,
    pub rows: usize,
    /// ≈ (1/bands)^(1/rows): where the S-curve P(candidate | J) = 1 − (1 − J^rows)^bands is steepest.
    pub implied_threshold: f64,
    /// The threshold the banding was chosen for, if it was chosen (`threshold:`).
    pub chosen_for: Option<f64>,
}

impl LshParams {
    pub fn permutations(&self) -> usize {
        self.bands * self.rows
    }

    /// The Jaccard threshold pairs are verified against: the configured one, else the implied one.
    pub fn threshold(&self) -> f64 {
        self.chosen_for.unwrap_or(self.implied_threshold)
    }

    /// P(a pair of Jaccard similarity `j` shares at least one band).
    pub fn candidate_probability(&self, j: f64) -> f64 {
        candidate_probability(j, self.bands, self.rows)
    }
}

impl std::fmt::Display for LshParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bands × {} rows = {} permutations, implied Jaccard threshold ≈ {:.3}",
            self.bands,
            self.rows,
            self.permutations(),
            self.implied_threshold
        )?;
        if let Some(t) = self.chosen_for {
            write!(
                f,
                " (chosen for threshold {t}: a pair at J = {:.2} is a candidate with probability {:.3}, at J = {:.2} \
                 with {:.3})",
                t + MARGIN,
                self.candidate_probability((t + MARGIN).min(1.0)),
                t - MARGIN,
                self.candidate_probability((t - MARGIN).max(0.0)),
            )?;
        }
        Ok(())
    }
}

impl MinhashConfig {
    /// Checks the configuration and resolves the banding (what the CLI prints before a run).
    pub fn lsh_params(&self) -> Result<LshParams, MinhashError> {
        if self.ngram == 0 {
            return Err(MinhashError::Ngram);
        }
        if self.partitions == 0 || self.partitions > 100_000 {
            return Err(MinhashError::Partitions(self.partitions));
        }
        if self.memory_mb == 0 {
            return Err(MinhashError::Memory);
        }
        match (self.bands, self.rows, self.threshold) {
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(MinhashError::ThresholdAndBanding),
            (Some(_), None, None) | (None, Some(_), None) => Err(MinhashError::HalfBanding),
            (Some(bands), Some(rows), None) => {
                if self.permutations.is_some() {
                    return Err(MinhashError::PermutationsWithoutThreshold);
                }
                check_banding(bands, rows)?;
                Ok(LshParams { bands, rows, implied_threshold: implied_threshold(bands, rows), chosen_for: None })
            }
            (None, None, Some(threshold)) => {
                if !(threshold > 0.0 && threshold < 1.0) {
                    return Err(MinhashError::Threshold(threshold));
                }
                let budget = self.permutations.unwrap_or(DEFAULT_PERMUTATIONS);
                if budget == 0 || budget > MAX_PERMUTATIONS {
                    return Err(MinhashError::Permutations(budget));
                }
                let (bands, rows) = optimal_banding(threshold, budget);
                Ok(LshParams {
                    bands,
                    rows,
                    implied_threshold: implied_threshold(bands, rows),
                    chosen_for: Some(threshold),
                })
            }
            (None, None, None) => {
                if self.permutations.is_some() {
                    return Err(MinhashError::PermutationsWithoutThreshold);
                }
                Ok(LshParams {
                    bands: DEFAULT_BANDS,
                    rows: DEFAULT_ROWS,
                    implied_threshold: implied_threshold(DEFAULT_BANDS, DEFAULT_ROWS),
                    chosen_for: None,
                })
            }
        }
    }
}

fn check_banding(bands: usize, rows: usize) -> Result<(), MinhashError> {
    if bands == 0 || rows == 0 || bands.saturating_mul(rows) > MAX_PERMUTATIONS {
        return Err(MinhashError::Banding { bands, rows });
    }
    Ok(())
}

/// (1/b)^(1/r).
pub fn implied_threshold(bands: usize, rows: usize) -> f64 {
    (1.0 / bands as f64).powf(1.0 / rows as f64)
}

/// 1 − (1 − j^r)^b.
pub fn candidate_probability(j: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - j.powi(rows as i32)).powi(bands as i32)
}

/// How far above the threshold a pair must be to be found with probability [`RECALL_TARGET`] by the
/// banding [`optimal_banding`] picks (and how far below it a pair counts as a false positive).
pub const MARGIN: f64 = 0.05;
pub const RECALL_TARGET: f64 = 0.95;

/// The banding for `threshold` within `budget` permutations: of the bandings that make a pair at
/// J = threshold + [`MARGIN`] a candidate with probability ≥ [`RECALL_TARGET`], the one least likely to
/// pair documents at J = threshold − [`MARGIN`] (the sharpest S-curve around the threshold that keeps
/// recall); if no banding reaches the target, the one with the highest probability there. Recall is what
/// LSH cannot recover later; its false positives are what `verify` removes.
///
/// (datasketch's rule — minimise the false positive area below the threshold plus the false negative area
/// above it — puts the curve's midpoint above the threshold: for 0.8 within 128 it picks 9 × 13, which
/// finds a pair at J = 0.85 with probability 0.69.)
pub fn optimal_banding(threshold: f64, budget: usize) -> (usize, usize) {
    let high = (threshold + MARGIN).min((1.0 + threshold) / 2.0);
    let low = (threshold - MARGIN).max(threshold / 2.0);
    let mut best = (1, 1);
    let mut best_key = (false, f64::NEG_INFINITY);
    for bands in 1..=budget {
        for rows in 1..=budget / bands {
            let recall = candidate_probability(high, bands, rows);
            let reaches = recall >= RECALL_TARGET;
            // Reaching the target beats not reaching it; then fewer false positives, or more recall.
            let score = if reaches { -candidate_probability(low, bands, rows) } else { recall };
            if (reaches, score) > best_key {
                best_key = (reaches, score);
                best = (bands, rows);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_dclm_minhash_rs_banding() {
        let params = MinhashConfig::default().lsh_params().unwrap();
        assert_eq!((params.bands, params.rows), (14, 9));
        assert!((params.implied_threshold - 0.746).abs() < 1e-3, "{}", params.implied_threshold);
    }

    #[test]
    fn threshold_picks_a_banding_whose_curve_crosses_near_it() {
        for (threshold, budget) in [(0.5, 128), (0.7, 128), (0.8, 128), (0.9, 256), (0.8, 64)] {
            let config = MinhashConfig { threshold: Some(threshold), permutations: Some(budget), ..Default::default() };
            let params = config.lsh_params().unwrap();
            assert!(params.permutations() <= budget);
            assert_eq!(params.chosen_for, Some(threshold));
            assert!((params.implied_threshold - threshold).abs() < 0.1, "{threshold}: {params}");
            assert!(params.candidate_probability(threshold + MARGIN) >= RECALL_TARGET, "{threshold}: {params}");
            assert!(params.candidate_probability(threshold - 0.2) < 0.25, "{threshold}: {params}");
        }
    }

    #[test]
    fn bad_configurations_say_what_to_change() {
        let bad = |c: MinhashConfig| c.lsh_params().unwrap_err();
        assert_eq!(bad(MinhashConfig { bands: Some(4), ..Default::default() }), MinhashError::HalfBanding);
        assert_eq!(
            bad(MinhashConfig { bands: Some(4), rows: Some(2), threshold: Some(0.8), ..Default::default() }),
            MinhashError::ThresholdAndBanding
        );
        assert_eq!(bad(MinhashConfig { threshold: Some(1.0), ..Default::default() }), MinhashError::Threshold(1.0));
        assert_eq!(
            bad(MinhashConfig { bands: Some(100), rows: Some(100), ..Default::default() }),
            MinhashError::Banding { bands: 100, rows: 100 }
        );
        assert_eq!(bad(MinhashConfig { ngram: 0, ..Default::default() }), MinhashError::Ngram);
        assert_eq!(bad(MinhashConfig { partitions: 0, ..Default::default() }), MinhashError::Partitions(0));
        assert_eq!(
            bad(MinhashConfig { permutations: Some(64), ..Default::default() }),
            MinhashError::PermutationsWithoutThreshold
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<MinhashConfig>(r#"{"treshold": 0.8}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field `treshold`"), "{err}");
        let config: MinhashConfig = serde_json::from_str(r#"{"threshold": 0.8, "verify": true}"#).unwrap();
        assert_eq!(config.threshold, Some(0.8));
        assert!(config.verify);
    }
}

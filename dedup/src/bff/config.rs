//! The BFF stage's parameters, with DCLM's option names (`dedup: {method: bff, …}` in a recipe).

use serde::{Deserialize, Serialize};

use super::error::BffError;
use super::filter::MAX_HASHERS;

/// What BFF removes (DCLM's `--remove-type`). Comparisons are DCLM's, `>` or `≥` as noted: a `0/0` ratio
/// (a unit without n-grams) never removes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemoveType {
    /// DCLM-Baseline's mode (`process_line_oldboth`): paragraph by paragraph, a paragraph whose contained
    /// fraction is `> threshold` is removed, otherwise its n-grams are inserted (so later paragraphs of the
    /// same document see it); then the whole text goes if Σcontained / Σn-grams `> threshold`.
    #[serde(alias = "old_both")]
    OldBoth,
    /// Paragraphs removed as in `old-both`, never the whole document.
    Paragraph,
    /// The whole text is one unit: removed when its contained fraction is `> threshold`.
    Document,
    /// `process_line_both`: n-grams over the whole token stream; the document goes if its contained
    /// fraction is `≥ threshold` (nothing inserted then); otherwise paragraphs with a fraction `≥ threshold`
    /// go, and the text loses its trailing whitespace. DCLM's paragraph index never advances past the first
    /// paragraph, so only the first paragraph can be removed — reproduced.
    Both,
    /// `document` first, then `paragraph` if the document stayed: the document pass inserts its n-grams,
    /// so the paragraph pass finds most of them (DCLM issue #83: removes most text). Reproduced, not advised.
    #[serde(alias = "naive_both")]
    NaiveBoth,
    /// Runs of contained n-grams, merged with DCLM's fuzzy "sandwich" rule (covered fraction
    /// `≥ threshold`), are cut when they span `≥ substr_seqlen` tokens; the text loses leading whitespace
    /// before its first token and trailing whitespace.
    Substring,
    /// The whole text hashed as one key: a text seen before is removed.
    Exact,
}

/// Parameters of the BFF stage. Defaults are DCLM-Baseline's invocation (`old-both`, 13-grams, 0.8,
/// fp 0.01); DCLM's CLI defaults are different (`paragraph`, 20-grams).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BffConfig {
    /// Input document files or folders. Optional in a recipe stage that follows another.
    #[serde(default, skip_serializing)]
    pub input: Vec<String>,
    /// Where to write. Default: `<recipe output>/<stage number>-dedup`.
    #[serde(default, skip_serializing)]
    pub output: Option<String>,
    /// What is removed (see [`RemoveType`]).
    #[serde(default = "default_remove_type")]
    pub remove_type: RemoveType,
    /// A unit (paragraph or text) with fewer tokens than this has no n-gram: never removed, never inserted.
    /// Only matters for units with fewer than `max_ngram_size` tokens, which give one short n-gram.
    #[serde(default = "default_ngram_size")]
    pub min_ngram_size: usize,
    /// The n-gram size.
    #[serde(default = "default_ngram_size")]
    pub max_ngram_size: usize,
    /// The contained fraction of n-grams at which a unit is a duplicate (DCLM's `filtering_threshold`;
    /// `>` or `≥` depending on `remove_type`).
    #[serde(default = "default_threshold", alias = "filtering_threshold")]
    pub threshold: f64,
    /// `substring` only: the shortest run of tokens that is cut.
    #[serde(default = "default_substr_seqlen")]
    pub substr_seqlen: usize,
    /// How many n-grams the filter should hold at `fp_rate` (DCLM's guidance: about the corpus' word count,
    /// overshoot slightly). Sizes a new filter; required unless `bloom_filter_file` is given.
    #[serde(default)]
    pub expected_ngram_count: Option<u64>,
    /// The false-positive rate per n-gram lookup once the filter holds `expected_ngram_count` n-grams.
    #[serde(default = "default_fp_rate")]
    pub fp_rate: f64,
    /// Hashers of a new filter; 0 (default): the optimal number for its size (DCLM's `num_hashers`).
    #[serde(default)]
    pub num_hashers: usize,
    /// Keep every document and its text; add `bff_duplicate_spans` (byte ranges `[start, end)` of the text
    /// that would go) and `bff_contained_ngram_count` to its attributes (`exact`: `bff_exact_duplicate`).
    #[serde(default)]
    pub annotate: bool,
    /// Start from this saved filter (file or URL) instead of an empty one; its size and hashers win over
    /// `expected_ngram_count`, `fp_rate` and `num_hashers`.
    #[serde(default)]
    pub bloom_filter_file: Option<String>,
    /// Write the final filter into the output as `bloom_filter.bff`, committed with the documents.
    #[serde(default)]
    pub save_bloom_filter: bool,
    /// Check n-grams against the filter but never insert any (DCLM's `no_update_bloom_filter`): for
    /// decontamination against a filter built from evaluation data. Needs `bloom_filter_file`.
    #[serde(default, alias = "no_update_bloom_filter")]
    pub read_only: bool,
}

fn default_remove_type() -> RemoveType {
    RemoveType::OldBoth
}
fn default_ngram_size() -> usize {
    13
}
fn default_threshold() -> f64 {
    0.8
}
fn default_substr_seqlen() -> usize {
    50
}
fn default_fp_rate() -> f64 {
    0.01
}

impl Default for BffConfig {
    fn default() -> Self {
        BffConfig {
            input: Vec::new(),
            output: None,
            remove_type: default_remove_type(),
            min_ngram_size: default_ngram_size(),
            max_ngram_size: default_ngram_size(),
            threshold: default_threshold(),
            substr_seqlen: default_substr_seqlen(),
            expected_ngram_count: None,
            fp_rate: default_fp_rate(),
            num_hashers: 0,
            annotate: false,
            bloom_filter_file: None,
            save_bloom_filter: false,
            read_only: false,
        }
    }
}

impl BffConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), BffError> {
        let bad = |message: String| Err(BffError::Config(message));
        if self.min_ngram_size == 0 || self.max_ngram_size == 0 {
            return bad(format!(
                "min_ngram_size and max_ngram_size must be at least 1 (got {} and {})",
                self.min_ngram_size, self.max_ngram_size
            ));
        }
        if self.num_hashers > MAX_HASHERS {
            return bad(format!("num_hashers must be at most {MAX_HASHERS}, not {}", self.num_hashers));
        }
        if !self.threshold.is_finite() {
            return bad(format!("threshold must be a finite number, not {}", self.threshold));
        }
        if self.bloom_filter_file.is_none() {
            match self.expected_ngram_count {
                None => {
                    return bad("expected_ngram_count is required to size a new Bloom filter (about the number \
                                of words in the input; `sluice bff sysreq` shows the RAM it takes), unless \
                                bloom_filter_file gives a saved one"
                        .into())
                }
                Some(0) => return bad("expected_ngram_count must be at least 1".into()),
                Some(_) => {}
            }
            if !(self.fp_rate > 0.0 && self.fp_rate < 1.0) {
                return bad(format!("fp_rate must be between 0 and 1 (exclusive), not {}", self.fp_rate));
            }
            if self.read_only {
                return bad("read_only needs bloom_filter_file: an empty filter that is never filled finds \
                            nothing"
                    .into());
            }
        }
        Ok(())
    }
}

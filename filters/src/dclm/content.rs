//! Whole-page filters and the word counter: lengths, ratios and stop words.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_core::Document;

use crate::error::FilterError;
use crate::lists;
use crate::step::{keep_if, prepare_once, Step, Verdict, NOT_PREPARED};
use crate::text::{self, word_count};

/// DCLM's `split_paragraphs(text, "\n")`: lines, each Python-stripped, empty ones removed.
fn stripped_lines(text: &str) -> Vec<&str> {
    text.split('\n').map(text::strip).filter(|l| !l.is_empty()).collect()
}

fn infinity() -> f64 {
    f64::INFINITY
}

/// How `page_length_filter` measures a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthType {
    /// fastText words (see [`word_count`]).
    Word,
    /// Code points.
    Char,
    /// Non-empty lines.
    Line,
    /// Non-empty paragraphs (separated by `\n\n`).
    Paragraph,
}

/// `page_length_filter`: drops pages shorter than `min_length` or longer than `max_length` units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageLengthFilter {
    pub length_type: LengthType,
    #[serde(default = "one")]
    pub min_length: f64,
    #[serde(default = "infinity")]
    pub max_length: f64,
    /// Word counts only: count only tokens that start with an alphanumeric character.
    #[serde(default)]
    pub ignore_punctuation: bool,
}

fn one() -> f64 {
    1.0
}

impl Step for PageLengthFilter {
    fn name(&self) -> &'static str {
        "page_length_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let length = match self.length_type {
            LengthType::Word => word_count(&doc.text, self.ignore_punctuation),
            LengthType::Char => text::len(&doc.text),
            LengthType::Line => stripped_lines(&doc.text).len(),
            LengthType::Paragraph => doc.text.split("\n\n").filter(|p| !text::strip(p).is_empty()).count(),
        } as f64;
        keep_if(!(length < self.min_length || length > self.max_length))
    }
}

/// `word_length_filter`: drops pages whose mean word length (code points, `str.split()` words) is outside
/// `[min_length, max_length]`, and pages without words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordLengthFilter {
    #[serde(default)]
    pub min_length: f64,
    #[serde(default = "infinity")]
    pub max_length: f64,
}

impl Step for WordLengthFilter {
    fn name(&self) -> &'static str {
        "word_length_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let (mut words, mut chars) = (0usize, 0usize);
        for word in text::split(&doc.text) {
            words += 1;
            chars += text::len(word);
        }
        if words == 0 {
            return Verdict::Drop;
        }
        let mean = chars as f64 / words as f64;
        keep_if(!(mean < self.min_length || mean > self.max_length))
    }
}

/// `symbol_ratio_filter`: drops pages where (`#` + `...` + `. . .` + `…`, counted as non-overlapping
/// substrings) per `str.split()` word exceeds the ratio, and pages without words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolRatioFilter {
    #[serde(default = "point_one")]
    pub max_symbol_to_word_ratio: f64,
}

fn point_one() -> f64 {
    0.1
}

impl Step for SymbolRatioFilter {
    fn name(&self) -> &'static str {
        "symbol_ratio_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let symbols: usize = ["#", "...", ". . .", "\u{2026}"].iter().map(|s| doc.text.matches(s).count()).sum();
        let words = text::split(&doc.text).count();
        keep_if(!(words == 0 || symbols as f64 / words as f64 > self.max_symbol_to_word_ratio))
    }
}

/// `bullet_count_filter`: drops pages where more than the ratio of non-empty lines start with a bullet
/// (`●`, `•`, `*`, `-`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulletCountFilter {
    #[serde(default = "point_nine")]
    pub max_bullet_start_ratio: f64,
}

fn point_nine() -> f64 {
    0.9
}

impl Step for BulletCountFilter {
    fn name(&self) -> &'static str {
        "bullet_count_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let lines = stripped_lines(&doc.text);
        let bullets = lines.iter().filter(|l| ['●', '•', '*', '-'].iter().any(|b| l.starts_with(*b))).count();
        keep_if(bullets as f64 <= self.max_bullet_start_ratio * lines.len() as f64)
    }
}

/// `ellipsis_count_filter`: drops pages where more than the ratio of non-empty lines end with `...`,
/// `. . .` or `…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EllipsisCountFilter {
    #[serde(default = "point_three")]
    pub max_ellipsis_end_ratio: f64,
}

fn point_three() -> f64 {
    0.3
}

impl Step for EllipsisCountFilter {
    fn name(&self) -> &'static str {
        "ellipsis_count_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let lines = stripped_lines(&doc.text);
        let ellipses = lines.iter().filter(|l| ["...", ". . .", "\u{2026}"].iter().any(|e| l.ends_with(e))).count();
        keep_if(ellipses as f64 <= self.max_ellipsis_end_ratio * lines.len() as f64)
    }
}

/// `alphabetic_word_ratio_filter`: drops pages where more than the ratio of `str.split()` words have no
/// alphabetic character, and pages without words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlphabeticWordRatioFilter {
    #[serde(default = "point_two")]
    pub max_ratio: f64,
}

fn point_two() -> f64 {
    0.2
}

impl Step for AlphabeticWordRatioFilter {
    fn name(&self) -> &'static str {
        "alphabetic_word_ratio_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let (mut words, mut non_alpha) = (0usize, 0usize);
        for word in text::split(&doc.text) {
            words += 1;
            non_alpha += usize::from(!word.chars().any(text::is_alpha));
        }
        keep_if(words > 0 && non_alpha as f64 / words as f64 <= self.max_ratio)
    }
}

/// `stop_word_filter`: keeps pages with at least `min_stop_word` of the, be, to, of, and, that, have, with
/// (`str.split()` words, lower-cased; every occurrence counts unless `count_unique`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopWordFilter {
    #[serde(default)]
    pub count_unique: bool,
    #[serde(default = "two")]
    pub min_stop_word: usize,
}

fn two() -> usize {
    2
}

const STOP_WORDS: [&str; 8] = ["the", "be", "to", "of", "and", "that", "have", "with"];

impl Step for StopWordFilter {
    fn name(&self) -> &'static str {
        "stop_word_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let mut seen = [false; 8];
        let mut count = 0;
        for word in text::split(&doc.text) {
            // Only words of 2–4 characters can be stop words; skip lower-casing everything else.
            if word.len() > 16 {
                continue;
            }
            let lower = word.to_lowercase();
            if let Some(i) = STOP_WORDS.iter().position(|s| *s == lower) {
                if self.count_unique {
                    count += usize::from(!seen[i]);
                    seen[i] = true;
                } else {
                    count += 1;
                }
                if count >= self.min_stop_word {
                    return Verdict::Keep;
                }
            }
        }
        Verdict::Drop
    }
}

/// `word_counter_enricher`: stores the page's word count (fastText words) in `attributes[key]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordCounterEnricher {
    #[serde(default = "default_count_key")]
    pub key: String,
    #[serde(default)]
    pub overwrite: bool,
    #[serde(default = "yes")]
    pub ignore_punctuation: bool,
}

fn default_count_key() -> String {
    "word_count".into()
}

fn yes() -> bool {
    true
}

impl Step for WordCounterEnricher {
    fn name(&self) -> &'static str {
        "word_counter_enricher"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        if !self.overwrite && doc.attributes.contains_key(&self.key) {
            return Verdict::Error("word_count_exists");
        }
        let count = word_count(&doc.text, self.ignore_punctuation);
        doc.attributes.insert(self.key.clone(), Value::from(count));
        Verdict::Keep
    }
}

/// `word_removal_ratio_filter`: drops pages that lost more than `max_removed_ratio` of their words since
/// `attributes[prev_word_count_key]` was counted (and pages whose earlier count is 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordRemovalRatioFilter {
    pub prev_word_count_key: String,
    #[serde(default)]
    pub new_word_count_key: Option<String>,
    #[serde(default = "point_zero_five")]
    pub max_removed_ratio: f64,
    #[serde(default = "yes")]
    pub ignore_punctuation: bool,
}

fn point_zero_five() -> f64 {
    0.05
}

impl Step for WordRemovalRatioFilter {
    fn name(&self) -> &'static str {
        "word_removal_ratio_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let Some(previous) = doc.attributes.get(&self.prev_word_count_key).and_then(Value::as_f64) else {
            return Verdict::Error("missing_previous_word_count");
        };
        if previous == 0.0 {
            return Verdict::Drop;
        }
        let stored = self.new_word_count_key.as_ref().and_then(|k| doc.attributes.get(k)).and_then(Value::as_f64);
        let current = stored.unwrap_or_else(|| word_count(&doc.text, self.ignore_punctuation) as f64);
        keep_if((previous - current) / previous <= self.max_removed_ratio)
    }
}

/// `substring_filter` (C4's lorem-ipsum and curly-brace rules, bad-word lists): drops pages that contain a
/// banned string (anywhere, at the start, or at the end; optionally as a whole word). As in DCLM, the
/// banned strings go into the regex unescaped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubstringFilterParams {
    #[serde(default)]
    pub banlist: Option<crate::dclm::lines::Banlist>,
    #[serde(default)]
    pub banlist_from_fname: Option<String>,
    #[serde(default)]
    pub location: crate::dclm::lines::Location,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub exact_word: bool,
}

///
/// A list file is read and the pattern built in [`Step::prepare`].
#[derive(Clone)]
pub struct SubstringFilter {
    params: SubstringFilterParams,
    pattern: OnceLock<regex::Regex>,
}

const SUBSTRING_FILTER: &str = "substring_filter";

impl SubstringFilter {
    /// Checks the parameters; nothing is read until [`Step::prepare`].
    pub fn new(params: SubstringFilterParams) -> Result<Self, FilterError> {
        if params.banlist.is_none() && params.banlist_from_fname.is_none() {
            return Err(FilterError::Params {
                step: SUBSTRING_FILTER,
                message: "needs `banlist` or `banlist_from_fname`".into(),
            });
        }
        Ok(SubstringFilter { params, pattern: OnceLock::new() })
    }

    fn build_pattern(&self) -> Result<regex::Regex, FilterError> {
        use crate::dclm::lines::{Banlist, Location};
        let params = &self.params;
        let banned: Vec<String> = match (&params.banlist_from_fname, &params.banlist) {
            (Some(path), _) => lists::read_lines(SUBSTRING_FILTER, path)?,
            (None, Some(Banlist::One(one))) => vec![one.clone()],
            (None, Some(Banlist::Many(many))) => many.clone(),
            (None, None) => unreachable!("checked in SubstringFilter::new"),
        };
        let banned: Vec<String> =
            if params.case_sensitive { banned } else { banned.iter().map(|b| b.to_lowercase()).collect() };
        let mut source = format!("(?:{})", banned.join("|"));
        if params.exact_word {
            source = format!(r"\b{source}\b");
        }
        source = match params.location {
            Location::Prefix => format!("^{source}"),
            Location::Suffix => format!("{source}$"),
            Location::Any => source,
        };
        regex::Regex::new(&source).map_err(|source| FilterError::Pattern { step: SUBSTRING_FILTER, source })
    }
}

impl Step for SubstringFilter {
    fn name(&self) -> &'static str {
        SUBSTRING_FILTER
    }

    fn referenced_files(&self) -> Vec<String> {
        self.params.banlist_from_fname.iter().filter_map(|path| lists::referenced_file(path)).collect()
    }

    fn prepare(&self) -> Result<(), FilterError> {
        prepare_once(&self.pattern, || self.build_pattern())
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let Some(pattern) = self.pattern.get() else { return Verdict::Error(NOT_PREPARED) };
        let found = if self.params.case_sensitive {
            pattern.is_match(&doc.text)
        } else {
            pattern.is_match(&doc.text.to_lowercase())
        };
        keep_if(!found)
    }
}

impl Serialize for SubstringFilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SubstringFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SubstringFilter::new(SubstringFilterParams::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Debug for SubstringFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubstringFilter").field("params", &self.params).finish()
    }
}

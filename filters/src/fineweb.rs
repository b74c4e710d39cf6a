//! FineWeb's quality rules (Penedo et al. 2024; datatrove's `FineWebQualityFilter`).
//!
//! The thresholds are FineWeb's. One deliberate difference: datatrove counts words with spaCy's tokenizer;
//! sluice uses UAX-29 word segments (whitespace dropped, punctuation kept as tokens, like spaCy's), so the
//! list-ratio rule can decide differently on borderline pages. The terminal punctuation set is the common one
//! (`. ! ? " … 。 ！ ？ ؟ ।` and friends) rather than datatrove's full list.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sluice_core::Document;
use unicode_segmentation::UnicodeSegmentation;

use crate::step::{keep_unless_check, Step, Verdict};
use crate::text;

const TERMINAL: [char; 14] = [
    '.', '!', '?', '"', '\u{2026}', '\u{3002}', '\u{ff01}', '\u{ff1f}', '\u{61f}', '\u{964}', '\u{965}', '\u{ff0e}',
    '\u{203c}', '\u{2049}',
];

/// `fineweb_quality_filter`: drops pages where too few lines end in punctuation, too many lines are short,
/// too many characters sit in duplicated lines, or there are too many newlines per word (lists). The drop
/// reason names the check, as datatrove does: `line_punct_ratio`, `short_line_ratio`, `char_dup_ratio`,
/// `list_ratio` (and `empty` for a page without a non-empty line).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinewebQualityFilter {
    #[serde(default = "line_punct")]
    pub line_punct_thr: f64,
    #[serde(default)]
    pub line_punct_exclude_zero: bool,
    #[serde(default = "short_line")]
    pub short_line_thr: f64,
    #[serde(default = "short_line_length")]
    pub short_line_length: usize,
    #[serde(default = "char_duplicates")]
    pub char_duplicates_ratio: f64,
    #[serde(default = "new_line")]
    pub new_line_ratio: f64,
}

fn line_punct() -> f64 {
    0.12
}
fn short_line() -> f64 {
    0.67
}
fn short_line_length() -> usize {
    30
}
fn char_duplicates() -> f64 {
    0.01
}
fn new_line() -> f64 {
    0.3
}

impl Step for FinewebQualityFilter {
    fn name(&self) -> &'static str {
        "fineweb_quality_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let lines: Vec<&str> = doc.text.split('\n').filter(|l| !text::strip(l).is_empty()).collect();
        if lines.is_empty() {
            return Verdict::DropCheck("empty");
        }
        let n = lines.len() as f64;
        let punctuated = lines.iter().filter(|l| l.ends_with(TERMINAL)).count() as f64 / n;
        if punctuated < self.line_punct_thr && !(punctuated == 0.0 && self.line_punct_exclude_zero) {
            return Verdict::DropCheck("line_punct_ratio");
        }
        let short = lines.iter().filter(|l| text::len(l) <= self.short_line_length).count() as f64 / n;
        if short > self.short_line_thr {
            return Verdict::DropCheck("short_line_ratio");
        }
        let mut seen = HashSet::new();
        let duplicate_chars: usize = lines.iter().filter(|l| !seen.insert(**l)).map(|l| text::len(l)).sum();
        let chars = text::len(&doc.text) - doc.text.matches('\n').count();
        if chars == 0 || duplicate_chars as f64 / chars as f64 > self.char_duplicates_ratio {
            return Verdict::DropCheck("char_dup_ratio");
        }
        let words = doc.text.split_word_bounds().filter(|w| !text::strip(w).is_empty()).count();
        let list_like = words == 0 || doc.text.matches('\n').count() as f64 / words as f64 > self.new_line_ratio;
        keep_unless_check(!list_like, "list_ratio")
    }
}

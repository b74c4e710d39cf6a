//! `massive_web_repetition_filters`: Gopher's repetition checks (Rae et al. 2021) as DCLM implements them.

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};
use sluice_core::Document;
use unicode_segmentation::UnicodeSegmentation;

use crate::step::{Step, Verdict};
use crate::text;

/// Drops a page if any of 13 checks finds too much repetition, in DCLM's order: duplicated lines and
/// paragraphs (share of segments, then share of characters), the most frequent 2/3/4-gram's share of
/// characters, and the share of characters covered by repeated 5…10-grams.
///
/// Words are UAX-29 word segments (DCLM uses `uniseg`) whose first character is alphanumeric; lengths are
/// in code points; a page with no non-empty line fails, a page of one line or paragraph passes that check.
///
/// The drop reason names the check that failed, with datatrove's names for Gopher's checks:
/// `dup_line_frac`, `dup_para_frac`, `dup_line_char_frac`, `dup_para_char_frac`, `top_{2,3,4}_gram`,
/// `duplicated_{5…10}_n_grams`, and `empty` for a page without a non-empty line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MassiveWebRepetitionFilters {
    /// Skip the paragraph checks (for text whose extraction does not tell lines from paragraphs).
    #[serde(default)]
    pub skip_paragraph: bool,
}

/// (n, threshold, check name) of the n-gram checks; n ≤ 4 measure the most common n-gram, n ≥ 5 all
/// repeated ones.
const NGRAM_CHECKS: [(usize, f64, &str); 9] = [
    (2, 0.20, "top_2_gram"),
    (3, 0.18, "top_3_gram"),
    (4, 0.16, "top_4_gram"),
    (5, 0.15, "duplicated_5_n_grams"),
    (6, 0.14, "duplicated_6_n_grams"),
    (7, 0.13, "duplicated_7_n_grams"),
    (8, 0.12, "duplicated_8_n_grams"),
    (9, 0.11, "duplicated_9_n_grams"),
    (10, 0.10, "duplicated_10_n_grams"),
];

/// The check name of a page without a non-empty line.
const EMPTY: &str = "empty";

impl Step for MassiveWebRepetitionFilters {
    fn name(&self) -> &'static str {
        "massive_web_repetition_filters"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        match failed_check(&doc.text, self.skip_paragraph) {
            None => Verdict::Keep,
            Some(check) => Verdict::DropCheck(check),
        }
    }
}

/// The first check the page fails, if any.
fn failed_check(text: &str, skip_paragraph: bool) -> Option<&'static str> {
    if text.is_empty() {
        return Some(EMPTY);
    }
    let lines = Segments::new(text, "\n");
    if lines.segments.is_empty() {
        return Some(EMPTY);
    }
    let paragraphs = (!skip_paragraph).then(|| Segments::new(text, "\n\n"));
    let segment_checks = [
        (Some(&lines), false, 0.3, "dup_line_frac"),
        (paragraphs.as_ref(), false, 0.3, "dup_para_frac"),
        (Some(&lines), true, 0.2, "dup_line_char_frac"),
        (paragraphs.as_ref(), true, 0.2, "dup_para_char_frac"),
    ];
    for (segments, by_chars, threshold, check) in segment_checks {
        if segments.is_some_and(|s| !s.passes(by_chars, threshold)) {
            return Some(check);
        }
    }
    let words = Words::new(text);
    NGRAM_CHECKS.iter().find(|&&(n, threshold, _)| words.repeated_fraction(n) > threshold).map(|(_, _, check)| *check)
}

/// Non-empty stripped segments (lines or paragraphs) with their duplicate counts.
struct Segments<'a> {
    segments: Vec<&'a str>,
}

impl<'a> Segments<'a> {
    fn new(text: &'a str, separator: &str) -> Self {
        Segments { segments: text.split(separator).map(text::strip).filter(|s| !s.is_empty()).collect() }
    }

    fn passes(&self, by_chars: bool, threshold: f64) -> bool {
        match self.segments.len() {
            0 => return false,
            1 => return true,
            _ => {}
        }
        let mut counts: HashMap<&str, usize> = HashMap::default();
        for segment in &self.segments {
            *counts.entry(segment).or_default() += 1;
        }
        let fraction = if by_chars {
            let total: usize = self.segments.iter().map(|s| text::len(s)).sum();
            let repeated: usize = counts.iter().filter(|(_, c)| **c > 1).map(|(s, c)| text::len(s) * c).sum();
            repeated as f64 / total as f64
        } else {
            let repeated: usize = counts.values().filter(|c| **c > 1).sum();
            repeated as f64 / self.segments.len() as f64
        };
        fraction <= threshold
    }
}

/// The page's words as ids (equal words, equal ids) with their lengths in code points.
struct Words {
    ids: Vec<u32>,
    lengths: Vec<usize>,
    total_chars: usize,
}

impl Words {
    fn new(text: &str) -> Self {
        let mut vocabulary: HashMap<&str, u32> = HashMap::default();
        let (mut ids, mut lengths) = (Vec::new(), Vec::new());
        for word in text.split_word_bounds().filter(|w| w.chars().next().is_some_and(text::is_alnum)) {
            let next = vocabulary.len() as u32;
            ids.push(*vocabulary.entry(word).or_insert(next));
            lengths.push(text::len(word));
        }
        let total_chars = lengths.iter().sum();
        Words { ids, lengths, total_chars }
    }

    /// The repeated share of characters for n-grams (0 when nothing repeats).
    fn repeated_fraction(&self, n: usize) -> f64 {
        if self.ids.len() < n {
            return 0.0;
        }
        // Count n-grams, remembering first occurrences for Python's most_common() tie order.
        let mut counts: HashMap<&[u32], (usize, usize)> = HashMap::default();
        for (position, gram) in self.ids.windows(n).enumerate() {
            counts.entry(gram).or_insert((0, position)).0 += 1;
        }
        let max_count = counts.values().map(|(c, _)| *c).max().unwrap_or(0);
        if max_count <= 1 {
            return 0.0;
        }
        let repeated_chars = if n <= 4 {
            // Characters of the most common n-gram (the longest one, among equally common n-grams).
            let length = counts
                .iter()
                .filter(|(_, (c, _))| *c == max_count)
                .map(|(_, (_, first))| self.lengths[*first..*first + n].iter().sum::<usize>())
                .max()
                .unwrap_or(0);
            length * max_count
        } else {
            // Characters of every word covered by a repeated n-gram, each word once.
            let mut covered = vec![false; self.ids.len()];
            for (position, gram) in self.ids.windows(n).enumerate() {
                if counts[gram].0 > 1 {
                    covered[position..position + n].iter_mut().for_each(|c| *c = true);
                }
            }
            covered.iter().zip(&self.lengths).filter(|(c, _)| **c).map(|(_, l)| l).sum()
        };
        repeated_chars as f64 / self.total_chars as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Option<&'static str> {
        failed_check(text, false)
    }

    #[test]
    fn each_failed_check_is_named() {
        let distinct: Vec<String> = (0..40).map(|i| format!("w{i}ord")).collect();
        let distinct = distinct.join(" ");
        assert_eq!(check(&distinct), None);
        assert_eq!(check(""), Some("empty"));
        assert_eq!(check(" \n\t\n"), Some("empty"));
        assert_eq!(check("Share this\nShare this\nShare this\nA different line"), Some("dup_line_frac"));
        // Two duplicated lines of ten (0.2 ≤ 0.3), but they hold most of the characters.
        let long = distinct.as_str();
        let lines = format!("{long}\n{long}\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight");
        assert_eq!(check(&lines), Some("dup_line_char_frac"));
        assert_eq!(check("alpha beta gamma delta alpha beta epsilon zeta alpha beta eta theta"), Some("top_2_gram"));
        // One 5-gram of long words, twice, in ~530 characters: 17 % of them, while its 4-grams hold 14 %.
        let phrase = "remarkable waterways connecting European capitals";
        let text = format!(
            "{distinct} {phrase} {} {phrase}",
            (40..75).map(|i| format!("x{i}ord")).collect::<Vec<_>>().join(" ")
        );
        assert_eq!(check(&text), Some("duplicated_5_n_grams"));
        assert_eq!(failed_check(&lines, true), Some("dup_line_char_frac"));
    }
}

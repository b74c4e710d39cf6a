//! `massive_web_repetition_filters`: Gopher's repetition checks (Rae et al. 2021) as DCLM implements them.

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};
use sluice_core::Document;
use unicode_segmentation::UnicodeSegmentation;

use crate::step::{keep_if, Step, Verdict};
use crate::text;

/// Drops a page if any of 13 checks finds too much repetition, in DCLM's order: duplicated lines and
/// paragraphs (share of segments, then share of characters), the most frequent 2/3/4-gram's share of
/// characters, and the share of characters covered by repeated 5…10-grams.
///
/// Words are UAX-29 word segments (DCLM uses `uniseg`) whose first character is alphanumeric; lengths are
/// in code points; a page with no non-empty line fails, a page of one line or paragraph passes that check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MassiveWebRepetitionFilters {
    /// Skip the paragraph checks (for text whose extraction does not tell lines from paragraphs).
    #[serde(default)]
    pub skip_paragraph: bool,
}

/// (n, threshold) of the n-gram checks; n ≤ 4 measure the most common n-gram, n ≥ 5 all repeated ones.
const NGRAM_CHECKS: [(usize, f64); 9] =
    [(2, 0.20), (3, 0.18), (4, 0.16), (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)];

impl Step for MassiveWebRepetitionFilters {
    fn name(&self) -> &'static str {
        "massive_web_repetition_filters"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        keep_if(passes(&doc.text, self.skip_paragraph))
    }
}

fn passes(text: &str, skip_paragraph: bool) -> bool {
    if text.is_empty() {
        return false;
    }
    let lines = Segments::new(text, "\n");
    let paragraphs = (!skip_paragraph).then(|| Segments::new(text, "\n\n"));
    let segment_checks = [
        (&Some(lines.clone()), false, 0.3),
        (&paragraphs, false, 0.3),
        (&Some(lines), true, 0.2),
        (&paragraphs, true, 0.2),
    ];
    for (segments, by_chars, threshold) in segment_checks {
        if let Some(segments) = segments {
            if !segments.passes(by_chars, threshold) {
                return false;
            }
        }
    }
    let words = Words::new(text);
    NGRAM_CHECKS.iter().all(|&(n, threshold)| words.repeated_fraction(n) <= threshold)
}

/// Non-empty stripped segments (lines or paragraphs) with their duplicate counts.
#[derive(Clone)]
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

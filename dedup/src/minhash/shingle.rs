//! Shingles: SlimPajama's text normalisation (DCLM's `minhash-rs` `clean_text`), then word n-grams, each
//! hashed once with xxh3-64 — in one pass over the text into reused buffers.
//!
//! Normalisation, as Python's `re.sub(r"\s+", " ", s.lower().translate(<delete string.punctuation>)).strip()`:
//! lower-case (full Unicode mapping, `str.lower`), delete the 32 ASCII characters of `string.punctuation`,
//! collapse every run of whitespace (Python's `str.isspace`: Unicode White_Space plus U+001C..U+001F) to
//! one space, trim. Words are then the space-separated pieces, and shingle *i* is the text of words
//! *i*..*i+n−1* (with their single spaces): a slice of the normalised text, hashed in place.

use xxhash_rust::xxh3::xxh3_64;

/// Python's `string.punctuation`.
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// What an ASCII byte does in normalisation.
#[derive(Clone, Copy, PartialEq)]
enum Class {
    Keep,
    Delete,
    Space,
}

const ASCII_CLASS: [Class; 128] = {
    let mut table = [Class::Keep; 128];
    let punctuation = PUNCTUATION.as_bytes();
    let mut i = 0;
    while i < punctuation.len() {
        table[punctuation[i] as usize] = Class::Delete;
        i += 1;
    }
    // Python's str.isspace() on ASCII: \t \n \v \f \r, the four separators U+001C..U+001F, and space.
    let spaces = [9u8, 10, 11, 12, 13, 28, 29, 30, 31, 32];
    let mut i = 0;
    while i < spaces.len() {
        table[spaces[i] as usize] = Class::Space;
        i += 1;
    }
    table
};

fn class_of(c: char) -> Class {
    if c.is_ascii() {
        ASCII_CLASS[c as usize]
    } else if c.is_whitespace() {
        // Unicode White_Space beyond ASCII is exactly Python's isspace() set beyond ASCII.
        Class::Space
    } else {
        Class::Keep
    }
}

/// Turns documents into shingle hashes, reusing its buffers from one document to the next.
#[derive(Debug)]
pub struct Shingler {
    ngram: usize,
    lowered: String,
    normalized: String,
    /// Byte range of each word in `normalized`.
    words: Vec<(u32, u32)>,
    hashes: Vec<u64>,
}

impl Shingler {
    /// Word `ngram`-grams (`ngram` ≥ 1).
    pub fn new(ngram: usize) -> Self {
        Shingler {
            ngram: ngram.max(1),
            lowered: String::new(),
            normalized: String::new(),
            words: Vec::new(),
            hashes: Vec::new(),
        }
    }

    /// The normalised text of the last [`Shingler::normalize`] or [`Shingler::hashes`] call.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Normalises `text` (see the module docs) and splits it into words; returns the word count.
    pub fn normalize(&mut self, text: &str) -> usize {
        self.normalized.clear();
        self.words.clear();
        let source: &str = if text.is_ascii() {
            text
        } else {
            // str::to_lowercase is Python's str.lower(): full mappings (İ → i̇) and the final-sigma rule.
            self.lowered.clear();
            self.lowered.push_str(&text.to_lowercase());
            &self.lowered
        };
        let mut word_start: Option<usize> = None;
        let mut pending_space = false;
        for c in source.chars() {
            match class_of(c) {
                Class::Delete => {}
                Class::Space => {
                    if let Some(start) = word_start.take() {
                        self.words.push((start as u32, self.normalized.len() as u32));
                        pending_space = true;
                    }
                }
                Class::Keep => {
                    if word_start.is_none() {
                        if pending_space {
                            self.normalized.push(' ');
                            pending_space = false;
                        }
                        word_start = Some(self.normalized.len());
                    }
                    self.normalized.push(c.to_ascii_lowercase());
                }
            }
        }
        if let Some(start) = word_start {
            self.words.push((start as u32, self.normalized.len() as u32));
        }
        self.words.len()
    }

    /// The xxh3-64 hash of every shingle of `text`, in text order (repeats included: they change no
    /// minimum). Empty when the text has no words; one hash (of all its words) when it has fewer than
    /// `ngram`.
    pub fn hashes(&mut self, text: &str) -> &[u64] {
        let words = self.normalize(text);
        self.hashes.clear();
        if words == 0 {
            return &self.hashes;
        }
        let bytes = self.normalized.as_bytes();
        if words < self.ngram {
            self.hashes.push(xxh3_64(bytes));
            return &self.hashes;
        }
        let n = self.ngram;
        self.hashes.reserve(words + 1 - n);
        for (first, last) in self.words.iter().zip(&self.words[n - 1..]) {
            self.hashes.push(xxh3_64(&bytes[first.0 as usize..last.1 as usize]));
        }
        &self.hashes
    }

    /// The set of shingle hashes of `text`, sorted and without repeats (what exact Jaccard compares).
    pub fn set(&mut self, text: &str) -> Vec<u64> {
        let mut set = self.hashes(text).to_vec();
        set.sort_unstable();
        set.dedup();
        set
    }
}

/// The exact Jaccard similarity of two sorted, repeat-free sets (1 for two empty sets).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow, literal reading of SlimPajama's `clean_text`.
    fn python_clean(text: &str) -> String {
        let lowered: String = text.to_lowercase().chars().filter(|c| !PUNCTUATION.contains(*c)).collect();
        let is_space = |c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c);
        lowered.split(is_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn normalisation_is_slimpajamas_clean_text() {
        let cases = [
            "Hello, World!  It's   a \"test\"...",
            "  \t\nleading and trailing\r\n ",
            "Ünïcödé ΣΊΣΥΦΟΣ café—naïve «quotes» and\u{a0}nbsp\u{3000}ideographic",
            "separators\u{1c}\u{1d}\u{1e}\u{1f}split words; \u{200b}zero width stays",
            "İstanbul ΟΔΟΣ",
            "a-b_c.d/e",
            "!!! ??? ...",
            "",
        ];
        let mut shingler = Shingler::new(5);
        for case in cases {
            shingler.normalize(case);
            assert_eq!(shingler.normalized(), python_clean(case), "{case:?}");
        }
        shingler.normalize("Don't STOP-me now, (please)!");
        assert_eq!(shingler.normalized(), "dont stopme now please");
    }

    #[test]
    fn shingles_are_word_ngrams_of_the_normalised_text() {
        let mut shingler = Shingler::new(3);
        let hashes = shingler.hashes("The quick, brown fox jumps.").to_vec();
        let expected: Vec<u64> =
            ["the quick brown", "quick brown fox", "brown fox jumps"].iter().map(|s| xxh3_64(s.as_bytes())).collect();
        assert_eq!(hashes, expected);
        // Fewer words than n: one shingle of all of them.
        assert_eq!(shingler.hashes("Two words").to_vec(), vec![xxh3_64(b"two words")]);
        // No words: no shingles.
        assert!(shingler.hashes(" \n\t ... ").is_empty());
        assert!(shingler.hashes("").is_empty());
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
        let mut shingler = Shingler::new(2);
        let a = shingler.set("a b c a b c");
        assert_eq!(a.len(), 3); // "a b", "b c", "c a"
    }
}

//! Tokens and n-gram keys, as DCLM's bff defines them.
//!
//! * A token is a UAX-29 word-boundary segment (`unicode_segmentation::split_word_bounds`) that holds at
//!   least one non-whitespace character (DCLM's `tokenize` / `not_whitespace`): words **and**
//!   punctuation are tokens, whitespace runs are not; no case folding or normalisation.
//! * A unit (paragraph, or the whole text) gives one n-gram per window of `max` consecutive tokens, stride
//!   one; a unit with fewer than `max` tokens but at least `min` gives one short n-gram of all its tokens;
//!   a unit with fewer than `min` gives none.
//! * An n-gram's key is 128 bits: each token is hashed once (xxh3-64 of its UTF-8 bytes), and the key is
//!   the xxh3-128 of the window's token hashes. DCLM hashes the n-gram's strings `k` times instead; what is
//!   equal is the same (the same token sequence, whatever the whitespace between tokens), and two distinct
//!   n-grams share a key only through a 64-bit token-hash or 128-bit key collision, far rarer than the
//!   Bloom filter's own false positives.

use unicode_segmentation::UnicodeSegmentation;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// An n-gram's 128-bit key (see the module docs).
pub type NgramKey = u128;

/// DCLM's `not_whitespace`: the segment has a character that is not Unicode White_Space.
#[inline]
fn is_token(segment: &str) -> bool {
    // Word-bound segments are mostly ASCII words: decide on the first byte when it is ASCII.
    match segment.as_bytes().first() {
        Some(&b) if b.is_ascii() && !b.is_ascii_whitespace() && b != 0x0B => true,
        _ => segment.chars().any(|c| !c.is_whitespace()),
    }
}

/// DCLM's `tokenize`: the tokens of `text`, in order.
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split_word_bounds().filter(|s| is_token(s))
}

/// Calls `f` with each token of `text` and its byte offset, in order: [`token_indices`], with a fast path
/// for ASCII text (most of it), proven equal by the tests.
#[inline]
pub fn for_each_token<'a>(text: &'a str, mut f: impl FnMut(usize, &'a str)) {
    if text.is_ascii() {
        ascii_tokens(text, f);
    } else {
        token_indices(text).for_each(|(offset, token)| f(offset, token));
    }
}

/// UAX-29 word boundaries restricted to ASCII, as unicode-segmentation's own ASCII path computes them
/// (`AsciiWordBoundIter`), keeping only segments with a non-whitespace byte. In ASCII, the segments are:
/// runs of letters, digits and `_` joined across `.` `'` `:` between letters (WB6/7) and `.` `,` `;` `'`
/// between digits (WB11/12); runs of spaces (WB3d) and CR LF (WB3), both whitespace; every other byte
/// alone (WB999).
fn ascii_tokens<'a>(text: &'a str, mut f: impl FnMut(usize, &'a str)) {
    let bytes = text.as_bytes();
    let core = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let infix = |b: u8, prev: u8, next: u8| match b {
        b'.' | b',' | b';' | b'\'' if prev.is_ascii_digit() && next.is_ascii_digit() => true,
        b'\'' | b'.' | b':' => prev.is_ascii_alphabetic() && next.is_ascii_alphabetic(),
        _ => false,
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if core(b) {
            let start = i;
            i += 1;
            while i < bytes.len()
                && (core(bytes[i]) || (i + 1 < bytes.len() && infix(bytes[i], bytes[i - 1], bytes[i + 1])))
            {
                i += 1;
            }
            f(start, &text[start..i]);
        } else {
            // Spaces, tabs, CR, LF, VT and FF are whitespace segments (a space run or CR LF is one
            // segment, but none is a token either way); any other byte is a one-byte token.
            if !matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
                f(i, &text[i..i + 1]);
            }
            i += 1;
        }
    }
}

/// DCLM's `tokenize_indices`: the tokens of `text` with their byte offsets.
pub fn token_indices(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_word_bound_indices().filter(|(_, s)| is_token(s))
}

/// The key of the n-gram made of the single "token" `text`: DCLM's `exact` mode hashes the whole text as a
/// one-element n-gram.
pub fn whole_text_key(text: &str) -> NgramKey {
    xxh3_128(&xxh3_64(text.as_bytes()).to_le_bytes())
}

/// Reusable buffers for hashing the n-grams of one text (one per thread).
#[derive(Default)]
pub struct NgramHasher {
    /// Each token's hash as 8 little-endian bytes, so a window's key hashes a slice of this.
    token_hashes: Vec<u8>,
    /// Each token's byte offset (filled by [`NgramHasher::hash_tokens_with_offsets`]).
    offsets: Vec<usize>,
}

impl NgramHasher {
    /// Hashes the tokens of `text`; returns their count.
    fn hash_tokens(&mut self, text: &str) -> usize {
        self.token_hashes.clear();
        let hashes = &mut self.token_hashes;
        for_each_token(text, |_, token| hashes.extend_from_slice(&xxh3_64(token.as_bytes()).to_le_bytes()));
        self.token_hashes.len() / 8
    }

    /// Hashes the tokens of `text` and records their byte offsets; returns their count.
    pub fn hash_tokens_with_offsets(&mut self, text: &str) -> usize {
        self.token_hashes.clear();
        self.offsets.clear();
        let (hashes, offsets) = (&mut self.token_hashes, &mut self.offsets);
        for_each_token(text, |offset, token| {
            hashes.extend_from_slice(&xxh3_64(token.as_bytes()).to_le_bytes());
            offsets.push(offset);
        });
        self.offsets.len()
    }

    /// The byte offset of each token hashed by [`NgramHasher::hash_tokens_with_offsets`].
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The key of the n-gram of the `len` tokens starting at token `start` of the last text hashed.
    #[inline]
    pub fn key(&self, start: usize, len: usize) -> NgramKey {
        xxh3_128(&self.token_hashes[start * 8..(start + len) * 8])
    }

    /// Appends the keys of `unit`'s n-grams to `keys` (the window rule of the module docs).
    pub fn unit_keys(&mut self, unit: &str, min: usize, max: usize, keys: &mut Vec<NgramKey>) {
        let count = self.hash_tokens(unit);
        if count >= max {
            keys.extend((0..=count - max).map(|start| self.key(start, max)));
        } else if count >= min {
            keys.push(self.key(0, count));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_words_and_punctuation_without_whitespace() {
        let text = "Hello, world!  It's 3.14\u{a0}e-mail\t\u{2003}U.S.A.\n日本語です";
        let got: Vec<&str> = tokens(text).collect();
        assert_eq!(
            got,
            ["Hello", ",", "world", "!", "It's", "3.14", "e", "-", "mail", "U.S.A", ".", "日", "本", "語", "で", "す"]
        );
        // Control characters that are not White_Space are tokens (DCLM keeps them too).
        assert_eq!(tokens("a \u{0} b \u{1f}").collect::<Vec<_>>(), ["a", "\u{0}", "b", "\u{1f}"]);
        // The ASCII fast path agrees with the definition on every ASCII byte.
        for b in 0u8..128 {
            let s = (b as char).to_string();
            assert_eq!(is_token(&s), s.chars().any(|c| !c.is_whitespace()), "{b:#x}");
        }
    }

    /// The ASCII fast path against `split_word_bounds`: every string of up to 4 bytes over an alphabet of
    /// each ASCII class that matters, then random longer strings over all of ASCII.
    #[test]
    fn the_ascii_fast_path_gives_the_same_tokens_as_unicode_segmentation() {
        let check = |text: &str| {
            let mut fast = Vec::new();
            ascii_tokens(text, |offset, token| fast.push((offset, token)));
            let slow: Vec<(usize, &str)> = token_indices(text).collect();
            assert_eq!(fast, slow, "{text:?}");
        };
        let alphabet = b"aZ09_.,;:'\" \t\r\n\x0b\x0c-/!\x00\x1f\x7f";
        let mut text = Vec::new();
        fn all(text: &mut Vec<u8>, alphabet: &[u8], depth: usize, check: &dyn Fn(&str)) {
            check(std::str::from_utf8(text).unwrap());
            if depth == 0 {
                return;
            }
            for &b in alphabet {
                text.push(b);
                all(text, alphabet, depth - 1, check);
                text.pop();
            }
        }
        all(&mut text, alphabet, 4, &check);
        let mut state = 1u64;
        for _ in 0..20_000 {
            let len = (splitmix(&mut state) % 40) as usize;
            let text: String = (0..len)
                .map(|_| {
                    let r = splitmix(&mut state);
                    // Half the bytes from the tricky alphabet, half from all of ASCII.
                    if r.is_multiple_of(2) {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    } else {
                        (r >> 8) as u8 & 0x7f
                    }
                } as char)
                .collect();
            check(&text);
        }
    }

    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn windows_short_units_and_too_short_units() {
        let mut hasher = NgramHasher::default();
        let mut keys = Vec::new();
        hasher.unit_keys("a b c d e", 2, 3, &mut keys);
        assert_eq!(keys.len(), 3); // abc bcd cde
        keys.clear();
        hasher.unit_keys("a b", 2, 3, &mut keys);
        assert_eq!(keys.len(), 1); // one short n-gram
        keys.clear();
        hasher.unit_keys("a", 2, 3, &mut keys);
        assert!(keys.is_empty());
        // Whitespace does not matter, tokens do.
        let key = |text: &str| {
            let mut keys = Vec::new();
            NgramHasher::default().unit_keys(text, 1, 3, &mut keys);
            keys
        };
        assert_eq!(key("a b c"), key("\na \t b\u{a0}c  "));
        assert_ne!(key("a b c"), key("a b C"));
        assert_ne!(key("a b"), key("a b c")[..1]);
        // A short n-gram is the same key as the same tokens in a window.
        assert_eq!(key("a b")[0], {
            let mut keys = Vec::new();
            NgramHasher::default().unit_keys("a b", 1, 2, &mut keys);
            keys[0]
        });
    }
}

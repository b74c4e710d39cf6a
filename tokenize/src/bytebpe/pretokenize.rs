//! The GPT-2 pre-tokenizer regex, as a hand-written scanner.
//!
//! HF's `ByteLevel` pre-tokenizer cuts text with
//! `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (fancy-regex, leftmost
//! first). Every character is a letter, a number, white space or "other", so the matches tile the text and
//! the scanner only has to find where each piece ends. The only backtracking is `\s+(?!\S)`: a whitespace
//! run followed by a non-space gives its last character back when the run has two or more characters, so
//! that character can lead the next piece (`" a"`); a one-character run keeps it (`\s+`).
//!
//! The classes come from `regex-syntax` — the tables fancy-regex itself compiles `\p{L}`, `\p{N}` and `\s`
//! from — so the scanner and HF agree on every code point, not only on the ones Rust's `char` methods
//! happen to classify the same way.

use regex_syntax::hir::{Class, HirKind};

/// What the regex sees a character as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CharKind {
    Letter,
    Number,
    Space,
    Other,
}

/// `\p{L}`, `\p{N}` and `\s` for every code point: a table over the Basic Multilingual Plane, sorted
/// ranges above it.
pub struct CharClasses {
    bmp: Box<[CharKind]>,
    astral: Vec<(u32, u32, CharKind)>,
}

impl CharClasses {
    /// The classes as regex-syntax (Unicode mode) defines them.
    pub fn new() -> Result<CharClasses, String> {
        let mut ranges = Vec::new();
        for (pattern, kind) in [(r"\p{L}", CharKind::Letter), (r"\p{N}", CharKind::Number), (r"\s", CharKind::Space)] {
            let hir = regex_syntax::Parser::new().parse(pattern).map_err(|e| e.to_string())?;
            let HirKind::Class(Class::Unicode(class)) = hir.kind() else {
                return Err(format!("{pattern} did not parse to a Unicode class"));
            };
            ranges.extend(class.ranges().iter().map(|r| (r.start() as u32, r.end() as u32, kind)));
        }
        ranges.sort_unstable_by_key(|r| r.0);
        let mut bmp = vec![CharKind::Other; 0x1_0000].into_boxed_slice();
        for &(start, end, kind) in &ranges {
            for cp in start..=end.min(0xFFFF) {
                bmp[cp as usize] = kind;
            }
        }
        let astral = ranges.into_iter().filter(|r| r.1 > 0xFFFF).map(|(s, e, k)| (s.max(0x1_0000), e, k)).collect();
        Ok(CharClasses { bmp, astral })
    }

    pub fn kind(&self, c: char) -> CharKind {
        let cp = c as u32;
        if cp < 0x1_0000 {
            return self.bmp[cp as usize];
        }
        let i = self.astral.partition_point(|r| r.1 < cp);
        match self.astral.get(i) {
            Some(&(start, _, kind)) if start <= cp => kind,
            _ => CharKind::Other,
        }
    }
}

/// Calls `emit` with each piece of `text`, in order; the pieces concatenate to `text`.
pub fn for_each_piece(text: &str, classes: &CharClasses, mut emit: impl FnMut(&str)) {
    let mut start = 0;
    while start < text.len() {
        let end = piece_end(text, start, classes);
        emit(&text[start..end]);
        start = end;
    }
}

/// The English contractions, in the regex's order (the first that matches wins).
const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

/// Where the piece that starts at byte `start` ends.
fn piece_end(text: &str, start: usize, classes: &CharClasses) -> usize {
    let rest = &text[start..];
    let mut chars = rest.chars();
    let Some(first) = chars.next() else { return start };
    if first == '\'' {
        if let Some(c) = CONTRACTIONS.iter().find(|c| rest.starts_with(*c)) {
            return start + c.len();
        }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: one leading space joins a run of another class.
    if first == ' ' {
        match chars.next().map(|c| classes.kind(c)) {
            Some(kind) if kind != CharKind::Space => return run_end(text, start + 1, kind, classes),
            _ => return space_end(text, start, classes),
        }
    }
    match classes.kind(first) {
        CharKind::Space => space_end(text, start, classes),
        kind => run_end(text, start, kind, classes),
    }
}

/// The end of the run of `kind` characters that starts at byte `from`.
fn run_end(text: &str, from: usize, kind: CharKind, classes: &CharClasses) -> usize {
    text[from..].char_indices().find(|&(_, c)| classes.kind(c) != kind).map_or(text.len(), |(i, _)| from + i)
}

/// `\s+(?!\S)|\s+` at byte `from` (a white-space character).
fn space_end(text: &str, from: usize, classes: &CharClasses) -> usize {
    let mut last_start = from;
    for (count, (i, c)) in text[from..].char_indices().enumerate() {
        if classes.kind(c) != CharKind::Space {
            // Followed by a non-space: a run of two or more gives its last character to the next piece.
            return if count >= 2 { last_start } else { from + i };
        }
        last_start = from + i;
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<String> {
        let classes = CharClasses::new().unwrap();
        let mut out = Vec::new();
        for_each_piece(text, &classes, |p| out.push(p.to_string()));
        out
    }

    #[test]
    fn pieces_follow_the_gpt2_regex() {
        assert_eq!(pieces("Hello world"), ["Hello", " world"]);
        assert_eq!(pieces("it's   fine\n\nok"), ["it", "'s", "  ", " fine", "\n", "\n", "ok"]);
        assert_eq!(pieces("x \t\n"), ["x", " \t\n"]);
        assert_eq!(pieces("a\tb"), ["a", "\t", "b"]);
        assert_eq!(pieces("...'s 12,5 ½x"), ["...'", "s", " 12", ",", "5", " ½", "x"]);
        assert_eq!(pieces("'S'LL'll"), ["'", "S", "'", "LL", "'ll"]);
        assert_eq!(pieces("  !x"), [" ", " !", "x"]);
        assert_eq!(pieces("été 𝔘x 😀😀"), ["été", " 𝔘x", " 😀😀"]);
    }

    #[test]
    fn classes_are_the_regex_classes() {
        let classes = CharClasses::new().unwrap();
        // U+0345 is Alphabetic (so `char::is_alphabetic`) but a mark (Mn), not \p{L}.
        assert!('\u{345}'.is_alphabetic());
        assert_eq!(classes.kind('\u{345}'), CharKind::Other);
        assert_eq!(classes.kind('\u{2163}'), CharKind::Number); // Ⅳ, Nl
        assert_eq!(classes.kind('\u{3000}'), CharKind::Space);
        assert_eq!(classes.kind('\u{1D518}'), CharKind::Letter);
        assert_eq!(classes.kind('\u{1F600}'), CharKind::Other);
    }
}

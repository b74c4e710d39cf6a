//! A fast test that a JSON cell is exactly what serde_json writes for the object it holds, without parsing
//! it into a `Value` (which allocates every key and string): the batch path asks this of every `metadata`,
//! `attributes` and `extra` cell it passes through unchanged (see [`super::batch`]).
//!
//! serde_json writes an object compactly (no whitespace), keys in insertion order (`preserve_order`), each
//! key once, strings with only `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t` and `\u00xx` (lower-case hex, for
//! the other control characters) escaped, integers as plain digits. The scan says yes only when the text is
//! all of that; floats (which serde_json may read back one bit off), `-0`, integers out of range, very deep
//! nesting and keys with escapes are left to the exact test (parse, write, compare), so a yes is always
//! right and a no only means "not sure".

/// The scalar kind of a top-level value, as [`crate::attributes::AttributeType::of`] would see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    Text,
    /// Null, nested, or an integer beyond `i64`.
    Other,
}

/// Nesting deeper than this is left to the exact test (serde_json stops at 128).
const MAX_DEPTH: usize = 64;
/// Objects with more keys than this are left to the exact test (the duplicate check is quadratic).
const MAX_KEYS: usize = 64;

/// Whether `text` is surely a non-empty JSON object exactly as serde_json writes it; `entry` gets each
/// top-level key (as written, without escapes) and the kind of its value.
pub(crate) fn surely_canonical_object(text: &str, mut entry: impl FnMut(&str, Kind)) -> bool {
    let mut scan = Scan { bytes: text.as_bytes(), at: 0, depth: 0 };
    let mut keys: Vec<&[u8]> = Vec::new();
    let ok = scan.object(&mut keys, &mut |key, kind| {
        // Keys are plain (no escapes) at the top level: checked in `object`.
        entry(std::str::from_utf8(key).unwrap_or_default(), kind)
    });
    ok && !keys.is_empty() && scan.at == scan.bytes.len()
}

struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// An object at the cursor; `keys` gets its keys (for the duplicate check), `entry` its entries when it
    /// is the top level (depth 1).
    fn object(&mut self, keys: &mut Vec<&'a [u8]>, entry: &mut dyn FnMut(&[u8], Kind)) -> bool {
        if !self.eat(b'{') {
            return false;
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return false;
        }
        if !self.eat(b'}') {
            loop {
                let start = self.at + 1;
                let Some(plain) = self.string() else { return false };
                let key = &self.bytes[start..self.at - 1];
                // A key written twice reads back once; a key with escapes, or one of very many, is left to
                // the exact test.
                if !plain || keys.len() >= MAX_KEYS || keys.contains(&key) {
                    return false;
                }
                keys.push(key);
                if !self.eat(b':') {
                    return false;
                }
                let Some(kind) = self.value() else { return false };
                if self.depth == 1 {
                    entry(key, kind);
                }
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return false;
                }
            }
        }
        self.depth -= 1;
        true
    }

    fn value(&mut self) -> Option<Kind> {
        match self.peek()? {
            b'"' => self.string().map(|_| Kind::Text),
            b'{' => self.object(&mut Vec::new(), &mut |_, _| {}).then_some(Kind::Other),
            b'[' => self.array().then_some(Kind::Other),
            b't' => self.literal(b"true").then_some(Kind::Bool),
            b'f' => self.literal(b"false").then_some(Kind::Bool),
            b'n' => self.literal(b"null").then_some(Kind::Other),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    fn array(&mut self) -> bool {
        self.at += 1; // '['
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return false;
        }
        if !self.eat(b']') {
            loop {
                if self.value().is_none() {
                    return false;
                }
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return false;
                }
            }
        }
        self.depth -= 1;
        true
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    /// An integer as serde_json writes one (`0`, or no leading zero; `-0` and out-of-range values are
    /// not); a float is left to the exact test.
    fn integer(&mut self) -> Option<Kind> {
        let start = self.at;
        let negative = self.eat(b'-');
        let digits = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let number = &self.bytes[digits..self.at];
        if number.is_empty()
            || (number[0] == b'0' && number.len() > 1)
            || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        if negative {
            // serde_json reads `-0` as 0 and writes `0`.
            let n: i64 = text.parse().ok()?;
            (n != 0).then_some(Kind::Int)
        } else {
            let n: u64 = text.parse().ok()?;
            Some(if n <= i64::MAX as u64 { Kind::Int } else { Kind::Other })
        }
    }

    /// A string as serde_json writes one; `Some(true)` when it has no escapes.
    fn string(&mut self) -> Option<bool> {
        if !self.eat(b'"') {
            return None;
        }
        let mut plain = true;
        loop {
            let byte = self.peek()?;
            self.at += 1;
            match byte {
                b'"' => return Some(plain),
                b'\\' => {
                    plain = false;
                    let escaped = self.peek()?;
                    self.at += 1;
                    match escaped {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            // Only the control characters without a short form, as `\u00xx`.
                            let hex = self.bytes.get(self.at..self.at + 4)?;
                            let lower = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
                            if !hex.iter().all(lower) || &hex[..2] != b"00" {
                                return None;
                            }
                            let code = u8::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()?;
                            if code >= 0x20 || matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.at += 4;
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f => return None,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// What the exact test says: the cell parses to a non-empty object that serde_json writes as the cell.
    fn exactly_canonical(text: &str) -> bool {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => !map.is_empty() && serde_json::to_string(&map).unwrap() == text,
            _ => false,
        }
    }

    fn surely(text: &str) -> bool {
        surely_canonical_object(text, |_, _| {})
    }

    #[test]
    fn a_yes_is_always_right_and_what_serde_json_writes_without_floats_is_a_yes() {
        let written = [
            json!({"WARC-Type": "response", "Content-Length": "38067", "n": 3, "neg": -12, "big": u64::MAX}),
            json!({"a": {"b": [1, {"c": null}, [], {}]}, "t": true, "f": false, "e": ""}),
            json!({"ctrl": "\u{1}\u{8}\t\n\u{c}\r\u{1f}\u{7f}", "quote": "\"\\/", "uni": "日本語 — ünï 😀"}),
            json!({"min": i64::MIN, "zero": 0}),
        ];
        for value in &written {
            let text = serde_json::to_string(value).unwrap();
            assert!(surely(&text), "{text}");
            assert!(exactly_canonical(&text), "{text}");
        }
        let unsure = [
            r#"{"a": 1}"#,
            "{}",
            "[1]",
            r#"{"a":1,"a":2}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\u001F"}"#,
            r#"{"a":"\u000a"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":0.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-0}"#,
            r#"{"a":01}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"a":1} "#,
            r#"{"a":1}{"#,
            r#"{"a":tru}"#,
            r#"{"a\n":1}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":[1,]}"#,
            r#"{"a":1,}"#,
            r#"{"a"}"#,
            r#"{"a":{"b":1,"b":1}}"#,
        ];
        for text in unsure {
            assert!(!surely(text), "{text}");
        }
        // Every prefix and every one-byte change of a canonical text: a yes is never wrong.
        let text = serde_json::to_string(&written[1]).unwrap() + &serde_json::to_string(&written[2]).unwrap();
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            for candidate in [&bytes[..cut], &bytes[cut..]] {
                if let Ok(s) = std::str::from_utf8(candidate) {
                    assert!(!surely(s) || exactly_canonical(s), "{s}");
                }
            }
            for replacement in [b' ', b'"', b'\\', b'0', b'-', b',', b'}', b'{', b'[', b':', b'u'] {
                let mut changed = bytes.to_vec();
                changed[cut] = replacement;
                if let Ok(s) = std::str::from_utf8(&changed) {
                    assert!(!surely(s) || exactly_canonical(s), "{s}");
                }
            }
        }
    }

    #[test]
    fn top_level_entries_come_with_their_kinds() {
        let mut entries = Vec::new();
        let text = r#"{"words":3,"lang":{"en":1},"flag":true,"name":"x","none":null,"huge":18446744073709551615}"#;
        assert!(surely_canonical_object(text, |k, kind| entries.push((k.to_string(), kind))));
        let kinds: Vec<(&str, Kind)> = entries.iter().map(|(k, kind)| (k.as_str(), *kind)).collect();
        assert_eq!(
            kinds,
            [
                ("words", Kind::Int),
                ("lang", Kind::Other),
                ("flag", Kind::Bool),
                ("name", Kind::Text),
                ("none", Kind::Other),
                ("huge", Kind::Other)
            ]
        );
    }
}

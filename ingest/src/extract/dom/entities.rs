//! HTML5 character references (`&amp;`, `&#8217;`, `&#x1F600;`, legacy `&copy` without `;`), decoded as
//! the HTML5 tokenizer does. The named-entity table is WHATWG's, from `markup5ever` (the one piece of
//! html5ever sluice keeps), where every prefix of a name is present so that the longest match can be found
//! one character at a time.

use markup5ever::data::NAMED_ENTITIES;

/// Windows-1252 meanings of the C1 code points 0x80–0x9F, which numeric references map through.
const C1_REPLACEMENTS: [u32; 32] = [
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D,
    0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,
    0x017E, 0x0178,
];

/// Appends `text` to `out` with its character references decoded. In attribute values a named reference
/// without `;` followed by `=` or an alphanumeric is left as written (the HTML5 legacy rule).
pub fn decode_into(out: &mut String, text: &str, in_attribute: bool) {
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'&', &bytes[at..]) {
        let amp = at + found;
        out.push_str(&text[copied..amp]);
        let consumed = if bytes.get(amp + 1) == Some(&b'#') {
            numeric(out, &bytes[amp + 2..]).map(|n| n + 2)
        } else {
            named(out, &text[amp + 1..], in_attribute).map(|n| n + 1)
        };
        match consumed {
            Some(n) => {
                at = amp + n;
                copied = at;
            }
            None => {
                at = amp + 1;
                copied = amp;
            }
        }
    }
    out.push_str(&text[copied..]);
}

/// Whether `text` needs [`decode_into`] at all.
pub fn has_reference(text: &str) -> bool {
    memchr::memchr(b'&', text.as_bytes()).is_some()
}

/// Decodes a named reference at the start of `rest` (after `&`); returns the bytes consumed.
fn named(out: &mut String, rest: &str, in_attribute: bool) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut best: Option<(usize, (u32, u32))> = None;
    let mut len = 0;
    while len < bytes.len() && len < 40 {
        let b = bytes[len];
        if !(b.is_ascii_alphanumeric() || b == b';') {
            break;
        }
        len += 1;
        match NAMED_ENTITIES.get(&rest[..len]) {
            None => break,
            Some(&(0, 0)) => {}
            Some(&value) => best = Some((len, value)),
        }
        if b == b';' {
            break;
        }
    }
    let (len, (first, second)) = best?;
    if in_attribute && bytes[len - 1] != b';' {
        if let Some(&next) = bytes.get(len) {
            if next == b'=' || next.is_ascii_alphanumeric() {
                return None;
            }
        }
    }
    out.extend(char::from_u32(first));
    if second != 0 {
        out.extend(char::from_u32(second));
    }
    Some(len)
}

/// Decodes `[xX]hex;` or `digits;` (after `&#`); returns the bytes consumed.
fn numeric(out: &mut String, bytes: &[u8]) -> Option<usize> {
    let (radix, start) = match bytes.first() {
        Some(b'x' | b'X') => (16, 1),
        _ => (10, 0),
    };
    let digits = bytes[start..].iter().take_while(|&&b| (b as char).is_digit(radix)).count();
    if digits == 0 {
        return None;
    }
    let mut value: u32 = 0;
    for &b in &bytes[start..start + digits] {
        let digit = (b as char).to_digit(radix).unwrap_or(0);
        value = value.saturating_mul(radix).saturating_add(digit).min(0x11_0000);
    }
    let mut consumed = start + digits;
    if bytes.get(consumed) == Some(&b';') {
        consumed += 1;
    }
    let value = match value {
        0 => 0xFFFD,
        0x80..=0x9F => C1_REPLACEMENTS[(value - 0x80) as usize],
        v if v > 0x10FFFF || (0xD800..=0xDFFF).contains(&v) => 0xFFFD,
        v => v,
    };
    out.push(char::from_u32(value).unwrap_or('\u{FFFD}'));
    Some(consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str, attr: bool) -> String {
        let mut out = String::new();
        decode_into(&mut out, text, attr);
        out
    }

    #[test]
    fn decodes_like_html5() {
        assert_eq!(decode("a &amp; b &lt;c&gt; &#8217;&#x1F600;", false), "a & b <c> \u{2019}\u{1F600}");
        assert_eq!(decode("&copy 2024 &notit; &nbsp", false), "\u{a9} 2024 \u{ac}it; \u{a0}");
        assert_eq!(decode("&#150; &#0; &#xD800; &#99999999;", false), "\u{2013} \u{FFFD} \u{FFFD} \u{FFFD}");
        assert_eq!(decode("&unknown; & &# &#x;", false), "&unknown; & &# &#x;");
        assert_eq!(decode("?a=1&copy=2&amp;b", true), "?a=1&copy=2&b");
        assert_eq!(decode("&NotEqualTilde;", false), "\u{2242}\u{338}");
    }
}

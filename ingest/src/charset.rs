//! Charset decoding of HTML payloads: byte-order mark → HTTP `Content-Type` charset → `<meta>` charset →
//! statistical detection (`chardetng`, the detector Firefox uses), decoded with `encoding_rs` (WHATWG
//! labels, so `iso-8859-1` means windows-1252 as browsers do).
//!
//! As in browsers (WHATWG's encoding sniffing), a declared encoding wins over detection: a page declared
//! UTF-8 (BOM, header or `<meta>`) that holds a few stray bytes of another encoding is decoded as UTF-8, the
//! bad bytes becoming U+FFFD (reported in [`Decoded::had_errors`]) — handing it to the detector would
//! decode the whole page as windows-1252, turning every correct `für` into `fÃ¼r`. Only undeclared pages
//! are detected.
//!
//! One deliberate departure from browsers: a page labelled with a legacy encoding whose bytes are valid,
//! non-ASCII UTF-8 is decoded as UTF-8 — mislabelled UTF-8 is common on the web, while legacy-encoded text
//! that happens to be valid UTF-8 is vanishingly rare.

use encoding_rs::{Encoding, UTF_8};

/// How the encoding was chosen (for stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    Bom,
    HttpHeader,
    MetaTag,
    Detected,
    /// Labelled otherwise, but the bytes are valid UTF-8.
    Utf8Override,
}

impl CharsetSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            CharsetSource::Bom => "bom",
            CharsetSource::HttpHeader => "http_header",
            CharsetSource::MetaTag => "meta_tag",
            CharsetSource::Detected => "detected",
            CharsetSource::Utf8Override => "utf8_override",
        }
    }
}

/// A decoded page.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub source: CharsetSource,
    /// Some bytes were invalid in the chosen encoding and became U+FFFD.
    pub had_errors: bool,
    /// A charset label was present but named no known encoding.
    pub unknown_label: Option<String>,
}

/// How many bytes the `<meta>` prescan and the detector look at.
const PRESCAN_BYTES: usize = 4096;
const DETECT_BYTES: usize = 64 << 10;

/// Decodes an HTML payload. `content_type` is the HTTP `Content-Type` header, `tld` the URL's top-level
/// domain (a hint for the detector).
pub fn decode_html(payload: &[u8], content_type: Option<&str>, tld: Option<&[u8]>) -> Decoded {
    let mut unknown_label = None;
    let mut choose = |label: Option<String>| -> Option<&'static Encoding> {
        let label = label?;
        let encoding = Encoding::for_label(label.trim().trim_matches(['"', '\'']).as_bytes());
        if encoding.is_none() {
            unknown_label = Some(label);
        }
        encoding
    };
    let (encoding, source) = if let Some((encoding, _)) = Encoding::for_bom(payload) {
        (encoding, CharsetSource::Bom)
    } else if let Some(encoding) = choose(content_type.and_then(charset_parameter)) {
        (encoding, CharsetSource::HttpHeader)
    } else if let Some(encoding) = choose(meta_charset(payload)) {
        // A <meta> saying UTF-16 in an ASCII-compatible document means UTF-8 (WHATWG prescan rule).
        (if encoding.is_ascii_compatible() { encoding } else { UTF_8 }, CharsetSource::MetaTag)
    } else if is_non_ascii_utf8(payload) {
        // What the detector answers for valid non-ASCII UTF-8 (UTF-8 is allowed), without its statistics
        // over 64 KiB: a tenth of `sluice ingest`'s time on pages that declare no charset.
        (UTF_8, CharsetSource::Detected)
    } else {
        (detect(payload, tld), CharsetSource::Detected)
    };

    let (encoding, source) = match source {
        CharsetSource::Bom => (encoding, source),
        _ if encoding != UTF_8 && encoding.is_ascii_compatible() && is_non_ascii_utf8(payload) => {
            (UTF_8, CharsetSource::Utf8Override)
        }
        _ => (encoding, source),
    };
    let (text, actual, had_errors) = encoding.decode(payload);
    Decoded { text: text.into_owned(), encoding: actual, source, had_errors, unknown_label }
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_parameter(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().to_string()).filter(|v| !v.is_empty())
    })
}

/// The charset declared by `<meta charset=…>` or `<meta http-equiv=Content-Type content="…; charset=…">`
/// in the first bytes of the page.
fn meta_charset(payload: &[u8]) -> Option<String> {
    let head = &payload[..payload.len().min(PRESCAN_BYTES)];
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(&lower[from..], b"<meta") {
        let tag_start = from + found;
        let tag_end = memchr::memchr(b'>', &lower[tag_start..]).map_or(lower.len(), |e| tag_start + e);
        let tag = &lower[tag_start..tag_end];
        if let Some(at) = memchr::memmem::find(tag, b"charset") {
            let rest = &tag[at + 7..];
            let rest = rest.iter().position(|b| !b" \t\r\n".contains(b)).map_or(&rest[rest.len()..], |p| &rest[p..]);
            if let Some(value) = rest.strip_prefix(b"=") {
                let value: Vec<u8> = value
                    .iter()
                    .skip_while(|b| b" \t\"'".contains(b))
                    .take_while(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(b))
                    .copied()
                    .collect();
                if !value.is_empty() {
                    return Some(String::from_utf8_lossy(&value).into_owned());
                }
            }
        }
        from = tag_end;
    }
    None
}

fn detect(payload: &[u8], tld: Option<&[u8]>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    let sample = &payload[..payload.len().min(DETECT_BYTES)];
    detector.feed(sample, sample.len() == payload.len());
    detector.guess(tld, true)
}

fn is_non_ascii_utf8(payload: &[u8]) -> bool {
    !payload.is_ascii() && std::str::from_utf8(payload).is_ok()
}

/// The top-level domain of a URL's host, for the detector (`http://a.example.jp/x` → `jp`).
pub fn url_tld(url: &str) -> Option<&[u8]> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = after_scheme.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    let tld = host.rsplit('.').next()?;
    (!tld.is_empty() && tld.bytes().all(|b| b.is_ascii_alphabetic())).then_some(tld.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_meta_then_detection() {
        let shift_jis = encoding_rs::SHIFT_JIS.encode("<p>日本語のテキストです。これはテストです。</p>").0.into_owned();
        let decoded = decode_html(&shift_jis, Some("text/html; charset=Shift_JIS"), None);
        assert_eq!((decoded.encoding, decoded.source), (encoding_rs::SHIFT_JIS, CharsetSource::HttpHeader));
        assert!(decoded.text.contains("日本語"));

        let mut page =
            b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"></head>"
                .to_vec();
        page.extend(encoding_rs::WINDOWS_1251.encode("<p>Привет, мир</p>").0.iter());
        let decoded = decode_html(&page, Some("text/html"), None);
        assert_eq!((decoded.encoding, decoded.source), (encoding_rs::WINDOWS_1251, CharsetSource::MetaTag));
        assert!(decoded.text.contains("Привет"));

        let decoded = decode_html(&shift_jis, None, Some(b"jp"));
        assert_eq!((decoded.encoding, decoded.source), (encoding_rs::SHIFT_JIS, CharsetSource::Detected));
    }

    #[test]
    fn boms_win_and_mislabelled_utf8_is_recovered() {
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "<p>héllo</p>".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        let decoded = decode_html(&utf16, Some("text/html; charset=iso-8859-1"), None);
        assert_eq!((decoded.encoding, decoded.source), (encoding_rs::UTF_16LE, CharsetSource::Bom));
        assert_eq!(decoded.text, "<p>héllo</p>");

        let decoded = decode_html("<p>naïve café</p>".as_bytes(), Some("text/html; charset=ISO-8859-1"), None);
        assert_eq!(decoded.source, CharsetSource::Utf8Override);
        assert_eq!(decoded.text, "<p>naïve café</p>");
    }

    #[test]
    fn declared_utf8_with_stray_latin1_bytes_stays_utf8() {
        let mut page = "<p>Grüße für die Flüsse</p>".as_bytes().to_vec();
        page.extend_from_slice(b"<p>caf\xe9</p>");
        for (content_type, source) in
            [(Some("text/html; charset=utf-8"), CharsetSource::HttpHeader), (None, CharsetSource::MetaTag)]
        {
            let mut bytes = b"<meta charset=utf-8>".to_vec();
            bytes.extend_from_slice(&page);
            let decoded = decode_html(&bytes, content_type, Some(b"de"));
            assert_eq!((decoded.encoding, decoded.source), (UTF_8, source));
            assert!(decoded.had_errors);
            assert!(decoded.text.contains("Grüße für die Flüsse") && decoded.text.contains("caf\u{FFFD}"));
        }
        // Undeclared, the same bytes go to the detector.
        assert_eq!(decode_html(&page, None, Some(b"de")).source, CharsetSource::Detected);
    }

    #[test]
    fn undeclared_utf8_is_what_the_detector_would_say() {
        // The shortcut past the detector must give its answer: UTF-8, reported as detected.
        for (text, tld) in [
            ("<p>Grüße aus Köln, wo die Flüsse fließen</p>", &b"de"[..]),
            ("<p>日本語のテキストです。これはテストです。</p>", b"jp"),
            ("<p>Привет, мир: это проверка</p>", b"ru"),
            ("<p>naïve café, déjà vu</p>", b"com"),
        ] {
            assert_eq!(detect(text.as_bytes(), Some(tld)), UTF_8, "{text}");
            let decoded = decode_html(text.as_bytes(), Some("text/html"), Some(tld));
            assert_eq!(
                (decoded.encoding, decoded.source, decoded.text.as_str()),
                (UTF_8, CharsetSource::Detected, text)
            );
        }
    }

    #[test]
    fn unknown_labels_are_reported() {
        let decoded = decode_html(b"<p>plain</p>", Some("text/html; charset=x-no-such-charset"), None);
        assert_eq!(decoded.unknown_label.as_deref(), Some("x-no-such-charset"));
        assert_eq!(decoded.text, "<p>plain</p>");
    }

    #[test]
    fn tlds_come_from_hosts() {
        assert_eq!(url_tld("http://user@www.example.co.jp:8080/a?b"), Some(&b"jp"[..]));
        assert_eq!(url_tld("http://127.0.0.1/"), None);
    }
}

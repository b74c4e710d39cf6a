//! Parsing the HTTP response stored in a WARC `response` record.
//!
//! Deliberately lenient: crawlers store status lines and headers as the server sent them (LF-only line
//! endings, odd header names, duplicate fields), so this is a tolerant splitter rather than a strict
//! HTTP/1.1 parser. The payload is de-chunked when `Transfer-Encoding: chunked` and it parses as chunks,
//! and decompressed when `Content-Encoding` says gzip, deflate, br or zstd and the bytes really are compressed (many
//! crawlers store the decoded payload but keep the original header). What became of the encoding is
//! reported in [`HttpResponse::content_decoding`]: compressed bytes that could not be decoded (too large,
//! cut short, corrupt, or an encoding sluice does not decode) are never handed on as if they were text.

use std::io::Read;

/// An HTTP response: status, headers and the payload (decoded as described in the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
    /// What became of the payload's `Content-Encoding`; unless [`ContentDecoding::is_usable`], `payload`
    /// holds the bytes as stored (compressed).
    pub content_decoding: ContentDecoding,
}

/// What became of a response's `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentDecoding {
    /// No `Content-Encoding` (or `identity`), and the bytes are not compressed.
    Identity,
    /// Decompressed (also a gzip payload served without a `Content-Encoding`).
    Decoded,
    /// `Content-Encoding` names a compression, but the crawler stored the decoded bytes.
    StoredDecoded,
    /// Decompressed, the payload exceeds the limit.
    TooLarge,
    /// The compressed stream ends early (a truncated capture).
    Truncated,
    /// The bytes are not valid data in the encoding.
    Corrupt,
    /// An encoding sluice does not decode (`compress`, an unknown name) over bytes that are
    /// not text.
    Unsupported,
}

impl ContentDecoding {
    /// Whether `payload` holds the response's decoded bytes.
    pub fn is_usable(&self) -> bool {
        matches!(self, ContentDecoding::Identity | ContentDecoding::Decoded | ContentDecoding::StoredDecoded)
    }

    /// The drop reason for a payload that could not be decoded.
    pub fn drop_reason(&self) -> Option<&'static str> {
        match self {
            ContentDecoding::Identity | ContentDecoding::Decoded | ContentDecoding::StoredDecoded => None,
            ContentDecoding::TooLarge => Some("content_encoding_too_large"),
            ContentDecoding::Truncated => Some("content_encoding_truncated"),
            ContentDecoding::Corrupt => Some("content_encoding_corrupt"),
            ContentDecoding::Unsupported => Some("content_encoding_unsupported"),
        }
    }
}

/// Why a block is not an HTTP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// No `HTTP/x.y NNN` status line.
    NoStatusLine,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// The MIME type of `Content-Type`, lower-cased, without parameters.
    pub fn mime_type(&self) -> Option<String> {
        let value = self.header("Content-Type")?;
        let mime = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        (!mime.is_empty()).then_some(mime)
    }
}

/// Splits a response record's block into status, headers and payload; `max_payload` bounds decompression.
pub fn parse_response(block: &[u8], max_payload: u64) -> Result<HttpResponse, HttpError> {
    let head_end = find_head_end(block);
    let (head, body) = match head_end {
        Some((end, separator)) => (&block[..end], &block[end + separator..]),
        None => (block, &block[block.len()..]),
    };
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let status_line = lines.next().unwrap_or("");
    let status = parse_status_line(status_line).ok_or(HttpError::NoStatusLine)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut response =
        HttpResponse { status, headers, payload: Vec::new(), content_decoding: ContentDecoding::Identity };
    let mut payload = body.to_vec();
    if response.header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        if let Some(dechunked) = dechunk(&payload) {
            payload = dechunked;
        }
    }
    let encoding = response.header("Content-Encoding").map(str::to_ascii_lowercase).unwrap_or_default();
    let mut codings: Vec<&str> =
        encoding.split(',').map(str::trim).filter(|c| !c.is_empty() && *c != "identity").collect();
    // A gzip stream where an HTML page is expected (a pre-compressed file served without the header) is
    // decompressed too: its bytes are never text.
    if codings.is_empty() && payload.starts_with(&GZIP_MAGIC) && response.mime_type().is_none_or(|m| is_html_mime(&m)) {
        codings.push("gzip");
    }
    let (payload, decoding) = decode_content(&codings, payload, max_payload);
    response.payload = payload;
    response.content_decoding = decoding;
    Ok(response)
}

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

fn is_html_mime(mime: &str) -> bool {
    mime == "text/html" || mime == "application/xhtml+xml"
}

/// The end of the header section and the length of the blank line that ends it.
fn find_head_end(block: &[u8]) -> Option<(usize, usize)> {
    let crlf = memchr::memmem::find(block, b"\r\n\r\n").map(|i| (i, 4));
    let lf = memchr::memmem::find(block, b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse_status_line(line: &str) -> Option<u16> {
    let mut parts = line.split_whitespace();
    let version = parts.next()?;
    if !version.to_ascii_uppercase().starts_with("HTTP/") {
        return None;
    }
    parts.next()?.get(..3)?.parse().ok()
}

/// Decodes a chunked body; `None` if it is not well-formed chunked data.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    loop {
        let line_end = memchr::memchr(b'\n', body)?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?.trim();
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        body = &body[line_end + 1..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = &body[size..];
        body = body.strip_prefix(b"\r\n").or_else(|| body.strip_prefix(b"\n")).unwrap_or(body);
        if body.is_empty() {
            return Some(out); // tolerate a missing last-chunk
        }
    }
}

/// Undoes `codings` (in the order listed, so the last applied first) on `payload`, reading at most
/// `max_payload` decoded bytes. A coding whose bytes are not compressed but text ends the decoding: the
/// crawler stored what it decoded.
fn decode_content(codings: &[&str], mut payload: Vec<u8>, max_payload: u64) -> (Vec<u8>, ContentDecoding) {
    if codings.is_empty() {
        return (payload, ContentDecoding::Identity);
    }
    let mut status = ContentDecoding::Decoded;
    for coding in codings.iter().rev() {
        let decoded = match *coding {
            "gzip" | "x-gzip" if payload.starts_with(&GZIP_MAGIC[..2]) => {
                read_bounded(flate2::read::MultiGzDecoder::new(payload.as_slice()), max_payload)
            }
            "deflate" if is_zlib_header(&payload) => {
                read_bounded(flate2::read::ZlibDecoder::new(payload.as_slice()), max_payload)
            }
            "zstd" if payload.starts_with(&ZSTD_MAGIC) => match zstd::stream::read::Decoder::new(payload.as_slice()) {
                Ok(decoder) => read_bounded(decoder, max_payload),
                Err(_) => Err(ContentDecoding::Corrupt),
            },
            _ if looks_like_text(&payload) => return (payload, ContentDecoding::StoredDecoded),
            // Brotli has no magic number: bytes that are not text under `br` are decoded as brotli.
            "br" => read_bounded(brotli_decompressor::Decompressor::new(payload.as_slice(), 4096), max_payload),
            // Some servers (old IIS) send raw deflate without the zlib header.
            "deflate" => read_bounded(flate2::read::DeflateDecoder::new(payload.as_slice()), max_payload),
            "gzip" | "x-gzip" => Err(ContentDecoding::Corrupt),
            _ => Err(ContentDecoding::Unsupported),
        };
        match decoded {
            Ok(bytes) => payload = bytes,
            Err(failure) => {
                status = failure;
                break;
            }
        }
    }
    (payload, status)
}

/// The zstd frame magic number (RFC 8878).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Reads a decoder to its end, or fails as too large past `max` bytes, truncated or corrupt.
fn read_bounded(decoder: impl Read, max: u64) -> Result<Vec<u8>, ContentDecoding> {
    let mut out = Vec::new();
    match decoder.take(max.saturating_add(1)).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > max => Err(ContentDecoding::TooLarge),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(ContentDecoding::Truncated),
        Err(_) => Err(ContentDecoding::Corrupt),
    }
}

/// A zlib stream header (RFC 1950): deflate method, window size ≤ 32 KiB, header checksum.
fn is_zlib_header(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Whether bytes are (uncompressed) text: almost no control bytes, and markup or valid UTF-8 at the start.
/// Compressed data is close to uniformly random, so about one byte in ten is a control byte.
fn looks_like_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(1024)];
    let controls = sample.iter().filter(|b| matches!(b, 0..=8 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f)).count();
    let utf16_bom = sample.starts_with(&[0xff, 0xfe]) || sample.starts_with(&[0xfe, 0xff]);
    if utf16_bom {
        return true;
    }
    let markup = sample.iter().find(|b| !b.is_ascii_whitespace()).is_none_or(|b| *b == b'<');
    let utf8 = match std::str::from_utf8(sample) {
        Ok(_) => true,
        // A character cut by the sample's end is fine.
        Err(e) => e.error_len().is_none(),
    };
    controls * 100 <= sample.len() && (markup || utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lenient_responses() {
        let block = b"HTTP/1.1 200 OK\nContent-Type: text/html; charset=EUC-JP\nX-Folded: a\n  b\n\n<html>hi</html>";
        let response = parse_response(block, 1 << 20).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.mime_type().as_deref(), Some("text/html"));
        assert_eq!(response.header("x-folded"), Some("a b"));
        assert_eq!(response.payload, b"<html>hi</html>");
        assert_eq!(parse_response(b"<html>no status</html>", 1 << 20), Err(HttpError::NoStatusLine));
    }

    #[test]
    fn dechunks_and_decompresses() {
        let block = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(parse_response(block, 1 << 20).unwrap().payload, b"hello world");
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<p>zipped</p>").unwrap();
        let mut block = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        block.extend(gz.finish().unwrap());
        assert_eq!(parse_response(&block, 1 << 20).unwrap().payload, b"<p>zipped</p>");
        // The header says gzip but the crawler stored the decoded bytes: keep them.
        let block = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n<p>plain</p>";
        let response = parse_response(block, 1 << 20).unwrap();
        assert_eq!(response.payload, b"<p>plain</p>");
        assert_eq!(response.content_decoding, ContentDecoding::StoredDecoded);
    }

    fn compressed(encoder: &str, data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let level = flate2::Compression::default();
        match encoder {
            "gzip" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            "zlib" => {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            _ => {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), level);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    fn response_with(headers: &str, body: &[u8], max: u64) -> HttpResponse {
        let mut block = format!("HTTP/1.1 200 OK\r\n{headers}\r\n").into_bytes();
        block.extend_from_slice(body);
        parse_response(&block, max).unwrap()
    }

    #[test]
    fn compressed_payloads_that_cannot_be_decoded_are_never_passed_on_as_text() {
        let page = b"<html><body><p>Rivers run to the sea, and the sea is never full.</p></body></html>".repeat(50);
        let gz = compressed("gzip", &page);
        // Decoded: gzip, zlib deflate, raw deflate, two layers, and gzip bytes without a Content-Encoding.
        for (headers, body) in [
            ("Content-Encoding: gzip\r\n", gz.clone()),
            ("Content-Encoding: deflate\r\n", compressed("zlib", &page)),
            ("Content-Encoding: deflate\r\n", compressed("raw", &page)),
            ("Content-Encoding: gzip, gzip\r\n", compressed("gzip", &gz)),
            ("Content-Type: text/html\r\n", gz.clone()),
        ] {
            let response = response_with(headers, &body, 1 << 20);
            assert_eq!(response.content_decoding, ContentDecoding::Decoded, "{headers}");
            assert_eq!(response.payload, page, "{headers}");
        }
        // Over the limit, cut short, corrupt, or an encoding sluice does not decode.
        let too_large = response_with("Content-Encoding: gzip\r\n", &gz, 100);
        assert_eq!(too_large.content_decoding, ContentDecoding::TooLarge);
        assert_eq!(too_large.content_decoding.drop_reason(), Some("content_encoding_too_large"));
        let cut = response_with("Content-Encoding: gzip\r\n", &gz[..gz.len() / 2], 1 << 20);
        assert_eq!(cut.content_decoding, ContentDecoding::Truncated);
        let mut corrupt = gz.clone();
        for byte in &mut corrupt[20..60] {
            *byte ^= 0x55;
        }
        let corrupt = response_with("Content-Encoding: gzip\r\n", &corrupt, 1 << 20);
        assert_eq!(corrupt.content_decoding, ContentDecoding::Corrupt);
        // Brotli and zstd bodies are decoded; brotli has no magic number, so compressed bytes are told from
        // text by their control bytes, and garbage under `br` is corrupt.
        let mut brotli = Vec::new();
        brotli::BrotliCompress(&mut page.as_slice(), &mut brotli, &Default::default()).unwrap();
        let br = response_with("Content-Encoding: br\r\n", &brotli, 1 << 20);
        assert_eq!((br.content_decoding, br.payload), (ContentDecoding::Decoded, page.clone()));
        let zst = response_with("Content-Encoding: zstd\r\n", &zstd::encode_all(page.as_slice(), 3).unwrap(), 1 << 20);
        assert_eq!((zst.content_decoding, zst.payload), (ContentDecoding::Decoded, page.clone()));
        let garbage = response_with("Content-Encoding: br\r\n", &gz[10..], 1 << 20);
        assert_eq!(garbage.content_decoding, ContentDecoding::Corrupt);
        let unknown = response_with("Content-Encoding: compress\r\n", &gz[10..], 1 << 20);
        assert_eq!(unknown.content_decoding.drop_reason(), Some("content_encoding_unsupported"));
        let stored = response_with("Content-Encoding: br\r\n", &page, 1 << 20);
        assert_eq!((stored.content_decoding, stored.payload), (ContentDecoding::StoredDecoded, page.clone()));
        let plain = response_with("Content-Type: text/html\r\n", &page, 1 << 20);
        assert_eq!(plain.content_decoding, ContentDecoding::Identity);
        assert!(plain.content_decoding.is_usable() && plain.content_decoding.drop_reason().is_none());
    }
}

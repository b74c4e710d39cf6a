//! Parsing the HTTP response stored in a WARC `response` record.
//!
//! Deliberately lenient: crawlers store status lines and headers as the server sent them (LF-only line
//! endings, odd header names, duplicate fields), so this is a tolerant splitter rather than a strict
//! HTTP/1.1 parser. The payload is de-chunked when `Transfer-Encoding: chunked` and it parses as chunks,
//! and un-gzipped when `Content-Encoding` says gzip/deflate and the bytes really are compressed (many
//! crawlers store the decoded payload but keep the original header).

use std::io::Read;

/// An HTTP response: status, headers and the payload (decoded as described in the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
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
    let mut response = HttpResponse { status, headers, payload: Vec::new() };
    let mut payload = body.to_vec();
    if response.header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        if let Some(dechunked) = dechunk(&payload) {
            payload = dechunked;
        }
    }
    if let Some(encoding) = response.header("Content-Encoding").map(str::to_ascii_lowercase) {
        if let Some(decoded) = decode_content(&encoding, &payload, max_payload) {
            payload = decoded;
        }
    }
    response.payload = payload;
    Ok(response)
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

/// Decompresses a gzip/deflate payload when it really is compressed; `None` leaves it as is.
fn decode_content(encoding: &str, payload: &[u8], max_payload: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let limit = max_payload + 1;
    let ok = if (encoding.contains("gzip")) && payload.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(payload).take(limit).read_to_end(&mut out).is_ok()
    } else if encoding.contains("deflate") && payload.first().is_some_and(|b| b & 0x0f == 8) {
        flate2::read::ZlibDecoder::new(payload).take(limit).read_to_end(&mut out).is_ok()
    } else {
        false
    };
    (ok && !out.is_empty() && out.len() as u64 <= max_payload).then_some(out)
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
        assert_eq!(parse_response(block, 1 << 20).unwrap().payload, b"<p>plain</p>");
    }
}

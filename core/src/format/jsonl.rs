//! JSONL document files, plain, gzip or zstd, with DCLM's and dolma's field names.
//!
//! Reading: `text` is required; `id`, `url`, `source`, `warcinfo`, `metadata` and `attributes` map to the
//! document fields of the same name, as do sluice's own `warc_record_id`, `warc_date`, `content_type`,
//! `language`, `title`, `description` and `canonical_url`; any other top-level field is kept verbatim in `extra` and written back out, so a
//! DCLM-Pool or dolma file goes through sluice with its fields intact.
//!
//! Writing: `id` is omitted when it is the content-derived id (it is derived again on reading), so a file
//! without ids stays without ids.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};

use serde_json::{Map, Value};

use super::{Compression, DocumentReader, DocumentWriter, READ_BATCH_ROWS};
use crate::document::{content_id, Document, JsonMap};
use crate::error::{Error, Result};
use crate::store::Location;

/// Lines longer than this are skipped (counted as `jsonl_line_too_long`) instead of exhausting memory.
const MAX_LINE_BYTES: usize = 256 << 20;

pub struct JsonlReader {
    name: String,
    lines: Box<dyn BufRead + Send>,
    line_number: u64,
    buf: Vec<u8>,
    skipped: BTreeMap<String, u64>,
    repaired: BTreeMap<String, u64>,
    compression: Compression,
    /// The compressed stream broke: nothing more can be read.
    damaged: bool,
}

/// Whether a read error means damaged compressed data (as opposed to a network or disk failure, which
/// fails the shard so that a rerun retries it).
fn is_corrupt_stream(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    !matches!(error.kind(), TimedOut | ConnectionReset | ConnectionAborted | BrokenPipe | NotConnected | Interrupted)
}

impl JsonlReader {
    pub fn open(location: &Location, compression: Compression) -> Result<Self> {
        let raw = location.open_read()?;
        let decoded: Box<dyn Read + Send> = match compression {
            Compression::None => raw,
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, raw))),
            Compression::Zstd => Box::new(zstd::Decoder::new(raw).map_err(|e| Error::io(location.to_string(), e))?),
        };
        Ok(JsonlReader {
            name: location.to_string(),
            lines: Box::new(BufReader::with_capacity(1 << 20, decoded)),
            line_number: 0,
            buf: Vec::new(),
            skipped: BTreeMap::new(),
            repaired: BTreeMap::new(),
            compression,
            damaged: false,
        })
    }

    fn skip(&mut self, kind: &str) {
        *self.skipped.entry(kind.to_string()).or_default() += 1;
        tracing::debug!("{}:{}: skipped line ({kind})", self.name, self.line_number);
    }

    /// Reads the next line into `self.buf`; false at end of input.
    fn read_line(&mut self) -> Result<bool> {
        self.buf.clear();
        if self.damaged {
            return Ok(false);
        }
        let n = match (&mut self.lines).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut self.buf) {
            Ok(n) => n,
            Err(e) if self.compression != Compression::None && is_corrupt_stream(&e) => {
                // Damaged compressed data: keep every line read before it, count the loss, stop here.
                tracing::warn!(
                    "{}:{}: compressed stream damaged ({e}); the rest is lost",
                    self.name,
                    self.line_number + 1
                );
                self.damaged = true;
                self.buf.clear();
                self.skip("jsonl_stream_corrupt");
                return Ok(false);
            }
            Err(e) => {
                return Err(Error::Jsonl {
                    location: self.name.clone(),
                    line: self.line_number + 1,
                    message: e.to_string(),
                })
            }
        };
        if n == 0 {
            return Ok(false);
        }
        self.line_number += 1;
        if self.buf.len() > MAX_LINE_BYTES && self.buf.last() != Some(&b'\n') {
            // Drain the rest of the oversized line.
            let mut sink = Vec::new();
            loop {
                sink.clear();
                let m = (&mut self.lines)
                    .take(1 << 20)
                    .read_until(b'\n', &mut sink)
                    .map_err(|e| Error::io(&self.name, e))?;
                if m == 0 || sink.last() == Some(&b'\n') {
                    break;
                }
            }
            self.buf.clear();
            self.skip("jsonl_line_too_long");
        }
        Ok(true)
    }
}

impl DocumentReader for JsonlReader {
    fn next_batch(&mut self) -> Result<Option<Vec<Document>>> {
        let mut docs = Vec::new();
        while docs.len() < READ_BATCH_ROWS && self.read_line()? {
            let mut line = trim_ascii(&self.buf);
            if self.line_number == 1 {
                // A UTF-8 byte-order mark (Windows tools write one) is not part of the first record.
                line = trim_ascii(line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line));
            }
            if line.is_empty() {
                continue;
            }
            let parsed = parse_line(line).and_then(|(value, repair)| Ok((document_from_json(value)?, repair)));
            match parsed {
                Ok((doc, repair)) => {
                    if let Some(kind) = repair.kind() {
                        *self.repaired.entry(kind.into()).or_default() += 1;
                    }
                    docs.push(doc);
                }
                Err(kind) => self.skip(kind),
            }
        }
        Ok((!docs.is_empty()).then_some(docs))
    }

    fn skipped(&self) -> &BTreeMap<String, u64> {
        &self.skipped
    }

    fn repaired(&self) -> &BTreeMap<String, u64> {
        &self.repaired
    }
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// A repair made to a line so that it parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repair {
    None,
    /// Python's `json` writes lone UTF-16 surrogates (`"\ud800"`) that serde_json rejects: replaced by
    /// U+FFFD rather than losing the document.
    LoneSurrogates,
    /// Python's `json` writes `NaN`, `Infinity` and `-Infinity`, which are not JSON: replaced by `null`.
    NonFiniteNumbers,
}

impl Repair {
    fn kind(self) -> Option<&'static str> {
        match self {
            Repair::None => None,
            Repair::LoneSurrogates => Some("jsonl_lone_surrogates_replaced"),
            Repair::NonFiniteNumbers => Some("jsonl_nan_replaced"),
        }
    }
}

/// Parses one JSON line, repairing what Python's `json` writes and serde_json rejects (see [`Repair`]).
fn parse_line(line: &[u8]) -> std::result::Result<(Value, Repair), &'static str> {
    match serde_json::from_slice::<Value>(line) {
        Ok(value) => Ok((value, Repair::None)),
        Err(_) if has_surrogate_escape(line) => {
            let repaired = replace_lone_surrogates(line);
            match serde_json::from_slice(&repaired) {
                Ok(value) => Ok((value, Repair::LoneSurrogates)),
                Err(_) => parse_with_non_finite_numbers(&repaired).map(|v| (v, Repair::NonFiniteNumbers)),
            }
        }
        Err(_) if std::str::from_utf8(line).is_err() => Err("jsonl_invalid_utf8"),
        Err(_) => parse_with_non_finite_numbers(line).map(|v| (v, Repair::NonFiniteNumbers)),
    }
}

fn parse_with_non_finite_numbers(line: &[u8]) -> std::result::Result<Value, &'static str> {
    let replaced = replace_non_finite_numbers(line).ok_or("jsonl_invalid_json")?;
    serde_json::from_slice(&replaced).map_err(|_| "jsonl_invalid_json")
}

/// Replaces `NaN`, `Infinity` and `-Infinity` outside strings with `null`; `None` if there are none.
fn replace_non_finite_numbers(line: &[u8]) -> Option<Vec<u8>> {
    const TOKENS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut out = Vec::with_capacity(line.len());
    let (mut i, mut in_string, mut replaced) = (0, false, false);
    while i < line.len() {
        let byte = line[i];
        if in_string {
            out.push(byte);
            match byte {
                b'\\' if i + 1 < line.len() => {
                    out.push(line[i + 1]);
                    i += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
        } else if let Some(token) = TOKENS.iter().find(|t| line[i..].starts_with(t)) {
            out.extend_from_slice(b"null");
            i += token.len();
            replaced = true;
            continue;
        }
        out.push(byte);
        i += 1;
    }
    replaced.then_some(out)
}

/// Whether the line has a `\uD800`–`\uDFFF` escape (serde_json's message for a lone one varies).
fn has_surrogate_escape(line: &[u8]) -> bool {
    line.windows(4).any(|w| {
        w[0] == b'\\' && w[1] == b'u' && (w[2] | 0x20) == b'd' && matches!(w[3] | 0x20, b'8'..=b'9' | b'a'..=b'f')
    })
}

/// Replaces `\uD800`–`\uDFFF` escapes that are not part of a valid high+low pair with `\uFFFD`.
fn replace_lone_surrogates(line: &[u8]) -> Vec<u8> {
    fn escape_at(line: &[u8], i: usize) -> Option<u16> {
        let hex = line.get(i + 2..i + 6)?;
        if line[i] != b'\\' || line[i + 1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'\\' {
            if let Some(unit) = escape_at(line, i) {
                let is_high = (0xD800..0xDC00).contains(&unit);
                let is_low = (0xDC00..0xE000).contains(&unit);
                let paired = is_high && escape_at(line, i + 6).is_some_and(|n| (0xDC00..0xE000).contains(&n));
                if paired {
                    out.extend_from_slice(&line[i..i + 12]);
                    i += 12;
                    continue;
                }
                if is_high || is_low {
                    out.extend_from_slice(b"\\ufffd");
                    i += 6;
                    continue;
                }
            }
            // Any other escape: copy the backslash and the escaped character together.
            out.extend_from_slice(&line[i..(i + 2).min(line.len())]);
            i += 2;
            continue;
        }
        out.push(line[i]);
        i += 1;
    }
    out
}

fn take_string(map: &mut JsonMap, key: &str) -> Option<String> {
    match map.remove(key)? {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn take_object(map: &mut JsonMap, key: &str) -> std::result::Result<JsonMap, &'static str> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(object)) => Ok(object),
        Some(_) => Err("jsonl_field_not_an_object"),
    }
}

/// Maps one JSON object to a document (see the module docs); the error is the skip reason.
pub fn document_from_json(value: Value) -> std::result::Result<Document, &'static str> {
    let Value::Object(mut map) = value else { return Err("jsonl_not_an_object") };
    let text = match map.remove("text") {
        Some(Value::String(text)) => text,
        Some(_) => return Err("jsonl_text_not_a_string"),
        None => return Err("jsonl_missing_text"),
    };
    let mut doc = Document {
        url: take_string(&mut map, "url"),
        source: take_string(&mut map, "source"),
        warc_record_id: take_string(&mut map, "warc_record_id"),
        warc_date: take_string(&mut map, "warc_date"),
        content_type: take_string(&mut map, "content_type"),
        language: take_string(&mut map, "language"),
        title: take_string(&mut map, "title"),
        description: take_string(&mut map, "description"),
        canonical_url: take_string(&mut map, "canonical_url"),
        warcinfo: take_string(&mut map, "warcinfo"),
        metadata: take_object(&mut map, "metadata")?,
        attributes: take_object(&mut map, "attributes")?,
        ..Default::default()
    };
    doc.id = take_string(&mut map, "id").unwrap_or_else(|| content_id(doc.url.as_deref(), &text));
    doc.text = text;
    doc.extra = map;
    Ok(doc)
}

/// The JSON object for a document (see the module docs for which fields are written).
pub fn document_to_json(doc: &Document) -> Value {
    let mut map = Map::new();
    if doc.id != content_id(doc.url.as_deref(), &doc.text) {
        map.insert("id".into(), Value::String(doc.id.clone()));
    }
    map.insert("text".into(), Value::String(doc.text.clone()));
    let optional = [
        ("url", &doc.url),
        ("source", &doc.source),
        ("warc_record_id", &doc.warc_record_id),
        ("warc_date", &doc.warc_date),
        ("content_type", &doc.content_type),
        ("language", &doc.language),
        ("title", &doc.title),
        ("description", &doc.description),
        ("canonical_url", &doc.canonical_url),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            map.insert(key.into(), Value::String(value.clone()));
        }
    }
    if !doc.metadata.is_empty() {
        map.insert("metadata".into(), Value::Object(doc.metadata.clone()));
    }
    if let Some(warcinfo) = &doc.warcinfo {
        map.insert("warcinfo".into(), Value::String(warcinfo.clone()));
    }
    if !doc.attributes.is_empty() {
        map.insert("attributes".into(), Value::Object(doc.attributes.clone()));
    }
    for (key, value) in &doc.extra {
        map.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(map)
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Zstd(zstd::Encoder<'static, BufWriter<File>>),
}

pub struct JsonlWriter {
    name: String,
    sink: Sink,
    line: Vec<u8>,
}

impl JsonlWriter {
    pub fn new(file: File, compression: Compression, name: &str) -> Result<Self> {
        let buffered = BufWriter::with_capacity(1 << 20, file);
        let sink = match compression {
            Compression::None => Sink::Plain(buffered),
            // flate2 writes mtime 0 in the gzip header, so output is byte-identical run to run.
            Compression::Gzip => Sink::Gzip(flate2::write::GzEncoder::new(buffered, flate2::Compression::new(6))),
            Compression::Zstd => Sink::Zstd(zstd::Encoder::new(buffered, 3).map_err(|e| Error::io(name, e))?),
        };
        Ok(JsonlWriter { name: name.to_string(), sink, line: Vec::new() })
    }

    fn out(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w,
            Sink::Zstd(w) => w,
        }
    }
}

impl DocumentWriter for JsonlWriter {
    fn write(&mut self, docs: &[Document]) -> Result<()> {
        for doc in docs {
            let mut line = std::mem::take(&mut self.line);
            line.clear();
            serde_json::to_writer(&mut line, &document_to_json(doc)).map_err(|e| Error::Other(e.to_string()))?;
            line.push(b'\n');
            let result = self.out().write_all(&line);
            self.line = line;
            result.map_err(|e| Error::io(&self.name, e))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let name = self.name;
        let result = match self.sink {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(w) => w.finish().and_then(|mut w| w.flush()),
            Sink::Zstd(w) => w.finish().and_then(|mut w| w.flush()),
        };
        result.map_err(|e| Error::io(name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dclm_pool_lines_keep_their_fields() {
        let line = json!({"text": "a page", "metadata": {"WARC-Type": "response"}, "warcinfo": "isPartOf: CC"});
        let doc = document_from_json(line.clone()).unwrap();
        assert_eq!(doc.metadata["WARC-Type"], "response");
        assert_eq!(doc.warcinfo.as_deref(), Some("isPartOf: CC"));
        assert_eq!(document_to_json(&doc), line, "no id is added to a file that had none");
    }

    #[test]
    fn dolma_lines_keep_unknown_fields() {
        let line = json!({"id": "d1", "text": "t", "source": "cc", "added": "2023-01-01", "metadata": {"x": 1}});
        let doc = document_from_json(line.clone()).unwrap();
        assert_eq!(doc.id, "d1");
        assert_eq!(doc.extra["added"], "2023-01-01");
        assert_eq!(document_to_json(&doc), line);
    }

    #[test]
    fn bad_lines_have_reasons() {
        assert_eq!(document_from_json(json!([1])), Err("jsonl_not_an_object"));
        assert_eq!(document_from_json(json!({"url": "x"})), Err("jsonl_missing_text"));
        assert_eq!(document_from_json(json!({"text": 3})), Err("jsonl_text_not_a_string"));
        assert_eq!(parse_line(b"{\"text\": \"x\""), Err("jsonl_invalid_json"));
        assert_eq!(parse_line(b"{\"text\": \"\xff\"}"), Err("jsonl_invalid_utf8"));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let (value, repair) = parse_line(br#"{"text": "a\ud800b \ud83d\ude00 \udc00"}"#).unwrap();
        assert_eq!(repair, Repair::LoneSurrogates);
        assert_eq!(value["text"], "a\u{fffd}b \u{1F600} \u{fffd}");
    }

    #[test]
    fn python_non_finite_numbers_become_null_outside_strings() {
        let line = br#"{"text": "NaN stays, Infinity too", "attributes": {"a": NaN, "b": -Infinity, "c": [Infinity]}}"#;
        let (value, repair) = parse_line(line).unwrap();
        assert_eq!(repair, Repair::NonFiniteNumbers);
        assert_eq!(value["text"], "NaN stays, Infinity too");
        assert_eq!(value["attributes"], serde_json::json!({"a": null, "b": null, "c": [null]}));
        assert_eq!(parse_line(br#"{"text": "x", "a": NaNo}"#), Err("jsonl_invalid_json"));
    }

    fn read_file(name: &str, bytes: &[u8]) -> (Vec<String>, BTreeMap<String, u64>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let location = Location::parse(path.to_str().unwrap()).unwrap();
        let mut reader = super::super::open_reader(&location).unwrap();
        let mut texts = Vec::new();
        while let Some(batch) = reader.next_batch().unwrap() {
            texts.extend(batch.into_iter().map(|d| d.text));
        }
        (texts, reader.skipped().clone())
    }

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"text\": \"document {i} {}\"}}\n", "x".repeat(i % 97)))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn a_damaged_compressed_file_keeps_the_lines_before_the_damage() {
        let plain = lines(5000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        std::io::Write::write_all(&mut gz, &plain).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&plain[..], 3).unwrap();
        for (name, compressed) in [("a.jsonl.gz", gz), ("a.jsonl.zst", zst)] {
            // Cut the file at 60 %: the lines before the cut read, the loss is counted.
            let (texts, skipped) = read_file(name, &compressed[..compressed.len() * 6 / 10]);
            assert!(texts.len() > 1000 && texts.len() < 5000, "{name}: {} lines", texts.len());
            for (i, text) in texts.iter().enumerate() {
                assert!(text.starts_with(&format!("document {i} ")), "{name}: line {i} is {text}");
            }
            assert_eq!(skipped.get("jsonl_stream_corrupt"), Some(&1), "{name}");
            // Garbage in the middle of the stream: the same.
            let mut garbled = compressed.clone();
            let middle = garbled.len() / 2;
            garbled[middle..middle + 64].fill(0xA5);
            let (texts, skipped) = read_file(name, &garbled);
            assert!(
                texts.len() < 5000 && skipped.values().sum::<u64>() >= 1,
                "{name}: {} lines, {skipped:?}",
                texts.len()
            );
        }
    }

    #[test]
    fn a_byte_order_mark_on_line_one_is_not_a_bad_line() {
        let (texts, skipped) = read_file("bom.jsonl", b"\xEF\xBB\xBF{\"text\": \"first\"}\n{\"text\": \"second\"}\n");
        assert_eq!(texts, ["first", "second"]);
        assert!(skipped.is_empty(), "{skipped:?}");
    }
}

//! The document model: what every stage reads and writes.
//!
//! A [`Document`] is one web page or corpus entry. Its well-known fields are typed; everything else lives in
//! three free-form JSON maps:
//! * `metadata` — facts about where the document came from (for WARC input: every WARC header of the
//!   record, exactly like DCLM-Pool's `metadata`);
//! * `attributes` — values later stages compute (language scores, word counts, quality scores);
//! * `extra` — top-level JSONL fields sluice does not model, kept verbatim so DCLM-Pool and dolma files
//!   round-trip unchanged.
//!
//! ## Document ids
//! Ids are stable across runs and machines:
//! 1. a WARC record's id is its `WARC-Record-ID` UUID (`<urn:uuid:8789ea4e-…>` → `8789ea4e-…`), so a
//!    document can be traced back to its record; other record-id forms are hashed (xxh3-128, hex);
//! 2. a document read from JSONL/Parquet keeps the `id` it has;
//! 3. otherwise the id is the xxh3-128 hash (hex) of `url`, a NUL byte and `text` — identical pages at the
//!    same URL get the same id, which is what exact dedup wants.

use serde_json::{Map, Value};
use xxhash_rust::xxh3::xxh3_128;

/// A JSON object (keys keep their insertion order).
pub type JsonMap = Map<String, Value>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Stable id (see the module docs for how it is derived).
    pub id: String,
    /// The document text (UTF-8).
    pub text: String,
    /// The page URL (`WARC-Target-URI` for crawled pages).
    pub url: Option<String>,
    /// Where the document came from: the input file for ingested WARCs, dolma's `source` for JSONL.
    pub source: Option<String>,
    /// `WARC-Record-ID` of the record the text was extracted from.
    pub warc_record_id: Option<String>,
    /// `WARC-Date` of that record (as written in the WARC, ISO-8601).
    pub warc_date: Option<String>,
    /// MIME type of the payload (from the HTTP `Content-Type`, lower-cased, without parameters).
    pub content_type: Option<String>,
    /// Language code, once known (from `<html lang>` at ingest, or language ID later).
    pub language: Option<String>,
    /// Page title, when the extractor found one.
    pub title: Option<String>,
    /// The page's meta description, when present.
    pub description: Option<String>,
    /// The page's canonical URL (`<link rel="canonical">`), when present.
    pub canonical_url: Option<String>,
    /// Payload of the most recent `warcinfo` record before this document, as DCLM-Pool stores it.
    pub warcinfo: Option<String>,
    /// Source metadata: all WARC headers for crawled pages; the `metadata` object of JSONL input.
    pub metadata: JsonMap,
    /// Values computed by stages (enrichers).
    pub attributes: JsonMap,
    /// Unmodelled top-level JSONL fields, kept verbatim for round-trips.
    pub extra: JsonMap,
}

impl Document {
    /// A document with this text and an id derived from `url` + `text` (rule 3 of the module docs).
    pub fn from_text(text: impl Into<String>, url: Option<String>) -> Self {
        let text = text.into();
        let id = content_id(url.as_deref(), &text);
        Document { id, text, url, ..Default::default() }
    }
}

/// The id of a document extracted from the WARC record with this `WARC-Record-ID`.
pub fn record_id_to_doc_id(record_id: &str) -> String {
    let trimmed = record_id.trim().trim_start_matches('<').trim_end_matches('>');
    match trimmed.strip_prefix("urn:uuid:") {
        Some(uuid) if !uuid.is_empty() => uuid.to_ascii_lowercase(),
        _ => format!("{:032x}", xxh3_128(record_id.as_bytes())),
    }
}

/// The content-derived id: xxh3-128 of `url`, a NUL byte, and `text`, as 32 hex digits.
pub fn content_id(url: Option<&str>, text: &str) -> String {
    let url = url.unwrap_or("");
    let mut buf = Vec::with_capacity(url.len() + 1 + text.len());
    buf.extend_from_slice(url.as_bytes());
    buf.push(0);
    buf.extend_from_slice(text.as_bytes());
    format!("{:032x}", xxh3_128(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_become_uuids() {
        assert_eq!(
            record_id_to_doc_id("<urn:uuid:8789EA4E-e914-4ec6-8b7a-ecdd45d340a7>"),
            "8789ea4e-e914-4ec6-8b7a-ecdd45d340a7"
        );
        // Non-UUID record ids are hashed, deterministically.
        let a = record_id_to_doc_id("<http://example.org/rec/1>");
        assert_eq!(a.len(), 32);
        assert_eq!(a, record_id_to_doc_id("<http://example.org/rec/1>"));
        assert_ne!(a, record_id_to_doc_id("<http://example.org/rec/2>"));
    }

    #[test]
    fn content_ids_depend_on_url_and_text() {
        let a = content_id(Some("http://a"), "hello");
        assert_eq!(a, content_id(Some("http://a"), "hello"));
        assert_ne!(a, content_id(Some("http://b"), "hello"));
        assert_ne!(a, content_id(Some("http://a"), "hello!"));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(content_id(Some("ab"), "c"), content_id(Some("a"), "bc"));
    }
}

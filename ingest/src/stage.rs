//! The ingest stage: WARC/WET files in, documents out.
//!
//! * `response` records: HTTP parse → keep HTML payloads (`WARC-Identified-Payload-Type`, else the HTTP
//!   `Content-Type`, else a sniff of the bytes) → charset decode → main-content extraction → a document
//!   with `text`, `url`, every WARC header in `metadata` and the latest `warcinfo` payload, as DCLM-Pool.
//! * `conversion` records (WET): the text is the document.
//! * `warcinfo` records are remembered for the documents that follow; other record types are counted.
//!
//! Every candidate record (response or conversion) becomes a document or a counted drop:
//! `docs_in == docs_out + sum(drops)` — also candidates the reader could not deliver (a record over the
//! limit, one cut off by a truncated gzip member, each ARC record) and responses whose compressed payload
//! cannot be decoded. A file without a single record fails ([`IngestError::NoRecords`]).

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_core::document::{content_id, record_id_to_doc_id};
use sluice_core::runner::{DocumentSink, InputShard, ShardStats, Stage};
use sluice_core::{Document, Result};

use crate::charset::{decode_html, url_tld};
use crate::error::IngestError;
use crate::extract::{ExtractError, ExtractLimits, Extracted, Extractor, ExtractorKind, PageTextExtractor};
use crate::http::{parse_response, ContentDecoding};
use crate::warc::{read_warc, Limits, Problem, ProblemKind, WarcEvent, WarcRecord};

/// Parameters of the ingest stage (the `ingest:` step of a recipe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Input WARC/WET files or folders (paths or URLs). Optional in a recipe step that follows another.
    #[serde(skip_serializing)]
    pub input: Vec<String>,
    /// Where to write documents. Default: `<recipe output>/<step number>-ingest`.
    #[serde(skip_serializing)]
    pub output: Option<String>,
    /// HTML extractor: `article` (main content), `page` (all visible text) or `resiliparse` (DCLM-Pool's).
    pub extractor: ExtractorKind,
    /// Pages with more elements than this, or nesting deeper than `max_depth`, are not parsed into a DOM:
    /// their tag-stripped text is used (counted as `extract_element_limit` / `extract_depth_limit`).
    pub max_elements: usize,
    pub max_depth: usize,
    /// HTML payloads larger than this many bytes are dropped as `html_too_large`.
    pub max_html_bytes: u64,
    /// Records larger than this many bytes are skipped as `record_too_large`.
    pub max_record_bytes: u64,
    /// The documents' `source`; default: the input file's path relative to its input folder.
    pub source: Option<String>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            input: Vec::new(),
            output: None,
            extractor: ExtractorKind::Article,
            max_elements: ExtractLimits::default().max_elements,
            max_depth: ExtractLimits::default().max_depth,
            max_html_bytes: 8 << 20,
            max_record_bytes: 64 << 20,
            source: None,
        }
    }
}

/// The ingest stage, built from its config.
pub struct IngestStage {
    config: IngestConfig,
    extractor: Box<dyn Extractor>,
    fallback: PageTextExtractor,
}

impl IngestStage {
    pub fn new(config: IngestConfig) -> Self {
        let limits = ExtractLimits { max_elements: config.max_elements, max_depth: config.max_depth };
        IngestStage { extractor: config.extractor.build(limits), fallback: PageTextExtractor::new(limits), config }
    }

    fn limits(&self) -> Limits {
        Limits { max_record_bytes: self.config.max_record_bytes, ..Limits::default() }
    }
}

/// What a shard's records share: where they came from and the latest `warcinfo`.
struct ShardContext {
    source: String,
    warcinfo: Option<String>,
}

fn is_candidate(record_type: &str) -> bool {
    record_type == "response" || record_type == "conversion"
}

impl Stage for IngestStage {
    fn name(&self) -> &str {
        "ingest"
    }

    fn version(&self) -> u32 {
        // 2: stray bytes and huge lying lengths re-framed, ARC records and undecodable compressed payloads
        // counted as drops, declared UTF-8 kept as UTF-8.
        2
    }

    fn fingerprint(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_default()
    }

    fn accepts(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        name.contains(".warc") || name.contains(".wet") || name.ends_with(".arc") || name.ends_with(".arc.gz")
    }

    fn process(&self, input: &InputShard<'_>, out: &mut DocumentSink, stats: &mut ShardStats) -> Result<()> {
        let reader = input.open_raw()?;
        let mut context = ShardContext {
            source: self.config.source.clone().unwrap_or_else(|| input.relative.clone()),
            warcinfo: None,
        };
        let limits = self.limits();
        let mut records_seen = 0u64;
        let mut first_problem: Option<Problem> = None;
        read_warc(reader, &limits, &mut |event| match event {
            WarcEvent::Problem(problem) => {
                tracing::debug!(
                    "{}@{}: {} ({})",
                    input.location,
                    problem.offset,
                    problem.kind.as_str(),
                    problem.detail
                );
                stats.error(problem.kind.as_str());
                if problem.kind == ProblemKind::ArcFormat {
                    stats.count("records:arc", 1);
                }
                // A problem with a record type was met inside a record: the file does hold records.
                if problem.record_type.is_some() {
                    records_seen += 1;
                }
                if problem.record_lost && problem.record_type.as_deref().is_some_and(is_candidate) {
                    stats.docs_in += 1;
                    stats.drop_doc(problem.kind.as_str());
                }
                first_problem.get_or_insert(problem);
                stop_at_limit(input, stats)
            }
            WarcEvent::Record(record) => {
                records_seen += 1;
                self.on_record(record, &mut context, out, stats).map_err(Stop::Failed)?;
                stop_at_limit(input, stats)
            }
        })
        .or_else(|stop| match stop {
            Stop::Limit => Ok(()),
            Stop::Failed(e) => Err(e),
        })?;
        // Bytes but not one record: not a WARC file (a PNG, a tar), which must fail rather than pass as an
        // empty shard. An empty file (or one of line breaks only) has no problems and passes with zero
        // records: it is a valid, empty WARC — writers leave one behind when killed after opening their next
        // file — and failing it would fail a whole job over a file that has nothing to lose.
        match first_problem {
            Some(problem) if records_seen == 0 => Err(IngestError::NoRecords {
                location: input.location.to_string(),
                first_problem: format!("{} at byte {}: {}", problem.kind.as_str(), problem.offset, problem.detail),
            }
            .into()),
            _ => Ok(()),
        }
    }
}

/// Why reading a file ended early.
enum Stop {
    /// A smoke run's `--limit` was reached: not an error.
    Limit,
    Failed(sluice_core::Error),
}

/// Ends the read once a `--limit` run has seen its number of candidate records.
fn stop_at_limit(input: &InputShard<'_>, stats: &ShardStats) -> std::result::Result<(), Stop> {
    if input.limit_reached(stats.docs_in) {
        Err(Stop::Limit)
    } else {
        Ok(())
    }
}

impl IngestStage {
    fn on_record(
        &self,
        record: WarcRecord,
        context: &mut ShardContext,
        out: &mut DocumentSink,
        stats: &mut ShardStats,
    ) -> Result<()> {
        let record_type = record.record_type();
        stats.count(&format!("records:{record_type}"), 1);
        match record_type.as_str() {
            "warcinfo" => {
                context.warcinfo = Some(String::from_utf8_lossy(&record.block).trim().to_string());
                Ok(())
            }
            "response" => {
                stats.docs_in += 1;
                match self.response_document(&record, context, stats) {
                    Ok(doc) => out.push(doc),
                    Err(reason) => {
                        stats.drop_doc(reason);
                        Ok(())
                    }
                }
            }
            "conversion" => {
                stats.docs_in += 1;
                match conversion_document(&record, context, stats) {
                    Ok(doc) => out.push(doc),
                    Err(reason) => {
                        stats.drop_doc(reason);
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    /// The document for a `response` record, or the reason it is dropped.
    fn response_document(
        &self,
        record: &WarcRecord,
        context: &ShardContext,
        stats: &mut ShardStats,
    ) -> Result<Document, &'static str> {
        let response = parse_response(&record.block, self.config.max_html_bytes).map_err(|_| "not_http")?;
        stats.count(&format!("http_status:{}xx", response.status / 100), 1);
        let declared_html = declared_html(record, &response.mime_type());
        if declared_html == Some(false) {
            return Err("not_html");
        }
        match response.content_decoding {
            ContentDecoding::Identity => {}
            ContentDecoding::Decoded => stats.count("content_encoding:decoded", 1),
            ContentDecoding::StoredDecoded => stats.count("content_encoding:stored_decoded", 1),
            failed => {
                // Compressed bytes are never decoded as text. Broken data is also an error; a payload over the
                // limit or in an encoding sluice does not decode is a drop only, as `html_too_large` is.
                let reason = failed.drop_reason().unwrap_or("content_encoding_corrupt");
                if matches!(failed, ContentDecoding::Truncated | ContentDecoding::Corrupt) {
                    stats.error(reason);
                }
                return Err(reason);
            }
        }
        if declared_html.is_none() && !sniffs_as_html(&response.payload) {
            return Err("not_html");
        }
        if response.payload.len() as u64 > self.config.max_html_bytes {
            return Err("html_too_large");
        }
        let url = record.target_uri();
        let decoded = decode_html(&response.payload, response.header("Content-Type"), url.and_then(url_tld));
        stats.count(&format!("charset:{}", decoded.encoding.name().to_ascii_lowercase()), 1);
        stats.count(&format!("charset_from:{}", decoded.source.as_str()), 1);
        if decoded.had_errors {
            stats.error("invalid_bytes_replaced");
        }
        if decoded.unknown_label.is_some() {
            stats.error("unknown_charset_label");
        }
        let extracted = self.extract(&decoded.text, url, stats)?;
        if extracted.text.trim().is_empty() {
            return Err("empty_text");
        }
        let mut doc = base_document(record, context, extracted.text);
        doc.content_type = response.mime_type();
        doc.language = extracted.language;
        doc.title = extracted.title;
        doc.description = extracted.description;
        doc.canonical_url = extracted.canonical_url;
        doc.attributes.insert("http_status".into(), Value::from(response.status));
        doc.attributes.insert("charset".into(), Value::from(decoded.encoding.name()));
        Ok(doc)
    }

    /// Extracts text; a panic inside the extractor is caught and counted, never fatal.
    fn extract(&self, html: &str, url: Option<&str>, stats: &mut ShardStats) -> Result<Extracted, &'static str> {
        let attempt = catch_unwind(AssertUnwindSafe(|| self.extractor.extract(html, url)));
        let result = match attempt {
            Ok(Err(limit @ (ExtractError::TooManyElements(..) | ExtractError::TooDeep(..)))) => {
                stats.error(if matches!(limit, ExtractError::TooDeep(..)) {
                    "extract_depth_limit"
                } else {
                    "extract_element_limit"
                });
                catch_unwind(AssertUnwindSafe(|| self.fallback.extract(html, url))).map_err(|_| "extract_panicked")?
            }
            Ok(result) => result,
            Err(_) => return Err("extract_panicked"),
        };
        match result {
            Ok(extracted) => {
                if extracted.fell_back {
                    stats.count("extract_fallback_page_text", 1);
                }
                Ok(extracted)
            }
            Err(_) => Err("extract_failed"),
        }
    }
}

/// Whether a response's payload is HTML by its headers: `WARC-Identified-Payload-Type`, else the HTTP
/// `Content-Type`; `None` when neither says.
fn declared_html(record: &WarcRecord, http_mime: &Option<String>) -> Option<bool> {
    let html_mime = |m: &str| {
        let m = m.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        m == "text/html" || m == "application/xhtml+xml"
    };
    if let Some(identified) = record.header("WARC-Identified-Payload-Type").filter(|v| !v.is_empty()) {
        return Some(html_mime(identified));
    }
    http_mime.as_deref().map(html_mime)
}

/// Whether the first bytes of an undeclared payload look like HTML.
fn sniffs_as_html(payload: &[u8]) -> bool {
    let head = payload[..payload.len().min(1024)].to_ascii_lowercase();
    memchr::memmem::find(&head, b"<html").is_some() || memchr::memmem::find(&head, b"<!doctype html").is_some()
}

/// The document for a WET `conversion` record.
fn conversion_document(
    record: &WarcRecord,
    context: &ShardContext,
    stats: &mut ShardStats,
) -> Result<Document, &'static str> {
    let text = match std::str::from_utf8(&record.block) {
        Ok(text) => text.to_string(),
        Err(_) => {
            stats.error("invalid_bytes_replaced");
            String::from_utf8_lossy(&record.block).into_owned()
        }
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err("empty_text");
    }
    let mut doc = base_document(record, context, text);
    doc.content_type = record.header("Content-Type").map(|c| c.to_ascii_lowercase());
    Ok(doc)
}

/// Fields every ingested document has: id, url, WARC ids, metadata (all WARC headers), warcinfo.
fn base_document(record: &WarcRecord, context: &ShardContext, text: String) -> Document {
    let url = record.target_uri().map(str::to_string);
    let record_id = record.header("WARC-Record-ID").map(str::to_string);
    let id = match &record_id {
        Some(rid) => record_id_to_doc_id(rid),
        None => content_id(url.as_deref(), &text),
    };
    let mut doc = Document {
        id,
        text,
        url,
        source: Some(context.source.clone()),
        warc_record_id: record_id,
        warc_date: record.header("WARC-Date").map(str::to_string),
        warcinfo: context.warcinfo.clone(),
        ..Default::default()
    };
    for (name, value) in &record.headers {
        doc.metadata.insert(name.clone(), Value::String(value.clone()));
    }
    doc
}

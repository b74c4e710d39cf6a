//! The resilient WARC record reader.
//!
//! Records are framed by `Content-Length`, and every disagreement between that header and the data is
//! resolved towards the data and reported:
//! * gzip-per-record files (Common Crawl) are decoded one member at a time; a corrupt or truncated member is
//!   reported and the reader resumes at the next gzip header, and a member boundary ends a record whose
//!   `Content-Length` is too large;
//! * in uncompressed files, a record whose `Content-Length` is wrong is re-framed at the next
//!   `WARC/x.y` line (searching inside an over-long block, or past a short one);
//! * bytes that are not a record are skipped up to the next record start; a header block without a version
//!   line (cc_net WET fixtures) is accepted; an ARC file is recognised and refused in one problem.
//!
//! Nothing is dropped silently: each of these yields a [`Problem`] saying whether a record was lost.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::GzDecoder;

use super::record::WarcRecord;
use super::stream::{Counted, Pushback};

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Bounds on the work and memory one record may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Records with a larger content block are skipped (reported as `record_too_large`).
    pub max_record_bytes: u64,
    /// A header block larger than this is not a WARC header (reported as `garbage_skipped`).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_record_bytes: 64 << 20, max_header_bytes: 1 << 20 }
    }
}

/// Kinds of problems the reader reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A gzip member could not be decompressed.
    GzipCorrupt,
    /// The file ends inside a gzip member.
    GzipTruncated,
    /// Bytes that are not part of any record were skipped.
    GarbageSkipped,
    /// A header block without a `WARC/x.y` line (accepted).
    MissingVersionLine,
    /// No usable `Content-Length`: the block runs to the next record start.
    BadContentLength,
    /// `Content-Length` disagreed with the data; the record was re-framed.
    ContentLengthMismatch,
    /// The file ends inside a record (the partial record is kept).
    TruncatedRecord,
    /// The content block exceeds [`Limits::max_record_bytes`]; the record is skipped.
    RecordTooLarge,
    /// The file is an ARC file, not WARC.
    ArcFormat,
    /// Reading the file failed.
    ReadError,
}

impl ProblemKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProblemKind::GzipCorrupt => "gzip_corrupt",
            ProblemKind::GzipTruncated => "gzip_truncated",
            ProblemKind::GarbageSkipped => "garbage_skipped",
            ProblemKind::MissingVersionLine => "missing_version_line",
            ProblemKind::BadContentLength => "bad_content_length",
            ProblemKind::ContentLengthMismatch => "content_length_mismatch",
            ProblemKind::TruncatedRecord => "truncated_record",
            ProblemKind::RecordTooLarge => "record_too_large",
            ProblemKind::ArcFormat => "unsupported_format_arc",
            ProblemKind::ReadError => "read_error",
        }
    }
}

/// Something wrong in the input, where, and what it cost.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Byte offset in the file (of the gzip member for compressed files).
    pub offset: u64,
    /// True when a record was lost with this problem (it is not emitted).
    pub record_lost: bool,
    /// `WARC-Type` of the affected record, when its headers were read.
    pub record_type: Option<String>,
    /// `WARC-Record-ID` of the affected record, when its headers were read.
    pub record_id: Option<String>,
    pub detail: String,
}

/// What the reader meets, in file order.
#[derive(Debug)]
pub enum WarcEvent {
    Record(WarcRecord),
    Problem(Problem),
}

/// Reads every record of a WARC/WET file (gzip-per-record, one gzip stream, or uncompressed), calling
/// `on_event` for each record and each problem. Returns only `on_event`'s errors: input problems are
/// events, never errors.
pub fn read_warc<R: Read, E>(
    input: R,
    limits: &Limits,
    on_event: &mut dyn FnMut(WarcEvent) -> Result<(), E>,
) -> Result<(), E> {
    let mut raw = Counted::new(BufReader::with_capacity(1 << 20, input));
    let is_gzip = match raw.fill_buf() {
        Ok(head) if head.is_empty() => return Ok(()),
        Ok(head) => head.starts_with(&GZIP_MAGIC[..2]),
        Err(e) => return on_event(WarcEvent::Problem(read_problem(ProblemKind::ReadError, 0, e, None))),
    };
    if is_gzip {
        read_gzip_members(&mut raw, limits, on_event)
    } else {
        let mut stream = Pushback::new(&mut raw);
        parse_records(&mut stream, Framing::Plain, 0, limits, on_event).map(|_| ())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Framing {
    /// Inside one gzip member: its end is a hard record boundary.
    Member,
    /// An uncompressed stream.
    Plain,
}

enum StreamEnd {
    Finished,
    /// The stream failed (problem already reported).
    Failed,
    /// Stop reading the file (problem already reported).
    Abort,
}

fn read_gzip_members<R: BufRead, E>(
    raw: &mut Counted<R>,
    limits: &Limits,
    on_event: &mut dyn FnMut(WarcEvent) -> Result<(), E>,
) -> Result<(), E> {
    let mut recovering = false;
    loop {
        let start = raw.position();
        let at_member = match raw.fill_buf() {
            Ok(head) if head.is_empty() => return Ok(()),
            Ok(head) => head.starts_with(&GZIP_MAGIC),
            Err(e) => return on_event(WarcEvent::Problem(read_problem(ProblemKind::ReadError, start, e, None))),
        };
        if !at_member {
            let skipped = match skip_to_gzip_magic(raw) {
                Ok(n) => n,
                Err(e) => return on_event(WarcEvent::Problem(read_problem(ProblemKind::ReadError, start, e, None))),
            };
            // After a corrupt member the skipped bytes are the rest of that member: already reported.
            if !recovering {
                on_event(WarcEvent::Problem(Problem {
                    kind: ProblemKind::GarbageSkipped,
                    offset: start,
                    record_lost: false,
                    record_type: None,
                    record_id: None,
                    detail: format!("{skipped} bytes that are not a gzip member"),
                }))?;
            }
            recovering = false;
            continue;
        }
        recovering = false;
        let end = {
            let decoder = GzDecoder::new(&mut *raw);
            let mut stream = Pushback::new(BufReader::with_capacity(1 << 16, decoder));
            parse_records(&mut stream, Framing::Member, start, limits, on_event)?
        };
        match end {
            StreamEnd::Finished => {}
            StreamEnd::Abort => return Ok(()),
            StreamEnd::Failed => {
                recovering = true;
                if raw.position() == start {
                    raw.consume(1); // make progress past a header that failed to parse
                }
            }
        }
    }
}

/// Skips to the next gzip member header (or the end); returns the bytes skipped.
fn skip_to_gzip_magic<R: BufRead>(raw: &mut Counted<R>) -> io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = raw.fill_buf()?;
        if buf.is_empty() {
            return Ok(skipped);
        }
        // Look for the magic in this buffer; keep the last two bytes in case it straddles a refill.
        if let Some(pos) = buf.windows(3).position(|w| w == GZIP_MAGIC) {
            raw.consume(pos);
            return Ok(skipped + pos as u64);
        }
        let advance = if buf.len() > 2 { buf.len() - 2 } else { buf.len() };
        raw.consume(advance);
        skipped += advance as u64;
        if advance == 0 {
            return Ok(skipped);
        }
    }
}

/// What one attempt to read a record produced.
enum Step {
    Record(WarcRecord, Vec<Problem>),
    Skip(Problem),
    Abort(Problem),
    End,
}

/// The record being read, for reporting what a read error cost.
#[derive(Default)]
struct Current {
    record_type: Option<String>,
    record_id: Option<String>,
}

fn parse_records<S: BufRead, E>(
    stream: &mut Pushback<S>,
    framing: Framing,
    base_offset: u64,
    limits: &Limits,
    on_event: &mut dyn FnMut(WarcEvent) -> Result<(), E>,
) -> Result<StreamEnd, E> {
    loop {
        let offset = match framing {
            Framing::Member => base_offset,
            Framing::Plain => base_offset + stream.position(),
        };
        let mut current = Current::default();
        match parse_one(stream, framing, offset, limits, &mut current) {
            Ok(Step::End) => return Ok(StreamEnd::Finished),
            Ok(Step::Record(record, problems)) => {
                for problem in problems {
                    on_event(WarcEvent::Problem(problem))?;
                }
                on_event(WarcEvent::Record(record))?;
            }
            Ok(Step::Skip(problem)) => on_event(WarcEvent::Problem(problem))?,
            Ok(Step::Abort(problem)) => {
                on_event(WarcEvent::Problem(problem))?;
                return Ok(StreamEnd::Abort);
            }
            Err(e) => {
                let kind = match (framing, e.kind()) {
                    (Framing::Member, io::ErrorKind::UnexpectedEof) => ProblemKind::GzipTruncated,
                    (Framing::Member, _) => ProblemKind::GzipCorrupt,
                    (Framing::Plain, _) => ProblemKind::ReadError,
                };
                on_event(WarcEvent::Problem(read_problem(kind, offset, e, Some(current))))?;
                return Ok(StreamEnd::Failed);
            }
        }
    }
}

fn read_problem(kind: ProblemKind, offset: u64, error: io::Error, current: Option<Current>) -> Problem {
    let current = current.unwrap_or_default();
    Problem {
        kind,
        offset,
        // A record is lost if we were inside one; between records nothing is lost.
        record_lost: current.record_type.is_some(),
        record_type: current.record_type,
        record_id: current.record_id,
        detail: error.to_string(),
    }
}

fn parse_one<S: BufRead>(
    stream: &mut Pushback<S>,
    framing: Framing,
    offset: u64,
    limits: &Limits,
    current: &mut Current,
) -> io::Result<Step> {
    skip_line_breaks(stream)?;
    if stream.at_end()? {
        return Ok(Step::End);
    }
    let problem = |kind: ProblemKind, lost: bool, current: &Current, detail: String| Problem {
        kind,
        offset,
        record_lost: lost,
        record_type: current.record_type.clone(),
        record_id: current.record_id.clone(),
        detail,
    };

    // 1. The header block.
    let lines = read_header_block(stream, limits.max_header_bytes)?;
    let first = lines.first().map(Vec::as_slice).unwrap_or_default();
    let mut problems = Vec::new();
    let (version, header_lines) = if first.starts_with(b"WARC/") {
        (String::from_utf8_lossy(first).trim().to_string(), &lines[1..])
    } else if first.starts_with(b"filedesc://") {
        return Ok(Step::Abort(problem(
            ProblemKind::ArcFormat,
            false,
            current,
            "ARC files are not supported; convert them to WARC (e.g. with warcio or jwarc)".into(),
        )));
    } else if looks_like_warc_headers(&lines) {
        problems.push(problem(
            ProblemKind::MissingVersionLine,
            false,
            current,
            "header block without a WARC/x.y line".into(),
        ));
        (String::new(), &lines[..])
    } else {
        let header_bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        let skipped = header_bytes as u64 + skip_to_record_start(stream)?;
        return Ok(Step::Skip(problem(
            ProblemKind::GarbageSkipped,
            false,
            current,
            format!("{skipped} bytes before the next record"),
        )));
    };
    let mut record = WarcRecord { version, headers: parse_headers(header_lines), block: Vec::new(), offset };
    current.record_type = Some(record.record_type());
    current.record_id = record.header("WARC-Record-ID").map(str::to_string);

    // 2. The content block.
    let declared = record.header("Content-Length").and_then(|v| v.parse::<u64>().ok());
    let Some(length) = declared else {
        problems.push(problem(
            ProblemKind::BadContentLength,
            false,
            current,
            format!("Content-Length {:?}", record.header("Content-Length")),
        ));
        let (block, too_large) = read_to_record_start(stream, limits.max_record_bytes)?;
        if too_large {
            return Ok(Step::Skip(problem(
                ProblemKind::RecordTooLarge,
                true,
                current,
                "block without Content-Length exceeds the record limit".into(),
            )));
        }
        record.block = trim_trailing_line_breaks(block);
        return Ok(Step::Record(record, problems));
    };
    if length > limits.max_record_bytes {
        io::copy(&mut (&mut *stream).take(length), &mut io::sink())?;
        skip_line_breaks(stream)?;
        return Ok(Step::Skip(problem(
            ProblemKind::RecordTooLarge,
            true,
            current,
            format!("{length} bytes > limit {}", limits.max_record_bytes),
        )));
    }
    let mut block = Vec::with_capacity(length.min(1 << 24) as usize);
    (&mut *stream).take(length).read_to_end(&mut block)?;

    // 3. Does the data agree with Content-Length?
    if (block.len() as u64) < length {
        let kind =
            if framing == Framing::Member { ProblemKind::ContentLengthMismatch } else { ProblemKind::TruncatedRecord };
        problems.push(problem(kind, false, current, format!("Content-Length {length}, {} bytes present", block.len())));
        record.block = trim_trailing_line_breaks(block);
        return Ok(Step::Record(record, problems));
    }
    let separator = take_line_breaks(stream)?;
    // The next record starts with `WARC/x.y` — or, without a version line, with `WARC-Type:` (unless the
    // block holds a `WARC/x.y` record start, i.e. we landed inside the next record's headers).
    let well_framed = stream.at_end()?
        || stream.starts_with(b"WARC/")?
        || (stream.starts_with(b"WARC-Type:")? && find_record_start(&block).is_none());
    if !well_framed {
        let detail;
        if let Some(start) = find_record_start(&block) {
            // Content-Length too large: the block swallowed the start of the next record.
            stream.unread(&separator);
            stream.unread(&block[start..]);
            block.truncate(start);
            detail = format!("Content-Length {length}, next record starts at block byte {start}");
        } else {
            // Content-Length too small: the rest of the block runs to the next record start.
            let (rest, too_large) = read_to_record_start(stream, limits.max_record_bytes.saturating_sub(length))?;
            if too_large {
                return Ok(Step::Skip(problem(
                    ProblemKind::RecordTooLarge,
                    true,
                    current,
                    "re-framed block exceeds the record limit".into(),
                )));
            }
            block.extend_from_slice(b"\r\n");
            block.extend_from_slice(&rest);
            detail = format!("Content-Length {length}, {} more bytes before the next record", rest.len());
        }
        problems.push(problem(ProblemKind::ContentLengthMismatch, false, current, detail));
        block = trim_trailing_line_breaks(block);
    }
    record.block = block;
    Ok(Step::Record(record, problems))
}

/// Consumes CR/LF bytes and returns them.
fn take_line_breaks<S: BufRead>(stream: &mut S) -> io::Result<Vec<u8>> {
    let mut taken = Vec::new();
    loop {
        let buf = stream.fill_buf()?;
        let n = buf.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
        if n == 0 {
            return Ok(taken);
        }
        taken.extend_from_slice(&buf[..n]);
        stream.consume(n);
    }
}

fn skip_line_breaks<S: BufRead>(stream: &mut S) -> io::Result<()> {
    loop {
        let buf = stream.fill_buf()?;
        let n = buf.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
        if n == 0 {
            return Ok(());
        }
        stream.consume(n);
    }
}

/// Reads lines up to an empty line, the end, or the start of another record (left unread), without their
/// line endings.
fn read_header_block<S: BufRead>(stream: &mut Pushback<S>, max_bytes: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut lines = Vec::new();
    let mut total = 0usize;
    loop {
        let mut line = Vec::new();
        let n = stream.by_ref().take((max_bytes - total.min(max_bytes)) as u64 + 1).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(lines);
        }
        if !lines.is_empty() && is_record_start(&line) {
            stream.unread(&line);
            return Ok(lines);
        }
        total += n;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if total > max_bytes {
            return Ok(lines);
        }
        if line.is_empty() {
            // A version line alone is not a header block: a blank line right after it (cc_net's WET
            // fixture, where the previous Content-Length ran past it) does not end the block.
            if lines.len() == 1 && is_record_start(&lines[0]) {
                continue;
            }
            return Ok(lines);
        }
        lines.push(line);
    }
}

/// A header block with no version line still counts as WARC headers if it has `WARC-*` fields and a
/// `Content-Length`.
fn looks_like_warc_headers(lines: &[Vec<u8>]) -> bool {
    let name = |line: &Vec<u8>| line.split(|b| *b == b':').next().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
    lines.first().is_some_and(|l| l.contains(&b':'))
        && lines.iter().any(|l| name(l).starts_with(b"warc-"))
        && lines.iter().any(|l| name(l) == b"content-length")
}

fn parse_headers(lines: &[Vec<u8>]) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::with_capacity(lines.len());
    for line in lines {
        let text = String::from_utf8_lossy(line);
        if text.starts_with([' ', '\t']) {
            // A folded continuation line belongs to the previous header.
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(text.trim());
            }
            continue;
        }
        if let Some((name, value)) = text.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

/// Whether a line starts a record: `WARC/` followed by a digit.
fn is_record_start(line: &[u8]) -> bool {
    line.starts_with(b"WARC/") && line.get(5).is_some_and(u8::is_ascii_digit)
}

/// The offset of a record start (`WARC/d…` right after an empty line) inside a block.
fn find_record_start(block: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(&block[from..], b"\nWARC/") {
        let start = from + found + 1;
        let after_blank = block[..start - 1].ends_with(b"\n") || block[..start - 1].ends_with(b"\n\r");
        if after_blank && is_record_start(&block[start..]) {
            return Some(start);
        }
        from = start;
    }
    None
}

/// Reads lines up to the next record start (left unread) or the end. Returns the bytes read (up to
/// `limit`) and whether the limit was exceeded.
fn read_to_record_start<S: BufRead>(stream: &mut Pushback<S>, limit: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut too_large = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if stream.by_ref().take(1 << 20).read_until(b'\n', &mut line)? == 0 {
            return Ok((kept, too_large));
        }
        if is_record_start(&line) {
            stream.unread(&line);
            return Ok((kept, too_large));
        }
        if kept.len() as u64 + line.len() as u64 > limit {
            too_large = true;
        } else {
            kept.extend_from_slice(&line);
        }
    }
}

/// Skips to the next record start; returns the bytes skipped.
fn skip_to_record_start<S: BufRead>(stream: &mut Pushback<S>) -> io::Result<u64> {
    let before = stream.position();
    read_to_record_start(stream, 0)?;
    Ok(stream.position() - before)
}

fn trim_trailing_line_breaks(mut block: Vec<u8>) -> Vec<u8> {
    // The record separator is two CRLFs; drop at most that (a block may end in its own line break).
    for _ in 0..2 {
        if block.ends_with(b"\r\n") {
            block.truncate(block.len() - 2);
        } else if block.ends_with(b"\n") {
            block.truncate(block.len() - 1);
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(bytes: &[u8]) -> (Vec<WarcRecord>, Vec<Problem>) {
        let (mut records, mut problems) = (Vec::new(), Vec::new());
        read_warc(bytes, &Limits::default(), &mut |event| -> Result<(), ()> {
            match event {
                WarcEvent::Record(r) => records.push(r),
                WarcEvent::Problem(p) => problems.push(p),
            }
            Ok(())
        })
        .unwrap();
        (records, problems)
    }

    fn record(id: u32, block: &str, declared: usize) -> String {
        format!("WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:{id}>\r\nContent-Length: {declared}\r\n\r\n{block}\r\n\r\n")
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn reads_plain_records() {
        let data = record(1, "hello", 5) + &record(2, "world!", 6);
        let (records, problems) = events(data.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].block, b"world!");
        assert_eq!(records[1].header("warc-record-id"), Some("<urn:uuid:2>"));
    }

    #[test]
    fn reframes_lying_content_lengths_in_plain_files() {
        // Too large: swallows the next record, which is recovered.
        let data = record(1, "hello", 40) + &record(2, "world", 5) + &record(3, "again", 5);
        let (records, problems) = events(data.as_bytes());
        assert_eq!(
            records.iter().map(|r| r.block.clone()).collect::<Vec<_>>(),
            vec![b"hello".to_vec(), b"world".to_vec(), b"again".to_vec()]
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, ProblemKind::ContentLengthMismatch);
        // Too small: the rest of the block is kept.
        let data = record(1, "hello world", 5) + &record(2, "next", 4);
        let (records, problems) = events(data.as_bytes());
        assert_eq!(records.len(), 2);
        assert_eq!(String::from_utf8_lossy(&records[0].block), "hello\r\n world");
        assert_eq!(problems[0].kind, ProblemKind::ContentLengthMismatch);
        assert!(!problems[0].record_lost);
    }

    #[test]
    fn gzip_members_bound_records_and_corrupt_members_are_skipped() {
        let mut data = gzip(record(1, "one", 100).as_bytes()); // Content-Length too large
        let mut corrupt = gzip(record(2, "two", 3).as_bytes());
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0xff;
        corrupt[middle + 1] ^= 0xff;
        data.extend(corrupt);
        data.extend(gzip(record(3, "three", 5).as_bytes()));
        let (records, problems) = events(&data);
        let ids: Vec<_> = records.iter().map(|r| r.header("WARC-Record-ID").unwrap().to_string()).collect();
        assert_eq!(ids, vec!["<urn:uuid:1>", "<urn:uuid:3>"]);
        assert_eq!(records[0].block, b"one");
        let kinds: Vec<_> = problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds[0], ProblemKind::ContentLengthMismatch);
        assert!(kinds[1..].iter().any(|k| *k == ProblemKind::GzipCorrupt), "{problems:?}");
    }

    #[test]
    fn truncated_gzip_is_reported() {
        let mut data = gzip(record(1, "one", 3).as_bytes());
        let second = gzip(record(2, &"x".repeat(5000), 5000).as_bytes());
        data.extend_from_slice(&second[..second.len() / 2]);
        let (records, problems) = events(&data);
        assert_eq!(records.len(), 1);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(matches!(problems[0].kind, ProblemKind::GzipTruncated | ProblemKind::GzipCorrupt));
    }

    #[test]
    fn garbage_and_missing_version_lines() {
        let data =
            format!("not a warc\nat all\n{}WARC-Type: conversion\nContent-Length: 2\n\nhi\n\n", record(1, "a", 1));
        let (records, problems) = events(data.as_bytes());
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].version, "");
        assert_eq!(records[1].block, b"hi");
        let kinds: Vec<_> = problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, vec![ProblemKind::GarbageSkipped, ProblemKind::MissingVersionLine]);
    }

    #[test]
    fn empty_input_has_no_events() {
        let (records, problems) = events(b"");
        assert!(records.is_empty() && problems.is_empty());
    }
}

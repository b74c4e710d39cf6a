//! The resilient WARC record reader.
//!
//! Records are framed by `Content-Length`, and every disagreement between that header and the data is
//! resolved towards the data and reported:
//! * gzip-per-record files (Common Crawl) are decoded one member at a time; a corrupt or truncated member is
//!   reported and the reader resumes at the next gzip header, and a member boundary ends a record whose
//!   `Content-Length` is too large;
//! * in uncompressed files, a record whose `Content-Length` is wrong is re-framed at the next
//!   `WARC/x.y` line (searching inside an over-long block, or past a short one); a declared length over
//!   the record limit is checked against the data the same way before the record is skipped, so one lie
//!   does not swallow the rest of the file;
//! * a few stray bytes between records (a NUL or a space after the `CRLF CRLF`, as broken writers leave)
//!   are skipped, also when they sit on the next record's version line;
//! * bytes that are not a record are skipped up to the next record start; a header block without a version
//!   line (cc_net WET fixtures) is accepted; ARC records (ARC files, or ARC records ahead of WARC records)
//!   are recognised, skipped and reported one by one.
//!
//! Nothing is dropped silently: each of these yields a [`Problem`] saying whether a record was lost.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::GzDecoder;

use super::record::WarcRecord;
use super::stream::{Pushback, Sliced};

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Bounds on the work and memory one record may take.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Records with a larger content block are skipped (reported as `record_too_large`). A larger
    /// `Content-Length` alone does not skip a record: the data is read up to the next record start first.
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
    /// Bytes that are not part of any record were skipped (stray bytes between records included).
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
    /// An ARC record (ARC is not supported): skipped, and lost unless it is the ARC file header.
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
    let mut raw = Pushback::new(BufReader::with_capacity(1 << 20, input));
    let is_gzip = match raw.fill_buf() {
        Ok([]) => return Ok(()),
        Ok(head) => head.starts_with(&GZIP_MAGIC[..2]),
        Err(e) => return on_event(WarcEvent::Problem(read_problem(ProblemKind::ReadError, 0, e, None))),
    };
    if is_gzip {
        read_gzip_members(&mut raw, limits, on_event)
    } else {
        parse_records(&mut raw, Framing::Plain, 0, limits, on_event).map(|_| ())
    }
}

/// The compressed bytes of a gzip member are kept up to this size while it is decoded, so that a broken
/// member can be resynced at the next member header *inside* them: the decoder reads a cut member's
/// successor as more deflate data before it fails, and scanning on from where it stopped would lose that
/// next record silently. Common Crawl's members are tens of KiB; past the cap (one gzip stream over a whole
/// file) the reader scans on from where the decoder stopped.
const MEMBER_REPLAY_BYTES: usize = 8 << 20;

/// At most this much compressed input per inflate call (see [`Sliced`]): a WARC header compresses to a few
/// hundred bytes, so a member cut or corrupted past its first KiB still tells which record was lost.
const INFLATE_INPUT_BYTES: usize = 1 << 10;

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
}

fn read_gzip_members<R: BufRead, E>(
    raw: &mut Pushback<R>,
    limits: &Limits,
    on_event: &mut dyn FnMut(WarcEvent) -> Result<(), E>,
) -> Result<(), E> {
    let mut recovering = false;
    loop {
        let start = raw.position();
        let at_member = match raw.fill_buf() {
            Ok([]) => return Ok(()),
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
        raw.start_recording(MEMBER_REPLAY_BYTES);
        let end = {
            let decoder = GzDecoder::new(Sliced::new(&mut *raw, INFLATE_INPUT_BYTES));
            let mut stream = Pushback::new(BufReader::with_capacity(1 << 16, decoder));
            parse_records(&mut stream, Framing::Member, start, limits, on_event)
        };
        let consumed = raw.stop_recording();
        match end? {
            StreamEnd::Finished => {}
            StreamEnd::Failed => {
                recovering = true;
                // Resume at the first member header after this member's start, even inside what the decoder
                // consumed; at least one byte on, so a header that failed to parse is passed.
                let next = consumed.as_deref().and_then(|bytes| {
                    let from = bytes.get(1..)?;
                    from.windows(3).position(|w| w == GZIP_MAGIC).map(|at| &from[at..])
                });
                match next {
                    Some(rest) => raw.unread(rest),
                    None if raw.position() == start => raw.consume(1),
                    None => {}
                }
            }
        }
    }
}

/// Skips to the next gzip member header (or the end); returns the bytes skipped.
fn skip_to_gzip_magic<R: BufRead>(raw: &mut Pushback<R>) -> io::Result<u64> {
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
    /// No record to emit (skipped bytes, a lost record): only problems.
    Skip(Vec<Problem>),
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
            Ok(Step::Skip(problems)) => {
                for problem in problems {
                    on_event(WarcEvent::Problem(problem))?;
                }
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
    let mut problems = Vec::new();

    // 0. An ARC record, or a version line behind a few stray bytes (a broken writer's NUL or space).
    let first_line = peek_line(stream, limits.max_header_bytes)?;
    if let Some(arc) = ArcHeader::parse(&first_line) {
        stream.consume(first_line.len());
        return skip_arc_record(stream, arc, offset, current).map(|p| Step::Skip(vec![p]));
    }
    match record_start_in_line(&first_line, true, Resync::Lenient) {
        Some(0) => {}
        Some(stray) => {
            stream.consume(stray);
            problems.push(problem(
                ProblemKind::GarbageSkipped,
                false,
                current,
                format!("{stray} stray bytes before a record"),
            ));
        }
        // Neither a version line nor a header field (a cc_net block without a version line): garbage,
        // skipped without reading it as a header block, which could swallow the next record's headers.
        None if !is_header_field(&first_line) => {
            let skipped = skip_to_record_start(stream)?;
            return Ok(Step::Skip(vec![problem(
                ProblemKind::GarbageSkipped,
                false,
                current,
                format!("{skipped} bytes before the next record"),
            )]));
        }
        None => {}
    }

    // 1. The header block.
    let mut lines = Vec::new();
    if let Err(e) = read_header_block(stream, limits.max_header_bytes, &mut lines) {
        // A stream cut inside the header block: the lines read still say which record was lost.
        if lines.first().is_some_and(|l| is_record_start(l)) {
            let headers = WarcRecord { headers: parse_headers(&lines[1..]), ..Default::default() };
            current.record_type = Some(headers.record_type());
            current.record_id = headers.header("WARC-Record-ID").map(str::to_string);
        }
        return Err(e);
    }
    let first = lines.first().map(Vec::as_slice).unwrap_or_default();
    let (version, header_lines) = if first.starts_with(b"WARC/") {
        (String::from_utf8_lossy(first).trim().to_string(), &lines[1..])
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
        problems.push(problem(
            ProblemKind::GarbageSkipped,
            false,
            current,
            format!("{skipped} bytes before the next record"),
        ));
        return Ok(Step::Skip(problems));
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
        let found = read_to_record_start(stream, limits.max_record_bytes, Resync::Lenient)?;
        if found.too_large {
            problems.push(problem(
                ProblemKind::RecordTooLarge,
                true,
                current,
                "block without Content-Length exceeds the record limit".into(),
            ));
            problems.extend(found.stray_problem(|detail| problem(ProblemKind::GarbageSkipped, false, current, detail)));
            return Ok(Step::Skip(problems));
        }
        problems.extend(found.stray_problem(|detail| problem(ProblemKind::GarbageSkipped, false, current, detail)));
        record.block = trim_trailing_line_breaks(found.data);
        return Ok(Step::Record(record, problems));
    };
    if length > limits.max_record_bytes {
        // Over the limit — or a lie (a broken writer, a flipped digit). Skipping the declared length blindly
        // would lose every record after a lie (the rest of an uncompressed file), so the block is read up to
        // the next record start instead, keeping at most the limit; only a blank line followed by a bare
        // version line ends it, which payload text practically never contains.
        let found = read_to_record_start(stream, limits.max_record_bytes, Resync::Strict)?;
        if found.too_large {
            problems.push(problem(
                ProblemKind::RecordTooLarge,
                true,
                current,
                format!("{length} bytes > limit {}", limits.max_record_bytes),
            ));
            problems.extend(found.stray_problem(|detail| problem(ProblemKind::GarbageSkipped, false, current, detail)));
            return Ok(Step::Skip(problems));
        }
        // The data ended (at a record start or the end of the stream) within the limit, far short of the
        // declared length: the length lied, or the file ends inside the record.
        let kind = if framing == Framing::Plain && stream.at_end()? {
            ProblemKind::TruncatedRecord
        } else {
            ProblemKind::ContentLengthMismatch
        };
        problems.push(problem(
            kind,
            false,
            current,
            format!("Content-Length {length}, {} bytes before the next record", found.data.len()),
        ));
        problems.extend(found.stray_problem(|detail| problem(ProblemKind::GarbageSkipped, false, current, detail)));
        record.block = trim_trailing_line_breaks(found.data);
        return Ok(Step::Record(record, problems));
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
        if let Some(stray) = stray_bytes_after_record(stream, &separator)? {
            // The length was right: a few bytes sit between this record and the next (or the end).
            stream.consume(stray);
            problems.push(problem(
                ProblemKind::GarbageSkipped,
                false,
                current,
                format!("{stray} stray bytes after the record"),
            ));
            record.block = block;
            return Ok(Step::Record(record, problems));
        } else if let Some(start) = find_record_start(&block) {
            // Content-Length too large: the block swallowed the start of the next record.
            stream.unread(&separator);
            stream.unread(&block[start..]);
            block.truncate(start);
            detail = format!("Content-Length {length}, next record starts at block byte {start}");
        } else {
            // Content-Length too small: the rest of the block runs to the next record start.
            let found = read_to_record_start(stream, limits.max_record_bytes.saturating_sub(length), Resync::Lenient)?;
            if found.too_large {
                problems.push(problem(
                    ProblemKind::RecordTooLarge,
                    true,
                    current,
                    "re-framed block exceeds the record limit".into(),
                ));
                problems.extend(found.stray_problem(|d| problem(ProblemKind::GarbageSkipped, false, current, d)));
                return Ok(Step::Skip(problems));
            }
            problems.extend(found.stray_problem(|d| problem(ProblemKind::GarbageSkipped, false, current, d)));
            // The line breaks taken as a separator are data too (binary payloads need every byte back).
            block.extend_from_slice(&separator);
            block.extend_from_slice(&found.data);
            detail = format!("Content-Length {length}, {} more bytes before the next record", found.data.len());
        }
        problems.push(problem(ProblemKind::ContentLengthMismatch, false, current, detail));
        block = trim_trailing_line_breaks(block);
    }
    record.block = block;
    Ok(Step::Record(record, problems))
}

/// At most this many stray bytes between two records are skipped as such; more means the previous record's
/// `Content-Length` was too small (its data runs on to the next record).
const MAX_STRAY_BYTES: usize = 16;

/// After a record whose block had exactly its declared length but is not followed by a record start: the
/// number of stray bytes before the next record start (or the end), when the record ended with its full
/// `CRLF CRLF` separator and they are few. Otherwise `None`: the bytes are more likely the rest of a block
/// whose `Content-Length` was too small — warcio's `example-trunc.warc` declares 2 bytes less than its
/// gzip payload holds, and those 2 bytes are NULs.
fn stray_bytes_after_record<S: BufRead>(stream: &mut Pushback<S>, separator: &[u8]) -> io::Result<Option<usize>> {
    let window = stream.peek(MAX_STRAY_BYTES + 32)?;
    let junk = if window.len() <= MAX_STRAY_BYTES {
        window.len() // the stream ends here
    } else {
        match memchr::memmem::find(&window, b"WARC/") {
            Some(at) if at <= MAX_STRAY_BYTES && is_bare_version_line(&window[at..]) => at,
            _ => return Ok(None),
        }
    };
    let separated = separator.iter().filter(|b| **b == b'\n').count() >= 2;
    Ok((junk > 0 && separated).then_some(junk))
}

/// The header line of an ARC record (`URL IP-address Archive-date Content-type [… ] Archive-length`).
struct ArcHeader {
    url: String,
    length: u64,
}

impl ArcHeader {
    /// Recognises an ARC v1/v2 header line: a URL-like first field, a 12–14 digit date as the third and
    /// the content length as the last.
    fn parse(line: &[u8]) -> Option<ArcHeader> {
        let text = std::str::from_utf8(line).ok()?.trim_end_matches(['\r', '\n']);
        let fields: Vec<&str> = text.split(' ').collect();
        if fields.len() < 5 || !fields[0].contains(':') {
            return None;
        }
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(12..=14).contains(&fields[2].len()) || !all_digits(fields[2]) {
            return None;
        }
        let length = fields.last().filter(|f| all_digits(f))?.parse().ok()?;
        Some(ArcHeader { url: fields[0].to_string(), length })
    }

    /// The ARC file header (`filedesc://…`) describes the file, like a `warcinfo` record.
    fn is_file_header(&self) -> bool {
        self.url.starts_with("filedesc:")
    }
}

/// Skips an ARC record. ARC is not supported, but its records are counted: each captured page is a lost
/// candidate record (reported with the type `response`), the file header is reported without a loss.
fn skip_arc_record<S: BufRead>(
    stream: &mut Pushback<S>,
    arc: ArcHeader,
    offset: u64,
    current: &mut Current,
) -> io::Result<Problem> {
    let page = !arc.is_file_header();
    current.record_type = Some(if page { "response" } else { "filedesc" }.to_string());
    current.record_id = Some(arc.url.clone());
    let skipped = io::copy(&mut (&mut *stream).take(arc.length), &mut io::sink())?;
    skip_line_breaks(stream)?;
    let truncated = if skipped < arc.length {
        format!(" (the file ends after {skipped} of {} bytes)", arc.length)
    } else {
        String::new()
    };
    Ok(Problem {
        kind: ProblemKind::ArcFormat,
        offset,
        record_lost: page,
        record_type: current.record_type.clone(),
        record_id: current.record_id.clone(),
        detail: format!(
            "ARC record {}{truncated}: ARC is not supported; convert the file to WARC (e.g. with warcio or jwarc)",
            arc.url
        ),
    })
}

/// The next line (up to `max` bytes), left unread.
fn peek_line<S: BufRead>(stream: &mut Pushback<S>, max: usize) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let result = stream.by_ref().take(max as u64).read_until(b'\n', &mut line);
    stream.unread(&line);
    result.map(|_| line)
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

/// Reads lines into `lines` (without their line endings) up to an empty line, the end, or the start of
/// another record (left unread). On a read error `lines` holds the complete lines read before it.
fn read_header_block<S: BufRead>(
    stream: &mut Pushback<S>,
    max_bytes: usize,
    lines: &mut Vec<Vec<u8>>,
) -> io::Result<()> {
    let mut total = 0usize;
    loop {
        let mut line = Vec::new();
        let n = stream.by_ref().take((max_bytes - total.min(max_bytes)) as u64 + 1).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        if !lines.is_empty() && is_record_start(&line) {
            stream.unread(&line);
            return Ok(());
        }
        total += n;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if total > max_bytes {
            return Ok(());
        }
        if line.is_empty() {
            // A version line alone is not a header block: a blank line right after it (cc_net's WET
            // fixture, where the previous Content-Length ran past it) does not end the block.
            if lines.len() == 1 && is_record_start(&lines[0]) {
                continue;
            }
            return Ok(());
        }
        lines.push(line);
    }
}

/// Whether a line has the shape of a header field: a token name, a colon.
fn is_header_field(line: &[u8]) -> bool {
    let name_end = line.iter().position(|b| *b == b':').unwrap_or(0);
    name_end > 0 && line[..name_end].iter().all(|b| b.is_ascii_graphic())
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

/// Whether `bytes` start with a version line and nothing else on it: `WARC/<digits>.<digits>`, optional
/// spaces, then a line break.
fn is_bare_version_line(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(b"WARC/") else { return false };
    let major = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let Some(rest) = rest[major..].strip_prefix(b".") else { return false };
    let minor = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = &rest[minor..];
    let spaces = rest.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    major > 0 && minor > 0 && matches!(rest.get(spaces), Some(b'\r' | b'\n'))
}

/// How [`read_to_record_start`] recognises the next record.
#[derive(Clone, Copy, PartialEq)]
enum Resync {
    /// Any line starting `WARC/<digit>`, or a bare version line behind a few stray bytes after a blank line.
    Lenient,
    /// Only a bare version line (possibly behind a few stray bytes) after a blank line: used where the
    /// declared length is not trusted at all, so that payload text is not mistaken for a record start.
    Strict,
    /// Skipping bytes that are not a record: also a bare version line at the end of any line, behind any
    /// bytes (binary garbage rarely ends in a line break before the next record).
    Garbage,
}

/// Where a record starts in `line`: 0 at a version line, or after a few stray bytes (a broken writer's
/// NUL or space) when the line follows a blank line and holds a bare version line.
fn record_start_in_line(line: &[u8], after_blank: bool, resync: Resync) -> Option<usize> {
    if resync != Resync::Strict && is_record_start(line) {
        return Some(0);
    }
    if resync == Resync::Garbage {
        let at = memchr::memmem::rfind(line, b"WARC/")?;
        return is_bare_version_line(&line[at..]).then_some(at);
    }
    if !after_blank {
        return None;
    }
    let window = &line[..line.len().min(MAX_STRAY_BYTES + 5)];
    let at = memchr::memmem::find(window, b"WARC/")?;
    (at <= MAX_STRAY_BYTES && is_bare_version_line(&line[at..])).then_some(at)
}

/// The bytes up to the next record start, as [`read_to_record_start`] finds them.
struct ToRecordStart {
    /// The bytes read, up to the limit.
    data: Vec<u8>,
    /// More bytes than the limit were read (and not kept).
    too_large: bool,
    /// Stray bytes before the version line that ended the read (not in `data`).
    stray: usize,
}

impl ToRecordStart {
    fn stray_problem(&self, problem: impl FnOnce(String) -> Problem) -> Option<Problem> {
        (self.stray > 0).then(|| problem(format!("{} stray bytes before a record", self.stray)))
    }
}

/// Reads lines up to the next record start (left unread) or the end, keeping at most `limit` bytes.
fn read_to_record_start<S: BufRead>(stream: &mut Pushback<S>, limit: u64, resync: Resync) -> io::Result<ToRecordStart> {
    let mut found = ToRecordStart { data: Vec::new(), too_large: false, stray: 0 };
    let mut line = Vec::new();
    // The block starts after the header block's blank line.
    let mut after_blank = true;
    loop {
        line.clear();
        if stream.by_ref().take(1 << 20).read_until(b'\n', &mut line)? == 0 {
            return Ok(found);
        }
        if let Some(at) = record_start_in_line(&line, after_blank, resync) {
            stream.unread(&line[at..]);
            found.stray = at;
            return Ok(found);
        }
        after_blank = line.iter().all(|b| *b == b'\r' || *b == b'\n');
        if found.data.len() as u64 + line.len() as u64 > limit {
            found.too_large = true;
        } else {
            found.data.extend_from_slice(&line);
        }
    }
}

/// Skips to the next record start; returns the bytes skipped.
fn skip_to_record_start<S: BufRead>(stream: &mut Pushback<S>) -> io::Result<u64> {
    let before = stream.position();
    read_to_record_start(stream, 0, Resync::Garbage)?;
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
        assert_eq!(String::from_utf8_lossy(&records[0].block), "hello world");
        assert_eq!(problems[0].kind, ProblemKind::ContentLengthMismatch);
        assert!(!problems[0].record_lost);
        // Cut right before a line break: the break is data, not a separator.
        let data = record(1, "hello\r\nworld", 5) + &record(2, "next", 4);
        let (records, _) = events(data.as_bytes());
        assert_eq!(String::from_utf8_lossy(&records[0].block), "hello\r\nworld");
        // A short length over a binary block: every byte comes back, NULs included (warcio's example-trunc).
        let data = record(1, "\u{1}gz\0\0", 3) + &record(2, "next", 4);
        let (records, problems) = events(data.as_bytes());
        assert_eq!(records[0].block, b"\x01gz\0\0");
        assert_eq!(kinds(&problems), [ProblemKind::ContentLengthMismatch]);
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
        assert!(kinds[1..].contains(&ProblemKind::GzipCorrupt), "{problems:?}");
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

    fn ids(records: &[WarcRecord]) -> Vec<String> {
        records.iter().map(|r| r.header("WARC-Record-ID").unwrap_or("").to_string()).collect()
    }

    fn kinds(problems: &[Problem]) -> Vec<ProblemKind> {
        problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn stray_bytes_between_records_are_skipped_and_every_record_read() {
        for stray in [&b"X"[..], b"\0", b" ", b"\0\0\0", b"\xff", b" \r\n", b"\0\r\n"] {
            let mut data = record(1, "one", 3).into_bytes();
            data.extend_from_slice(stray);
            data.extend_from_slice(record(2, "two", 3).as_bytes());
            data.extend_from_slice(stray);
            data.extend_from_slice(record(3, "three", 5).as_bytes());
            data.extend_from_slice(stray); // and at the end of the file
            let (records, problems) = events(&data);
            assert_eq!(ids(&records), ["<urn:uuid:1>", "<urn:uuid:2>", "<urn:uuid:3>"], "{stray:?}: {problems:?}");
            assert_eq!(
                records.iter().map(|r| r.block.as_slice()).collect::<Vec<_>>(),
                [&b"one"[..], b"two", b"three"],
                "{stray:?}"
            );
            assert_eq!(kinds(&problems), [ProblemKind::GarbageSkipped; 3], "{stray:?}: {problems:?}");
            assert!(problems.iter().all(|p| !p.record_lost));
        }
        // Stray bytes at the very start of the file.
        let data = format!("\0{}", record(1, "one", 3));
        let (records, problems) = events(data.as_bytes());
        assert_eq!(ids(&records), ["<urn:uuid:1>"]);
        assert_eq!(kinds(&problems), [ProblemKind::GarbageSkipped]);
        // In a single gzip stream too.
        let data = record(1, "one", 3) + "\0" + &record(2, "two", 3);
        let (records, problems) = events(&gzip(data.as_bytes()));
        assert_eq!(ids(&records), ["<urn:uuid:1>", "<urn:uuid:2>"]);
        assert_eq!(kinds(&problems), [ProblemKind::GarbageSkipped]);
    }

    #[test]
    fn garbage_glued_to_the_next_version_line_is_skipped() {
        let data = format!("\u{1}binary\nmore binary without a line break{}", record(1, "one", 3));
        let (records, problems) = events(data.as_bytes());
        assert_eq!(ids(&records), ["<urn:uuid:1>"]);
        assert_eq!(kinds(&problems), [ProblemKind::GarbageSkipped]);
        assert_eq!(problems[0].detail, "40 bytes before the next record");
    }

    #[test]
    fn stray_bytes_after_a_short_content_length_are_skipped_too() {
        let data = record(1, "hello world", 5) + "\0" + &record(2, "next", 4);
        let (records, problems) = events(data.as_bytes());
        assert_eq!(ids(&records), ["<urn:uuid:1>", "<urn:uuid:2>"], "{problems:?}");
        assert_eq!(String::from_utf8_lossy(&records[0].block), "hello world");
        assert_eq!(kinds(&problems), [ProblemKind::GarbageSkipped, ProblemKind::ContentLengthMismatch]);
    }

    #[test]
    fn a_huge_lying_content_length_is_reframed_at_the_next_record() {
        let limits = Limits { max_record_bytes: 1000, ..Limits::default() };
        let read = |bytes: &[u8]| {
            let (mut records, mut problems) = (Vec::new(), Vec::new());
            read_warc(bytes, &limits, &mut |event| -> Result<(), ()> {
                match event {
                    WarcEvent::Record(r) => records.push(r),
                    WarcEvent::Problem(p) => problems.push(p),
                }
                Ok(())
            })
            .unwrap();
            (records, problems)
        };
        // The lie in the middle: every record is read, the lying one re-framed.
        let data = record(1, "one", 3) + &record(2, "two", 99_999_999_999) + &record(3, "three", 5);
        let (records, problems) = read(data.as_bytes());
        assert_eq!(ids(&records), ["<urn:uuid:1>", "<urn:uuid:2>", "<urn:uuid:3>"], "{problems:?}");
        assert_eq!(records[1].block, b"two");
        assert_eq!(kinds(&problems), [ProblemKind::ContentLengthMismatch]);
        // A lying record that really is over the limit is lost, counted, and the next one read.
        let data = record(1, &"x".repeat(2000), 99_999_999_999) + "\0" + &record(2, "two", 3);
        let (records, problems) = read(data.as_bytes());
        assert_eq!(ids(&records), ["<urn:uuid:2>"]);
        assert_eq!(kinds(&problems), [ProblemKind::RecordTooLarge, ProblemKind::GarbageSkipped]);
        assert!(problems[0].record_lost);
        // A record really over the limit, whose payload mentions a version line, is skipped whole.
        let big = format!("{}\nWARC/1.0 is a version\n{}", "x".repeat(1500), "y".repeat(1500));
        let data = record(1, &big, big.len()) + &record(2, "two", 3);
        let (records, problems) = read(data.as_bytes());
        assert_eq!(ids(&records), ["<urn:uuid:2>"]);
        assert_eq!(kinds(&problems), [ProblemKind::RecordTooLarge]);
        // The lie in the last record of a file: the file "ends inside" it.
        let data = record(1, "one", 3) + &record(2, "two", 5000);
        let (records, problems) = read(data.as_bytes());
        assert_eq!(ids(&records), ["<urn:uuid:1>", "<urn:uuid:2>"]);
        assert_eq!(kinds(&problems), [ProblemKind::TruncatedRecord]);
    }

    #[test]
    fn arc_records_are_reported_one_by_one_and_warc_records_after_them_read() {
        let arc = "filedesc://x.arc 0.0.0.0 20080430204825 text/plain 12\n1 1 Archive\n\n\
                   http://example.org/ 1.2.3.4 20080430204825 text/html 26\nHTTP/1.1 200 OK\n\n<p>hi</p>\n\
                   dns:example.org 1.2.3.4 20080430204826 text/dns 8\n1.2.3.4\n\n";
        let data = arc.to_string() + &record(1, "one", 3);
        for bytes in [data.as_bytes().to_vec(), gzip(data.as_bytes())] {
            let (records, problems) = events(&bytes);
            assert_eq!(ids(&records), ["<urn:uuid:1>"], "{problems:?}");
            assert_eq!(kinds(&problems), [ProblemKind::ArcFormat; 3]);
            let lost: Vec<_> = problems.iter().map(|p| (p.record_lost, p.record_type.as_deref())).collect();
            assert_eq!(lost, [(false, Some("filedesc")), (true, Some("response")), (true, Some("response"))]);
            assert_eq!(problems[1].record_id.as_deref(), Some("http://example.org/"));
        }
    }

    #[test]
    fn a_gzip_member_cut_inside_the_header_block_still_says_which_record_was_lost() {
        let mut data = gzip(record(1, "one", 3).as_bytes());
        let full = record(2, &"x".repeat(100), 100);
        // Compress so that the stream ends after the WARC-Type line but before the end of the headers.
        let cut = full.find("Content-Length").unwrap_or(0);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, &full.as_bytes()[..cut]).unwrap();
        let partial = encoder.finish().unwrap();
        data.extend_from_slice(&partial[..partial.len() - 8]); // no gzip trailer: truncated
        let (records, problems) = events(&data);
        assert_eq!(ids(&records), ["<urn:uuid:1>"]);
        assert_eq!(kinds(&problems), [ProblemKind::GzipTruncated], "{problems:?}");
        assert!(problems[0].record_lost);
        assert_eq!(problems[0].record_type.as_deref(), Some("resource"));
        assert_eq!(problems[0].record_id.as_deref(), Some("<urn:uuid:2>"));
    }

    #[test]
    fn empty_input_has_no_events() {
        let (records, problems) = events(b"");
        assert!(records.is_empty() && problems.is_empty());
    }
}

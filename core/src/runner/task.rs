//! Tasks: what a phase of a stage runs, one at a time on one thread, and commits as a unit.
//!
//! A task reads [`TaskInput`]s (input files of the stage, or artifacts of an earlier phase) and writes any
//! number of named artifacts through a [`TaskContext`]: document files ([`TaskContext::create_documents`],
//! in the run's format) or raw files ([`TaskContext::create_artifact`], e.g. partitioned intermediates).
//! Each artifact is written to a temporary file; when the task returns, the runner moves every artifact
//! into place and then writes the task's manifest listing them all with their sizes and checksums (the
//! commit). A task that fails leaves nothing behind but temporaries, which the next run removes.

use std::io::{BufWriter, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use super::manifest::{InputRecord, TMP_DIR};
use super::sink::DocumentSink;
use super::stats::ShardStats;
use super::Progress;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::format::{create_writer, open_reader, DocumentReader, Format};
use crate::store::Location;

/// One input of a task: a file of the stage's inputs, or an artifact of an earlier phase.
#[derive(Debug, Clone)]
pub struct TaskInput {
    pub location: Location,
    /// For a stage input: its path relative to its input root. For an artifact: its name in its phase.
    pub relative: String,
    pub size: u64,
    /// What identifies its contents (see [`super::validity::InputIdentities`]).
    pub identity: String,
    /// For a stage input: its position in the stage's sorted input list (a stable document order across
    /// files: dedup keeps the first occurrence by (position, document)). For an artifact: its position in
    /// the earlier phase's sorted output list.
    pub position: usize,
    /// For an artifact: its path relative to the stage output (`_work/<phase>/<name>`), recorded in
    /// manifests instead of the absolute location so that an output folder is the same wherever it is.
    pub within_output: Option<String>,
}

impl TaskInput {
    pub(super) fn record(&self) -> InputRecord {
        let location = self.within_output.clone().unwrap_or_else(|| self.location.to_string());
        InputRecord { location, bytes: self.size, identity: self.identity.clone() }
    }
}

/// A unit of work of one phase.
#[derive(Debug, Clone)]
pub struct Task {
    /// Unique within the phase, no `/` (the input's key for per-file tasks: `crawl/a.warc.gz` →
    /// `crawl__a`; `part-00007` for a partition).
    pub key: String,
    pub inputs: Vec<TaskInput>,
    /// The partition a partition task works on.
    pub partition: Option<usize>,
}

/// An artifact staged by a task, not yet committed.
pub(super) struct Staged {
    pub name: String,
    pub file: tempfile::NamedTempFile,
}

/// What a running task uses to read its inputs and write its artifacts.
pub struct TaskContext<'a> {
    /// What happened, counted: `docs_in == docs_out + drops` must hold for every task that writes documents.
    pub stats: ShardStats,
    pub(super) format: Format,
    pub(super) limit: Option<u64>,
    pub(super) tmp_dir: Option<std::path::PathBuf>,
    pub(super) key: String,
    pub(super) staged: Vec<Staged>,
    pub(super) open_sinks: usize,
    pub(super) progress: &'a dyn Progress,
    pub(super) bytes_read: AtomicU64,
}

impl<'a> TaskContext<'a> {
    /// The run's document format (Parquet unless the recipe or `--format` says otherwise).
    pub fn format(&self) -> Format {
        self.format
    }

    /// A smoke run's limit on input documents per task (`--limit`).
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Whether a task that counts its own input documents has reached the `--limit`.
    pub fn limit_reached(&self, docs_in: u64) -> bool {
        self.limit.is_some_and(|limit| docs_in >= limit)
    }

    /// Opens an input's raw bytes for streaming reads (counted for progress and `bytes_in`).
    pub fn open_raw(&self, input: &TaskInput) -> Result<impl Read + Send + '_> {
        let inner = input.location.open_read()?;
        Ok(CountingReader { inner, bytes: &self.bytes_read, progress: self.progress })
    }

    /// Opens an input as a document file (Parquet / JSONL); under `--limit` it ends after that many
    /// documents.
    pub fn open_documents(&self, input: &TaskInput) -> Result<Box<dyn DocumentReader>> {
        self.bytes_read.fetch_add(input.size, Ordering::Relaxed);
        self.progress.bytes_read(input.size);
        let reader = open_reader(&input.location)?;
        Ok(match self.limit {
            Some(limit) => Box::new(LimitedReader { inner: reader, left: limit }),
            None => reader,
        })
    }

    fn new_temporary(&self) -> Result<tempfile::NamedTempFile> {
        match &self.tmp_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
                tempfile::Builder::new().prefix(&format!("{}.", self.key)).tempfile_in(dir)
            }
            None => tempfile::NamedTempFile::new(),
        }
        .map_err(|e| Error::io("temporary output file", e))
    }

    /// A document file named `name` (without extension; the run's format adds it), committed with the
    /// task. Finish it with [`TaskContext::finish_documents`].
    pub fn create_documents(&mut self, name: &str) -> Result<DocumentSink> {
        let file_name = format!("{name}.{}", self.format.extension());
        let tmp = self.new_temporary()?;
        let file = tmp.reopen().map_err(|e| Error::io(tmp.path().display().to_string(), e))?;
        let writer = create_writer(self.format, file, &file_name)?;
        self.staged.push(Staged { name: file_name, file: tmp });
        self.open_sinks += 1;
        Ok(DocumentSink::new(writer))
    }

    /// Closes a document file; its documents and text bytes count as the task's `docs_out` / `bytes_out`.
    pub fn finish_documents(&mut self, sink: DocumentSink) -> Result<()> {
        let (docs, bytes) = sink.finish()?;
        self.stats.docs_out += docs;
        self.stats.bytes_out += bytes;
        self.open_sinks -= 1;
        Ok(())
    }

    /// A raw artifact named `name` (may contain `/`), committed with the task.
    pub fn create_artifact(&mut self, name: &str) -> Result<BufWriter<std::fs::File>> {
        let tmp = self.new_temporary()?;
        let file = tmp.reopen().map_err(|e| Error::io(tmp.path().display().to_string(), e))?;
        self.staged.push(Staged { name: name.to_string(), file: tmp });
        Ok(BufWriter::with_capacity(1 << 20, file))
    }

    pub(super) fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }
}

struct CountingReader<'s> {
    inner: Box<dyn Read + Send>,
    bytes: &'s AtomicU64,
    progress: &'s dyn Progress,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.progress.bytes_read(n as u64);
        Ok(n)
    }
}

/// A document reader that ends after `left` more documents (`--limit`).
struct LimitedReader {
    inner: Box<dyn DocumentReader>,
    left: u64,
}

impl DocumentReader for LimitedReader {
    fn next_batch(&mut self) -> Result<Option<Vec<Document>>> {
        if self.left == 0 {
            return Ok(None);
        }
        let Some(mut batch) = self.inner.next_batch()? else { return Ok(None) };
        batch.truncate(self.left.min(batch.len() as u64) as usize);
        self.left -= batch.len() as u64;
        Ok(Some(batch))
    }

    fn skipped(&self) -> &std::collections::BTreeMap<String, u64> {
        self.inner.skipped()
    }

    fn repaired(&self) -> &std::collections::BTreeMap<String, u64> {
        self.inner.repaired()
    }
}

/// Writes `value` to `out` as a little-endian u64 (the building block of sluice's intermediate files).
pub fn write_u64(out: &mut impl Write, value: u64) -> std::io::Result<()> {
    out.write_all(&value.to_le_bytes())
}

/// Reads a little-endian u64; `None` at a clean end of input.
pub fn read_u64(input: &mut impl Read) -> std::io::Result<Option<u64>> {
    let mut buf = [0u8; 8];
    match input.read_exact(&mut buf) {
        Ok(()) => Ok(Some(u64::from_le_bytes(buf))),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// The temporaries of a task live in `<phase root>/_tmp/<key>.*`.
pub(super) fn tmp_dir(phase_root: &Location) -> Option<std::path::PathBuf> {
    phase_root.local_path().map(|p| p.join(TMP_DIR))
}

//! The stage runner: turns a [`Stage`] (a typed config plus a function over one input shard) into a
//! resumable, shardable batch job.
//!
//! For each run it
//! 1. lists the inputs (paths or URLs, files or prefixes) in sorted order and keeps the files the stage
//!    accepts;
//! 2. takes this worker's part (`--shard i/N`, round-robin over the sorted list);
//! 3. processes the shards in parallel on a rayon pool, one shard per task, each shard single-threaded —
//!    so the output of a shard does not depend on the thread count;
//! 4. writes each output shard to a temporary file, moves it into place and then writes its manifest
//!    (the commit; see [`manifest`]);
//! 5. skips shards that are already committed with the same configuration (resume);
//! 6. writes `_stats.json` (or `_stats/shard-i-of-N.json` for one of several workers).
//!
//! Output layout for a stage writing to `OUT`:
//! `OUT/<key>.<ext>` (one per input shard), `OUT/_manifests/<key>.json`, `OUT/_stats.json`.
//! The key is the input's path relative to the input root with `/` replaced by `__` and its file
//! extensions removed (`crawl/a.warc.gz` → `crawl__a`).

pub mod manifest;
mod shard;
pub mod stats;

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use crate::document::Document;
use crate::error::{Error, Result};
use crate::format::{create_writer, open_reader, DocumentReader, DocumentWriter, Format};
use crate::store::{list_inputs, Location, ObjectEntry};

pub use manifest::Manifest;
pub use shard::ShardSpec;
pub use stats::{ShardStats, StageStats};

/// A processing stage.
pub trait Stage: Send + Sync {
    /// The stage's name (used in stats and manifests).
    fn name(&self) -> &str;
    /// A string that changes whenever the configuration changes the output (e.g. the config as JSON).
    /// A committed shard made with a different fingerprint is redone on resume.
    fn fingerprint(&self) -> String;
    /// Whether this stage takes the input file at `path` (relative to its input root).
    fn accepts(&self, path: &str) -> bool;
    /// Processes one input shard, writing documents to `out` and counting what happened in `stats`.
    /// Bad data is counted and skipped; an `Err` means the shard could not be processed at all.
    fn process(&self, input: &InputShard<'_>, out: &mut DocumentSink, stats: &mut ShardStats) -> Result<()>;
}

/// Receives progress events (the CLI draws bars; tests and libraries use [`NoProgress`]).
pub trait Progress: Sync {
    fn start(&self, _stage: &str, _shards: usize, _bytes: u64) {}
    fn bytes_read(&self, _n: u64) {}
    fn shard_done(&self, _key: &str, _resumed: bool) {}
    fn finish(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// How to run a stage.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// This worker's part of the inputs.
    pub shard: ShardSpec,
    /// Worker threads (shards processed at once); `None` = one per core.
    pub threads: Option<usize>,
    /// Output format.
    pub format: Format,
    /// Skip shards that are already committed (default). When false, everything is redone.
    pub resume: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { shard: ShardSpec::default(), threads: None, format: Format::Parquet, resume: true }
    }
}

/// One input shard handed to [`Stage::process`].
pub struct InputShard<'a> {
    /// The input object.
    pub location: Location,
    /// Its path relative to the input root.
    pub relative: String,
    /// Its size in bytes.
    pub size: u64,
    progress: &'a dyn Progress,
    bytes_read: AtomicU64,
}

impl<'a> InputShard<'a> {
    /// Opens the raw bytes for streaming reads (counted for progress and `bytes_in`).
    pub fn open_raw(&self) -> Result<impl Read + Send + '_> {
        let inner = self.location.open_read()?;
        Ok(ProgressReader { inner, shard: self })
    }

    /// Opens the shard as a document file (Parquet / JSONL), for stages that read documents.
    pub fn open_documents(&self) -> Result<Box<dyn DocumentReader>> {
        self.bytes_read.fetch_add(self.size, Ordering::Relaxed);
        self.progress.bytes_read(self.size);
        open_reader(&self.location)
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }
}

struct ProgressReader<'s, 'a> {
    inner: Box<dyn Read + Send>,
    shard: &'s InputShard<'a>,
}

impl Read for ProgressReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.shard.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        self.shard.progress.bytes_read(n as u64);
        Ok(n)
    }
}

/// Collects a stage's output documents and writes them in batches.
pub struct DocumentSink {
    writer: Box<dyn DocumentWriter>,
    pending: Vec<Document>,
    pending_bytes: usize,
    docs: u64,
    text_bytes: u64,
}

/// A batch is written when it holds this many documents …
const SINK_BATCH_DOCS: usize = 1024;
/// … or this many bytes of text, whichever comes first (keeps memory bounded with huge documents).
const SINK_BATCH_BYTES: usize = 32 << 20;

impl DocumentSink {
    fn new(writer: Box<dyn DocumentWriter>) -> Self {
        DocumentSink { writer, pending: Vec::new(), pending_bytes: 0, docs: 0, text_bytes: 0 }
    }

    /// Writes one document (buffered).
    pub fn push(&mut self, doc: Document) -> Result<()> {
        self.docs += 1;
        self.text_bytes += doc.text.len() as u64;
        self.pending_bytes += doc.text.len();
        self.pending.push(doc);
        if self.pending.len() >= SINK_BATCH_DOCS || self.pending_bytes >= SINK_BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.writer.write(&self.pending)?;
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<(u64, u64)> {
        self.flush()?;
        self.writer.finish()?;
        Ok((self.docs, self.text_bytes))
    }
}

/// The result of running a stage.
#[derive(Debug, Clone)]
pub struct StageReport {
    pub stats: StageStats,
    /// Where `_stats.json` was written.
    pub stats_location: String,
    /// The stage's output location.
    pub output: String,
}

struct PlannedShard {
    entry: ObjectEntry,
    relative: String,
    key: String,
}

/// Runs `stage` over `inputs`, writing to `output`. Returns an error if any shard failed (after all
/// other shards have been processed and committed).
pub fn run_stage(
    stage: &dyn Stage,
    inputs: &[String],
    output: &str,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<StageReport> {
    let started = Instant::now();
    let cpu_started = process_cpu_seconds();
    let output_root = Location::parse(output)?;
    let listed = list_inputs(inputs, |rel| stage.accepts(rel))?;
    let planned = plan_shards(listed);
    let mine: Vec<&PlannedShard> =
        planned.iter().enumerate().filter(|(i, _)| options.shard.owns(*i)).map(|(_, s)| s).collect();
    remove_stale_temporaries(&output_root, &mine)?;
    let fingerprint = stage.fingerprint();
    progress.start(stage.name(), mine.len(), mine.iter().map(|s| s.entry.size).sum());

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.unwrap_or(0))
        .thread_name(|i| format!("sluice-worker-{i}"))
        // HTML parsing and text walks recurse with nesting depth; a deep stack keeps pathological pages
        // (tens of thousands of nested tags) from overflowing it.
        .stack_size(256 << 20)
        .build()
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    let outcomes: Vec<Result<(Manifest, bool)>> = pool.install(|| {
        mine.par_iter()
            .map(|shard| {
                // A bug that panics on one shard fails that shard, not the whole job.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_shard(stage, shard, &output_root, &fingerprint, options, progress)
                }))
                .unwrap_or_else(|panic| Err(Error::Other(format!("panicked: {}", panic_message(&panic)))));
                if let Ok((_, resumed)) = &outcome {
                    progress.shard_done(&shard.key, *resumed);
                }
                outcome.map_err(|e| Error::Other(format!("{}: {e}", shard.entry.location)))
            })
            .collect()
    });
    progress.finish();
    if let Some(tmp_dir) = output_root.local_path().map(|p| p.join(manifest::TMP_DIR)) {
        let _ = std::fs::remove_dir(tmp_dir); // only succeeds when empty: other workers may be writing
    }

    let mut stats = StageStats {
        stage: stage.name().to_string(),
        shard: options.shard.to_string(),
        shards: mine.len(),
        ..Default::default()
    };
    let mut processed_docs = 0;
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok((manifest, resumed)) => {
                if resumed {
                    stats.shards_resumed += 1;
                } else {
                    stats.shards_processed += 1;
                    processed_docs += manifest.stats.docs_in;
                }
                stats.totals.merge(&manifest.stats);
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    stats.shards_failed = failures.len();
    stats.wall_seconds = started.elapsed().as_secs_f64();
    stats.cpu_seconds = process_cpu_seconds() - cpu_started;
    stats.docs_per_second = if stats.wall_seconds > 0.0 { processed_docs as f64 / stats.wall_seconds } else { 0.0 };

    let stats_name = if options.shard.count == 1 {
        "_stats.json".to_string()
    } else {
        format!("_stats/shard-{}-of-{}.json", options.shard.index, options.shard.count)
    };
    let stats_location = output_root.join(&stats_name);
    let encoded = serde_json::to_vec_pretty(&stats).map_err(|e| Error::Other(e.to_string()))?;
    stats_location.put_bytes(encoded)?;

    if let Some(first) = failures.first() {
        for failure in &failures {
            tracing::error!("{failure}");
        }
        return Err(Error::ShardsFailed {
            stage: stage.name().to_string(),
            failed: failures.len(),
            total: mine.len(),
            first: first.clone(),
        });
    }
    Ok(StageReport { stats, stats_location: stats_location.to_string(), output: output_root.to_string() })
}

/// Deletes uncommitted outputs a killed run left behind for this worker's shards, and half-written
/// manifests of an interrupted local write.
fn remove_stale_temporaries(output_root: &Location, mine: &[&PlannedShard]) -> Result<()> {
    let tmp_root = output_root.join(manifest::TMP_DIR);
    for entry in tmp_root.list_objects()? {
        let name = entry.location.file_name().to_string();
        if mine.iter().any(|shard| name.starts_with(&format!("{}.", shard.key))) {
            tracing::info!("removing uncommitted output {} of an earlier run", entry.location);
            entry.location.delete()?;
        }
    }
    if let Some(manifest_dir) = output_root.join(manifest::MANIFEST_DIR).local_path() {
        for entry in std::fs::read_dir(manifest_dir).into_iter().flatten().flatten() {
            if crate::store::is_local_temporary(&entry.file_name().to_string_lossy()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// Gives every input an output key; keys that would collide get a hash of the relative path appended.
fn plan_shards(listed: Vec<(ObjectEntry, String)>) -> Vec<PlannedShard> {
    let mut planned: Vec<PlannedShard> = listed
        .into_iter()
        .map(|(entry, relative)| {
            let key = shard_key(&relative);
            PlannedShard { entry, relative, key }
        })
        .collect();
    let mut seen = std::collections::HashMap::new();
    for shard in &planned {
        *seen.entry(shard.key.clone()).or_insert(0) += 1;
    }
    for shard in &mut planned {
        if seen[&shard.key] > 1 {
            shard.key = format!("{}-{:08x}", shard.key, xxhash_rust::xxh3::xxh3_64(shard.relative.as_bytes()) as u32);
        }
    }
    planned
}

/// `crawl/CC-MAIN-x.warc.gz` → `crawl__CC-MAIN-x`.
fn shard_key(relative: &str) -> String {
    const EXTENSIONS: [&str; 12] =
        ["gz", "zst", "zstd", "parquet", "jsonl", "json", "warc", "wet", "wat", "arc", "txt", "bz2"];
    let mut key = relative.replace('/', "__");
    while let Some((stem, ext)) = key.rsplit_once('.') {
        if stem.is_empty() || !EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
            break;
        }
        key = stem.to_string();
    }
    key
}

fn run_shard(
    stage: &dyn Stage,
    shard: &PlannedShard,
    output_root: &Location,
    fingerprint: &str,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<(Manifest, bool)> {
    let output_name = format!("{}.{}", shard.key, options.format.extension());
    let manifest_location = output_root.join(&format!("{}/{}.json", manifest::MANIFEST_DIR, shard.key));
    if options.resume {
        if let Some(manifest) = committed_manifest(&manifest_location, &output_root.join(&output_name), fingerprint)? {
            progress.bytes_read(shard.entry.size);
            return Ok((manifest, true));
        }
    }

    // 1. Process into a local temporary file (inside the output directory when it is on local disk, so the
    //    final move is an atomic rename).
    let tmp = match output_root.local_path() {
        Some(dir) => {
            let tmp_dir = dir.join(manifest::TMP_DIR);
            std::fs::create_dir_all(&tmp_dir).map_err(|e| Error::io(tmp_dir.display().to_string(), e))?;
            tempfile::Builder::new().prefix(&format!("{}.", shard.key)).tempfile_in(&tmp_dir)
        }
        None => tempfile::NamedTempFile::new(),
    }
    .map_err(|e| Error::io("temporary output file", e))?;
    let file = tmp.reopen().map_err(|e| Error::io(tmp.path().display().to_string(), e))?;
    let writer = create_writer(options.format, file, &output_name)?;
    let mut sink = DocumentSink::new(writer);
    let mut stats = ShardStats::default();
    let input = InputShard {
        location: shard.entry.location.clone(),
        relative: shard.relative.clone(),
        size: shard.entry.size,
        progress,
        bytes_read: AtomicU64::new(0),
    };
    stage.process(&input, &mut sink, &mut stats)?;
    let (docs_out, text_bytes) = sink.finish()?;
    stats.docs_out = docs_out;
    stats.bytes_out = text_bytes;
    stats.bytes_in = input.bytes_read();
    let (output_bytes, output_xxh3) = hash_file(tmp.path())?;

    // 2. Move the data into place, 3. then write the manifest: the shard is committed.
    let final_location = output_root.join(&output_name);
    match output_root.local_path() {
        Some(_) => {
            let target = final_location.local_path().expect("local output has a local path");
            tmp.persist(target).map_err(|e| Error::io(final_location.to_string(), e.error))?;
        }
        None => {
            let staged = output_root.join(&format!("{}/{}.{}", manifest::TMP_DIR, output_name, std::process::id()));
            staged.put_file(tmp.path())?;
            staged.rename_to(&final_location)?;
        }
    }
    let manifest = Manifest {
        stage: stage.name().to_string(),
        fingerprint: fingerprint.to_string(),
        input: shard.entry.location.to_string(),
        input_bytes: shard.entry.size,
        output: output_name,
        output_bytes,
        output_xxh3,
        stats,
    };
    let encoded = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Other(e.to_string()))?;
    manifest_location.put_bytes(encoded)?;
    Ok((manifest, false))
}

/// The manifest of a committed shard, if there is one made with `fingerprint` whose data object exists.
fn committed_manifest(manifest: &Location, data: &Location, fingerprint: &str) -> Result<Option<Manifest>> {
    if !manifest.exists()? {
        return Ok(None);
    }
    let bytes = manifest.read_bytes()?;
    let Ok(parsed) = serde_json::from_slice::<Manifest>(&bytes) else {
        tracing::warn!("{manifest}: unreadable manifest; redoing the shard");
        return Ok(None);
    };
    if parsed.fingerprint != fingerprint {
        tracing::info!("{manifest}: made with another configuration; redoing the shard");
        return Ok(None);
    }
    if !data.exists()? {
        tracing::warn!("{manifest}: data object {data} is missing; redoing the shard");
        return Ok(None);
    }
    Ok(Some(parsed))
}

fn hash_file(path: &std::path::Path) -> Result<(u64, String)> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path.display().to_string(), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, format!("{:016x}", hasher.digest())))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// User + system CPU seconds used by this process so far.
fn process_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_keys_drop_extensions_and_flatten_paths() {
        assert_eq!(shard_key("crawl/CC-MAIN-1.warc.gz"), "crawl__CC-MAIN-1");
        assert_eq!(shard_key("sample.warc.wet.txt"), "sample");
        assert_eq!(shard_key("docs.v2.jsonl.zst"), "docs.v2");
        assert_eq!(shard_key(".gz"), ".gz");
    }
}

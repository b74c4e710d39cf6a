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

mod lock;
pub mod manifest;
mod plan;
mod shard;
pub mod stats;
pub mod validity;

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::document::Document;
use crate::error::{Error, Result};
use crate::format::{create_writer, open_reader, DocumentReader, DocumentWriter, Format};
use crate::store::Location;

pub use lock::WriterLock;
pub use manifest::Manifest;
pub use plan::{plan_stage, Orphan, PlannedShard, StagePlan};
pub use shard::ShardSpec;
pub use stats::{ShardStats, StageStats};
use validity::{check_committed, hash_reader, RunIdentity, ShardState};

/// A processing stage.
pub trait Stage: Send + Sync {
    /// The stage's name (used in stats and manifests).
    fn name(&self) -> &str;
    /// The version of the stage's output semantics. Bump it whenever the same configuration and input would
    /// give different output (a fixed bug, a new field): shards committed by another version are redone.
    fn version(&self) -> u32;
    /// A string that changes whenever the configuration changes the output (e.g. the config as JSON).
    /// A committed shard made with a different fingerprint is redone on resume.
    fn fingerprint(&self) -> String;
    /// Files the configuration refers to (models, word lists, tokenizers), as paths or URLs. Each must exist
    /// before any stage of a recipe runs, and their contents are part of every shard's commit record: a
    /// changed model redoes the shards it scored.
    fn referenced_files(&self) -> Vec<String> {
        Vec::new()
    }
    /// Loads what the stage needs (models, lists) before any shard is processed; an error stops the stage
    /// before it writes anything.
    fn prepare(&self) -> Result<()> {
        Ok(())
    }
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
    /// Skip shards that are already committed and still valid (default). When false, everything is redone.
    pub resume: bool,
    /// Recompute the checksum of every committed output before reusing it (a full read).
    pub verify: bool,
    /// A smoke run: each shard stops after this many input documents (its outputs are redone by a run
    /// without the limit).
    pub limit: Option<u64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            shard: ShardSpec::default(),
            threads: None,
            format: Format::Parquet,
            resume: true,
            verify: false,
            limit: None,
        }
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
    /// A smoke run's limit: the stage stops reading after this many input documents.
    pub limit: Option<u64>,
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
        let reader = open_reader(&self.location)?;
        Ok(match self.limit {
            Some(limit) => Box::new(LimitedReader { inner: reader, left: limit }),
            None => reader,
        })
    }

    /// Whether a stage that counts its own input documents (`docs_in`) has reached the `--limit`.
    pub fn limit_reached(&self, docs_in: u64) -> bool {
        self.limit.is_some_and(|limit| docs_in >= limit)
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
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
    let _lock = WriterLock::acquire(&output_root, &options.shard.slot_name())?;
    let plan = plan_stage(stage, inputs, output, options)?;
    stage.prepare().map_err(|e| Error::Prepare { stage: stage.name().to_string(), reason: e.to_string() })?;
    let mine: Vec<&PlannedShard> = plan.shards.iter().filter(|s| s.worker == options.shard.index).collect();
    remove_stale_temporaries(&output_root, &mine)?;
    let pruned = prune_orphans(&output_root, &plan)?;
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
                    run_shard(stage, shard, &output_root, &plan.identity, options, progress)
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
        inputs_skipped: plan.skipped_inputs.len(),
        outputs_pruned: pruned,
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
    stats.failures = failures.clone();
    stats.wall_seconds = started.elapsed().as_secs_f64();
    stats.cpu_seconds = process_cpu_seconds() - cpu_started;
    stats.docs_per_second = if stats.wall_seconds > 0.0 { processed_docs as f64 / stats.wall_seconds } else { 0.0 };

    let stats_location = output_root.join(&stats_file_name(&options.shard));
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

/// `_stats.json` for a single worker, `_stats/shard-i-of-N.json` for one of several.
pub fn stats_file_name(shard: &ShardSpec) -> String {
    if shard.count == 1 {
        "_stats.json".to_string()
    } else {
        format!("_stats/{}.json", shard.slot_name())
    }
}

/// Deletes uncommitted outputs a killed run left behind for this worker's shards (this worker holds the
/// slot's lock, so no live process is writing them), and old temporaries of interrupted atomic writes of
/// manifests and stats.
fn remove_stale_temporaries(output_root: &Location, mine: &[&PlannedShard]) -> Result<()> {
    let tmp_root = output_root.join(manifest::TMP_DIR);
    for entry in tmp_root.list_objects()? {
        let name = entry.location.file_name().to_string();
        if mine.iter().any(|shard| name.starts_with(&format!("{}.", shard.key))) {
            tracing::info!("removing uncommitted output {} of an earlier run", entry.location);
            entry.location.delete()?;
        }
    }
    if let Some(root) = output_root.local_path() {
        // Another worker may be writing its stats or a manifest right now: only old temporaries go.
        let min_age = std::time::Duration::from_secs(600);
        for dir in [root.to_path_buf(), root.join(manifest::MANIFEST_DIR), root.join("_stats")] {
            crate::store::remove_local_temporaries(&dir, min_age);
        }
    }
    Ok(())
}

/// Removes committed outputs whose input is gone (listed in the plan as orphans): a rerun makes the
/// output describe the inputs as they are now. Not done for a `--limit` smoke run.
fn prune_orphans(output_root: &Location, plan: &StagePlan) -> Result<usize> {
    for orphan in &plan.orphans {
        tracing::warn!("{}: its input {} is gone; removing the output", orphan.output, orphan.input);
        output_root.join(&orphan.output).delete()?;
        output_root.join(&format!("{}/{}.json", manifest::MANIFEST_DIR, orphan.key)).delete()?;
    }
    Ok(plan.orphans.len())
}

fn run_shard(
    stage: &dyn Stage,
    shard: &PlannedShard,
    output_root: &Location,
    identity: &RunIdentity,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<(Manifest, bool)> {
    let output_name = format!("{}.{}", shard.key, options.format.extension());
    let manifest_location = output_root.join(&format!("{}/{}.json", manifest::MANIFEST_DIR, shard.key));
    if options.resume {
        let data = output_root.join(&output_name);
        match check_committed(&manifest_location, &data, identity, &shard.input_identity, options.verify)? {
            ShardState::Committed(manifest) => {
                progress.bytes_read(shard.entry.size);
                return Ok((*manifest, true));
            }
            ShardState::Stale(reason) => tracing::info!("{}: redoing the shard: {reason}", shard.key),
            ShardState::Pending => {}
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
        limit: options.limit,
        progress,
        bytes_read: AtomicU64::new(0),
    };
    stage.process(&input, &mut sink, &mut stats)?;
    let (docs_out, text_bytes) = sink.finish()?;
    stats.docs_out = docs_out;
    stats.bytes_out = text_bytes;
    stats.bytes_in = input.bytes_read();
    let mut written = std::fs::File::open(tmp.path()).map_err(|e| Error::io(tmp.path().display().to_string(), e))?;
    let (output_bytes, output_xxh3) = hash_reader(&mut written, &tmp.path().display().to_string())?;

    // 2. Move the data into place (durably), 3. then write the manifest: the shard is committed.
    let final_location = output_root.join(&output_name);
    match final_location.local_path() {
        Some(target) => {
            crate::store::persist_durably(tmp, target).map_err(|e| Error::io(final_location.to_string(), e))?
        }
        None => {
            let staged = output_root.join(&format!("{}/{}.{}", manifest::TMP_DIR, output_name, std::process::id()));
            staged.put_file(tmp.path())?;
            staged.rename_to(&final_location)?;
        }
    }
    let manifest = Manifest {
        stage: stage.name().to_string(),
        version: identity.version,
        fingerprint: identity.fingerprint.clone(),
        referenced: identity.referenced.clone(),
        limit: identity.limit,
        input: shard.entry.location.to_string(),
        input_bytes: shard.entry.size,
        input_identity: shard.input_identity.clone(),
        output: output_name,
        output_bytes,
        output_xxh3,
        stats,
    };
    let encoded = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Other(e.to_string()))?;
    manifest_location.put_bytes(encoded)?;
    Ok((manifest, false))
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

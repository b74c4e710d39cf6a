//! The stage runner: turns a stage into a resumable, shardable batch job.
//!
//! Two kinds of stage:
//! * [`Stage`] — the easy case, a per-file map: one input file in, one document file out (ingest,
//!   filters). A few lines of code.
//! * [`PhasedStage`] — anything else (dedup, shuffles, mixing): the stage *plans* tasks from its inputs
//!   (one input file, a partition across files, a group of files), in one or more **phases** with a
//!   barrier between them; each task writes any number of named artifacts (see [`task`]). A [`Stage`]
//!   runs as a one-phase [`PhasedStage`] with one task per file ([`MapStage`]).
//!
//! For each phase a run
//! 1. lists the stage's inputs (paths or URLs, files or prefixes) in sorted order, keeps the files the
//!    stage accepts, and checks that an input written by an earlier stage is complete (`_plan.json`);
//! 2. plans the phase's tasks from the inputs and the artifacts of earlier phases (which must all be
//!    committed: the barrier) and deals them round-robin to workers (`--shard i/N`);
//! 3. runs this worker's tasks in parallel on a rayon pool, each task single-threaded — so the output
//!    does not depend on the thread count;
//! 4. commits each task: artifacts to temporaries, moved into place, then the manifest (see [`manifest`]);
//! 5. reuses tasks already committed by an identical run (resume; see [`validity`]) and removes outputs
//!    whose task is gone;
//! 6. writes `_stats.json` (or `_stats/shard-i-of-N.json` for one of several workers).
//!
//! Output layout for a stage writing to `OUT`: the last phase writes `OUT/<artifacts>`,
//! `OUT/_manifests/<task>.json`, `OUT/_stats.json` and `OUT/_plan.json`; an earlier phase `P` writes the
//! same under `OUT/_work/P/`. For a per-file stage the artifact is `<key>.<ext>`, the key being the input's
//! path relative to the input root with `/` replaced by `__` and its extensions removed
//! (`crawl/a.warc.gz` → `crawl__a`).

mod lock;
pub mod manifest;
mod map;
pub mod plan;
mod shard;
mod sink;
pub mod stats;
pub mod task;
pub mod validity;

use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::Format;
use crate::store::Location;

pub use lock::WriterLock;
pub use manifest::Manifest;
use manifest::{OutputRecord, MANIFEST_DIR};
pub use map::{InputShard, MapStage};
pub use plan::{PhasePlan, PlanContext, PlannedTask};
pub use shard::ShardSpec;
pub use sink::DocumentSink;
pub use stats::{ShardStats, StageStats};
pub use task::{Task, TaskContext, TaskInput};
use validity::{hash_reader, RunIdentity, ShardState};

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

/// A stage that plans its own tasks, possibly in several phases (see the module docs).
pub trait PhasedStage: Send + Sync {
    /// The stage's name (used in stats and manifests).
    fn name(&self) -> &str;
    /// The version of the stage's output semantics (see [`Stage::version`]).
    fn version(&self) -> u32;
    /// A string that changes whenever the configuration changes the output.
    fn fingerprint(&self) -> String;
    /// Files the configuration refers to (see [`Stage::referenced_files`]).
    fn referenced_files(&self) -> Vec<String> {
        Vec::new()
    }
    /// Loads what the stage needs before any task runs.
    fn prepare(&self) -> Result<()> {
        Ok(())
    }
    /// Whether this stage takes the input file at `path` (relative to its input root).
    fn accepts(&self, path: &str) -> bool;
    /// The phases, in order; the last one writes the stage's output. Names are used in paths
    /// (`_work/<phase>/`) and on the command line (`--phase`).
    fn phases(&self) -> Vec<&'static str> {
        vec!["main"]
    }
    /// The tasks of phase `phase` (deterministic: every worker plans the same list).
    fn plan(&self, phase: usize, context: &PlanContext) -> Result<Vec<Task>>;
    /// Runs one task of phase `phase`. Bad data is counted in `context.stats` and skipped; an `Err` means
    /// the task could not be done at all (it is then not committed).
    fn run(&self, phase: usize, task: &Task, context: &mut TaskContext) -> Result<()>;
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
    /// This worker's part of each phase's tasks.
    pub shard: ShardSpec,
    /// Worker threads (tasks run at once); `None` = one per core.
    pub threads: Option<usize>,
    /// Output format of document artifacts.
    pub format: Format,
    /// Reuse tasks that are already committed and still valid (default). When false, everything is redone.
    pub resume: bool,
    /// Recompute the checksum of every committed output before reusing it (a full read).
    pub verify: bool,
    /// A smoke run: each task stops after this many input documents (its outputs are redone by a run
    /// without the limit).
    pub limit: Option<u64>,
    /// Run only this phase (by name); earlier phases must be complete. `None`: every phase in order.
    pub phase: Option<String>,
    /// Read inputs written by a stage that has not committed all of its tasks.
    pub allow_partial: bool,
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
            phase: None,
            allow_partial: false,
        }
    }
}

/// The result of running a stage (its last phase run).
#[derive(Debug, Clone)]
pub struct StageReport {
    pub stats: StageStats,
    /// Where `_stats.json` was written.
    pub stats_location: String,
    /// The stage's output location.
    pub output: String,
}

/// Runs a per-file `stage` over `inputs`, writing to `output` (see [`run_phased`]).
pub fn run_stage(
    stage: &dyn Stage,
    inputs: &[String],
    output: &str,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<StageReport> {
    run_phased(&MapStage(Box::new(StageRef(stage))), inputs, output, options, progress)
}

/// Lets a borrowed `&dyn Stage` run as a [`MapStage`].
struct StageRef<'a>(&'a dyn Stage);

impl Stage for StageRef<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn version(&self) -> u32 {
        self.0.version()
    }
    fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
    fn referenced_files(&self) -> Vec<String> {
        self.0.referenced_files()
    }
    fn prepare(&self) -> Result<()> {
        self.0.prepare()
    }
    fn accepts(&self, path: &str) -> bool {
        self.0.accepts(path)
    }
    fn process(&self, input: &InputShard<'_>, out: &mut DocumentSink, stats: &mut ShardStats) -> Result<()> {
        self.0.process(input, out, stats)
    }
}

/// Runs `stage` over `inputs`, writing to `output`: every phase in order (or only `options.phase`).
/// Returns an error if any task failed (after all other tasks of the phase have been run and committed),
/// or if a phase cannot start because an earlier one is not complete.
pub fn run_phased(
    stage: &dyn PhasedStage,
    inputs: &[String],
    output: &str,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<StageReport> {
    let output_root = Location::parse(output)?;
    let _lock = WriterLock::acquire(&output_root, &options.shard.slot_name())?;
    let phases = stage.phases();
    let selected = match &options.phase {
        None => None,
        Some(name) => Some(phases.iter().position(|p| p == name).ok_or_else(|| {
            Error::Other(format!("stage '{}' has no phase '{name}' (its phases: {})", stage.name(), phases.join(", ")))
        })?),
    };
    if !options.allow_partial {
        plan::check_inputs_complete(inputs)?;
    }
    let stage_inputs = plan::stage_inputs(stage, inputs, options)?;
    stage.prepare().map_err(|e| Error::Prepare { stage: stage.name().to_string(), reason: e.to_string() })?;
    let mut earlier: Vec<Vec<TaskInput>> = Vec::new();
    let mut report = None;
    for index in 0..phases.len() {
        let context = PlanContext { inputs: &stage_inputs.inputs, earlier: &earlier };
        let phase_plan = plan::plan_phase(stage, &output_root, index, &context, options)?;
        let last = index + 1 == phases.len();
        if selected.is_none_or(|s| s == index) {
            if last {
                plan::write_plan_record(&output_root, stage.name(), &phase_plan)?;
            }
            report = Some(run_phase(stage, &phase_plan, &stage_inputs, options, progress)?);
        }
        if last || selected.is_some_and(|s| s <= index) {
            break;
        }
        // The barrier: the next phase reads every artifact of this one, from all workers.
        earlier.push(phase_plan.committed_artifacts(stage.name(), &stage_inputs.identity)?);
    }
    report.ok_or_else(|| Error::Other("no phase ran".into()))
}

/// Runs this worker's tasks of one phase, commits them, and writes the phase's stats.
fn run_phase(
    stage: &dyn PhasedStage,
    plan: &PhasePlan,
    stage_inputs: &plan::StageInputs,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<StageReport> {
    let started = Instant::now();
    let cpu_started = process_cpu_seconds();
    let mine: Vec<&PlannedTask> = plan.tasks.iter().filter(|t| t.worker == options.shard.index).collect();
    remove_stale_temporaries(&plan.root, &mine)?;
    let pruned = plan::prune_orphans(plan)?;
    let label = if plan.name == "main" { stage.name().to_string() } else { format!("{}:{}", stage.name(), plan.name) };
    progress.start(&label, mine.len(), mine.iter().flat_map(|t| &t.task.inputs).map(|i| i.size).sum());

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
            .map(|planned| {
                // A bug that panics on one task fails that task, not the whole job.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_task(stage, plan, &planned.task, &stage_inputs.identity, options, progress)
                }))
                .unwrap_or_else(|panic| Err(Error::Other(format!("panicked: {}", panic_message(&panic)))));
                if let Ok((_, resumed)) = &outcome {
                    progress.shard_done(&planned.task.key, *resumed);
                }
                outcome.map_err(|e| Error::Other(format!("{}: {e}", describe_task(&planned.task))))
            })
            .collect()
    });
    progress.finish();
    if let Some(tmp_dir) = plan.root.local_path().map(|p| p.join(manifest::TMP_DIR)) {
        let _ = std::fs::remove_dir(tmp_dir); // only succeeds when empty: other workers may be writing
    }

    let mut stats = StageStats {
        stage: label.clone(),
        shard: options.shard.to_string(),
        shards: mine.len(),
        inputs_skipped: stage_inputs.skipped.len(),
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

    let stats_location = plan.root.join(&stats_file_name(&options.shard));
    let encoded = serde_json::to_vec_pretty(&stats).map_err(|e| Error::Other(e.to_string()))?;
    stats_location.put_bytes(encoded)?;

    if let Some(first) = failures.first() {
        for failure in &failures {
            tracing::error!("{failure}");
        }
        return Err(Error::ShardsFailed {
            stage: label,
            failed: failures.len(),
            total: mine.len(),
            first: first.clone(),
        });
    }
    Ok(StageReport { stats, stats_location: stats_location.to_string(), output: plan.root.to_string() })
}

/// A task as a user knows it: its input file, or its key and input count.
fn describe_task(task: &Task) -> String {
    match task.inputs.as_slice() {
        [one] if task.partition.is_none() => one.location.to_string(),
        inputs => format!("task {} ({} inputs)", task.key, inputs.len()),
    }
}

/// `_stats.json` for a single worker, `_stats/shard-i-of-N.json` for one of several.
pub fn stats_file_name(shard: &ShardSpec) -> String {
    if shard.count == 1 {
        "_stats.json".to_string()
    } else {
        format!("_stats/{}.json", shard.slot_name())
    }
}

/// Deletes uncommitted outputs a killed run left behind for this worker's tasks (this worker holds the
/// slot's lock, so no live process is writing them), and old temporaries of interrupted atomic writes of
/// manifests and stats.
fn remove_stale_temporaries(root: &Location, mine: &[&PlannedTask]) -> Result<()> {
    let tmp_root = root.join(manifest::TMP_DIR);
    for entry in tmp_root.list_objects()? {
        let name = entry.location.file_name().to_string();
        if mine.iter().any(|t| name.starts_with(&format!("{}.", t.task.key))) {
            tracing::info!("removing uncommitted output {} of an earlier run", entry.location);
            entry.location.delete()?;
        }
    }
    if let Some(root) = root.local_path() {
        // Another worker may be writing its stats or a manifest right now: only old temporaries go.
        let min_age = std::time::Duration::from_secs(600);
        for dir in [root.to_path_buf(), root.join(MANIFEST_DIR), root.join("_stats")] {
            crate::store::remove_local_temporaries(&dir, min_age);
        }
    }
    Ok(())
}

fn run_task(
    stage: &dyn PhasedStage,
    plan: &PhasePlan,
    task: &Task,
    identity: &RunIdentity,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<(Manifest, bool)> {
    if options.resume {
        match plan.state(task, identity, options.verify)? {
            ShardState::Committed(manifest) => {
                progress.bytes_read(task.inputs.iter().map(|i| i.size).sum());
                return Ok((*manifest, true));
            }
            ShardState::Stale(reason) => tracing::info!("{}: redoing the task: {reason}", task.key),
            ShardState::Pending => {}
        }
    }
    let mut context = TaskContext {
        stats: ShardStats::default(),
        format: options.format,
        limit: options.limit,
        tmp_dir: task::tmp_dir(&plan.root),
        key: task.key.clone(),
        staged: Vec::new(),
        open_sinks: 0,
        progress,
        bytes_read: Default::default(),
    };
    stage.run(plan.index, task, &mut context)?;
    if context.open_sinks != 0 {
        return Err(Error::Other(format!("task {} left a document file unfinished (a stage bug)", task.key)));
    }
    context.stats.bytes_in = context.bytes_read();
    let outputs = commit_artifacts(&plan.root, std::mem::take(&mut context.staged))?;
    let manifest = Manifest {
        stage: identity.stage.clone(),
        phase: plan.name.clone(),
        task: task.key.clone(),
        version: identity.version,
        fingerprint: identity.fingerprint.clone(),
        referenced: identity.referenced.clone(),
        limit: identity.limit,
        inputs: task.inputs.iter().map(TaskInput::record).collect(),
        outputs,
        stats: context.stats,
    };
    let encoded = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Other(e.to_string()))?;
    plan.root.join(&format!("{MANIFEST_DIR}/{}.json", task.key)).put_bytes(encoded)?;
    Ok((manifest, false))
}

/// Hashes every staged artifact and moves it into place (durably); the manifest written after this is
/// the commit.
fn commit_artifacts(root: &Location, staged: Vec<task::Staged>) -> Result<Vec<OutputRecord>> {
    let mut outputs = Vec::with_capacity(staged.len());
    for artifact in staged {
        let path = artifact.file.path().to_path_buf();
        let mut written = std::fs::File::open(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let (bytes, xxh3) = hash_reader(&mut written, &path.display().to_string())?;
        let target = root.join(&artifact.name);
        match target.local_path() {
            Some(local) => {
                if let Some(parent) = local.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display().to_string(), e))?;
                }
                crate::store::persist_durably(artifact.file, local).map_err(|e| Error::io(target.to_string(), e))?
            }
            None => {
                let staged_remote = root.join(&format!(
                    "{}/{}.{}",
                    manifest::TMP_DIR,
                    artifact.name.replace('/', "__"),
                    std::process::id()
                ));
                staged_remote.put_file(&path)?;
                staged_remote.rename_to(&target)?;
            }
        }
        outputs.push(OutputRecord { name: artifact.name, bytes, xxh3 });
    }
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(outputs)
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

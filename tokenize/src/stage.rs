//! The `tokenize` stage on sluice's runner: phases, tasks, and what each writes.
//!
//! | format | phases | first phase (one task per input file) | last phase |
//! |---|---|---|---|
//! | `openlm` | `tokenize`, `shuffle` | contexts → `<file>/cell-NNNNN.bin` | per cell: its shards; `manifest.jsonl`, `tokenize.json` |
//! | `decomposed` | `tokenize`, `shuffle` | sequences → `<file>/D_k/cell-NNNNN.bin` | per bucket and cell: `D_k/` shards; manifests, `dd_params.json`, `tokenize.json` |
//! | `bin` | `tokenize` | `<file>.bin`, `<file>.idx`, `<file>.header.json` | (the same phase) `tokenize.json` |
//!
//! Without `shuffle`, the second phase is called `shards` and its groups are the input files (shards in
//! input order). See [`crate::shards`] for the global order and the memory bound.

use std::sync::{Arc, OnceLock};

use sluice_core::format::Format;
use sluice_core::runner::{PhasedStage, PlanContext, Task, TaskContext, TaskInput};
use sluice_core::{Error, Result};

use crate::config::{OutputFormat, TokenizeConfig};
use crate::encoder::{Encoder, BUNDLED_TOKENIZER};
use crate::error::TokenizeError;
use crate::records::record_bytes;
use crate::shards::{self, write_json};
use crate::tokens::{sink_for, tokenize_documents};

/// The stage's output version: bump it whenever the same configuration and input give other bytes.
pub const VERSION: u32 = 1;

/// The key of the task that writes the manifests (never a cell, file or bucket task's key).
const MANIFEST_TASK: &str = "manifest";

/// The tokenize stage, built from its config. The tokenizer is loaded by [`PhasedStage::prepare`] (or the
/// first plan), once.
pub struct TokenizeStage {
    config: TokenizeConfig,
    encoder: OnceLock<Arc<Encoder>>,
}

impl std::fmt::Debug for TokenizeStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenizeStage").field("config", &self.config).finish()
    }
}

impl TokenizeStage {
    /// Checks the configuration; reads nothing.
    pub fn new(config: TokenizeConfig) -> Result<Self, TokenizeError> {
        config.validate()?;
        Ok(TokenizeStage { config, encoder: OnceLock::new() })
    }

    pub fn config(&self) -> &TokenizeConfig {
        &self.config
    }

    /// The tokenizer, loaded on first use.
    pub fn encoder(&self) -> Result<&Arc<Encoder>, TokenizeError> {
        if let Some(encoder) = self.encoder.get() {
            return Ok(encoder);
        }
        let loaded = Encoder::load(&self.config)?;
        Ok(self.encoder.get_or_init(|| loaded))
    }

    /// The most bytes of records one shuffle task holds at once, per stream (`(bucket, bytes)`): the
    /// configured `shuffle_memory` rounded down to whole records (at least one record). Each running task
    /// also holds 4 bytes per record of the cells it reads (their permutation) and a few hundred gzipped
    /// contexts; tasks run one per thread.
    pub fn shuffle_memory_bound(&self) -> Result<Vec<(Option<u32>, u64)>, TokenizeError> {
        let width = self.encoder()?.width;
        Ok(shards::streams(&self.config)
            .iter()
            .map(|s| {
                let record = record_bytes(s.tokens, width) as u64;
                (s.bucket, (self.config.shuffle_memory.0 / record).max(1) * record)
            })
            .collect())
    }

    fn phase_names(&self) -> Vec<&'static str> {
        match (self.config.format, self.config.shuffle) {
            (OutputFormat::Bin, _) => vec!["tokenize"],
            (_, true) => vec!["tokenize", "shuffle"],
            (_, false) => vec!["tokenize", "shards"],
        }
    }

    fn loaded(&self) -> Result<&Arc<Encoder>> {
        self.encoder().map_err(Error::from)
    }

    /// Phase 1: one input file's documents into cells (or, for `bin`, into its token files).
    fn tokenize_file(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let encoder = self.loaded()?;
        let input = &task.inputs[0];
        let mut sink = sink_for(&self.config, encoder, context, &task.key, &input.relative)?;
        let mut reader = context.open_documents(input)?;
        tokenize_documents(encoder, reader.as_mut(), sink.as_mut(), context)?;
        sink.finish(context)
    }

    /// `bin`'s `tokenize.json`: how the files were made and which there are.
    fn write_bin_manifest(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let identity = task.inputs.first().map(|i| i.identity.as_str()).unwrap_or_default();
        let keys: Vec<String> = serde_json::from_str(identity.strip_prefix("bin-files:").unwrap_or("[]"))
            .map_err(|e| Error::Other(format!("tokenize manifest task: {e}")))?;
        let mut description = shards::describe(&self.config, self.loaded()?);
        description["files"] = keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "bin": format!("{k}.bin"),
                    "idx": format!("{k}.idx"),
                    "header": format!("{k}.header.json"),
                })
            })
            .collect();
        write_json(context, "tokenize.json", &description)
    }
}

/// A task key not among `taken`.
fn free_key(base: &str, taken: &[String]) -> String {
    let mut key = base.to_string();
    while taken.contains(&key) {
        key.push('~');
    }
    key
}

/// Raises the soft open-file limit to the hard one: the first phase keeps one file open per cell (and
/// bucket) per running task, as tokshuf-rs does (its README asks for `ulimit -Sn 1000000`).
fn raise_open_file_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            let wanted = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) != 0 {
                tracing::warn!("tokenize: could not raise the open-file limit above {}", limit.rlim_cur);
            }
        }
    }
}

impl PhasedStage for TokenizeStage {
    fn name(&self) -> &str {
        "tokenize"
    }

    fn version(&self) -> u32 {
        VERSION
    }

    /// The configuration without what cannot change the output (`shuffle_memory`), plus the bundled
    /// tokenizer's checksum when it is the one used (a file's is covered by `referenced_files`).
    fn fingerprint(&self) -> String {
        let mut value = serde_json::to_value(&self.config).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("shuffle_memory");
            if self.config.tokenizer.is_none() {
                let checksum = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(BUNDLED_TOKENIZER));
                map.insert("bundled_tokenizer_xxh3".into(), checksum.into());
            }
        }
        value.to_string()
    }

    fn referenced_files(&self) -> Vec<String> {
        self.config.tokenizer.iter().cloned().collect()
    }

    fn prepare(&self) -> Result<()> {
        let encoder = self.loaded()?;
        tracing::info!(
            "tokenize: {} (vocabulary {}, EOT {}, PAD {}, BOS {:?}, {}); long documents {}",
            encoder.name,
            encoder.vocab_size,
            encoder.eot,
            encoder.pad,
            encoder.bos,
            encoder.width.name(),
            if encoder.splits_long_documents() { "split at safe newlines" } else { "encoded whole" }
        );
        if self.config.format != OutputFormat::Bin {
            raise_open_file_limit();
            for (bucket, bytes) in self.shuffle_memory_bound()? {
                let what = bucket.map(|k| format!("D_{k} sequences")).unwrap_or_else(|| "contexts".into());
                tracing::info!(
                    "tokenize: a {} task holds at most {} of {what} (+4 bytes per record of the cells it reads), one task per thread",
                    self.phase_names()[1],
                    crate::bytesize::ByteSize(bytes),
                );
            }
        }
        Ok(())
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    fn phases(&self) -> Vec<&'static str> {
        self.phase_names()
    }

    fn plan(&self, phase: usize, context: &PlanContext) -> Result<Vec<Task>> {
        match phase {
            0 => {
                let mut tasks = context.one_task_per_input();
                if self.config.format == OutputFormat::Bin {
                    let keys: Vec<String> = tasks.iter().map(|t| t.key.clone()).collect();
                    let anchor = context
                        .inputs
                        .first()
                        .ok_or_else(|| Error::Other("tokenize: no input files".into()))?
                        .location
                        .clone();
                    let listing = serde_json::to_string(&keys).map_err(|e| Error::Other(e.to_string()))?;
                    let layout = TaskInput {
                        location: anchor,
                        relative: "@files".into(),
                        size: 0,
                        identity: format!("bin-files:{listing}"),
                        position: 0,
                        within_output: Some("@files".into()),
                    };
                    tasks.push(Task { key: free_key(MANIFEST_TASK, &keys), inputs: vec![layout], partition: None });
                }
                Ok(tasks)
            }
            _ => shards::plan(&self.config, self.loaded()?.width, context, MANIFEST_TASK),
        }
    }

    fn run(&self, phase: usize, task: &Task, context: &mut TaskContext) -> Result<()> {
        let is_manifest = match phase {
            0 => task.inputs.first().is_some_and(|i| i.within_output.as_deref() == Some("@files")),
            _ => task.partition.is_none(),
        };
        match (phase, is_manifest) {
            (0, true) => self.write_bin_manifest(task, context),
            (0, false) => self.tokenize_file(task, context),
            (_, true) => shards::write_manifests(&self.config, self.loaded()?, task, context),
            (_, false) => shards::write_shards(&self.config, self.loaded()?.width, task, context),
        }
    }
}

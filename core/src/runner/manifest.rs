//! The per-task manifest: the commit record of one task's outputs.
//!
//! A task is committed when its manifest exists: its artifacts are moved into place first, then the
//! manifest is written in a single atomic put. A rerun reuses a committed task only if everything that
//! determines its bytes is unchanged (see [`super::validity`]): the stage's version, its configuration, the
//! contents of every file the configuration refers to, the `--limit` it ran under, the phase, and the
//! identity of each of its inputs; and only if every artifact is still there with its recorded size (and
//! checksum, under `--verify`). Anything else is redone from scratch. Manifests hold no timings, so a
//! resumed run and an uninterrupted one leave byte-identical output directories.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stats::ShardStats;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    /// The phase that ran the task (`main` for single-phase stages).
    pub phase: String,
    /// The task's key (unique within the phase; the output's name for per-file stages).
    pub task: String,
    /// The stage's output-semantics version ([`super::Stage::version`]).
    pub version: u32,
    /// xxh3-64 of the stage configuration.
    pub fingerprint: String,
    /// Files the configuration refers to (models, lists), with the xxh3-64 of their contents.
    #[serde(default)]
    pub referenced: BTreeMap<String, String>,
    /// The `--limit` the task ran under (a smoke run), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// What the task read.
    pub inputs: Vec<InputRecord>,
    /// What the task wrote, relative to the phase's root (the stage output for the last phase).
    pub outputs: Vec<OutputRecord>,
    pub stats: ShardStats,
}

/// One input of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    pub location: String,
    pub bytes: u64,
    /// What identifies its contents: `xxh3:…` from the manifest of the stage or phase that wrote it, else
    /// the object's size and ETag / modification time.
    pub identity: String,
}

/// One artifact a task wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Relative to the phase root (`crawl__a.parquet`, `crawl__a/part-00003.bin`).
    pub name: String,
    pub bytes: u64,
    /// xxh3-64 of the artifact, hex.
    pub xxh3: String,
}

/// Where manifests live, relative to a phase root.
pub const MANIFEST_DIR: &str = "_manifests";
/// Where uncommitted outputs live, relative to a phase root.
pub const TMP_DIR: &str = "_tmp";
/// Where writers' locks and leases live, relative to a stage's output.
pub const LOCK_DIR: &str = "_locks";
/// Where earlier phases keep their artifacts, relative to a stage's output (`_work/<phase>/…`).
pub const WORK_DIR: &str = "_work";
/// The list of a stage's final tasks, written when it starts, so a later stage can tell whether it is
/// complete.
pub const PLAN_FILE: &str = "_plan.json";

//! The per-shard manifest: the commit record of one output shard.
//!
//! A shard is committed when its manifest exists: the data object is moved into place first, then the
//! manifest is written in a single atomic put. A rerun reuses a committed shard only if everything that
//! determines its bytes is unchanged (see [`super::validity`]): the stage's version, its configuration, the
//! contents of every file the configuration refers to, the `--limit` it ran under and the identity of its
//! input; and only if the data object is still there with its recorded size (and checksum, under
//! `--verify`). Anything else is redone from scratch. Manifests hold no timings, so a resumed run and an
//! uninterrupted one leave byte-identical output directories.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stats::ShardStats;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    /// The stage's output-semantics version ([`super::Stage::version`]); 0 in manifests older than it.
    #[serde(default)]
    pub version: u32,
    /// xxh3-64 of the stage configuration that produced the shard.
    pub fingerprint: String,
    /// Files the configuration refers to (models, lists), with the xxh3-64 of their contents.
    #[serde(default)]
    pub referenced: BTreeMap<String, String>,
    /// The `--limit` the shard was made under (a smoke run), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The input object, as located.
    pub input: String,
    pub input_bytes: u64,
    /// What identifies the input's contents: `xxh3:…` from the upstream stage's manifest, else the
    /// object's size and ETag / modification time.
    #[serde(default)]
    pub input_identity: String,
    /// The output object's name, relative to the stage output.
    pub output: String,
    pub output_bytes: u64,
    /// xxh3-64 of the output object, hex.
    pub output_xxh3: String,
    pub stats: ShardStats,
}

/// Where manifests live, relative to a stage's output.
pub const MANIFEST_DIR: &str = "_manifests";
/// Where uncommitted outputs live, relative to a stage's output.
pub const TMP_DIR: &str = "_tmp";
/// Where writers' locks and leases live, relative to a stage's output.
pub const LOCK_DIR: &str = "_locks";

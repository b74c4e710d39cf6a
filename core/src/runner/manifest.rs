//! The per-shard manifest: the commit record of one output shard.
//!
//! A shard is committed when its manifest exists: the data object is moved into place first, then the
//! manifest is written in a single atomic put. A rerun skips every shard whose manifest exists with the
//! same stage fingerprint (resume); anything else is redone from scratch. Manifests hold no timings, so a
//! resumed run and an uninterrupted one leave byte-identical output directories.

use serde::{Deserialize, Serialize};

use super::stats::ShardStats;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub stage: String,
    /// Hash of the stage configuration that produced the shard.
    pub fingerprint: String,
    /// The input object, as located.
    pub input: String,
    pub input_bytes: u64,
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

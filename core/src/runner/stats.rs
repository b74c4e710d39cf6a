//! Counters a stage keeps per shard, and their sum over a stage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What happened in one shard. Every document a stage sees is either written or dropped with a reason, so
/// `docs_in + docs_added == docs_out + sum(drops)` holds for every shard (the tests check it; `docs_added`
/// is zero for every stage but the mixer's upsampling).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardStats {
    /// Documents (or candidate records) the stage considered.
    pub docs_in: u64,
    /// Documents written.
    pub docs_out: u64,
    /// Documents a stage creates beyond what it reads (the mixer's repeats when it upsamples), so that
    /// `docs_in + docs_added == docs_out + sum(drops)` holds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub docs_added: u64,
    /// Bytes of input read.
    pub bytes_in: u64,
    /// Bytes of text written.
    pub bytes_out: u64,
    /// Documents not written, by reason (`not_html`, `empty_text`, a filter's name, …).
    pub drops: BTreeMap<String, u64>,
    /// Problems met, by kind, whether or not a document was lost (`gzip_corrupt`, `invalid_utf8`, …).
    pub errors: BTreeMap<String, u64>,
    /// Anything else worth counting (`records:response`, `charset:shift_jis`, …).
    pub counters: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, by: u64) {
    match map.get_mut(key) {
        Some(count) => *count += by,
        None => {
            map.insert(key.to_string(), by);
        }
    }
}

impl ShardStats {
    /// One document not written, for `reason`.
    pub fn drop_doc(&mut self, reason: &str) {
        bump(&mut self.drops, reason, 1);
    }

    /// `n` documents not written, for `reason`.
    pub fn drop_docs(&mut self, reason: &str, n: u64) {
        bump(&mut self.drops, reason, n);
    }

    /// One problem of kind `kind`.
    pub fn error(&mut self, kind: &str) {
        bump(&mut self.errors, kind, 1);
    }

    /// `n` problems of kind `kind`.
    pub fn errors(&mut self, kind: &str, n: u64) {
        bump(&mut self.errors, kind, n);
    }

    /// Adds `by` to the counter `name`.
    pub fn count(&mut self, name: &str, by: u64) {
        bump(&mut self.counters, name, by);
    }

    /// Documents dropped, all reasons together.
    pub fn dropped(&self) -> u64 {
        self.drops.values().sum()
    }

    pub fn merge(&mut self, other: &ShardStats) {
        self.docs_in += other.docs_in;
        self.docs_out += other.docs_out;
        self.docs_added += other.docs_added;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        for (target, source) in
            [(&mut self.drops, &other.drops), (&mut self.errors, &other.errors), (&mut self.counters, &other.counters)]
        {
            for (key, value) in source {
                bump(target, key, *value);
            }
        }
    }
}

/// A stage's statistics, written as `_stats.json` next to its output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StageStats {
    pub stage: String,
    /// `i/N` of the worker that wrote this file.
    pub shard: String,
    /// Input shards this worker owns.
    pub shards: usize,
    /// Shards processed in this run.
    pub shards_processed: usize,
    /// Shards found already committed and skipped (resume).
    pub shards_resumed: usize,
    /// Shards that failed in this run.
    pub shards_failed: usize,
    /// Why each failed shard failed (`input: reason`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// Input objects the stage does not take (another file type), listed in the log.
    #[serde(default)]
    pub inputs_skipped: usize,
    /// Committed outputs removed because their input is gone.
    #[serde(default)]
    pub outputs_pruned: usize,
    /// Totals over all committed shards this worker owns.
    #[serde(flatten)]
    pub totals: ShardStats,
    /// Wall-clock seconds of this run.
    pub wall_seconds: f64,
    /// CPU seconds (user + system) this process used in this run.
    pub cpu_seconds: f64,
    /// Documents in per wall-clock second, for the shards processed in this run.
    pub docs_per_second: f64,
}

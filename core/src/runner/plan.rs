//! Planning a stage run: which inputs become which output shards, which worker takes each, what is
//! already committed, what is stale and why, and which committed outputs lost their input. `run_stage`
//! runs a plan; `sluice plan` prints one without running anything.

use std::collections::{HashMap, HashSet};

use super::manifest::{Manifest, MANIFEST_DIR};
use super::validity::{check_committed, InputIdentities, RunIdentity, ShardState};
use super::{RunOptions, Stage};
use crate::error::Result;
use crate::store::{list_stage_inputs, Location, ObjectEntry};

/// One input shard and the output shard it becomes.
#[derive(Debug, Clone)]
pub struct PlannedShard {
    pub entry: ObjectEntry,
    /// The input's path relative to its input root.
    pub relative: String,
    /// The output key (`crawl/a.warc.gz` → `crawl__a`).
    pub key: String,
    /// The worker (`i` of `--shard i/N`) that takes it.
    pub worker: usize,
    /// What identifies the input's contents (see [`InputIdentities`]).
    pub input_identity: String,
}

/// A committed output whose input is no longer among the stage's inputs.
#[derive(Debug, Clone)]
pub struct Orphan {
    pub key: String,
    pub output: String,
    pub input: String,
}

/// Everything a stage run will do, for all workers.
#[derive(Debug)]
pub struct StagePlan {
    pub stage: String,
    pub output: String,
    pub workers: usize,
    pub identity: RunIdentity,
    /// Every shard, in input order.
    pub shards: Vec<PlannedShard>,
    /// Input objects the stage does not take (another file type).
    pub skipped_inputs: Vec<String>,
    /// Committed outputs whose input is gone (removed by a run; never under `--limit`).
    pub orphans: Vec<Orphan>,
}

/// Plans `stage` over `inputs` into `output` for the workers of `options.shard`.
pub fn plan_stage(stage: &dyn Stage, inputs: &[String], output: &str, options: &RunOptions) -> Result<StagePlan> {
    let listing = list_stage_inputs(inputs, |rel| stage.accepts(rel))?;
    for skipped in &listing.skipped {
        tracing::info!("{skipped}: not an input of stage '{}'; skipped", stage.name());
    }
    let identities = InputIdentities::load(inputs)?;
    let identity = RunIdentity::of(stage, options.limit)?;
    let mut shards: Vec<PlannedShard> = listing
        .accepted
        .into_iter()
        .enumerate()
        .map(|(position, (entry, relative))| PlannedShard {
            key: shard_key(&relative),
            input_identity: identities.of(&entry),
            worker: position % options.shard.count,
            entry,
            relative,
        })
        .collect();
    disambiguate_keys(&mut shards);
    let output_root = Location::parse(output)?;
    let orphans = if options.limit.is_some() { Vec::new() } else { find_orphans(&output_root, &shards)? };
    Ok(StagePlan {
        stage: stage.name().to_string(),
        output: output_root.to_string(),
        workers: options.shard.count,
        identity,
        shards,
        skipped_inputs: listing.skipped,
        orphans,
    })
}

impl StagePlan {
    /// The state of every shard (committed, stale with the reason, or pending), in plan order.
    pub fn states(&self, options: &RunOptions) -> Result<Vec<ShardState>> {
        let root = Location::parse(&self.output)?;
        self.shards
            .iter()
            .map(|shard| {
                let manifest = root.join(&format!("{MANIFEST_DIR}/{}.json", shard.key));
                let data = root.join(&format!("{}.{}", shard.key, options.format.extension()));
                check_committed(&manifest, &data, &self.identity, &shard.input_identity, options.verify)
            })
            .collect()
    }
}

/// Keys that would collide get a hash of the relative path appended.
fn disambiguate_keys(shards: &mut [PlannedShard]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for shard in shards.iter() {
        *seen.entry(shard.key.clone()).or_insert(0) += 1;
    }
    for shard in shards.iter_mut() {
        if seen[&shard.key] > 1 {
            shard.key = format!("{}-{:08x}", shard.key, xxhash_rust::xxh3::xxh3_64(shard.relative.as_bytes()) as u32);
        }
    }
}

/// Committed outputs (manifests under `output`) whose key no planned shard has.
fn find_orphans(output: &Location, shards: &[PlannedShard]) -> Result<Vec<Orphan>> {
    let keys: HashSet<&str> = shards.iter().map(|s| s.key.as_str()).collect();
    let mut orphans = Vec::new();
    for entry in output.join(MANIFEST_DIR).list_objects()? {
        let name = entry.location.file_name();
        let Some(key) = name.strip_suffix(".json") else { continue };
        if keys.contains(key) || crate::store::is_local_temporary(name) {
            continue;
        }
        let Ok(manifest) = serde_json::from_slice::<Manifest>(&entry.location.read_bytes()?) else { continue };
        orphans.push(Orphan { key: key.to_string(), output: manifest.output, input: manifest.input });
    }
    Ok(orphans)
}

/// `crawl/CC-MAIN-x.warc.gz` → `crawl__CC-MAIN-x`.
pub(crate) fn shard_key(relative: &str) -> String {
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

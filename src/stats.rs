//! `sluice stats DIR`: one stage output's statistics, merged over its workers.

use anyhow::{bail, Context, Result};
use clap::Args;
use sluice_core::runner::{Manifest, StageStats};
use sluice_core::store::Location;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// A stage output (folder or URL prefix).
    pub output: String,
    /// Print the merged statistics as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Statistics of a stage output: the workers' stats files merged, checked against the manifests.
#[derive(Debug, serde::Serialize)]
struct Merged {
    output: String,
    /// Stats files found (`_stats.json`, `_stats/shard-i-of-N.json`).
    stats_files: Vec<String>,
    /// Committed shards (manifests).
    committed_shards: usize,
    #[serde(flatten)]
    stats: StageStats,
}

pub fn stats(args: &StatsArgs) -> Result<()> {
    let root = Location::parse(&args.output)?;
    let (files, merged) = merged_stats(&root)?;
    let manifests = root.join("_manifests").list_objects()?;
    let mut committed = 0;
    for entry in &manifests {
        if serde_json::from_slice::<Manifest>(&entry.location.read_bytes()?).is_ok() {
            committed += 1;
        }
    }
    let merged = Merged {
        output: root.to_string(),
        stats_files: files.iter().map(|f| f.relative_to(&root)).collect(),
        committed_shards: committed,
        stats: merged,
    };
    if args.json {
        println!("{}", serde_json::to_string(&merged)?);
    } else {
        print(&merged);
    }
    Ok(())
}

/// A stage output's stats files (`_stats.json`, `_stats/*.json`) and their sum.
pub fn merged_stats(root: &Location) -> Result<(Vec<Location>, StageStats)> {
    let mut files: Vec<Location> = root.join("_stats").list_objects()?.into_iter().map(|e| e.location).collect();
    if root.join("_stats.json").exists()? {
        files.insert(0, root.join("_stats.json"));
    }
    files.retain(|f| f.file_name().ends_with(".json"));
    if files.is_empty() {
        bail!("no statistics under {root} (_stats.json or _stats/*.json): has a stage written there?");
    }
    let mut merged = StageStats::default();
    for file in &files {
        let one: StageStats =
            serde_json::from_slice(&file.read_bytes()?).with_context(|| format!("{file}: not a sluice stats file"))?;
        merge(&mut merged, &one);
    }
    Ok((files, merged))
}

/// Adds one worker's stats: counts add up, wall time is the longest worker's.
fn merge(total: &mut StageStats, one: &StageStats) {
    if total.stage.is_empty() {
        total.stage = one.stage.clone();
    }
    total.shard = "all".into();
    total.shards += one.shards;
    total.shards_processed += one.shards_processed;
    total.shards_resumed += one.shards_resumed;
    total.shards_failed += one.shards_failed;
    total.failures.extend(one.failures.iter().cloned());
    total.inputs_skipped = total.inputs_skipped.max(one.inputs_skipped);
    total.outputs_pruned += one.outputs_pruned;
    total.totals.merge(&one.totals);
    total.wall_seconds = total.wall_seconds.max(one.wall_seconds);
    total.cpu_seconds += one.cpu_seconds;
    total.docs_per_second += one.docs_per_second;
}

fn print(merged: &Merged) {
    let s = &merged.stats;
    let t = &s.totals;
    println!(
        "{} ({}): {} stats file(s), {} committed shards",
        merged.output,
        s.stage,
        merged.stats_files.len(),
        merged.committed_shards
    );
    println!(
        "  shards: {} ({} processed, {} resumed, {} failed)",
        s.shards, s.shards_processed, s.shards_resumed, s.shards_failed
    );
    println!("  docs:   {} in, {} out, {} dropped", t.docs_in, t.docs_out, t.dropped());
    if !t.drops.is_empty() {
        println!("  drops:  {}", crate::summary::join_counts(&t.drops));
    }
    if !t.errors.is_empty() {
        println!("  errors: {}", crate::summary::join_counts(&t.errors));
    }
    for failure in &s.failures {
        println!("  failed: {failure}");
    }
    println!("  time:   {:.1} s wall (slowest worker), {:.1} s CPU (all workers)", s.wall_seconds, s.cpu_seconds);
}

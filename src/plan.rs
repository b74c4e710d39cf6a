//! `sluice plan RECIPE`: what a run would do, without doing it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use sluice_core::runner::validity::ShardState;
use sluice_core::runner::{plan_stage, RunOptions, ShardSpec};

use crate::recipe::{load_recipe, plan_recipe, PlannedStage};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The recipe file.
    pub recipe: PathBuf,
    /// Plan for outputs under this location instead of the recipe's `output`.
    #[arg(long, value_name = "DIR|URL")]
    pub output: Option<String>,
    /// Workers the run will be split over (`--shard i/N` with N = this).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub workers: usize,
    /// Check committed outputs' checksums too (a full read), as `run --verify` would.
    #[arg(long)]
    pub verify: bool,
    /// Print the plan as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn plan(args: &PlanArgs) -> Result<()> {
    let recipe = load_recipe(&args.recipe)?;
    let output_root = args.output.clone().unwrap_or_else(|| recipe.output.clone());
    let shard = ShardSpec { index: 0, count: args.workers.max(1) };
    let options = RunOptions { shard, format: recipe.format, verify: args.verify, ..RunOptions::default() };
    let mut stages = Vec::new();
    for planned in plan_recipe(&recipe, &output_root) {
        stages.push(plan_one(&planned, &options)?);
    }
    if args.json {
        println!(
            "{}",
            json!({ "recipe": recipe.name, "output": output_root, "workers": shard.count, "stages": stages })
        );
    } else {
        println!("recipe {} ({} stages) → {output_root}, {} worker(s)", recipe.name, stages.len(), shard.count);
        for stage in &stages {
            print_stage(stage);
        }
    }
    Ok(())
}

/// One stage's plan as JSON (printed as text by [`print_stage`]).
fn plan_one(planned: &PlannedStage, options: &RunOptions) -> Result<Value> {
    let stage = planned.spec.build()?;
    let head = json!({ "position": planned.position, "stage": stage.name(), "output": planned.output });
    let plan = match plan_stage(stage.as_ref(), &planned.input, &planned.output, options) {
        Ok(plan) => plan,
        Err(sluice_core::Error::NoInput(input)) => {
            return Ok(json!({ "head": head, "waiting_for": input }));
        }
        Err(e) => return Err(e.into()),
    };
    let states = plan.states(options)?;
    let mut tasks_per_worker = vec![0usize; plan.workers];
    let (mut committed, mut stale, mut pending) = (0usize, Vec::new(), Vec::new());
    for (shard, state) in plan.shards.iter().zip(&states) {
        tasks_per_worker[shard.worker] += 1;
        match state {
            ShardState::Committed(_) => committed += 1,
            ShardState::Stale(reason) => {
                stale.push(json!({ "task": shard.key, "worker": shard.worker, "why": reason }))
            }
            ShardState::Pending => pending.push(json!({ "task": shard.key, "worker": shard.worker })),
        }
    }
    Ok(json!({
        "head": head,
        "inputs": plan.shards.len(),
        "input_bytes": plan.shards.iter().map(|s| s.entry.size).sum::<u64>(),
        "inputs_skipped": plan.skipped_inputs,
        "tasks_per_worker": tasks_per_worker,
        "committed": committed,
        "stale": stale,
        "pending": pending,
        "orphans": plan.orphans.iter().map(|o| json!({ "task": o.key, "input": o.input })).collect::<Vec<_>>(),
    }))
}

fn print_stage(stage: &Value) {
    let head = &stage["head"];
    println!(
        "\nstage {} ({}) → {}",
        head["position"],
        head["stage"].as_str().unwrap_or(""),
        head["output"].as_str().unwrap_or("")
    );
    if let Some(input) = stage["waiting_for"].as_str() {
        println!("  inputs: none yet at {input} (an earlier stage writes them)");
        return;
    }
    let skipped = stage["inputs_skipped"].as_array().map_or(0, Vec::len);
    println!(
        "  inputs: {} files, {} bytes{}",
        stage["inputs"],
        stage["input_bytes"],
        if skipped > 0 { format!(" ({skipped} other files skipped)") } else { String::new() }
    );
    println!("  tasks per worker: {}", stage["tasks_per_worker"]);
    let count = |key: &str| stage[key].as_array().map_or(0, Vec::len);
    println!(
        "  committed {}, stale {}, to do {}, orphaned outputs to remove {}",
        stage["committed"],
        count("stale"),
        count("pending"),
        count("orphans")
    );
    for task in stage["stale"].as_array().into_iter().flatten() {
        println!(
            "    stale  {} (worker {}): {}",
            task["task"].as_str().unwrap_or(""),
            task["worker"],
            task["why"].as_str().unwrap_or("")
        );
    }
    for orphan in stage["orphans"].as_array().into_iter().flatten() {
        println!(
            "    orphan {}: input {} is gone",
            orphan["task"].as_str().unwrap_or(""),
            orphan["input"].as_str().unwrap_or("")
        );
    }
}

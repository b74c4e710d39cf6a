//! `sluice plan RECIPE`: what a run would do, without doing it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use sluice_core::runner::plan::{plan_stage, PhaseStatus};
use sluice_core::runner::validity::ShardState;
use sluice_core::runner::{RunOptions, ShardSpec};

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
    let stage = planned.build()?;
    let head = json!({ "position": planned.position, "stage": stage.name(), "output": planned.output });
    let plan = match plan_stage(stage.as_ref(), &planned.input, &planned.output, options) {
        Ok(plan) => plan,
        Err(sluice_core::Error::NoInput(input)) => return Ok(json!({ "head": head, "waiting_for": input })),
        Err(e) => return Err(e.into()),
    };
    let phases: Vec<Value> = plan.phases.iter().map(|phase| phase_json(phase, options.shard.count)).collect();
    Ok(json!({
        "head": head,
        "inputs": plan.inputs.inputs.len(),
        "input_bytes": plan.inputs.inputs.iter().map(|i| i.size).sum::<u64>(),
        "inputs_skipped": plan.inputs.skipped,
        "phases": phases,
    }))
}

fn phase_json(phase: &PhaseStatus, workers: usize) -> Value {
    let (plan, states) = match phase {
        PhaseStatus::Waiting { phase, reason } => return json!({ "phase": phase, "waiting": reason }),
        PhaseStatus::Planned { plan, states } => (plan, states),
    };
    let mut tasks_per_worker = vec![0usize; workers];
    let (mut committed, mut stale, mut pending) = (0usize, Vec::new(), Vec::new());
    for (planned, state) in plan.tasks.iter().zip(states) {
        tasks_per_worker[planned.worker] += 1;
        let (task, worker) = (&planned.task.key, planned.worker);
        match state {
            ShardState::Committed(_) => committed += 1,
            ShardState::Stale(why) => stale.push(json!({ "task": task, "worker": worker, "why": why })),
            ShardState::Pending => pending.push(json!({ "task": task, "worker": worker })),
        }
    }
    json!({
        "phase": plan.name,
        "tasks_per_worker": tasks_per_worker,
        "committed": committed,
        "stale": stale,
        "pending": pending,
        "orphans": plan.orphans.iter().map(|o| json!({ "task": o.key, "inputs": o.inputs })).collect::<Vec<_>>(),
    })
}

fn print_stage(stage: &Value) {
    let head = &stage["head"];
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    println!("\nstage {} ({}) → {}", head["position"], text(&head["stage"]), text(&head["output"]));
    if let Some(input) = stage["waiting_for"].as_str() {
        println!("  inputs: none yet at {input} (an earlier stage writes them)");
        return;
    }
    let skipped = stage["inputs_skipped"].as_array().map_or(0, Vec::len);
    let skipped = if skipped > 0 { format!(" ({skipped} other files skipped)") } else { String::new() };
    println!("  inputs: {} files, {} bytes{skipped}", stage["inputs"], stage["input_bytes"]);
    let phases = stage["phases"].as_array().cloned().unwrap_or_default();
    let several = phases.len() > 1;
    for phase in &phases {
        let indent = if several { "    " } else { "  " };
        if several {
            println!("  phase {}:", text(&phase["phase"]));
        }
        if let Some(reason) = phase["waiting"].as_str() {
            println!("{indent}waits: {reason}");
            continue;
        }
        let count = |key: &str| phase[key].as_array().map_or(0, Vec::len);
        println!("{indent}tasks per worker: {}", phase["tasks_per_worker"]);
        println!(
            "{indent}committed {}, stale {}, to do {}, orphaned outputs to remove {}",
            phase["committed"],
            count("stale"),
            count("pending"),
            count("orphans")
        );
        for task in phase["stale"].as_array().into_iter().flatten() {
            println!("{indent}  stale  {} (worker {}): {}", text(&task["task"]), task["worker"], text(&task["why"]));
        }
        for orphan in phase["orphans"].as_array().into_iter().flatten() {
            println!("{indent}  orphan {}: its input is gone", text(&orphan["task"]));
        }
    }
}

//! Planning a stage run: the stage's inputs, each phase's tasks and the worker that takes each, what is
//! already committed, what is stale and why, and which committed outputs lost their input. The runner
//! runs a plan; `sluice plan` prints one without running anything.
//!
//! Phases run in order with a barrier between them: phase `p` is planned from the stage's inputs and the
//! artifacts of phases `< p`, which must all be committed (by every worker) first.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::manifest::{Manifest, MANIFEST_DIR, PLAN_FILE, WORK_DIR};
use super::task::{Task, TaskInput};
use super::validity::{check_committed, InputIdentities, RunIdentity, ShardState};
use super::{PhasedStage, RunOptions};
use crate::error::{Error, Result};
use crate::store::{list_stage_inputs, Location};

/// What a stage plans a phase's tasks from.
pub struct PlanContext<'a> {
    /// The stage's inputs, sorted (positions are indices into this list).
    pub inputs: &'a [TaskInput],
    /// The committed artifacts of each earlier phase, sorted by name.
    pub earlier: &'a [Vec<TaskInput>],
}

impl PlanContext<'_> {
    /// One task per input file, keyed by the input's path (`crawl/a.warc.gz` → `crawl__a`).
    pub fn one_task_per_input(&self) -> Vec<Task> {
        let keys = input_keys(self.inputs);
        self.inputs
            .iter()
            .zip(keys)
            .map(|(input, key)| Task { key, inputs: vec![input.clone()], partition: None })
            .collect()
    }

    /// The task key each input gets in [`PlanContext::one_task_per_input`], in input order.
    pub fn input_keys(&self) -> Vec<String> {
        input_keys(self.inputs)
    }

    /// The artifacts of earlier phase `phase`.
    pub fn artifacts(&self, phase: usize) -> &[TaskInput] {
        self.earlier.get(phase).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// A planned task and the worker that takes it (round-robin over the phase's tasks).
#[derive(Debug, Clone)]
pub struct PlannedTask {
    pub task: Task,
    pub worker: usize,
}

/// A committed output whose task is no longer planned (its input is gone).
#[derive(Debug, Clone)]
pub struct Orphan {
    pub key: String,
    pub outputs: Vec<String>,
    pub inputs: Vec<String>,
}

/// One phase's plan.
#[derive(Debug)]
pub struct PhasePlan {
    pub index: usize,
    pub name: String,
    /// Where the phase writes: the stage output for the last phase, `_work/<phase>` before it.
    pub root: Location,
    pub tasks: Vec<PlannedTask>,
    pub orphans: Vec<Orphan>,
}

/// The stage-level part of a plan: inputs and run identity.
#[derive(Debug)]
pub struct StageInputs {
    pub inputs: Vec<TaskInput>,
    /// Input objects the stage does not take (another file type).
    pub skipped: Vec<String>,
    pub identity: RunIdentity,
}

/// Lists and identifies the stage's inputs.
pub fn stage_inputs(stage: &dyn PhasedStage, inputs: &[String], options: &RunOptions) -> Result<StageInputs> {
    let listing = list_stage_inputs(inputs, |rel| stage.accepts(rel))?;
    for skipped in &listing.skipped {
        tracing::info!("{skipped}: not an input of stage '{}'; skipped", stage.name());
    }
    let identities = InputIdentities::load(inputs)?;
    let inputs = listing
        .accepted
        .into_iter()
        .enumerate()
        .map(|(position, (entry, relative))| TaskInput {
            identity: identities.of(&entry),
            location: entry.location,
            relative,
            size: entry.size,
            position,
            within_output: None,
        })
        .collect();
    Ok(StageInputs { inputs, skipped: listing.skipped, identity: RunIdentity::of(stage, options.limit)? })
}

/// The root a phase writes under.
pub fn phase_root(output: &Location, phases: &[&str], index: usize) -> Location {
    if index + 1 == phases.len() {
        output.clone()
    } else {
        output.join(&format!("{WORK_DIR}/{}", phases[index]))
    }
}

/// Plans phase `index` from the inputs and earlier artifacts; deals the tasks to `workers`.
pub fn plan_phase(
    stage: &dyn PhasedStage,
    output: &Location,
    index: usize,
    context: &PlanContext,
    options: &RunOptions,
) -> Result<PhasePlan> {
    let phases = stage.phases();
    let tasks = stage.plan(index, context)?;
    let mut seen = HashSet::new();
    for task in &tasks {
        if task.key.contains('/') || !seen.insert(task.key.as_str()) {
            return Err(Error::Other(format!(
                "stage '{}' phase '{}' planned a bad task key '{}' (keys are unique, without '/')",
                stage.name(),
                phases[index],
                task.key
            )));
        }
    }
    let root = phase_root(output, &phases, index);
    let orphans = if options.limit.is_some() { Vec::new() } else { find_orphans(&root, &tasks)? };
    let count = options.shard.count;
    let tasks = tasks.into_iter().enumerate().map(|(i, task)| PlannedTask { task, worker: i % count }).collect();
    Ok(PhasePlan { index, name: phases[index].to_string(), root, tasks, orphans })
}

impl PhasePlan {
    /// The state of every task (committed, stale with the reason, or pending), in plan order.
    pub fn states(&self, identity: &RunIdentity, verify: bool) -> Result<Vec<ShardState>> {
        self.tasks.iter().map(|planned| self.state(&planned.task, identity, verify)).collect()
    }

    pub(super) fn state(&self, task: &Task, identity: &RunIdentity, verify: bool) -> Result<ShardState> {
        let manifest = self.root.join(&format!("{MANIFEST_DIR}/{}.json", task.key));
        let inputs: Vec<_> = task.inputs.iter().map(TaskInput::record).collect();
        check_committed(&manifest, &self.root, identity, &self.name, &inputs, verify)
    }

    /// Every artifact of the phase, sorted by name, as inputs of a later phase — or, when a task is not
    /// committed, the error that stops the later phase (the barrier).
    pub fn committed_artifacts(&self, stage: &str, identity: &RunIdentity) -> Result<Vec<TaskInput>> {
        let mut artifacts = Vec::new();
        let mut missing = Vec::new();
        for planned in &self.tasks {
            match self.state(&planned.task, identity, false)? {
                ShardState::Committed(manifest) => {
                    for output in manifest.outputs {
                        artifacts.push(TaskInput {
                            location: self.root.join(&output.name),
                            relative: output.name.clone(),
                            size: output.bytes,
                            identity: format!("xxh3:{}", output.xxh3),
                            position: 0,
                            within_output: Some(format!("{WORK_DIR}/{}/{}", self.name, output.name)),
                        });
                    }
                }
                _ => missing.push(format!("{} (worker {})", planned.task.key, planned.worker)),
            }
        }
        if let Some(first) = missing.first() {
            return Err(Error::Incomplete {
                what: format!("phase '{}' of stage '{stage}'", self.name),
                missing: missing.len(),
                total: self.tasks.len(),
                first: first.clone(),
            });
        }
        artifacts.sort_by(|a, b| a.relative.cmp(&b.relative));
        for (position, artifact) in artifacts.iter_mut().enumerate() {
            artifact.position = position;
        }
        Ok(artifacts)
    }
}

/// What a run of a stage would do, phase by phase (for `sluice plan`).
#[derive(Debug)]
pub struct StagePlan {
    pub inputs: StageInputs,
    pub phases: Vec<PhaseStatus>,
}

/// A phase that can be planned now, with the state of each task; or one that waits for an earlier phase.
#[derive(Debug)]
pub enum PhaseStatus {
    Planned { plan: PhasePlan, states: Vec<ShardState> },
    Waiting { phase: String, reason: String },
}

/// Plans every phase of `stage` without running anything: a phase after one that is not complete waits.
pub fn plan_stage(stage: &dyn PhasedStage, inputs: &[String], output: &str, options: &RunOptions) -> Result<StagePlan> {
    let output = Location::parse(output)?;
    let stage_inputs = stage_inputs(stage, inputs, options)?;
    let names = stage.phases();
    let mut phases = Vec::new();
    let mut earlier = Vec::new();
    for index in 0..names.len() {
        let context = PlanContext { inputs: &stage_inputs.inputs, earlier: &earlier };
        let plan = plan_phase(stage, &output, index, &context, options)?;
        let states = plan.states(&stage_inputs.identity, options.verify)?;
        let artifacts = plan.committed_artifacts(stage.name(), &stage_inputs.identity);
        phases.push(PhaseStatus::Planned { plan, states });
        match artifacts {
            Ok(artifacts) => earlier.push(artifacts),
            Err(e) => {
                for name in &names[index + 1..] {
                    phases.push(PhaseStatus::Waiting { phase: name.to_string(), reason: e.to_string() });
                }
                break;
            }
        }
    }
    Ok(StagePlan { inputs: stage_inputs, phases })
}

/// The final phase's task list, written to the stage output when a run starts, so that a later stage
/// can check that this one is complete before it reads it.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlanRecord {
    pub stage: String,
    pub tasks: Vec<String>,
}

/// Writes `_plan.json` (every worker writes the same bytes).
pub fn write_plan_record(output: &Location, stage: &str, plan: &PhasePlan) -> Result<()> {
    let record =
        PlanRecord { stage: stage.to_string(), tasks: plan.tasks.iter().map(|t| t.task.key.clone()).collect() };
    let bytes = serde_json::to_vec_pretty(&record).map_err(|e| Error::Other(e.to_string()))?;
    output.join(PLAN_FILE).put_bytes(bytes)
}

/// Fails if an input is the output of a stage that has not committed every task of its plan.
pub fn check_inputs_complete(inputs: &[String]) -> Result<()> {
    for input in inputs {
        let root = Location::parse(input)?;
        let plan_file = root.join(PLAN_FILE);
        if !plan_file.exists()? {
            continue; // not a sluice stage output (or one from before plans were recorded)
        }
        let record: PlanRecord = serde_json::from_slice(&plan_file.read_bytes()?)
            .map_err(|e| Error::Other(format!("{plan_file}: unreadable plan: {e}")))?;
        let mut missing = Vec::new();
        for key in &record.tasks {
            if !root.join(&format!("{MANIFEST_DIR}/{key}.json")).exists()? {
                missing.push(key.clone());
            }
        }
        if let Some(first) = missing.first() {
            return Err(Error::Incomplete {
                what: format!("the output of stage '{}' at {input}", record.stage),
                missing: missing.len(),
                total: record.tasks.len(),
                first: first.clone(),
            });
        }
    }
    Ok(())
}

/// Task keys for per-input tasks: the input's path with `/` → `__` and its extensions removed; keys that
/// would collide get a hash of the path appended.
fn input_keys(inputs: &[TaskInput]) -> Vec<String> {
    let keys: Vec<String> = inputs.iter().map(|i| shard_key(&i.relative)).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for key in &keys {
        *seen.entry(key.as_str()).or_insert(0) += 1;
    }
    keys.iter()
        .zip(inputs)
        .map(|(key, input)| {
            if seen[key.as_str()] > 1 {
                format!("{key}-{:08x}", xxhash_rust::xxh3::xxh3_64(input.relative.as_bytes()) as u32)
            } else {
                key.clone()
            }
        })
        .collect()
}

/// Committed tasks (manifests under `root`) whose key no planned task has.
fn find_orphans(root: &Location, tasks: &[Task]) -> Result<Vec<Orphan>> {
    let keys: HashSet<&str> = tasks.iter().map(|t| t.key.as_str()).collect();
    let mut orphans = Vec::new();
    for entry in root.join(MANIFEST_DIR).list_objects()? {
        let name = entry.location.file_name();
        let Some(key) = name.strip_suffix(".json") else { continue };
        if keys.contains(key) || crate::store::is_local_temporary(name) {
            continue;
        }
        let Ok(manifest) = serde_json::from_slice::<Manifest>(&entry.location.read_bytes()?) else { continue };
        orphans.push(Orphan {
            key: key.to_string(),
            outputs: manifest.outputs.into_iter().map(|o| o.name).collect(),
            inputs: manifest.inputs.into_iter().map(|i| i.location).collect(),
        });
    }
    Ok(orphans)
}

/// Removes orphaned outputs and their manifests.
pub(super) fn prune_orphans(plan: &PhasePlan) -> Result<usize> {
    for orphan in &plan.orphans {
        tracing::warn!("{}: its input {} is gone; removing its outputs", orphan.key, orphan.inputs.join(", "));
        for output in &orphan.outputs {
            plan.root.join(output).delete()?;
        }
        plan.root.join(&format!("{MANIFEST_DIR}/{}.json", orphan.key)).delete()?;
    }
    Ok(plan.orphans.len())
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

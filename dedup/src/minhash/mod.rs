//! MinHash-LSH near-duplicate dedup: documents whose word-shingle sets are similar (Jaccard) are
//! clustered, and each cluster keeps one document — across every input file, in phases that shard across
//! machines, with memory bounded by configuration rather than by the corpus.
//!
//! | phase | tasks | writes (under `_work/<phase>/`) |
//! |---|---|---|
//! | `signatures` | one per input file | band keys, partitioned: `<file key>/part-NNNNN.bin` |
//! | `candidates` | one per partition | pairs of documents sharing a band key: `part-NNNNN.bin` |
//! | `sets` (`verify`) | one per file with candidates | candidates' shingle sets by verify partition |
//! | `verify` (`verify`) | one per verify partition | the pairs whose exact Jaccard reaches the threshold |
//! | `components` | one | each clustered document's representative and cluster size, per file |
//! | `apply` | one per input file | the documents (stage output) |
//!
//! * [`config`] — [`MinhashConfig`], [`LshParams`] (bands, rows, implied threshold) and the threshold →
//!   banding choice.
//! * [`shingle`] — SlimPajama normalisation and word n-gram hashes; exact Jaccard.
//! * [`signature`] — seeded permutations, signatures, band keys.
//! * [`bands`], [`verify`], [`components`], [`apply`] — the phases; [`records`] — what they exchange.
//!
//! **Which copy survives:** the smallest (input file position, index in the file) of each cluster —
//! whatever the thread or worker count, and the same after a resumed run.

pub mod apply;
pub mod bands;
pub mod components;
pub mod config;
pub mod records;
pub mod shingle;
pub mod signature;
pub mod verify;

use std::collections::HashMap;

use sluice_core::format::{DocumentReader, Format};
use sluice_core::runner::{PhasedStage, PlanContext, ShardStats, Task, TaskContext, TaskInput};
use sluice_core::Result;

use bands::partition_name;
pub use config::{LshParams, MinhashConfig, MinhashError};
use signature::Permutations;

/// The MinHash-LSH dedup stage, built from its config.
pub struct MinhashStage {
    config: MinhashConfig,
    params: LshParams,
    permutations: Permutations,
}

/// What each phase does (the names are in [`MinhashStage::phases`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Signatures,
    Candidates,
    Sets,
    Verify,
    Components,
    Apply,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Signatures => "signatures",
            Phase::Candidates => "candidates",
            Phase::Sets => "sets",
            Phase::Verify => "verify",
            Phase::Components => "components",
            Phase::Apply => "apply",
        }
    }
}

const PLAIN: [Phase; 4] = [Phase::Signatures, Phase::Candidates, Phase::Components, Phase::Apply];
const VERIFIED: [Phase; 6] =
    [Phase::Signatures, Phase::Candidates, Phase::Sets, Phase::Verify, Phase::Components, Phase::Apply];

impl MinhashStage {
    /// Checks the configuration and resolves the banding.
    pub fn new(config: MinhashConfig) -> Result<Self, MinhashError> {
        let params = config.lsh_params()?;
        let permutations = Permutations::new(params.permutations(), config.seed);
        Ok(MinhashStage { config, params, permutations })
    }

    /// The banding in use (bands, rows, implied threshold; what the CLI prints).
    pub fn params(&self) -> LshParams {
        self.params
    }

    pub fn config(&self) -> &MinhashConfig {
        &self.config
    }

    fn phase_list(&self) -> &'static [Phase] {
        if self.config.verify {
            &VERIFIED
        } else {
            &PLAIN
        }
    }

    /// The index of `phase` in this run's phase list.
    fn index_of(&self, phase: Phase) -> usize {
        self.phase_list().iter().position(|p| *p == phase).expect("phase in list")
    }
}

impl PhasedStage for MinhashStage {
    fn name(&self) -> &str {
        "dedup-minhash"
    }

    fn version(&self) -> u32 {
        1
    }

    /// The config without `memory_mb`, which changes how a task works, never what it writes: raising it
    /// to resume a run redoes nothing.
    fn fingerprint(&self) -> String {
        let mut config = serde_json::to_value(&self.config).unwrap_or_default();
        if let Some(fields) = config.as_object_mut() {
            fields.remove("memory_mb");
        }
        config.to_string()
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    fn phases(&self) -> Vec<&'static str> {
        self.phase_list().iter().map(|p| p.name()).collect()
    }

    fn plan(&self, phase: usize, context: &PlanContext) -> Result<Vec<Task>> {
        let partitions = self.config.partitions;
        Ok(match self.phase_list()[phase] {
            Phase::Signatures => context.one_task_per_input(),
            Phase::Candidates => {
                // Each file's part of the partition, in file order, carrying the file's position (the
                // records themselves only know their index in the file).
                let by_name: HashMap<&str, &TaskInput> =
                    context.artifacts(0).iter().map(|a| (a.relative.as_str(), a)).collect();
                let keys = context.input_keys();
                (0..partitions)
                    .map(|q| {
                        let part = partition_name(q);
                        let inputs = keys
                            .iter()
                            .enumerate()
                            .filter_map(|(position, key)| {
                                by_name
                                    .get(format!("{key}/{part}").as_str())
                                    .map(|a| TaskInput { position, ..(*a).clone() })
                            })
                            .collect();
                        Task { key: format!("part-{q:05}"), inputs, partition: Some(q) }
                    })
                    .collect()
            }
            Phase::Sets => {
                let needs = context.artifacts(self.index_of(Phase::Candidates));
                context
                    .one_task_per_input()
                    .into_iter()
                    .filter_map(|mut task| {
                        let prefix = format!("need/{:08}/", task.inputs[0].position);
                        task.inputs.extend(needs.iter().filter(|a| a.relative.starts_with(&prefix)).cloned());
                        (task.inputs.len() > 1).then_some(task)
                    })
                    .collect()
            }
            Phase::Verify => {
                let pairs = context.artifacts(self.index_of(Phase::Candidates));
                let sets = context.artifacts(self.index_of(Phase::Sets));
                (0..partitions)
                    .filter_map(|k| {
                        let pair_prefix = format!("pairs/v{k:05}/");
                        let set_prefix = format!("v{k:05}/");
                        let mut inputs: Vec<TaskInput> =
                            pairs.iter().filter(|a| a.relative.starts_with(&pair_prefix)).cloned().collect();
                        if inputs.is_empty() {
                            return None;
                        }
                        inputs.extend(sets.iter().filter(|a| a.relative.starts_with(&set_prefix)).cloned());
                        Some(Task { key: format!("v{k:05}"), inputs, partition: Some(k) })
                    })
                    .collect()
            }
            Phase::Components => {
                let edges_from = if self.config.verify { Phase::Verify } else { Phase::Candidates };
                let inputs = context.artifacts(self.index_of(edges_from)).to_vec();
                vec![Task { key: "components".into(), inputs, partition: None }]
            }
            Phase::Apply => {
                let members = context.artifacts(self.index_of(Phase::Components));
                let by_name: HashMap<&str, &TaskInput> = members.iter().map(|a| (a.relative.as_str(), a)).collect();
                let mut tasks = context.one_task_per_input();
                for task in &mut tasks {
                    if let Some(list) = by_name.get(format!("{:08}.bin", task.inputs[0].position).as_str()) {
                        task.inputs.push((*list).clone());
                    }
                }
                tasks
            }
        })
    }

    fn run(&self, phase: usize, task: &Task, context: &mut TaskContext) -> Result<()> {
        match self.phase_list()[phase] {
            Phase::Signatures => self.signatures(task, context),
            Phase::Candidates => self.candidates(task, context),
            Phase::Sets => self.sets(task, context),
            Phase::Verify => self.verify(task, context),
            Phase::Components => self.components(task, context),
            Phase::Apply => self.apply(task, context),
        }
    }
}

/// Lines of a document file that could not be read: in the phase that writes documents they are
/// documents too (counted in, dropped as `unreadable`); elsewhere only counted.
fn count_unreadable(reader: &dyn DocumentReader, stats: &mut ShardStats, as_documents: bool) {
    for (kind, n) in reader.skipped() {
        if as_documents {
            stats.docs_in += n;
            stats.drop_docs("unreadable", *n);
        }
        stats.errors(kind, *n);
    }
    for (kind, n) in reader.repaired() {
        stats.errors(kind, *n);
    }
}

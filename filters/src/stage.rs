//! The `filter` stage: a chain of steps over document shards (Parquet or JSONL in, the same out).

use serde::{Deserialize, Serialize};
use sluice_core::format::Format;
use sluice_core::runner::{DocumentSink, InputShard, ShardStats, Stage};
use sluice_core::Result;

use crate::registry::StepConfig;
use crate::step::{Step, Verdict};

/// Parameters of the `filter` stage (the `filter:` step of a recipe).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Input document files or folders. Optional in a recipe step that follows another.
    #[serde(default, skip_serializing)]
    pub input: Vec<String>,
    /// Where to write the kept documents. Default: `<recipe output>/<step number>-filter`.
    #[serde(default, skip_serializing)]
    pub output: Option<String>,
    /// The steps, in order.
    pub steps: Vec<StepConfig>,
}

/// The filter stage, built from its config.
pub struct FilterStage {
    config: FilterConfig,
    steps: Vec<(String, Box<dyn Step>)>,
}

impl FilterStage {
    /// Builds the chain and prepares every step (loads models); fails with the first step that cannot run.
    pub fn new(config: FilterConfig) -> Result<Self, String> {
        let mut steps = Vec::with_capacity(config.steps.len());
        for (i, step_config) in config.steps.iter().enumerate() {
            let step = step_config.build();
            // Positions keep the drop reasons of repeated steps apart and sorted in chain order.
            let label = format!("{:02}_{}", i + 1, step.name());
            step.prepare().map_err(|e| format!("step {} ({}): {e}", i + 1, step.name()))?;
            steps.push((label, step));
        }
        Ok(FilterStage { config, steps })
    }
}

impl Stage for FilterStage {
    fn name(&self) -> &str {
        "filter"
    }

    fn fingerprint(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_default()
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    fn process(&self, input: &InputShard<'_>, out: &mut DocumentSink, stats: &mut ShardStats) -> Result<()> {
        let mut reader = input.open_documents()?;
        while let Some(batch) = reader.next_batch()? {
            for mut doc in batch {
                stats.docs_in += 1;
                if let Some(reason) = self.run_chain(&mut doc, stats) {
                    stats.drop_doc(reason);
                } else {
                    out.push(doc)?;
                }
            }
        }
        // Lines the reader could not parse are documents too: counted in, dropped as unreadable.
        for (kind, n) in reader.skipped() {
            stats.docs_in += n;
            stats.drop_docs("unreadable", *n);
            stats.errors(kind, *n);
        }
        for (kind, n) in reader.repaired() {
            stats.errors(kind, *n);
        }
        Ok(())
    }
}

impl FilterStage {
    /// Runs the steps in order; returns the drop reason of the step that dropped the document, if one did.
    fn run_chain<'a>(&'a self, doc: &mut sluice_core::Document, stats: &mut ShardStats) -> Option<&'a str> {
        for (label, step) in &self.steps {
            match step.apply(doc) {
                Verdict::Keep => {}
                Verdict::Drop => return Some(label),
                Verdict::Error(kind) => {
                    stats.error(&format!("{label}:{kind}"));
                    return Some(label);
                }
            }
        }
        None
    }
}

//! sluice-dedup: deduplication stages, each a multi-phase job on sluice's runner (tasks and phases,
//! committed and resumed per task, sharded with `--shard i/N`), deterministic whatever the thread or
//! worker count.
//!
//! * [`exact`] — exact dedup by normalised URL, by text hash, or of paragraphs (lines).
//! * [`bff`] — DCLM's BFF (`old-both` and the other remove types) with a Bloom filter, in a fixed order.
//! * [`minhash`] — MinHash-LSH near-duplicate dedup with connected components.
//! * [`decontam`] — n-gram overlap of documents with evaluation task files: annotate or drop.

pub mod bff;
pub mod decontam;
pub mod exact;
pub mod minhash;

use serde::{Deserialize, Serialize};
use sluice_core::runner::{MapStage, PhasedStage};

/// A recipe's `dedup:` stage: `method:` picks the method, the other fields are that method's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum DedupConfig {
    Exact(exact::ExactConfig),
    Bff(bff::BffConfig),
    Minhash(minhash::MinhashConfig),
    Decontaminate(decontam::DecontamConfig),
}

impl DedupConfig {
    /// The stage's input and output, when the recipe names them.
    pub fn io(&self) -> (&[String], Option<&str>) {
        match self {
            DedupConfig::Exact(c) => (&c.input, c.output.as_deref()),
            DedupConfig::Bff(c) => (&c.input, c.output.as_deref()),
            DedupConfig::Minhash(c) => (&c.input, c.output.as_deref()),
            DedupConfig::Decontaminate(c) => (&c.input, c.output.as_deref()),
        }
    }

    /// The runnable stage.
    pub fn build(&self) -> sluice_core::Result<Box<dyn PhasedStage>> {
        Ok(match self {
            DedupConfig::Exact(c) => Box::new(exact::ExactDedupStage::new(c.clone())?),
            DedupConfig::Bff(c) => {
                Box::new(bff::BffStage::new(c.clone()).map_err(|e| sluice_core::Error::stage("bff", e))?)
            }
            DedupConfig::Minhash(c) => {
                Box::new(minhash::MinhashStage::new(c.clone()).map_err(|e| sluice_core::Error::stage("minhash", e))?)
            }
            DedupConfig::Decontaminate(c) => Box::new(MapStage(Box::new(
                decontam::DecontamStage::new(c.clone()).map_err(|e| sluice_core::Error::stage("decontaminate", e))?,
            ))),
        })
    }
}

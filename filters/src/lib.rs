//! sluice-filters: document filters, modifiers and enrichers.
//!
//! A [`Step`] is a small pure function over one document with its parameters in a typed struct that a
//! recipe deserialises ([`StepConfig`]): a *filter* keeps or drops, a *modifier* rewrites the text (and drops
//! the document if nothing is left), an *enricher* adds an attribute. Steps run in order; the first drop
//! ends a document's way through the chain, and the step's name is the drop reason in the stage stats
//! ([`stage`] lists the reason names). A step is plain data until [`Step::prepare`] loads its models and
//! list files; what cannot be loaded is a [`FilterError`] naming the step and the file.
//!
//! * [`text`] — Python's string semantics (`str.split`, `isalpha`, fastText tokenization), which DCLM's
//!   thresholds are defined over.
//! * [`dclm`] — DCLM-Baseline's RefinedWeb-style steps with DCLM's exact parameters and quirks, checked
//!   against DCLM's own outputs (`tests/dclm_parity.rs`).
//!
//! * [`stage`] — the `filter` stage: a chain of steps over document shards, with per-step drop counts.
//!
//! * [`fineweb`] — FineWeb's quality rules; [`quality`] — fastText quality classifiers (train, score,
//!   threshold).
//!
//! Recipes combine them into DCLM-Baseline, Gopher, C4, FineWeb and RefinedWeb rule sets (`recipes/`).

pub mod dclm;
mod error;
pub mod fineweb;
mod lists;
mod prediction;
pub mod quality;
mod registry;
pub mod stage;
pub mod step;
pub mod text;

pub use error::FilterError;
pub use registry::StepConfig;
pub use stage::{FilterConfig, FilterStage};
pub use step::{Step, Verdict};

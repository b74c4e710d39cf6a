//! BFF: DCLM's Bloom-filter n-gram dedup (`dedup/bff` in mlfoundations/dclm), the dedup of DCLM-Baseline,
//! with DCLM's decisions for every remove type and a deterministic order.
//!
//! * [`BffStage`] / [`BffConfig`] — the stage: one ordered task over all inputs, one output file per input.
//! * [`RemoveType`] — `old-both` (DCLM-Baseline), `paragraph`, `document`, `both`, `naive-both`,
//!   `substring`, `exact`, each reproducing DCLM's comparisons (`>` or `≥`) and quirks.
//! * [`BloomFilter`] — the filter (fixed seeds, save/load, check-only use for decontamination).
//! * [`sysreq`] — DCLM's sizing: bytes and hashers for an n-gram count and false-positive rate.
//! * [`ngrams`] — DCLM's tokens (UAX-29 word bounds with a non-whitespace character) and n-gram keys.
//!
//! `docs/dedup.md` (section BFF) describes the semantics and where sluice differs from DCLM.

mod config;
mod error;
mod filter;
pub mod ngrams;
mod remove;
mod sizing;
mod stage;
mod substring;

pub use config::{BffConfig, RemoveType};
pub use error::BffError;
pub use filter::{BloomFilter, FILE_MAGIC, FILE_VERSION};
pub use sizing::{bloom_size, optimal_number_of_hashers, prob_of_false_positive, sysreq};
pub use stage::{BffStage, DROP_DUPLICATE, DROP_EMPTY, FILTER_ARTIFACT};

//! sluice-mixer: mixing several sources by weight, and SQL over any stage output.
//!
//! * [`mix`] — the `mix` stage: each source (a curated output) gets a weight or a target size; documents
//!   are up- or down-sampled deterministically (integer repeats plus a seeded Bernoulli remainder, as
//!   OpenLM's `do_sample`), and the achieved document and token shares per source are reported.
//! * [`sql`] — DataFusion over sluice's Parquet (documents, stats, manifests): `sluice sql` and the
//!   mixer's per-source counts.

pub mod mix;
pub mod sql;

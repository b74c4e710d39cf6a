//! sluice-core: the spine every stage stands on.
//!
//! * [`Document`] — the one document model passed between stages, with its Arrow schema in [`schema`].
//! * [`store`] — one URL syntax (`path`, `file://`, `s3://`, `gs://`, `az://`, `memory://`) over
//!   `object_store`, with a small synchronous façade so CPU-bound stages can run on rayon threads.
//! * [`format`] — streaming document readers and writers: Parquet (zstd, the default between stages) and
//!   JSONL / JSONL.gz / JSONL.zst with DCLM's and dolma's field names.
//! * [`runner`] — the stage runner: deterministic input listing, `--shard i/N`, parallel shards, atomic
//!   commit with a per-shard manifest, resume, and per-stage statistics.
//! * [`provenance`] — content-derived uuids and DCLM's `creation_date` for the reference files sluice writes.
//! * [`recipe`] — loading YAML recipes with errors that name the file, line and field.
//!
//! Stage crates (`ingest`, `filters`, …) depend on this crate and never on each other.

pub mod attributes;
pub mod document;
pub mod error;
pub mod format;
pub mod provenance;
pub mod recipe;
pub mod runner;
pub mod schema;
pub mod store;

pub use document::Document;
pub use error::{Error, Result};

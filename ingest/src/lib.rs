//! sluice-ingest: Common Crawl WARC/WET files to documents.
//!
//! The pipeline for one record, one module per step:
//! [`warc`] (record framing that survives bad input) → [`http`] (lenient response parsing) →
//! [`charset`] (BOM / header / meta / detection) → [`extract`] (HTML → text behind the [`Extractor`]
//! trait) → [`stage`] (documents with DCLM-Pool's fields, every drop counted; [`error`] for inputs that
//! fail as a whole).

pub mod charset;
pub mod error;
pub mod extract;
pub mod http;
pub mod stage;
pub mod warc;

pub use error::IngestError;
pub use extract::{Extracted, Extractor, ExtractorKind};
pub use stage::{IngestConfig, IngestStage};

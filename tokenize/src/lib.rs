//! sluice-tokenize: documents to token shards, DCLM-style.
//!
//! * [`TokenizeStage`] — the `tokenize` stage on sluice's runner (a [`sluice_core::runner::PhasedStage`]),
//!   built from a [`TokenizeConfig`] (the recipe's `tokenize:` step).
//! * [`Encoder`] — a HF `tokenizer.json` (GPT-NeoX-20B, DCLM's, is bundled), the ids the stage adds (EOT
//!   after every document, PAD = base vocabulary + 2 as DCLM computes it, an optional BOS), and encoding
//!   that splits long documents only where splitting cannot change the tokens.
//! * Output formats ([`OutputFormat`]): `openlm` — tokshuf-rs's webdataset tars of gzipped JSON contexts
//!   with `manifest.jsonl`, globally shuffled; `bin` — flat u16/u32 token arrays with a document index;
//!   `decomposed` — dataset decomposition into `D_k/` buckets with DD's mixing parameters ([`dd`]).
//! * [`summarize`] and [`write_dataset_json`] — what an output holds, and DCLM's `exp_data` dataset JSON.
//!
//! Every output is the same bytes whatever the thread or worker count, and after a kill and a rerun
//! (`docs/tokenize.md` says how and where sluice differs from tokshuf-rs).

pub mod bytebpe;
pub mod bytesize;
pub mod config;
pub mod dd;
pub mod encoder;
pub mod error;
pub mod member;
pub mod records;
pub mod rng;
pub mod shards;
pub mod stage;
pub mod summary;
pub mod tar;
pub mod tokens;

pub use bytesize::ByteSize;
pub use config::{DecompositionConfig, OutputFormat, ShardFormat, TokenizeConfig};
pub use encoder::{Encoder, TokenWidth, BUNDLED_TOKENIZER, BUNDLED_TOKENIZER_NAME};
pub use error::TokenizeError;
pub use stage::TokenizeStage;
pub use summary::{summarize, write_dataset_json, OutputSummary, ShardSet};

//! sluice-tokenize: documents to token shards, DCLM-style.
//!
//! The building blocks: the tokenizer ([`encoder`]), the configuration ([`config`]), seeded randomness
//! ([`rng`]), tar members of gzipped JSON contexts ([`tar`], [`member`]) and dataset decomposition
//! ([`dd`]). The stage comes next.

pub mod bytesize;
pub mod config;
pub mod dd;
pub mod encoder;
pub mod error;
pub mod member;
pub mod rng;
pub mod tar;

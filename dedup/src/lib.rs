//! sluice-dedup: deduplication stages.
//!
//! This crate will hold exact dedup, DCLM's Bloom-filter n-gram dedup (BFF semantics: paragraph + document,
//! `old-both` mode) and MinHash-LSH near-duplicate removal that shards across machines. Not built yet.

//! sluice-dedup: deduplication stages, each a multi-phase job on sluice's runner (tasks and phases,
//! committed and resumed per task, sharded with `--shard i/N`), deterministic whatever the thread or
//! worker count.
//!
//! * [`exact`] — exact dedup by normalised URL, by text hash, or of paragraphs (lines).
//! * [`bff`] — DCLM's BFF (`old-both` and the other remove types) with a Bloom filter, in a fixed order.
//! * [`minhash`] — MinHash-LSH near-duplicate dedup with connected components.

pub mod bff;
pub mod exact;
pub mod minhash;

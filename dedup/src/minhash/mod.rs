//! MinHash-LSH near-duplicate dedup (being written).

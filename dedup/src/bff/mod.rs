//! BFF: DCLM's Bloom-filter n-gram dedup (being written).

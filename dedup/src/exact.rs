//! Exact dedup (being written).

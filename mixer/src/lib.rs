//! sluice-mixer: weighted mixing of sources and dataset decomposition.
//!
//! This crate will mix several document sources by weight (DataFusion SQL over stage outputs) and split
//! documents into power-of-two length buckets for variable-sequence-length training, each sequence from one
//! document. Not built yet.

//! sluice-filters: document filters, modifiers and enrichers.
//!
//! This crate will hold DCLM-Baseline's RefinedWeb-style heuristic chain (URL ban lists, length, ratio and
//! repetition filters, line modifiers) with DCLM's exact thresholds and quirks, the Gopher / C4 / FineWeb rule
//! sets, fastText language identification and the trainable fastText quality classifier. Each filter is a
//! small pure function over a `sluice_core::Document` with a typed parameter struct that a recipe
//! deserialises. Not built yet: see the filters issue.

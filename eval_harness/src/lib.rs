//! sluice-eval-harness: DCLM's evaluation, exact to llm-foundry v0.9.0 and DCLM's own aggregation.
//!
//! * [`task`] — DCLM's eval suites (heavy, mmlu_and_lowvar, medium, light bundled) with llm-foundry's defaults.
//! * [`data`] — a task's JSONL rows as llm-foundry reads them (stripped, split by category), checked.
//! * [`prompt`] — few-shot prompts and their token ids as llm-foundry builds them ([`fewshot`] replays
//!   Python's `random` and `set` through [`pyrandom`] and [`pyset`]).
//! * [`metrics`] — per-example correctness and metric values (MC, LM, generation exact match).
//! * [`aggregate`] — DCLM's centered accuracy, Core / Extended (v2, v1), category and group means.
//! * [`model`] — OpenLM's decoder (DCLM's reference model) in candle: DCLM's scales and small CPU ones,
//!   `.pt` and safetensors checkpoints, a KV cache.
//! * [`rebuild`] — hellaswag and MMLU in llm-foundry's format from the HF datasets' files.
//!
//! Batched scoring of a checkpoint, training and the leaderboard files are not built yet.

pub mod aggregate;
pub mod data;
pub mod error;
pub mod fewshot;
pub mod metrics;
pub mod model;
pub mod prompt;
pub mod pyrandom;
pub mod pyset;
pub mod rebuild;
pub mod task;

pub use error::EvalError;

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
//! * [`score`] — the model over the sequences a task scores (length-sorted batches, only the scored rows
//!   projected onto the vocabulary) and greedy generation through the KV cache.
//! * [`evaluate`] — a suite planned (every evaluator's sequences) and scored into DCLM's per-task accuracies.
//! * [`leaderboard`] — DCLM's `exp_data` reference files (evaluation, model, datasets), their field sets and
//!   uuid links.
//! * [`scale`] — DCLM's five competition scales and their fixed training recipes (the model reference's
//!   `hyperparameters`, name and OpenLM arguments).
//!
//! Training is not built yet.

pub mod aggregate;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod fewshot;
pub mod leaderboard;
pub mod metrics;
pub mod model;
pub mod prompt;
pub mod pyrandom;
pub mod pyset;
pub mod rebuild;
pub mod scale;
pub mod score;
pub mod task;

pub use error::EvalError;

//! sluice-eval-harness: train and score reference language models.
//!
//! This crate will train small reference LMs in-process, launch DCLM's real scales on OpenLM/torchrun, score
//! checkpoints on DCLM's 53 tasks with llm-foundry's semantics (Core / Extended / MMLU, centered accuracy) and
//! write the leaderboard submission. Not built yet.

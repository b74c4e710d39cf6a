//! DCLM's reference model, OpenLM's decoder (`open_lm/model.py` at the commit DCLM trains with), in candle.
//!
//! * [`config`] — [`OpenLmConfig`] (OpenLM's model JSON, DCLM's flags for absent keys), the presets `411m`,
//!   `1b`, `3b`, `7b` (DCLM's scales) and `tiny`, `micro` (CPU-sized), [`expected_layout`] and
//!   [`parameter_count`].
//! * [`layers`] — gain-only LayerNorm, rotate-half RoPE, attention with QK-norm over the whole projection, SwiGLU.
//! * [`openlm`] — [`OpenLm`]: full-sequence and KV-cache ([`KvCache`]) forward passes giving f32 logits,
//!   [`target_logprobs`], loading and saving.
//! * [`init`] — a model drawn from a seed with OpenLM's init (smoke runs, the benchmark, tests).
//! * [`checkpoint`] — [`StateDict`]: `.safetensors` and OpenLM `epoch_N.pt` files, wrapper prefixes removed, checked
//!   name by name and shape by shape against a config before anything is built.
//!
//! Parity with OpenLM's own PyTorch forward (full pass and KV cache) is checked against `shared/golden/openlm` by
//! `tests/golden_openlm.rs`. What is easy to get wrong and done as OpenLM does: QK-norm normalises q and k over all
//! of d before the head split and RoPE; `w12`'s first half is the gate; RoPE pairs j with j + head_dim/2; norms
//! subtract the mean (LayerNorm, not RMSNorm), eps 1e-5, no bias anywhere; embeddings are untied.

pub mod checkpoint;
pub mod config;
pub mod cpu_attention;
pub mod cpu_ops;
pub mod error;
pub mod init;
pub mod layers;
pub mod openlm;

/// The tensor types the model's API takes, so callers need no direct candle dependency.
pub use candle_core::{DType, Device};
pub use checkpoint::StateDict;
pub use config::{expected_layout, parameter_count, OpenLmConfig, TensorKind, TensorSpec, PRESET_NAMES};
pub use error::ModelError;
pub use init::{seeded_model, seeded_state_dict};
pub use openlm::{target_logprobs, KvCache, OpenLm};

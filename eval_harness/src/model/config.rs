//! OpenLM's model config (the `--model` JSON DCLM passes), DCLM's four scales plus two CPU-sized ones, and the
//! state_dict layout and parameter count a config implies.
//!
//! OpenLM (`open_lm/model.py::create_params`) takes `model_norm`, `qk_norm` and `positional_embedding_type` from
//! the JSON when present and from the command line otherwise. DCLM's model JSONs never set them, and its
//! `training/params.py` always passes `--model-norm gain_only_lp_layer_norm --qk-norm`, so an absent key takes
//! DCLM's value here, not OpenLM's CLI default. `ffn_type` falls back to OpenLM's default `swiglu` (xformers), as
//! it does for DCLM's 411m config; `swiglu` and `swiglu_torch` have the same tensors and the same maths.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::error::ModelError;

/// OpenLM's feed-forward types that this port runs (both are `w3(silu(gate) * up)` with `w12 = [gate; up]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FfnType {
    /// xformers' packed `SwiGLU` (OpenLM's default; DCLM's 411m).
    Swiglu,
    /// OpenLM's `SwiGLUTorch` (DCLM's 1B, 3B and 7B).
    SwigluTorch,
}

/// OpenLM's norm classes that this port runs: LayerNorm with a gain and no bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelNorm {
    /// `LPLayerNorm(elementwise_gain=True, elementwise_bias=False)`: DCLM's `--model-norm`.
    GainOnlyLpLayerNorm,
    /// `LayerNorm(elementwise_gain=True, elementwise_bias=False)`: the same maths outside autocast.
    GainOnlyLayerNorm,
}

/// OpenLM's positional embeddings that this port runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionalEmbedding {
    /// `RotaryWithCast`: GPT-NeoX rotate-half RoPE, base 10000, positions from 0.
    Rotary,
}

fn default_ffn_type() -> FfnType {
    FfnType::Swiglu
}

fn default_model_norm() -> ModelNorm {
    ModelNorm::GainOnlyLpLayerNorm
}

fn default_qk_norm() -> bool {
    true
}

fn default_positional_embedding() -> PositionalEmbedding {
    PositionalEmbedding::Rotary
}

fn default_norm_eps() -> f64 {
    1e-5
}

/// An OpenLM model config as in its `--model` JSON files, with DCLM's command-line values for absent keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenLmConfig {
    /// Model width d.
    pub hidden_dim: usize,
    pub n_layers: usize,
    /// Head count; head_dim = hidden_dim / n_heads.
    pub n_heads: usize,
    /// Training context length (the RoPE tables are precomputed this far; longer inputs still work).
    pub seq_len: usize,
    /// 50432 for DCLM (GPT-NeoX's ids, padded).
    pub vocab_size: usize,
    /// A norm right after the embedding (`post_embed_norm.weight`); false in DCLM.
    #[serde(default)]
    pub post_embed_norm: bool,
    /// `output.weight` is `tok_embeddings.weight`; false in DCLM.
    #[serde(default)]
    pub weight_tying: bool,
    #[serde(default = "default_ffn_type")]
    pub ffn_type: FfnType,
    #[serde(default = "default_model_norm")]
    pub model_norm: ModelNorm,
    /// LayerNorm over the whole q and k projections (all heads jointly), before RoPE.
    #[serde(default = "default_qk_norm")]
    pub qk_norm: bool,
    #[serde(default = "default_positional_embedding")]
    pub positional_embedding_type: PositionalEmbedding,
    /// OpenLM never reads it from the JSON (its `Params.norm_eps` is always 1e-5); kept for completeness.
    #[serde(default = "default_norm_eps")]
    pub norm_eps: f64,
    /// OpenLM's mixture-of-experts frequency; only 0 (dense) is supported.
    #[serde(default)]
    pub moe_freq: usize,
}

/// Canonical preset names, smallest DCLM scale first (see [`OpenLmConfig::preset`] for the aliases).
pub const PRESET_NAMES: [&str; 6] = ["411m", "1b", "3b", "7b", "tiny", "micro"];

impl OpenLmConfig {
    /// DCLM's d, layers and heads with its fixed vocabulary, context and flags.
    fn dclm(hidden_dim: usize, n_layers: usize, n_heads: usize, ffn_type: FfnType) -> Self {
        OpenLmConfig {
            hidden_dim,
            n_layers,
            n_heads,
            seq_len: 2048,
            vocab_size: 50432,
            post_embed_norm: false,
            weight_tying: false,
            ffn_type,
            model_norm: ModelNorm::GainOnlyLpLayerNorm,
            qk_norm: true,
            positional_embedding_type: PositionalEmbedding::Rotary,
            norm_eps: 1e-5,
            moe_freq: 0,
        }
    }

    /// DCLM 400M-1x (`d=1024_l=24_h=8.json`, no `ffn_type` so xformers `swiglu`): 411,665,408 parameters.
    pub fn dclm_411m() -> Self {
        Self::dclm(1024, 24, 8, FfnType::Swiglu)
    }

    /// DCLM 1B-1x (`open_lm_1b_swiglutorch.json`): 1,439,893,504 parameters.
    pub fn dclm_1b() -> Self {
        Self::dclm(2048, 24, 16, FfnType::SwigluTorch)
    }

    /// DCLM 3B-1x (`open_lm_3b_swiglutorch.json`, head_dim 80): 2,796,096,000 parameters.
    pub fn dclm_3b() -> Self {
        Self::dclm(2560, 32, 32, FfnType::SwigluTorch)
    }

    /// DCLM 7B-1x / 7B-2x (`open_lm_7b_swiglutorch.json`): 6,889,672,704 parameters.
    pub fn dclm_7b() -> Self {
        Self::dclm(4096, 32, 32, FfnType::SwigluTorch)
    }

    /// A CPU-sized model of DCLM's architecture and vocabulary: d 128, 4 layers, 4 heads (13,961,344 parameters,
    /// 92% of them the embedding and output matrices).
    pub fn tiny() -> Self {
        Self::dclm(128, 4, 4, FfnType::SwigluTorch)
    }

    /// The smallest CPU model of DCLM's architecture and vocabulary: d 64, 2 layers, 4 heads (6,586,944
    /// parameters).
    pub fn micro() -> Self {
        Self::dclm(64, 2, 4, FfnType::SwigluTorch)
    }

    /// A preset by name: `411m` (also `411m_1x`, `400M-1x`), `1b`, `3b`, `7b` (DCLM's scales, as in
    /// `scales.json`), `tiny`, `micro`. Case-insensitive.
    pub fn preset(name: &str) -> Result<Self, ModelError> {
        let cfg = match name.to_ascii_lowercase().as_str() {
            "411m" | "411m_1x" | "400m-1x" | "400m" => Self::dclm_411m(),
            "1b" | "1b_1x" | "1b-1x" => Self::dclm_1b(),
            "3b" | "3b_1x" | "3b-1x" => Self::dclm_3b(),
            "7b" | "7b_1x" | "7b-1x" | "7b_2x" | "7b-2x" => Self::dclm_7b(),
            "tiny" => Self::tiny(),
            "micro" => Self::micro(),
            _ => return Err(ModelError::UnknownPreset { name: name.to_owned(), known: PRESET_NAMES.join(", ") }),
        };
        Ok(cfg)
    }

    /// Parses an OpenLM model JSON (`{"hidden_dim": 1024, "n_layers": 24, ...}`) and checks it is runnable.
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self, ModelError> {
        let cfg: OpenLmConfig =
            serde_json::from_str(text).map_err(|source| ModelError::ConfigJson { path: path.to_path_buf(), source })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads an OpenLM model JSON file (see [`OpenLmConfig::from_json_str`]).
    pub fn from_json_file(path: &Path) -> Result<Self, ModelError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?;
        Self::from_json_str(&text, path)
    }

    /// Checks the shape arithmetic this port relies on.
    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |msg: String| -> Result<(), ModelError> { Err(ModelError::Config(msg)) };
        if self.hidden_dim == 0 || self.n_layers == 0 || self.n_heads == 0 || self.vocab_size == 0 {
            return invalid(format!("hidden_dim, n_layers, n_heads and vocab_size must be positive in {self:?}"));
        }
        if !self.hidden_dim.is_multiple_of(self.n_heads) {
            return invalid(format!("hidden_dim {} is not a multiple of n_heads {}", self.hidden_dim, self.n_heads));
        }
        if !self.head_dim().is_multiple_of(2) {
            return invalid(format!("head_dim {} must be even for rotary embeddings", self.head_dim()));
        }
        if self.moe_freq != 0 {
            return invalid(format!("moe_freq {} (mixture of experts) is not supported", self.moe_freq));
        }
        let eps_ok = self.norm_eps.is_finite() && self.norm_eps > 0.0;
        if !eps_ok {
            return invalid(format!("norm_eps {} must be positive", self.norm_eps));
        }
        Ok(())
    }

    /// hidden_dim / n_heads.
    pub fn head_dim(&self) -> usize {
        self.hidden_dim / self.n_heads
    }

    /// OpenLM's SwiGLU width, `256 * ceil(int(8 d / 3) / 256)` (`Block.__init__`).
    pub fn ffn_hidden_dim(&self) -> usize {
        (8 * self.hidden_dim / 3).div_ceil(256) * 256
    }
}

/// Whether a state_dict entry is trained, a buffer, or an alias of another entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorKind {
    /// An `nn.Parameter`.
    Parameter,
    /// A persistent buffer (`attention.pos_embed.inv_freq`): saved, never trained, and optional when loading.
    Buffer,
    /// `output.weight` under weight tying: torch saves it, but it is `tok_embeddings.weight`.
    Tied,
}

/// One state_dict entry: OpenLM's name and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub kind: TensorKind,
}

impl TensorSpec {
    fn new(name: impl Into<String>, shape: &[usize], kind: TensorKind) -> Self {
        TensorSpec { name: name.into(), shape: shape.to_vec(), kind }
    }

    /// Number of elements.
    pub fn numel(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product()
    }
}

/// The state_dict OpenLM's `Transformer` has for `cfg`, in `state_dict()` order (module registration order:
/// `post_embed_norm`, `tok_embeddings`, then per block `attention.{in_proj, out_proj, pos_embed.inv_freq, q_norm,
/// k_norm}`, `feed_forward.{w12, w3}`, `attention_norm`, `ffn_norm`, then `norm`, `output`).
pub fn expected_layout(cfg: &OpenLmConfig) -> Vec<TensorSpec> {
    use TensorKind::{Buffer, Parameter, Tied};
    let (d, v, h) = (cfg.hidden_dim, cfg.vocab_size, cfg.ffn_hidden_dim());
    let mut specs = Vec::with_capacity(3 + cfg.n_layers * 9);
    if cfg.post_embed_norm {
        specs.push(TensorSpec::new("post_embed_norm.weight", &[d], Parameter));
    }
    specs.push(TensorSpec::new("tok_embeddings.weight", &[v, d], Parameter));
    for i in 0..cfg.n_layers {
        let p = format!("layers.{i}");
        specs.push(TensorSpec::new(format!("{p}.attention.in_proj.weight"), &[3 * d, d], Parameter));
        specs.push(TensorSpec::new(format!("{p}.attention.out_proj.weight"), &[d, d], Parameter));
        specs.push(TensorSpec::new(format!("{p}.attention.pos_embed.inv_freq"), &[cfg.head_dim() / 2], Buffer));
        if cfg.qk_norm {
            specs.push(TensorSpec::new(format!("{p}.attention.q_norm.weight"), &[d], Parameter));
            specs.push(TensorSpec::new(format!("{p}.attention.k_norm.weight"), &[d], Parameter));
        }
        specs.push(TensorSpec::new(format!("{p}.feed_forward.w12.weight"), &[2 * h, d], Parameter));
        specs.push(TensorSpec::new(format!("{p}.feed_forward.w3.weight"), &[d, h], Parameter));
        specs.push(TensorSpec::new(format!("{p}.attention_norm.weight"), &[d], Parameter));
        specs.push(TensorSpec::new(format!("{p}.ffn_norm.weight"), &[d], Parameter));
    }
    specs.push(TensorSpec::new("norm.weight", &[d], Parameter));
    specs.push(TensorSpec::new("output.weight", &[v, d], if cfg.weight_tying { Tied } else { Parameter }));
    specs
}

/// Trainable parameters (torch's `sum(p.numel() for p in model.parameters())`): buffers and the tied output
/// matrix are not counted. DCLM's configs' `params` field is this minus the 2·d·L QK-norm gains.
pub fn parameter_count(cfg: &OpenLmConfig) -> u64 {
    expected_layout(cfg).iter().filter(|s| s.kind == TensorKind::Parameter).map(TensorSpec::numel).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dclm_scales_have_openlm_parameter_counts() {
        // `n_parameters` of scales.json (OpenLM's model built on the meta device).
        assert_eq!(parameter_count(&OpenLmConfig::dclm_411m()), 411_665_408);
        assert_eq!(parameter_count(&OpenLmConfig::dclm_1b()), 1_439_893_504);
        assert_eq!(parameter_count(&OpenLmConfig::dclm_3b()), 2_796_096_000);
        assert_eq!(parameter_count(&OpenLmConfig::dclm_7b()), 6_889_672_704);
    }

    #[test]
    fn dclm_params_field_excludes_qk_norm_gains() {
        // DCLM's `params` field (training/configs/*.json) = OpenLM's count − 2·d·L.
        for (cfg, dclm_params) in [
            (OpenLmConfig::dclm_411m(), 411_616_256u64),
            (OpenLmConfig::dclm_1b(), 1_439_795_200),
            (OpenLmConfig::dclm_3b(), 2_795_932_160),
            (OpenLmConfig::dclm_7b(), 6_889_410_560),
        ] {
            let gains = 2 * (cfg.hidden_dim * cfg.n_layers) as u64;
            assert_eq!(parameter_count(&cfg) - gains, dclm_params, "{cfg:?}");
        }
    }

    #[test]
    fn ffn_hidden_is_openlm_rounding() {
        assert_eq!(OpenLmConfig::dclm_411m().ffn_hidden_dim(), 2816);
        assert_eq!(OpenLmConfig::dclm_1b().ffn_hidden_dim(), 5632);
        assert_eq!(OpenLmConfig::dclm_3b().ffn_hidden_dim(), 6912);
        assert_eq!(OpenLmConfig::dclm_7b().ffn_hidden_dim(), 11008);
        assert_eq!(OpenLmConfig::dclm_3b().head_dim(), 80);
    }

    #[test]
    fn cpu_presets_are_small() {
        assert_eq!(parameter_count(&OpenLmConfig::tiny()), 13_961_344);
        assert_eq!(parameter_count(&OpenLmConfig::micro()), 6_586_944);
        for name in PRESET_NAMES {
            OpenLmConfig::preset(name).unwrap().validate().unwrap();
        }
    }

    #[test]
    fn presets_by_dclm_names() {
        assert_eq!(OpenLmConfig::preset("400M-1x").unwrap(), OpenLmConfig::dclm_411m());
        assert_eq!(OpenLmConfig::preset("7b_2x").unwrap(), OpenLmConfig::dclm_7b());
        let err = OpenLmConfig::preset("13b").unwrap_err().to_string();
        assert!(err.contains("13b") && err.contains("411m"), "{err}");
    }

    #[test]
    fn json_takes_dclm_defaults_and_refuses_unknown_keys() {
        let path = Path::new("d=1024_l=24_h=8.json");
        let cfg = OpenLmConfig::from_json_str(
            r#"{"hidden_dim": 1024, "n_layers": 24, "n_heads": 8, "seq_len": 2048, "vocab_size": 50432,
                "post_embed_norm": false, "weight_tying": false}"#,
            path,
        )
        .unwrap();
        assert_eq!(cfg, OpenLmConfig::dclm_411m());
        let err = OpenLmConfig::from_json_str(r#"{"hidden_dim": 16, "n_layer": 2}"#, path).unwrap_err().to_string();
        assert!(err.contains("n_layer") && err.contains("d=1024_l=24_h=8.json"), "{err}");
        let err = OpenLmConfig::from_json_str(
            r#"{"hidden_dim": 16, "n_layers": 2, "n_heads": 4, "seq_len": 8, "vocab_size": 8, "ffn_type": "gelu"}"#,
            path,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("gelu"), "{err}");
        let err = OpenLmConfig::from_json_str(
            r#"{"hidden_dim": 18, "n_layers": 2, "n_heads": 4, "seq_len": 8, "vocab_size": 8}"#,
            path,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("multiple of n_heads"), "{err}");
    }

    #[test]
    fn layout_follows_state_dict_order() {
        let names: Vec<String> = expected_layout(&OpenLmConfig::micro()).into_iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 2 + 2 * 9 + 1);
        assert_eq!(names[0], "tok_embeddings.weight");
        assert_eq!(names[3], "layers.0.attention.pos_embed.inv_freq");
        assert_eq!(names[6], "layers.0.feed_forward.w12.weight");
        assert_eq!(names.last().map(String::as_str), Some("output.weight"));
    }
}

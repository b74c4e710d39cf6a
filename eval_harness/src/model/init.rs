//! A freshly initialised model from a seed: the same weights on every machine, for smoke runs, the benchmark
//! (saved as safetensors, the PyTorch side loads the very same weights) and tests that need a model without
//! `../shared`.
//!
//! The distributions are OpenLM's init (normal, not truncated): σ = 1/√d for the embedding, the output,
//! `in_proj` and `w12`; 1/√d/√(2(layer+1)) for `out_proj`; 1/√h/√(2(layer+1)) for `w3`; gains 1. The
//! numbers come from SplitMix64 and Box–Muller, seeded per tensor from its name, so adding a layer does not
//! change the others.

use candle_core::{DType, Device, Tensor};

use crate::model::checkpoint::StateDict;
use crate::model::config::{expected_layout, OpenLmConfig, TensorKind};
use crate::model::error::ModelError;
use crate::model::openlm::OpenLm;

/// The model `cfg` with weights drawn from `seed`.
pub fn seeded_model(cfg: &OpenLmConfig, seed: u64, dtype: DType, device: &Device) -> Result<OpenLm, ModelError> {
    cfg.validate()?;
    let state = seeded_state_dict(cfg, seed)?;
    OpenLm::from_state_dict(cfg, &state, dtype, device)
}

/// The parameters of `cfg` (no buffers; no `output` under weight tying) drawn from `seed`, in f32.
pub fn seeded_state_dict(cfg: &OpenLmConfig, seed: u64) -> Result<StateDict, ModelError> {
    let d = cfg.hidden_dim as f64;
    let h = cfg.ffn_hidden_dim() as f64;
    let mut tensors = Vec::new();
    for spec in expected_layout(cfg).into_iter().filter(|s| s.kind == TensorKind::Parameter) {
        let numel = spec.numel() as usize;
        let values = match stdev_of(&spec.name, d, h) {
            None => vec![1.0f32; numel],
            Some(stdev) => {
                let mut rng = SplitMix64(seed ^ fnv1a(spec.name.as_bytes()));
                (0..numel).map(|_| (rng.normal() * stdev) as f32).collect()
            }
        };
        tensors.push((spec.name.clone(), Tensor::from_vec(values, spec.shape.as_slice(), &Device::Cpu)?));
    }
    StateDict::from_tensors("<seeded init>", tensors)
}

/// OpenLM's init σ for a weight matrix; `None` for a norm gain (ones).
fn stdev_of(name: &str, d: f64, h: f64) -> Option<f64> {
    if name.ends_with("norm.weight") {
        return None;
    }
    let depth = name
        .strip_prefix("layers.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|layer| layer.parse::<f64>().ok())
        .map_or(1.0, |layer| (2.0 * (layer + 1.0)).sqrt());
    Some(if name.ends_with("out_proj.weight") {
        1.0 / d.sqrt() / depth
    } else if name.ends_with("w3.weight") {
        1.0 / h.sqrt() / depth
    } else {
        1.0 / d.sqrt()
    })
}

/// FNV-1a, 64-bit: a tensor name's own stream, stable across releases (no hasher's version in the way).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and well distributed, enough for weights.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: 53 random bits, never 0 (Box–Muller takes its logarithm).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal (one of Box–Muller's pair; the other is dropped to keep the stream simple).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_weights_follow_openlm_init_and_repeat() {
        let cfg = OpenLmConfig::tiny();
        let a = seeded_state_dict(&cfg, 7).expect("init");
        let b = seeded_state_dict(&cfg, 7).expect("init");
        let c = seeded_state_dict(&cfg, 8).expect("init");
        let values = |s: &StateDict, name: &str| -> Vec<f32> {
            s.get(name).expect("tensor").flatten_all().and_then(|t| t.to_vec1()).expect("values")
        };
        let emb = values(&a, "tok_embeddings.weight");
        assert_eq!(emb, values(&b, "tok_embeddings.weight"));
        assert_ne!(emb, values(&c, "tok_embeddings.weight"));
        let n = emb.len() as f64;
        let mean = emb.iter().map(|&x| x as f64).sum::<f64>() / n;
        let sd = (emb.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        let want = 1.0 / (cfg.hidden_dim as f64).sqrt();
        assert!(mean.abs() < 0.01 * want * 10.0, "mean {mean}");
        assert!((sd / want - 1.0).abs() < 0.01, "σ {sd} vs {want}");
        let out = values(&a, "layers.1.attention.out_proj.weight");
        let sd_out = (out.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / out.len() as f64).sqrt();
        assert!((sd_out / (want / 2.0) - 1.0).abs() < 0.05, "out_proj σ {sd_out}");
        assert!(values(&a, "norm.weight").iter().all(|&g| g == 1.0));
        seeded_model(&cfg, 7, DType::F32, &Device::Cpu).expect("model builds");
    }
}

//! OpenLM's `Transformer` (DCLM's reference model): embeddings, pre-norm blocks, final norm, untied output
//! projection, logits in f32. Full-sequence and KV-cache forward passes, loading and saving.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{Init, VarBuilder};

use crate::model::checkpoint::StateDict;
use crate::model::config::OpenLmConfig;
use crate::model::error::ModelError;
use crate::model::layers::{linear, record, Attention, Block, GainLayerNorm, LayerKv, Rope, SwiGlu, Trace};

/// Rows of logits normalised at a time by [`target_logprobs`] (bounds its f64 copies to 64 × vocab, 26 MB for
/// DCLM's vocabulary).
const LOGPROB_ROWS: usize = 64;

/// Keys and values of every layer for the positions already run, so that later tokens can be fed alone.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<LayerKv>,
    len: usize,
}

impl KvCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Positions cached so far (the next token's position).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every position.
    pub fn clear(&mut self) {
        self.layers.clear();
        self.len = 0;
    }

    fn prepare(&mut self, n_layers: usize, batch: usize) -> Result<()> {
        if self.layers.is_empty() {
            self.layers = vec![None; n_layers];
        }
        if self.layers.len() != n_layers {
            candle_core::bail!("KV cache holds {} layers, the model has {n_layers}", self.layers.len());
        }
        if let Some(Some((keys, _))) = self.layers.first() {
            let cached = keys.dim(0)?;
            if cached != batch {
                candle_core::bail!("KV cache holds a batch of {cached} sequences, the input has {batch}");
            }
        }
        Ok(())
    }
}

/// OpenLM's decoder.
#[derive(Debug, Clone)]
pub struct OpenLm {
    cfg: OpenLmConfig,
    tok_embeddings: Tensor,
    post_embed_norm: Option<GainLayerNorm>,
    layers: Vec<Block>,
    norm: GainLayerNorm,
    /// `tok_embeddings` itself under weight tying.
    output: Tensor,
    dtype: DType,
    device: Device,
}

impl OpenLm {
    /// Builds the model from `vb` with OpenLM's names and RoPE frequencies from OpenLM's formula. With a
    /// `VarMap`-backed builder, new weights are drawn like OpenLM's init (normal, not truncated): σ = 1/√d for the
    /// embedding, output, `in_proj` and `w12`; 1/√d/√(2(layer+1)) for `out_proj`; 1/√h/√(2(layer+1)) for `w3`;
    /// gains 1.
    pub fn new(cfg: &OpenLmConfig, vb: VarBuilder<'_>) -> Result<Self> {
        let inv_freqs = vec![Rope::default_inv_freq(cfg.head_dim()); cfg.n_layers];
        Self::build(cfg, vb, &inv_freqs)
    }

    /// Reads a checkpoint (`.safetensors`, or OpenLM's `epoch_N.pt`), checks it against `cfg` and builds the model
    /// in `dtype` on `device`.
    pub fn load(
        cfg: &OpenLmConfig,
        path: &Path,
        dtype: DType,
        device: &Device,
    ) -> std::result::Result<Self, ModelError> {
        let state = StateDict::read(path)?;
        Self::from_state_dict(cfg, &state, dtype, device)
    }

    /// Checks `state` against `cfg` (names, shapes, `inv_freq` values) and builds the model from it.
    pub fn from_state_dict(
        cfg: &OpenLmConfig,
        state: &StateDict,
        dtype: DType,
        device: &Device,
    ) -> std::result::Result<Self, ModelError> {
        cfg.validate()?;
        state.check_layout(cfg)?;
        let inv_freqs = state.inv_freqs(cfg)?;
        let tensors: HashMap<String, Tensor> =
            state.iter().map(|(name, tensor)| (name.to_owned(), tensor.clone())).collect();
        let vb = VarBuilder::from_tensors(tensors, dtype, device);
        Self::build(cfg, vb, &inv_freqs).map_err(|e| ModelError::candle(state.source(), "building the model", e))
    }

    fn build(cfg: &OpenLmConfig, vb: VarBuilder<'_>, inv_freqs: &[Vec<f32>]) -> Result<Self> {
        cfg.validate().map_err(candle_core::Error::wrap)?;
        if inv_freqs.len() != cfg.n_layers {
            candle_core::bail!("{} inv_freq vectors for {} layers", inv_freqs.len(), cfg.n_layers);
        }
        let (d, v, h) = (cfg.hidden_dim, cfg.vocab_size, cfg.ffn_hidden_dim());
        let std_d = 1.0 / (d as f64).sqrt();
        let std_h = 1.0 / (h as f64).sqrt();
        let normal = |stdev: f64| Init::Randn { mean: 0.0, stdev };
        let tok_embeddings = vb.get_with_hints((v, d), "tok_embeddings.weight", normal(std_d))?.contiguous()?;
        let post_embed_norm =
            if cfg.post_embed_norm { Some(gain(&vb, "post_embed_norm.weight", d, cfg.norm_eps)?) } else { None };
        // Layers with the same frequencies (normally all) share one set of RoPE tables.
        let mut ropes: Vec<Rope> = Vec::new();
        let mut layers = Vec::with_capacity(cfg.n_layers);
        for (i, inv_freq) in inv_freqs.iter().enumerate() {
            let depth = (2.0 * (i + 1) as f64).sqrt();
            let attn = vb.pp(format!("layers.{i}.attention"));
            let in_proj = attn.get_with_hints((3 * d, d), "in_proj.weight", normal(std_d))?.contiguous()?;
            let out_proj = attn.get_with_hints((d, d), "out_proj.weight", normal(std_d / depth))?.contiguous()?;
            let (q_norm, k_norm) = if cfg.qk_norm {
                (
                    Some(gain(&attn, "q_norm.weight", d, cfg.norm_eps)?),
                    Some(gain(&attn, "k_norm.weight", d, cfg.norm_eps)?),
                )
            } else {
                (None, None)
            };
            let rope = match ropes.iter().find(|rope| rope.inv_freq() == inv_freq.as_slice()) {
                Some(rope) => rope.clone(),
                None => {
                    let rope = Rope::new(inv_freq.clone(), cfg.seq_len, vb.dtype(), vb.device())?;
                    ropes.push(rope.clone());
                    rope
                }
            };
            let attention = Attention::new(in_proj, out_proj, q_norm, k_norm, rope, cfg.n_heads)?;
            let ffn = vb.pp(format!("layers.{i}.feed_forward"));
            let w12 = ffn.get_with_hints((2 * h, d), "w12.weight", normal(std_d))?.contiguous()?;
            let w3 = ffn.get_with_hints((d, h), "w3.weight", normal(std_h / depth))?.contiguous()?;
            let block_vb = vb.pp(format!("layers.{i}"));
            layers.push(Block::new(
                gain(&block_vb, "attention_norm.weight", d, cfg.norm_eps)?,
                attention,
                gain(&block_vb, "ffn_norm.weight", d, cfg.norm_eps)?,
                SwiGlu::new(w12, w3)?,
            ));
        }
        let norm = gain(&vb, "norm.weight", d, cfg.norm_eps)?;
        let output = if cfg.weight_tying {
            tok_embeddings.clone()
        } else {
            vb.get_with_hints((v, d), "output.weight", normal(std_d))?.contiguous()?
        };
        Ok(OpenLm {
            cfg: cfg.clone(),
            tok_embeddings,
            post_embed_norm,
            layers,
            norm,
            output,
            dtype: vb.dtype(),
            device: vb.device().clone(),
        })
    }

    pub fn config(&self) -> &OpenLmConfig {
        &self.cfg
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Logits `[batch, time, vocab]` in f32 for token ids `[batch, time]` (u32, i64 or u8) at positions 0…time-1.
    /// Position p predicts token p+1.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let hidden = self.run(ids, None, &mut None)?;
        self.logits(&hidden)
    }

    /// As [`OpenLm::forward`] for ids at positions `cache.len()…`, attending to the cached positions too; appends
    /// this call's keys and values to `cache`. Any split of a sequence into calls gives the full pass's logits (up
    /// to float rounding), as OpenLM's `past_key_values` path does.
    pub fn forward_with_cache(&self, ids: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let hidden = self.run(ids, Some(cache), &mut None)?;
        self.logits(&hidden)
    }

    /// The final-norm hidden state `[batch, 1, d]` of the last position of `ids`, run through `cache` as
    /// [`OpenLm::forward_with_cache`] does: a generation step needs the next token's logits only.
    pub fn forward_hidden_last(&self, ids: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let hidden = self.run(ids, Some(cache), &mut None)?;
        let time = hidden.dim(1)?;
        hidden.narrow(1, time - 1, 1)
    }

    /// As [`OpenLm::forward`], also returning every module's output under OpenLM's module names
    /// (`tok_embeddings`, `layers.{i}.attention_norm`, `layers.{i}.attention.q_norm` / `k_norm` (before RoPE),
    /// `layers.{i}.attention.pos_embed:q_rotated` / `k_rotated` (`[batch, time, heads, head_dim]`),
    /// `layers.{i}.attention`, `layers.{i}.ffn_norm`, `layers.{i}.feed_forward`, `layers.{i}`, `norm`).
    pub fn forward_traced(&self, ids: &Tensor) -> Result<(Tensor, Trace)> {
        let mut trace = Trace::new();
        let hidden = self.run(ids, None, &mut Some(&mut trace))?;
        Ok((self.logits(&hidden)?, trace))
    }

    /// The final-norm hidden states `[batch, time, d]` (OpenLM's second return value).
    pub fn hidden_states(&self, ids: &Tensor) -> Result<Tensor> {
        self.run(ids, None, &mut None)
    }

    /// `output` applied to hidden states, cast to f32 as OpenLM does.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        linear(hidden, &self.output)?.to_dtype(DType::F32)
    }

    fn run(&self, ids: &Tensor, mut cache: Option<&mut KvCache>, trace: &mut Option<&mut Trace>) -> Result<Tensor> {
        let (batch, time) = ids.dims2()?;
        if batch == 0 || time == 0 {
            candle_core::bail!("token ids of shape {:?}: need at least one sequence and one position", ids.shape());
        }
        let offset = match cache.as_mut() {
            Some(cache) => {
                cache.prepare(self.layers.len(), batch)?;
                cache.len
            }
            None => 0,
        };
        let flat_ids = ids.to_dtype(DType::U32)?.flatten_all()?.to_device(&self.device)?;
        let mut x = self.tok_embeddings.index_select(&flat_ids, 0)?.reshape((batch, time, self.cfg.hidden_dim))?;
        record(trace, || "tok_embeddings".to_owned(), &x);
        if let Some(norm) = &self.post_embed_norm {
            x = norm.forward(&x)?;
            record(trace, || "post_embed_norm".to_owned(), &x);
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let kv = cache.as_mut().map(|cache| &mut cache.layers[i]);
            x = layer.forward(&x, offset, kv, trace, i)?;
        }
        let x = self.norm.forward(&x)?;
        record(trace, || "norm".to_owned(), &x);
        if let Some(cache) = cache {
            cache.len += time;
        }
        Ok(x)
    }

    /// The model's tensors under OpenLM's names in `state_dict()` order, `inv_freq` buffers (f32) included.
    pub fn state_dict(&self) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::with_capacity(3 + 9 * self.layers.len());
        if let Some(norm) = &self.post_embed_norm {
            out.push(("post_embed_norm.weight".to_owned(), norm.weight.clone()));
        }
        out.push(("tok_embeddings.weight".to_owned(), self.tok_embeddings.clone()));
        for (i, layer) in self.layers.iter().enumerate() {
            let attention = &layer.attention;
            let p = format!("layers.{i}");
            out.push((format!("{p}.attention.in_proj.weight"), attention.in_proj.clone()));
            out.push((format!("{p}.attention.out_proj.weight"), attention.out_proj.clone()));
            let inv_freq = attention.rope.inv_freq();
            let inv_freq = Tensor::from_slice(inv_freq, inv_freq.len(), &self.device)?;
            out.push((format!("{p}.attention.pos_embed.inv_freq"), inv_freq));
            if let (Some(q_norm), Some(k_norm)) = (&attention.q_norm, &attention.k_norm) {
                out.push((format!("{p}.attention.q_norm.weight"), q_norm.weight.clone()));
                out.push((format!("{p}.attention.k_norm.weight"), k_norm.weight.clone()));
            }
            out.push((format!("{p}.feed_forward.w12.weight"), layer.feed_forward.w12.clone()));
            out.push((format!("{p}.feed_forward.w3.weight"), layer.feed_forward.w3.clone()));
            out.push((format!("{p}.attention_norm.weight"), layer.attention_norm.weight.clone()));
            out.push((format!("{p}.ffn_norm.weight"), layer.ffn_norm.weight.clone()));
        }
        out.push(("norm.weight".to_owned(), self.norm.weight.clone()));
        out.push(("output.weight".to_owned(), self.output.clone()));
        Ok(out)
    }

    /// Writes [`OpenLm::state_dict`] as safetensors (via a temporary file renamed into place).
    pub fn save_safetensors(&self, path: &Path) -> std::result::Result<(), ModelError> {
        let what = "writing safetensors";
        let tensors = self.state_dict().map_err(|e| ModelError::candle(path, what, e))?;
        let tensors: HashMap<String, Tensor> = tensors
            .into_iter()
            .map(|(name, tensor)| -> Result<(String, Tensor)> { Ok((name, tensor.contiguous()?)) })
            .collect::<Result<_>>()
            .map_err(|e| ModelError::candle(path, what, e))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        candle_core::safetensors::save(&tensors, &tmp).map_err(|e| ModelError::candle(path, what, e))?;
        std::fs::rename(tmp, path).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })
    }
}

/// A `[d]` norm gain.
fn gain(vb: &VarBuilder<'_>, name: &str, dim: usize, eps: f64) -> Result<GainLayerNorm> {
    GainLayerNorm::new(vb.get_with_hints(dim, name, Init::Const(1.0))?, eps)
}

/// `log_softmax(logits)[target]`: `[batch, time, vocab]` logits and `[batch, time]` target ids give `[batch, time]`
/// log-probabilities in f32. The normaliser is computed in f64, so the 50k-term sum adds no fp32 rounding.
pub fn target_logprobs(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let (batch, time, vocab) = logits.dims3()?;
    if targets.dims() != [batch, time] {
        candle_core::bail!("targets of shape {:?} for logits of shape {:?}", targets.shape(), logits.shape());
    }
    let rows = batch * time;
    let logits = logits.reshape((rows, vocab))?;
    let targets = targets.to_dtype(DType::U32)?.reshape((rows, 1))?.to_device(logits.device())?;
    let mut parts = Vec::with_capacity(rows.div_ceil(LOGPROB_ROWS));
    let mut start = 0;
    while start < rows {
        let len = LOGPROB_ROWS.min(rows - start);
        let x = logits.narrow(0, start, len)?.to_dtype(DType::F64)?.contiguous()?;
        let max = x.max_keepdim(1)?;
        let log_norm = x.broadcast_sub(&max)?.exp()?.sum_keepdim(1)?.log()?.add(&max)?;
        let picked = x.gather(&targets.narrow(0, start, len)?.contiguous()?, 1)?;
        parts.push(picked.sub(&log_norm)?);
        start += len;
    }
    Tensor::cat(&parts, 0)?.reshape((batch, time))?.to_dtype(DType::F32)
}

#[cfg(test)]
mod tests {
    use candle_nn::VarMap;

    use super::*;

    /// A model small enough for unit tests, randomly initialised.
    fn small_model() -> OpenLm {
        let cfg = OpenLmConfig {
            hidden_dim: 32,
            n_layers: 2,
            n_heads: 4,
            seq_len: 16,
            vocab_size: 97,
            ..OpenLmConfig::micro()
        };
        let varmap = VarMap::new();
        OpenLm::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap()
    }

    fn ids(batch: usize, time: usize) -> Tensor {
        let values: Vec<u32> = (0..batch * time).map(|i| ((i * 37 + 11) % 97) as u32).collect();
        Tensor::from_vec(values, (batch, time), &Device::Cpu).unwrap()
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        a.sub(b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
    }

    #[test]
    fn kv_cache_matches_full_pass_past_the_rope_tables() {
        let model = small_model();
        let ids = ids(2, 21); // seq_len is 16: the last positions use RoPE tables computed on demand
        let full = model.forward(&ids).unwrap();
        assert_eq!(full.dims(), [2, 21, 97]);
        let mut cache = KvCache::new();
        let mut pieces = Vec::new();
        for (start, len) in [(0, 7), (7, 5), (12, 1), (13, 8)] {
            pieces.push(model.forward_with_cache(&ids.narrow(1, start, len).unwrap(), &mut cache).unwrap());
        }
        assert_eq!(cache.len(), 21);
        let cached = Tensor::cat(&pieces, 1).unwrap();
        let diff = max_abs_diff(&full, &cached);
        assert!(diff < 1e-5, "KV cache vs full pass: {diff}");
        // A cache for another batch size is refused.
        assert!(model.forward_with_cache(&ids.narrow(0, 0, 1).unwrap(), &mut cache).is_err());
    }

    #[test]
    fn causal_prefix_logits_do_not_see_the_future() {
        let model = small_model();
        let ids = ids(1, 10);
        let full = model.forward(&ids).unwrap().narrow(1, 0, 6).unwrap();
        let prefix = model.forward(&ids.narrow(1, 0, 6).unwrap()).unwrap();
        assert!(max_abs_diff(&full, &prefix) < 1e-5);
    }

    #[test]
    fn saved_safetensors_load_back_identically() {
        let model = small_model();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        model.save_safetensors(&path).unwrap();
        let loaded = OpenLm::load(model.config(), &path, DType::F32, &Device::Cpu).unwrap();
        let ids = ids(2, 9);
        assert_eq!(max_abs_diff(&model.forward(&ids).unwrap(), &loaded.forward(&ids).unwrap()), 0.0);
    }

    #[test]
    fn logprobs_are_normalised() {
        let model = small_model();
        let ids = ids(2, 5);
        let logits = model.forward(&ids).unwrap();
        let targets = ids.narrow(1, 0, 5).unwrap();
        let lp = target_logprobs(&logits, &targets).unwrap();
        assert_eq!(lp.dims(), [2, 5]);
        // Summed over every target id, the probabilities of one position add up to 1.
        let all: Vec<u32> = (0..97).collect();
        let all = Tensor::from_vec(all, (1, 97), &Device::Cpu).unwrap();
        let row = logits.narrow(0, 0, 1).unwrap().narrow(1, 0, 1).unwrap().broadcast_as((1, 97, 97)).unwrap();
        let total: f32 = target_logprobs(&row.contiguous().unwrap(), &all)
            .unwrap()
            .exp()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
    }
}

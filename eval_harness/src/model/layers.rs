//! OpenLM's decoder block as candle ops, one type per OpenLM module (`open_lm/model.py`, `norms.py`,
//! `positional_embedding/rotary.py`, `attention.py::torch_attn`).
//!
//! Activations are `[batch, time, d]`. Inside attention the heads are `[batch, heads, time, head_dim]`; OpenLM keeps
//! `[batch, time, heads, head_dim]`, which is the same maths. Norms and the attention softmax run in f32 whatever
//! the model dtype, the matmuls in the model dtype.

use candle_core::{DType, Device, Result, Tensor, D};

use super::{cpu_attention, cpu_ops};

/// Whether the one-pass CPU kernels ([`cpu_ops`], [`cpu_attention`]) apply: an f32 tensor in memory.
fn cpu_f32(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// An f32 tensor's elements in row-major order.
fn elements(x: &Tensor) -> Result<Vec<f32>> {
    x.flatten_all()?.to_vec1::<f32>()
}

/// Intermediate activations by OpenLM module name, in execution order (see `OpenLm::forward_traced`).
pub type Trace = Vec<(String, Tensor)>;

/// One layer's key/value cache: post-RoPE keys and values, `[batch, heads, cached, head_dim]` each.
pub type LayerKv = Option<(Tensor, Tensor)>;

/// Appends `t` under `name()` when tracing.
pub(super) fn record(trace: &mut Option<&mut Trace>, name: impl FnOnce() -> String, t: &Tensor) {
    if let Some(trace) = trace {
        trace.push((name(), t.clone()));
    }
}

/// `x @ weightᵀ` for a torch `nn.Linear` weight `[out, in]` (no bias), over any leading dimensions.
pub fn linear(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let (out_dim, in_dim) = weight.dims2()?;
    let mut dims = x.dims().to_vec();
    match dims.last_mut() {
        Some(last) if *last == in_dim && in_dim > 0 => *last = out_dim,
        _ => candle_core::bail!("linear: input of shape {:?} does not end in {in_dim}", x.shape()),
    }
    let rows = x.elem_count() / in_dim;
    x.reshape((rows, in_dim))?.matmul(&weight.t()?)?.reshape(dims)
}

/// OpenLM's `gain_only_lp_layer_norm`: a true LayerNorm (mean removed, biased variance, eps inside the square
/// root) with a gain and no bias. Computed in f32 and returned in the input's dtype.
#[derive(Debug, Clone)]
pub struct GainLayerNorm {
    pub(super) weight: Tensor,
    gain_f32: Tensor,
    eps: f64,
}

impl GainLayerNorm {
    /// `weight` is the `[d]` gain.
    pub fn new(weight: Tensor, eps: f64) -> Result<Self> {
        let gain_f32 = weight.to_dtype(DType::F32)?;
        Ok(GainLayerNorm { weight, gain_f32, eps })
    }

    /// Normalises over the last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if cpu_f32(x) {
            let mut values = elements(x)?;
            cpu_ops::layer_norm_rows(&mut values, &self.gain_f32.to_vec1::<f32>()?, self.eps);
            return Tensor::from_vec(values, x.shape(), x.device());
        }
        let dtype = x.dtype();
        let x = x.to_dtype(DType::F32)?;
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let inv_std = var.affine(1.0, self.eps)?.sqrt()?.recip()?;
        centred.broadcast_mul(&inv_std)?.broadcast_mul(&self.gain_f32)?.to_dtype(dtype)
    }
}

/// OpenLM's `RotaryWithCast`: GPT-NeoX rotate-half RoPE. Dimension j and j + head_dim/2 share the angle
/// `pos · inv_freq[j]`; `x·cos + rotate_half(x)·sin` with `rotate_half(x) = [-x₂, x₁]`.
#[derive(Debug, Clone)]
pub struct Rope {
    inv_freq: Vec<f32>,
    /// `[positions, head_dim]` tables from position 0, in the model dtype.
    cos: Tensor,
    sin: Tensor,
}

impl Rope {
    /// OpenLM's `1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))` (fp32 exponent).
    pub fn default_inv_freq(head_dim: usize) -> Vec<f32> {
        (0..head_dim / 2)
            .map(|j| {
                let exponent = (2 * j) as f32 / head_dim as f32;
                1.0 / 10000f64.powf(f64::from(exponent)) as f32
            })
            .collect()
    }

    /// Tables for positions `[0, positions)`; later positions are computed when asked for.
    pub fn new(inv_freq: Vec<f32>, positions: usize, dtype: DType, device: &Device) -> Result<Self> {
        let (cos, sin) = rope_tables(&inv_freq, 0, positions, dtype, device)?;
        Ok(Rope { inv_freq, cos, sin })
    }

    /// The frequencies the tables were built from (`pos_embed.inv_freq`).
    pub fn inv_freq(&self) -> &[f32] {
        &self.inv_freq
    }

    /// `(cos, sin)`, `[len, head_dim]` each, for positions `[offset, offset + len)`.
    pub fn tables(&self, offset: usize, len: usize) -> Result<(Tensor, Tensor)> {
        if offset + len <= self.cos.dim(0)? {
            Ok((self.cos.narrow(0, offset, len)?, self.sin.narrow(0, offset, len)?))
        } else {
            rope_tables(&self.inv_freq, offset, len, self.cos.dtype(), self.cos.device())
        }
    }

    /// Rotates `x` (`[.., time, head_dim]`) by the `[time, head_dim]` tables from [`Rope::tables`].
    pub fn apply(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        if cpu_f32(x) && cpu_f32(cos) {
            let (time, head_dim) = cos.dims2()?;
            let mut values = elements(x)?;
            cpu_ops::rope_rows(&mut values, &elements(cos)?, &elements(sin)?, time, head_dim);
            return Tensor::from_vec(values, x.shape(), x.device());
        }
        let half = x.dim(D::Minus1)? / 2;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        x.broadcast_mul(cos)?.add(&rotated.broadcast_mul(sin)?)
    }
}

/// OpenLM's `_update_cos_sin_tables`: `freqs = t ⊗ inv_freq.to(dtype)` in fp32, `emb = cat(freqs, freqs)`, then
/// cos and sin cast to the dtype. Under bf16 the frequencies themselves are rounded first, as OpenLM does.
fn rope_tables(inv_freq: &[f32], offset: usize, len: usize, dtype: DType, device: &Device) -> Result<(Tensor, Tensor)> {
    let inv_freq: Vec<f32> = match dtype {
        DType::F32 | DType::F64 => inv_freq.to_vec(),
        _ => Tensor::from_slice(inv_freq, inv_freq.len(), &Device::Cpu)?
            .to_dtype(dtype)?
            .to_dtype(DType::F32)?
            .to_vec1()?,
    };
    let head_dim = 2 * inv_freq.len();
    let mut cos = Vec::with_capacity(len * head_dim);
    let mut sin = Vec::with_capacity(len * head_dim);
    for pos in offset..offset + len {
        let t = pos as f32;
        for _half in 0..2 {
            for &f in &inv_freq {
                // The fp32 product is what torch's einsum gives; cos/sin of it are then (near) correctly rounded.
                let angle = f64::from(t * f);
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
    }
    let cos = Tensor::from_vec(cos, (len, head_dim), device)?.to_dtype(dtype)?;
    let sin = Tensor::from_vec(sin, (len, head_dim), device)?.to_dtype(dtype)?;
    Ok((cos, sin))
}

/// Additive mask `[q_len, k_len]`: query i sits at position `k_len - q_len + i` (bottom-right aligned, as OpenLM's
/// `get_rectangular_causal_mask`) and sees keys up to it.
fn causal_mask(q_len: usize, k_len: usize, device: &Device) -> Result<Tensor> {
    let shift = k_len.saturating_sub(q_len);
    let mask: Vec<f32> = (0..q_len)
        .flat_map(|i| (0..k_len).map(move |j| if j <= i + shift { 0.0 } else { f32::NEG_INFINITY }))
        .collect();
    Tensor::from_vec(mask, (q_len, k_len), device)
}

/// OpenLM's `CustomAttn` with `torch_attn`: fused `in_proj` (rows q | k | v), QK-norm over the whole projection,
/// head split, RoPE, causal softmax attention scaled by 1/√head_dim, `out_proj`. No biases.
#[derive(Debug, Clone)]
pub struct Attention {
    pub(super) in_proj: Tensor,
    pub(super) out_proj: Tensor,
    pub(super) q_norm: Option<GainLayerNorm>,
    pub(super) k_norm: Option<GainLayerNorm>,
    pub(super) rope: Rope,
    n_heads: usize,
    head_dim: usize,
}

impl Attention {
    /// `in_proj` `[3d, d]`, `out_proj` `[d, d]`; the norms are `None` without `qk_norm`.
    pub fn new(
        in_proj: Tensor,
        out_proj: Tensor,
        q_norm: Option<GainLayerNorm>,
        k_norm: Option<GainLayerNorm>,
        rope: Rope,
        n_heads: usize,
    ) -> Result<Self> {
        let d = out_proj.dim(0)?;
        if n_heads == 0 || !d.is_multiple_of(n_heads) {
            candle_core::bail!("attention: width {d} is not a multiple of {n_heads} heads");
        }
        Ok(Attention { in_proj, out_proj, q_norm, k_norm, rope, n_heads, head_dim: d / n_heads })
    }

    /// `x` `[batch, time, d]` at positions `offset..offset + time`. With `kv`, the new keys and values are
    /// appended to the cache and attention runs over all of it.
    pub fn forward(
        &self,
        x: &Tensor,
        offset: usize,
        kv: Option<&mut LayerKv>,
        trace: &mut Option<&mut Trace>,
        name: &str,
    ) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let qkv = linear(x, &self.in_proj)?;
        let q = qkv.narrow(D::Minus1, 0, d)?;
        let k = qkv.narrow(D::Minus1, d, d)?;
        let v = qkv.narrow(D::Minus1, 2 * d, d)?;
        // QK-norm normalises the whole [.., d] projection (all heads jointly), before the head split and RoPE.
        let q = match &self.q_norm {
            Some(norm) => norm.forward(&q)?,
            None => q,
        };
        let k = match &self.k_norm {
            Some(norm) => norm.forward(&k)?,
            None => k,
        };
        record(trace, || format!("{name}.q_norm"), &q);
        record(trace, || format!("{name}.k_norm"), &k);
        let q = self.split_heads(&q, b, t)?;
        let k = self.split_heads(&k, b, t)?;
        let v = self.split_heads(&v, b, t)?;
        let (cos, sin) = self.rope.tables(offset, t)?;
        let q = Rope::apply(&q, &cos, &sin)?;
        let k = Rope::apply(&k, &cos, &sin)?;
        if trace.is_some() {
            record(trace, || format!("{name}.pos_embed:q_rotated"), &q.transpose(1, 2)?);
            record(trace, || format!("{name}.pos_embed:k_rotated"), &k.transpose(1, 2)?);
        }
        let (k, v) = match kv {
            Some(slot) => {
                let (k, v) = match slot.take() {
                    Some((past_k, past_v)) => (Tensor::cat(&[&past_k, &k], 2)?, Tensor::cat(&[&past_v, &v], 2)?),
                    None => (k, v),
                };
                *slot = Some((k.clone(), v.clone()));
                (k, v)
            }
            None => (k, v),
        };
        let out = self.attend(&q, &k, &v)?.transpose(1, 2)?.reshape((b, t, d))?;
        let out = linear(&out, &self.out_proj)?;
        record(trace, || name.to_owned(), &out);
        Ok(out)
    }

    /// `[batch, time, d]` → `[batch, heads, time, head_dim]`, contiguous.
    fn split_heads(&self, x: &Tensor, b: usize, t: usize) -> Result<Tensor> {
        x.reshape((b, t, self.n_heads, self.head_dim))?.transpose(1, 2)?.contiguous()
    }

    /// Causal softmax attention of `q` `[b, h, q_len, hd]` over `k`, `v` `[b, h, k_len, hd]`, in f32.
    fn attend(&self, q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor> {
        if q.device().is_cpu() {
            return self.attend_fused(q, k, v);
        }
        let dtype = q.dtype();
        let (q_len, k_len) = (q.dim(2)?, k.dim(2)?);
        let q = q.to_dtype(DType::F32)?;
        let k = k.to_dtype(DType::F32)?;
        let v = v.to_dtype(DType::F32)?.contiguous()?;
        let scores = q.matmul(&k.t()?)?.affine(1.0 / (self.head_dim as f64).sqrt(), 0.0)?;
        // A single query (one new token against the cache) sees every key: OpenLM turns causality off there.
        let scores = if q_len > 1 { scores.broadcast_add(&causal_mask(q_len, k_len, q.device())?)? } else { scores };
        let probs = candle_nn::ops::softmax_last_dim(&scores.contiguous()?)?;
        probs.matmul(&v)?.to_dtype(dtype)
    }
}

impl Attention {
    /// [`Attention::attend`] on the CPU: the same arithmetic through [`cpu_attention::causal_attention`], which
    /// computes only the unmasked scores and allocates no `[q, k]` tensors.
    fn attend_fused(&self, q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor> {
        let dtype = q.dtype();
        let (b, h, q_len, head_dim) = q.dims4()?;
        let k_len = k.dim(2)?;
        let flat = |t: &Tensor| t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>();
        let shape = cpu_attention::AttentionShape { heads: b * h, q_len, k_len, head_dim };
        let scale = (1.0 / (self.head_dim as f64).sqrt()) as f32;
        let out = cpu_attention::causal_attention(&flat(q)?, &flat(k)?, &flat(v)?, shape, scale);
        Tensor::from_vec(out, (b, h, q_len, head_dim), q.device())?.to_dtype(dtype)
    }
}

/// OpenLM's `SwiGLUTorch` (and xformers' `SwiGLU`, same tensors): `w3(silu(gate) * up)` where rows `[0, h)` of
/// `w12` are the gate and rows `[h, 2h)` the up projection.
#[derive(Debug, Clone)]
pub struct SwiGlu {
    pub(super) w12: Tensor,
    pub(super) w3: Tensor,
    hidden: usize,
}

impl SwiGlu {
    /// `w12` `[2h, d]`, `w3` `[d, h]`.
    pub fn new(w12: Tensor, w3: Tensor) -> Result<Self> {
        let hidden = w3.dim(1)?;
        if w12.dim(0)? != 2 * hidden {
            candle_core::bail!("swiglu: w12 has {} rows, expected 2 × {hidden}", w12.dim(0)?);
        }
        Ok(SwiGlu { w12, w3, hidden })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let gate_up = linear(x, &self.w12)?;
        if cpu_f32(&gate_up) {
            let mut dims = gate_up.dims().to_vec();
            if let Some(last) = dims.last_mut() {
                *last = self.hidden;
            }
            let hidden = cpu_ops::silu_gate(&elements(&gate_up)?, self.hidden);
            return linear(&Tensor::from_vec(hidden, dims, gate_up.device())?, &self.w3);
        }
        let gate = gate_up.narrow(D::Minus1, 0, self.hidden)?;
        let up = gate_up.narrow(D::Minus1, self.hidden, self.hidden)?;
        linear(&gate.silu()?.mul(&up)?, &self.w3)
    }
}

/// OpenLM's pre-norm `Block`: `h = x + attention(attention_norm(x))`, `out = h + feed_forward(ffn_norm(h))`.
#[derive(Debug, Clone)]
pub struct Block {
    pub(super) attention_norm: GainLayerNorm,
    pub(super) attention: Attention,
    pub(super) ffn_norm: GainLayerNorm,
    pub(super) feed_forward: SwiGlu,
}

impl Block {
    pub fn new(
        attention_norm: GainLayerNorm,
        attention: Attention,
        ffn_norm: GainLayerNorm,
        feed_forward: SwiGlu,
    ) -> Self {
        Block { attention_norm, attention, ffn_norm, feed_forward }
    }

    /// Block `index` of the model (the index only names trace entries, `layers.{index}.…`).
    pub fn forward(
        &self,
        x: &Tensor,
        offset: usize,
        kv: Option<&mut LayerKv>,
        trace: &mut Option<&mut Trace>,
        index: usize,
    ) -> Result<Tensor> {
        let name = format!("layers.{index}");
        let normed = self.attention_norm.forward(x)?;
        record(trace, || format!("{name}.attention_norm"), &normed);
        let attended = self.attention.forward(&normed, offset, kv, trace, &format!("{name}.attention"))?;
        let h = x.add(&attended)?;
        let normed = self.ffn_norm.forward(&h)?;
        record(trace, || format!("{name}.ffn_norm"), &normed);
        let ffn = self.feed_forward.forward(&normed)?;
        record(trace, || format!("{name}.feed_forward"), &ffn);
        let out = h.add(&ffn)?;
        record(trace, move || name, &out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    #[test]
    fn layer_norm_is_gain_only_layer_norm() {
        let x = Tensor::from_vec(vec![1f32, 2.0, 3.0, 6.0], (1, 4), &Device::Cpu).unwrap();
        let gain = Tensor::from_vec(vec![1f32, 2.0, 1.0, 1.0], 4, &Device::Cpu).unwrap();
        let y = values(&GainLayerNorm::new(gain, 1e-5).unwrap().forward(&x).unwrap());
        // mean 3, biased variance 3.5
        let inv_std = 1.0 / (3.5f64 + 1e-5).sqrt();
        let expected = [-2.0 * inv_std, -2.0 * inv_std, 0.0, 3.0 * inv_std];
        for (a, b) in y.iter().zip(expected) {
            assert!((f64::from(*a) - b).abs() < 1e-6, "{y:?}");
        }
    }

    #[test]
    fn rope_is_rotate_half_not_interleaved() {
        // head_dim 4: pairs (0, 2) and (1, 3) rotate by pos·inv_freq[0] and pos·inv_freq[1].
        let inv_freq = Rope::default_inv_freq(4);
        assert_eq!(inv_freq, [1.0, 0.01]);
        let rope = Rope::new(inv_freq, 8, DType::F32, &Device::Cpu).unwrap();
        let x = Tensor::from_vec(vec![1f32, 2.0, 3.0, 4.0], (1, 4), &Device::Cpu).unwrap();
        let (cos, sin) = rope.tables(3, 1).unwrap();
        let y = values(&Rope::apply(&x, &cos, &sin).unwrap());
        let (a, b) = (3.0f64, 0.03f64);
        let expected = [
            a.cos() - 3.0 * a.sin(),
            2.0 * b.cos() - 4.0 * b.sin(),
            3.0 * a.cos() + a.sin(),
            4.0 * b.cos() + 2.0 * b.sin(),
        ];
        for (got, want) in y.iter().zip(expected) {
            assert!((f64::from(*got) - want).abs() < 1e-5, "{y:?} vs {expected:?}");
        }
        // Past the precomputed tables, positions are computed on demand and agree.
        let (far_cos, _) = rope.tables(6, 4).unwrap();
        let (near_cos, _) = rope.tables(6, 2).unwrap();
        assert_eq!(values(&far_cos)[..8], values(&near_cos)[..]);
    }

    #[test]
    fn mask_is_bottom_right_aligned() {
        let mask = values(&causal_mask(2, 4, &Device::Cpu).unwrap());
        let inf = f32::NEG_INFINITY;
        assert_eq!(mask, [0.0, 0.0, 0.0, inf, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn swiglu_gate_is_the_first_half_of_w12() {
        // d = 1, h = 1: w12 = [gate; up] = [[2], [3]], w3 = [[1]]: out = silu(2x) * 3x.
        let w12 = Tensor::from_vec(vec![2f32, 3.0], (2, 1), &Device::Cpu).unwrap();
        let w3 = Tensor::from_vec(vec![1f32], (1, 1), &Device::Cpu).unwrap();
        let x = Tensor::from_vec(vec![0.5f32], (1, 1, 1), &Device::Cpu).unwrap();
        let y = values(&SwiGlu::new(w12, w3).unwrap().forward(&x).unwrap())[0];
        let silu = |v: f64| v / (1.0 + (-v).exp());
        assert!((f64::from(y) - silu(1.0) * 1.5).abs() < 1e-6, "{y}");
    }
}

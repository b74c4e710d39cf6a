//! The decoder's element-wise steps on the CPU in f32, each one pass over its rows: the gain-only LayerNorm,
//! rotate-half RoPE and SwiGLU's `silu(gate) · up`.
//!
//! Why: candle composes each of them from several whole-tensor ops (a LayerNorm is seven: mean, subtract,
//! square, mean, add-eps/sqrt/recip, two multiplies), every one allocating and writing a tensor. After the fused
//! attention, those maps were the largest share of a CPU forward pass. The arithmetic is the reference's; the
//! LayerNorm's mean and variance are summed in f64, so it is at least as exact as candle's and torch's.

use rayon::prelude::*;

/// `eˣ` in f32 within about 1 ulp (Cephes' `expf`: `x = n·ln 2 + r`, a degree-7 polynomial for `eʳ`, then
/// `2ⁿ`), written without branches or calls so that loops over slices of it vectorise; libm's `expf` is a call
/// per element and was the largest single cost of the attention softmax. Inputs are clamped to
/// `[−87.3, 88.7]` (f32's normal range), so far-negative arguments give ~1e-38 rather than 0.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer in the default rounding mode.
    const ROUND: f32 = 12_582_912.0;
    // Plain comparisons rather than `clamp` (whose NaN rules cost branches): they become vector max/min.
    let x = if x < -87.3 { -87.3 } else { x };
    let x = if x > 88.7 { 88.7 } else { x };
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    f32::from_bits(((n as i32 + 127) as u32) << 23) * er
}

/// Rows per parallel task: enough work to be worth a task, few enough to spread over cores.
const ROWS_PER_TASK: usize = 64;

/// OpenLM's gain-only LayerNorm over each `gain.len()`-wide row of `x`, in place:
/// `(x − mean) / sqrt(var + eps) · gain` with the biased variance.
pub fn layer_norm_rows(x: &mut [f32], gain: &[f32], eps: f64) {
    let d = gain.len();
    if d == 0 {
        return;
    }
    x.par_chunks_mut(d * ROWS_PER_TASK).for_each(|rows| {
        for row in rows.chunks_exact_mut(d) {
            let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / d as f64;
            let var = row.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / d as f64;
            let inv_std = (1.0 / (var + eps).sqrt()) as f32;
            let mean = mean as f32;
            for (v, g) in row.iter_mut().zip(gain) {
                *v = (*v - mean) * inv_std * g;
            }
        }
    });
}

/// Rotate-half RoPE in place on rows of `head_dim` (`[.., time, head_dim]`, time-major within each head):
/// row r of each head is at position `offset + r % time` and uses tables row `r % time`
/// (`x·cos + rotate_half(x)·sin`, `rotate_half([x₁, x₂]) = [−x₂, x₁]`).
pub fn rope_rows(x: &mut [f32], cos: &[f32], sin: &[f32], time: usize, head_dim: usize) {
    let half = head_dim / 2;
    if head_dim == 0 || time == 0 {
        return;
    }
    x.par_chunks_mut(time * head_dim).for_each(|head| {
        for (t, row) in head.chunks_exact_mut(head_dim).enumerate() {
            let (c, s) = (&cos[t * head_dim..][..head_dim], &sin[t * head_dim..][..head_dim]);
            for j in 0..half {
                let (x1, x2) = (row[j], row[j + half]);
                row[j] = x1 * c[j] + (-x2) * s[j];
                row[j + half] = x2 * c[j + half] + x1 * s[j + half];
            }
        }
    });
}

/// SwiGLU's hidden activation from the `[rows, 2h]` output of `w12`: `silu(gate) · up` per row, where
/// columns `[0, h)` are the gate and `[h, 2h)` the up projection.
pub fn silu_gate(gate_up: &[f32], hidden: usize) -> Vec<f32> {
    if hidden == 0 {
        return Vec::new();
    }
    let rows = gate_up.len() / (2 * hidden);
    let mut out = vec![0f32; rows * hidden];
    out.par_chunks_mut(hidden * ROWS_PER_TASK).enumerate().for_each(|(task, chunk)| {
        for (i, row) in chunk.chunks_exact_mut(hidden).enumerate() {
            let input = &gate_up[(task * ROWS_PER_TASK + i) * 2 * hidden..][..2 * hidden];
            let (gate, up) = input.split_at(hidden);
            for ((o, &g), &u) in row.iter_mut().zip(gate).zip(up) {
                *o = g / (1.0 + exp(-g)) * u;
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (got, want) = (f64::from(exp(x)), f64::from(x).exp());
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 2.5e-7, "max relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) < 1e-37);
    }

    #[test]
    fn layer_norm_centres_scales_and_applies_the_gain() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0];
        layer_norm_rows(&mut x, &[1.0, 1.0, 2.0, 2.0], 1e-5);
        let s = (1.25f32 + 1e-5).sqrt();
        let want = [-1.5 / s, -0.5 / s, 2.0 * 0.5 / s, 2.0 * 1.5 / s, 0.0, 0.0, 0.0, 0.0];
        for (a, b) in x.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{x:?}");
        }
    }

    #[test]
    fn rope_rotates_each_half_pair_by_its_angle() {
        // One head, two positions, head_dim 2: angle 0 leaves the row, a quarter turn maps (x1, x2) → (−x2, x1).
        let mut x = vec![1.0, 2.0, 1.0, 2.0];
        rope_rows(&mut x, &[1.0, 1.0, 0.0, 0.0], &[0.0, 0.0, 1.0, 1.0], 2, 2);
        assert_eq!(x, [1.0, 2.0, -2.0, 1.0]);
    }

    #[test]
    fn silu_gate_takes_the_first_half_as_gate() {
        let out = silu_gate(&[0.0, 2.0, 5.0, 7.0], 2);
        assert_eq!(out[0], 0.0);
        let silu2 = 2.0 / (1.0 + (-2.0f32).exp());
        assert!((out[1] - silu2 * 7.0).abs() < 1e-6);
    }
}

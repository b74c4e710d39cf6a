//! Causal softmax attention on the CPU in f32, blocked and fused.
//!
//! Why not candle's composed ops: `softmax(q·kᵀ·s + mask)·v` materialises the `[batch, heads, q, k]` scores,
//! the mask and the probabilities as fresh tensors in every layer, and computes the masked half too. On a CPU
//! that allocation and memory traffic, not the arithmetic, took most of a forward pass (profiled on DCLM's Core
//! prompts: page faults, `exp` and element-wise maps ahead of the matrix products). Here each (batch, head)
//! walks its queries in blocks of [`BLOCK`] rows: scores against only the keys the block can see (one matrix
//! product), the row softmax in place, then probabilities × values (another), in one reusable buffer per thread.
//! The arithmetic is the reference's (scale after the dot product, `exp(x − max) / Σ`), so results differ
//! from candle's and torch's only by float rounding.

use rayon::prelude::*;

use super::cpu_ops;

/// Queries per block: large enough for efficient matrix products, small enough that a block's scores
/// (`BLOCK × keys` floats) stay in cache.
const BLOCK: usize = 64;

/// The sizes of one attention call; every head's rows are contiguous (`[heads, len, head_dim]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionShape {
    /// Batch × heads.
    pub heads: usize,
    pub q_len: usize,
    pub k_len: usize,
    pub head_dim: usize,
}

/// `softmax(q·kᵀ·scale, causal)·v` per head. Query i sits at position `k_len − q_len + i` (bottom-right
/// aligned, as OpenLM's mask: a cached prefix is visible to every new query) and sees keys up to it.
pub fn causal_attention(q: &[f32], k: &[f32], v: &[f32], shape: AttentionShape, scale: f32) -> Vec<f32> {
    let AttentionShape { heads, q_len, k_len, head_dim } = shape;
    assert!(q_len <= k_len, "attention: {q_len} queries over {k_len} keys");
    assert_eq!(q.len(), heads * q_len * head_dim, "attention: query size");
    assert_eq!(k.len(), heads * k_len * head_dim, "attention: key size");
    assert_eq!(v.len(), heads * k_len * head_dim, "attention: value size");
    let mut out = vec![0f32; q.len()];
    if out.is_empty() {
        return out;
    }
    let (q_head, k_head) = (q_len * head_dim, k_len * head_dim);
    out.par_chunks_mut(q_head).enumerate().for_each_init(Vec::new, |scores, (h, out)| {
        let one = HeadShape { q_len, k_len, head_dim };
        let (q, k, v) = (&q[h * q_head..][..q_head], &k[h * k_head..][..k_head], &v[h * k_head..][..k_head]);
        attend_head(q, k, v, out, one, scale, scores);
    });
    out
}

#[derive(Debug, Clone, Copy)]
struct HeadShape {
    q_len: usize,
    k_len: usize,
    head_dim: usize,
}

fn attend_head(q: &[f32], k: &[f32], v: &[f32], out: &mut [f32], s: HeadShape, scale: f32, scores: &mut Vec<f32>) {
    let shift = s.k_len - s.q_len;
    let hd = s.head_dim;
    for start in (0..s.q_len).step_by(BLOCK) {
        let rows = BLOCK.min(s.q_len - start);
        // Keys the block's last row sees; earlier rows see fewer (zeroed below).
        let keys = shift + start + rows;
        scores.clear();
        scores.resize(rows * keys, 0.0);
        // scores[r, j] = scale · q[start + r] · k[j]
        matmul(
            Matrix { data: scores, rows, cols: keys, row_stride: keys, col_stride: 1 },
            View { data: &q[start * hd..], rows, cols: hd, row_stride: hd, col_stride: 1 },
            // kᵀ: element (c, j) is k[j, c].
            View { data: k, rows: hd, cols: keys, row_stride: 1, col_stride: hd },
            scale,
        );
        for r in 0..rows {
            softmax_prefix(&mut scores[r * keys..(r + 1) * keys], shift + start + r + 1);
        }
        matmul(
            Matrix { data: &mut out[start * hd..(start + rows) * hd], rows, cols: hd, row_stride: hd, col_stride: 1 },
            View { data: scores, rows, cols: keys, row_stride: keys, col_stride: 1 },
            View { data: v, rows: keys, cols: hd, row_stride: hd, col_stride: 1 },
            1.0,
        );
    }
}

/// Softmax over `row[..visible]` in place (`exp(x − max) / Σ`, as torch); the rest (masked keys) set to 0.
/// On x86-64 CPUs with AVX2 and FMA (checked once per call, cached by std) the same code is compiled for them.
fn softmax_prefix(row: &mut [f32], visible: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features the function is compiled for (checked just above).
        unsafe { softmax_prefix_avx2(row, visible) };
        return;
    }
    softmax_prefix_portable(row, visible);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softmax_prefix_avx2(row: &mut [f32], visible: usize) {
    softmax_prefix_portable(row, visible);
}

/// The maximum and the sum are taken over [`LANES`] interleaved partial results so that the loops vectorise.
#[inline(always)]
fn softmax_prefix_portable(row: &mut [f32], visible: usize) {
    let (seen, masked) = row.split_at_mut(visible);
    let mut maxes = [f32::NEG_INFINITY; LANES];
    for chunk in seen.chunks(LANES) {
        for (m, &x) in maxes.iter_mut().zip(chunk) {
            *m = m.max(x);
        }
    }
    let max = maxes.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sums = [0f32; LANES];
    for chunk in seen.chunks_mut(LANES) {
        for (s, x) in sums.iter_mut().zip(chunk) {
            *x = cpu_ops::exp(*x - max);
            *s += *x;
        }
    }
    let sum: f32 = sums.iter().sum();
    for x in seen.iter_mut() {
        *x /= sum;
    }
    masked.fill(0.0);
}

/// Partial results per reduction: one AVX register of f32.
const LANES: usize = 8;

/// A row-major-or-strided f32 matrix to write.
struct Matrix<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// A strided f32 matrix to read.
struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// Whether every element a strided matrix addresses lies inside a slice of `len`.
fn fits(len: usize, rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> bool {
    rows == 0 || cols == 0 || (rows - 1) * row_stride + (cols - 1) * col_stride < len
}

/// `dst = alpha · lhs · rhs` (dst overwritten) with the `gemm` crate candle's CPU backend uses, on one thread
/// (the caller parallelises over heads).
fn matmul(dst: Matrix<'_>, lhs: View<'_>, rhs: View<'_>, alpha: f32) {
    assert!(lhs.rows == dst.rows && rhs.cols == dst.cols && lhs.cols == rhs.rows, "matmul: shapes");
    assert!(fits(dst.data.len(), dst.rows, dst.cols, dst.row_stride, dst.col_stride), "matmul: dst bounds");
    assert!(fits(lhs.data.len(), lhs.rows, lhs.cols, lhs.row_stride, lhs.col_stride), "matmul: lhs bounds");
    assert!(fits(rhs.data.len(), rhs.rows, rhs.cols, rhs.row_stride, rhs.col_stride), "matmul: rhs bounds");
    // SAFETY: the asserts above keep every address gemm forms (row · row_stride + col · col_stride within the
    // given rows and columns) inside the three slices; `dst` is borrowed mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            dst.rows,
            dst.cols,
            lhs.cols,
            dst.data.as_mut_ptr(),
            dst.col_stride as isize,
            dst.row_stride as isize,
            false,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            0.0,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook formula, one query and key at a time, in f64.
    fn reference(q: &[f32], k: &[f32], v: &[f32], s: AttentionShape, scale: f64) -> Vec<f64> {
        let hd = s.head_dim;
        let mut out = vec![0f64; q.len()];
        for h in 0..s.heads {
            for i in 0..s.q_len {
                let qi = &q[(h * s.q_len + i) * hd..][..hd];
                let visible = s.k_len - s.q_len + i + 1;
                let logits: Vec<f64> = (0..visible)
                    .map(|j| {
                        let kj = &k[(h * s.k_len + j) * hd..][..hd];
                        qi.iter().zip(kj).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>() * scale
                    })
                    .collect();
                let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let weights: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
                let total: f64 = weights.iter().sum();
                for (j, w) in weights.iter().enumerate() {
                    for c in 0..hd {
                        out[(h * s.q_len + i) * hd + c] += w / total * f64::from(v[(h * s.k_len + j) * hd + c]);
                    }
                }
            }
        }
        out
    }

    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn equals_the_formula_across_blocks_and_with_a_cached_prefix() {
        // 150 queries cross two block edges; 150 of 170 keys is the KV-cache case (a 20-token prefix).
        for (q_len, k_len) in [(150, 150), (150, 170), (1, 37), (64, 64)] {
            let shape = AttentionShape { heads: 3, q_len, k_len, head_dim: 16 };
            let q = values(3 * q_len * 16, 1);
            let k = values(3 * k_len * 16, 2);
            let v = values(3 * k_len * 16, 3);
            let got = causal_attention(&q, &k, &v, shape, 0.25);
            let want = reference(&q, &k, &v, shape, 0.25);
            let worst = got.iter().zip(&want).map(|(a, b)| (f64::from(*a) - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-5, "{q_len}×{k_len}: max |Δ| {worst}");
        }
    }

    #[test]
    fn the_first_query_sees_only_the_first_key() {
        let shape = AttentionShape { heads: 1, q_len: 2, k_len: 2, head_dim: 2 };
        let out = causal_attention(&[1.0, 0.0, 0.0, 1.0], &[5.0, 0.0, 0.0, 5.0], &[1.0, 2.0, 3.0, 4.0], shape, 1.0);
        assert_eq!(&out[..2], &[1.0, 2.0]);
    }
}

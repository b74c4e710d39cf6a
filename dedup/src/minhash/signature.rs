//! MinHash signatures and LSH band keys.
//!
//! Permutation *k* maps a shingle hash *x* (the low 32 bits of its xxh3-64) to
//! `((a_k · x + b_k) mod 2^64) >> 32` with `a_k`, `b_k` drawn from the seed — Dietzfelbinger's
//! multiply-add-shift scheme, strongly universal from 32 to 32 bits, and in plain wrapping u64 arithmetic,
//! so the loop over permutations vectorises (no 128-bit products or modulo as with `(a·x + b) mod (2^61−1)`).
//! The signature is the minimum of each permutation over the document's shingles; band *j*'s key is the
//! xxh3-64 of its rows' values, seeded by the band number, so equal rows in different bands never meet.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Permutations are computed in blocks of this many (the vector width the loop is written for); a
/// signature's extra lanes are computed and ignored.
const LANES: usize = 8;

/// The seeded permutations of a signature.
#[derive(Debug, Clone)]
pub struct Permutations {
    count: usize,
    a: Vec<u64>,
    b: Vec<u64>,
}

/// SplitMix64: a fixed, portable generator for the permutation parameters.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Permutations {
    /// `count` permutations drawn from `seed`.
    pub fn new(count: usize, seed: u64) -> Self {
        let padded = count.div_ceil(LANES) * LANES;
        let mut rng = SplitMix64(seed ^ 0x6D69_6E68_6173_6800); // "minhash\0"
        let mut a = Vec::with_capacity(padded);
        let mut b = Vec::with_capacity(padded);
        for _ in 0..padded {
            a.push(rng.next());
            b.push(rng.next());
        }
        Permutations { count, a, b }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The signature of a document with these shingle hashes (not empty) into `signature`.
    pub fn signature(&self, shingles: &[u64], signature: &mut Vec<u32>) {
        signature.clear();
        signature.resize(self.a.len(), u32::MAX);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { minimums_avx2(&self.a, &self.b, shingles, signature) };
            signature.truncate(self.count);
            return;
        }
        minimums(&self.a, &self.b, shingles, signature);
        signature.truncate(self.count);
    }
}

/// The same loop compiled for AVX2 (the baseline x86-64 target has no 32-bit vector minimum).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn minimums_avx2(a: &[u64], b: &[u64], shingles: &[u64], mins: &mut [u32]) {
    minimums(a, b, shingles, mins)
}

#[inline(always)]
fn minimums(a: &[u64], b: &[u64], shingles: &[u64], mins: &mut [u32]) {
    for (a, (b, mins)) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES).zip(mins.chunks_exact_mut(LANES))) {
        let mut block = [u32::MAX; LANES];
        block.copy_from_slice(mins);
        for &shingle in shingles {
            let x = shingle as u32 as u64;
            for lane in 0..LANES {
                let value = (a[lane].wrapping_mul(x).wrapping_add(b[lane]) >> 32) as u32;
                block[lane] = block[lane].min(value);
            }
        }
        mins.copy_from_slice(&block);
    }
}

/// The key of every band of `signature` (`bands` × `rows` values) into `keys`.
pub fn band_keys(signature: &[u32], bands: usize, rows: usize, keys: &mut Vec<u64>) {
    keys.clear();
    let mut bytes = [0u8; 4 * crate::minhash::config::MAX_PERMUTATIONS];
    for (band, values) in signature.chunks_exact(rows).take(bands).enumerate() {
        for (slot, value) in bytes.chunks_exact_mut(4).zip(values) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        keys.push(xxh3_64_with_seed(&bytes[..4 * rows], band as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::shingle::{jaccard, Shingler};

    /// The plain loop every fast path must equal.
    fn reference(perms: &Permutations, shingles: &[u64]) -> Vec<u32> {
        (0..perms.count)
            .map(|k| {
                shingles
                    .iter()
                    .map(|&x| (perms.a[k].wrapping_mul(x as u32 as u64).wrapping_add(perms.b[k]) >> 32) as u32)
                    .min()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn signatures_equal_the_plain_loop_and_depend_on_the_seed() {
        let shingles: Vec<u64> = (0..1000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        let perms = Permutations::new(126, 7);
        let mut signature = Vec::new();
        perms.signature(&shingles, &mut signature);
        assert_eq!(signature, reference(&perms, &shingles));
        let mut other = Vec::new();
        Permutations::new(126, 8).signature(&shingles, &mut other);
        assert_ne!(signature, other);
        minimums(&perms.a, &perms.b, &shingles, &mut vec![u32::MAX; perms.a.len()]);
    }

    #[test]
    fn signature_agreement_estimates_jaccard_without_bias() {
        // Pairs of real-ish texts at known Jaccard: the fraction of equal signature values must average to J.
        let words: Vec<String> = (0..400).map(|i| format!("w{}", (i * 7919) % 1000)).collect();
        let perms = Permutations::new(256, 3);
        let mut shingler = Shingler::new(5);
        let (mut error_sum, mut n) = (0.0, 0);
        for cut in (10..390).step_by(20) {
            let a = words.join(" ");
            let mut edited = words.clone();
            edited[cut..cut + 10].iter_mut().for_each(|w| w.push('x'));
            let b = edited.join(" ");
            let (sa, sb) = (shingler.set(&a), shingler.set(&b));
            let truth = jaccard(&sa, &sb);
            let (mut ga, mut gb) = (Vec::new(), Vec::new());
            perms.signature(&sa, &mut ga);
            perms.signature(&sb, &mut gb);
            let estimate = ga.iter().zip(&gb).filter(|(x, y)| x == y).count() as f64 / 256.0;
            error_sum += estimate - truth;
            n += 1;
        }
        assert!((error_sum / n as f64).abs() < 0.02, "mean error {}", error_sum / n as f64);
    }

    #[test]
    fn band_keys_differ_by_band_even_for_equal_rows() {
        let signature = vec![5u32; 12];
        let mut keys = Vec::new();
        band_keys(&signature, 3, 4, &mut keys);
        assert_eq!(keys.len(), 3);
        assert_ne!(keys[0], keys[1]);
        let mut again = Vec::new();
        band_keys(&signature, 3, 4, &mut again);
        assert_eq!(keys, again);
    }
}

//! A bit-exact reproduction of CPython 3.11's `random.Random` for the calls llm-foundry's few-shot sampling
//! makes.
//!
//! llm-foundry picks each example's few-shot rows with `random.Random(1234)`, so matching its prompts token for
//! token means replaying the same Mersenne Twister stream and consuming it exactly as CPython does: the same
//! seeding (`init_by_array` over the seed's 32-bit words), the same `getrandbits` word order, the same rejection
//! loop in `_randbelow`, and `sample`'s two algorithms, which draw different numbers for the same population.
//! Only non-negative integer seeds and populations of the form `range(n)` are supported.

use std::collections::HashSet;

/// MT19937 state size in 32-bit words.
const N: usize = 624;
/// MT19937 shift offset.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// CPython's `random.Random` (Mersenne Twister MT19937 plus the pure-Python methods of `Lib/random.py`).
#[derive(Clone)]
pub struct PyRandom {
    mt: [u32; N],
    /// Index of the next word to temper; `N` means the state must be regenerated first.
    mti: usize,
}

impl PyRandom {
    /// `random.Random(seed)`.
    ///
    /// CPython seeds an int by feeding the little-endian 32-bit words of its absolute value to
    /// `init_by_array`, using as many words as the value has significant bits (at least one, so 0 → `[0]`).
    pub fn new(seed: u64) -> Self {
        let (lo, hi) = (seed as u32, (seed >> 32) as u32);
        let key: &[u32] = if hi == 0 { &[lo] } else { &[lo, hi] };
        let mut rng = PyRandom { mt: [0; N], mti: N };
        rng.init_by_array(key);
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.mt[0] = seed;
        for i in 1..N {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        self.mti = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
        }
        self.mt[0] = 0x8000_0000; // MSB set: the initial state is guaranteed non-zero.
    }

    /// Regenerates all `N` state words (the "twist").
    fn twist(&mut self) {
        for kk in 0..N {
            let y = (self.mt[kk] & UPPER_MASK) | (self.mt[(kk + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 0 { 0 } else { MATRIX_A };
            self.mt[kk] = self.mt[(kk + M) % N] ^ (y >> 1) ^ mag;
        }
        self.mti = 0;
    }

    /// The next raw 32-bit output (CPython's `genrand_uint32`).
    pub fn genrand_u32(&mut self) -> u32 {
        if self.mti >= N {
            self.twist();
        }
        let mut y = self.mt[self.mti];
        self.mti += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `getrandbits(k)` for `k <= 64`.
    ///
    /// For `k > 32` CPython fills the result from the least significant 32-bit word up, and only the last
    /// (most significant) word is cut down to the remaining bits by dropping its low bits.
    ///
    /// # Panics
    /// If `k > 64` (not needed here; CPython would return a big int).
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(k <= 64, "getrandbits supports at most 64 bits, got {k}");
        match k {
            0 => 0,
            1..=32 => u64::from(self.genrand_u32() >> (32 - k)),
            _ => {
                let low = u64::from(self.genrand_u32());
                let high = u64::from(self.genrand_u32() >> (64 - k));
                (high << 32) | low
            }
        }
    }

    /// `_randbelow_with_getrandbits(n)`: rejection sampling on `n.bit_length()` bits, which is what 3.11's
    /// `_randbelow` is for `random.Random`. Using `n`'s (not `n - 1`'s) bit length wastes draws when `n` is a
    /// power of two, and those extra draws are part of the stream we must reproduce.
    fn randbelow(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0, "randbelow(0) is undefined");
        let k = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `randbelow` on `usize` bounds; the result is below `n`, so it always fits back.
    fn randbelow_usize(&mut self, n: usize) -> usize {
        self.randbelow(n as u64) as usize
    }

    /// `random()`: a float in [0, 1) built from 27 + 26 bits of two consecutive outputs.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.genrand_u32() >> 5);
        let b = f64::from(self.genrand_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `choice(seq)` for a sequence of length `len`: the index it picks.
    ///
    /// # Panics
    /// If `len == 0` (CPython raises `IndexError`).
    pub fn choice_index(&mut self, len: usize) -> usize {
        assert!(len > 0, "cannot choose from an empty sequence");
        self.randbelow_usize(len)
    }

    /// `sample(range(n), k)`, in selection order.
    ///
    /// CPython switches algorithm on a memory estimate: a pool (partial Fisher–Yates over a list of the
    /// population) when `n <= setsize`, otherwise rejection against a set of selected indices. The two consume
    /// the stream differently, so the threshold must be reproduced exactly.
    ///
    /// # Panics
    /// If `k > n` (CPython raises `ValueError`).
    pub fn sample_range(&mut self, n: usize, k: usize) -> Vec<usize> {
        assert!(k <= n, "sample larger than population ({k} > {n})");
        if n as u128 <= sample_setsize(k) {
            self.sample_with_pool(n, k)
        } else {
            self.sample_with_selected_set(n, k)
        }
    }

    fn sample_with_pool(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut pool: Vec<usize> = (0..n).collect();
        let mut result = Vec::with_capacity(k);
        for i in 0..k {
            let j = self.randbelow_usize(n - i);
            result.push(pool[j]);
            pool[j] = pool[n - i - 1]; // move the last non-selected item into the vacancy
        }
        result
    }

    fn sample_with_selected_set(&mut self, n: usize, k: usize) -> Vec<usize> {
        // Only membership is asked of this set (its iteration order is never observed), so any set will do.
        let mut selected = HashSet::with_capacity(k);
        let mut result = Vec::with_capacity(k);
        for _ in 0..k {
            let mut j = self.randbelow_usize(n);
            while selected.contains(&j) {
                j = self.randbelow_usize(n);
            }
            selected.insert(j);
            result.push(j);
        }
        result
    }

    /// `shuffle(v)` in place (3.11's algorithm: swap each position from the end with one drawn below it).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.randbelow_usize(i + 1);
            v.swap(i, j);
        }
    }
}

/// `sample`'s threshold: `21`, plus `4 ** ceil(log(3 * k, 4))` when `k > 5`.
///
/// CPython computes the logarithm in floating point. `3 * k` is never a power of four, and its distance to
/// the nearest one is far larger than the rounding error, so the exact integer ceiling (the smallest power of
/// four `>= 3 * k`) gives the same value.
fn sample_setsize(k: usize) -> u128 {
    const SMALL_SET: u128 = 21; // size of a small set minus size of an empty list
    if k <= 5 {
        return SMALL_SET;
    }
    let target = 3 * k as u128;
    let mut power = 1u128;
    while power < target {
        power *= 4;
    }
    SMALL_SET + power
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below come from CPython 3.11.7; each test names the snippet that produced them.

    #[test]
    fn getrandbits_32_matches_cpython() {
        // r = random.Random(1234); [r.getrandbits(32) for _ in range(5)]
        let mut r = PyRandom::new(1234);
        let got: Vec<u64> = (0..5).map(|_| r.getrandbits(32)).collect();
        assert_eq!(got, [4150886329, 3342196574, 1892932127, 501869158, 32175636]);
    }

    #[test]
    fn getrandbits_wide_and_narrow_match_cpython() {
        // r = random.Random(1234); r.getrandbits(64), r.getrandbits(40), r.getrandbits(1), r.getrandbits(33)
        let mut r = PyRandom::new(1234);
        assert_eq!(r.getrandbits(64), 14354624986284130233);
        assert_eq!(r.getrandbits(40), 126446983711);
        assert_eq!(r.getrandbits(1), 0);
        assert_eq!(r.getrandbits(33), 4684278597);
    }

    #[test]
    fn seeding_uses_all_words_of_the_seed() {
        // random.Random(0).getrandbits(32), random.Random(2**32+5).getrandbits(32),
        // random.Random(2**64-1).getrandbits(32)
        assert_eq!(PyRandom::new(0).getrandbits(32), 3626764237);
        assert_eq!(PyRandom::new((1 << 32) + 5).getrandbits(32), 675479763);
        assert_eq!(PyRandom::new(u64::MAX).getrandbits(32), 93740670);
    }

    #[test]
    fn random_matches_cpython() {
        // r = random.Random(1234); [repr(r.random()) for _ in range(3)]
        let mut r = PyRandom::new(1234);
        let got: Vec<f64> = (0..3).map(|_| r.random()).collect();
        assert_eq!(got, [0.9664535356921388, 0.4407325991753527, 0.007491470058587191]);
    }

    #[test]
    fn choice_matches_cpython() {
        // r = random.Random(1234); [r.choice(range(7)) for _ in range(10)], [r.choice(range(1)) for _ in range(2)]
        let mut r = PyRandom::new(1234);
        let got: Vec<usize> = (0..10).map(|_| r.choice_index(7)).collect();
        assert_eq!(got, [6, 3, 0, 0, 0, 6, 4, 0, 5, 5]);
        assert_eq!([r.choice_index(1), r.choice_index(1)], [0, 0]);
    }

    #[test]
    fn setsize_threshold() {
        assert_eq!(sample_setsize(5), 21);
        assert_eq!(sample_setsize(6), 21 + 64); // 3*6 = 18 -> 4**3
        assert_eq!(sample_setsize(10), 21 + 64); // 30 -> 4**3
        assert_eq!(sample_setsize(25), 21 + 256); // 75 -> 4**4
        assert_eq!(sample_setsize(22), 21 + 256); // 66 -> 4**4
    }

    /// `random.Random(seed).sample(range(n), k)`
    fn sample(seed: u64, n: usize, k: usize) -> Vec<usize> {
        PyRandom::new(seed).sample_range(n, k)
    }

    #[test]
    fn sample_pool_branch_matches_cpython() {
        // random.Random(1234).sample(range(n), k) for (10, 3), (30, 25), (21, 5), (5, 5)
        assert_eq!(sample(1234, 10, 3), [7, 1, 0]);
        assert_eq!(
            sample(1234, 30, 25),
            [24, 14, 3, 0, 2, 18, 1, 21, 25, 27, 11, 7, 26, 17, 16, 5, 10, 9, 29, 12, 19, 22, 23, 13, 28]
        );
        assert_eq!(sample(1234, 21, 5), [14, 3, 0, 2, 1]);
        assert_eq!(sample(1234, 5, 5), [3, 0, 4, 2, 1]);
    }

    #[test]
    fn sample_set_branch_matches_cpython() {
        // random.Random(1234).sample(range(n), k) for (2000, 10), (22, 5)
        assert_eq!(sample(1234, 2000, 10), [1979, 1593, 902, 239, 15, 185, 1865, 1930, 1923, 1652]);
        assert_eq!(sample(1234, 22, 5), [14, 3, 0, 2, 18]);
    }

    #[test]
    fn sample_branch_boundary_and_reselection_match_cpython() {
        // random.Random(2).sample(range(22), 5): set branch, draw 2 repeats and is redrawn.
        assert_eq!(sample(2, 22, 5), [1, 2, 11, 5, 21]);
        // random.Random(10).sample(range(86), 6) (set branch, 73 redrawn) vs range(85) (pool, setsize = 85).
        assert_eq!(sample(10, 86, 6), [73, 4, 54, 61, 1, 26]);
        assert_eq!(sample(10, 85, 6), [73, 4, 54, 61, 84, 1]);
    }

    #[test]
    fn shuffle_matches_cpython() {
        // x = list(range(10)); random.Random(1234).shuffle(x); x
        let mut v: Vec<usize> = (0..10).collect();
        PyRandom::new(1234).shuffle(&mut v);
        assert_eq!(v, [2, 8, 3, 5, 6, 4, 9, 0, 1, 7]);
    }
}

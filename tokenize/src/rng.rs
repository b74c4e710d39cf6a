//! The seeded randomness of the stage: every random choice (a context's cell, a cell's shuffle, a
//! decomposition's cut) comes from a SplitMix64 stream seeded by a hash of the configured seed and *what*
//! is being decided (a file's key and a context's index, a cell's name), never from a shared generator —
//! so the output does not depend on which thread or worker made the choice, or in which order.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and good enough for shuffling and sampling.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A generator for `what` under the run's seed (`what` names the decision: file key, cell, …).
    pub fn for_parts(seed: u64, parts: &[&[u8]]) -> Rng {
        Rng(hash_parts(seed, parts))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A uniform integer in `0..n` (`n > 0`), without modulo bias (Lemire's multiply-and-reject).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = (self.next_u64() as u128) * (n as u128);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }
}

/// The SplitMix64 finaliser: a bijective 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xxh3-64 of the parts, each length-prefixed (so `["ab", "c"]` and `["a", "bc"]` differ), under `seed`.
pub fn hash_parts(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.len() + 8).sum());
    for part in parts {
        bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bytes.extend_from_slice(part);
    }
    xxh3_64_with_seed(&bytes, seed)
}

/// `x` reduced to `0..n` by a multiply-shift (uniform for a uniform `x`, no division).
pub fn reduce(x: u64, n: u64) -> u64 {
    (((x as u128) * (n as u128)) >> 64) as u64
}

/// A uniformly random permutation of `0..n` (Fisher–Yates, Durstenfeld's form): `perm[j]` is the item at
/// position `j`.
pub fn permutation(n: usize, rng: &mut Rng) -> Vec<u32> {
    let mut perm: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        perm.swap(i, j);
    }
    perm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut rng = Rng::new(7);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn permutations_are_permutations_and_seeded() {
        let p = permutation(1000, &mut Rng::new(1));
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<u32>>());
        assert_eq!(p, permutation(1000, &mut Rng::new(1)));
        assert_ne!(p, permutation(1000, &mut Rng::new(2)));
        assert!(permutation(0, &mut Rng::new(1)).is_empty());
    }

    #[test]
    fn parts_are_length_prefixed() {
        assert_ne!(hash_parts(0, &[b"ab", b"c"]), hash_parts(0, &[b"a", b"bc"]));
        assert_ne!(hash_parts(0, &[b"a"]), hash_parts(1, &[b"a"]));
    }
}

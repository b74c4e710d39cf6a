//! The Bloom filter: `m` bits in `u64` words, `k` hashers with fixed seeds, and its file format.
//!
//! DCLM's filter (`struct BloomFilter` in `dedup/bff/src/main.rs`) keeps `u32` words and `k` ahash
//! `RandomState`s seeded from `thread_rng()`, and hashes each n-gram `k` times. Here an n-gram arrives as
//! one 128-bit key ([`super::ngrams`]) and hasher `i` maps it to a bit with a seeded multiply-fold
//! (wyhash's `mum`) and a multiply-shift range reduction, so `k` hashers cost a few multiplies instead of
//! `k` passes over the n-gram's text. The seeds come from a fixed splitmix64 sequence: two filters of the
//! same size and `k` are identical after the same inserts, run to run and machine to machine.
//!
//! Bits are atomics (`fetch_or` to insert), so one filter can be shared by threads; the BFF stage still
//! checks and inserts in document order from one thread, which is what makes its output deterministic.
//!
//! ## File format (version 1)
//!
//! DCLM's layout with sluice's magic and 64-bit words, all little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `SLBF` (`0x46424C53` as a u32) |
//! | 4 | version, `1` |
//! | 4 | `k`, the number of hashers |
//! | `k` × 4 × 8 | each hasher's four u64 seeds |
//! | 8 | `w`, the number of u64 words (the filter has `64·w` bits) |
//! | `w` × 8 | the words; bit `b` is bit `b % 64` of word `b / 64` |
//!
//! A DCLM filter file (magic `0x81F0F117`) is refused: its hashers are ahash's, whose output depends on
//! the ahash version and the CPU's AES support, so its bits cannot be looked up from here.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::BffError;
use super::ngrams::NgramKey;

/// `SLBF`, the first four bytes of a sluice Bloom filter file.
pub const FILE_MAGIC: u32 = u32::from_le_bytes(*b"SLBF");
/// The file format version this code writes and reads.
pub const FILE_VERSION: u32 = 1;
/// DCLM bff's magic, recognised only to say why such a file cannot be used.
const DCLM_MAGIC: u32 = 0x81F0_F117;
/// Where the splitmix64 sequence of hasher seeds starts.
const SEED_ORIGIN: u64 = 0x0B1F_F5EE_D5A1_7CE5;
/// Bits computed and fetched per round of a batched lookup or insert: enough cache misses to overlap,
/// few enough to stay in L1 (16 KiB).
const ROUND_BITS: usize = 2048;
/// More hashers than any sane filter has (DCLM's optimum for fp 1e-300 is about 1000): a larger count in
/// a file header means the file is damaged. A round holds at least one key's bits.
pub(crate) const MAX_HASHERS: usize = ROUND_BITS;
/// The most words a filter can have: its bit count must fit in a u64 and its bytes in the address space.
const MAX_WORDS: u64 = if (usize::MAX as u64) / 8 < u64::MAX / 64 { (usize::MAX as u64) / 8 } else { u64::MAX / 64 };

/// A Bloom filter over 128-bit n-gram keys.
pub struct BloomFilter {
    words: Vec<AtomicU64>,
    bits: u64,
    seeds: Vec<[u64; 4]>,
}

impl std::fmt::Debug for BloomFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BloomFilter").field("bits", &self.bits).field("hashers", &self.seeds.len()).finish()
    }
}

/// splitmix64: the fixed seed sequence.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// wyhash's `mum`: the 128-bit product folded to 64 bits.
#[inline(always)]
fn fold_multiply(a: u64, b: u64) -> u64 {
    let product = (a as u128) * (b as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Allocates `n` zeroed words, failing (instead of aborting) when memory is short.
fn zeroed_words(n: usize) -> Result<Vec<AtomicU64>, BffError> {
    let mut words = Vec::new();
    words.try_reserve_exact(n).map_err(|e| BffError::TooLarge { bytes: n as u64 * 8, reason: e.to_string() })?;
    words.resize_with(n, || AtomicU64::new(0));
    Ok(words)
}

impl BloomFilter {
    /// An empty filter of `size_in_bytes` (rounded up to whole u64 words, at least one) with `num_hashers`
    /// hashers (at least one) seeded from sluice's fixed sequence.
    pub fn new(size_in_bytes: u64, num_hashers: usize) -> Result<Self, BffError> {
        if num_hashers > MAX_HASHERS {
            return Err(BffError::Config(format!("{num_hashers} hashers; at most {MAX_HASHERS} are supported")));
        }
        let words = size_in_bytes.div_ceil(8).max(1);
        if words > MAX_WORDS {
            return Err(BffError::TooLarge { bytes: size_in_bytes, reason: "larger than the address space".into() });
        }
        let mut state = SEED_ORIGIN;
        let seeds = (0..num_hashers.max(1))
            .map(|_| [splitmix64(&mut state), splitmix64(&mut state), splitmix64(&mut state), splitmix64(&mut state)])
            .collect();
        Ok(BloomFilter { bits: words * 64, words: zeroed_words(words as usize)?, seeds })
    }

    /// An empty filter sized as DCLM sizes one for `expected_ngrams` at `fp_rate` (see [`super::sysreq`]).
    pub fn for_expected(expected_ngrams: u64, fp_rate: f64) -> Result<Self, BffError> {
        let (bytes, hashers, _) = super::sizing::sysreq(expected_ngrams, fp_rate);
        Self::new(bytes, hashers)
    }

    /// The number of hashers (`k`).
    pub fn num_hashers(&self) -> usize {
        self.seeds.len()
    }

    /// The size of the bit array in bytes (the RAM the filter takes).
    pub fn size_in_bytes(&self) -> u64 {
        self.bits / 8
    }

    /// The false-positive rate of this filter once it holds `elements` keys (DCLM's formula).
    pub fn false_positive_rate(&self, elements: u64) -> f64 {
        super::sizing::prob_of_false_positive(self.size_in_bytes(), elements, self.num_hashers())
    }

    /// The number of bits set (DCLM prints this over the size as the filter's "sparsity").
    pub fn bits_set(&self) -> u64 {
        self.words.iter().map(|w| w.load(Ordering::Relaxed).count_ones() as u64).sum()
    }

    /// The fraction of bits set; a lookup of a key not in the filter is a false positive with about this
    /// fraction to the power `k`.
    pub fn fill_ratio(&self) -> f64 {
        self.bits_set() as f64 / self.bits as f64
    }

    /// Hasher `seed`'s bit for `key`: a seeded multiply-fold, then a multiply-shift into `[0, bits)`.
    #[inline(always)]
    fn bit(&self, key: NgramKey, seed: &[u64; 4]) -> u64 {
        let (lo, hi) = (key as u64, (key >> 64) as u64);
        let mixed = fold_multiply(lo ^ seed[0], hi ^ seed[1]) ^ fold_multiply(lo ^ seed[2], hi ^ seed[3]);
        (((mixed as u128) * (self.bits as u128)) >> 64) as u64
    }

    /// Whether every one of `key`'s `k` bits is set (a key inserted before always is).
    #[inline]
    pub fn contains(&self, key: NgramKey) -> bool {
        self.seeds.iter().all(|seed| self.test(self.bit(key, seed)))
    }

    /// Sets `key`'s `k` bits.
    #[inline]
    pub fn insert(&self, key: NgramKey) {
        for seed in &self.seeds {
            let bit = self.bit(key, seed);
            let word = &self.words[(bit / 64) as usize];
            let mask = 1 << (bit % 64);
            // A plain load first: re-inserting a key (or a bit another key set) costs no locked write.
            if word.load(Ordering::Relaxed) & mask == 0 {
                word.fetch_or(mask, Ordering::Relaxed);
            }
        }
    }

    /// Whether bit `bit` is set.
    #[inline(always)]
    fn test(&self, bit: u64) -> bool {
        self.words[(bit / 64) as usize].load(Ordering::Relaxed) & (1 << (bit % 64)) != 0
    }

    /// Replaces `out` with the bits of `keys`, `k` per key, key after key.
    #[inline]
    fn bits_of(&self, keys: &[NgramKey], out: &mut Vec<u64>) {
        out.clear();
        for key in keys {
            out.extend(self.seeds.iter().map(|seed| self.bit(*key, seed)));
        }
    }

    /// A buffer for the bits of one round of `keys`.
    fn round_buffer(&self, keys: &[NgramKey]) -> Vec<u64> {
        Vec::with_capacity(ROUND_BITS.min(keys.len() * self.seeds.len()))
    }

    /// How many of `keys` are contained (as [`BloomFilter::contains`]); with `flags`, also which: one
    /// `bool` per key is appended.
    ///
    /// With a filter larger than the caches every bit is a cache miss. One key at a time, the early exit on
    /// the first clear bit is a branch on a miss, which keeps the misses of the following keys from
    /// overlapping; here the bits of a round of keys are computed, their words loaded in one branch-free
    /// pass (the misses overlap), and only then tested — on cached words.
    pub fn count_contained(&self, keys: &[NgramKey], mut flags: Option<&mut Vec<bool>>) -> usize {
        let k = self.seeds.len();
        let mut bits = self.round_buffer(keys);
        let mut count = 0;
        for round in keys.chunks(ROUND_BITS / k) {
            self.bits_of(round, &mut bits);
            let mut touched = 0;
            for &bit in &bits {
                touched ^= self.words[(bit / 64) as usize].load(Ordering::Relaxed);
            }
            std::hint::black_box(touched);
            for key_bits in bits.chunks_exact(k) {
                let hit = key_bits.iter().all(|&bit| self.test(bit));
                count += hit as usize;
                if let Some(flags) = flags.as_deref_mut() {
                    flags.push(hit);
                }
            }
        }
        count
    }

    /// Inserts `keys` when no other thread can be using the filter: plain (not locked) writes, which the
    /// CPU overlaps, where a locked `fetch_or` per bit would wait for every cache miss in turn. This is how
    /// the BFF stage inserts (from one thread, in document order, right after looking the same keys up,
    /// so their words are cached).
    pub fn insert_many(&mut self, keys: &[NgramKey]) {
        let k = self.seeds.len();
        let mut bits = self.round_buffer(keys);
        for round in keys.chunks(ROUND_BITS / k) {
            self.bits_of(round, &mut bits);
            for &bit in &bits {
                *self.words[(bit / 64) as usize].get_mut() |= 1 << (bit % 64);
            }
        }
    }

    /// Writes the filter in the file format of the module docs.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&FILE_MAGIC.to_le_bytes())?;
        out.write_all(&FILE_VERSION.to_le_bytes())?;
        out.write_all(&(self.seeds.len() as u32).to_le_bytes())?;
        for seed in self.seeds.iter().flatten() {
            out.write_all(&seed.to_le_bytes())?;
        }
        out.write_all(&(self.words.len() as u64).to_le_bytes())?;
        let mut buf = Vec::with_capacity(1 << 16);
        for chunk in self.words.chunks(1 << 13) {
            buf.clear();
            for word in chunk {
                buf.extend_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
            }
            out.write_all(&buf)?;
        }
        Ok(())
    }

    /// Reads a filter written by [`BloomFilter::write_to`]; `location` names the source in errors. The
    /// input must end right after the last word (a truncated or padded file is refused).
    pub fn read_from(input: &mut impl Read, location: &str) -> Result<Self, BffError> {
        let bad = |reason: String| BffError::FilterFile { location: location.to_string(), reason };
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => bad("truncated".into()),
            _ => BffError::Io { location: location.to_string(), source: e },
        };
        let mut u32_buf = [0u8; 4];
        let mut u64_buf = [0u8; 8];
        let mut read_u32 = |input: &mut dyn Read| input.read_exact(&mut u32_buf).map(|_| u32::from_le_bytes(u32_buf));
        let magic = read_u32(input).map_err(io)?;
        if magic == DCLM_MAGIC {
            return Err(bad("this is a DCLM bff filter; its ahash hashers cannot be reproduced outside the bff \
                 binary that wrote it, so sluice cannot look anything up in it (build the filter with sluice)"
                .into()));
        }
        if magic != FILE_MAGIC {
            return Err(bad(format!("not a sluice Bloom filter (magic {magic:#010x}, expected {FILE_MAGIC:#010x})")));
        }
        let version = read_u32(input).map_err(io)?;
        if version != FILE_VERSION {
            return Err(bad(format!("format version {version}; this sluice reads version {FILE_VERSION}")));
        }
        let hashers = read_u32(input).map_err(io)?;
        if hashers == 0 || hashers as usize > MAX_HASHERS {
            return Err(bad(format!("{hashers} hashers (damaged header?)")));
        }
        let mut seeds = Vec::with_capacity(hashers as usize);
        for _ in 0..hashers {
            let mut seed = [0u64; 4];
            for s in &mut seed {
                input.read_exact(&mut u64_buf).map_err(io)?;
                *s = u64::from_le_bytes(u64_buf);
            }
            seeds.push(seed);
        }
        input.read_exact(&mut u64_buf).map_err(io)?;
        let count = u64::from_le_bytes(u64_buf);
        if count == 0 || count > MAX_WORDS {
            return Err(bad(format!("{count} words (damaged header?)")));
        }
        let mut words = zeroed_words(count as usize)?;
        let mut buf = vec![0u8; 1 << 16];
        for chunk in words.chunks_mut(buf.len() / 8) {
            let bytes = &mut buf[..chunk.len() * 8];
            input.read_exact(bytes).map_err(io)?;
            for (word, raw) in chunk.iter_mut().zip(bytes.chunks_exact(8)) {
                *word.get_mut() = u64::from_le_bytes(raw.try_into().expect("8 bytes"));
            }
        }
        if input.read(&mut u64_buf[..1]).map_err(io)? != 0 {
            return Err(bad(format!("bytes after the {count} words the header announces")));
        }
        Ok(BloomFilter { bits: count * 64, words, seeds })
    }

    /// Reads a filter from a file or object-store URL (`s3://…`).
    pub fn load(location: &str) -> Result<Self, BffError> {
        let bad = |reason: String| BffError::FilterFile { location: location.to_string(), reason };
        let parsed = sluice_core::store::Location::parse(location).map_err(|e| bad(e.to_string()))?;
        let raw = parsed.open_read().map_err(|e| bad(e.to_string()))?;
        Self::read_from(&mut std::io::BufReader::with_capacity(1 << 20, raw), location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: u64, n: usize) -> Vec<NgramKey> {
        let mut state = seed;
        (0..n).map(|_| ((splitmix64(&mut state) as u128) << 64) | splitmix64(&mut state) as u128).collect()
    }

    #[test]
    fn inserted_keys_are_found_and_the_false_positive_rate_is_what_the_sizing_promises() {
        let n = 200_000;
        let filter = BloomFilter::for_expected(n as u64, 0.01).unwrap();
        assert_eq!(filter.num_hashers(), 7);
        let inserted = keys(1, n);
        for &key in &inserted {
            filter.insert(key);
        }
        assert!(inserted.iter().all(|&k| filter.contains(k)));
        let probes = 400_000;
        let false_positives = keys(2, probes).into_iter().filter(|&k| filter.contains(k)).count();
        let rate = false_positives as f64 / probes as f64;
        // Expected 0.01; the standard deviation over 400k probes is 0.00016.
        assert!((rate - 0.01).abs() < 0.001, "false-positive rate {rate}");
        // The expected fill, 1 - (1 - 1/m)^(k·n) (about a half at the optimum).
        let m = filter.size_in_bytes() as f64 * 8.0;
        let expected_fill = 1.0 - (1.0 - 1.0 / m).powf(7.0 * n as f64);
        assert!((filter.fill_ratio() - expected_fill).abs() < 0.002, "{} vs {expected_fill}", filter.fill_ratio());
    }

    #[test]
    fn batched_lookups_and_inserts_agree_with_one_key_at_a_time() {
        for hashers in [1, 7, 30, 2048] {
            let mut batched = BloomFilter::new(1 << 14, hashers).unwrap();
            let single = BloomFilter::new(1 << 14, hashers).unwrap();
            let inserted = keys(5, 500);
            batched.insert_many(&inserted);
            inserted.iter().for_each(|&k| single.insert(k));
            assert_eq!(batched.bits_set(), single.bits_set());
            let probes: Vec<NgramKey> = keys(6, 700).into_iter().chain(inserted).collect();
            let mut flags = Vec::new();
            let count = batched.count_contained(&probes, Some(&mut flags));
            let expected: Vec<bool> = probes.iter().map(|&k| single.contains(k)).collect();
            assert_eq!(flags, expected, "{hashers} hashers");
            assert_eq!(count, expected.iter().filter(|&&f| f).count());
            assert!(count >= 500);
        }
        assert!(BloomFilter::new(64, 2049).is_err());
    }

    #[test]
    fn seeds_are_fixed_so_equal_inserts_give_equal_filters() {
        let a = BloomFilter::new(4096, 5).unwrap();
        let b = BloomFilter::new(4096, 5).unwrap();
        for key in keys(3, 300) {
            a.insert(key);
            b.insert(key);
        }
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.write_to(&mut x).unwrap();
        b.write_to(&mut y).unwrap();
        assert_eq!(x, y);
    }

    #[test]
    fn files_round_trip_and_damaged_files_are_refused() {
        let filter = BloomFilter::new(1000, 3).unwrap();
        let inserted = keys(4, 50);
        for &key in &inserted {
            filter.insert(key);
        }
        let mut file = Vec::new();
        filter.write_to(&mut file).unwrap();
        assert_eq!(file.len(), 12 + 3 * 32 + 8 + 125 * 8);
        assert_eq!(&file[..4], b"SLBF");
        let loaded = BloomFilter::read_from(&mut file.as_slice(), "f").unwrap();
        assert_eq!(loaded.size_in_bytes(), 1000);
        assert_eq!(loaded.num_hashers(), 3);
        assert!(inserted.iter().all(|&k| loaded.contains(k)));
        assert_eq!(loaded.bits_set(), filter.bits_set());

        let err = |bytes: &[u8]| BloomFilter::read_from(&mut &bytes[..], "f").unwrap_err().to_string();
        assert!(err(&file[..file.len() - 1]).contains("truncated"));
        assert!(err(&[file.as_slice(), &[0]].concat()).contains("bytes after"));
        assert!(err(&file[..2]).contains("truncated"));
        let mut dclm = file.clone();
        dclm[..4].copy_from_slice(&0x81F0_F117u32.to_le_bytes());
        assert!(err(&dclm).contains("DCLM bff filter"));
        let mut version = file.clone();
        version[4] = 9;
        assert!(err(&version).contains("version 9"));
        let mut hashers = file.clone();
        hashers[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(err(&hashers).contains("0 hashers"));
    }

    #[test]
    fn a_filter_too_large_for_memory_is_an_error_not_an_abort() {
        let err = BloomFilter::new(u64::MAX / 2, 7).unwrap_err();
        assert!(matches!(err, BffError::TooLarge { .. }), "{err}");
    }
}

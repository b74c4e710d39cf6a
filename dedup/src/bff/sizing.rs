//! Bloom filter sizing, computed exactly as DCLM's bff does (`compute_bloom_size`,
//! `optimal_number_of_hashers`, `prob_of_false_positive`), so `sluice bff sysreq` prints DCLM's numbers.
//!
//! DCLM binary-searches the smallest size in bytes whose false-positive rate, with the optimal number of
//! hashers for that size, is at most the target. Its search sets `hi = mid - 1` on success, so the size it
//! returns can be a byte or so short of the exact optimum (its FP rate then slightly above the target, e.g.
//! 1.0000000246e-9 for a 1e-9 target): reproduced as is. DCLM's `bff` command starts that search at 90 % of
//! the machine's RAM, its `sysreq` command at a fixed huge bound; sluice always uses the fixed bound, so a
//! filter's size does not depend on the machine that made it.

/// The upper end of DCLM's `sysreq` search, in bytes (its literal `420_744_073_709_551_615`).
const SEARCH_LIMIT_BYTES: u64 = 420_744_073_709_551_615;

/// DCLM's `optimal_number_of_hashers`: `ceil(bits / n · ln 2)`.
pub fn optimal_number_of_hashers(size_in_bytes: u64, expected_elements: u64) -> usize {
    let bits = size_in_bytes as f64 * 8.0;
    ((bits / expected_elements as f64) * std::f64::consts::LN_2).ceil() as usize
}

/// DCLM's `prob_of_false_positive`: `(1 - (1 - 1/m)^(k·n))^k` for `m` bits, `k` hashers, `n` elements.
pub fn prob_of_false_positive(size_in_bytes: u64, expected_elements: u64, num_hashers: usize) -> f64 {
    let k = num_hashers as f64;
    let m = size_in_bytes as f64 * 8.0;
    let n = expected_elements as f64;
    (1.0 - (1.0 - (1.0 / m)).powf(k * n)).powf(k)
}

/// DCLM's `compute_bloom_size` (without its RAM limit): the filter size in bytes for `expected_elements`
/// at `fp_rate`, with `num_hashers` hashers (0: the optimal number at each candidate size).
pub fn bloom_size(fp_rate: f64, expected_elements: u64, num_hashers: usize) -> u64 {
    let mut lo: u64 = 1;
    let mut hi: u64 = SEARCH_LIMIT_BYTES;
    let compute_hashers = num_hashers == 0;
    while lo < hi - 1 {
        let mid = lo + (hi - lo) / 2;
        let k = if compute_hashers { optimal_number_of_hashers(mid, expected_elements) } else { num_hashers };
        if prob_of_false_positive(mid, expected_elements, k) > fp_rate {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    hi
}

/// What DCLM's `bff sysreq --expected-ngram-count N --fp-rate P` computes: the filter size in bytes, the
/// number of hashers, and the false-positive rate of that filter once it holds `expected_ngrams` n-grams.
/// The RAM the stage needs is about this size (the filter is held in memory whole).
pub fn sysreq(expected_ngrams: u64, fp_rate: f64) -> (u64, usize, f64) {
    let expected = expected_ngrams.max(1);
    let bytes = bloom_size(fp_rate, expected, 0);
    let hashers = optimal_number_of_hashers(bytes, expected).max(1);
    (bytes, hashers, prob_of_false_positive(bytes, expected, hashers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysreq_matches_the_theory_and_dclms_published_sizes() {
        // DCLM issue #71: N = 1e9 at fp 0.01 ⇒ "Bloom filter has size 1.1 GiB", k = 7.
        let (bytes, k, fp) = sysreq(1_000_000_000, 0.01);
        assert_eq!(k, 7);
        let theory_bits = -(1e9f64) * 0.01f64.ln() / std::f64::consts::LN_2.powi(2);
        assert!((bytes as f64 * 8.0 / theory_bits - 1.0).abs() < 1e-3, "{bytes}");
        assert!((bytes as f64 / (1u64 << 30) as f64 - 1.1).abs() < 0.05);
        assert!(fp <= 0.01 * 1.0001, "{fp}");
        // The golden runs: N = 1e7 at 1e-9 ⇒ 51.4 MiB, k = 30; N = 2,521,278 at 0.01 ⇒ 2.9 MiB, k = 7.
        let (bytes, k, fp) = sysreq(10_000_000, 1e-9);
        assert_eq!(k, 30);
        assert!((bytes as f64 / (1u64 << 20) as f64 - 51.4).abs() < 0.05, "{bytes}");
        assert!((fp / 1e-9 - 1.0).abs() < 1e-6, "{fp}");
        let (bytes, k, _) = sysreq(2_521_278, 0.01);
        assert_eq!(k, 7);
        assert!((bytes as f64 / (1u64 << 20) as f64 - 2.9).abs() < 0.05, "{bytes}");
    }

    #[test]
    fn the_size_is_the_smallest_that_reaches_the_rate_up_to_dclms_off_by_one() {
        for (n, p) in [(1_000u64, 0.01), (123_456, 1e-4), (10_000_000, 1e-9)] {
            let bytes = bloom_size(p, n, 0);
            let fp_at = |b: u64| prob_of_false_positive(b, n, optimal_number_of_hashers(b, n));
            // A few bytes more always reach the target; a percent less never does.
            assert!(fp_at(bytes + 2) <= p, "{n} {p}");
            assert!(fp_at(bytes * 99 / 100) > p, "{n} {p}");
        }
    }
}

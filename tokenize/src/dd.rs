//! Dataset decomposition (Pouransari et al., NeurIPS 2024; apple/ml-dataset-decomposition):
//! [`decompose`] cuts one document into sequences of 2^k+1 tokens (`make_dd_buckets.py::get_binary`), and
//! [`dd_params`] computes the variable-sequence-length training parameters (`get_dd_params.py`).

use serde::Serialize;

use crate::config::DecompositionConfig;
use crate::rng::Rng;

/// One sequence cut from a document: bucket `k` (length 2^k+1), starting at token `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub k: u32,
    pub start: usize,
}

impl Piece {
    pub fn len(&self) -> usize {
        (1usize << self.k) + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// DD's `get_binary` on a sequence of `len` tokens (the document's ids and its EOT):
///
/// ```text
/// while len(seq) > 1:
///     k = floor(log2(len(seq) - 1))
///     if k < min: break                 # the remainder (< 2^min + 1 tokens) is discarded
///     if k > max: k = choice([max, max-1, …, min], p ∝ [1, 2, 4, …])   # randomize, else k = max
///     emit seq[:2^k + 1] to bucket k; seq = seq[2^k + 1:]
/// ```
///
/// so each sequence is a contiguous slice of one document, and pieces longer than the longest bucket are
/// cut at random sizes that give each bucket the same expected number of tokens. `rng` is only drawn from
/// for such pieces.
pub fn decompose(len: usize, min: u32, max: u32, randomize: bool, rng: &mut Rng) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let (mut start, mut rest) = (0usize, len);
    while rest > 1 {
        let mut k = (rest - 1).ilog2();
        if k < min {
            break;
        }
        if k > max {
            k = if randomize { random_bucket(min, max, rng) } else { max };
        }
        pieces.push(Piece { k, start });
        let taken = (1usize << k) + 1;
        start += taken;
        rest -= taken;
    }
    pieces
}

/// `np.random.choice(arange(max, min - 1, -1), p=2**arange(n) / sum)`: choice `i` (k = max − i) has
/// probability 2^i / (2^n − 1), drawn exactly with integers.
fn random_bucket(min: u32, max: u32, rng: &mut Rng) -> u32 {
    let n = max - min + 1;
    let r = rng.below((1u64 << n) - 1);
    let i = (r + 1).ilog2();
    max - i
}

/// What one bucket holds (for the mixing parameters and the summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BucketCount {
    pub k: u32,
    pub sequences: u64,
}

/// The variable-sequence-length training parameters of a decomposed dataset (`get_dd_params.py`): the
/// open_lm flags `--dataset-batch-mult`, `--source-num-seq-per-epoch`, `--train-data-mix-weights`,
/// `--train-num-samples` and `--epochs`, with their inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DdParams {
    pub buckets: Vec<u32>,
    pub sequence_sizes: Vec<u64>,
    /// Complete shards per bucket (DD trains on complete shards only).
    pub number_of_shards: Vec<u64>,
    pub sequence_per_shard: Vec<u64>,
    pub total_tokens: u64,
    pub epochs: u64,
    pub gpus: u64,
    pub global_batch: u64,
    pub workers: u64,
    pub curriculum: Vec<f64>,
    pub batch_mult: Vec<f64>,
    /// Whether the factor search matched `total_tokens` exactly (else the nearest it found is used, as
    /// `get_dd_params.py` does: "Cannot match requested number of tokens").
    pub exact: bool,
    pub train_num_samples: u64,
    pub dataset_batch_mult: Vec<f64>,
    pub source_num_seq_per_epoch: Vec<u64>,
    pub train_data_mix_weights: Vec<i64>,
    /// The flags as `get_dd_params.py` prints them.
    pub open_lm_args: String,
}

/// `get_dd_params.py::main`, step by step (numpy semantics: `np.round` is round-half-to-even, `int()`
/// truncates, index −1 of the factor search is the last bucket). `Err` when its assertion
/// `seqs_per_shard · gpus · workers > batch_mult · global_batch · workers` fails for some bucket, or no
/// bucket has a complete shard.
pub fn dd_params(counts: &[BucketCount], dd: &DecompositionConfig) -> Result<DdParams, String> {
    let n = counts.len();
    let buckets: Vec<u32> = counts.iter().map(|c| c.k).collect();
    let sizes: Vec<u64> = buckets.iter().map(|k| 1u64 << k).collect();
    let per_shard: Vec<u64> = buckets.iter().map(|&k| dd.shard_size(k)).collect();
    let shards: Vec<u64> = counts.iter().zip(&per_shard).map(|(c, s)| c.sequences / s).collect();
    let curriculum = dd.curriculum.clone().unwrap_or_else(|| (0..n).map(|i| (1u64 << (n - 1 - i)) as f64).collect());
    let batch_mult = dd
        .batch_mult
        .clone()
        .unwrap_or_else(|| buckets.iter().map(|&k| (1u64 << (dd.max_bucket - k)) as f64).collect());
    let tokens_per_bucket: Vec<f64> = (0..n).map(|i| (shards[i] * per_shard[i] * sizes[i]) as f64).collect();
    let available: f64 = tokens_per_bucket.iter().sum();
    if available == 0.0 {
        return Err("no bucket has a complete shard: nothing to train on".into());
    }
    let total_tokens = dd.train_tokens.unwrap_or(available as u64);
    let (epochs, gpus, global_batch, workers) = (dd.epochs, dd.gpus, dd.global_batch, dd.workers);

    let scale = total_tokens as f64 / available;
    let denom1: Vec<f64> = (0..n).map(|i| batch_mult[i] * (global_batch * workers) as f64).collect();
    let denom2: Vec<f64> = (0..n).map(|i| (per_shard[i] * gpus * workers) as f64).collect();
    if let Some(i) = (0..n).find(|&i| denom2[i] <= denom1[i]) {
        return Err(format!(
            "bucket D_{}: sequences per shard × gpus × workers ({}) must exceed batch_mult × global_batch × \
             workers ({}) (get_dd_params.py's assertion); use fewer GPUs or a smaller global batch",
            buckets[i], denom2[i], denom1[i]
        ));
    }
    let mut factors: Vec<i64> = (0..n)
        .map(|i| {
            (scale * tokens_per_bucket[i] / epochs as f64 / sizes[i] as f64 / denom2[i]).round_ties_even() as i32 as i64
        })
        .collect();
    let diff = |f: &[i64]| {
        total_tokens as f64 / epochs as f64 - (0..n).map(|i| (f[i] as f64) * denom2[i] * sizes[i] as f64).sum::<f64>()
    };
    let mut index = n as i64 - 1;
    let mut tried = std::collections::HashSet::new();
    let mut exact = true;
    while diff(&factors) != 0.0 {
        if index < 0 {
            exact = false;
            break;
        }
        if tried.contains(&factors) {
            index -= 1;
        }
        let d = diff(&factors);
        tried.insert(factors.clone());
        // Python's factors[-1] is the last bucket.
        let at = if index < 0 { (n as i64 + index) as usize } else { index as usize };
        if d < 0.0 {
            factors[at] -= 1;
        } else {
            factors[at] += 1;
        }
    }
    let seq_per_epoch: Vec<f64> = (0..n).map(|i| factors[i] as f64 * denom2[i]).collect();
    let tokens_per_epoch: Vec<f64> = (0..n).map(|i| seq_per_epoch[i] * sizes[i] as f64).collect();
    let weights: Vec<i64> = (0..n)
        .map(|i| (tokens_per_epoch[i] / tokens_per_epoch[0] * factors[0] as f64 * curriculum[i]) as i64)
        .collect();
    let train_num_samples = tokens_per_epoch.iter().sum::<f64>() as u64;
    let join = |v: Vec<String>| v.join(" ");
    let source_num_seq_per_epoch: Vec<u64> = seq_per_epoch.iter().map(|s| *s as u64).collect();
    let open_lm_args = format!(
        "--epochs {epochs} --train-num-samples {train_num_samples} --dataset-batch-mult {} --source-num-seq-per-epoch {} --train-data-mix-weights {}",
        join(batch_mult.iter().map(|m| format!("{}", *m as i64)).collect()),
        join(source_num_seq_per_epoch.iter().map(u64::to_string).collect()),
        join(weights.iter().map(i64::to_string).collect()),
    );
    Ok(DdParams {
        buckets,
        sequence_sizes: sizes,
        number_of_shards: shards,
        sequence_per_shard: per_shard,
        total_tokens,
        epochs,
        gpus,
        global_batch,
        workers,
        curriculum,
        dataset_batch_mult: batch_mult.clone(),
        batch_mult,
        exact,
        train_num_samples,
        source_num_seq_per_epoch,
        train_data_mix_weights: weights,
        open_lm_args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposition_is_dd_get_binary() {
        let mut rng = Rng::new(1);
        // 2^9 + 1 + 2^8 + 1 + 17 tokens: D_9, D_8, then a 17-token remainder (< 257) is discarded.
        let pieces = decompose(513 + 257 + 17, 8, 13, true, &mut rng);
        assert_eq!(pieces, [Piece { k: 9, start: 0 }, Piece { k: 8, start: 513 }]);
        assert!(decompose(257, 8, 13, true, &mut rng) == [Piece { k: 8, start: 0 }]);
        assert!(decompose(256, 8, 13, true, &mut rng).is_empty());
        assert!(decompose(1, 8, 13, true, &mut rng).is_empty());
        // Without randomisation an over-long document is cut at the longest bucket.
        let fixed = decompose(3 * 8193 + 5, 8, 13, false, &mut rng);
        assert_eq!(fixed.iter().map(|p| p.k).collect::<Vec<_>>(), [13, 13, 13]);
    }

    #[test]
    fn random_cuts_give_each_bucket_equal_expected_tokens() {
        let mut rng = Rng::new(42);
        let mut tokens = [0f64; 6];
        for _ in 0..200_000 {
            let k = random_bucket(8, 13, &mut rng);
            tokens[(k - 8) as usize] += ((1u64 << k) + 1) as f64;
        }
        let mean = tokens.iter().sum::<f64>() / 6.0;
        for t in tokens {
            assert!((t / mean - 1.0).abs() < 0.05, "{tokens:?}");
        }
    }

    /// Pinned against `get_dd_params.py` run with numpy on the bucket counts DD's README lists for
    /// DCLM-Baseline `global-shard_01_of_10/local-shard_0_of_10`: 29B tokens, 8 GPUs, global batch 64,
    /// 8 epochs (a target it cannot match exactly); all available tokens; and an exactly matched
    /// 2-epoch, 4-GPU, 2-worker run with a flat curriculum.
    #[test]
    fn params_match_get_dd_params() {
        let sequences = [14_581_760u64, 12_279_808, 7_587_840, 3_230_208, 1_320_192, 577_664];
        let counts: Vec<BucketCount> =
            sequences.iter().enumerate().map(|(i, &s)| BucketCount { k: 8 + i as u32, sequences: s }).collect();
        let dd = DecompositionConfig { train_tokens: Some(29_000_000_000), ..Default::default() };
        let p = dd_params(&counts, &dd).unwrap();
        assert_eq!(p.number_of_shards, [3560, 5996, 7410, 6309, 5157, 4513]);
        assert_eq!(p.dataset_batch_mult, [32.0, 16.0, 8.0, 4.0, 2.0, 1.0]);
        assert_eq!(p.source_num_seq_per_epoch, [1540096, 1294336, 794624, 339968, 139264, 59392]);
        assert_eq!(p.train_data_mix_weights, [1504, 1264, 776, 332, 136, 58]);
        assert_eq!((p.train_num_samples, p.exact), (3623878656, false));

        let p = dd_params(&counts, &DecompositionConfig::default()).unwrap();
        assert_eq!(p.total_tokens, 34_545_336_320);
        assert_eq!(p.source_num_seq_per_epoch, [1835008, 1540096, 950272, 405504, 165888, 69632]);
        assert_eq!(p.train_data_mix_weights, [1792, 1504, 928, 396, 162, 68]);
        assert_eq!(p.train_num_samples, 4311744512);

        let dd = DecompositionConfig {
            train_tokens: Some(8 << 30),
            epochs: 2,
            gpus: 4,
            global_batch: 32,
            workers: 2,
            curriculum: Some(vec![1.0; 6]),
            ..Default::default()
        };
        let p = dd_params(&counts, &dd).unwrap();
        assert_eq!(p.source_num_seq_per_epoch, [1802240, 1523712, 942080, 401408, 163840, 72704]);
        assert_eq!(p.train_data_mix_weights, [55, 93, 115, 98, 80, 71]);
        assert_eq!((p.train_num_samples, p.exact), (4294967296, true));
        assert!(p.open_lm_args.starts_with("--epochs 2 --train-num-samples 4294967296 --dataset-batch-mult 32 16"));

        let too_big = DecompositionConfig { global_batch: 1 << 20, ..Default::default() };
        assert!(dd_params(&counts, &too_big).unwrap_err().contains("assertion"));
    }
}

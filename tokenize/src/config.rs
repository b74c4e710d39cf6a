//! The stage's parameters (`tokenize:` in a recipe), with DCLM's defaults.

use serde::{Deserialize, Serialize};

use crate::bytesize::ByteSize;
use crate::error::TokenizeError;

/// What the stage writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// DCLM tokshuf-rs / OpenLM webdataset: `seqlen`-token contexts (documents concatenated with EOT, the
    /// last context of each input file padded), each a gzipped JSON list in a tar member, `wds_chunk_size`
    /// contexts per `shard_XXXXXXXX.tar`, `manifest.jsonl`.
    Openlm,
    /// Flat little-endian token arrays (u16, or u32 when the vocabulary needs it) per input file, with a
    /// document-boundary index: memory-mappable.
    Bin,
    /// Dataset decomposition (Apple's DD): each document cut into pieces of 2^k+1 tokens, one bucket `D_k/`
    /// per length, each with its shards and manifest, plus the variable-sequence-length mixing parameters.
    Decomposed,
}

/// How the buckets of a decomposed dataset are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardFormat {
    /// Tar shards of gzipped JSON lists (as `openlm`).
    Openlm,
    /// Flat token arrays of fixed-length sequences (`shard_XXXXXXXX.bin`).
    Bin,
}

/// Dataset-decomposition parameters (`format: decomposed`), defaults as Apple's `make_dd_buckets.py` and
/// `get_dd_params.py`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecompositionConfig {
    /// log2 of the shortest sequences kept (bucket `D_min` holds sequences of 2^min+1 tokens); shorter
    /// remainders of a document are discarded.
    pub min_bucket: u32,
    /// log2 of the longest sequences (longer pieces are cut further).
    pub max_bucket: u32,
    /// Cut pieces longer than the longest bucket at a random bucket size, P(k) ∝ 2^(max−k) (equal expected
    /// tokens per bucket), as DD does; `false` always cuts at the longest bucket.
    pub randomize: bool,
    /// Shard layout of each bucket.
    pub shard_format: ShardFormat,
    /// Tokens per shard: bucket k holds min(shard_tokens / 2^k, 65536) sequences per shard (DD: 2^20).
    pub shard_tokens: u64,
    /// Tokens to train on, for the mixing parameters (`--tokens` of `get_dd_params.py`); default: every
    /// token in the buckets.
    pub train_tokens: Option<u64>,
    /// Epochs (length-curriculum cycles) of the mixing parameters.
    pub epochs: u64,
    /// GPUs of the training job.
    pub gpus: u64,
    /// Global batch size, in sequences of the longest bucket.
    pub global_batch: u64,
    /// Dataloader workers per GPU.
    pub workers: u64,
    /// Odds of drawing a batch from each bucket, shortest first; default 2^(n−1) … 1 (DD's "Grow-P2"
    /// power-of-two length curriculum).
    pub curriculum: Option<Vec<f64>>,
    /// Batch-size multiplier of each bucket relative to the longest, shortest first; default 2^(max−k)
    /// (constant tokens per step).
    pub batch_mult: Option<Vec<f64>>,
}

impl Default for DecompositionConfig {
    fn default() -> Self {
        DecompositionConfig {
            min_bucket: 8,
            max_bucket: 13,
            randomize: true,
            shard_format: ShardFormat::Openlm,
            shard_tokens: 1 << 20,
            train_tokens: None,
            epochs: 8,
            gpus: 8,
            global_batch: 64,
            workers: 1,
            curriculum: None,
            batch_mult: None,
        }
    }
}

impl DecompositionConfig {
    /// The bucket exponents, shortest first.
    pub fn buckets(&self) -> std::ops::RangeInclusive<u32> {
        self.min_bucket..=self.max_bucket
    }

    /// Sequences per shard of bucket `k` (DD's `SHARD_SIZE`).
    pub fn shard_size(&self, k: u32) -> u64 {
        (self.shard_tokens >> k).clamp(1, 65536)
    }
}

/// Parameters of the `tokenize` stage (the `tokenize:` step of a recipe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizeConfig {
    /// Input document files or folders. Optional in a recipe stage that follows another.
    #[serde(skip_serializing)]
    pub input: Vec<String>,
    /// Where to write. Default: `<recipe output>/<stage number>-tokenize`.
    #[serde(skip_serializing)]
    pub output: Option<String>,
    /// A HF `tokenizer.json` (path or URL). Default: the bundled GPT-NeoX-20B tokenizer (DCLM's).
    pub tokenizer: Option<String>,
    /// `openlm` (default), `bin` or `decomposed`.
    pub format: OutputFormat,
    /// Tokens per context (`openlm`): 2049 = 2048 inputs + 1 shifted target.
    pub seqlen: usize,
    /// Contexts per output tar (`openlm`).
    pub wds_chunk_size: usize,
    /// gzip level of each context (1–9). 1 (default) is about twice as fast as tokshuf-rs's 6 and makes
    /// shards about 10 % larger; readers do not care.
    pub gzip_level: u32,
    /// Seed of every random choice (cells, shuffles, decomposition cuts).
    pub seed: u64,
    /// Shuffle contexts (or decomposed sequences) globally. Without it, shards hold them in input order.
    pub shuffle: bool,
    /// Shuffle cells: the first phase scatters contexts into this many cells, the second shuffles each
    /// cell and writes its shards (so: the parallelism of the second phase).
    pub cells: usize,
    /// The most memory one shuffle task holds of contexts (`1GiB`, `512MiB`, or bytes); a larger cell is
    /// gathered in several reading passes. The output does not depend on it.
    pub shuffle_memory: ByteSize,
    /// The end-of-text token appended after every document.
    pub eot_token: String,
    /// The padding id of the last context of each input file. Default: the tokenizer's base vocabulary
    /// size + 2, as DCLM computes it (50256 for GPT-NeoX-20B — which is also a real NeoX token, a run of
    /// spaces: never infer document boundaries from it).
    pub pad_id: Option<u32>,
    /// A token put before every document (Llama-3 style `<|begin_of_text|>`). Default: none.
    pub bos: Option<String>,
    /// Dataset-decomposition parameters (`format: decomposed`).
    pub decomposition: DecompositionConfig,
}

impl Default for TokenizeConfig {
    fn default() -> Self {
        TokenizeConfig {
            input: Vec::new(),
            output: None,
            tokenizer: None,
            format: OutputFormat::Openlm,
            seqlen: 2049,
            wds_chunk_size: 8192,
            gzip_level: 1,
            seed: 1234,
            shuffle: true,
            cells: 64,
            shuffle_memory: ByteSize::mib(1024),
            eot_token: "<|endoftext|>".into(),
            pad_id: None,
            bos: None,
            decomposition: DecompositionConfig::default(),
        }
    }
}

impl TokenizeConfig {
    /// Checks the parameters (the tokenizer file is checked when the stage prepares).
    pub fn validate(&self) -> Result<(), TokenizeError> {
        let bad = |m: String| Err(TokenizeError::Config(m));
        if self.seqlen < 2 || self.seqlen > 1 << 24 {
            return bad(format!("seqlen must be 2..=16777216, not {}", self.seqlen));
        }
        if self.wds_chunk_size == 0 || self.wds_chunk_size > 100_000_000 {
            return bad(format!("wds_chunk_size must be 1..=100000000, not {}", self.wds_chunk_size));
        }
        if !(1..=9).contains(&self.gzip_level) {
            return bad(format!("gzip_level must be 1..=9, not {}", self.gzip_level));
        }
        if self.cells == 0 || self.cells > 65536 {
            return bad(format!("cells must be 1..=65536, not {}", self.cells));
        }
        if self.shuffle_memory.0 == 0 {
            return bad("shuffle_memory must be more than 0 bytes".into());
        }
        if self.eot_token.is_empty() {
            return bad("eot_token must not be empty".into());
        }
        let dd = &self.decomposition;
        if dd.min_bucket > dd.max_bucket || dd.max_bucket > 30 {
            return bad(format!(
                "decomposition buckets must satisfy min_bucket <= max_bucket <= 30, not {}..{}",
                dd.min_bucket, dd.max_bucket
            ));
        }
        let n = (dd.max_bucket - dd.min_bucket + 1) as usize;
        for (name, list) in [("curriculum", &dd.curriculum), ("batch_mult", &dd.batch_mult)] {
            if let Some(list) = list {
                if list.len() != n {
                    return bad(format!("decomposition.{name} needs one value per bucket ({n}), not {}", list.len()));
                }
            }
        }
        if dd.epochs == 0 || dd.gpus == 0 || dd.global_batch == 0 || dd.workers == 0 || dd.shard_tokens == 0 {
            return bad("decomposition epochs, gpus, global_batch, workers and shard_tokens must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dclm_and_dd() {
        let c = TokenizeConfig::default();
        assert_eq!((c.seqlen, c.wds_chunk_size, c.seed), (2049, 8192, 1234));
        let dd = &c.decomposition;
        let sizes: Vec<u64> = dd.buckets().map(|k| dd.shard_size(k)).collect();
        assert_eq!(sizes, [4096, 2048, 1024, 512, 256, 128]);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn unknown_fields_are_refused_and_input_is_not_fingerprinted() {
        let err = serde_json::from_str::<TokenizeConfig>(r#"{"seqlenn": 5}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field `seqlenn`"), "{err}");
        let c: TokenizeConfig =
            serde_json::from_str(r#"{"input": ["a"], "format": "decomposed", "decomposition": {"max_bucket": 10}}"#)
                .unwrap();
        assert_eq!(c.format, OutputFormat::Decomposed);
        assert_eq!(c.decomposition.min_bucket, 8);
        assert!(!serde_json::to_string(&c).unwrap().contains("\"input\""));
        let mut c = TokenizeConfig::default();
        c.decomposition.curriculum = Some(vec![1.0]);
        assert!(c.validate().unwrap_err().to_string().contains("one value per bucket"));
    }
}

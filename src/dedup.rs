//! `sluice dedup METHOD --input DOCS --output OUT`: one dedup method over any documents (as `sluice
//! filter` runs a filter chain); the same methods are recipe stages (`dedup:` with `method:`).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use sluice_core::format::Format;
use sluice_core::runner::MapStage;
use sluice_core::runner::{run_phased, PhasedStage};
use sluice_dedup::bff::{sysreq, BffConfig, BffStage};
use sluice_dedup::decontam::{DecontamConfig, DecontamStage};
use sluice_dedup::exact::{ExactConfig, ExactDedupStage, ExactKey, Normalizer};
use sluice_dedup::minhash::{MinhashConfig, MinhashStage};

use crate::cli::JobArgs;
use crate::progress::BarProgress;

#[derive(Debug, Subcommand)]
pub enum DedupCommand {
    /// Exact dedup by normalised text, URL, or of repeated lines; keeps the first occurrence in input
    /// order (sorted files, then document order).
    Exact(ExactArgs),
    /// DCLM's BFF (Bloom-filter n-gram dedup; `old-both` is DCLM-Baseline's), in a fixed order: sorted
    /// files, then document order. Options as DCLM names them.
    Bff(BffArgs),
    /// MinHash-LSH near-duplicate dedup (word 5-grams of SlimPajama-normalised text by default), in
    /// phases that shard across workers; keeps the first document of each cluster.
    Minhash(MinhashArgs),
    /// n-gram overlap with evaluation task files (llm-foundry JSONL): annotate or drop, with per-task hits.
    Decontaminate(DecontamArgs),
    /// Bloom filter size and hashers for an expected n-gram count and false-positive rate (as DCLM's
    /// `bff sysreq`).
    Sysreq(SysreqArgs),
}

/// Any other option of a stage, as in a recipe: `--set fp_rate=0.001` (repeatable; YAML values; a dotted
/// key sets a nested field: `--set decomposition.max_bucket=12`).
#[derive(Debug, Args)]
pub struct SetArgs {
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl SetArgs {
    /// The `--set` options, and `explicit` (the flags given), as one JSON object of the method's config.
    pub(crate) fn config<T: serde::de::DeserializeOwned>(&self, explicit: serde_json::Value) -> Result<T> {
        let mut object = match explicit {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        for pair in &self.set {
            let (key, value) = pair.split_once('=').with_context(|| format!("--set {pair}: expected KEY=VALUE"))?;
            let value: serde_json::Value = serde_saphyr::from_str(value).with_context(|| format!("--set {pair}"))?;
            set_path(&mut object, key, value).with_context(|| format!("--set {pair}"))?;
        }
        serde_json::from_value(serde_json::Value::Object(object)).context("invalid options")
    }
}

/// Sets `key` in `object`; a dotted key (`decomposition.max_bucket`) sets a field of a nested object,
/// creating the objects on the way.
fn set_path(
    object: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    value: serde_json::Value,
) -> Result<()> {
    match key.split_once('.') {
        None => {
            object.insert(key.to_string(), value);
            Ok(())
        }
        Some((head, rest)) => {
            let inner = object.entry(head.to_string()).or_insert_with(|| serde_json::json!({}));
            match inner {
                serde_json::Value::Object(inner) => set_path(inner, rest, value),
                _ => anyhow::bail!("`{head}` is not an object"),
            }
        }
    }
}

#[derive(Debug, Args)]
pub struct BffArgs {
    #[command(flatten)]
    pub io: DedupIo,
    /// old-both (DCLM-Baseline), paragraph, document, both, naive-both, exact, substring.
    #[arg(long, default_value = "old-both")]
    pub remove_type: String,
    /// n-gram size (min = max).
    #[arg(long)]
    pub ngram: Option<usize>,
    #[arg(long)]
    pub min_ngram_size: Option<usize>,
    #[arg(long)]
    pub max_ngram_size: Option<usize>,
    /// Fraction of contained n-grams above which a unit is removed.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Expected n-gram count (sizes the filter with --fp-rate).
    #[arg(long)]
    pub expected_ngram_count: Option<u64>,
    #[arg(long)]
    pub fp_rate: Option<f64>,
    /// Annotate duplicate spans instead of removing them.
    #[arg(long)]
    pub annotate: bool,
    #[command(flatten)]
    pub set: SetArgs,
}

#[derive(Debug, Args)]
pub struct MinhashArgs {
    #[command(flatten)]
    pub io: DedupIo,
    /// Shingle size in words.
    #[arg(long)]
    pub ngram: Option<usize>,
    /// Jaccard threshold: bands × rows are chosen for it (printed).
    #[arg(long)]
    pub threshold: Option<f64>,
    #[arg(long)]
    pub bands: Option<usize>,
    #[arg(long)]
    pub rows: Option<usize>,
    /// Keep every document and add `minhash_cluster_id` / `minhash_cluster_size`.
    #[arg(long)]
    pub annotate: bool,
    /// Check candidate pairs by exact Jaccard before clustering (the recipe option `verify`; `--verify`
    /// is the run option that re-checksums committed outputs).
    #[arg(long)]
    pub verify_pairs: bool,
    #[command(flatten)]
    pub set: SetArgs,
}

#[derive(Debug, Args)]
pub struct DecontamArgs {
    #[command(flatten)]
    pub io: DedupIo,
    /// Task files or folders (llm-foundry JSONL), e.g. ../shared/data/eval/local_data.
    #[arg(long, required = true, num_args = 1..)]
    pub tasks: Vec<String>,
    /// n-gram size in words.
    #[arg(long)]
    pub ngram: Option<usize>,
    /// annotate (default) or drop.
    #[arg(long)]
    pub mode: Option<String>,
    #[command(flatten)]
    pub set: SetArgs,
}

#[derive(Debug, Args)]
pub struct SysreqArgs {
    /// Expected number of n-grams (≈ total words; overshoot slightly).
    #[arg(long)]
    pub expected_ngram_count: u64,
    #[arg(long, default_value_t = 0.01)]
    pub fp_rate: f64,
}

/// Where a dedup run reads and writes.
#[derive(Debug, Args)]
pub struct DedupIo {
    /// Document files or folders (Parquet, JSONL, JSONL.gz, JSONL.zst; paths or URLs).
    #[arg(short, long, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Where to write the kept documents.
    #[arg(short, long, value_name = "DIR|URL")]
    pub output: String,
    /// Output format.
    #[arg(long, default_value = "parquet")]
    pub format: Format,
    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Debug, Args)]
pub struct ExactArgs {
    #[command(flatten)]
    pub io: DedupIo,
    /// What duplicates share: text, url or paragraph (each line).
    #[arg(long, value_enum, default_value = "text")]
    pub key: KeyArg,
    /// Text normalisation before hashing: none, whitespace-lowercase (DCLM's), ccnet.
    #[arg(long, value_enum, default_value = "whitespace-lowercase")]
    pub normalizer: NormalizerArg,
    /// Hash partitions (memory of the second phase ≈ 32 bytes × documents / partitions).
    #[arg(long, default_value_t = 16)]
    pub partitions: usize,
    /// Keep duplicates and mark them instead of removing them.
    #[arg(long)]
    pub annotate: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyArg {
    Text,
    Url,
    Paragraph,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum NormalizerArg {
    None,
    WhitespaceLowercase,
    Ccnet,
}

pub fn run(command: &DedupCommand, quiet: bool) -> Result<()> {
    match command {
        DedupCommand::Exact(args) => {
            let config = ExactConfig {
                key: match args.key {
                    KeyArg::Text => ExactKey::Text,
                    KeyArg::Url => ExactKey::Url,
                    KeyArg::Paragraph => ExactKey::Paragraph,
                },
                normalizer: match args.normalizer {
                    NormalizerArg::None => Normalizer::None,
                    NormalizerArg::WhitespaceLowercase => Normalizer::WhitespaceLowercase,
                    NormalizerArg::Ccnet => Normalizer::Ccnet,
                },
                partitions: args.partitions,
                annotate: args.annotate,
                ..ExactConfig::default()
            };
            run_dedup(&ExactDedupStage::new(config)?, &args.io, quiet)
        }
        DedupCommand::Bff(args) => {
            let mut flags = json!({ "remove_type": args.remove_type, "annotate": args.annotate });
            let ngram_min = args.min_ngram_size.or(args.ngram);
            let ngram_max = args.max_ngram_size.or(args.ngram);
            for (key, value) in [
                ("min_ngram_size", ngram_min.map(|v| json!(v))),
                ("max_ngram_size", ngram_max.map(|v| json!(v))),
                ("threshold", args.threshold.map(|v| json!(v))),
                ("expected_ngram_count", args.expected_ngram_count.map(|v| json!(v))),
                ("fp_rate", args.fp_rate.map(|v| json!(v))),
            ] {
                if let Some(value) = value {
                    flags[key] = value;
                }
            }
            let config: BffConfig = args.set.config(flags)?;
            run_dedup(&BffStage::new(config)?, &args.io, quiet)
        }
        DedupCommand::Minhash(args) => {
            let mut flags = json!({ "annotate": args.annotate, "verify": args.verify_pairs });
            for (key, value) in [
                ("ngram", args.ngram.map(|v| json!(v))),
                ("threshold", args.threshold.map(|v| json!(v))),
                ("bands", args.bands.map(|v| json!(v))),
                ("rows", args.rows.map(|v| json!(v))),
            ] {
                if let Some(value) = value {
                    flags[key] = value;
                }
            }
            let config: MinhashConfig = args.set.config(flags)?;
            let params = config.lsh_params()?;
            if !args.io.job.json {
                println!(
                    "minhash: {} bands × {} rows = {} permutations; implied Jaccard threshold ≈ {:.3}",
                    params.bands,
                    params.rows,
                    params.bands * params.rows,
                    params.implied_threshold
                );
            }
            run_dedup(&MinhashStage::new(config)?, &args.io, quiet)
        }
        DedupCommand::Decontaminate(args) => {
            let mut flags = json!({ "tasks": args.tasks });
            if let Some(ngram) = args.ngram {
                flags["ngram"] = json!(ngram);
            }
            if let Some(mode) = &args.mode {
                flags["mode"] = json!(mode);
            }
            let config: DecontamConfig = args.set.config(flags)?;
            run_dedup(&MapStage(Box::new(DecontamStage::new(config)?)), &args.io, quiet)
        }
        DedupCommand::Sysreq(args) => {
            let (bytes, hashers, fp) = sysreq(args.expected_ngram_count, args.fp_rate);
            println!(
                "Bloom filter for {} n-grams at fp-rate {}: {} bytes ({:.1} MiB), {hashers} hashers, \
                 expected false-positive rate {fp:.3e} ({:.2} bytes of RAM per n-gram)",
                args.expected_ngram_count,
                args.fp_rate,
                bytes,
                bytes as f64 / (1 << 20) as f64,
                bytes as f64 / args.expected_ngram_count.max(1) as f64
            );
            Ok(())
        }
    }
}

fn run_dedup(stage: &dyn PhasedStage, io: &DedupIo, quiet: bool) -> Result<()> {
    let progress = BarProgress::new(quiet || io.job.json);
    let report = run_phased(stage, &io.input, &io.output, &io.job.options(io.format), &progress)
        .with_context(|| format!("{} into {} failed", stage.name(), io.output))?;
    crate::summary::print_stage_report(&report, io.job.json);
    Ok(())
}

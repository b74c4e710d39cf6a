//! `sluice dedup METHOD --input DOCS --output OUT`: one dedup method over any documents (as `sluice
//! filter` runs a filter chain); the same methods are recipe stages (`dedup:` with `method:`).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use sluice_core::format::Format;
use sluice_core::runner::{run_phased, PhasedStage};
use sluice_dedup::exact::{ExactConfig, ExactDedupStage, ExactKey, Normalizer};

use crate::cli::JobArgs;
use crate::progress::BarProgress;

#[derive(Debug, Subcommand)]
pub enum DedupCommand {
    /// Exact dedup by normalised text, URL, or of repeated lines; keeps the first occurrence in input
    /// order (sorted files, then document order).
    Exact(ExactArgs),
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
    }
}

fn run_dedup(stage: &dyn PhasedStage, io: &DedupIo, quiet: bool) -> Result<()> {
    let progress = BarProgress::new(quiet || io.job.json);
    let report = run_phased(stage, &io.input, &io.output, &io.job.options(io.format), &progress)
        .with_context(|| format!("{} into {} failed", stage.name(), io.output))?;
    crate::summary::print_stage_report(&report, io.job.json);
    Ok(())
}

//! `sluice quality`: train a fastText quality classifier, and find the score threshold for a top-k % cut.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use sluice_core::format::{read_all, Format};
use sluice_core::store::list_inputs;
use sluice_filters::quality::{top_fraction_threshold, train_classifier, TrainSettings};

#[derive(Debug, Subcommand)]
pub enum QualityCommand {
    /// Train a positive-vs-negative fastText classifier (DCLM's settings by default: wordNgrams 2, dim 100,
    /// lr 0.1, epoch 5, minCount 1; labels __label__hq / __label__cc).
    Train(TrainArgs),
    /// Print the score at or above which a given fraction of documents lie (for `quality_filter`).
    Threshold(ThresholdArgs),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Positive examples: document files or folders (Parquet/JSONL: one document per example) or .txt files
    /// (one example per line).
    #[arg(long, required = true, num_args = 1..)]
    pub positive: Vec<String>,
    /// Negative examples, in the same forms.
    #[arg(long, required = true, num_args = 1..)]
    pub negative: Vec<String>,
    /// Where to write the model (fastText .bin).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 5)]
    pub epoch: i32,
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    #[arg(long, default_value_t = 100)]
    pub dim: i32,
    #[arg(long, default_value_t = 2)]
    pub word_ngrams: i32,
    #[arg(long, default_value_t = 1)]
    pub min_count: i32,
    /// Hash buckets for word n-grams. fastText's (and DCLM's) 2,000,000 gives ~800 MB models at dim 100;
    /// small data sets do as well with far fewer.
    #[arg(long, default_value_t = 2_000_000)]
    pub bucket: i32,
    /// Training threads (1 = deterministic: the same inputs give the same model).
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
}

#[derive(Debug, Args)]
pub struct ThresholdArgs {
    /// Scored document files or folders.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// The attribute holding the score.
    #[arg(long, default_value = "fasttext_hq_prob")]
    pub key: String,
    /// The fraction of documents to keep (DCLM-Baseline kept about 0.1).
    #[arg(long)]
    pub keep_fraction: f64,
}

/// Texts of every example under `inputs`.
fn examples(inputs: &[String]) -> Result<Vec<String>> {
    let accept = |path: &str| Format::from_path(path).is_some() || path.ends_with(".txt");
    let mut texts = Vec::new();
    for (entry, relative) in list_inputs(inputs, accept)? {
        if relative.ends_with(".txt") {
            let bytes = entry.location.read_bytes()?;
            texts.extend(String::from_utf8_lossy(&bytes).lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
        } else {
            texts.extend(read_all(&entry.location)?.into_iter().map(|d| d.text));
        }
    }
    Ok(texts)
}

pub fn run(command: &QualityCommand) -> Result<()> {
    match command {
        QualityCommand::Train(args) => {
            let positives = examples(&args.positive).context("reading positive examples")?;
            let negatives = examples(&args.negative).context("reading negative examples")?;
            if positives.is_empty() || negatives.is_empty() {
                bail!("need positive and negative examples ({} and {} found)", positives.len(), negatives.len());
            }
            let settings = TrainSettings {
                lr: args.lr,
                dim: args.dim,
                epoch: args.epoch,
                min_count: args.min_count,
                word_ngrams: args.word_ngrams,
                bucket: args.bucket,
                threads: args.threads,
                ..TrainSettings::default()
            };
            train_classifier(&positives, &negatives, &settings, &args.out)
                .with_context(|| format!("training a classifier into {}", args.out.display()))?;
            println!(
                "trained on {} positive and {} negative examples → {}",
                positives.len(),
                negatives.len(),
                args.out.display()
            );
            Ok(())
        }
        QualityCommand::Threshold(args) => {
            let accept = |path: &str| Format::from_path(path).is_some();
            let mut scores = Vec::new();
            for (entry, _) in list_inputs(&args.inputs, accept)? {
                // Only the score's column is read (a typed attribute column in sluice's Parquet).
                let values = sluice_core::format::attribute_values(&entry.location, &args.key)?;
                scores.extend(values.iter().filter_map(|v| v.as_f64()));
            }
            let Some(threshold) = top_fraction_threshold(&mut scores, args.keep_fraction) else {
                bail!("no '{}' scores found (or --keep-fraction outside 0..1)", args.key);
            };
            println!("{threshold}");
            eprintln!(
                "{} scored documents; keeping score >= {threshold} keeps {:.1} %",
                scores.len(),
                100.0 * scores.iter().filter(|s| **s >= threshold).count() as f64 / scores.len() as f64
            );
            Ok(())
        }
    }
}

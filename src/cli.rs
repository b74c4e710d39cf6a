//! The command line: every flag is defined here, with its documentation (`--help` is the manual).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use sluice_core::format::Format;
use sluice_core::runner::{run_stage, RunOptions, ShardSpec};
use sluice_ingest::{ExtractorKind, IngestConfig, IngestStage};

use crate::progress::BarProgress;

/// sluice turns raw Common Crawl into LLM pretraining data: ingest WARC/WET, filter, dedup, mix,
/// tokenize — each stage a resumable, shardable batch job over local disk or s3://, gs://, az://.
#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version = env!("SLUICE_VERSION"),
    about = "Common Crawl → LLM pretraining data, DCLM-style: ingest WARC/WET into documents, filter them with \
             DCLM-Baseline's exact heuristics and fastText classifiers, deduplicate (BFF, exact, MinHash), mix, \
             and tokenize into shuffled OpenLM shards; build DCLM's evaluation prompts. Every stage is a \
             resumable, shardable batch job over local disk or s3://, gs://, az://.",
    long_about = None,
    after_help = "Exit status: 0 success; 1 an error outside the shards (I/O, store, model); 2 a usage or recipe \
                  error (nothing was run); 3 some shards failed (the rest are committed: rerun to retry); 4 every \
                  shard failed; 5 another process is writing the same output.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output (-v info, -vv debug). The SLUICE_LOG variable (e.g. `sluice_ingest=debug`) overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress bars and only errors in the log.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a recipe: a YAML file listing stages and their parameters (see recipes/).
    Run(RunArgs),
    /// Ingest WARC/WET files (or folders of them) into documents.
    Ingest(IngestArgs),
    /// Run a recipe's filter stages on any JSONL/Parquet documents (e.g. DCLM-Pool or dolma files).
    Filter(FilterArgs),
    /// Show the documents, schema or counts of a Parquet or JSONL shard (or a folder of shards).
    Inspect(crate::inspect::InspectArgs),
    /// Quality classifiers: train one, or find the threshold for a top-k % cut.
    #[command(subcommand)]
    Quality(crate::quality::QualityCommand),
    /// Deduplicate documents: exact (text, URL, lines), BFF (DCLM's), MinHash-LSH.
    #[command(subcommand)]
    Dedup(crate::dedup::DedupCommand),
    /// Tokenize documents into shuffled training shards: openlm (DCLM's WebDataset tars), bin (flat
    /// token arrays), or decomposed (power-of-two length buckets).
    Tokenize(crate::tokenize::TokenizeArgs),
    /// DCLM's evaluation: score a checkpoint on DCLM's tasks (`sluice eval --model CKPT --tasks core`),
    /// show a task's prompts as llm-foundry builds them, list a suite's tasks, rebuild missing task files.
    Eval(crate::eval::EvalArgs),
    /// Show what `sluice run RECIPE` would do, without doing it: each stage's inputs, tasks per worker,
    /// what is committed, what is stale and why.
    Plan(crate::plan::PlanArgs),
    /// SQL (DataFusion) over Parquet outputs: `sluice sql "SELECT …" --table docs=out/2-filter`.
    Sql(crate::sql::SqlArgs),
    /// List every filter step a recipe's `filter:` stage can use, with its parameters and defaults.
    Steps(crate::steps::StepsArgs),
    /// Merge and print the statistics of a stage output (`_stats.json` and every worker's `_stats/*.json`).
    Stats(crate::stats::StatsArgs),
    /// Write DCLM's leaderboard files (exp_data/{datasets/untokenized,datasets/tokenized,models,evals}) for
    /// an evaluated model from sluice's outputs, linked by uuid and checked against DCLM's field sets.
    Submission(crate::submission::SubmissionArgs),
}

/// Options every stage run takes.
#[derive(Debug, Clone, Args)]
pub struct JobArgs {
    /// Process only part i of N of the inputs (sorted, dealt round-robin), e.g. `--shard 3/16`.
    /// A Kubernetes Indexed Job passes `--shard $(JOB_COMPLETION_INDEX)/N`.
    #[arg(long, value_name = "i/N", default_value = "0/1")]
    pub shard: ShardSpec,
    /// Input shards processed at once (default: one per core). Output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Redo shards that are already committed instead of skipping them.
    #[arg(long)]
    pub no_resume: bool,
    /// Before reusing a committed shard, recompute its checksum (a full read) as well as its size.
    #[arg(long)]
    pub verify: bool,
    /// A smoke run: each shard stops after N input documents. Its outputs are marked as such and redone
    /// by a run without --limit.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Print each stage's statistics as one JSON line on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Run only this phase of a multi-phase stage (dedup, shuffle); the earlier phases must be complete.
    /// With --shard, run each phase across all workers before the next (a Kubernetes Indexed Job per phase).
    #[arg(long, value_name = "NAME")]
    pub phase: Option<String>,
    /// Read inputs written by a stage that has not committed all of its tasks (normally refused).
    #[arg(long)]
    pub allow_partial: bool,
}

impl JobArgs {
    pub fn options(&self, format: Format) -> RunOptions {
        RunOptions {
            shard: self.shard,
            threads: self.threads,
            format,
            resume: !self.no_resume,
            verify: self.verify,
            limit: self.limit,
            phase: self.phase.clone(),
            allow_partial: self.allow_partial,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The recipe file.
    pub recipe: PathBuf,
    /// Write under this location instead of the recipe's `output`.
    #[arg(long, value_name = "DIR|URL")]
    pub output: Option<String>,
    /// Run only this stage (its 1-based position in the recipe, or its name if unique). With --shard, run
    /// one stage at a time across all workers: a stage reads everything the previous one wrote.
    #[arg(long, value_name = "N|NAME")]
    pub stage: Option<String>,
    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// WARC/WET files or folders (paths or s3://, gs://, az:// URLs).
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Where to write the documents (a folder or URL prefix).
    #[arg(short, long, value_name = "DIR|URL")]
    pub output: String,
    /// HTML extractor: `article` (main content), `page` (all visible text) or `resiliparse` (DCLM-Pool's
    /// extractor: resiliparse's extract_plain_text(main_content=True)).
    #[arg(long, value_enum, default_value = "article")]
    pub extractor: ExtractorArg,
    /// Output format: parquet, jsonl, jsonl.gz or jsonl.zst.
    #[arg(long, default_value = "parquet")]
    pub format: Format,
    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// The recipe whose `filter` stages to run.
    pub recipe: PathBuf,
    /// Document files or folders (Parquet, JSONL, JSONL.gz, JSONL.zst; paths or URLs).
    #[arg(short, long, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Where to write the kept documents.
    #[arg(short, long, value_name = "DIR|URL")]
    pub output: String,
    /// Output format (default: the recipe's).
    #[arg(long)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExtractorArg {
    Article,
    Page,
    Resiliparse,
}

impl From<ExtractorArg> for ExtractorKind {
    fn from(arg: ExtractorArg) -> Self {
        match arg {
            ExtractorArg::Article => ExtractorKind::Article,
            ExtractorArg::Page => ExtractorKind::Page,
            ExtractorArg::Resiliparse => ExtractorKind::Resiliparse,
        }
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Run(args) => crate::recipe::run_recipe_file(&args, quiet),
        Command::Ingest(args) => {
            let config = IngestConfig { extractor: args.extractor.into(), ..IngestConfig::default() };
            let stage = IngestStage::new(config);
            let progress = BarProgress::new(quiet);
            let report = run_stage(&stage, &args.inputs, &args.output, &args.job.options(args.format), &progress)
                .with_context(|| format!("ingest into {} failed", args.output))?;
            crate::summary::print_stage_report(&report, args.job.json);
            Ok(())
        }
        Command::Filter(args) => {
            crate::recipe::run_filter_only(&args.recipe, &args.input, &args.output, &args.job, args.format, quiet)
        }
        Command::Inspect(args) => crate::inspect::inspect(&args),
        Command::Quality(command) => crate::quality::run(&command),
        Command::Plan(args) => crate::plan::plan(&args),
        Command::Dedup(command) => crate::dedup::run(&command, quiet),
        Command::Tokenize(args) => crate::tokenize::run(&args, quiet),
        Command::Eval(args) => crate::eval::run(&args, quiet),
        Command::Stats(args) => crate::stats::stats(&args),
        Command::Submission(args) => crate::submission::submission(&args),
        Command::Steps(args) => crate::steps::steps(&args),
        Command::Sql(args) => crate::sql::sql(&args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks a command's definition (duplicate flag names, conflicting ids) only when it parses in a
    /// debug build; this checks every subcommand at once, including ones no other test calls.
    #[test]
    fn every_command_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}

//! `sluice tokenize --input DOCS --output OUT`: documents to token shards (OpenLM/DCLM WebDataset tars,
//! flat binary token files, or a dataset decomposition), as the recipe stage `tokenize:` does.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use sluice_core::format::Format;
use sluice_core::runner::{run_phased, PhasedStage};
use sluice_tokenize::{summarize, write_dataset_json, TokenizeConfig, TokenizeStage};

use crate::cli::JobArgs;
use crate::dedup::SetArgs;
use crate::progress::BarProgress;

#[derive(Debug, Args)]
pub struct TokenizeArgs {
    /// Document files or folders (Parquet, JSONL, JSONL.gz, JSONL.zst; paths or URLs).
    #[arg(short, long, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Where to write the token shards.
    #[arg(short, long, value_name = "DIR|URL")]
    pub output: String,
    /// openlm (DCLM's WebDataset tars of gzipped JSON contexts), bin (flat u16/u32 tokens + index), or
    /// decomposed (power-of-two length buckets, dataset decomposition).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// A HF tokenizer.json (path or URL). Default: the bundled GPT-NeoX-20B tokenizer (DCLM's).
    #[arg(long, value_name = "FILE|URL")]
    pub tokenizer: Option<String>,
    /// Tokens per context (openlm): 2049 = 2048 inputs + the shifted target.
    #[arg(long)]
    pub seqlen: Option<usize>,
    /// Seed of every random choice (shuffle cells, shuffles, decomposition cuts).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Keep contexts in input order instead of shuffling them globally.
    #[arg(long)]
    pub no_shuffle: bool,
    /// The `name` of the DCLM dataset JSON written as `<output>/dataset.json` (default: the output's last
    /// path component).
    #[arg(long, value_name = "NAME")]
    pub dataset_name: Option<String>,
    #[command(flatten)]
    pub set: SetArgs,
    #[command(flatten)]
    pub job: JobArgs,
}

impl TokenizeArgs {
    /// The stage's configuration: the flags given, then every `--set`.
    fn config(&self) -> Result<TokenizeConfig> {
        let mut flags = json!({});
        for (key, value) in [
            ("format", self.format.as_ref().map(|v| json!(v))),
            ("tokenizer", self.tokenizer.as_ref().map(|v| json!(v))),
            ("seqlen", self.seqlen.map(|v| json!(v))),
            ("seed", self.seed.map(|v| json!(v))),
            ("shuffle", self.no_shuffle.then(|| json!(false))),
        ] {
            if let Some(value) = value {
                flags[key] = value;
            }
        }
        self.set.config(flags)
    }
}

pub fn run(args: &TokenizeArgs, quiet: bool) -> Result<()> {
    let stage = TokenizeStage::new(args.config()?)?;
    let progress = BarProgress::new(quiet || args.job.json);
    // Token shards are not documents: the format option only names what the runner's bookkeeping expects.
    let report = run_phased(&stage, &args.input, &args.output, &args.job.options(Format::Parquet), &progress)
        .with_context(|| format!("{} into {} failed", stage.name(), args.output))?;
    crate::summary::print_stage_report(&report, args.job.json);
    finish(&args.output, args.dataset_name.as_deref(), args.job.json)
}

/// After a run: what the output holds and DCLM's dataset JSON, once every task is committed (a worker of
/// a sharded run, or a run of one phase, may finish before the others).
pub fn finish(output: &str, dataset_name: Option<&str>, json: bool) -> Result<()> {
    match summarize(output) {
        Ok(summary) => {
            write_dataset_json(output, dataset_name).with_context(|| format!("writing {output}/dataset.json"))?;
            if !json {
                println!("{}", summary.to_string().trim_end());
                println!("DCLM dataset JSON: {}/dataset.json", output.trim_end_matches('/'));
            }
        }
        Err(error) if !json => println!("tokenize output not complete yet (other workers or phases): {error}"),
        Err(_) => {}
    }
    Ok(())
}

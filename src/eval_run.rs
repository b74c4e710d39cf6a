//! `sluice eval --model CKPT --tasks SUITE`: scores a checkpoint on DCLM's tasks, prints a table and writes
//! DCLM's evaluation JSON; `sluice eval init-model` writes a seeded model for smoke runs and benchmarks.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sluice_core::provenance::creation_date;
use sluice_eval_harness::aggregate::{aggregate, AggregationGroups, EvalMetadata, EvalVersion};
use sluice_eval_harness::evaluate::{plan, run, SuiteResults};
use sluice_eval_harness::leaderboard::evaluation_json;
use sluice_eval_harness::model::{seeded_model, DType, Device, OpenLm, OpenLmConfig, StateDict};
use sluice_eval_harness::score::DEFAULT_BATCH_TOKENS;
use sluice_eval_harness::task::Suite;

/// Scoring a checkpoint (`sluice eval --model CKPT …`).
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The checkpoint: OpenLM's `epoch_N.pt` (as `save_checkpoint` writes it) or safetensors.
    #[arg(long, value_name = "CKPT", required = true)]
    pub model: Option<PathBuf>,
    /// The model's shape: a preset (411m, 1b, 3b, 7b, tiny, micro) or OpenLM's model JSON. Default: the
    /// preset whose tensor shapes the checkpoint has.
    #[arg(long, value_name = "PRESET|FILE")]
    pub config: Option<String>,
    /// The suite: core (= DCLM's mmlu_and_lowvar: the 22 Core tasks and MMLU 5-shot), extended (= heavy, all
    /// 53 tasks), medium, light, or a DCLM eval YAML file.
    #[arg(long, value_name = "SUITE|FILE", default_value = "core")]
    pub tasks: String,
    /// The directory that holds llm-foundry's `local_data/` (task files are found by their `dataset_uri`).
    /// Tasks whose file is absent are reported as missing, and the aggregates they feed say N/A.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub data: PathBuf,
    /// A HF tokenizer.json. Default: the bundled GPT-NeoX-20B tokenizer (DCLM's evaluation tokenizer).
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// Write DCLM's evaluation JSON (`exp_data/evals/evaluation_<model>_<suite>.json`) here.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The model's name in the JSON. Default: the checkpoint's folder and file name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The model reference this evaluates (`model_uuid`): its uuid, or the path of its JSON.
    #[arg(long, value_name = "UUID|FILE")]
    pub model_uuid: Option<String>,
    /// Centre the accuracies with DCLM's v2 (current) or v1 random baselines.
    #[arg(long, value_name = "v1|v2", default_value = "v2")]
    pub eval_version: String,
    /// Tokens per forward pass (batch × padded length); sequences are sorted by length and batched up to it.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH_TOKENS)]
    pub batch_tokens: usize,
    /// Score only the first N examples of each evaluator: a smoke run (its numbers are not DCLM's).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Where to run: cpu, or cuda (a build with `--features cuda`).
    #[arg(long, value_name = "cpu|cuda", default_value = "cpu")]
    pub device: String,
    /// Print the evaluation JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `sluice eval init-model`.
#[derive(Debug, Args)]
pub struct InitModelArgs {
    /// A preset (tiny, micro, 411m, …) or OpenLM's model JSON.
    #[arg(long, value_name = "PRESET|FILE", default_value = "micro")]
    pub config: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The safetensors file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn init_model(args: &InitModelArgs) -> Result<()> {
    let cfg = config_from(&args.config)?;
    let model = seeded_model(&cfg, args.seed, DType::F32, &Device::Cpu)?;
    model.save_safetensors(&args.output)?;
    println!(
        "{}: OpenLM {} (d {}, {} layers, {} heads, {} parameters), seed {}",
        args.output.display(),
        args.config,
        cfg.hidden_dim,
        cfg.n_layers,
        cfg.n_heads,
        sluice_eval_harness::model::parameter_count(&cfg),
        args.seed
    );
    Ok(())
}

/// A preset name or a model JSON file.
fn config_from(spec: &str) -> Result<OpenLmConfig> {
    let path = Path::new(spec);
    if path.is_file() {
        return Ok(OpenLmConfig::from_json_file(path)?);
    }
    Ok(OpenLmConfig::preset(spec)?)
}

pub fn score(args: &ScoreArgs, quiet: bool) -> Result<()> {
    let Some(checkpoint) = &args.model else { bail!("--model CKPT is required") };
    let version = match args.eval_version.as_str() {
        "v1" => EvalVersion::V1,
        "v2" => EvalVersion::V2,
        other => bail!("--eval-version {other}: expected v1 or v2"),
    };
    let model_uuid = model_uuid(args.model_uuid.as_deref())?;
    let suite = Suite::load(&args.tasks)?;
    let model = load_model(checkpoint, args.config.as_deref(), &args.device)?;
    let tokenizer = crate::eval::load_tokenizer(args.tokenizer.as_deref())?;
    let plan = plan(&suite, &args.data, &tokenizer, args.limit)?;
    for missing in &plan.missing {
        tracing::warn!("task {} is missing: no file {}", missing.label, missing.path.display());
    }
    if plan.evaluators.is_empty() {
        bail!(
            "no task of suite {} has its data under {} (point --data at the folder that holds local_data/)",
            suite.name,
            args.data.display()
        );
    }

    let bar = progress_bar(plan.tokens() as u64, quiet);
    let started = Instant::now();
    let results = run(&plan, &model, &tokenizer, args.batch_tokens, &mut |label, tokens| {
        bar.set_message(label.to_owned());
        bar.inc(tokens as u64);
    })?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    let metadata = EvalMetadata::bundled(version)?;
    let aggregated = aggregate(&results.icl, &metadata, &AggregationGroups::bundled()?, version);
    let name = args.name.clone().unwrap_or_else(|| model_name(checkpoint));
    let reference =
        evaluation_json(&results, &aggregated, &name, model_uuid.as_deref(), &creation_date(SystemTime::now()));
    if let Some(output) = &args.output {
        write_json(output, &reference)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reference)?);
    } else {
        print_table(&results, &metadata, &reference, seconds, plan.tokens());
        if let Some(output) = &args.output {
            println!("evaluation JSON: {}", output.display());
        }
    }
    Ok(())
}

/// `--model-uuid`: a uuid, or the model reference JSON whose `uuid` it is.
fn model_uuid(arg: Option<&str>) -> Result<Option<String>> {
    let Some(arg) = arg else { return Ok(None) };
    let path = Path::new(arg);
    if !path.is_file() {
        return Ok(Some(arg.to_owned()));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    match value.get("uuid").and_then(serde_json::Value::as_str) {
        Some(id) => Ok(Some(id.to_owned())),
        None => bail!("{}: a model reference needs a string `uuid`", path.display()),
    }
}

/// Reads the checkpoint, works out its config and builds the model in f32 (DCLM evaluates in fp32).
fn load_model(checkpoint: &Path, config: Option<&str>, device: &str) -> Result<OpenLm> {
    let device = match device {
        "cpu" => Device::Cpu,
        "cuda" => Device::new_cuda(0).context("--device cuda (sluice must be built with `--features cuda`)")?,
        other => bail!("--device {other}: expected cpu or cuda"),
    };
    let state = StateDict::read(checkpoint)?;
    let cfg = checkpoint_config(checkpoint, &state, config)?;
    Ok(OpenLm::from_state_dict(&cfg, &state, DType::F32, &device)?)
}

/// The architecture of a checkpoint: `config` (a preset name or OpenLM's model JSON) when given, else the
/// one preset its tensor shapes match.
pub fn checkpoint_config(checkpoint: &Path, state: &StateDict, config: Option<&str>) -> Result<OpenLmConfig> {
    match config {
        Some(spec) => config_from(spec),
        None => match state.matching_preset() {
            Some((name, cfg)) => {
                tracing::info!("{}: the {name} preset's shapes", checkpoint.display());
                Ok(cfg)
            }
            None => bail!(
                "{}: its tensor shapes match no preset; pass --config with OpenLM's model JSON",
                checkpoint.display()
            ),
        },
    }
}

/// `run/checkpoints/epoch_5.pt` → `checkpoints-epoch_5`.
fn model_name(checkpoint: &Path) -> String {
    let stem = checkpoint.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match checkpoint.parent().and_then(Path::file_name) {
        Some(parent) => format!("{}-{stem}", parent.to_string_lossy()),
        None => stem,
    }
}

fn progress_bar(total_tokens: u64, quiet: bool) -> ProgressBar {
    let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
    let bar = ProgressBar::with_draw_target(Some(total_tokens), target);
    bar.set_style(
        ProgressStyle::with_template("    eval [{bar:30}] {human_pos}/{human_len} tokens {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value)?).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Per task: examples, accuracy and centered accuracy; then Core, Extended, MMLU and throughput.
fn print_table(
    results: &SuiteResults,
    metadata: &EvalMetadata,
    reference: &serde_json::Value,
    seconds: f64,
    tokens: usize,
) {
    println!("{:<36} {:>8} {:>9} {:>9}", "task", "examples", "accuracy", "centered");
    for (task, accuracy) in &results.icl {
        let examples: usize = results.evaluators.iter().filter(|e| &e.task == task).map(|e| e.examples).sum();
        let centered = metadata
            .rows()
            .iter()
            .find(|row| &row.task == task)
            .map(|row| sluice_eval_harness::aggregate::centered_accuracy(*accuracy, row.random_baseline));
        let centered = centered.map_or_else(|| "-".to_owned(), |c| format!("{c:.4}"));
        println!("{task:<36} {examples:>8} {accuracy:>9.4} {centered:>9}");
    }
    for missing in &results.missing {
        println!("{:<36} {:>8} {:>9} {:>9}", missing.label, "MISSING", "-", "-");
    }
    let headline = |key: &str| match reference.get(key) {
        Some(serde_json::Value::Number(n)) => format!("{:.4}", n.as_f64().unwrap_or(f64::NAN)),
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => "-".to_owned(),
    };
    let mmlu = results.icl.iter().find(|(t, _)| t == "mmlu_fewshot").map(|(_, a)| format!("{a:.4}"));
    println!("Core {}", headline("Core"));
    println!("Extended {}", headline("Extended"));
    println!("MMLU (5-shot) {}", mmlu.unwrap_or_else(|| "-".to_owned()));
    let examples: usize = results.evaluators.iter().map(|e| e.examples).sum();
    println!(
        "{examples} examples, {tokens} tokens in {seconds:.1} s ({:.1} examples/s, {:.0} tokens/s)",
        examples as f64 / seconds.max(1e-9),
        tokens as f64 / seconds.max(1e-9)
    );
}

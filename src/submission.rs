//! `sluice submission`: DCLM's leaderboard reference files (`exp_data/…`, DCLM_SPEC §7) from sluice's own
//! outputs — the curated documents and their statistics, the tokenize output, the checkpoint and the
//! evaluation JSON — linked by uuid and checked against DCLM's field sets before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use sluice_core::provenance::{content_hash, creation_date};
use sluice_core::store::Location;
use sluice_eval_harness::leaderboard::{
    link_evaluation, linkage_problems, model_json, problems, tokenized_json, untokenized_json, Reference, TrainedModel,
    UntokenizedDataset,
};
use sluice_eval_harness::model::{OpenLmConfig, StateDict};
use sluice_eval_harness::scale::{custom_hyperparameters, TrainingScale};

#[derive(Debug, Args)]
pub struct SubmissionArgs {
    /// The curated documents the model trained on (a stage output, with its `_stats.json`).
    #[arg(long, value_name = "DIR")]
    pub documents: String,
    /// The tokenize output made from them (holds `dataset.json` and the manifest).
    #[arg(long, value_name = "DIR")]
    pub tokenized: String,
    /// The trained checkpoint (OpenLM `.pt` or safetensors).
    #[arg(long, value_name = "CKPT")]
    pub model: PathBuf,
    /// The checkpoint's architecture: a preset name or OpenLM's model JSON (default: from its shapes).
    #[arg(long)]
    pub config: Option<String>,
    /// The DCLM scale it was trained at: 411m_1x, 1b_1x, 3b_1x, 7b_1x or 7b_2x (default: the 1x scale of the
    /// checkpoint's shapes; other shapes get the architecture's fields and null training fields).
    #[arg(long)]
    pub scale: Option<String>,
    /// The evaluation JSON `sluice eval --output` wrote for this checkpoint.
    #[arg(long, value_name = "FILE")]
    pub eval: PathBuf,
    /// The recipe that made the documents (recorded in the untokenized dataset's `sluice` field).
    #[arg(long, value_name = "FILE")]
    pub recipe: Option<PathBuf>,
    /// The dataset's name (default: the tokenized dataset.json's).
    #[arg(long)]
    pub name: Option<String>,
    /// Where the checkpoint is published (default: its path here).
    #[arg(long)]
    pub checkpoint_url: Option<String>,
    /// The `exp_data` folder to write into.
    #[arg(short, long, default_value = "exp_data")]
    pub output: PathBuf,
}

/// The four references of one submission.
struct Submission {
    untokenized: Value,
    tokenized: Value,
    model: Value,
    evaluation: Value,
}

pub fn submission(args: &SubmissionArgs) -> Result<()> {
    let date = creation_date(SystemTime::now());
    let tokenized_root = Location::parse(&args.tokenized)?;
    let dataset = read_json_at(&tokenized_root.join("dataset.json"))
        .with_context(|| format!("{}: not a finished tokenize output", args.tokenized))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => dataset.get("name").and_then(Value::as_str).unwrap_or("dataset").to_owned(),
    };
    let untokenized = untokenized_json(&documents(args, &name)?, &date);
    let mut dataset = dataset;
    dataset["name"] = name.clone().into();
    let tokenized = tokenized_json(&dataset, &untokenized, &manifest_hash(&tokenized_root, &dataset)?, &date);
    let model = model_json(&trained_model(args, &name, &dataset)?, &tokenized, &date);
    let mut evaluation = read_json(&args.eval)?;
    link_evaluation(&mut evaluation, &model);
    let submission = Submission { untokenized, tokenized, model, evaluation };
    check(&submission)?;
    for (kind, value, file) in submission.files() {
        let path = args.output.join(kind.directory()).join(file);
        crate::eval_run::write_json(&path, value)?;
        println!("{:<20} {}", kind.name(), path.display());
    }
    Ok(())
}

impl Submission {
    /// Each reference with its kind and DCLM's file name.
    fn files(&self) -> [(Reference, &Value, String); 4] {
        let name = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().replace('/', "_");
        let suite = name(&self.evaluation, "name").trim_start_matches("eval_").to_owned();
        [
            (Reference::Untokenized, &self.untokenized, format!("{}.json", name(&self.untokenized, "name"))),
            (Reference::Tokenized, &self.tokenized, format!("{}.json", name(&self.tokenized, "name"))),
            (Reference::Model, &self.model, format!("{}.json", name(&self.model, "name"))),
            (Reference::Evaluation, &self.evaluation, format!("evaluation_{}_{suite}.json", name(&self.model, "name"))),
        ]
    }
}

/// Every field-set and linkage problem of the four files; an error listing them all if there is one.
fn check(s: &Submission) -> Result<()> {
    let mut found: Vec<String> = Vec::new();
    for (kind, value, _) in s.files() {
        found.extend(problems(kind, value).into_iter().map(|p| format!("{}: {p}", kind.name())));
    }
    found.extend(linkage_problems(&s.evaluation, &s.model, &s.tokenized, &s.untokenized));
    if !found.is_empty() {
        bail!("the submission files would not be valid:\n  {}", found.join("\n  "));
    }
    Ok(())
}

/// The curated documents: their size and format from the shards, their counts from the stage statistics.
fn documents(args: &SubmissionArgs, name: &str) -> Result<UntokenizedDataset> {
    let root = Location::parse(&args.documents)?;
    let (_, stats) = crate::stats::merged_stats(&root)?;
    let mut size = 0;
    let mut formats: BTreeMap<String, u64> = BTreeMap::new();
    for entry in root.list_objects()? {
        let relative = entry.location.relative_to(&root);
        if relative.split('/').any(|part| part.starts_with('_') || part.starts_with('.')) {
            continue;
        }
        size += entry.size;
        *formats.entry(data_key(&relative)).or_default() += 1;
    }
    let Some((data_key, _)) = formats.into_iter().max_by_key(|(_, n)| *n) else {
        bail!("{}: no document shards", args.documents)
    };
    let summary = sluice_tokenize::summarize(&args.tokenized)?;
    let recipe = match &args.recipe {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
        None => None,
    };
    let totals = &stats.totals;
    Ok(UntokenizedDataset {
        name: name.to_owned(),
        url: root.to_string(),
        size,
        num_tokens: Some(summary.document_tokens),
        data_key,
        provenance: json!({
            "stage": stats.stage,
            "documents": totals.docs_out,
            "documents_in": totals.docs_in,
            "drops": totals.drops,
            "recipe": recipe,
        }),
    })
}

/// `part-00000.parquet` → `parquet`, `x.jsonl.zst` → `jsonl.zst`.
fn data_key(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    match base.split_once('.') {
        Some((_, ext)) => ext.to_owned(),
        None => String::new(),
    }
}

/// The content hash of the manifests the tokenized reference points at (one, or each bucket's in order).
fn manifest_hash(root: &Location, dataset: &Value) -> Result<String> {
    let mut urls: Vec<&str> = dataset.get("manifest_url").and_then(Value::as_str).into_iter().collect();
    if let Some(buckets) = dataset.get("buckets").and_then(Value::as_array) {
        urls.extend(buckets.iter().filter_map(|b| b.get("manifest_url").and_then(Value::as_str)));
    }
    if urls.is_empty() {
        bail!("{root}/dataset.json names no manifest");
    }
    // The URLs start with the output's URL as the tokenize run named it (perhaps relative to another
    // folder): read them under `root`.
    let base = dataset.get("dataset_url").and_then(Value::as_str).unwrap_or_default();
    let mut bytes = Vec::new();
    for url in urls {
        let location = match url.strip_prefix(base).filter(|_| !base.is_empty()) {
            Some(relative) => root.join(relative),
            None => Location::parse(url)?,
        };
        bytes.extend_from_slice(&location.read_bytes().with_context(|| format!("reading {location}"))?);
    }
    Ok(content_hash(&bytes))
}

/// The model reference's training facts: DCLM's recipe for the checkpoint's scale.
fn trained_model(args: &SubmissionArgs, dataset_name: &str, dataset: &Value) -> Result<TrainedModel> {
    let state = StateDict::read(&args.model)?;
    let config = crate::eval_run::checkpoint_config(&args.model, &state, args.config.as_deref())?;
    let scale = match &args.scale {
        Some(wanted) => {
            let Some(scale) = TrainingScale::by_name(wanted) else {
                bail!("--scale {wanted}: expected 411m_1x, 1b_1x, 3b_1x, 7b_1x or 7b_2x")
            };
            if scale.config() != config {
                bail!("{}: its architecture is not {}'s ({})", args.model.display(), scale.name, scale.model_config);
            }
            Some(scale)
        }
        None => TrainingScale::for_config(&config),
    };
    let checkpoint_url = match &args.checkpoint_url {
        Some(url) => url.clone(),
        None => absolute(&args.model).display().to_string(),
    };
    let manifest = dataset.get("manifest_url").and_then(Value::as_str).unwrap_or_default();
    let data_key = dataset.get("data_key").and_then(Value::as_str).unwrap_or("json.gz");
    Ok(match scale {
        Some(scale) => {
            let name = scale.model_name(dataset_name);
            TrainedModel {
                hyperparameters: scale.hyperparameters(),
                open_lm_args: scale.open_lm_args(&name, manifest, data_key),
                name,
                checkpoint_url,
                params_url: None,
            }
        }
        None => {
            let label = custom_label(args, &state, &config);
            eprintln!(
                "note: {} is not one of DCLM's competition scales; the model reference records its architecture \
                 with null training fields (the leaderboard takes 411m_1x … 7b_2x)",
                args.model.display()
            );
            TrainedModel {
                name: format!("{dataset_name}-{label}"),
                hyperparameters: custom_hyperparameters(&config, &label),
                checkpoint_url,
                open_lm_args: Vec::new(),
                params_url: None,
            }
        }
    })
}

/// A name for an architecture outside DCLM's scales: its preset, or its config file's stem.
fn custom_label(args: &SubmissionArgs, state: &StateDict, config: &OpenLmConfig) -> String {
    if let Some((preset, _)) = state.matching_preset().filter(|(_, c)| c == config) {
        return format!("sluice_{preset}");
    }
    let spec = args.config.as_deref().unwrap_or("custom");
    Path::new(spec).file_stem().map_or_else(|| spec.to_owned(), |s| s.to_string_lossy().into_owned())
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", path.display()))
}

fn read_json_at(location: &Location) -> Result<Value> {
    let bytes = location.read_bytes()?;
    serde_json::from_slice(&bytes).with_context(|| format!("{location}: not JSON"))
}

//! DCLM's leaderboard reference files (`exp_data/…`, DCLM_SPEC §7): the evaluation, model, tokenized and
//! untokenized dataset JSONs, DCLM's field sets, and the uuid links between them (evaluation → `model_uuid` →
//! model → `dataset_uuid` → tokenized dataset → `sources[].uuid` → untokenized dataset).
//!
//! DCLM gives every reference a fresh `uuid4`; sluice derives each uuid from the content it describes
//! ([`derived_uuid`]), so rerunning on the same outputs writes the same files, and different outputs never
//! share an id.

use serde_json::{json, Map, Value};
use sluice_core::provenance::derived_uuid;

use crate::aggregate::AggregatedResults;
use crate::evaluate::SuiteResults;

/// A kind of reference file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    Untokenized,
    Tokenized,
    Model,
    Evaluation,
}

impl Reference {
    /// The fields DCLM's files of this kind have (the producers of DCLM_SPEC §7).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Reference::Untokenized => &[
                "uuid",
                "name",
                "creation_date",
                "dataset_url",
                "manifest_url",
                "sources",
                "tokenized",
                "tokenizer",
                "num_tokens",
                "size",
                "dcnlp_commit_hash",
                "dcnlp_diff",
                "data_key",
            ],
            Reference::Tokenized => &[
                "uuid",
                "name",
                "creation_date",
                "dataset_url",
                "manifest_url",
                "sources",
                "tokenized",
                "tokenizer",
                "num_tokens",
                "size",
                "dcnlp_commit_hash",
                "dcnlp_diff",
                "data_key",
                "sampling_yaml",
                "note",
                "mirrors",
            ],
            Reference::Model => &[
                "uuid",
                "name",
                "creation_date",
                "dataset_name",
                "dataset_uuid",
                "hyperparameters",
                "checkpoint_url",
                "open_lm_version",
                "open_lm_args",
                "results",
                "params_url",
                "failed",
                "error",
            ],
            Reference::Evaluation => &[
                "uuid",
                "model",
                "creation_date",
                "name",
                "eval_metrics",
                "missing tasks",
                "aggregated_task_categories_centered",
                "aggregated_centered_results",
                "aggregated_results",
                "Core",
                "Extended",
                "eval_version",
                "model_uuid",
            ],
        }
    }

    /// Where DCLM keeps files of this kind, under `exp_data/`.
    pub fn directory(self) -> &'static str {
        match self {
            Reference::Untokenized => "datasets/untokenized",
            Reference::Tokenized => "datasets/tokenized",
            Reference::Model => "models",
            Reference::Evaluation => "evals",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Reference::Untokenized => "untokenized dataset",
            Reference::Tokenized => "tokenized dataset",
            Reference::Model => "model",
            Reference::Evaluation => "evaluation",
        }
    }
}

/// The `hyperparameters` fields of a model reference (`training/train.py`).
pub const HYPERPARAMETER_FIELDS: &[&str] = &[
    "model",
    "tokens",
    "warmup",
    "lr",
    "wd",
    "cd",
    "global_bs",
    "acc",
    "qk_norm",
    "z_loss",
    "grad_checkpointing",
    "params",
    "params_no_embed",
    "fsdp_flags",
    "chinchilla_multiplier",
    "seed",
    "vocab_size",
    "norm",
];

/// Every problem of one reference file: missing fields, a malformed uuid, wrong types of the fields the
/// leaderboard reads. Empty when the file is valid.
pub fn problems(kind: Reference, value: &Value) -> Vec<String> {
    let Some(object) = value.as_object() else {
        return vec![format!("the {} reference is not a JSON object", kind.name())];
    };
    let mut out: Vec<String> =
        kind.fields().iter().filter(|f| !object.contains_key(**f)).map(|f| format!("missing field `{f}`")).collect();
    for field in ["uuid", "model_uuid", "dataset_uuid"] {
        if let Some(id) = object.get(field) {
            if !is_uuid(id) {
                out.push(format!("`{field}` is not a uuid: {id}"));
            }
        }
    }
    match kind {
        Reference::Model => match object.get("hyperparameters").and_then(Value::as_object) {
            Some(h) => out.extend(
                HYPERPARAMETER_FIELDS
                    .iter()
                    .filter(|f| !h.contains_key(**f))
                    .map(|f| format!("missing field `hyperparameters.{f}`")),
            ),
            None if object.contains_key("hyperparameters") => out.push("`hyperparameters` is not an object".into()),
            None => {}
        },
        Reference::Evaluation => {
            if object.get("eval_metrics").and_then(|m| m.get("icl")).and_then(Value::as_object).is_none() {
                out.push("`eval_metrics.icl` is not an object of task accuracies".into());
            }
        }
        Reference::Tokenized | Reference::Untokenized => {
            let sources_ok = object
                .get("sources")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().all(|e| e.get("uuid").is_some_and(is_uuid) && e.get("name").is_some()));
            if object.contains_key("sources") && !sources_ok {
                out.push("`sources` is not a list of {uuid, name}".into());
            }
        }
    }
    out
}

/// `8-4-4-4-12` lower-case hex.
fn is_uuid(value: &Value) -> bool {
    let Some(text) = value.as_str() else { return false };
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// Problems with the links between the four references (each must point at the next one's uuid and name).
pub fn linkage_problems(evaluation: &Value, model: &Value, tokenized: &Value, untokenized: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut expect = |what: &str, got: Option<&Value>, want: Option<&Value>| {
        if got.is_none() || got != want {
            out.push(format!("{what}: {} ≠ {}", show(got), show(want)));
        }
    };
    expect("evaluation.model_uuid vs model.uuid", evaluation.get("model_uuid"), model.get("uuid"));
    expect("model.dataset_uuid vs tokenized.uuid", model.get("dataset_uuid"), tokenized.get("uuid"));
    expect("model.dataset_name vs tokenized.name", model.get("dataset_name"), tokenized.get("name"));
    let source_ok = tokenized
        .get("sources")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|e| e.get("uuid") == untokenized.get("uuid")));
    if !source_ok {
        out.push(format!("tokenized.sources does not name the untokenized dataset {}", show(untokenized.get("uuid"))));
    }
    out
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

/// Sets `uuid` (in place, keeping the field order) to the id derived from the rest of the object
/// (`creation_date` excluded, so a rerun on the same outputs gets the same id).
pub fn assign_uuid(reference: &mut Map<String, Value>) {
    let mut content = reference.clone();
    content.remove("uuid");
    content.remove("creation_date");
    let id = derived_uuid(Value::Object(content).to_string().as_bytes());
    reference.insert("uuid".into(), Value::String(id));
}

/// What sluice knows about the curated (untokenized) documents a submission trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct UntokenizedDataset {
    pub name: String,
    /// Where the documents are (a folder or object-store prefix).
    pub url: String,
    /// Bytes of the document shards.
    pub size: u64,
    /// Tokens of the documents' text, where a tokenized copy counted them.
    pub num_tokens: Option<u64>,
    /// DCLM's `data_key`: the shards' format (`parquet`, `jsonl.zst`, …).
    pub data_key: String,
    /// sluice's own record (recipe, stage statistics), under the `sluice` key.
    pub provenance: Value,
}

/// DCLM's untokenized dataset reference (`exp_data/datasets/untokenized/<name>.json`).
pub fn untokenized_json(dataset: &UntokenizedDataset, creation_date: &str) -> Value {
    let mut reference = json!({
        "uuid": null,
        "name": dataset.name,
        "creation_date": creation_date,
        "dataset_url": dataset.url,
        "manifest_url": null,
        "sources": [],
        "tokenized": false,
        "tokenizer": null,
        "num_tokens": dataset.num_tokens,
        "size": dataset.size,
        "dcnlp_commit_hash": "",
        "dcnlp_diff": "",
        "data_key": dataset.data_key,
        "sluice": dataset.provenance,
    });
    assign_uuid(object(&mut reference));
    reference
}

/// DCLM's tokenized dataset reference from the `dataset.json` sluice's tokenize stage wrote: DCLM's fields
/// in DCLM's order, `sources` naming the untokenized dataset, and `manifest_hash` (the content hash of the
/// manifest the references point at, which DCLM does not record). The uuid stays the one the tokenize stage
/// derived from its manifest, so a model trained from `dataset.json` links to the same id.
pub fn tokenized_json(dataset: &Value, untokenized: &Value, manifest_hash: &str, creation_date: &str) -> Value {
    let field = |key: &str| dataset.get(key).cloned().unwrap_or(Value::Null);
    let mut reference = json!({
        "uuid": field("uuid"),
        "name": field("name"),
        "creation_date": creation_date,
        "dataset_url": field("dataset_url"),
        "manifest_url": field("manifest_url"),
        "sources": [{"uuid": untokenized.get("uuid"), "name": untokenized.get("name")}],
        "tokenized": true,
        "tokenizer": field("tokenizer"),
        "num_tokens": field("num_tokens"),
        "size": field("size"),
        "dcnlp_commit_hash": "",
        "dcnlp_diff": "",
        "data_key": field("data_key"),
        "sampling_yaml": field("sampling_yaml"),
        "note": "written by sluice",
        "mirrors": [],
        "manifest_hash": manifest_hash,
    });
    let fields = object(&mut reference);
    for extra in ["format", "num_sequences", "buckets"] {
        if let Some(value) = dataset.get(extra) {
            fields.insert(extra.into(), value.clone());
        }
    }
    reference
}

/// The parts of a model reference that come from the training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedModel {
    pub name: String,
    pub hyperparameters: Value,
    pub checkpoint_url: String,
    pub open_lm_args: Vec<String>,
    /// The run's parameters file (OpenLM's `params.txt`), when there is one.
    pub params_url: Option<String>,
}

/// DCLM's model reference (`exp_data/models/<name>.json`, as `training/train.py` writes it) for a model
/// trained on the `tokenized` dataset.
pub fn model_json(model: &TrainedModel, tokenized: &Value, creation_date: &str) -> Value {
    let mut reference = json!({
        "name": model.name,
        "dataset_name": tokenized.get("name"),
        "dataset_uuid": tokenized.get("uuid"),
        "hyperparameters": model.hyperparameters,
        "checkpoint_url": model.checkpoint_url,
        "open_lm_version": "0.0.34",
        "open_lm_args": model.open_lm_args,
        "results": [],
        "params_url": model.params_url,
        "uuid": null,
        "creation_date": creation_date,
        "failed": false,
        "error": "",
    });
    assign_uuid(object(&mut reference));
    reference
}

/// Points an evaluation reference at `model` (`model`, `model_uuid`, as DCLM's `eval_expdb.py` does) and
/// derives its uuid again.
pub fn link_evaluation(evaluation: &mut Value, model: &Value) {
    let Some(fields) = evaluation.as_object_mut() else { return };
    fields.insert("model".into(), model.get("name").cloned().unwrap_or(Value::Null));
    fields.insert("model_uuid".into(), model.get("uuid").cloned().unwrap_or(Value::Null));
    assign_uuid(fields);
}

/// The map inside a value built with `json!({...})`.
fn object(value: &mut Value) -> &mut Map<String, Value> {
    value.as_object_mut().expect("built as an object")
}

/// DCLM's evaluation JSON (`exp_data/evals/evaluation_<model>_<suite>.json`): `uuid`, `model`,
/// `creation_date`, `name` (`eval/<suite>`), then what `get_aggregated_results` writes (`eval_metrics`,
/// `missing tasks`, the aggregates, `Core`/`Extended`), then `model_uuid` when the model reference is known.
/// sluice adds `sluice` (per-evaluator counts and the files of missing tasks), which DCLM's tools ignore.
/// Only `creation_date` differs between two runs on the same checkpoint and data.
pub fn evaluation_json(
    results: &SuiteResults,
    aggregated: &AggregatedResults,
    model: &str,
    model_uuid: Option<&str>,
    creation_date: &str,
) -> Value {
    let mut reference = Map::new();
    reference.insert("uuid".into(), Value::Null);
    reference.insert("model".into(), model.into());
    reference.insert("creation_date".into(), creation_date.into());
    reference.insert("name".into(), format!("eval/{}", results.suite).into());
    if let Value::Object(fields) = serde_json::to_value(aggregated).unwrap_or(Value::Null) {
        reference.extend(fields);
    }
    if let Some(id) = model_uuid {
        reference.insert("model_uuid".into(), id.into());
    }
    let evaluators: Vec<Value> = results
        .evaluators
        .iter()
        .map(|e| {
            json!({
                "key": e.logger_key, "examples": e.examples, "correct": e.correct, "accuracy": e.accuracy,
                "tokens": e.tokens,
            })
        })
        .collect();
    let missing: Vec<Value> =
        results.missing.iter().map(|m| json!({"task": m.label, "file": m.path.display().to_string()})).collect();
    reference.insert("sluice".into(), json!({"evaluators": evaluators, "missing_task_files": missing}));
    assign_uuid(&mut reference);
    Value::Object(reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scale::TrainingScale;

    fn documents() -> UntokenizedDataset {
        UntokenizedDataset {
            name: "demo".into(),
            url: "s3://bucket/curated/".into(),
            size: 1234,
            num_tokens: Some(999),
            data_key: "parquet".into(),
            provenance: json!({"documents": 10}),
        }
    }

    /// What `sluice tokenize` writes as `dataset.json` (tokenize/src/summary.rs).
    fn dataset_json() -> Value {
        json!({
            "uuid": derived_uuid(b"manifest"), "name": "demo", "dataset_url": "out/", "manifest_url": "out/manifest.jsonl",
            "sources": [], "tokenized": true, "tokenizer": "EleutherAI/gpt-neox-20b", "num_tokens": 4098, "size": 77,
            "dcnlp_commit_hash": "", "dcnlp_diff": "", "data_key": "json.gz", "sampling_yaml": null,
            "format": "openlm", "num_sequences": 2,
        })
    }

    /// An evaluation reference as `evaluation_json` writes it, before linking.
    fn evaluation() -> Value {
        let mut e = json!({
            "uuid": null, "model": "checkpoints-epoch_5", "creation_date": "2026_01_01-00_00_00", "name": "eval/core",
            "eval_metrics": {"icl": {"copa": 0.5}}, "missing tasks": "[]", "aggregated_task_categories_centered": {},
            "aggregated_centered_results": 0.1, "aggregated_results": 0.2, "Core": 0.1, "Extended": "N/A",
            "eval_version": "v2",
        });
        assign_uuid(e.as_object_mut().unwrap());
        e
    }

    fn four() -> (Value, Value, Value, Value) {
        let date = "2026_12_02-00_00_00";
        let untokenized = untokenized_json(&documents(), date);
        let tokenized = tokenized_json(&dataset_json(), &untokenized, "xxh3-128:00", date);
        let scale = TrainingScale::by_name("411m_1x").unwrap();
        let name = scale.model_name("demo");
        let trained = TrainedModel {
            hyperparameters: scale.hyperparameters(),
            open_lm_args: scale.open_lm_args(&name, "out/manifest.jsonl", "json.gz"),
            name,
            checkpoint_url: "ckpt/epoch_5.pt".into(),
            params_url: None,
        };
        let model = model_json(&trained, &tokenized, date);
        let mut evaluation = evaluation();
        link_evaluation(&mut evaluation, &model);
        (evaluation, model, tokenized, untokenized)
    }

    #[test]
    fn built_references_have_dclm_fields_and_link() {
        let (evaluation, model, tokenized, untokenized) = four();
        for (kind, value) in [
            (Reference::Evaluation, &evaluation),
            (Reference::Model, &model),
            (Reference::Tokenized, &tokenized),
            (Reference::Untokenized, &untokenized),
        ] {
            assert_eq!(problems(kind, value), Vec::<String>::new(), "{}", kind.name());
        }
        assert_eq!(linkage_problems(&evaluation, &model, &tokenized, &untokenized), Vec::<String>::new());
        assert_eq!(evaluation["model"], model["name"]);
        // The tokenized uuid stays the tokenize stage's, so a model trained from dataset.json links to it.
        assert_eq!(tokenized["uuid"], dataset_json()["uuid"]);
        assert_eq!(tokenized["sources"][0]["uuid"], untokenized["uuid"]);
        assert_eq!(model["dataset_uuid"], tokenized["uuid"]);
        // DCLM's field order, as training/train.py writes a model reference.
        let keys: Vec<&str> = model.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(&keys[..4], ["name", "dataset_name", "dataset_uuid", "hyperparameters"]);
    }

    #[test]
    fn broken_links_and_missing_fields_are_reported() {
        let (evaluation, model, mut tokenized, untokenized) = four();
        tokenized["uuid"] = derived_uuid(b"another manifest").into();
        let found = linkage_problems(&evaluation, &model, &tokenized, &untokenized);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("model.dataset_uuid vs tokenized.uuid"));
        let mut model = model;
        model.as_object_mut().unwrap().remove("checkpoint_url");
        model["hyperparameters"].as_object_mut().unwrap().remove("lr");
        model["uuid"] = "not-a-uuid".into();
        let found = problems(Reference::Model, &model);
        assert!(found.contains(&"missing field `checkpoint_url`".to_string()), "{found:?}");
        assert!(found.contains(&"missing field `hyperparameters.lr`".to_string()), "{found:?}");
        assert!(found.iter().any(|p| p.starts_with("`uuid` is not a uuid")), "{found:?}");
        let mut bad_sources = untokenized;
        bad_sources["sources"] = json!([{"name": "no uuid"}]);
        assert_eq!(problems(Reference::Untokenized, &bad_sources), ["`sources` is not a list of {uuid, name}"]);
    }

    #[test]
    fn uuids_follow_content_not_date() {
        let a = untokenized_json(&documents(), "2026_01_01-00_00_00");
        let b = untokenized_json(&documents(), "2027_01_01-00_00_00");
        assert_eq!(a["uuid"], b["uuid"]);
        let mut other = documents();
        other.size += 1;
        assert_ne!(untokenized_json(&other, "2026_01_01-00_00_00")["uuid"], a["uuid"]);
    }
}

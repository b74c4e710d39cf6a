//! Model-based quality filtering with fastText: DCLM's enricher and filter, and training a classifier.
//!
//! DCLM scores every page with a fastText classifier trained on OpenHermes-2.5 + ELI5 (`__label__hq`) against
//! its own RefinedWeb reproduction (`__label__cc`), and keeps pages whose `hq` probability is at least
//! 0.018112 (about the top 10 %). DCLM's model (`fasttext_oh_eli5.bin`) is on the HF hub only; `sluice
//! quality train` trains one from any positive and negative documents, with DCLM's settings.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use fasttext::{Args, FastText, LossName, ModelName};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_core::Document;

use crate::error::FilterError;
use crate::step::{keep_if, prepare_once, Step, Verdict, NOT_PREPARED};
use crate::text;

/// The text a quality classifier sees: DCLM's `" ".join(text.strip().splitlines())`.
pub fn classifier_input(text: &str) -> String {
    text::splitlines(text::strip(text)).join(" ")
}

/// DCLM's `hq` probability: the top label's probability, or one minus it when the top label is `cc` (0 when
/// the model predicts nothing).
pub fn hq_probability(model: &FastText, text: &str) -> Result<f64, FilterError> {
    let predictions = crate::prediction::predict(model, &classifier_input(text), 1)?;
    Ok(match predictions.first() {
        Some(best) if best.label == "__label__cc" => 1.0 - f64::from(best.prob),
        Some(best) => f64::from(best.prob),
        None => 0.0,
    })
}

/// Where DCLM keeps its quality models; a file name not found as given is looked up there too.
const DCLM_MODEL_DIR: &str = "baselines/mappers/enrichers/quality_prediction_enrichment_models";

const HQ_PROB_ENRICHER: &str = "classify_fasttext_hq_prob_enricher";

/// The file a model name refers to: the name as a path if that file exists, else the same name in DCLM's
/// model folder if that exists, else the name as given (which then fails as not found).
fn model_path(name: &str) -> PathBuf {
    let in_dclm_dir = Path::new(DCLM_MODEL_DIR).join(name);
    if !Path::new(name).is_file() && in_dclm_dir.is_file() {
        in_dclm_dir
    } else {
        PathBuf::from(name)
    }
}

fn load_model(step: &'static str, path: &Path) -> Result<FastText, FilterError> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(FilterError::ModelNotFound {
            step,
            path: shown,
            hint: "give a path; DCLM's fasttext_oh_eli5.bin is on the HF hub, or train one with `sluice quality train`",
        });
    }
    let mut model = FastText::new();
    model.load_model(&path.to_string_lossy()).map_err(|message| FilterError::ModelLoad {
        step,
        path: shown,
        message,
    })?;
    Ok(model)
}

/// The parameters of `classify_fasttext_hq_prob_enricher`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HqProbParams {
    /// The fastText model file (a path, or a file name in DCLM's model folder).
    pub model_filename: String,
    #[serde(default = "default_key")]
    pub key: String,
    #[serde(default)]
    pub overwrite: bool,
}

fn default_key() -> String {
    "fasttext_hq_prob".into()
}

/// `classify_fasttext_hq_prob_enricher`: stores the page's `hq` probability in `attributes[key]`. The model
/// is loaded when the stage starts ([`Step::prepare`]), so a recipe can name a model a previous command
/// trains; it is a referenced file of the stage, so a changed model redoes the shards it scored. A page
/// fastText fails on is an error (`prediction_failed`), never a score of 0.
#[derive(Clone)]
pub struct ClassifyFasttextHqProbEnricher {
    params: HqProbParams,
    model: OnceLock<Arc<FastText>>,
}

impl Step for ClassifyFasttextHqProbEnricher {
    fn name(&self) -> &'static str {
        HQ_PROB_ENRICHER
    }

    fn referenced_files(&self) -> Vec<String> {
        vec![model_path(&self.params.model_filename).to_string_lossy().into_owned()]
    }

    fn prepare(&self) -> Result<(), FilterError> {
        prepare_once(&self.model, || {
            load_model(HQ_PROB_ENRICHER, &model_path(&self.params.model_filename)).map(Arc::new)
        })
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let Some(model) = self.model.get() else { return Verdict::Error(NOT_PREPARED) };
        if !self.params.overwrite && doc.attributes.contains_key(&self.params.key) {
            return Verdict::Error("quality_score_exists");
        }
        let Ok(probability) = hq_probability(model, &doc.text) else { return Verdict::Error("prediction_failed") };
        doc.attributes.insert(self.params.key.clone(), Value::from(probability));
        Verdict::Keep
    }
}

impl Serialize for ClassifyFasttextHqProbEnricher {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClassifyFasttextHqProbEnricher {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let params = HqProbParams::deserialize(d)?;
        Ok(ClassifyFasttextHqProbEnricher { params, model: OnceLock::new() })
    }
}

impl std::fmt::Debug for ClassifyFasttextHqProbEnricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassifyFasttextHqProbEnricher").field("params", &self.params).finish()
    }
}

/// `quality_filter`: keeps pages whose score `attributes[key]` is at least `threshold` (at most, with
/// `lower_better`). DCLM-Baseline: key `fasttext_oh_eli5_vs_rw_v2_prob`, threshold 0.018112. For a top-k %
/// cut, compute the threshold over the dataset with `sluice quality threshold`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityFilter {
    #[serde(default = "default_key")]
    pub key: String,
    #[serde(default)]
    pub threshold: f64,
    #[serde(default)]
    pub lower_better: bool,
    #[serde(default = "yes")]
    pub key_must_exist: bool,
}

fn yes() -> bool {
    true
}

impl Step for QualityFilter {
    fn name(&self) -> &'static str {
        "quality_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let score = match doc.attributes.get(&self.key).and_then(Value::as_f64) {
            Some(score) => score,
            None if self.key_must_exist => return Verdict::Error("missing_quality_score"),
            None if self.lower_better => f64::INFINITY,
            None => f64::NEG_INFINITY,
        };
        keep_if(if self.lower_better { score <= self.threshold } else { score >= self.threshold })
    }
}

/// fastText supervised training settings; the defaults are DCLM's (`train_fasttext_classifier.py`).
#[derive(Debug, Clone)]
pub struct TrainSettings {
    pub lr: f64,
    pub dim: i32,
    pub ws: i32,
    pub epoch: i32,
    pub min_count: i32,
    pub word_ngrams: i32,
    /// Hash buckets for word n-grams (fastText's default, 2,000,000, makes a model of ~800 MB at dim 100).
    pub bucket: i32,
    /// Training threads. One thread makes training deterministic (fastText's threads race by design).
    pub threads: i32,
    pub positive_label: String,
    pub negative_label: String,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            lr: 0.1,
            dim: 100,
            ws: 5,
            epoch: 5,
            min_count: 1,
            word_ngrams: 2,
            bucket: 2_000_000,
            threads: 1,
            positive_label: "hq".into(),
            negative_label: "cc".into(),
        }
    }
}

/// Trains a positive-vs-negative fastText classifier and saves it to `output`. Examples are interleaved
/// in a fixed order (so the same inputs give the same model with one thread).
pub fn train_classifier(
    positives: &[String],
    negatives: &[String],
    settings: &TrainSettings,
    output: &Path,
) -> Result<(), FilterError> {
    let io = |source| FilterError::Io { path: "fastText training file (temporary)".into(), source };
    let mut training = tempfile::NamedTempFile::new().map_err(io)?;
    {
        let mut lines: Vec<(u64, String)> = Vec::with_capacity(positives.len() + negatives.len());
        for (label, texts) in [(&settings.positive_label, positives), (&settings.negative_label, negatives)] {
            for text in texts {
                let input = classifier_input(text);
                if !input.trim().is_empty() {
                    let key = fnv1a(format!("{label}\u{0}{input}").as_bytes());
                    lines.push((key, format!("__label__{label} {input}\n")));
                }
            }
        }
        // A fixed pseudo-random order: SGD should not see all positives first.
        lines.sort();
        let file = training.as_file_mut();
        for (_, line) in &lines {
            file.write_all(line.as_bytes()).map_err(io)?;
        }
        file.flush().map_err(io)?;
    }
    let mut args = Args::new();
    args.set_input(&training.path().to_string_lossy()).map_err(FilterError::Training)?;
    args.set_model(ModelName::SUP);
    args.set_loss(LossName::SOFTMAX);
    args.set_lr(settings.lr);
    args.set_dim(settings.dim);
    args.set_ws(settings.ws);
    args.set_epoch(settings.epoch);
    args.set_min_count(settings.min_count);
    args.set_word_ngrams(settings.word_ngrams);
    args.set_bucket(settings.bucket);
    args.set_minn(0);
    args.set_maxn(0);
    args.set_thread(settings.threads);
    args.set_verbose(0);
    let mut model = FastText::new();
    model.train(&args).map_err(FilterError::Training)?;
    model.save_model(&output.to_string_lossy()).map_err(|message| FilterError::Io {
        path: output.display().to_string(),
        source: std::io::Error::other(message),
    })
}

/// FNV-1a: a stable 64-bit hash (the training order depends on it, nothing secure).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

/// Loads a trained classifier (for scoring outside a recipe).
pub fn load_classifier(path: &Path) -> Result<FastText, FilterError> {
    load_model(HQ_PROB_ENRICHER, path)
}

/// The score at or above which `keep_fraction` of `scores` lie (the top-k % threshold).
pub fn top_fraction_threshold(scores: &mut [f64], keep_fraction: f64) -> Option<f64> {
    if scores.is_empty() || !(0.0..=1.0).contains(&keep_fraction) {
        return None;
    }
    scores.sort_by(|a, b| b.total_cmp(a));
    let keep = ((scores.len() as f64 * keep_fraction).ceil() as usize).clamp(1, scores.len());
    Some(scores[keep - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_fraction_thresholds_keep_the_fraction() {
        let mut scores = vec![0.1, 0.9, 0.5, 0.7, 0.3, 0.2, 0.8, 0.6, 0.4, 0.0];
        assert_eq!(top_fraction_threshold(&mut scores, 0.1), Some(0.9));
        assert_eq!(top_fraction_threshold(&mut scores, 0.3), Some(0.7));
        assert_eq!(top_fraction_threshold(&mut scores, 1.0), Some(0.0));
        assert_eq!(top_fraction_threshold(&mut [], 0.5), None);
    }

    #[test]
    fn classifier_input_joins_lines_as_dclm_does() {
        assert_eq!(classifier_input("  a\nb\r\nc\u{2028}d \n"), "a b c d");
    }
}

//! Model-based quality filtering with fastText: DCLM's enricher and filter, and training a classifier.
//!
//! DCLM scores every page with a fastText classifier trained on OpenHermes-2.5 + ELI5 (`__label__hq`) against
//! its own RefinedWeb reproduction (`__label__cc`), and keeps pages whose `hq` probability is at least
//! 0.018112 (about the top 10 %). DCLM's model (`fasttext_oh_eli5.bin`) is on the HF hub only; `sluice
//! quality train` trains one from any positive and negative documents, with DCLM's settings.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fasttext::{Args, FastText, LossName, ModelName};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_core::Document;

use crate::step::{keep_if, Step, Verdict};
use crate::text;

/// The text a quality classifier sees: DCLM's `" ".join(text.strip().splitlines())`.
pub fn classifier_input(text: &str) -> String {
    text::splitlines(text::strip(text)).join(" ")
}

/// DCLM's `hq` probability: the top label's probability, or one minus it when the top label is `cc`.
pub fn hq_probability(model: &FastText, text: &str) -> f64 {
    let input = classifier_input(text);
    // The Python binding appends a newline (an end-of-sentence token) to what it predicts on.
    let predictions = model.predict(&format!("{input}\n"), 1, 0.0).unwrap_or_default();
    match predictions.first() {
        Some(best) if best.label == "__label__cc" => 1.0 - f64::from(best.prob),
        Some(best) => f64::from(best.prob),
        None => 0.0,
    }
}

/// Where DCLM keeps its quality models; a bare file name is looked up there too.
const DCLM_MODEL_DIR: &str = "baselines/mappers/enrichers/quality_prediction_enrichment_models";

fn find_model(name: &str) -> Result<PathBuf, String> {
    let candidates = [PathBuf::from(name), Path::new(DCLM_MODEL_DIR).join(name)];
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        format!("quality model '{name}' not found (give a path; DCLM's fasttext_oh_eli5.bin is on the HF hub, or train one with `sluice quality train`)")
    })
}

fn load_model(name: &str) -> Result<FastText, String> {
    let path = find_model(name)?;
    let mut model = FastText::new();
    model.load_model(&path.to_string_lossy())?;
    Ok(model)
}

/// A digest of the model file, so that a stage's fingerprint (and so resume) changes with the model.
fn model_digest(name: &str) -> Result<String, String> {
    let bytes = std::fs::read(find_model(name)?).map_err(|e| e.to_string())?;
    Ok(format!("{:016x}", fnv1a(&bytes)))
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
/// trains.
#[derive(Clone)]
pub struct ClassifyFasttextHqProbEnricher {
    params: HqProbParams,
    model: std::sync::OnceLock<Result<Arc<FastText>, String>>,
}

impl ClassifyFasttextHqProbEnricher {
    fn model(&self) -> Result<&Arc<FastText>, &String> {
        self.model.get_or_init(|| load_model(&self.params.model_filename).map(Arc::new)).as_ref()
    }
}

impl Step for ClassifyFasttextHqProbEnricher {
    fn name(&self) -> &'static str {
        "classify_fasttext_hq_prob_enricher"
    }

    fn prepare(&self) -> Result<(), String> {
        self.model().map(|_| ()).map_err(Clone::clone)
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        if !self.params.overwrite && doc.attributes.contains_key(&self.params.key) {
            return Verdict::Error("quality_score_exists");
        }
        let Ok(model) = self.model() else { return Verdict::Error("quality_model_unavailable") };
        let probability = hq_probability(model, &doc.text);
        doc.attributes.insert(self.params.key.clone(), Value::from(probability));
        Verdict::Keep
    }
}

impl Serialize for ClassifyFasttextHqProbEnricher {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("model_filename", &self.params.model_filename)?;
        map.serialize_entry("key", &self.params.key)?;
        map.serialize_entry("overwrite", &self.params.overwrite)?;
        let digest = model_digest(&self.params.model_filename).unwrap_or_else(|_| "unavailable".into());
        map.serialize_entry("model_digest", &digest)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for ClassifyFasttextHqProbEnricher {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let params = HqProbParams::deserialize(d)?;
        Ok(ClassifyFasttextHqProbEnricher { params, model: std::sync::OnceLock::new() })
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
) -> Result<(), String> {
    let mut training = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
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
            file.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        }
        file.flush().map_err(|e| e.to_string())?;
    }
    let mut args = Args::new();
    args.set_input(&training.path().to_string_lossy())?;
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
    model.train(&args)?;
    model.save_model(&output.to_string_lossy())
}

/// FNV-1a: a stable 64-bit hash (training order and model digests depend on it, nothing secure).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

/// Loads a trained classifier (for scoring outside a recipe).
pub fn load_classifier(path: &Path) -> Result<FastText, String> {
    load_model(&path.to_string_lossy())
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

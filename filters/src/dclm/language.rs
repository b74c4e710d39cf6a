//! `detect_lang_whole_page_enricher`: fastText language ID over the whole page.

use std::sync::{Arc, OnceLock};

use fasttext::FastText;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sluice_core::Document;

use crate::error::FilterError;
use crate::step::{prepare_once, Step, Verdict, NOT_PREPARED};

/// fastText's LID-176 (quantized), compiled in: language ID needs no download (see `models/README.md`).
static LID_176: &[u8] = include_bytes!("../../models/lid.176.ftz");

const DETECT_LANG: &str = "detect_lang_whole_page_enricher";

/// The bundled LID-176 model, loaded once per process (a failed load is retried by the next call). The C++
/// loader reads only from a path, so the embedded bytes go through a temporary file.
pub fn lid_176() -> Result<Arc<FastText>, FilterError> {
    static MODEL: OnceLock<Arc<FastText>> = OnceLock::new();
    if let Some(model) = MODEL.get() {
        return Ok(model.clone());
    }
    let path = "lid.176.ftz (bundled)";
    let io = |source| FilterError::Io { path: path.into(), source };
    let file = tempfile::NamedTempFile::new().map_err(io)?;
    std::fs::write(file.path(), LID_176).map_err(io)?;
    let mut model = FastText::new();
    model.load_model(&file.path().to_string_lossy()).map_err(|message| FilterError::ModelLoad {
        step: DETECT_LANG,
        path: path.into(),
        message,
    })?;
    Ok(MODEL.get_or_init(|| Arc::new(model)).clone())
}

/// Which language-ID model the enricher uses (DCLM's `model` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LidModel {
    Fasttext,
}

/// `detect_lang_whole_page_enricher`: stores `{language: probability}` of fastText's top prediction in
/// `attributes["<key_prefix>_fasttext"]`. As in DCLM, newlines are deleted (lines glued without a space)
/// before prediction, and a page that is empty or only spaces and ASCII punctuation gets `{}`. The model is
/// loaded in [`Step::prepare`]; a page fastText fails on is an error (`prediction_failed`), not a page
/// without a language.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectLangWholePageEnricher {
    pub model: LidModel,
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    #[serde(default)]
    pub overwrite: bool,
    #[serde(skip)]
    fasttext: OnceLock<Arc<FastText>>,
}

impl std::fmt::Debug for DetectLangWholePageEnricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectLangWholePageEnricher")
            .field("model", &self.model)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

fn default_prefix() -> String {
    "language_id_whole_page".into()
}

/// Python `string.punctuation` plus the space: what DCLM's `is_space_or_punct` accepts.
fn is_space_or_punct(text: &str) -> bool {
    text.chars().all(|c| c == ' ' || c.is_ascii_punctuation())
}

/// fastText's top-1 prediction as `{lang: prob}`, exactly as DCLM gets it from the Python binding
/// ([`crate::prediction::predict`]).
pub fn top_language(model: &FastText, text: &str) -> Result<Map<String, Value>, FilterError> {
    let mut scores = Map::new();
    let predictions = crate::prediction::predict(model, text, 1)?;
    if let Some(best) = predictions.into_iter().next() {
        let language = best.label.trim_start_matches("__label__").to_string();
        scores.insert(language, Value::from(f64::from(best.prob)));
    }
    Ok(scores)
}

impl Step for DetectLangWholePageEnricher {
    fn name(&self) -> &'static str {
        DETECT_LANG
    }

    fn prepare(&self) -> Result<(), FilterError> {
        match self.model {
            LidModel::Fasttext => prepare_once(&self.fasttext, lid_176),
        }
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let Some(fasttext) = self.fasttext.get() else { return Verdict::Error(NOT_PREPARED) };
        let key = format!("{}_fasttext", self.key_prefix);
        if !self.overwrite && doc.attributes.contains_key(&key) {
            return Verdict::Error("language_id_exists");
        }
        let scores = if is_space_or_punct(&doc.text) {
            Map::new()
        } else {
            match top_language(fasttext, &doc.text.replace('\n', "")) {
                Ok(scores) => scores,
                Err(_) => return Verdict::Error("prediction_failed"),
            }
        };
        doc.attributes.insert(key, Value::Object(scores));
        Verdict::Keep
    }
}

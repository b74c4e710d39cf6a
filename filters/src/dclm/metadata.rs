//! Steps over page metadata: the URL and language-ID scores.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_core::Document;

use crate::step::{keep_if, Step, Verdict};

/// `move_url_modifier`: the page URL is `metadata["WARC-Target-URI"]` (a page without it is an error).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveUrlModifier {}

impl Step for MoveUrlModifier {
    fn name(&self) -> &'static str {
        "move_url_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        match doc.metadata.get("WARC-Target-URI") {
            Some(Value::String(url)) => {
                doc.url = Some(url.clone());
                Verdict::Keep
            }
            Some(other) => {
                doc.url = Some(other.to_string());
                Verdict::Keep
            }
            None => Verdict::Error("missing_warc_target_uri"),
        }
    }
}

/// `language_filter`: keeps pages whose language-ID scores (`attributes[key]`, `{lang: prob}`) give one of
/// `keep_languages` a probability strictly above `threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageFilter {
    pub keep_languages: Vec<String>,
    #[serde(default = "default_language_key")]
    pub key: String,
    #[serde(default)]
    pub threshold: f64,
}

fn default_language_key() -> String {
    "language_id_whole_page_langdetect".into()
}

impl Step for LanguageFilter {
    fn name(&self) -> &'static str {
        "language_filter"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let Some(scores) = doc.attributes.get(&self.key) else { return Verdict::Error("missing_language_scores") };
        let passes = |lang: &String| scores.get(lang).and_then(Value::as_f64).is_some_and(|p| p > self.threshold);
        keep_if(self.keep_languages.iter().any(passes))
    }
}

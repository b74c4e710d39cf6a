//! The `filter` stage: a chain of steps over document shards (Parquet or JSONL in, the same out).
//!
//! Every document that goes in comes out or is dropped with a reason named after the step, never after its
//! position, so inserting a step renames nothing:
//!
//! * `<step>` — the step dropped it (`page_length_filter`); a name that occurs more than once in the chain
//!   gets `#2`, `#3`, … from its second occurrence on (`url_substring_filter#2`);
//! * `<step>:<check>` — one check of a step that runs several (`massive_web_repetition_filters:dup_line_frac`,
//!   `fineweb_quality_filter:line_punct_ratio`);
//! * `<step>:error` — the step could not decide (a missing field, a failed prediction); the kind is counted
//!   in the errors as `<step>:<kind>` (`detect_lang_whole_page_enricher:prediction_failed`).
//!
//! The chain order is in the counters: `chain:NN:<step>` counts the documents that reached step NN.

use serde::{Deserialize, Serialize};
use sluice_core::format::{Format, Records};
use sluice_core::runner::{DocumentSink, InputShard, ShardStats, Stage};
use sluice_core::{Error, Result};

use crate::error::FilterError;
use crate::registry::StepConfig;
use crate::step::{Step, Verdict};

/// Parameters of the `filter` stage (the `filter:` step of a recipe).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Input document files or folders. Optional in a recipe step that follows another.
    #[serde(default, skip_serializing)]
    pub input: Vec<String>,
    /// Where to write the kept documents. Default: `<recipe output>/<step number>-filter`.
    #[serde(default, skip_serializing)]
    pub output: Option<String>,
    /// The steps, in order.
    pub steps: Vec<StepConfig>,
}

/// One step of the chain with the names it reports under.
struct ChainStep {
    /// The drop reason: the step's name, `#k` appended for its k-th occurrence (k ≥ 2).
    label: String,
    /// `<label>:error`, the drop reason of a document the step could not decide.
    error_reason: String,
    /// `chain:NN:<label>`, the counter of documents that reached the step.
    reached_counter: String,
    step: Box<dyn Step>,
}

/// The filter stage, built from its config.
pub struct FilterStage {
    config: FilterConfig,
    steps: Vec<ChainStep>,
}

/// How a document left the chain early.
enum Exit<'a> {
    Dropped(&'a ChainStep),
    DroppedBy(&'a ChainStep, &'static str),
    Failed(&'a ChainStep, &'static str),
}

impl FilterStage {
    /// Builds the chain. Nothing is read here: models and list files are loaded by [`Stage::prepare`],
    /// which the runner calls before the first shard (and [`Stage::process`] calls too, at no cost once
    /// prepared). The step parameters were checked when the recipe was read, so building cannot fail today;
    /// the `Result` is the contract for checks that need the whole chain.
    pub fn new(config: FilterConfig) -> Result<Self, FilterError> {
        let mut seen: std::collections::HashMap<&'static str, usize> = std::collections::HashMap::new();
        let mut steps = Vec::with_capacity(config.steps.len());
        for (i, step_config) in config.steps.iter().enumerate() {
            let step = step_config.build();
            let occurrence = seen.entry(step.name()).or_insert(0);
            *occurrence += 1;
            let label =
                if *occurrence == 1 { step.name().to_string() } else { format!("{}#{occurrence}", step.name()) };
            steps.push(ChainStep {
                error_reason: format!("{label}:error"),
                reached_counter: format!("chain:{:02}:{label}", i + 1),
                label,
                step,
            });
        }
        Ok(FilterStage { config, steps })
    }

    /// The drop reason of each step, in chain order.
    pub fn step_labels(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.label.as_str()).collect()
    }

    /// Loads every step's models and lists; fails with the first step that cannot run, by position and
    /// label, naming the file.
    pub fn prepare_steps(&self) -> Result<(), FilterError> {
        for (i, chain_step) in self.steps.iter().enumerate() {
            chain_step.step.prepare().map_err(|e| FilterError::Step {
                position: i + 1,
                label: chain_step.label.clone(),
                source: Box::new(e),
            })?;
        }
        Ok(())
    }

    /// Runs the chain on one document (after [`FilterStage::prepare_steps`]): `None` if it is kept (possibly
    /// modified), else the drop reason the stage counts for it.
    pub fn drop_reason(&self, doc: &mut sluice_core::Document) -> Option<String> {
        let mut reached = vec![0u64; self.steps.len()];
        Some(match self.run_chain(doc, &mut reached)? {
            Exit::Dropped(step) => step.label.clone(),
            Exit::DroppedBy(step, check) => format!("{}:{check}", step.label),
            Exit::Failed(step, _) => step.error_reason.clone(),
        })
    }

    /// Runs the steps in order; `None` if the document made it through. `reached[i]` counts the documents
    /// that reached step i.
    fn run_chain(&self, doc: &mut sluice_core::Document, reached: &mut [u64]) -> Option<Exit<'_>> {
        for (chain_step, count) in self.steps.iter().zip(reached) {
            *count += 1;
            match chain_step.step.apply(doc) {
                Verdict::Keep => {}
                Verdict::Drop => return Some(Exit::Dropped(chain_step)),
                Verdict::DropCheck(check) => return Some(Exit::DroppedBy(chain_step, check)),
                Verdict::Error(kind) => return Some(Exit::Failed(chain_step, kind)),
            }
        }
        None
    }
}

impl Stage for FilterStage {
    fn name(&self) -> &str {
        "filter"
    }

    /// 2: drop reasons are step names (with `:<check>` and `:error`), no longer chain positions.
    fn version(&self) -> u32 {
        2
    }

    fn fingerprint(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_default()
    }

    fn referenced_files(&self) -> Vec<String> {
        let mut files: Vec<String> = Vec::new();
        for file in self.steps.iter().flat_map(|s| s.step.referenced_files()) {
            if !files.contains(&file) {
                files.push(file);
            }
        }
        files
    }

    fn prepare(&self) -> Result<()> {
        self.prepare_steps().map_err(|e| sluice_core::Error::stage("filter", e))
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    /// Reads each batch, runs the chain on its documents, and writes the kept ones. A batch read in
    /// sluice's schema is written back as its own columns, filtered by what was kept, with only the values
    /// the steps changed (text, URL, attributes) rebuilt; other batches go as documents. The bytes are the
    /// same either way.
    fn process(&self, input: &InputShard<'_>, out: &mut DocumentSink, stats: &mut ShardStats) -> Result<()> {
        self.prepare()?;
        let mut reached = vec![0u64; self.steps.len()];
        let mut reason = String::new();
        let mut reader = input.open_documents()?;
        let batch_path = out.takes_batches();
        while let Some(records) = reader.next_records()? {
            let batch = match records {
                Records::Batch(batch) if batch_path => batch,
                records => {
                    for mut doc in records.into_documents()? {
                        stats.docs_in += 1;
                        match self.run_chain(&mut doc, &mut reached) {
                            None => out.push(doc)?,
                            Some(exit) => count_exit(exit, stats, &mut reason),
                        }
                    }
                    continue;
                }
            };
            let docs = batch.documents().map_err(|e| Error::arrow(&input.relative, e))?;
            let mut keep = Vec::with_capacity(docs.len());
            let mut kept = Vec::with_capacity(docs.len());
            for mut doc in docs {
                stats.docs_in += 1;
                match self.run_chain(&mut doc, &mut reached) {
                    None => {
                        keep.push(true);
                        kept.push(doc);
                    }
                    Some(exit) => {
                        keep.push(false);
                        count_exit(exit, stats, &mut reason);
                    }
                }
            }
            if !kept.is_empty() {
                out.push_batch(batch.kept(&keep, kept).map_err(|e| Error::arrow(&input.relative, e))?)?;
            }
        }
        for (step, n) in self.steps.iter().zip(reached) {
            stats.count(&step.reached_counter, n);
        }
        // Lines the reader could not parse are documents too: counted in, dropped as unreadable.
        for (kind, n) in reader.skipped() {
            stats.docs_in += n;
            stats.drop_docs("unreadable", *n);
            stats.errors(kind, *n);
        }
        for (kind, n) in reader.repaired() {
            stats.errors(kind, *n);
        }
        Ok(())
    }
}

/// Counts a document the chain did not keep: its drop reason, and the error of a step that could not
/// decide. `reason` is a reused buffer.
fn count_exit(exit: Exit<'_>, stats: &mut ShardStats, reason: &mut String) {
    match exit {
        Exit::Dropped(step) => stats.drop_doc(&step.label),
        Exit::DroppedBy(step, check) => {
            reason.clear();
            reason.push_str(&step.label);
            reason.push(':');
            reason.push_str(check);
            stats.drop_doc(reason);
        }
        Exit::Failed(step, kind) => {
            stats.drop_doc(&step.error_reason);
            reason.clear();
            reason.push_str(&step.label);
            reason.push(':');
            reason.push_str(kind);
            stats.error(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(yaml_steps: serde_json::Value) -> FilterStage {
        let config: FilterConfig = serde_json::from_value(serde_json::json!({ "steps": yaml_steps })).unwrap();
        FilterStage::new(config).unwrap()
    }

    #[test]
    fn repeated_step_names_are_numbered_from_their_second_occurrence() {
        let stage = stage(serde_json::json!([
            {"substring_line_modifier": {"banlist": "a"}},
            {"page_length_filter": {"length_type": "word", "min_length": 2}},
            {"substring_line_modifier": {"banlist": "b"}},
            {"massive_web_repetition_filters": {}},
            {"substring_line_modifier": {"banlist": "c"}},
        ]));
        assert_eq!(
            stage.step_labels(),
            [
                "substring_line_modifier",
                "page_length_filter",
                "substring_line_modifier#2",
                "massive_web_repetition_filters",
                "substring_line_modifier#3"
            ]
        );
    }

    #[test]
    fn referenced_files_are_the_users_files_once_each_and_not_the_bundled_lists() {
        let stage = stage(serde_json::json!([
            {"url_substring_filter": {"banlist_from_fname": "baselines/mappers/banlists/refinedweb_banned_words_strict_reverse_engineered.txt"}},
            {"url_substring_filter": {"banlist_from_fname": "lists/mine.txt"}},
            {"substring_filter": {"banlist_from_fname": "lists/mine.txt"}},
            {"url_removal_modifier": {}},
            {"detect_lang_whole_page_enricher": {"model": "fasttext"}},
            {"classify_fasttext_hq_prob_enricher": {"model_filename": "models/q.bin"}},
        ]));
        assert_eq!(stage.referenced_files(), ["lists/mine.txt", "models/q.bin"]);
    }

    #[test]
    fn an_unprepared_step_is_an_error_of_that_step_never_a_filter_drop() {
        let stage = stage(serde_json::json!([{"detect_lang_whole_page_enricher": {"model": "fasttext"}}]));
        let mut doc = sluice_core::Document::from_text("Der Fluss fließt durch zehn Länder.", None);
        assert_eq!(stage.drop_reason(&mut doc).as_deref(), Some("detect_lang_whole_page_enricher:error"));
        stage.prepare_steps().unwrap();
        assert_eq!(stage.drop_reason(&mut doc), None);
        assert!(doc.attributes["language_id_whole_page_fasttext"]["de"].as_f64().unwrap() > 0.65);
    }

    #[test]
    fn a_list_file_that_cannot_be_read_stops_prepare_naming_step_and_file() {
        let stage = stage(serde_json::json!([
            {"move_url_modifier": {}},
            {"url_substring_filter": {"banlist_from_fname": "no/such/list.txt"}},
        ]));
        let error = stage.prepare_steps().unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, FilterError::Step { position: 2, .. }), "{error:?}");
        assert!(
            message.starts_with("filter step 2: url_substring_filter: cannot read list file 'no/such/list.txt': "),
            "{message}"
        );
        assert!(stage.prepare().is_err());
    }
}

//! The `mix` stage: several sources, each with a weight or a target size, sampled deterministically.
//!
//! 1. `count` (one task per source): the source's documents and text bytes — for Parquet sources a
//!    DataFusion query (`SELECT count(*), sum(octet_length(text))`), which reads two footers' worth of
//!    column chunks rather than every document; JSONL sources are read.
//! 2. `sample` (one task per input file): every document of source `s` is written `floor(f_s)` times plus
//!    once more with probability `f_s − floor(f_s)`, decided by a seeded hash of (seed, source, file,
//!    document) — OpenLM's `do_sample`, but independent of thread and worker count. Each written document
//!    carries `mix_source`; repeats get `#k` appended to their id so ids stay unique.
//!
//! `f_s` = wanted size / available size. Wanted sizes come from `tokens:` per source, or from `weight:`
//! shares of `target_tokens` (default: the sources' total, so the mix keeps its size and changes its
//! shares). Tokens are estimated as text bytes / `bytes_per_token` (4 by default, about GPT-NeoX on English
//! web text): the mixer runs before tokenization. The achieved shares are a query over the output
//! ([`report`]).

use std::io::Write;

use serde::{Deserialize, Serialize};
use sluice_core::format::{DocumentReader, Format};
use sluice_core::runner::{PhasedStage, PlanContext, ShardStats, Task, TaskContext, TaskInput};
use sluice_core::store::Location;
use sluice_core::{Error, Result};
use xxhash_rust::xxh3::xxh3_64;

use crate::sql::{query, TableSpec};

/// One source of a mix.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A short name (reported, and stored in each document's `mix_source`).
    pub name: String,
    /// Document files or folders (in a recipe, `@N` / `@name` name an earlier stage's output).
    pub input: Vec<String>,
    /// This source's share of the mix (shares are normalised over the sources).
    #[serde(default)]
    pub weight: Option<f64>,
    /// Or an absolute target size in (estimated) tokens.
    #[serde(default)]
    pub tokens: Option<u64>,
}

/// Parameters of the `mix` stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixConfig {
    /// Where to write. Default: `<recipe output>/<stage number>-mix`.
    #[serde(default, skip_serializing)]
    pub output: Option<String>,
    pub sources: Vec<Source>,
    /// Seed of the sampling decisions.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Size of the mix in estimated tokens when sources give weights (default: the sources' total).
    #[serde(default)]
    pub target_tokens: Option<u64>,
    /// Text bytes per token, for the estimate.
    #[serde(default = "default_bytes_per_token")]
    pub bytes_per_token: f64,
}

fn default_seed() -> u64 {
    1234
}

fn default_bytes_per_token() -> f64 {
    4.0
}

/// Why a mix cannot run.
#[derive(Debug, thiserror::Error)]
pub enum MixError {
    #[error("mix: {0}")]
    Config(String),
}

/// Documents and text bytes of one source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceSize {
    pub docs: u64,
    pub bytes: u64,
}

/// The `mix` stage.
pub struct MixStage {
    config: MixConfig,
    /// Each source's input roots as located (to tell which source an input file belongs to).
    roots: Vec<Vec<String>>,
}

impl MixStage {
    pub fn new(config: MixConfig) -> std::result::Result<Self, MixError> {
        let bad = |m: String| Err(MixError::Config(m));
        if config.sources.is_empty() {
            return bad("no sources".into());
        }
        if !(config.bytes_per_token.is_finite() && config.bytes_per_token > 0.0) {
            return bad(format!("bytes_per_token must be a positive number, not {}", config.bytes_per_token));
        }
        let mut roots = Vec::new();
        for (i, source) in config.sources.iter().enumerate() {
            if source.name.is_empty() || source.name.contains(['/', '#']) {
                return bad(format!("source {}: a name without '/' or '#' is needed", i + 1));
            }
            if config.sources[..i].iter().any(|s| s.name == source.name) {
                return bad(format!("two sources are named '{}'", source.name));
            }
            match (source.weight, source.tokens) {
                (Some(w), None) if w.is_finite() && w >= 0.0 => {}
                (None, Some(_)) => {}
                _ => return bad(format!("source '{}': give either a weight ≥ 0 or tokens", source.name)),
            }
            if source.input.is_empty() {
                return bad(format!("source '{}' has no input", source.name));
            }
            let located = source
                .input
                .iter()
                .map(|i| Location::parse(i).map(|l| l.to_string()))
                .collect::<Result<Vec<_>>>()
                .map_err(|e| MixError::Config(e.to_string()))?;
            roots.push(located);
        }
        let weights = config.sources.iter().filter(|s| s.weight.is_some()).count();
        if weights != 0 && weights != config.sources.len() {
            return bad("give every source a weight, or every source tokens".into());
        }
        Ok(MixStage { config, roots })
    }

    /// Every input of the stage: all sources' inputs.
    pub fn inputs(&self) -> Vec<String> {
        self.config.sources.iter().flat_map(|s| s.input.clone()).collect()
    }

    /// The source an input file belongs to.
    fn source_of(&self, input: &TaskInput) -> Option<usize> {
        let location = input.location.to_string();
        self.roots.iter().position(|roots| {
            roots.iter().any(|root| {
                location == *root || location.strip_prefix(root.as_str()).is_some_and(|rest| rest.starts_with('/'))
            })
        })
    }

    /// The sampling factor of each source, from the sources' sizes.
    pub fn factors(&self, sizes: &[SourceSize]) -> Vec<f64> {
        let tokens = |s: &SourceSize| s.bytes as f64 / self.config.bytes_per_token;
        let total: f64 = sizes.iter().map(tokens).sum();
        let target = self.config.target_tokens.map_or(total, |t| t as f64);
        let weight_sum: f64 = self.config.sources.iter().filter_map(|s| s.weight).sum();
        self.config
            .sources
            .iter()
            .zip(sizes)
            .map(|(source, size)| {
                let wanted = match (source.weight, source.tokens) {
                    (Some(w), _) if weight_sum > 0.0 => target * w / weight_sum,
                    (_, Some(t)) => t as f64,
                    _ => 0.0,
                };
                let available = tokens(size);
                if available > 0.0 {
                    wanted / available
                } else {
                    0.0
                }
            })
            .collect()
    }
}

const PHASES: [&str; 2] = ["count", "sample"];

impl PhasedStage for MixStage {
    fn name(&self) -> &str {
        "mix"
    }

    fn version(&self) -> u32 {
        1
    }

    fn fingerprint(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_default()
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    fn phases(&self) -> Vec<&'static str> {
        PHASES.to_vec()
    }

    fn plan(&self, phase: usize, context: &PlanContext) -> Result<Vec<Task>> {
        if phase == 0 {
            return Ok((0..self.config.sources.len())
                .map(|s| Task {
                    key: format!("source-{s:03}"),
                    inputs: context.inputs.iter().filter(|i| self.source_of(i) == Some(s)).cloned().collect(),
                    partition: Some(s),
                })
                .collect());
        }
        let counts = context.artifacts(0).to_vec();
        let mut tasks = context.one_task_per_input();
        for task in &mut tasks {
            let source = self.source_of(&task.inputs[0]);
            task.key = format!("{}__{}", self.config.sources[source.unwrap_or(0)].name, task.key);
            task.partition = source;
            task.inputs.extend(counts.iter().cloned());
        }
        Ok(tasks)
    }

    fn run(&self, phase: usize, task: &Task, context: &mut TaskContext) -> Result<()> {
        if phase == 0 {
            return self.count(task, context);
        }
        self.sample(task, context)
    }
}

impl MixStage {
    /// Phase 1: one source's size.
    fn count(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let source = task.partition.unwrap_or_default();
        let all_parquet = task.inputs.iter().all(|i| Format::from_path(&i.relative) == Some(Format::Parquet));
        let size = if all_parquet && !task.inputs.is_empty() {
            size_by_query(&task.inputs)?
        } else {
            let mut size = SourceSize::default();
            for input in &task.inputs {
                let mut reader = context.open_documents(input)?;
                while let Some(batch) = reader.next_batch()? {
                    size.docs += batch.len() as u64;
                    size.bytes += batch.iter().map(|d| d.text.len() as u64).sum::<u64>();
                }
            }
            size
        };
        context.stats.count("source_docs", size.docs);
        context.stats.count("source_bytes", size.bytes);
        let mut out = context.create_artifact(&format!("{source:03}.json"))?;
        let encoded = serde_json::to_vec(&size).map_err(|e| Error::Other(e.to_string()))?;
        out.write_all(&encoded).and_then(|_| out.flush()).map_err(|e| Error::io("source size", e))
    }

    /// Phase 2: one input file, sampled.
    fn sample(&self, task: &Task, context: &mut TaskContext) -> Result<()> {
        let source = task.partition.ok_or_else(|| Error::Other(format!("{}: belongs to no source", task.key)))?;
        let (input, counts) =
            task.inputs.split_first().ok_or_else(|| Error::Other("sample task without input".into()))?;
        let mut sizes = vec![SourceSize::default(); self.config.sources.len()];
        for count in counts {
            let index: usize = count
                .relative
                .trim_end_matches(".json")
                .parse()
                .map_err(|_| Error::Other(format!("{}: not a source size", count.relative)))?;
            let bytes = count.location.read_bytes()?;
            sizes[index] =
                serde_json::from_slice(&bytes).map_err(|e| Error::Other(format!("{}: {e}", count.location)))?;
        }
        let factor = self.factors(&sizes)[source];
        let name = &self.config.sources[source].name;
        let mut sink = context.create_documents(&task.key)?;
        let mut reader = context.open_documents(input)?;
        let mut stats = ShardStats::default();
        let mut index = 0u64;
        while let Some(batch) = reader.next_batch()? {
            for mut doc in batch {
                stats.docs_in += 1;
                let copies = self.copies(factor, source, input.position, index);
                index += 1;
                if copies == 0 {
                    stats.drop_doc("mix_downsampled");
                    continue;
                }
                doc.attributes.insert("mix_source".into(), name.clone().into());
                stats.docs_added += copies - 1;
                for k in 1..copies {
                    let mut copy = doc.clone();
                    copy.id = format!("{}#{k}", doc.id);
                    sink.push(copy)?;
                }
                sink.push(doc)?;
            }
        }
        count_unreadable(reader.as_ref(), &mut stats);
        context.stats.merge(&stats);
        context.finish_documents(sink)
    }

    /// How many times one document is written: `floor(f)` plus one with probability `frac(f)`.
    fn copies(&self, factor: f64, source: usize, file: usize, doc: u64) -> u64 {
        let whole = factor.floor();
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.config.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(source as u64).to_le_bytes());
        key[16..24].copy_from_slice(&(file as u64).to_le_bytes());
        key[24..].copy_from_slice(&doc.to_le_bytes());
        let uniform = (xxh3_64(&key) >> 11) as f64 / (1u64 << 53) as f64;
        whole as u64 + u64::from(uniform < factor - whole)
    }
}

fn count_unreadable(reader: &dyn DocumentReader, stats: &mut ShardStats) {
    for (kind, n) in reader.skipped() {
        stats.docs_in += n;
        stats.drop_docs("unreadable", *n);
        stats.errors(kind, *n);
    }
}

/// A Parquet source's documents and text bytes, by a DataFusion query over its files.
fn size_by_query(inputs: &[TaskInput]) -> Result<SourceSize> {
    let mut size = SourceSize::default();
    for input in inputs {
        let table = TableSpec { name: "source".into(), location: input.location.to_string() };
        let batches = query(
            &[table],
            "SELECT count(*) AS docs, sum(octet_length(text)) AS bytes FROM source WHERE text IS NOT NULL",
        )
        .map_err(|e| Error::Other(format!("{}: {e}", input.location)))?;
        let (docs, bytes) = first_row_u64(&batches);
        size.docs += docs;
        size.bytes += bytes;
    }
    Ok(size)
}

fn first_row_u64(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> (u64, u64) {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else { return (0, 0) };
    let value = |column: usize| -> u64 {
        let array = batch.column(column);
        match array.as_primitive_opt::<Int64Type>() {
            Some(a) if a.is_valid(0) => a.value(0).max(0) as u64,
            _ => 0,
        }
    };
    (value(0), value(1))
}

/// Achieved documents and text bytes per source of a mix output, by a DataFusion query over it.
pub fn report(output: &str) -> std::result::Result<Vec<(String, SourceSize)>, crate::sql::SqlError> {
    let table = TableSpec { name: "mix".into(), location: output.to_string() };
    let batches = query(
        &[table],
        "SELECT attr_mix_source AS source, count(*) AS docs, sum(octet_length(text)) AS bytes FROM mix GROUP BY attr_mix_source ORDER BY source",
    )?;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    let mut rows = Vec::new();
    for batch in &batches {
        let names = datafusion::arrow::compute::cast(batch.column(0), &datafusion::arrow::datatypes::DataType::Utf8)
            .map_err(datafusion::error::DataFusionError::from)?;
        let names = names.as_string::<i32>();
        let docs = batch.column(1).as_primitive::<Int64Type>();
        let bytes = batch.column(2).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let name = if names.is_valid(row) { names.value(row).to_string() } else { "(none)".into() };
            let size = SourceSize { docs: docs.value(row).max(0) as u64, bytes: bytes.value(row).max(0) as u64 };
            rows.push((name, size));
        }
    }
    Ok(rows)
}

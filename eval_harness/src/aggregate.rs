//! DCLM's aggregation of per-task ICL accuracies into Core / Extended, bit for bit.
//!
//! Two steps, each reproducing one piece of DCLM code (commit `361714bd`):
//! 1. [`category_average`]: the loop at the end of `eval/eval_openlm_ckpt.py::evaluate` that turns
//!    llm-foundry's evaluator keys (`metrics/<label>/<k>-shot[/<category>]/<MetricClass>`) into one accuracy
//!    per task label, averaging the categories of `has_categories` tasks with equal weight.
//! 2. [`aggregate`]: `eval/aggregated_metrics.py::get_aggregated_results`: centered accuracy per task
//!    (`(acc − B/100) / (1 − B/100)`, B the CSV's "Random baseline"), per-category centered means, the mean over
//!    all CSV rows (Extended), raw and centered means of every group of `additional_aggregation.json`
//!    (`low_variance_datasets` = Core), and the `"N/A due to missing tasks: [...]"` strings.
//!
//! The float arithmetic follows the Python libraries DCLM goes through, because the last bits differ otherwise
//! (the golden file has several such cases): Python's left-to-right `sum()` for category averages, numpy's
//! pairwise summation behind pandas' `Series.mean()` (NaN treated as missing: replaced by 0 and not counted),
//! and pandas' Kahan-compensated `groupby(...).mean()` for the per-category means.
//!
//! The tables (v2 and v1 `eval_meta_data*.csv`, `additional_aggregation.json`) are bundled from `data/`
//! (provenance in `data/README.md`); [`EvalMetadata::from_csv`] and [`AggregationGroups::from_json`] also read
//! DCLM's original files.

use std::collections::HashMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

const EVAL_META_DATA_V2: &str = include_str!("../data/eval_meta_data.csv");
const EVAL_META_DATA_V1: &str = include_str!("../data/eval_meta_data_v1.csv");
const ADDITIONAL_AGGREGATION: &str = include_str!("../data/additional_aggregation.json");

/// The group whose centered mean is Core.
pub const CORE_GROUP: &str = "low_variance_datasets";

/// What can go wrong reading the aggregation tables.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    /// A CSV row or field that cannot be read.
    #[error("{source_name}:{line}: {message}")]
    Csv { source_name: String, line: usize, message: String },
    /// A column the aggregation needs is absent from the header.
    #[error(
        "{source_name}: no column '{column}' in the header (columns: {header:?}); DCLM's eval_meta_data CSVs have it"
    )]
    MissingColumn { source_name: String, column: String, header: Vec<String> },
    /// The groups file is not a JSON object of string lists.
    #[error("{source_name}: expected a JSON object mapping group names to lists of task labels: {source}")]
    Groups {
        source_name: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Which random baselines centre the accuracies (`aggregated_metrics.py --version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvalVersion {
    /// `eval_meta_data_v1.csv`: the original (incorrect) baselines.
    V1,
    /// `eval_meta_data.csv`: DCLM's `CURRENT_VERSION`.
    V2,
}

impl EvalVersion {
    /// DCLM's `CURRENT_VERSION`.
    pub const CURRENT: EvalVersion = EvalVersion::V2;

    /// `"v1"` / `"v2"`, as in the `Core_<version>` keys and `eval_version`.
    pub fn as_str(self) -> &'static str {
        match self {
            EvalVersion::V1 => "v1",
            EvalVersion::V2 => "v2",
        }
    }
}

impl fmt::Display for EvalVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EvalVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------------------

/// One row of an `eval_meta_data*.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMeta {
    /// "Eval Task": the task label as it appears in `eval_metrics.icl`.
    pub task: String,
    /// "Task Category"; `None` when the cell is empty (pandas NaN: left out of the category means).
    pub category: Option<String>,
    /// "#datapoints", when the column is present and the cell non-empty (informational).
    pub datapoints: Option<u64>,
    /// "Random baseline" in percent; NaN when the cell is empty (the task's centered accuracy is then NaN).
    pub random_baseline: f64,
}

/// The rows of an `eval_meta_data*.csv`, in file order (the order matters for the means' last bits).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalMetadata {
    rows: Vec<TaskMeta>,
}

impl EvalMetadata {
    /// The bundled table of `version` (`data/eval_meta_data.csv` or `data/eval_meta_data_v1.csv`).
    pub fn bundled(version: EvalVersion) -> Result<Self, AggregateError> {
        match version {
            EvalVersion::V2 => Self::from_csv("eval_harness/data/eval_meta_data.csv", EVAL_META_DATA_V2),
            EvalVersion::V1 => Self::from_csv("eval_harness/data/eval_meta_data_v1.csv", EVAL_META_DATA_V1),
        }
    }

    /// Parses a DCLM-style CSV (comma-separated, double-quoted fields, header row). Needs the columns
    /// "Eval Task", "Task Category" and "Random baseline"; "#datapoints" is optional; others are ignored.
    /// `source_name` only labels errors.
    pub fn from_csv(source_name: &str, text: &str) -> Result<Self, AggregateError> {
        let csv_error =
            |line: usize, message: String| AggregateError::Csv { source_name: source_name.to_owned(), line, message };
        let records = parse_csv(text).map_err(|(line, message)| csv_error(line, message))?;
        let mut records = records.into_iter();
        let Some((_, header)) = records.next() else {
            return Err(csv_error(1, "empty file: expected a header row".to_owned()));
        };
        let column = |name: &str| header.iter().position(|h| h.trim() == name);
        let required = |name: &str| {
            column(name).ok_or_else(|| AggregateError::MissingColumn {
                source_name: source_name.to_owned(),
                column: name.to_owned(),
                header: header.clone(),
            })
        };
        let task_col = required("Eval Task")?;
        let category_col = required("Task Category")?;
        let baseline_col = required("Random baseline")?;
        let datapoints_col = column("#datapoints");

        let mut rows = Vec::new();
        for (line, record) in records {
            let cell = |col: usize| record.get(col).map(|s| s.trim()).unwrap_or("");
            let task = cell(task_col);
            if task.is_empty() {
                return Err(csv_error(line, "empty 'Eval Task'".to_owned()));
            }
            let category = Some(cell(category_col)).filter(|c| !c.is_empty()).map(str::to_owned);
            let baseline_text = cell(baseline_col);
            let random_baseline = if baseline_text.is_empty() {
                f64::NAN
            } else {
                baseline_text.parse::<f64>().map_err(|_| {
                    csv_error(line, format!("'Random baseline' of {task} is {baseline_text:?}, not a number"))
                })?
            };
            let datapoints = match datapoints_col.map(cell).filter(|d| !d.is_empty()) {
                None => None,
                Some(d) => Some(
                    d.parse::<u64>()
                        .map_err(|_| csv_error(line, format!("'#datapoints' of {task} is {d:?}, not a count")))?,
                ),
            };
            rows.push(TaskMeta { task: task.to_owned(), category, datapoints, random_baseline });
        }
        Ok(Self { rows })
    }

    /// The rows in file order.
    pub fn rows(&self) -> &[TaskMeta] {
        &self.rows
    }
}

/// `additional_aggregation.json`: named task groups, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregationGroups {
    groups: Vec<(String, Vec<String>)>,
}

impl AggregationGroups {
    /// The bundled `data/additional_aggregation.json`.
    pub fn bundled() -> Result<Self, AggregateError> {
        Self::from_json("eval_harness/data/additional_aggregation.json", ADDITIONAL_AGGREGATION)
    }

    /// Parses `{"group": ["task", ...], ...}`, keeping the key order (a repeated key keeps its first place
    /// and its last list, as Python's `json.load` does).
    pub fn from_json(source_name: &str, text: &str) -> Result<Self, AggregateError> {
        let to_error = |source| AggregateError::Groups { source_name: source_name.to_owned(), source };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let groups = serde::Deserializer::deserialize_map(&mut deserializer, GroupsVisitor).map_err(to_error)?;
        deserializer.end().map_err(to_error)?;
        Ok(Self { groups })
    }

    /// `(name, tasks)` in file order.
    pub fn groups(&self) -> &[(String, Vec<String>)] {
        &self.groups
    }

    /// The tasks of one group.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.groups.iter().find(|(n, _)| n == name).map(|(_, tasks)| tasks.as_slice())
    }
}

struct GroupsVisitor;

impl<'de> Visitor<'de> for GroupsVisitor {
    type Value = Vec<(String, Vec<String>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object mapping group names to lists of task labels")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        while let Some((name, tasks)) = map.next_entry::<String, Vec<String>>()? {
            match groups.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = tasks,
                None => groups.push((name, tasks)),
            }
        }
        Ok(groups)
    }
}

/// CSV records as `(line number of the record's start, fields)`.
type CsvRecords = Vec<(usize, Vec<String>)>;

/// Minimal RFC 4180 reader: blank lines are skipped (pandas' `skip_blank_lines`); a leading BOM is dropped.
/// Errors are `(line, message)`.
fn parse_csv(text: &str) -> Result<CsvRecords, (usize, String)> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut field_started = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if !field_started => {
                in_quotes = true;
                field_started = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                field_started = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if field_started || !fields.is_empty() || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push((record_line, std::mem::take(&mut fields)));
                }
                field_started = false;
                line += 1;
                record_line = line;
            }
            _ => {
                field.push(c);
                field_started = true;
            }
        }
    }
    if in_quotes {
        return Err((record_line, "unterminated quoted field".to_owned()));
    }
    if field_started || !fields.is_empty() || !field.is_empty() {
        fields.push(field);
        records.push((record_line, fields));
    }
    Ok(records)
}

// ---------------------------------------------------------------------------------------------------------
// Step 1: category averaging (eval_openlm_ckpt.py::evaluate)
// ---------------------------------------------------------------------------------------------------------

/// DCLM's `evaluate()` tail: `evaluator_results` are `(logger key, accuracy)` in llm-foundry's logger-key
/// order; `category_tasks` are the labels of the `has_categories: true` tasks of the eval YAML.
///
/// A key goes to every category task whose label is a **substring** of it (not just the matching path
/// component); other keys stand alone. Each group is averaged with Python's `sum(values) / len(values)`, and
/// is reported under the category task's label, or under the second `/`-component of a standalone key
/// (`metrics/copa/0-shot/...` → `copa`). Result order is first appearance; a label reported twice keeps its
/// first place and its last value (a Python dict).
pub fn category_average<S: AsRef<str>>(
    evaluator_results: &[(String, f64)],
    category_tasks: &[S],
) -> Vec<(String, f64)> {
    let mut performance: Vec<(String, Vec<f64>)> = Vec::new();
    let mut append = |task: &str, value: f64| match performance.iter_mut().find(|(t, _)| t == task) {
        Some((_, values)) => values.push(value),
        None => performance.push((task.to_owned(), vec![value])),
    };
    for (key, value) in evaluator_results {
        let mut standalone = true;
        for task in category_tasks {
            let task = task.as_ref();
            if key.contains(task) {
                append(task, *value);
                standalone = false;
            }
        }
        if standalone {
            append(key, *value);
        }
    }
    let mut report = Vec::new();
    for (task, values) in &performance {
        let mean = python_sum(values) / values.len() as f64;
        let mut parts = task.split('/');
        let first = parts.next().unwrap_or(task);
        let label = parts.next().unwrap_or(first);
        dict_insert(&mut report, label, mean);
    }
    report
}

// ---------------------------------------------------------------------------------------------------------
// Step 2: aggregated_metrics.py::get_aggregated_results
// ---------------------------------------------------------------------------------------------------------

/// Centered accuracy: `(acc − 0.01·B) / (1.0 − 0.01·B)` with B the random baseline in percent (0 → the
/// accuracy itself; 100 → ±inf or NaN, as pandas would give).
pub fn centered_accuracy(accuracy: f64, random_baseline_percent: f64) -> f64 {
    (accuracy - 0.01 * random_baseline_percent) / (1.0 - 0.01 * random_baseline_percent)
}

/// Core or Extended: a number, or DCLM's string when tasks are missing.
#[derive(Debug, Clone, PartialEq)]
pub enum Headline {
    /// The centered mean.
    Score(f64),
    /// Some tasks the headline needs are not in `eval_metrics.icl`.
    MissingTasks(Vec<String>),
}

impl Headline {
    /// The number, when there is one.
    pub fn score(&self) -> Option<f64> {
        match self {
            Headline::Score(score) => Some(*score),
            Headline::MissingTasks(_) => None,
        }
    }

    /// DCLM's text for the missing case: `"N/A due to missing tasks: ['squad', 'gpqa_main']"`.
    pub fn missing_text(missing_tasks: &[String]) -> String {
        format!("N/A due to missing tasks: {}", python_list_repr(missing_tasks))
    }
}

impl Serialize for Headline {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Headline::Score(score) => serializer.serialize_f64(*score),
            Headline::MissingTasks(missing) => serializer.serialize_str(&Headline::missing_text(missing)),
        }
    }
}

/// The raw and centered mean of one `additional_aggregation.json` group (NaN when none of its tasks has a
/// result: pandas' mean of nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMeans {
    pub name: String,
    /// `<name>`: mean accuracy over the group's tasks that are CSV rows with a result.
    pub mean: f64,
    /// `<name>_centered`: mean centered accuracy over the same tasks.
    pub centered_mean: f64,
}

/// Everything `get_aggregated_results` adds to a results file, plus the `eval_metrics.icl` it read.
///
/// Serialises to DCLM's JSON, key for key and in DCLM's order: `eval_metrics` (`{"icl": {...}}`),
/// `missing tasks`, `aggregated_task_categories_centered`, `aggregated_centered_results`,
/// `aggregated_results`, `<group>` and `<group>_centered` per group, `Core_<v>`, `Extended_<v>`,
/// `eval_version`, and for v2 also the unversioned `Core` and `Extended`. A NaN mean (Python writes the
/// non-JSON token `NaN`) is written as `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatedResults {
    /// `eval_metrics.icl`: task label → accuracy, as given (a repeated label keeps its first place and last
    /// value).
    pub icl: Vec<(String, f64)>,
    /// CSV tasks absent from `icl`, in CSV order.
    pub missing_tasks: Vec<String>,
    /// Category → mean centered accuracy over its rows with a result, sorted by category.
    pub categories_centered: Vec<(String, f64)>,
    /// `aggregated_centered_results`: mean centered accuracy over all CSV rows with a result.
    pub centered_mean: f64,
    /// `aggregated_results`: mean raw accuracy over the same rows.
    pub raw_mean: f64,
    /// One entry per group of `additional_aggregation.json`, in file order.
    pub groups: Vec<GroupMeans>,
    /// `Core_<v>`: the `low_variance_datasets` centered mean; `None` when the groups have no such group.
    pub core: Option<Headline>,
    /// `Extended_<v>`: `aggregated_centered_results` when no CSV task is missing.
    pub extended: Headline,
    /// `eval_version`.
    pub version: EvalVersion,
}

impl AggregatedResults {
    /// The raw and centered means of one group.
    pub fn group(&self, name: &str) -> Option<&GroupMeans> {
        self.groups.iter().find(|g| g.name == name)
    }
}

impl Serialize for AggregatedResults {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Ordered<'a>(&'a [(String, f64)]);
        impl Serialize for Ordered<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (key, value) in self.0 {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
        struct EvalMetrics<'a>(&'a [(String, f64)]);
        impl Serialize for EvalMetrics<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("icl", &Ordered(self.0))?;
                map.end()
            }
        }

        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("eval_metrics", &EvalMetrics(&self.icl))?;
        map.serialize_entry("missing tasks", &python_list_repr(&self.missing_tasks))?;
        map.serialize_entry("aggregated_task_categories_centered", &Ordered(&self.categories_centered))?;
        map.serialize_entry("aggregated_centered_results", &self.centered_mean)?;
        map.serialize_entry("aggregated_results", &self.raw_mean)?;
        for group in &self.groups {
            map.serialize_entry(&group.name, &group.mean)?;
            map.serialize_entry(&format!("{}_centered", group.name), &group.centered_mean)?;
        }
        let version = self.version.as_str();
        if let Some(core) = &self.core {
            map.serialize_entry(&format!("Core_{version}"), core)?;
        }
        map.serialize_entry(&format!("Extended_{version}"), &self.extended)?;
        map.serialize_entry("eval_version", version)?;
        if self.version == EvalVersion::CURRENT {
            if let Some(core) = &self.core {
                map.serialize_entry("Core", core)?;
            }
            map.serialize_entry("Extended", &self.extended)?;
        }
        map.end()
    }
}

/// `get_aggregated_results(data, eval_metadata, aggregation_json, version)` for `data = {"eval_metrics":
/// {"icl": icl}}`; `icl` is task label → accuracy (the output of [`category_average`]).
///
/// Labels not in the CSV are carried along but not aggregated; CSV tasks without a label are "missing"
/// (Extended becomes the N/A string) and count as NaN, which every mean skips, as does a NaN accuracy.
pub fn aggregate(
    icl: &[(String, f64)],
    metadata: &EvalMetadata,
    groups: &AggregationGroups,
    version: EvalVersion,
) -> AggregatedResults {
    let mut icl_dict: Vec<(String, f64)> = Vec::with_capacity(icl.len());
    for (label, value) in icl {
        dict_insert(&mut icl_dict, label, *value);
    }
    let lookup: HashMap<&str, f64> = icl_dict.iter().map(|(label, value)| (label.as_str(), *value)).collect();

    let rows = metadata.rows();
    let missing_tasks: Vec<String> =
        rows.iter().filter(|row| !lookup.contains_key(row.task.as_str())).map(|row| row.task.clone()).collect();
    let results: Vec<f64> = rows.iter().map(|row| lookup.get(row.task.as_str()).copied().unwrap_or(f64::NAN)).collect();
    let centered: Vec<f64> =
        rows.iter().zip(&results).map(|(row, &acc)| centered_accuracy(acc, row.random_baseline)).collect();

    let categories_centered = pandas_groupby_mean(rows.iter().map(|row| row.category.as_deref()), &centered);
    let centered_mean = pandas_mean(&centered);
    let raw_mean = pandas_mean(&results);

    let group_means: Vec<GroupMeans> = groups
        .groups()
        .iter()
        .map(|(name, tasks)| {
            // `eval_metadata[eval_metadata["Eval Task"].isin(tasks)]`: CSV rows in CSV order.
            let members: Vec<usize> = (0..rows.len()).filter(|&i| tasks.contains(&rows[i].task)).collect();
            let raw: Vec<f64> = members.iter().map(|&i| results[i]).collect();
            let cen: Vec<f64> = members.iter().map(|&i| centered[i]).collect();
            GroupMeans { name: name.clone(), mean: pandas_mean(&raw), centered_mean: pandas_mean(&cen) }
        })
        .collect();

    let core = groups.get(CORE_GROUP).map(|core_tasks| {
        let missing: Vec<String> =
            core_tasks.iter().filter(|task| !lookup.contains_key(task.as_str())).cloned().collect();
        if missing.is_empty() {
            let score = group_means.iter().find(|g| g.name == CORE_GROUP).map_or(f64::NAN, |g| g.centered_mean);
            Headline::Score(score)
        } else {
            Headline::MissingTasks(missing)
        }
    });
    let extended = if missing_tasks.is_empty() {
        Headline::Score(centered_mean)
    } else {
        Headline::MissingTasks(missing_tasks.clone())
    };

    AggregatedResults {
        icl: icl_dict,
        missing_tasks,
        categories_centered,
        centered_mean,
        raw_mean,
        groups: group_means,
        core,
        extended,
        version,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Python / numpy / pandas arithmetic
// ---------------------------------------------------------------------------------------------------------

/// Python's built-in `sum()` of floats (3.11: plain left-to-right; 3.12+ would compensate).
fn python_sum(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |acc, &v| acc + v)
}

/// Python dict assignment on an insertion-ordered list: an existing key keeps its place, takes the value.
fn dict_insert(dict: &mut Vec<(String, f64)>, key: &str, value: f64) {
    match dict.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => dict.push((key.to_owned(), value)),
    }
}

/// pandas `Series.mean()` of float64 (`nanops.nanmean`): NaNs are replaced by 0 and not counted, the array is
/// summed by numpy (`ndarray.sum`) and divided by the count; NaN when nothing is counted.
fn pandas_mean(values: &[f64]) -> f64 {
    let count = values.iter().filter(|v| !v.is_nan()).count();
    if count == 0 {
        return f64::NAN;
    }
    let filled: Vec<f64> = values.iter().map(|&v| if v.is_nan() { 0.0 } else { v }).collect();
    numpy_sum(&filled) / count as f64
}

/// `np.add.reduce` of a contiguous float64 array: the reduction iterator hands the inner loop at most
/// `NPY_BUFSIZE` (8192) elements at a time; each chunk is pairwise-summed and added to the running result,
/// which starts at the identity 0.
fn numpy_sum(values: &[f64]) -> f64 {
    const NPY_BUFSIZE: usize = 8192;
    values.chunks(NPY_BUFSIZE).fold(0.0, |acc, chunk| acc + numpy_pairwise_sum(chunk))
}

/// numpy's `pairwise_sum_DOUBLE` (`loops_utils.h.src`): below 8 elements a plain loop; up to 128 elements
/// eight interleaved accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus the tail in order;
/// above that, split in two at a multiple of 8 and recurse.
fn numpy_pairwise_sum(a: &[f64]) -> f64 {
    const PW_BLOCKSIZE: usize = 128;
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |acc, &v| acc + v)
    } else if n <= PW_BLOCKSIZE {
        let mut r = [0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (k, acc) in r.iter_mut().enumerate() {
                *acc += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_pairwise_sum(&a[..n2]) + numpy_pairwise_sum(&a[n2..])
    }
}

/// `df.groupby(key).agg({col: "mean"})` (pandas' cython `group_mean`): rows in order, per group a Kahan
/// compensated sum over the non-NaN values divided by their count (NaN if none); rows whose key is NaN
/// (`None`) are dropped; groups sorted by key.
fn pandas_groupby_mean<'a>(keys: impl Iterator<Item = Option<&'a str>>, values: &[f64]) -> Vec<(String, f64)> {
    struct Acc {
        sum: f64,
        compensation: f64,
        count: u64,
    }
    let mut groups: Vec<(&str, Acc)> = Vec::new();
    for (key, &value) in keys.zip(values) {
        let Some(key) = key else { continue };
        let index = match groups.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                groups.push((key, Acc { sum: 0.0, compensation: 0.0, count: 0 }));
                groups.len() - 1
            }
        };
        let acc = &mut groups[index].1;
        if value.is_nan() {
            continue;
        }
        acc.count += 1;
        let y = value - acc.compensation;
        let t = acc.sum + y;
        acc.compensation = t - acc.sum - y;
        if acc.compensation.is_nan() {
            // pandas GH#50367: an infinite value would otherwise turn the sum into NaN.
            acc.compensation = 0.0;
        }
        acc.sum = t;
    }
    groups.sort_by(|a, b| a.0.cmp(b.0));
    groups
        .into_iter()
        .map(|(key, acc)| (key.to_owned(), if acc.count == 0 { f64::NAN } else { acc.sum / acc.count as f64 }))
        .collect()
}

/// `str(list_of_str)`: `['a', 'b']` with each element as Python's `repr`.
fn python_list_repr(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| python_str_repr(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// Python's `repr(str)`: single quotes unless the text has a `'` and no `"`; backslash, the quote, `\t`,
/// `\n`, `\r` escaped; other non-printable characters as `\xhh` / `\uhhhh` / `\Uhhhhhhhh`. Non-printable
/// here means control characters, separators other than the space, and private use; Python also escapes
/// unassigned code points and format characters, which task labels do not contain.
fn python_str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_python_unprintable(c) => {
                let code = c as u32;
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code < 0x10000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn is_python_unprintable(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c as u32, 0xAD | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0xFEFF)
        || matches!(c as u32, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(values: &[(&str, f64)]) -> Vec<(String, f64)> {
        values.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn bundled_tables_parse() {
        let v2 = EvalMetadata::bundled(EvalVersion::V2).unwrap();
        let v1 = EvalMetadata::bundled(EvalVersion::V1).unwrap();
        assert_eq!(v2.rows().len(), 53);
        assert_eq!(v1.rows().len(), 53);
        let tasks = |m: &EvalMetadata| m.rows().iter().map(|r| r.task.clone()).collect::<Vec<_>>();
        assert_eq!(tasks(&v2), tasks(&v1));
        let changed: Vec<&str> = v2
            .rows()
            .iter()
            .zip(v1.rows())
            .filter(|(a, b)| a.random_baseline != b.random_baseline)
            .map(|(a, _)| a.task.as_str())
            .collect();
        assert_eq!(changed.len(), 12, "{changed:?}");
        let groups = AggregationGroups::bundled().unwrap();
        let names: Vec<&str> = groups.groups().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["rw_small", "95%_CI_above", "99%_CI_above", CORE_GROUP]);
        assert_eq!(groups.get(CORE_GROUP).unwrap().len(), 22);
        // The DCLM quirk: two labels of the CI groups are not CSV rows.
        let csv_tasks = tasks(&v2);
        let stray: Vec<&String> =
            groups.get("95%_CI_above").unwrap().iter().filter(|t| !csv_tasks.contains(t)).collect();
        assert_eq!(stray, ["gsm8k", "svamp"]);
    }

    #[test]
    fn csv_reader_handles_dclm_quoting() {
        let text = concat!(
            "Eval Task,Task Category,Task Type,#shots,#datapoints,Random baseline,Centered Metric?,Description\r\n",
            "copa,commonsense reasoning,multiple choice,0,100,50,,\"COPA, with \"\"quotes\"\"\nand a newline\"\r\n",
            "\r\n",
            "siqa,commonsense reasoning,multiple choice,10,1954,33.3,,plain\r\n",
        );
        let meta = EvalMetadata::from_csv("test.csv", text).unwrap();
        assert_eq!(meta.rows().len(), 2);
        assert_eq!(meta.rows()[0].task, "copa");
        assert_eq!(meta.rows()[0].datapoints, Some(100));
        assert_eq!(meta.rows()[1].random_baseline, 33.3);
        assert_eq!(meta.rows()[1].category.as_deref(), Some("commonsense reasoning"));
    }

    #[test]
    fn csv_errors_name_the_place() {
        let err = EvalMetadata::from_csv("x.csv", "Eval Task,Task Category\ncopa,cr\n").unwrap_err();
        assert!(err.to_string().contains("'Random baseline'"), "{err}");
        let err =
            EvalMetadata::from_csv("x.csv", "Eval Task,Task Category,Random baseline\ncopa,cr,fifty\n").unwrap_err();
        assert_eq!(err.to_string(), "x.csv:2: 'Random baseline' of copa is \"fifty\", not a number");
        assert!(EvalMetadata::from_csv("x.csv", "").is_err());
        assert!(EvalMetadata::from_csv("x.csv", "Eval Task,\"open").is_err());
        assert!(AggregationGroups::from_json("g.json", "[1, 2]").is_err());
        assert!(AggregationGroups::from_json("g.json", "{\"a\": [\"x\"]} trailing").is_err());
    }

    #[test]
    fn groups_keep_order_and_python_duplicate_rule() {
        let groups = AggregationGroups::from_json("g.json", r#"{"b": ["x"], "a": ["y"], "b": ["z"]}"#).unwrap();
        assert_eq!(groups.groups(), &[("b".to_owned(), vec!["z".to_owned()]), ("a".to_owned(), vec!["y".to_owned()])]);
    }

    #[test]
    fn categories_are_matched_by_substring() {
        let inputs = labels(&[
            ("metrics/mmlu_zeroshot/0-shot/anatomy/InContextLearningMultipleChoiceAccuracy", 0.5),
            ("metrics/copa/0-shot/InContextLearningMultipleChoiceAccuracy", 0.25),
            ("metrics/mmlu_zeroshot/0-shot/virology/InContextLearningMultipleChoiceAccuracy", 0.75),
            // "bbq" is a substring of this standalone-looking key, so it joins the bbq average.
            ("metrics/not_bbq_task/0-shot/InContextLearningMultipleChoiceAccuracy", 0.1),
            ("metrics/bbq/3-shot/Age/InContextLearningMultipleChoiceAccuracy", 0.3),
        ]);
        let out = category_average(&inputs, &["mmlu_zeroshot", "bbq"]);
        assert_eq!(out, labels(&[("mmlu_zeroshot", 0.625), ("copa", 0.25), ("bbq", (0.1 + 0.3) / 2.0)]));
    }

    #[test]
    fn python_sum_is_left_to_right() {
        // 0.1 + 0.2 + 0.3 in order is 0.6000000000000001; pairwise or compensated sums differ.
        assert_eq!(python_sum(&[0.1, 0.2, 0.3]), 0.6000000000000001);
    }

    #[test]
    fn numpy_pairwise_grouping() {
        let values: Vec<f64> = (0..53).map(|i| 0.1 * i as f64 + 1e-3 / (i as f64 + 1.0)).collect();
        let mut r = [0f64; 8];
        r.copy_from_slice(&values[..8]);
        for block in values[8..48].chunks(8) {
            for k in 0..8 {
                r[k] += block[k];
            }
        }
        let mut expected = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &values[48..] {
            expected += v;
        }
        assert_eq!(numpy_sum(&values), expected);
        assert_eq!(numpy_sum(&[1.0, 2.0]), 3.0);
        assert_eq!(numpy_sum(&[]), 0.0);
    }

    #[test]
    fn pandas_mean_skips_nan_but_keeps_positions() {
        assert_eq!(pandas_mean(&[1.0, f64::NAN, 3.0]), 2.0);
        assert!(pandas_mean(&[f64::NAN]).is_nan());
        assert!(pandas_mean(&[]).is_nan());
    }

    #[test]
    fn groupby_mean_is_kahan_and_sorted() {
        let keys = [Some("b"), Some("a"), None, Some("b"), Some("b"), Some("c")];
        let values = [0.1, 1.0, 5.0, 0.2, 0.3, f64::NAN];
        let out = pandas_groupby_mean(keys.into_iter(), &values);
        assert_eq!(out[0], ("a".to_owned(), 1.0));
        // Compensated: 0.1 + 0.2 + 0.3 = 0.6 exactly-rounded, unlike the naive 0.6000000000000001.
        assert_eq!(out[1], ("b".to_owned(), 0.6 / 3.0));
        assert_eq!(out[2].0, "c");
        assert!(out[2].1.is_nan());
    }

    #[test]
    fn missing_tasks_read_like_python_lists() {
        assert_eq!(python_list_repr(&[]), "[]");
        assert_eq!(python_list_repr(&["squad".into(), "gpqa_main".into()]), "['squad', 'gpqa_main']");
        assert_eq!(
            python_list_repr(&["it's".into(), "a\"b'c".into(), "t\\n\x01".into()]),
            r#"["it's", 'a"b\'c', 't\\n\x01']"#
        );
        assert_eq!(Headline::missing_text(&["squad".into()]), "N/A due to missing tasks: ['squad']");
    }

    #[test]
    fn headlines_and_serialised_shape() {
        let meta = EvalMetadata::from_csv(
            "m.csv",
            "Eval Task,Task Category,Random baseline\ncopa,cr,50\nsquad,rc,0\nboolq,rc,62\n",
        )
        .unwrap();
        let groups = AggregationGroups::from_json("g.json", r#"{"low_variance_datasets": ["copa", "squad"]}"#).unwrap();
        let full =
            aggregate(&labels(&[("copa", 0.75), ("squad", 0.5), ("boolq", 0.62)]), &meta, &groups, EvalVersion::V2);
        assert_eq!(full.core, Some(Headline::Score((0.5 + 0.5) / 2.0)));
        assert_eq!(full.extended.score(), Some((0.5 + 0.5 + 0.0) / 3.0));
        let json = serde_json::to_value(&full).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        // serde_json's map order depends on its features; compare as a set here, order is pinned by the
        // golden test's own parser.
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "Core",
                "Core_v2",
                "Extended",
                "Extended_v2",
                "aggregated_centered_results",
                "aggregated_results",
                "aggregated_task_categories_centered",
                "eval_metrics",
                "eval_version",
                "low_variance_datasets",
                "low_variance_datasets_centered",
                "missing tasks",
            ]
        );
        assert_eq!(json["missing tasks"], "[]");

        let partial = aggregate(&labels(&[("copa", 0.75), ("boolq", f64::NAN)]), &meta, &groups, EvalVersion::V1);
        assert_eq!(partial.missing_tasks, ["squad"]);
        assert_eq!(partial.core, Some(Headline::MissingTasks(vec!["squad".into()])));
        assert_eq!(partial.group(CORE_GROUP).unwrap().centered_mean, 0.5);
        // boolq is present (not missing) but NaN: skipped by the means.
        assert_eq!(partial.raw_mean, 0.75);
        let json = serde_json::to_value(&partial).unwrap();
        assert_eq!(json["Core_v1"], "N/A due to missing tasks: ['squad']");
        assert_eq!(json["Extended_v1"], "N/A due to missing tasks: ['squad']");
        assert!(json.get("Core").is_none());
        assert_eq!(json["aggregated_task_categories_centered"]["rc"], serde_json::Value::Null);
    }
}

//! Decontamination: documents that contain text of an evaluation task, found by word n-gram overlap with
//! the task files (llm-foundry JSONL, as DCLM's eval harness reads them), annotated or dropped, with a
//! per-task report of hits.
//!
//! A per-file stage ([`DecontamStage`]): the task files are read once, in [`Stage::prepare`], into a map
//! from n-gram hash to the tasks it occurs in ([`TaskIndex`]); each document is then one pass over its
//! words.
//!
//! ## What is matched
//! Each row of a task file yields the texts an evaluation shows the model, by llm-foundry task type:
//!
//! | row | the example | other texts |
//! |---|---|---|
//! | multiple choice `{query, choices, gold}` | `query` followed by `choices[gold]` | every choice |
//! | schema `{context_options, continuation, gold}` | each context option followed by `continuation` | |
//! | language modelling `{context, continuation}` | `context` followed by `continuation` | |
//! | generation `{context, answer, aliases?, chain_of_thought?}` | `context` followed by `answer` | each alias, `chain_of_thought` |
//! | code `{prompt, canonical_solution?, test?}` | `prompt` followed by `canonical_solution` | `test` |
//!
//! Metadata fields (`category`, `task_id`, `entry_point`, `language`, `test_inputs`, `test_outputs`) are
//! not eval text; other fields are ignored and named in the log. llm-foundry's prompt labels (`Question:`,
//! `Answer:`, `Q:`, `A:`, `Context:`, `Passage:`, `Sentence:`) at the start or end of a field are the
//! harness' scaffolding, not the item, and are removed before the text is split into words.
//!
//! ## Normalisation and n-grams
//! As GPT-3's decontamination (and lm-evaluation-harness' janitor) does: a **word** is a maximal run of
//! alphanumeric characters (Unicode `Alphabetic` or `Numeric`), lower-cased character by character;
//! punctuation, whitespace, `_` and every other character only separate words (`don't` → `don`, `t`). A
//! text of at least `ngram` words gives all its `ngram`-word windows. A shorter *example* gives itself as
//! one n-gram if it has at least `min_short_words` words (GPT-3's floor of 8), so short items (a trivia
//! question with its answer) are still found; shorter ones (`yes`, `Paris`) would match everywhere and give
//! nothing. Other short texts give nothing: an answer alone is not the item (TriviaQA's alias "the only
//! thing we have to fear is fear itself" is in every copy of Roosevelt's inaugural address). N-grams made
//! only of numbers (`1 2 3 … 13` in HumanEval's tests, and in any calendar page) are not indexed either.
//! An n-gram is its 64-bit xxh3 hash (of its words' xxh3 hashes), so the index costs about 25 bytes per
//! distinct n-gram: 2.9 M n-grams, ~70 MB, for DCLM's whole `local_data` (60 files, 40 MB).
//!
//! **Templates.** Many task files repeat an instruction in every row ("Complete the rest of the sequence,
//! making sure that the parentheses are closed properly", HumanEval's `check` boilerplate, the eight
//! GSM8K training examples of `gsm8k_prepended_8shot`). An n-gram found in at least `template_fraction`
//! of a file's rows, and in at least 10 rows, is the task's template, not an item, and is not indexed (it
//! is counted in the task's summary); `template_fraction: null` indexes everything.
//!
//! ## Per document
//! The document's words are hashed the same way; each window whose hash is in the index counts once per
//! document (distinct n-grams) for every task it occurs in. A task with at least `min_overlap` distinct
//! matching n-grams is **hit**. `annotate` keeps every document and gives hit documents the attributes
//! `decontam_tasks` (hit task names, sorted, comma-separated) and `decontam_ngrams` (distinct matching
//! n-grams of the hit tasks); `drop` drops hit documents with the reason `decontaminated`. Either way the
//! stage counts `decontam_hit:<task>` (documents hitting the task), `decontam_ngram_hits:<task>` (their
//! matching n-grams of that task) and `decontam_docs_hit`, which `sluice stats` sums over workers.
//!
//! A task is named by its file's stem (`local_data/world_knowledge/arc_easy.jsonl` → `arc_easy`); folders
//! are searched recursively for `*.jsonl`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_core::document::JsonMap;
use sluice_core::format::Format;
use sluice_core::runner::{DocumentSink, InputShard, ShardStats, Stage};
use sluice_core::store::Location;
use xxhash_rust::xxh3::xxh3_64;

/// The attribute naming the tasks a kept document hits (annotate mode).
pub const TASKS_ATTRIBUTE: &str = "decontam_tasks";
/// The attribute counting a kept document's matching n-grams (annotate mode).
pub const NGRAMS_ATTRIBUTE: &str = "decontam_ngrams";
/// The drop reason of a hit document (drop mode).
pub const DROP_REASON: &str = "decontaminated";
/// Counter prefix: documents that hit a task (`decontam_hit:<task>`).
pub const HIT_COUNTER: &str = "decontam_hit:";
/// Counter prefix: matching n-grams of the documents that hit a task (`decontam_ngram_hits:<task>`).
pub const NGRAM_HIT_COUNTER: &str = "decontam_ngram_hits:";
/// Counter: documents that hit at least one task.
pub const DOCS_HIT_COUNTER: &str = "decontam_docs_hit";

/// An n-gram in at least this many rows of a file (and `template_fraction` of them) is a template.
const TEMPLATE_MIN_ROWS: u32 = 10;
/// The longest n-gram `ngram` may ask for (bounds the per-document window).
const MAX_NGRAM: usize = 64;
/// Word hashes kept per document before the window is compacted (bounds memory on huge documents).
const WINDOW_WORDS: usize = 8192;
/// Prompt labels llm-foundry puts around items; removed at the start or end of a field.
const PROMPT_LABELS: [&str; 7] = ["Question:", "Answer:", "Q:", "A:", "Context:", "Passage:", "Sentence:"];
/// Row fields that are metadata, not eval text.
const METADATA_FIELDS: [&str; 6] = ["category", "task_id", "entry_point", "language", "test_inputs", "test_outputs"];
/// Row fields read as eval text (or as the `gold` index).
const TEXT_FIELDS: [&str; 12] = [
    "query",
    "choices",
    "gold",
    "context",
    "continuation",
    "context_options",
    "answer",
    "aliases",
    "chain_of_thought",
    "prompt",
    "canonical_solution",
    "test",
];

/// What happens to a document that hits a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecontamMode {
    /// Keep it, with `decontam_tasks` and `decontam_ngrams` attributes.
    Annotate,
    /// Drop it (reason `decontaminated`).
    Drop,
}

/// Parameters of the `decontam` stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecontamConfig {
    /// Input document files or folders. Optional in a recipe stage that follows another.
    #[serde(skip_serializing)]
    pub input: Vec<String>,
    /// Where to write. Default: `<recipe output>/<stage number>-dedup`.
    #[serde(skip_serializing)]
    pub output: Option<String>,
    /// llm-foundry JSONL task files, or folders searched recursively for `*.jsonl` (paths or URLs).
    pub tasks: Vec<String>,
    /// Words per n-gram (GPT-3 and DCLM's BFF use 13).
    pub ngram: usize,
    /// `annotate` (keep every document, mark hits) or `drop` (remove hits).
    pub mode: DecontamMode,
    /// Distinct matching n-grams of one task that make a document hit it.
    pub min_overlap: u64,
    /// A text shorter than `ngram` words is indexed as one n-gram if it has at least this many words.
    pub min_short_words: usize,
    /// An n-gram in at least this fraction of a file's rows (and in 10 rows or more) is the task's
    /// template and is not indexed; `null` indexes every n-gram.
    pub template_fraction: Option<f64>,
}

impl Default for DecontamConfig {
    fn default() -> Self {
        DecontamConfig {
            input: Vec::new(),
            output: None,
            tasks: Vec::new(),
            ngram: 13,
            mode: DecontamMode::Annotate,
            min_overlap: 1,
            min_short_words: 8,
            template_fraction: Some(0.25),
        }
    }
}

/// Why the stage cannot be built or its task files cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecontamError {
    #[error("no task files: set `tasks` to llm-foundry JSONL task files or folders (e.g. DCLM's local_data/)")]
    NoTasks,
    #[error("{0}")]
    Config(String),
    #[error("cannot read task file {file}: {message}")]
    Read { file: String, message: String },
    #[error("no task files (*.jsonl) under {path}{}", if *.exists { "" } else { ": it does not exist" })]
    NoTaskFiles { path: String, exists: bool },
    #[error("task file {file}:{line}: {message}")]
    Task { file: String, line: u64, message: String },
    #[error(
        "task '{name}' comes from two files, {first} and {second}: a task is named by its file's stem, rename one"
    )]
    DuplicateTask { name: String, first: String, second: String },
    #[error("{0} task files: at most 65535")]
    TooManyTasks(usize),
}

/// What was indexed from one task file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskSummary {
    /// The task's name: its file's stem.
    pub name: String,
    /// The file, as named in `tasks` (folders joined with the path found under them).
    pub file: String,
    /// Rows (non-blank lines).
    pub rows: u64,
    /// Distinct n-grams indexed for this task (short texts included).
    pub ngrams: u64,
    /// Of those, short texts indexed whole (fewer than `ngram` words).
    pub short_ngrams: u64,
    /// Distinct n-grams not indexed because they are the task's template.
    pub template_ngrams: u64,
    /// Distinct n-grams not indexed because all their words are numbers.
    pub numeric_ngrams: u64,
    /// Fields of the file that are neither eval text nor known metadata (ignored).
    pub ignored_fields: Vec<String>,
}

/// The tasks a text hits, with their distinct matching n-grams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskMatch {
    pub task: String,
    pub ngrams: u64,
}

/// A `HashMap` hasher for keys that are already xxh3 hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type PrehashedMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;
type PrehashedSet = HashSet<u64, BuildHasherDefault<Prehashed>>;

/// Every indexed n-gram of the task files, with the tasks it occurs in.
pub struct TaskIndex {
    /// N-gram lengths to look up in documents: `ngram`, then the short-text lengths that occur.
    lengths: Vec<usize>,
    /// N-gram hash → task-set id.
    grams: PrehashedMap<u32>,
    /// Task-set id → task ids, ascending (ids are in task-name order).
    sets: Vec<Vec<u16>>,
    tasks: Vec<TaskSummary>,
}

/// The task files named by `tasks`: (task name, file path), in task-name order.
fn task_files(tasks: &[String]) -> Result<Vec<(String, String)>, DecontamError> {
    let mut files: Vec<(String, String)> = Vec::new();
    for path in tasks {
        let found = list_task_files(path)?;
        if found.is_empty() {
            let exists = Location::parse(path)
                .and_then(|l| l.list_objects())
                .map(|entries| !entries.is_empty())
                .unwrap_or(false);
            return Err(DecontamError::NoTaskFiles { path: path.clone(), exists });
        }
        for file in found {
            if !files.iter().any(|(_, f)| *f == file) {
                files.push((task_name(&file), file));
            }
        }
    }
    files.sort();
    for pair in files.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(DecontamError::DuplicateTask {
                name: pair[0].0.clone(),
                first: pair[0].1.clone(),
                second: pair[1].1.clone(),
            });
        }
    }
    if files.len() > usize::from(u16::MAX) {
        return Err(DecontamError::TooManyTasks(files.len()));
    }
    Ok(files)
}

/// The task files at `path`: the file itself (whatever its name), or every `*.jsonl` under the folder,
/// named as `path` joined with the relative path, so the names are as stable as the user's.
fn list_task_files(path: &str) -> Result<Vec<String>, DecontamError> {
    let read_error = |e: sluice_core::Error| DecontamError::Read { file: path.to_string(), message: e.to_string() };
    let location = Location::parse(path).map_err(read_error)?;
    let entries = location.list_objects().map_err(read_error)?;
    if let [only] = entries.as_slice() {
        if only.location.to_string() == location.to_string() {
            return Ok(vec![path.to_string()]);
        }
    }
    Ok(entries
        .iter()
        .map(|e| e.location.relative_to(&location))
        .filter(|rel| rel.to_ascii_lowercase().ends_with(".jsonl"))
        .map(|rel| format!("{}/{rel}", path.trim_end_matches('/')))
        .collect())
}

/// A task's name: the file name without its last extension (`human_eval-0.25.jsonl` → `human_eval-0.25`).
fn task_name(file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => name.to_string(),
    }
}

/// Calls `f` with the hash of each word of `text` (see the module docs: maximal runs of alphanumeric
/// characters, lower-cased) and the word as it is in `text`. `lower` is a reusable buffer.
fn for_each_word(text: &str, lower: &mut String, mut f: impl FnMut(u64, &str)) {
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            f(word_hash(&text[s..i], lower), &text[s..i]);
        }
    }
    if let Some(s) = start {
        f(word_hash(&text[s..], lower), &text[s..]);
    }
}

fn word_hash(word: &str, lower: &mut String) -> u64 {
    if word.is_ascii() {
        if !word.bytes().any(|b| b.is_ascii_uppercase()) {
            return xxh3_64(word.as_bytes());
        }
        lower.clear();
        lower.push_str(word);
        lower.make_ascii_lowercase();
    } else {
        lower.clear();
        for c in word.chars() {
            lower.extend(c.to_lowercase());
        }
    }
    xxh3_64(lower.as_bytes())
}

/// The hash of the n-gram made of the last `k` words in `window` (8 little-endian bytes per word hash).
fn gram_hash(window: &[u8], words: usize, k: usize) -> u64 {
    xxh3_64(&window[(words - k) * 8..words * 8])
}

/// `s` without llm-foundry's prompt labels at its start and end.
fn strip_prompt_labels(s: &str) -> &str {
    let mut text = s.trim();
    if let Some(rest) = PROMPT_LABELS.iter().find_map(|label| text.strip_prefix(label)) {
        text = rest.trim_start();
    }
    // At the end, a label is on a line of its own (`…?\nAnswer:`): "Plan A:" keeps its "A:".
    for label in PROMPT_LABELS {
        if let Some(rest) = text.strip_suffix(label) {
            if rest.is_empty() || rest.trim_end_matches([' ', '\t']).ends_with('\n') {
                text = rest.trim_end();
                break;
            }
        }
    }
    text
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A text of a row: pieces read as one word sequence.
#[derive(Debug, PartialEq, Eq)]
struct Text<'a> {
    pieces: Vec<&'a str>,
    /// The example as an evaluation shows it (indexed whole when shorter than an n-gram).
    example: bool,
}

/// One row of a task file, its fields checked as they are read.
struct Row<'a>(&'a JsonMap);

impl<'a> Row<'a> {
    fn string(&self, field: &str) -> Result<Option<&'a str>, String> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("field '{field}' must be a string, not {}", json_type(other))),
        }
    }

    fn strings(&self, field: &str) -> Result<Option<Vec<&'a str>>, String> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.as_str()),
                    other => {
                        Err(format!("field '{field}' must be a list of strings; item {i} is {}", json_type(other)))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(format!("field '{field}' must be a list of strings, not {}", json_type(other))),
        }
    }

    /// `gold`, checked to index a list of `len` items (of field `of`).
    fn gold(&self, len: usize, of: &str, required: bool) -> Result<Option<usize>, String> {
        match self.0.get("gold") {
            None if required => Err(format!("field 'gold' is missing (the index of the right item of '{of}')")),
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(g) if (g as usize) < len => Ok(Some(g as usize)),
                _ => Err(format!("field 'gold' is {n}, not an index into '{of}' (0..{len})")),
            },
            Some(other) => Err(format!("field 'gold' must be an integer, not {}", json_type(other))),
        }
    }

    fn required<T>(&self, value: Option<T>, field: &str, kind: &str) -> Result<T, String> {
        value.ok_or_else(|| format!("field '{field}' is missing (a {kind} row needs it)"))
    }

    /// The texts of this row; see the module docs.
    fn texts(&self) -> Result<Vec<Text<'a>>, String> {
        let mut texts: Vec<Text<'a>> = Vec::new();
        let example = |pieces: Vec<&'a str>| Text { pieces, example: true };
        let other = |text: &'a str| Text { pieces: vec![text], example: false };
        if let Some(options) = self.strings("context_options")? {
            let continuation = self.required(self.string("continuation")?, "continuation", "schema")?;
            self.gold(options.len(), "context_options", false)?;
            texts.extend(options.into_iter().map(|option| example(vec![option, continuation])));
        } else if let Some(choices) = self.strings("choices")? {
            let query = self.required(self.string("query")?.or(self.string("context")?), "query", "multiple-choice")?;
            let gold = self.gold(choices.len(), "choices", true)?.unwrap_or(0);
            texts.push(example(vec![query, choices[gold]]));
            texts.extend(choices.into_iter().map(other));
        } else if let Some(prompt) = self.string("prompt")? {
            let mut pieces = vec![prompt];
            pieces.extend(self.string("canonical_solution")?);
            texts.push(example(pieces));
            texts.extend(self.string("test")?.map(other));
        } else if let Some(context) = self.string("context")? {
            let answer = match (self.string("continuation")?, self.string("answer")?) {
                (Some(a), _) | (None, Some(a)) => a,
                (None, None) => {
                    return Err("field 'continuation' (language modelling) or 'answer' (generation) is missing".into())
                }
            };
            texts.push(example(vec![context, answer]));
            texts.extend(self.string("chain_of_thought")?.map(other));
            texts.extend(self.strings("aliases")?.unwrap_or_default().into_iter().map(other));
        } else if self.0.contains_key("query") {
            return Err("a row with 'query' needs 'choices' and 'gold' (llm-foundry multiple choice)".into());
        } else {
            return Err("no eval text: an llm-foundry task row has 'query' + 'choices' + 'gold' (multiple choice), \
                        'context_options' + 'continuation' + 'gold' (schema), 'context' + 'continuation' \
                        (language modelling), 'context' + 'answer' (generation) or 'prompt' (code)"
                .into());
        }
        Ok(texts)
    }
}

/// The n-grams of one task file, before they are merged into the index.
struct FileGrams {
    /// Indexed n-grams: (hash, words), distinct.
    grams: Vec<(u64, u8)>,
    summary: TaskSummary,
}

/// Settings that shape the index.
#[derive(Clone, Copy)]
struct IndexParams {
    ngram: usize,
    min_short_words: usize,
    template_fraction: Option<f64>,
}

/// Reads one task file and returns its indexed n-grams; a bad line is an error naming the file and line.
fn load_task_file(name: &str, file: &str, params: IndexParams) -> Result<FileGrams, DecontamError> {
    let read_error = |e: sluice_core::Error| DecontamError::Read { file: file.to_string(), message: e.to_string() };
    let bytes = Location::parse(file).and_then(|l| l.read_bytes()).map_err(read_error)?;
    let bad_line = |line: u64, message: String| DecontamError::Task { file: file.to_string(), line, message };
    // gram hash → (rows it occurs in, last row + 1, words).
    let mut seen: PrehashedMap<(u32, u32, u8)> = PrehashedMap::default();
    let mut numeric = PrehashedSet::default();
    let mut ignored: BTreeSet<String> = BTreeSet::new();
    let mut window: Vec<u8> = Vec::new();
    // For each word of the text, how many words up to it in a row are numbers.
    let mut numeric_run: Vec<usize> = Vec::new();
    let mut lower = String::new();
    let mut rows: u32 = 0;
    let content = bytes.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(&bytes);
    for (i, line) in content.split(|&b| b == b'\n').enumerate() {
        let number = i as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value = serde_json::from_slice(line).map_err(|e| {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            bad_line(number, format!("invalid JSON at column {}: {message}", e.column()))
        })?;
        let Value::Object(object) = &value else {
            return Err(bad_line(number, format!("a row must be a JSON object, not {}", json_type(&value))));
        };
        for key in object.keys() {
            if !TEXT_FIELDS.contains(&key.as_str()) && !METADATA_FIELDS.contains(&key.as_str()) {
                ignored.insert(key.clone());
            }
        }
        let texts = Row(object).texts().map_err(|message| bad_line(number, message))?;
        rows += 1;
        for text in texts {
            window.clear();
            numeric_run.clear();
            for piece in text.pieces {
                for_each_word(strip_prompt_labels(piece), &mut lower, |h, word| {
                    window.extend_from_slice(&h.to_le_bytes());
                    let run =
                        if word.chars().all(char::is_numeric) { numeric_run.last().map_or(1, |r| r + 1) } else { 0 };
                    numeric_run.push(run);
                });
            }
            let words = numeric_run.len();
            let mut note = |end: usize, k: usize| {
                let hash = gram_hash(&window, end, k);
                if numeric_run[end - 1] >= k {
                    numeric.insert(hash);
                    return;
                }
                let entry = seen.entry(hash).or_insert((0, 0, k as u8));
                if entry.1 != rows {
                    entry.0 += 1;
                    entry.1 = rows;
                }
            };
            if words >= params.ngram {
                for end in params.ngram..=words {
                    note(end, params.ngram);
                }
            } else if text.example && words >= params.min_short_words {
                note(words, words);
            }
        }
    }
    let template_rows = match params.template_fraction {
        Some(fraction) => TEMPLATE_MIN_ROWS.max((fraction * f64::from(rows)).ceil() as u32),
        None => u32::MAX,
    };
    let mut summary = TaskSummary {
        name: name.to_string(),
        file: file.to_string(),
        rows: u64::from(rows),
        ngrams: 0,
        short_ngrams: 0,
        template_ngrams: 0,
        numeric_ngrams: numeric.len() as u64,
        ignored_fields: ignored.into_iter().collect(),
    };
    let mut grams = Vec::with_capacity(seen.len());
    for (hash, (in_rows, _, words)) in seen {
        if in_rows >= template_rows {
            summary.template_ngrams += 1;
        } else {
            summary.short_ngrams += u64::from(usize::from(words) < params.ngram);
            grams.push((hash, words));
        }
    }
    grams.sort_unstable();
    summary.ngrams = grams.len() as u64;
    Ok(FileGrams { grams, summary })
}

impl TaskIndex {
    /// Reads every task file `config.tasks` names (in parallel) and indexes their n-grams.
    pub fn load(config: &DecontamConfig) -> Result<TaskIndex, DecontamError> {
        check_config(config)?;
        let params = IndexParams {
            ngram: config.ngram,
            min_short_words: config.min_short_words,
            template_fraction: config.template_fraction,
        };
        let files = task_files(&config.tasks)?;
        let loaded: Vec<FileGrams> =
            files.par_iter().map(|(name, file)| load_task_file(name, file, params)).collect::<Result<_, _>>()?;
        let mut grams: PrehashedMap<u32> = PrehashedMap::default();
        grams.reserve(loaded.iter().map(|f| f.grams.len()).sum());
        let mut sets: Vec<Vec<u16>> = Vec::new();
        let mut interned: HashMap<Vec<u16>, u32> = HashMap::new();
        let mut intern = |set: Vec<u16>, sets: &mut Vec<Vec<u16>>| -> u32 {
            *interned.entry(set).or_insert_with_key(|set| {
                sets.push(set.clone());
                (sets.len() - 1) as u32
            })
        };
        let mut short_lengths: BTreeSet<usize> = BTreeSet::new();
        let mut tasks = Vec::with_capacity(loaded.len());
        for (id, file) in loaded.into_iter().enumerate() {
            let id = id as u16;
            let single = intern(vec![id], &mut sets);
            for (hash, words) in file.grams {
                if usize::from(words) < config.ngram {
                    short_lengths.insert(usize::from(words));
                }
                match grams.get_mut(&hash) {
                    None => {
                        grams.insert(hash, single);
                    }
                    Some(set) => {
                        // Files are merged in id order, each file's n-grams are distinct: `id` is new here.
                        let mut with = sets[*set as usize].clone();
                        with.push(id);
                        *set = intern(with, &mut sets);
                    }
                }
            }
            tracing::info!(
                "decontam: task {} ({}): {} rows, {} n-grams indexed ({} short texts), {} template n-grams left out",
                file.summary.name,
                file.summary.file,
                file.summary.rows,
                file.summary.ngrams,
                file.summary.short_ngrams,
                file.summary.template_ngrams
            );
            if !file.summary.ignored_fields.is_empty() {
                tracing::warn!(
                    "decontam: {}: fields ignored (not llm-foundry eval text): {}",
                    file.summary.file,
                    file.summary.ignored_fields.join(", ")
                );
            }
            tasks.push(file.summary);
        }
        let mut lengths = vec![config.ngram];
        lengths.extend(short_lengths.into_iter().rev());
        Ok(TaskIndex { lengths, grams, sets, tasks })
    }

    /// What was indexed from each task file, in task-name order.
    pub fn tasks(&self) -> &[TaskSummary] {
        &self.tasks
    }

    /// Distinct n-grams in the index (an n-gram of several tasks counts once).
    pub fn ngrams(&self) -> usize {
        self.grams.len()
    }

    /// Every task `text` shares at least one n-gram with, with its count of distinct matching n-grams,
    /// in task-name order (whatever `min_overlap` is).
    pub fn matches(&self, text: &str) -> Vec<TaskMatch> {
        let mut scanner = Scanner::new(self);
        scanner.scan(text);
        let mut found: Vec<TaskMatch> = scanner
            .touched
            .iter()
            .map(|&t| TaskMatch {
                task: self.tasks[usize::from(t)].name.clone(),
                ngrams: scanner.counts[usize::from(t)],
            })
            .collect();
        found.sort_by(|a, b| a.task.cmp(&b.task));
        found
    }
}

/// Per-document matching state, reused across documents.
struct Scanner<'a> {
    index: &'a TaskIndex,
    /// Word hashes of the document's last words (8 bytes each).
    window: Vec<u8>,
    lower: String,
    /// Distinct matching n-grams of the current document …
    matched: PrehashedSet,
    /// … and the task set of each.
    matched_sets: Vec<u32>,
    /// Distinct matching n-grams per task id (only `touched` ones are non-zero).
    counts: Vec<u64>,
    touched: Vec<u16>,
}

impl<'a> Scanner<'a> {
    fn new(index: &'a TaskIndex) -> Self {
        Scanner {
            index,
            window: Vec::with_capacity(WINDOW_WORDS * 8),
            lower: String::new(),
            matched: PrehashedSet::default(),
            matched_sets: Vec::new(),
            counts: vec![0; index.tasks.len()],
            touched: Vec::new(),
        }
    }

    /// Counts the distinct n-grams of `text` per task (into `counts` and `touched`).
    fn scan(&mut self, text: &str) {
        for &t in &self.touched {
            self.counts[usize::from(t)] = 0;
        }
        self.touched.clear();
        self.matched.clear();
        self.matched_sets.clear();
        self.window.clear();
        let index = self.index;
        let longest = index.lengths.iter().copied().max().unwrap_or(1);
        let (window, lower) = (&mut self.window, &mut self.lower);
        let (matched, matched_sets, counts, touched) =
            (&mut self.matched, &mut self.matched_sets, &mut self.counts, &mut self.touched);
        for_each_word(text, lower, |h, _| {
            if window.len() >= WINDOW_WORDS * 8 {
                // Only the last `longest - 1` words can still start an n-gram.
                window.drain(..window.len() - (longest - 1) * 8);
            }
            window.extend_from_slice(&h.to_le_bytes());
            let words = window.len() / 8;
            for &k in &index.lengths {
                if words < k {
                    continue;
                }
                let hash = gram_hash(window, words, k);
                if let Some(&set) = index.grams.get(&hash) {
                    if matched.insert(hash) {
                        matched_sets.push(set);
                        for &t in &index.sets[set as usize] {
                            let count = &mut counts[usize::from(t)];
                            if *count == 0 {
                                touched.push(t);
                            }
                            *count += 1;
                        }
                    }
                }
            }
        });
    }

    /// After [`Scanner::scan`]: the tasks with at least `min_overlap` matching n-grams (ascending id,
    /// i.e. name order), and the distinct matching n-grams of those tasks.
    fn hits(&self, min_overlap: u64) -> (Vec<u16>, u64) {
        let mut hit: Vec<u16> =
            self.touched.iter().copied().filter(|&t| self.counts[usize::from(t)] >= min_overlap).collect();
        hit.sort_unstable();
        if hit.is_empty() {
            return (hit, 0);
        }
        let ngrams = self
            .matched_sets
            .iter()
            .filter(|&&set| self.index.sets[set as usize].iter().any(|t| hit.binary_search(t).is_ok()))
            .count() as u64;
        (hit, ngrams)
    }
}

fn check_config(config: &DecontamConfig) -> Result<(), DecontamError> {
    if config.tasks.is_empty() {
        return Err(DecontamError::NoTasks);
    }
    if config.ngram == 0 || config.ngram > MAX_NGRAM {
        return Err(DecontamError::Config(format!("`ngram` must be 1..={MAX_NGRAM}, not {}", config.ngram)));
    }
    if config.min_overlap == 0 {
        return Err(DecontamError::Config("`min_overlap` must be at least 1".into()));
    }
    if config.min_short_words == 0 {
        return Err(DecontamError::Config("`min_short_words` must be at least 1".into()));
    }
    if let Some(fraction) = config.template_fraction {
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(DecontamError::Config(format!(
                "`template_fraction` must be in (0, 1] (or null to keep templates), not {fraction}"
            )));
        }
    }
    Ok(())
}

/// The decontamination stage (see the module docs).
pub struct DecontamStage {
    config: DecontamConfig,
    index: OnceLock<Result<TaskIndex, DecontamError>>,
}

impl DecontamStage {
    /// Checks the configuration; the task files are read by [`Stage::prepare`] (or [`DecontamStage::index`]).
    pub fn new(config: DecontamConfig) -> Result<Self, DecontamError> {
        check_config(&config)?;
        Ok(DecontamStage { config, index: OnceLock::new() })
    }

    pub fn config(&self) -> &DecontamConfig {
        &self.config
    }

    /// The task index, loaded on first use (once; a load error is returned again on every call).
    pub fn index(&self) -> Result<&TaskIndex, DecontamError> {
        self.index.get_or_init(|| TaskIndex::load(&self.config)).as_ref().map_err(Clone::clone)
    }
}

impl Stage for DecontamStage {
    fn name(&self) -> &str {
        "decontam"
    }

    fn version(&self) -> u32 {
        1
    }

    fn fingerprint(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_default()
    }

    /// Every task file, folders listed. A path with no task file is returned as the file it should be
    /// (`x.jsonl`, or `dir/*.jsonl` for a folder), so that it is reported missing before any stage runs.
    fn referenced_files(&self) -> Vec<String> {
        let mut files: Vec<String> = Vec::new();
        for path in &self.config.tasks {
            let mut found = list_task_files(path).unwrap_or_default();
            if found.is_empty() {
                found.push(if path.to_ascii_lowercase().ends_with(".jsonl") {
                    path.clone()
                } else {
                    format!("{}/*.jsonl", path.trim_end_matches('/'))
                });
            }
            for file in found {
                if !files.contains(&file) {
                    files.push(file);
                }
            }
        }
        files
    }

    fn prepare(&self) -> sluice_core::Result<()> {
        self.index().map(|_| ()).map_err(|e| sluice_core::Error::Other(e.to_string()))
    }

    fn accepts(&self, path: &str) -> bool {
        Format::from_path(path).is_some()
    }

    fn process(
        &self,
        input: &InputShard<'_>,
        out: &mut DocumentSink,
        stats: &mut ShardStats,
    ) -> sluice_core::Result<()> {
        let index = self.index().map_err(|e| sluice_core::Error::Other(e.to_string()))?;
        let hit_counters: Vec<String> = index.tasks.iter().map(|t| format!("{HIT_COUNTER}{}", t.name)).collect();
        let ngram_counters: Vec<String> =
            index.tasks.iter().map(|t| format!("{NGRAM_HIT_COUNTER}{}", t.name)).collect();
        let mut scanner = Scanner::new(index);
        let mut names = String::new();
        let mut reader = input.open_documents()?;
        while let Some(batch) = reader.next_batch()? {
            for mut doc in batch {
                stats.docs_in += 1;
                scanner.scan(&doc.text);
                let (hit, ngrams) = scanner.hits(self.config.min_overlap);
                if hit.is_empty() {
                    if self.config.mode == DecontamMode::Annotate {
                        // Attributes of an earlier run over the same documents would be stale.
                        doc.attributes.remove(TASKS_ATTRIBUTE);
                        doc.attributes.remove(NGRAMS_ATTRIBUTE);
                    }
                    out.push(doc)?;
                    continue;
                }
                stats.count(DOCS_HIT_COUNTER, 1);
                names.clear();
                for &t in &hit {
                    let t = usize::from(t);
                    stats.count(&hit_counters[t], 1);
                    stats.count(&ngram_counters[t], scanner.counts[t]);
                    if !names.is_empty() {
                        names.push(',');
                    }
                    names.push_str(&index.tasks[t].name);
                }
                match self.config.mode {
                    DecontamMode::Drop => stats.drop_doc(DROP_REASON),
                    DecontamMode::Annotate => {
                        doc.attributes.insert(TASKS_ATTRIBUTE.into(), Value::String(names.clone()));
                        doc.attributes.insert(NGRAMS_ATTRIBUTE.into(), Value::from(ngrams));
                        out.push(doc)?;
                    }
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        for_each_word(text, &mut String::new(), |h, _| out.push(h));
        out
    }

    fn hash_words(words: &[&str]) -> Vec<u64> {
        words.iter().map(|w| xxh3_64(w.as_bytes())).collect()
    }

    #[test]
    fn words_are_lowercased_runs_of_alphanumerics() {
        assert_eq!(
            words("Don't  STOP—the__1,000 Äpfel!"),
            hash_words(&["don", "t", "stop", "the", "1", "000", "äpfel"])
        );
        assert_eq!(words(""), Vec::<u64>::new());
        assert_eq!(words(" \n\t…!? "), Vec::<u64>::new());
        assert_eq!(words("東京 is 日本"), hash_words(&["東京", "is", "日本"]));
    }

    #[test]
    fn prompt_labels_are_removed_only_at_the_ends() {
        assert_eq!(
            strip_prompt_labels("Question: Who was the man behind The Chipmunks?\nAnswer:"),
            "Who was the man behind The Chipmunks?"
        );
        assert_eq!(strip_prompt_labels("Q: Is it A: or B?\nA:"), "Is it A: or B?");
        assert_eq!(strip_prompt_labels("Plan A:"), "Plan A:");
        assert_eq!(strip_prompt_labels("Answer:"), "");
    }

    #[test]
    fn task_names_are_file_stems() {
        assert_eq!(task_name("local_data/world_knowledge/arc_easy.jsonl"), "arc_easy");
        assert_eq!(task_name("s3://b/p/human_eval-0.25.jsonl"), "human_eval-0.25");
        assert_eq!(task_name("mine"), "mine");
    }

    fn index_of(rows: &[&str], config: DecontamConfig) -> (tempfile::TempDir, TaskIndex) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.jsonl"), rows.join("\n")).unwrap();
        let config = DecontamConfig { tasks: vec![dir.path().to_str().unwrap().to_string()], ..config };
        let index = TaskIndex::load(&config).unwrap();
        (dir, index)
    }

    #[test]
    fn each_task_type_gives_its_texts() {
        // "example: " marks the example, " + " joins its pieces.
        let texts = |row: &str| -> Vec<String> {
            let value: Value = serde_json::from_str(row).unwrap();
            let texts = Row(value.as_object().unwrap()).texts().unwrap();
            texts
                .iter()
                .map(|t| format!("{}{}", if t.example { "example: " } else { "" }, t.pieces.join(" + ")))
                .collect()
        };
        assert_eq!(texts(r#"{"query": "Q?", "choices": ["a", "b"], "gold": 1}"#), ["example: Q? + b", "a", "b"]);
        assert_eq!(
            texts(r#"{"context_options": ["x so A", "x so B"], "continuation": "won.", "gold": 0}"#),
            ["example: x so A + won.", "example: x so B + won."]
        );
        assert_eq!(texts(r#"{"context": "c", "continuation": "d", "category": "HISTORY"}"#), ["example: c + d"]);
        assert_eq!(
            texts(r#"{"context": "c", "answer": "a", "aliases": ["x", "y"], "chain_of_thought": "t"}"#),
            ["example: c + a", "t", "x", "y"]
        );
        assert_eq!(
            texts(r#"{"prompt": "p", "canonical_solution": "s", "test": "t", "task_id": "1", "test_inputs": []}"#),
            ["example: p + s", "t"]
        );
    }

    #[test]
    fn wrong_schemas_say_which_field() {
        let error = |row: &str| {
            let value: Value = serde_json::from_str(row).unwrap();
            Row(value.as_object().unwrap()).texts().unwrap_err()
        };
        assert_eq!(
            error(r#"{"query": 5, "choices": ["a"], "gold": 0}"#),
            "field 'query' must be a string, not a number"
        );
        assert_eq!(
            error(r#"{"query": "q", "choices": ["a", 2], "gold": 0}"#),
            "field 'choices' must be a list of strings; item 1 is a number"
        );
        assert_eq!(
            error(r#"{"query": "q", "choices": ["a"], "gold": 1}"#),
            "field 'gold' is 1, not an index into 'choices' (0..1)"
        );
        assert!(error(r#"{"query": "q", "choices": ["a"]}"#).starts_with("field 'gold' is missing"));
        assert!(error(r#"{"query": "q"}"#).contains("needs 'choices' and 'gold'"));
        assert!(error(r#"{"question": "q", "answer": "a"}"#).starts_with("no eval text"));
        assert!(error(r#"{"context": "c"}"#).contains("'continuation'"));
    }

    #[test]
    fn short_texts_are_one_ngram_from_min_short_words_on() {
        let rows = [
            r#"{"context": "Question: Who was the man behind The Chipmunks?\nAnswer:", "answer": "David Seville", "aliases": ["Seville"]}"#,
        ];
        let (_dir, index) = index_of(&rows, DecontamConfig::default());
        // 9 words: the whole question with its answer, and nothing else (the alias is one word).
        assert_eq!(index.ngrams(), 1);
        assert_eq!(index.tasks()[0].short_ngrams, 1);
        let hit = index.matches("Trivia night! who was the man behind the chipmunks? DAVID SEVILLE, of course.");
        assert_eq!(hit, [TaskMatch { task: "t".into(), ngrams: 1 }]);
        assert!(index.matches("Who was the man behind The Chipmunks? Nobody knows.").is_empty());
        let (_dir, index) = index_of(&rows, DecontamConfig { min_short_words: 10, ..DecontamConfig::default() });
        assert_eq!(index.ngrams(), 0);
        // An answer alone is not the item, however long: only its full n-grams are indexed.
        let rows = [
            r#"{"context": "Question: Which US President said this in his inaugural address?\nAnswer:", "answer": "Franklin D. Roosevelt", "aliases": ["The only thing we have to fear is fear itself"]}"#,
        ];
        let (_dir, index) = index_of(&rows, DecontamConfig::default());
        assert_eq!(index.ngrams(), 1, "the 12 words of question and answer, whole");
        assert!(index
            .matches(
                "So, first of all, let me assert my firm belief that the only thing we have to fear is fear itself"
            )
            .is_empty());
    }

    #[test]
    fn ngrams_of_numbers_only_are_not_indexed() {
        let rows = [
            r#"{"prompt": "def count(n):\n    \"\"\"Counts up.\"\"\"\n", "canonical_solution": "    return list(range(1, n + 1))\n", "test": "def check(candidate):\n    assert candidate(15) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\n"}"#,
        ];
        let (_dir, index) = index_of(&rows, DecontamConfig::default());
        // `15` and 1 … 15: 16 numbers in a row, 4 windows of numbers only.
        assert_eq!(index.tasks()[0].numeric_ngrams, 4);
        assert!(index.matches("Calendar: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16").is_empty());
        let found = index.matches("assert candidate(15) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]");
        assert_eq!(
            found,
            [TaskMatch { task: "t".into(), ngrams: 2 }],
            "the windows that start at assert and candidate"
        );
    }

    #[test]
    fn ngrams_in_many_rows_are_templates() {
        let template = "Complete the rest of the sequence, making sure that the parentheses are closed properly.";
        let rows: Vec<String> = (0..40)
            .map(|i| {
                let item = format!("Input: [ {} ( item number {i} of the dyck language test set", "{ ".repeat(i % 5));
                serde_json::json!({"context": format!("{template} {item}"), "continuation": format!("] {i}")})
                    .to_string()
            })
            .collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let (_dir, index) = index_of(&rows, DecontamConfig::default());
        assert!(index.tasks()[0].template_ngrams > 0);
        assert!(index.matches(&format!("Text: {template} Nothing else.")).is_empty());
        // The row's own n-grams still count: the 8 windows of its 25 words that hold its number.
        let item = format!("{template} Input: [ {{ {{ ( item number 17 of the dyck language test set ] 17");
        assert_eq!(index.matches(&item), [TaskMatch { task: "t".into(), ngrams: 8 }]);
        let (_dir, index) = index_of(&rows, DecontamConfig { template_fraction: None, ..DecontamConfig::default() });
        assert_eq!(index.tasks()[0].template_ngrams, 0);
        assert_eq!(index.matches(&format!("Text: {template} Nothing else.")).len(), 1);
    }

    #[test]
    fn a_huge_document_is_scanned_in_bounded_memory_with_every_window_checked() {
        let rows = [
            r#"{"context": "one two three four five six seven eight nine ten eleven twelve", "continuation": "thirteen"}"#,
        ];
        let (_dir, index) = index_of(&rows, DecontamConfig::default());
        // The n-gram straddles several window compactions.
        let mut text = "filler ".repeat(WINDOW_WORDS * 3 - 5);
        text.push_str("One two three four five six seven eight nine ten eleven twelve thirteen.");
        text.push_str(&" more".repeat(WINDOW_WORDS));
        let mut scanner = Scanner::new(&index);
        scanner.scan(&text);
        assert_eq!(scanner.hits(1), (vec![0], 1));
        assert!(scanner.window.capacity() <= (WINDOW_WORDS + MAX_NGRAM) * 8 * 2);
        scanner.scan("");
        assert_eq!(scanner.hits(1), (vec![], 0));
    }

    #[test]
    fn bad_configs_are_refused() {
        let base = DecontamConfig { tasks: vec!["t.jsonl".into()], ..DecontamConfig::default() };
        assert_eq!(DecontamStage::new(DecontamConfig::default()).err(), Some(DecontamError::NoTasks));
        for bad in [
            DecontamConfig { ngram: 0, ..base.clone() },
            DecontamConfig { min_overlap: 0, ..base.clone() },
            DecontamConfig { template_fraction: Some(0.0), ..base.clone() },
            DecontamConfig { template_fraction: Some(f64::NAN), ..base.clone() },
        ] {
            assert!(matches!(DecontamStage::new(bad), Err(DecontamError::Config(_))));
        }
        let yaml: Result<DecontamConfig, _> = serde_json::from_str(r#"{"tasks": ["x"], "ngrams": 5}"#);
        assert!(yaml.unwrap_err().to_string().contains("unknown field `ngrams`"));
        let config: DecontamConfig = serde_json::from_str(r#"{"tasks": ["x"], "template_fraction": null}"#).unwrap();
        assert_eq!(config.template_fraction, None);
        assert_eq!(config.ngram, 13);
    }
}

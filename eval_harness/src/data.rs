//! A task's data file as llm-foundry reads it: JSONL rows, every top-level string field `.strip()`ped
//! (lists are left alone), split by `category` into one dataset per category (sorted by name) when the
//! task has categories. Rows are checked against the task type's schema with errors naming file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::EvalError;
use crate::task::{TaskConfig, TaskType};

/// One test item of a task, typed by the task's schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    MultipleChoice {
        query: String,
        choices: Vec<String>,
        gold: usize,
    },
    Schema {
        context_options: Vec<String>,
        continuation: String,
        gold: usize,
    },
    LanguageModeling {
        context: String,
        continuation: String,
    },
    /// `labels` are the accepted answers: llm-foundry's `set([answer] + aliases)`, built from the row *before*
    /// stripping (so an answer `" 15.8113"` is accepted as such while `answer` is `"15.8113"`), deduplicated
    /// and sorted.
    Generation {
        context: String,
        answer: String,
        labels: Vec<String>,
        chain_of_thought: Option<String>,
    },
}

/// The rows of one evaluator: the whole file, or the rows of one category in file order.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub category: Option<String>,
    pub rows: Vec<Row>,
}

/// Where a task's data file is: `dataset_uri` relative to `data_dir` (DCLM keeps `local_data/` in `eval/`).
pub fn data_path(data_dir: &Path, task: &TaskConfig) -> PathBuf {
    data_dir.join(&task.dataset_uri)
}

/// Reads a task's datasets (one, or one per category in sorted order).
pub fn load_datasets(data_dir: &Path, task: &TaskConfig) -> Result<Vec<Dataset>, EvalError> {
    let path = data_path(data_dir, task);
    if !path.is_file() {
        return Err(EvalError::MissingData {
            path,
            reason: format!("task `{}`; point --data at the directory that holds `local_data/`", task.label),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| EvalError::Io { path: path.clone(), source })?;
    let mut by_category: BTreeMap<Option<String>, Vec<Row>> = BTreeMap::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |reason: String| EvalError::BadRow { path: path.clone(), line: number + 1, reason };
        let raw = match serde_json::from_str::<Value>(line).map_err(|e| bad(format!("invalid JSON: {e}")))? {
            Value::Object(object) => object,
            _ => return Err(bad("not a JSON object".into())),
        };
        let object = strip_strings(raw.clone());
        let category = if task.has_categories {
            match object.get("category") {
                Some(Value::String(c)) => Some(c.clone()),
                _ => return Err(bad("the task has categories but this row has no string `category`".into())),
            }
        } else {
            None
        };
        let row = parse_row(&object, &raw, task.icl_task_type).map_err(bad)?;
        by_category.entry(category).or_default().push(row);
    }
    if by_category.is_empty() {
        return Err(EvalError::BadRow { path, line: 0, reason: "no rows".into() });
    }
    Ok(by_category.into_iter().map(|(category, rows)| Dataset { category, rows }).collect())
}

/// Python's `str.strip()` on every top-level string (llm-foundry's `strip_data`).
fn strip_strings(object: Map<String, Value>) -> Map<String, Value> {
    object
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(s) => (key, Value::String(py_strip(&s).to_string())),
            other => (key, other),
        })
        .collect()
}

/// Python's whitespace (`str.isspace`): Unicode White_Space plus the separators U+001C–U+001F, which
/// Python strips and Rust's `char::is_whitespace` does not.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.rstrip()`.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// The row as the task type reads it, from its stripped fields (`raw`: as in the file, for the labels).
fn parse_row(object: &Map<String, Value>, raw: &Map<String, Value>, task_type: TaskType) -> Result<Row, String> {
    Ok(match task_type {
        TaskType::MultipleChoice => {
            let choices = string_list(object, "choices")?;
            let gold = gold(object, choices.len())?;
            Row::MultipleChoice { query: string(object, "query")?, choices, gold }
        }
        TaskType::Schema => {
            let context_options = string_list(object, "context_options")?;
            let gold = gold(object, context_options.len())?;
            Row::Schema { context_options, continuation: string(object, "continuation")?, gold }
        }
        TaskType::LanguageModeling => {
            Row::LanguageModeling { context: string(object, "context")?, continuation: string(object, "continuation")? }
        }
        TaskType::GenerationTaskWithAnswers => Row::Generation {
            context: string(object, "context")?,
            answer: string(object, "answer")?,
            labels: {
                let mut labels = match object.get("aliases") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(_) => string_list(object, "aliases")?,
                };
                labels.push(string(raw, "answer")?);
                labels.sort();
                labels.dedup();
                labels
            },
            chain_of_thought: match object.get("chain_of_thought") {
                None | Some(Value::Null) => None,
                Some(_) => Some(string(object, "chain_of_thought")?),
            },
        },
    })
}

fn string(object: &Map<String, Value>, key: &str) -> Result<String, String> {
    match object.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{key}` must be a string, not {other}")),
        None => Err(format!("missing `{key}`")),
    }
}

fn string_list(object: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    let Some(Value::Array(items)) = object.get(key) else {
        return Err(format!("`{key}` must be a list of strings"));
    };
    items
        .iter()
        .map(|item| item.as_str().map(str::to_string).ok_or_else(|| format!("`{key}` holds a non-string: {item}")))
        .collect()
}

fn gold(object: &Map<String, Value>, options: usize) -> Result<usize, String> {
    let gold = object.get("gold").and_then(Value::as_u64).ok_or("`gold` must be a non-negative integer")?;
    match usize::try_from(gold) {
        Ok(g) if g < options => Ok(g),
        _ => Err(format!("`gold` {gold} is out of range for {options} options")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_follows_python_whitespace() {
        assert_eq!(py_strip("\u{1f} a b\u{a0}\n"), "a b");
        assert_eq!(py_rstrip("Answer: "), "Answer:");
        assert_eq!(py_rstrip(" x\u{200b}"), " x\u{200b}", "ZERO WIDTH SPACE is not whitespace in Python");
    }

    fn task(task_type: &str, extra: &str) -> TaskConfig {
        let yaml = format!(
            "icl_tasks:\n- label: t\n  dataset_uri: t.jsonl\n  num_fewshot: [0]\n  icl_task_type: {task_type}\n{extra}"
        );
        crate::task::Suite::parse("test", &yaml).unwrap().tasks.remove(0)
    }

    #[test]
    fn bad_rows_are_named_by_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let mc = task("multiple_choice", "");
        for (content, expected) in [
            ("{\"query\": \"q\", \"choices\": [\"a\"], \"gold\": 0}\n{oops\n", ":2: invalid JSON"),
            ("{\"query\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": 2}\n", ":1: `gold` 2 is out of range"),
            ("{\"query\": 3, \"choices\": [\"a\"], \"gold\": 0}\n", ":1: `query` must be a string"),
            ("{\"choices\": [\"a\"], \"gold\": 0}\n", ":1: missing `query`"),
        ] {
            std::fs::write(dir.path().join("t.jsonl"), content).unwrap();
            let err = load_datasets(dir.path(), &mc).unwrap_err().to_string();
            assert!(err.contains(&format!("t.jsonl{expected}")), "{err}");
        }
        let err = load_datasets(&dir.path().join("nowhere"), &mc).unwrap_err();
        assert!(matches!(err, EvalError::MissingData { .. }), "{err}");
    }

    #[test]
    fn categories_split_in_sorted_order_and_strings_are_stripped() {
        let dir = tempfile::tempdir().unwrap();
        let lm = task("language_modeling", "  has_categories: true\n");
        let rows = [("b", " x "), ("a", "y\n"), ("b", "z")];
        let text: String = rows
            .iter()
            .map(|(c, t)| format!("{}\n", serde_json::json!({"category": c, "context": t, "continuation": " w"})))
            .collect();
        std::fs::write(dir.path().join("t.jsonl"), text).unwrap();
        let sets = load_datasets(dir.path(), &lm).unwrap();
        assert_eq!(sets.iter().map(|d| d.category.as_deref().unwrap()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            sets[1].rows[0],
            Row::LanguageModeling { context: "x".into(), continuation: "w".into() },
            "top-level strings stripped"
        );
        assert_eq!(sets[1].rows.len(), 2);
    }
}

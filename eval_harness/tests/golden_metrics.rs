//! Golden checks of `metrics` and `aggregate` against `shared/golden/eval` (outputs of llm-foundry v0.9.0's
//! metric classes and of DCLM's own aggregation code; see that directory's README).
//!
//! Every float is compared exactly (same f64 / f32 bits), with one exception: a multiple-choice perplexity may
//! differ from torch's by 1 ulp, because torch's vectorised float32 `exp` is not correctly rounded (the
//! selections, correctness and metric values are still compared exactly). The golden JSON is read by a small
//! parser below that keeps numbers as text and object keys in order: serde_json's default float parsing is
//! not guaranteed to round correctly for 17-digit numbers, and its `Value` map order depends on features.
//!
//! Without the golden directory the tests print `SKIPPED: …` and pass, unless `CI=true`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use sluice_eval_harness::aggregate::{self, AggregationGroups, EvalMetadata, EvalVersion};
use sluice_eval_harness::metrics::{self, GenerationExactMatch};

use json::Json;

fn golden_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/eval");
    if dir.join("metrics.jsonl").is_file() && dir.join("aggregate.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("golden directory {} is missing (CI=true, so this is an error)", dir.display());
    }
    println!("SKIPPED: golden directory {} not found", dir.display());
    None
}

fn read(dir: &std::path::Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------------------
// metrics.jsonl
// ---------------------------------------------------------------------------------------------------------

#[test]
fn golden_metric_cases() {
    let Some(dir) = golden_dir() else { return };
    let text = read(&dir, "metrics.jsonl");
    let mut classes_seen = BTreeSet::new();
    let mut cases = 0;
    for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case = json::parse(line).unwrap_or_else(|e| panic!("metrics.jsonl:{}: {e}", line_no + 1));
        let case_id = case.get("case_id").str().to_owned();
        let class = case.get("metric_class").str();
        let (n, correct) = match class {
            "InContextLearningMultipleChoiceAccuracy" => check_multiple_choice(&case_id, &case),
            "InContextLearningLMAccuracy" => check_language_modeling(&case_id, &case),
            "InContextLearningGenerationExactMatchAccuracy" => check_generation(&case_id, &case),
            other => panic!("{case_id}: metric class {other} has no check"),
        };
        assert_eq!(n, case.get("n").u64(), "{case_id}: n");
        assert_eq!(correct, case.get("correct").u64(), "{case_id}: correct count");
        let expected = case.get("metric_value").f64();
        let ours = metrics::metric_value(correct, n);
        assert_eq!(ours.to_bits(), expected.to_bits(), "{case_id}: metric_value {ours} vs golden {expected}");
        classes_seen.insert(class.to_owned());
        cases += 1;
    }
    assert_eq!(cases, 9, "golden metric cases");
    assert_eq!(classes_seen.len(), 3);
}

/// Returns (questions, correct).
fn check_multiple_choice(case_id: &str, case: &Json) -> (u64, u64) {
    let mut correct_count = 0;
    let questions = case.get("questions").array();
    for question in questions {
        let q = question.get("question").u64();
        let gold = question.get("gold").u64() as usize;
        let mut choices: Vec<Vec<f32>> = Vec::new();
        for (j, choice) in question.get("choices").array().iter().enumerate() {
            let logprobs: Vec<f32> = choice.get("target_logprobs").array().iter().map(Json::f32).collect();
            assert_eq!(
                logprobs.len(),
                choice.get("continuation_ids").array().len(),
                "{case_id} q{q} c{j}: one log-prob per continuation token"
            );
            let score = metrics::score_choice(&logprobs);
            let mean = choice.get("mean_neg_logprob_f32").f32();
            assert_eq!(
                score.mean_neg_logprob.to_bits(),
                mean.to_bits(),
                "{case_id} q{q} c{j}: mean -logprob {} vs golden {mean}",
                score.mean_neg_logprob
            );
            let perplexity = choice.get("perplexity_f32").f32();
            let ulps = (score.perplexity.to_bits() as i64 - perplexity.to_bits() as i64).abs();
            assert!(ulps <= 1, "{case_id} q{q} c{j}: perplexity {} vs golden {perplexity}", score.perplexity);
            choices.push(logprobs);
        }
        let selected = metrics::select_choice(&choices);
        assert_eq!(selected, Some(question.get("selected").u64() as usize), "{case_id} q{q}: selected");
        let correct = metrics::multiple_choice_correct(&choices, gold);
        assert_eq!(correct, question.get("correct").u64() == 1, "{case_id} q{q}: correct");
        correct_count += u64::from(correct);
    }
    (questions.len() as u64, correct_count)
}

fn check_language_modeling(case_id: &str, case: &Json) -> (u64, u64) {
    let ids = |v: &Json| -> Vec<u32> { v.array().iter().map(|x| x.u64() as u32).collect() };
    let mut correct_count = 0;
    let examples = case.get("examples").array();
    for example in examples {
        let e = example.get("example").u64();
        let correct = metrics::lm_correct(&ids(example.get("argmax_ids")), &ids(example.get("target_ids")));
        assert_eq!(correct, example.get("correct").u64() == 1, "{case_id} example {e}");
        correct_count += u64::from(correct);
    }
    (examples.len() as u64, correct_count)
}

fn check_generation(case_id: &str, case: &Json) -> (u64, u64) {
    let fields = case.get("batch_fields");
    let stop: Vec<&str> = match fields.opt("stopping_criteria") {
        Some(Json::Null) | None => Vec::new(),
        Some(list) => list.array().iter().map(Json::str).collect(),
    };
    let cot_delimiter = fields.opt("cot_delimiter").map_or("", Json::str);
    let do_normalization = fields.opt("do_normalization").is_none_or(Json::bool);
    let metric =
        GenerationExactMatch::new(&stop, cot_delimiter, do_normalization).unwrap_or_else(|e| panic!("{case_id}: {e}"));
    let mut correct_count = 0;
    let examples = case.get("examples").array();
    for example in examples {
        let e = example.get("example").u64();
        let labels: Vec<&str> = example.get("labels").array().iter().map(Json::str).collect();
        let score = metric.score(example.get("generated_text").str(), &labels);
        assert_eq!(score.cleaned_output, example.get("cleaned_output").str(), "{case_id} example {e}: cleaned_output");
        let golden_labels: BTreeSet<String> =
            example.get("cleaned_labels").array().iter().map(|l| l.str().to_owned()).collect();
        assert_eq!(score.cleaned_labels, golden_labels, "{case_id} example {e}: cleaned_labels");
        assert_eq!(score.correct, example.get("correct").u64() == 1, "{case_id} example {e}: correct");
        correct_count += u64::from(score.correct);
    }
    (examples.len() as u64, correct_count)
}

// ---------------------------------------------------------------------------------------------------------
// aggregate.json
// ---------------------------------------------------------------------------------------------------------

#[test]
fn golden_aggregation() {
    let Some(dir) = golden_dir() else { return };
    let golden = json::parse(&read(&dir, "aggregate.json")).unwrap_or_else(|e| panic!("aggregate.json: {e}"));
    let v2 = EvalMetadata::bundled(EvalVersion::V2).unwrap();
    let v1 = EvalMetadata::bundled(EvalVersion::V1).unwrap();
    let groups = AggregationGroups::bundled().unwrap();

    // Step 1: DCLM's evaluate() category averaging.
    let inputs: Vec<(String, f64)> =
        golden.get("per_evaluator_inputs").object().iter().map(|(k, v)| (k.clone(), v.f64())).collect();
    let category_tasks: Vec<&str> = golden.get("categories").object().iter().map(|(k, _)| k.as_str()).collect();
    let per_task = aggregate::category_average(&inputs, &category_tasks);
    assert_json_eq(
        "per_task_after_category_average",
        &ordered_numbers(&per_task),
        golden.get("per_task_after_category_average"),
    );

    // Centered accuracies with the v2 baselines.
    for (task, expected) in golden.get("centered_v2_per_task").object() {
        let row = v2.rows().iter().find(|r| &r.task == task).unwrap_or_else(|| panic!("{task} not in the v2 CSV"));
        let accuracy = per_task.iter().find(|(t, _)| t == task).map(|(_, v)| *v).unwrap();
        let ours = aggregate::centered_accuracy(accuracy, row.random_baseline);
        assert_eq!(ours.to_bits(), expected.f64().to_bits(), "centered {task}: {ours} vs golden {}", expected.f64());
    }

    // Step 2: get_aggregated_results, every result block.
    let mut blocks = 0;
    for (name, expected) in golden.object() {
        if !name.starts_with("result_") {
            continue;
        }
        let (metadata, version, dropped): (&EvalMetadata, EvalVersion, &[&str]) = match name.as_str() {
            "result_v2_all_tasks" => (&v2, EvalVersion::V2, &[]),
            "result_v1_all_tasks" => (&v1, EvalVersion::V1, &[]),
            "result_v2_without_squad_and_gpqa_main" => (&v2, EvalVersion::V2, &["squad", "gpqa_main"]),
            other => panic!("golden block {other} has no check"),
        };
        let icl: Vec<(String, f64)> =
            per_task.iter().filter(|(t, _)| !dropped.contains(&t.as_str())).cloned().collect();
        let result = aggregate::aggregate(&icl, metadata, &groups, version);
        let ours = json::parse(&serde_json::to_string(&result).unwrap()).unwrap();
        assert_json_eq(name, &ours, expected);
        blocks += 1;
    }
    assert_eq!(blocks, 3, "golden result blocks");
}

fn ordered_numbers(values: &[(String, f64)]) -> Json {
    Json::Object(values.iter().map(|(k, v)| (k.clone(), Json::Number(format!("{v:?}")))).collect())
}

/// Structural equality with object keys in order and numbers compared as f64 bits (NaN equal to NaN).
fn assert_json_eq(path: &str, ours: &Json, golden: &Json) {
    match (ours, golden) {
        (Json::Number(a), Json::Number(b)) => {
            let (x, y) = (ours.f64(), golden.f64());
            assert!(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()), "{path}: ours {a} vs golden {b}");
        }
        (Json::Array(a), Json::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: array length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_json_eq(&format!("{path}[{i}]"), x, y);
            }
        }
        (Json::Object(a), Json::Object(b)) => {
            let keys_a: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
            let keys_b: Vec<&str> = b.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys_a, keys_b, "{path}: keys (in order)");
            for ((k, x), (_, y)) in a.iter().zip(b) {
                assert_json_eq(&format!("{path}.{k}"), x, y);
            }
        }
        _ => assert_eq!(ours, golden, "{path}"),
    }
}

// ---------------------------------------------------------------------------------------------------------
// A JSON reader that keeps number text and key order.
// ---------------------------------------------------------------------------------------------------------

mod json {
    #[derive(Debug, Clone, PartialEq)]
    pub enum Json {
        Null,
        Bool(bool),
        /// The literal text (also `NaN`, `Infinity`, `-Infinity`, which Python's json writes).
        Number(String),
        Str(String),
        Array(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    impl Json {
        pub fn opt(&self, key: &str) -> Option<&Json> {
            self.object().iter().find(|(k, _)| k == key).map(|(_, v)| v)
        }
        pub fn get(&self, key: &str) -> &Json {
            self.opt(key).unwrap_or_else(|| panic!("no key {key:?}"))
        }
        pub fn object(&self) -> &[(String, Json)] {
            match self {
                Json::Object(o) => o,
                other => panic!("expected an object, got {other:?}"),
            }
        }
        pub fn array(&self) -> &[Json] {
            match self {
                Json::Array(a) => a,
                other => panic!("expected an array, got {other:?}"),
            }
        }
        pub fn str(&self) -> &str {
            match self {
                Json::Str(s) => s,
                other => panic!("expected a string, got {other:?}"),
            }
        }
        pub fn bool(&self) -> bool {
            match self {
                Json::Bool(b) => *b,
                other => panic!("expected a bool, got {other:?}"),
            }
        }
        /// Correctly rounded (Rust's `str::parse`).
        pub fn f64(&self) -> f64 {
            match self {
                Json::Number(text) => text.parse().unwrap_or_else(|_| panic!("bad number {text}")),
                other => panic!("expected a number, got {other:?}"),
            }
        }
        /// The float32 a Python float printed from a float32 stands for.
        pub fn f32(&self) -> f32 {
            self.f64() as f32
        }
        pub fn u64(&self) -> u64 {
            match self {
                Json::Number(text) => text.parse().unwrap_or_else(|_| panic!("not a count: {text}")),
                other => panic!("expected a number, got {other:?}"),
            }
        }
    }

    pub fn parse(text: &str) -> Result<Json, String> {
        let mut parser = Parser { chars: text.chars().collect(), pos: 0 };
        let value = parser.value()?;
        parser.skip_ws();
        if parser.pos != parser.chars.len() {
            return Err(format!("trailing characters at {}", parser.pos));
        }
        Ok(value)
    }

    struct Parser {
        chars: Vec<char>,
        pos: usize,
    }

    impl Parser {
        fn skip_ws(&mut self) {
            while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
                self.pos += 1;
            }
        }
        fn peek(&self) -> Option<char> {
            self.chars.get(self.pos).copied()
        }
        fn next(&mut self) -> Result<char, String> {
            let c = self.peek().ok_or("unexpected end")?;
            self.pos += 1;
            Ok(c)
        }
        fn expect(&mut self, c: char) -> Result<(), String> {
            match self.next()? {
                got if got == c => Ok(()),
                got => Err(format!("expected {c:?} at {}, got {got:?}", self.pos - 1)),
            }
        }
        fn literal(&mut self, word: &str) -> bool {
            let end = self.pos + word.chars().count();
            if end <= self.chars.len() && self.chars[self.pos..end].iter().copied().eq(word.chars()) {
                self.pos = end;
                true
            } else {
                false
            }
        }
        fn value(&mut self) -> Result<Json, String> {
            self.skip_ws();
            match self.peek().ok_or("unexpected end")? {
                '{' => {
                    self.pos += 1;
                    let mut members = Vec::new();
                    self.skip_ws();
                    if self.peek() == Some('}') {
                        self.pos += 1;
                        return Ok(Json::Object(members));
                    }
                    loop {
                        self.skip_ws();
                        let key = self.string()?;
                        self.skip_ws();
                        self.expect(':')?;
                        let value = self.value()?;
                        members.push((key, value));
                        self.skip_ws();
                        match self.next()? {
                            ',' => continue,
                            '}' => return Ok(Json::Object(members)),
                            c => return Err(format!("expected ',' or '}}' at {}, got {c:?}", self.pos - 1)),
                        }
                    }
                }
                '[' => {
                    self.pos += 1;
                    let mut items = Vec::new();
                    self.skip_ws();
                    if self.peek() == Some(']') {
                        self.pos += 1;
                        return Ok(Json::Array(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.skip_ws();
                        match self.next()? {
                            ',' => continue,
                            ']' => return Ok(Json::Array(items)),
                            c => return Err(format!("expected ',' or ']' at {}, got {c:?}", self.pos - 1)),
                        }
                    }
                }
                '"' => Ok(Json::Str(self.string()?)),
                _ if self.literal("true") => Ok(Json::Bool(true)),
                _ if self.literal("false") => Ok(Json::Bool(false)),
                _ if self.literal("null") => Ok(Json::Null),
                _ if self.literal("NaN") => Ok(Json::Number("NaN".into())),
                _ if self.literal("Infinity") => Ok(Json::Number("inf".into())),
                _ if self.literal("-Infinity") => Ok(Json::Number("-inf".into())),
                _ => {
                    let start = self.pos;
                    while matches!(self.peek(), Some('0'..='9' | '-' | '+' | '.' | 'e' | 'E')) {
                        self.pos += 1;
                    }
                    if start == self.pos {
                        return Err(format!("unexpected character at {start}"));
                    }
                    Ok(Json::Number(self.chars[start..self.pos].iter().collect()))
                }
            }
        }
        fn hex4(&mut self) -> Result<u32, String> {
            let mut code = 0;
            for _ in 0..4 {
                let digit = self.next()?.to_digit(16).ok_or("bad \\u escape")?;
                code = code * 16 + digit;
            }
            Ok(code)
        }
        fn string(&mut self) -> Result<String, String> {
            self.expect('"')?;
            let mut out = String::new();
            loop {
                match self.next()? {
                    '"' => return Ok(out),
                    '\\' => match self.next()? {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) && self.literal("\\u") {
                                let low = self.hex4()?;
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            out.push(char::from_u32(code).ok_or("lone surrogate")?);
                        }
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    c => out.push(c),
                }
            }
        }
    }

    #[test]
    fn reader_round_trips_the_tricky_bits() {
        let v = parse(r#"{"b": [1, -2.5e-3, NaN], "a": "\ud83d\udc0e\n\"", "c": {}, "d": [], "e": null}"#).unwrap();
        let keys: Vec<&str> = v.object().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c", "d", "e"]);
        assert_eq!(v.get("a").str(), "\u{1F40E}\n\"");
        assert_eq!(v.get("b").array()[1].f64(), -0.0025);
        assert!(v.get("b").array()[2].f64().is_nan());
        assert!(parse("[1,").is_err());
        assert!(parse("{} x").is_err());
    }
}

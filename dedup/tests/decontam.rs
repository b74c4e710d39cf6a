//! The decontamination stage end to end on the runner, on real data: eval items from DCLM's task files
//! (20 rows each of arc_easy, gsm8k, lambada_openai and winogrande, bundled) embedded in real Common
//! Crawl pages (bundled), in both modes; bad task files; bad and huge documents; resume when a task file
//! changes; and the whole of DCLM's `local_data` when `../shared` has it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use sluice_core::format::{read_all, write_all, Compression, Format};
use sluice_core::runner::{run_stage, NoProgress, RunOptions, Stage, StageReport};
use sluice_core::store::Location;
use sluice_core::Document;
use sluice_dedup::decontam::{DecontamConfig, DecontamMode, DecontamStage, TaskIndex, TaskMatch};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/decontam")
}

fn tasks_dir() -> String {
    data_dir().join("tasks").to_str().unwrap().to_string()
}

fn location(path: &Path) -> Location {
    Location::parse(path.to_str().unwrap()).unwrap()
}

/// Row `row` (0-based) of a bundled task file.
fn task_row(task: &str, row: usize) -> Value {
    let text = std::fs::read_to_string(data_dir().join(format!("tasks/{task}.jsonl"))).unwrap();
    serde_json::from_str(text.lines().nth(row).unwrap()).unwrap()
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap()
}

/// The bundled real web pages (Common Crawl, via dolma's test data).
fn web_pages() -> Vec<Document> {
    read_all(&location(&data_dir().join("web.jsonl"))).unwrap()
}

/// An eval item as a web page would quote it: the question and its right answer.
fn arc_item() -> String {
    let row = task_row("arc_easy", 0);
    let query = field(&row, "query").trim_start_matches("Question:").trim();
    let gold = row["choices"][row["gold"].as_u64().unwrap() as usize].as_str().unwrap();
    assert_eq!(query, "Which statement best explains why photosynthesis is the foundation of most food webs?");
    assert_eq!(gold, "Sunlight is the source of energy for nearly all ecosystems.");
    // Other case and punctuation than the task file's: normalisation makes them the same words.
    format!("WHICH statement best explains why photosynthesis is the foundation of most food-webs?? -- {gold}")
}

fn gsm8k_item() -> String {
    let row = task_row("gsm8k", 0);
    format!(
        "{}\nSolution: {}\nThe answer is {}.",
        field(&row, "context"),
        field(&row, "chain_of_thought"),
        field(&row, "answer")
    )
}

fn lambada_item() -> String {
    let row = task_row("lambada_openai", 2);
    format!("{} {}.", field(&row, "context"), field(&row, "continuation"))
}

/// A winogrande sentence with its right option filled in (15 words: 3 n-grams).
fn winogrande_item() -> String {
    let row = task_row("winogrande", 0);
    let option = row["context_options"][row["gold"].as_u64().unwrap() as usize].as_str().unwrap();
    let sentence = format!("{option} {}", field(&row, "continuation"));
    assert_eq!(sentence, "Sarah was a much better surgeon than Maria so Maria always got the easier cases.");
    sentence
}

/// 12 consecutive words of a lambada passage: one short of an n-gram.
fn near_miss() -> String {
    let row = task_row("lambada_openai", 5);
    let words: Vec<&str> = field(&row, "context").split_whitespace().skip(3).take(12).collect();
    words.join(" ")
}

fn doc(id: &str, text: String) -> Document {
    let mut doc = Document::from_text(text, Some(format!("https://example.org/{id}")));
    doc.id = id.to_string();
    doc
}

/// The test documents: the clean pages as they are, and pages with an eval item inserted in the middle
/// of their text, with the tasks each must be flagged for.
fn corpus() -> Vec<(Document, &'static [&'static str])> {
    let pages = web_pages();
    assert_eq!(pages.len(), 8);
    let embed = |page: usize, item: &str| {
        let text = &pages[page].text;
        let cut = text.char_indices().map(|(i, _)| i).find(|&i| i >= text.len() / 2 && text[i..].starts_with(' '));
        let (head, tail) = text.split_at(cut.unwrap_or(text.len()));
        format!("{head}\n{item}\n{tail}")
    };
    let mut docs: Vec<(Document, &'static [&'static str])> =
        pages.iter().map(|p| (p.clone(), &[] as &'static [&'static str])).collect();
    docs.extend([
        (doc("arc-quoted", embed(0, &arc_item())), &["arc_easy"] as &[&str]),
        (doc("gsm8k-worked", embed(1, &gsm8k_item())), &["gsm8k"]),
        (doc("lambada-excerpt", embed(2, &lambada_item())), &["lambada_openai"]),
        (doc("winogrande-sentence", embed(3, &winogrande_item())), &["winogrande"]),
        (doc("two-tasks", embed(4, &format!("{}\n{}", gsm8k_item(), arc_item()))), &["arc_easy", "gsm8k"]),
        (doc("near-miss", embed(5, &near_miss())), &[]),
        (doc("empty", String::new()), &[]),
    ]);
    docs
}

/// Writes the corpus as two JSONL input files; returns the input folder.
fn write_corpus(dir: &Path, docs: &[Document]) -> PathBuf {
    let input = dir.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let (a, b) = docs.split_at(docs.len() / 2);
    write_all(&location(&input.join("a.jsonl")), Format::Jsonl(Compression::None), a).unwrap();
    write_all(&location(&input.join("b.jsonl.gz")), Format::Jsonl(Compression::Gzip), b).unwrap();
    input
}

fn config(mode: DecontamMode) -> DecontamConfig {
    DecontamConfig { tasks: vec![tasks_dir()], mode, ..DecontamConfig::default() }
}

fn run(config: DecontamConfig, input: &Path, output: &Path) -> sluice_core::Result<StageReport> {
    let stage = DecontamStage::new(config).unwrap();
    let inputs = [input.to_str().unwrap().to_string()];
    run_stage(&stage, &inputs, output.to_str().unwrap(), &RunOptions::default(), &NoProgress)
}

/// Every document of a stage's output (Parquet, the default), by id.
fn output_docs(output: &Path) -> BTreeMap<String, Document> {
    let mut docs = BTreeMap::new();
    for entry in std::fs::read_dir(output).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "parquet") {
            for doc in read_all(&location(&path)).unwrap() {
                docs.insert(doc.id.clone(), doc);
            }
        }
    }
    docs
}

fn check_accounting(report: &StageReport) {
    let totals = &report.stats.totals;
    assert_eq!(totals.docs_in, totals.docs_out + totals.dropped(), "{totals:?}");
}

fn counters(report: &StageReport, prefix: &str) -> BTreeMap<String, u64> {
    report
        .stats
        .totals
        .counters
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|task| (task.to_string(), *v)))
        .collect()
}

fn expected_hits(docs: &[(Document, &[&str])]) -> BTreeMap<String, u64> {
    let mut hits = BTreeMap::new();
    for task in docs.iter().flat_map(|(_, tasks)| tasks.iter()) {
        *hits.entry(task.to_string()).or_insert(0) += 1;
    }
    hits
}

#[test]
fn annotate_marks_exactly_the_documents_that_embed_an_eval_item() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus();
    let docs: Vec<Document> = corpus.iter().map(|(d, _)| d.clone()).collect();
    let input = write_corpus(work.path(), &docs);
    let output = work.path().join("out");
    let report = run(config(DecontamMode::Annotate), &input, &output).unwrap();
    check_accounting(&report);
    assert_eq!(report.stats.totals.docs_in, corpus.len() as u64);
    assert_eq!(report.stats.totals.docs_out, corpus.len() as u64);

    let written = output_docs(&output);
    assert_eq!(written.len(), corpus.len());
    for (doc, tasks) in &corpus {
        let out = &written[&doc.id];
        assert_eq!(out.text, doc.text, "{}: the text is unchanged", doc.id);
        if tasks.is_empty() {
            assert!(out.attributes.get("decontam_tasks").is_none(), "{}: {:?}", doc.id, out.attributes);
            assert!(out.attributes.get("decontam_ngrams").is_none(), "{}", doc.id);
        } else {
            assert_eq!(out.attributes["decontam_tasks"], Value::from(tasks.join(",")), "{}", doc.id);
            assert!(out.attributes["decontam_ngrams"].as_u64().unwrap() >= 1, "{}", doc.id);
        }
    }
    // The arc item: 23 words of question and answer, 11 n-grams.
    assert_eq!(written["arc-quoted"].attributes["decontam_ngrams"], 11);
    // The winogrande sentence: 15 words, 3 n-grams.
    assert_eq!(written["winogrande-sentence"].attributes["decontam_ngrams"], 3);

    // The per-task report: documents per task, and n-grams per task summed over them.
    for (name, value) in report.stats.totals.counters.iter().filter(|(k, _)| k.starts_with("decontam")) {
        println!("{name}: {value}");
    }
    assert_eq!(counters(&report, "decontam_hit:"), expected_hits(&corpus));
    assert_eq!(report.stats.totals.counters["decontam_docs_hit"], 5);
    let ngram_hits = counters(&report, "decontam_ngram_hits:");
    assert_eq!(ngram_hits["arc_easy"], 2 * 11);
    assert_eq!(ngram_hits["winogrande"], 3);
    assert!(ngram_hits["gsm8k"] > 2 * 40 && ngram_hits["lambada_openai"] > 40, "{ngram_hits:?}");
}

#[test]
fn drop_removes_exactly_the_flagged_documents() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus();
    let docs: Vec<Document> = corpus.iter().map(|(d, _)| d.clone()).collect();
    let input = write_corpus(work.path(), &docs);
    let output = work.path().join("out");
    let report = run(config(DecontamMode::Drop), &input, &output).unwrap();
    check_accounting(&report);
    assert_eq!(report.stats.totals.drops, BTreeMap::from([("decontaminated".to_string(), 5)]));
    assert_eq!(counters(&report, "decontam_hit:"), expected_hits(&corpus));

    let kept: BTreeSet<String> = output_docs(&output).into_keys().collect();
    let expected: BTreeSet<String> =
        corpus.iter().filter(|(_, tasks)| tasks.is_empty()).map(|(d, _)| d.id.clone()).collect();
    assert_eq!(kept, expected);
    assert!(kept.contains("near-miss") && kept.contains("empty"));
    for doc in output_docs(&output).values() {
        assert!(doc.attributes.get("decontam_tasks").is_none(), "drop mode adds no attributes");
    }
}

#[test]
fn min_overlap_needs_that_many_distinct_ngrams_of_one_task() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus();
    let mut docs: Vec<Document> = corpus.iter().map(|(d, _)| d.clone()).collect();
    // The winogrande sentence three times is still 3 distinct n-grams.
    let thrice = format!("{0} {0} {0}", winogrande_item());
    docs.push(doc("winogrande-thrice", thrice));
    let input = write_corpus(work.path(), &docs);
    let output = work.path().join("out");
    let report = run(DecontamConfig { min_overlap: 4, ..config(DecontamMode::Drop) }, &input, &output).unwrap();
    check_accounting(&report);
    let kept: BTreeSet<String> = output_docs(&output).into_keys().collect();
    assert!(kept.contains("winogrande-sentence") && kept.contains("winogrande-thrice"), "{kept:?}");
    for id in ["arc-quoted", "gsm8k-worked", "lambada-excerpt", "two-tasks"] {
        assert!(!kept.contains(id), "{id}");
    }
    assert_eq!(report.stats.totals.drops["decontaminated"], 4);
    assert!(!counters(&report, "decontam_hit:").contains_key("winogrande"));
}

#[test]
fn the_index_reports_what_each_bundled_task_file_gave() {
    let index = TaskIndex::load(&config(DecontamMode::Annotate)).unwrap();
    let names: Vec<&str> = index.tasks().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["arc_easy", "gsm8k", "lambada_openai", "winogrande"]);
    for task in index.tasks() {
        assert_eq!(task.rows, 20, "{}", task.name);
        assert!(task.ngrams > 0, "{}", task.name);
        assert!(task.ignored_fields.is_empty(), "{}", task.name);
        println!("{:<16} {:>3} rows {:>6} n-grams {:>3} short", task.name, task.rows, task.ngrams, task.short_ngrams);
    }
    assert_eq!(
        index.matches(&format!("{} {}", winogrande_item(), arc_item())),
        [TaskMatch { task: "arc_easy".into(), ngrams: 11 }, TaskMatch { task: "winogrande".into(), ngrams: 3 }]
    );
    for page in web_pages() {
        let found = index.matches(&page.text);
        assert!(found.is_empty(), "{}: {found:?}", page.id);
    }
}

/// A task folder holding the bundled files and `extra` (name → content).
fn task_folder(dir: &Path, extra: &[(&str, &str)]) -> String {
    let tasks = dir.join("tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    for entry in std::fs::read_dir(tasks_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, tasks.join(path.file_name().unwrap())).unwrap();
    }
    for (name, content) in extra {
        std::fs::write(tasks.join(name), content).unwrap();
    }
    tasks.to_str().unwrap().to_string()
}

fn stage_error(tasks: Vec<String>, work: &Path) -> String {
    let input = write_corpus(work, &[doc("one", "some text".into())]);
    let output = work.join("out");
    let error = run(DecontamConfig { tasks, ..DecontamConfig::default() }, &input, &output).unwrap_err().to_string();
    assert!(output_docs(&output).is_empty(), "nothing is written when the task files cannot be read");
    error
}

#[test]
fn a_bad_task_file_stops_the_stage_naming_file_and_line() {
    let arc = std::fs::read_to_string(data_dir().join("tasks/arc_easy.jsonl")).unwrap();
    let mut lines: Vec<&str> = arc.lines().take(3).collect();
    let cases = [
        (
            "{\"query\": \"Question: Why?\", \"choices\": [\"a\"",
            "bad_json.jsonl:4: invalid JSON at column 43: EOF while parsing a list",
        ),
        ("[\"a list\"]", "not_object.jsonl:4: a row must be a JSON object, not a list"),
        (
            r#"{"query": "Question: Why?", "choices": "a", "gold": 0}"#,
            "wrong_choices.jsonl:4: field 'choices' must be a list of strings, not a string",
        ),
        (
            r#"{"query": "Question: Why?", "choices": ["a", "b"], "gold": 2}"#,
            "gold_out_of_range.jsonl:4: field 'gold' is 2, not an index into 'choices' (0..2)",
        ),
        (r#"{"question": "Why?", "label": 1}"#, "not_foundry.jsonl:4: no eval text"),
    ];
    for (bad_line, expected) in cases {
        let work = tempfile::tempdir().unwrap();
        lines.truncate(3);
        lines.push(bad_line);
        let name = expected.split(':').next().unwrap();
        let tasks = task_folder(work.path(), &[(name, &(lines.join("\n") + "\n"))]);
        let error = stage_error(vec![tasks], work.path());
        assert!(error.contains(&format!("task file {}/{expected}", work.path().join("tasks").display())), "{error}");
    }
}

#[test]
fn missing_or_empty_task_locations_are_reported_before_any_work() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("no/such/tasks.jsonl").to_str().unwrap().to_string();
    let stage =
        DecontamStage::new(DecontamConfig { tasks: vec![missing.clone()], ..DecontamConfig::default() }).unwrap();
    assert_eq!(stage.referenced_files(), std::slice::from_ref(&missing), "a missing path is referenced as it is");
    let error = stage_error(vec![missing.clone()], work.path());
    assert!(error.contains(&missing), "{error}");

    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("README.md"), "not a task file").unwrap();
    let empty = empty.to_str().unwrap().to_string();
    let error = stage_error(vec![empty.clone()], work.path());
    assert!(error.contains(&format!("{empty}/*.jsonl")), "{error}");
    let config = DecontamConfig { tasks: vec![empty.clone()], ..DecontamConfig::default() };
    let error = TaskIndex::load(&config).err().unwrap().to_string();
    assert_eq!(error, format!("no task files (*.jsonl) under {empty}"));
    let config = DecontamConfig { tasks: vec![format!("{empty}/gone")], ..DecontamConfig::default() };
    let error = TaskIndex::load(&config).err().unwrap().to_string();
    assert_eq!(error, format!("no task files (*.jsonl) under {empty}/gone: it does not exist"));

    // Two files with one stem would mix their reports.
    let other = work.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(data_dir().join("tasks/gsm8k.jsonl"), other.join("gsm8k.jsonl")).unwrap();
    let error = stage_error(vec![tasks_dir(), other.to_str().unwrap().to_string()], work.path());
    assert!(error.contains("task 'gsm8k' comes from two files"), "{error}");
}

#[test]
fn bad_empty_and_huge_documents_are_counted_never_a_panic() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    let page = &web_pages()[6].text;
    let mut huge = page.repeat(5_000_000 / page.len() + 1);
    huge.push_str(&lambada_item());
    let texts = [String::new(), " \n\t ".into(), "\u{0}\u{301}\u{200d}".into(), "x".repeat(3_000_000), huge];
    let mut jsonl = String::new();
    for (i, text) in texts.iter().enumerate() {
        jsonl.push_str(&serde_json::json!({"id": format!("d{i}"), "text": text}).to_string());
        jsonl.push('\n');
    }
    jsonl.push_str("{not json\n{\"id\": \"no-text\"}\n");
    std::fs::write(input.join("bad.jsonl"), jsonl).unwrap();
    for mode in [DecontamMode::Annotate, DecontamMode::Drop] {
        let output = work.path().join(format!("{mode:?}"));
        let report = run(config(mode), &input, &output).unwrap();
        check_accounting(&report);
        let totals = &report.stats.totals;
        assert_eq!(totals.docs_in, 7, "{mode:?}");
        assert_eq!(totals.drops["unreadable"], 2, "{mode:?}");
        assert_eq!(totals.counters["decontam_hit:lambada_openai"], 1, "{mode:?}");
        let kept: Vec<String> = output_docs(&output).into_keys().collect();
        match mode {
            DecontamMode::Annotate => assert_eq!(kept, ["d0", "d1", "d2", "d3", "d4"]),
            DecontamMode::Drop => assert_eq!(kept, ["d0", "d1", "d2", "d3"]),
        }
    }
}

#[test]
fn a_changed_task_file_redoes_the_outputs() {
    let work = tempfile::tempdir().unwrap();
    let corpus = corpus();
    let docs: Vec<Document> = corpus.iter().map(|(d, _)| d.clone()).collect();
    let input = write_corpus(work.path(), &docs);
    let tasks = task_folder(work.path(), &[]);
    let output = work.path().join("out");
    let config = DecontamConfig { tasks: vec![tasks.clone()], ..DecontamConfig::default() };
    let first = run(config.clone(), &input, &output).unwrap();
    assert_eq!((first.stats.shards_processed, first.stats.shards_resumed), (2, 0));
    let again = run(config.clone(), &input, &output).unwrap();
    assert_eq!((again.stats.shards_processed, again.stats.shards_resumed), (0, 2));
    assert_eq!(again.stats.totals, first.stats.totals);

    // One more real arc_easy row (the 21st of the task file) changes the file: everything is redone.
    let row = r#"{"query": "Question: Which of the following is an example of a physical change?", "choices": ["a cake baking", "a candle burning", "a ice cube melting", "a nail rusting"], "gold": 2}"#;
    let path = Path::new(&tasks).join("arc_easy.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(row);
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    let redone = run(config.clone(), &input, &output).unwrap();
    assert_eq!((redone.stats.shards_processed, redone.stats.shards_resumed), (2, 0));

    // A new task file in the folder is a change too.
    std::fs::copy(data_dir().join("tasks/gsm8k.jsonl"), Path::new(&tasks).join("gsm8k_copy.jsonl")).unwrap();
    let redone = run(config, &input, &output).unwrap();
    assert_eq!((redone.stats.shards_processed, redone.stats.shards_resumed), (2, 0));
    assert_eq!(counters(&redone, "decontam_hit:")["gsm8k_copy"], 2);
}

/// DCLM's whole `local_data` (llm-foundry's task files) from `../shared`, when it is there.
fn shared_local_data(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/eval/local_data");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {} is missing, and CI=true requires the shared data", dir.display());
    }
    println!("SKIPPED {test}: {} not found", dir.display());
    None
}

fn jsonl_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            jsonl_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            found.push(path);
        }
    }
}

#[test]
fn every_task_file_of_dclm_local_data_loads() {
    let Some(dir) = shared_local_data("every_task_file_of_dclm_local_data_loads") else { return };
    let started = std::time::Instant::now();
    let config = DecontamConfig { tasks: vec![dir.to_str().unwrap().to_string()], ..DecontamConfig::default() };
    let index = TaskIndex::load(&config).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let mut files = Vec::new();
    jsonl_files(&dir, &mut files);
    assert_eq!(index.tasks().len(), files.len());
    println!("{:<36} {:>6} {:>8} {:>6} {:>8} {:>8}", "task", "rows", "n-grams", "short", "template", "numeric");
    for task in index.tasks() {
        let path = files.iter().find(|f| f.file_stem().unwrap() == task.name.as_str()).unwrap();
        let lines = std::fs::read_to_string(path).unwrap().lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(task.rows, lines as u64, "{}", task.name);
        assert!(task.ignored_fields.is_empty(), "{}: {:?}", task.name, task.ignored_fields);
        println!(
            "{:<36} {:>6} {:>8} {:>6} {:>8} {:>8}",
            task.name, task.rows, task.ngrams, task.short_ngrams, task.template_ngrams, task.numeric_ngrams
        );
    }
    println!("{} tasks, {} distinct n-grams, loaded in {seconds:.1} s", index.tasks().len(), index.ngrams());
    let task = |name: &str| index.tasks().iter().find(|t| t.name == name).unwrap();
    // Every question-answer task is indexed; instructions repeated in every row are templates.
    for name in ["arc_easy", "arc_challenge", "boolq", "gsm8k", "lambada_openai", "winogrande", "jeopardy_all"] {
        assert!(task(name).ngrams > 1000, "{name}: {:?}", task(name));
    }
    for name in ["bigbench_dyck_languages", "bigbench_logical_deduction", "gsm8k_prepended_8shot", "human_eval"] {
        assert!(task(name).template_ngrams > 0, "{name}");
    }
    // The bundled items are found in the full set too, under every task file that holds them.
    let found: Vec<String> = index.matches(&arc_item()).into_iter().map(|m| m.task).collect();
    assert_eq!(found, ["arc_easy"]);
    let found: Vec<String> = index.matches(&gsm8k_item()).into_iter().map(|m| m.task).collect();
    assert!(found.contains(&"gsm8k".to_string()), "{found:?}");
    // Real pages that quote no benchmark hit nothing.
    for page in web_pages() {
        let found = index.matches(&page.text);
        assert!(found.is_empty(), "{}: {found:?}", page.id);
    }
}

/// `../shared/golden`'s 3,108 real pages (DCLM's golden trace, its `input_text`), when present.
fn golden_pages(test: &str) -> Option<Vec<(String, String)>> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/dclm_baseline_golden.jsonl.zst");
    if !file.is_file() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: {} is missing, and CI=true requires the shared data", file.display());
        }
        println!("SKIPPED {test}: {} not found", file.display());
        return None;
    }
    let text = String::from_utf8(zstd::decode_all(std::fs::File::open(file).unwrap()).unwrap()).unwrap();
    let pages = text
        .split('\n')
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            (value["id"].as_str().unwrap().to_string(), value["input_text"].as_str().unwrap().to_string())
        })
        .collect();
    Some(pages)
}

/// Real pages (web, news, speeches) hit no task of the whole set: no n-gram of numbers only (a calendar's
/// `1 2 3 … 13` is in HumanEval's tests), no famous quote that is only an answer (TriviaQA's aliases).
#[test]
fn real_pages_that_quote_no_benchmark_hit_no_task() {
    let test = "real_pages_that_quote_no_benchmark_hit_no_task";
    let (Some(dir), Some(pages)) = (shared_local_data(test), golden_pages(test)) else { return };
    let config = DecontamConfig { tasks: vec![dir.to_str().unwrap().to_string()], ..DecontamConfig::default() };
    let index = TaskIndex::load(&config).unwrap();
    assert_eq!(pages.len(), 3108);
    let hits: Vec<(String, Vec<TaskMatch>)> = pages
        .iter()
        .map(|(id, text)| (id.clone(), index.matches(text)))
        .filter(|(_, found)| !found.is_empty())
        .collect();
    assert!(hits.is_empty(), "{hits:#?}");
}

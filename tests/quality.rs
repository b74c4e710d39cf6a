//! Quality classifiers end to end: `sluice quality train` on real labelled text, scoring in a recipe's
//! filter chain with DCLM's enricher, and the top-k % threshold.

mod common;

use std::path::Path;

use common::*;
use sluice_filters::quality::{hq_probability, load_classifier};

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n")).unwrap();
}

/// Every fifth example held out for testing, the rest for training.
fn hold_out_every_fifth(examples: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, example) in examples.iter().enumerate() {
        if i % 5 == 0 {
            test.push(example.clone())
        } else {
            train.push(example.clone())
        }
    }
    (train, test)
}

/// Held-out accuracy of a model trained on `train_pos`/`train_neg`.
fn held_out_accuracy(dir: &Path, train: (&[String], &[String]), test: (&[String], &[String]), extra: &[&str]) -> f64 {
    let (pos, neg, model) = (dir.join("pos.txt"), dir.join("neg.txt"), dir.join("model.bin"));
    write_lines(&pos, train.0);
    write_lines(&neg, train.1);
    // Small bucket tables keep the test models a few MB (DCLM's defaults make ~800 MB ones).
    let mut args = vec![
        "quality",
        "train",
        "--positive",
        pos.to_str().unwrap(),
        "--negative",
        neg.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--bucket",
        "100000",
    ];
    args.extend_from_slice(extra);
    let out = sluice_ok(&args);
    assert!(out.contains("trained on"), "{out}");
    let model = load_classifier(&model).unwrap();
    let hq = |text: &String| hq_probability(&model, text).unwrap();
    let correct = test.0.iter().filter(|t| hq(t) >= 0.5).count() + test.1.iter().filter(|t| hq(t) < 0.5).count();
    correct as f64 / (test.0.len() + test.1.len()) as f64
}

#[test]
fn a_classifier_trained_on_article_text_vs_page_furniture_separates_held_out_text() {
    // Positives: paragraphs of the ScrapingHub sample's gold article bodies. Negatives: the short lines
    // (menus, buttons, bylines) resiliparse extracts from the bundled real pages.
    let gold: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("tests/data/aeb-sample/ground-truth.json")).unwrap())
            .unwrap();
    let positives: Vec<String> = gold
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v["articleBody"].as_str().unwrap().lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| l.split_whitespace().count() >= 12)
        .collect();
    let mut negatives: Vec<String> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("tests/data/resiliparse-2.0.1/realhtml"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        negatives.extend(
            text.lines().map(str::trim).filter(|l| (1..=4).contains(&l.split_whitespace().count())).map(str::to_string),
        );
    }
    negatives.truncate(positives.len() * 2);
    assert!(positives.len() > 100 && negatives.len() > 100, "{} {}", positives.len(), negatives.len());
    let ((pos_train, pos_test), (neg_train, neg_test)) =
        (hold_out_every_fifth(&positives), hold_out_every_fifth(&negatives));
    let dir = tempfile::tempdir().unwrap();
    let accuracy = held_out_accuracy(dir.path(), (&pos_train, &neg_train), (&pos_test, &neg_test), &[]);
    eprintln!("held-out accuracy {accuracy:.3} on {} examples", pos_test.len() + neg_test.len());
    assert!(accuracy >= 0.9, "accuracy {accuracy}");
}

#[test]
fn sms_spam_classifier_reaches_held_out_accuracy() {
    let Some(data) = shared_or_skip("sms_spam_classifier_reaches_held_out_accuracy") else { return };
    let read = |name: &str| -> (Vec<String>, Vec<String>) {
        let text = std::fs::read(data.join("models/fasttext/labeled_examples").join(name)).unwrap();
        let text = String::from_utf8_lossy(&text);
        let (mut ham, mut spam) = (Vec::new(), Vec::new());
        for line in text.lines() {
            match line.split_once('\t') {
                Some(("ham", t)) => ham.push(t.to_string()),
                Some(("spam", t)) => spam.push(t.to_string()),
                _ => {}
            }
        }
        (ham, spam)
    };
    // The file's own train/test split has very different class balances (spam is 9 % of one, 60 % of the
    // other), so pool both and hold out every fifth message of each class.
    let (mut ham, mut spam) = read("sms_dataset_train.tsv");
    let (test_ham, test_spam) = read("sms_dataset_test.tsv");
    ham.extend(test_ham);
    spam.extend(test_spam);
    let ((ham_train, ham_test), (spam_train, spam_test)) = (hold_out_every_fifth(&ham), hold_out_every_fifth(&spam));
    let dir = tempfile::tempdir().unwrap();
    // ~1,000 short messages: more epochs than DCLM's 5 (made for millions of documents).
    let accuracy =
        held_out_accuracy(dir.path(), (&ham_train, &spam_train), (&ham_test, &spam_test), &["--epoch", "25"]);
    eprintln!("SMS ham-vs-spam held-out accuracy {accuracy:.3} (majority class: 0.757)");
    assert!(accuracy >= 0.93, "accuracy {accuracy}");
}

/// Writes a one-stage recipe with a filter chain of `steps` (YAML flow maps, one per line).
fn filter_recipe(path: &Path, steps: &[String]) {
    let steps: String = steps.iter().map(|s| format!("        - {s}\n")).collect();
    std::fs::write(path, format!("name: q\noutput: unused\nstages:\n  - filter:\n      steps:\n{steps}")).unwrap();
}

/// Runs `sluice filter RECIPE --input INPUT --output OUT`.
fn filter(recipe: &Path, input: &Path, out: &Path) {
    sluice_ok(&[
        "filter",
        recipe.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
}

fn read_docs(path: &Path) -> Vec<sluice_core::Document> {
    sluice_core::format::read_all(&sluice_core::store::Location::parse(path.to_str().unwrap()).unwrap()).unwrap()
}

#[test]
fn recipes_score_and_filter_by_quality_and_thresholds_keep_the_top_fraction() {
    let dir = tempfile::tempdir().unwrap();
    // Train a tiny model: gold article text vs short page furniture (as above, fewer examples).
    let gold: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("tests/data/aeb-sample/ground-truth.json")).unwrap())
            .unwrap();
    let pos: Vec<String> =
        gold.as_object().unwrap().values().map(|v| v["articleBody"].as_str().unwrap().replace('\n', " ")).collect();
    let neg: Vec<String> = [
        "Home",
        "Sign in",
        "Subscribe now",
        "Share on Facebook",
        "Related stories",
        "Cookie settings",
        "Next article",
        "Menu",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    write_lines(&dir.path().join("pos.txt"), &pos);
    write_lines(&dir.path().join("neg.txt"), &neg);
    let model = dir.path().join("q.bin");
    sluice_ok(&[
        "quality",
        "train",
        "--positive",
        dir.path().join("pos.txt").to_str().unwrap(),
        "--negative",
        dir.path().join("neg.txt").to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--bucket",
        "100000",
    ]);
    let enricher = format!("classify_fasttext_hq_prob_enricher: {{model_filename: {}, key: hq}}", model.display());

    // A page of article text is kept; page furniture is dropped by the quality filter, and counted so.
    let pages = dir.path().join("pages");
    std::fs::create_dir(&pages).unwrap();
    let article = gold.as_object().unwrap().values().next().unwrap()["articleBody"].as_str().unwrap();
    let lines = [
        serde_json::json!({"id": "article", "text": article}),
        serde_json::json!({"id": "menu", "text": "Home\nMenu\nSign in\nSubscribe now"}),
        serde_json::json!({"id": "share-bar", "text": "Share on Facebook\nRelated stories\nNext article\nCookie settings"}),
    ];
    std::fs::write(pages.join("p.jsonl"), lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let recipe = dir.path().join("q-half.yaml");
    filter_recipe(&recipe, &[enricher.clone(), "quality_filter: {key: hq, threshold: 0.5}".into()]);
    let out = dir.path().join("pages-out");
    filter(&recipe, &pages, &out);
    let kept: Vec<String> = read_docs(&out.join("p.jsonl")).into_iter().map(|d| d.id).collect();
    assert_eq!(kept, ["article"]);
    let manifest = &manifests(&out)["p.jsonl"];
    assert_accounted(manifest);
    assert_eq!(manifest["stats"]["drops"], serde_json::json!({"quality_filter": 2}));

    // Score the bundled demo documents (ingested first), keeping all of them.
    let docs = dir.path().join("docs");
    sluice_ok(&[
        "ingest",
        demo_warc().join("realhtml-part0.warc.gz").to_str().unwrap(),
        "--output",
        docs.to_str().unwrap(),
    ]);
    let recipe = dir.path().join("q.yaml");
    filter_recipe(&recipe, &[enricher, "quality_filter: {key: hq, threshold: 0.0}".into()]);
    let scored = dir.path().join("scored");
    filter(&recipe, &docs, &scored);
    let threshold: f64 =
        sluice_ok(&["quality", "threshold", scored.to_str().unwrap(), "--key", "hq", "--keep-fraction", "0.25"])
            .trim()
            .parse()
            .unwrap();
    let all = read_docs(&scored.join("realhtml-part0.jsonl"));
    assert!(all.len() >= 50, "{}", all.len());
    let mut top: Vec<String> =
        all.iter().filter(|d| d.attributes["hq"].as_f64().unwrap() >= threshold).map(|d| d.id.clone()).collect();
    top.sort();
    assert!((top.len() as f64 / all.len() as f64 - 0.25).abs() < 0.05, "kept {} of {}", top.len(), all.len());

    // Filtering at that threshold keeps exactly the top quarter, and drops the rest as `quality_filter`.
    let recipe = dir.path().join("q-top.yaml");
    filter_recipe(&recipe, &[format!("quality_filter: {{key: hq, threshold: {threshold}}}")]);
    let cut = dir.path().join("top");
    filter(&recipe, &scored, &cut);
    let mut kept: Vec<String> = read_docs(&cut.join("realhtml-part0.jsonl")).into_iter().map(|d| d.id).collect();
    kept.sort();
    assert_eq!(kept, top);
    let manifest = &manifests(&cut)["realhtml-part0.jsonl"];
    assert_eq!(manifest["stats"]["drops"], serde_json::json!({"quality_filter": all.len() - top.len()}));
}

#[test]
fn a_missing_quality_model_stops_the_stage_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("q.yaml");
    std::fs::write(
        &recipe,
        format!(
            "name: q\noutput: {}\nstages:\n  - ingest: {{input: [{}]}}\n  - filter:\n      steps:\n        - classify_fasttext_hq_prob_enricher: {{model_filename: no-such-model.bin}}\n",
            dir.path().join("out").display(),
            demo_warc().join("whirlwind.warc.gz").display()
        ),
    )
    .unwrap();
    // `sluice run` checks the files every stage refers to before running any.
    let out = sluice(&["run", recipe.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stage 2 (filter)") && stderr.contains("no-such-model.bin"), "{stderr}");
    assert!(!dir.path().join("out/2-filter").exists(), "nothing is written by a stage that cannot start");
    // `sluice filter` refuses too, naming the file.
    let docs = dir.path().join("docs");
    sluice_ok(&["ingest", demo_warc().join("whirlwind.warc.gz").to_str().unwrap(), "--output", docs.to_str().unwrap()]);
    let filtered = dir.path().join("filtered");
    let out = sluice(&[
        "filter",
        recipe.to_str().unwrap(),
        "--input",
        docs.to_str().unwrap(),
        "--output",
        filtered.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-model.bin"));
    // The stage's own preparation names the step, its position and the file, and says what to do.
    let config: sluice_filters::FilterConfig = serde_json::from_value(serde_json::json!({"steps": [
        {"classify_fasttext_hq_prob_enricher": {"model_filename": "no-such-model.bin"}}
    ]}))
    .unwrap();
    let error = sluice_filters::FilterStage::new(config).unwrap().prepare_steps().unwrap_err().to_string();
    assert!(
        error.starts_with("filter step 1: classify_fasttext_hq_prob_enricher: model 'no-such-model.bin' not found (")
            && error.contains("sluice quality train"),
        "{error}"
    );
}

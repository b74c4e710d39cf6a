//! `sluice dedup minhash` from the command line on real articles with planted near-duplicates: annotate
//! mode and `sluice inspect --clusters` show the clusters, and the dropping run removes exactly the
//! members that are not their cluster's representative.

mod common;

use std::io::Write;

use common::*;
use serde_json::{json, Value};

/// The bundled real articles, then a near-copy of every third one (one word in 100 replaced).
fn articles_with_near_copies(path: &std::path::Path) -> (usize, usize) {
    let text = std::fs::read_to_string(repo().join("demo/quality/articles.jsonl")).unwrap();
    let articles: Vec<String> =
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["text"].as_str().unwrap().to_string()).collect();
    let mut out = std::fs::File::create(path).unwrap();
    let mut write = |id: String, text: &str| {
        writeln!(out, "{}", json!({ "id": id, "text": text })).unwrap();
    };
    for (i, article) in articles.iter().enumerate() {
        write(format!("a{i}"), article);
    }
    let mut planted = 0;
    for (i, article) in articles.iter().enumerate().filter(|(i, a)| i % 3 == 0 && a.split_whitespace().count() > 200) {
        let edited: Vec<&str> = article
            .split_whitespace()
            .enumerate()
            .map(|(w, word)| if w % 100 == 7 { "zyzzyva" } else { word })
            .collect();
        write(format!("a{i}-copy"), &edited.join(" "));
        planted += 1;
    }
    (articles.len(), planted)
}

#[test]
fn minhash_clusters_can_be_inspected_and_dropping_removes_all_but_one_per_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in/articles.jsonl");
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    let (articles, planted) = articles_with_near_copies(&input);
    assert!(planted >= 5, "{planted}");

    let annotated = dir.path().join("annotated");
    let input_arg = input.parent().unwrap().to_str().unwrap();
    sluice_ok(&["dedup", "minhash", "--input", input_arg, "--output", annotated.to_str().unwrap(), "--annotate"]);
    let shown = sluice_ok(&["inspect", annotated.to_str().unwrap(), "--clusters", "-n", "2", "--chars", "60"]);
    assert_eq!(shown.matches("── cluster ").count(), 2, "{shown}");
    // Each planted copy joins its original (the articles themselves are not near-duplicates of each other).
    let totals = shown.lines().last().unwrap();
    let expected =
        format!("— {} documents: {planted} clusters of 2 or more hold {} documents", articles + planted, 2 * planted);
    assert!(totals.starts_with(&expected), "{totals}\nexpected: {expected}");

    let dropped = dir.path().join("dropped");
    let stdout =
        sluice_ok(&["dedup", "minhash", "--input", input_arg, "--output", dropped.to_str().unwrap(), "--json"]);
    let stats: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(stats["stats"]["docs_out"].as_u64(), Some(articles as u64), "{stats}");

    let err = sluice_fails(&["inspect", dropped.to_str().unwrap(), "--clusters"], 1);
    assert!(err.contains("annotate"), "{err}");
}

//! `make bench-extract`: sluice's extractors against resiliparse and trafilatura on the same real pages,
//! in one run. Three steps (the Makefile runs them in order):
//!
//! 1. `prepare DIR` — decodes the pages once with sluice's charset decoder and writes them as UTF-8 files
//!    to `DIR/pages/{aeb,realhtml}/`, so every extractor sees identical strings: the 181 ScrapingHub
//!    article-extraction-benchmark pages and Mozilla Readability's 130 test pages (from `../shared/data`,
//!    when present; their gold texts go to `DIR/gold/`) and the real pages
//!    of the bundled `demo/warc/realhtml-*.warc.gz` (or the full 1,171-page WARC from `../shared/data`).
//! 2. `benches/extract_peers.py DIR` — runs resiliparse and trafilatura (from PyPI) on those files and
//!    writes their texts and CPU times to `DIR/peers/`.
//! 3. `report DIR` — runs sluice's extractors on the same files, timing thread CPU time (best of 3), and
//!    prints docs/s per core, the ratio to resiliparse's main-content mode, token-level P/R/F1 on the
//!    gold texts, and how often sluice's `resiliparse` mode matches resiliparse's output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sluice_ingest::charset::decode_html;
use sluice_ingest::extract::score::{macro_average, read_article_benchmark, score, Score};
use sluice_ingest::extract::{ExtractLimits, ExtractorKind};
use sluice_ingest::http::parse_response;
use sluice_ingest::warc::{read_warc, Limits, WarcEvent};

const EXTRACTORS: [(&str, ExtractorKind); 3] = [
    ("sluice article", ExtractorKind::Article),
    ("sluice resiliparse", ExtractorKind::Resiliparse),
    ("sluice page", ExtractorKind::Page),
];

mod common;

use common::{repo, thread_cpu_seconds};

fn main() {
    match common::command("extract") {
        (cmd, dir) if cmd == "prepare" => prepare(&dir),
        (_, dir) => report(&dir),
    }
}

fn prepare(dir: &Path) {
    let shared = repo().join("../shared/data");
    let aeb = shared.join("extraction_aeb");
    let mut written = 0;
    match read_article_benchmark(&aeb) {
        Ok(pages) => {
            for page in pages {
                write_page(dir, "aeb", &page.id, &page.html);
                write_gold(dir, "aeb", &page.id, &page.gold);
                written += 1;
            }
        }
        Err(e) => eprintln!("note: {}: {e}: no F1 figures (the AEB set lives in ../shared/data)", aeb.display()),
    }
    // Mozilla Readability's test pages: gold = the text of its expected output.
    let readability = shared.join("extraction_readability/test/test-pages");
    if let Ok(entries) = std::fs::read_dir(&readability) {
        for entry in entries {
            let page = entry.unwrap().path();
            let (Ok(source), Ok(expected)) =
                (std::fs::read(page.join("source.html")), std::fs::read_to_string(page.join("expected.html")))
            else {
                continue;
            };
            let id = page.file_name().unwrap().to_string_lossy().to_string();
            write_page(dir, "readability", &id, &decode_html(&source, None, None).text);
            write_gold(dir, "readability", &id, &sluice_ingest::extract::strip_tags(&expected));
            written += 1;
        }
    }
    written += prepare_wcxb(dir, &shared.join("extraction_wcxb"));
    let full = shared.join("warc_realhtml/realhtml-trafilatura-aeb.warc.gz");
    let warcs: Vec<PathBuf> = if full.is_file() {
        vec![full]
    } else {
        (0..4).map(|i| repo().join(format!("demo/warc/realhtml-part{i}.warc.gz"))).collect()
    };
    for warc in warcs {
        let file = std::fs::File::open(&warc).unwrap();
        read_warc(file, &Limits::default(), &mut |event| -> Result<(), ()> {
            let WarcEvent::Record(record) = event else {
                return Ok(());
            };
            if record.record_type() != "response" {
                return Ok(());
            }
            let Ok(response) = parse_response(&record.block, 64 << 20) else {
                return Ok(());
            };
            let id = sluice_core::document::record_id_to_doc_id(record.header("WARC-Record-ID").unwrap_or_default());
            let html = decode_html(&response.payload, response.header("Content-Type"), None).text;
            write_page(dir, "realhtml", &id, &html);
            written += 1;
            Ok(())
        })
        .unwrap();
    }
    println!("prepared {written} pages under {}", dir.join("pages").display());
}

/// WCXB's test split: the pages, their gold `main_content` and `DIR/wcxb-types.json` (id → page type, from
/// WCXB's `metadata.json`), so the report can score per page type as WCXB does.
fn prepare_wcxb(dir: &Path, wcxb: &Path) -> usize {
    let Ok(metadata) = std::fs::read(wcxb.join("metadata.json")) else {
        eprintln!("note: {}: absent: no WCXB figures", wcxb.display());
        return 0;
    };
    let metadata: serde_json::Value = serde_json::from_slice(&metadata).unwrap();
    let mut types = serde_json::Map::new();
    let truth_dir = wcxb.join("test/ground-truth");
    let mut ids: Vec<String> = std::fs::read_dir(&truth_dir)
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    ids.sort();
    for id in &ids {
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(truth_dir.join(format!("{id}.json"))).unwrap()).unwrap();
        let mut html = Vec::new();
        let file = std::fs::File::open(wcxb.join(format!("test/html/{id}.html.gz"))).unwrap();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut html).unwrap();
        write_page(dir, "wcxb", id, &decode_html(&html, None, None).text);
        write_gold(dir, "wcxb", id, truth["ground_truth"]["main_content"].as_str().unwrap_or_default());
        types.insert(id.clone(), metadata["files"][id]["page_type"].clone());
    }
    std::fs::write(dir.join("wcxb-types.json"), serde_json::to_vec_pretty(&types).unwrap()).unwrap();
    ids.len()
}

fn write_gold(dir: &Path, set: &str, id: &str, text: &str) {
    let path = dir.join("gold").join(set).join(format!("{id}.txt"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn write_page(dir: &Path, set: &str, id: &str, html: &str) {
    let path = dir.join("pages").join(set).join(format!("{id}.html"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, html).unwrap();
}

/// Pages of one set: id → HTML.
fn pages(dir: &Path, set: &str) -> BTreeMap<String, String> {
    let mut pages = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir.join("pages").join(set)) else {
        return pages;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let id = path.file_stem().unwrap().to_string_lossy().to_string();
        pages.insert(id, std::fs::read_to_string(&path).unwrap());
    }
    pages
}

struct Run {
    texts: BTreeMap<String, String>,
    cpu_seconds: f64,
}

fn run_sluice(kind: ExtractorKind, pages: &BTreeMap<String, String>) -> Run {
    let extractor = kind.build(ExtractLimits::default());
    let mut best = f64::MAX;
    let mut texts = BTreeMap::new();
    for _ in 0..3 {
        texts.clear();
        let start = thread_cpu_seconds();
        for (id, html) in pages {
            let text = extractor.extract(html, None).map(|e| e.text).unwrap_or_default();
            texts.insert(id.clone(), text);
        }
        best = best.min(thread_cpu_seconds() - start);
    }
    Run { texts, cpu_seconds: best }
}

/// Parsing alone (sluice's own DOM): the floor under sluice's extractors.
fn run_parse_only(pages: &BTreeMap<String, String>) -> Run {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = thread_cpu_seconds();
        for html in pages.values() {
            std::hint::black_box(sluice_ingest::extract::dom::Dom::parse(html));
        }
        best = best.min(thread_cpu_seconds() - start);
    }
    Run { texts: BTreeMap::new(), cpu_seconds: best }
}

/// A peer's run, as written by `extract_peers.py`.
fn load_peer(dir: &Path, peer: &str, set: &str) -> Option<Run> {
    let timings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("peers/timings.json")).ok()?).ok()?;
    let cpu_seconds = timings[peer][set].as_f64()?;
    let mut texts = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("peers").join(peer).join(set)).ok()? {
        let path = entry.ok()?.path();
        texts.insert(path.file_stem()?.to_string_lossy().to_string(), std::fs::read_to_string(&path).ok()?);
    }
    Some(Run { texts, cpu_seconds })
}

fn f1_against_gold(run: &Run, gold: &BTreeMap<String, String>) -> Score {
    let scores: Vec<Score> =
        gold.iter().map(|(id, truth)| score(run.texts.get(id).map(String::as_str).unwrap_or(""), truth)).collect();
    macro_average(&scores)
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn report(dir: &Path) {
    // EXTRACT_SETS=wcxb,aeb limits the report to some sets (while working on the extractor).
    let only = std::env::var("EXTRACT_SETS").ok();
    let wanted = |set: &str| only.as_deref().is_none_or(|only| only.split(',').any(|s| s == set));
    let sets = ["aeb", "readability", "wcxb", "realhtml"]
        .map(|set| (set, if wanted(set) { pages(dir, set) } else { BTreeMap::new() }));
    let peers = ["resiliparse", "resiliparse_full_page", "trafilatura"];
    println!("| extractor | set | pages | docs/s per core | × resiliparse | P | R | F1 |");
    println!("|---|---|---|---|---|---|---|---|");
    for (set, pages) in &sets {
        if pages.is_empty() {
            continue;
        }
        let gold = load_gold(dir, set);
        let reference = load_peer(dir, "resiliparse", set);
        let reference_rate = reference.as_ref().map(|r| pages.len() as f64 / r.cpu_seconds);
        let mut rows: Vec<(String, Run)> =
            EXTRACTORS.iter().map(|(name, kind)| (name.to_string(), run_sluice(*kind, pages))).collect();
        rows.push(("(sluice DOM parse only)".into(), run_parse_only(pages)));
        for peer in peers {
            if let Some(run) = load_peer(dir, peer, set) {
                rows.push((peer.replace('_', " "), run));
            }
        }
        for (name, run) in &rows {
            let rate = pages.len() as f64 / run.cpu_seconds;
            let ratio = reference_rate.map_or("–".into(), |r| format!("{:.2}", rate / r));
            let quality = if !gold.is_empty() && !run.texts.is_empty() {
                let s = f1_against_gold(run, &gold);
                format!("{:.3} | {:.3} | {:.3}", s.precision, s.recall, s.f1)
            } else {
                "– | – | –".into()
            };
            println!("| {name} | {set} | {} | {rate:.0} | {ratio} | {quality} |", pages.len());
        }
        if *set == "wcxb" {
            wcxb_by_type(dir, &rows, &gold);
        }
        write_texts(dir, set, &rows);
        if let (Some(reference), Some((_, ours))) = (&reference, rows.iter().find(|(n, _)| n == "sluice resiliparse")) {
            let same = reference
                .texts
                .iter()
                .filter(|(id, text)| ours.texts.get(*id).is_some_and(|o| normalise(o) == normalise(text)))
                .count();
            let exact = reference.texts.iter().filter(|(id, text)| ours.texts.get(*id) == Some(*text)).count();
            println!(
                "\n{set}: sluice `resiliparse` mode = resiliparse on {same}/{} pages after whitespace normalisation ({:.1} %), {exact} byte-identical\n",
                reference.texts.len(),
                100.0 * same as f64 / reference.texts.len().max(1) as f64
            );
        }
    }
}

/// F1 per WCXB page type (macro average over the pages of the type), one row per extractor.
fn wcxb_by_type(dir: &Path, rows: &[(String, Run)], gold: &BTreeMap<String, String>) {
    let Ok(types) = std::fs::read(dir.join("wcxb-types.json")) else { return };
    let types: BTreeMap<String, String> = serde_json::from_slice(&types).unwrap();
    let mut kinds: Vec<&str> = types.values().map(String::as_str).collect();
    kinds.sort();
    kinds.dedup();
    let counts: Vec<usize> = kinds.iter().map(|k| types.values().filter(|t| t == k).count()).collect();
    let header: Vec<String> = kinds.iter().zip(&counts).map(|(k, n)| format!("{k} ({n})")).collect();
    println!("\nwcxb: F1 per page type\n\n| extractor | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(kinds.len()));
    for (name, run) in rows.iter().filter(|(_, run)| !run.texts.is_empty()) {
        let cells: Vec<String> = kinds
            .iter()
            .map(|kind| {
                let of_kind: BTreeMap<String, String> = gold
                    .iter()
                    .filter(|(id, _)| types.get(*id).is_some_and(|t| t == kind))
                    .map(|(i, g)| (i.clone(), g.clone()))
                    .collect();
                format!("{:.3}", f1_against_gold(run, &of_kind).f1)
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    println!();
}

/// Writes each extractor's texts to `DIR/out/{extractor}/{set}/` (for `benches/wcxb_score.py`, which scores
/// WCXB's with WCXB's own Python function, and for looking at failures).
fn write_texts(dir: &Path, set: &str, rows: &[(String, Run)]) {
    // The peers' texts are already under DIR/peers/.
    for (name, run) in rows.iter().filter(|(name, run)| name.starts_with("sluice ") && !run.texts.is_empty()) {
        let out = dir.join("out").join(name.replace(' ', "_")).join(set);
        std::fs::create_dir_all(&out).unwrap();
        for (id, text) in &run.texts {
            std::fs::write(out.join(format!("{id}.txt")), text).unwrap();
        }
    }
}

/// Gold texts of a set (written by `prepare`; none for sets without ground truth).
fn load_gold(dir: &Path, set: &str) -> BTreeMap<String, String> {
    let mut gold = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir.join("gold").join(set)) else {
        return gold;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        gold.insert(path.file_stem().unwrap().to_string_lossy().to_string(), std::fs::read_to_string(&path).unwrap());
    }
    gold
}

//! Extraction quality and bounds on real pages: sluice's `resiliparse` mode against resiliparse's own
//! output, `article` mode's F1 on the ScrapingHub benchmark, charsets of real crawled pages, and
//! pathological pages that must finish with bounded work.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use sluice_core::format::read_all;
use sluice_core::store::Location;
use sluice_core::Document;
use sluice_ingest::charset::decode_html;
use sluice_ingest::extract::score::{macro_average, read_article_benchmark, score};
use sluice_ingest::extract::{ExtractError, ExtractLimits, ExtractorKind};

fn ingest_docs(inputs: &[&Path], extractor: &str) -> Vec<Document> {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["ingest".to_string()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap().to_string()));
    args.extend(["--output".into(), out.path().to_str().unwrap().into(), "--extractor".into(), extractor.into()]);
    sluice_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "parquet") {
            docs.extend(read_all(&Location::parse(path.to_str().unwrap()).unwrap()).unwrap());
        }
    }
    docs
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn resiliparse_mode_matches_resiliparse_on_real_pages() {
    let warcs: Vec<_> = (0..4).map(|i| demo_warc().join(format!("realhtml-part{i}.warc.gz"))).collect();
    let docs = ingest_docs(&warcs.iter().map(|p| p.as_path()).collect::<Vec<_>>(), "resiliparse");
    let ours: BTreeMap<String, String> = docs.into_iter().map(|d| (d.id, d.text)).collect();
    let reference_dir = repo().join("tests/data/resiliparse-2.0.1/realhtml");
    let (mut total, mut same) = (0, 0);
    for entry in std::fs::read_dir(reference_dir).unwrap() {
        let path = entry.unwrap().path();
        let id = path.file_stem().unwrap().to_string_lossy().to_string();
        let reference = std::fs::read_to_string(&path).unwrap();
        total += 1;
        // Pages resiliparse extracts nothing from are dropped by sluice as `empty_text`.
        let text = ours.get(&id).map(String::as_str).unwrap_or("");
        if normalise(text) == normalise(&reference) {
            same += 1;
        }
    }
    assert_eq!(total, 240);
    let rate = same as f64 / total as f64;
    eprintln!("resiliparse mode matches resiliparse 2.0.1 on {same}/{total} pages ({:.1} %)", rate * 100.0);
    assert!(rate >= 0.99, "match rate {rate:.3} fell below 0.99 (goal 0.95; measured 1.000 when written)");
}

/// (id → html, id → gold) of the ScrapingHub benchmark: all 181 pages from ../shared, else the sample.
fn benchmark_pages() -> (BTreeMap<String, String>, BTreeMap<String, String>, &'static str) {
    let (dir, which) = match shared_data() {
        Some(shared) => (shared.join("extraction_aeb"), "all 181 pages"),
        None => (repo().join("tests/data/aeb-sample"), "the 20-page sample"),
    };
    let mut pages = BTreeMap::new();
    let mut truth = BTreeMap::new();
    for page in read_article_benchmark(&dir).unwrap() {
        pages.insert(page.id.clone(), page.html);
        truth.insert(page.id, page.gold);
    }
    (pages, truth, which)
}

fn f1_of(kind: ExtractorKind, pages: &BTreeMap<String, String>, gold: &BTreeMap<String, String>) -> f64 {
    let extractor = kind.build(ExtractLimits::default());
    let scores: Vec<_> = pages
        .iter()
        .map(|(id, html)| score(&extractor.extract(html, None).map(|e| e.text).unwrap_or_default(), &gold[id]))
        .collect();
    macro_average(&scores).f1
}

#[test]
fn extraction_quality_does_not_regress_on_the_benchmark() {
    let (pages, gold, which) = benchmark_pages();
    let article = f1_of(ExtractorKind::Article, &pages, &gold);
    let resiliparse = f1_of(ExtractorKind::Resiliparse, &pages, &gold);
    let page = f1_of(ExtractorKind::Page, &pages, &gold);
    eprintln!("F1 on {which}: article {article:.3}, resiliparse {resiliparse:.3}, page {page:.3}");
    // Measured on all 181 pages: article 0.961 when written, 0.973 after extraction v2's second round;
    // resiliparse 0.898 (= resiliparse 2.0.1), page 0.645; on the 20-page sample: article 0.966 when written.
    assert!(article >= 0.955, "article F1 {article:.3}");
    assert!(resiliparse >= 0.88, "resiliparse F1 {resiliparse:.3}");
    assert!(page >= 0.60 && page < resiliparse && resiliparse < article, "ordering: {page} {resiliparse} {article}");
}

/// WCXB's test split (511 real pages of 7 types): `article` F1 overall and per page type, with WCXB's metric
/// (sluice's `score`, the same lower-cased `\w+` multisets). Measured after extraction v2's second round:
/// overall 0.893 (trafilatura 2.3.1 0.861, resiliparse 0.793; sluice before extraction v2 0.779); article 0.959,
/// collection 0.741, documentation 0.967, forum 0.823, listing 0.754, product 0.796, service 0.841.
#[test]
fn wcxb_quality_does_not_regress() {
    let Some(shared) = shared_or_skip("wcxb_quality_does_not_regress") else { return };
    let wcxb = shared.join("extraction_wcxb");
    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wcxb.join("metadata.json")).unwrap()).unwrap();
    let extractor = ExtractorKind::Article.build(ExtractLimits::default());
    let mut by_type: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for entry in std::fs::read_dir(wcxb.join("test/ground-truth")).unwrap() {
        let path = entry.unwrap().path();
        let id = path.file_stem().unwrap().to_string_lossy().to_string();
        let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let gold = truth["ground_truth"]["main_content"].as_str().unwrap_or_default();
        let mut html = Vec::new();
        let file = std::fs::File::open(wcxb.join(format!("test/html/{id}.html.gz"))).unwrap();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut html).unwrap();
        let text = extractor.extract(&decode_html(&html, None, None).text, None).map(|e| e.text).unwrap_or_default();
        let kind = metadata["files"][&id]["page_type"].as_str().unwrap().to_string();
        by_type.entry(kind).or_default().push(score(&text, gold).f1);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let all: Vec<f64> = by_type.values().flatten().copied().collect();
    assert_eq!(all.len(), 511);
    eprintln!("WCXB article F1 {:.3}", mean(&all));
    for (kind, f1s) in &by_type {
        eprintln!("  {kind}: {:.3} over {} pages", mean(f1s), f1s.len());
    }
    // Extraction v2's figures (docs/extraction.md), a little below them; trafilatura 2.3.1 scores 0.861
    // overall, 0.633 collection, 0.933 documentation, 0.791 forum, 0.748 listing, 0.721 product, 0.817 service.
    assert!(mean(&all) >= 0.888, "WCXB F1 {:.3}", mean(&all));
    let at_least = |kind: &str, min: f64| {
        let f1 = mean(&by_type[kind]);
        assert!(f1 >= min, "{kind} F1 {f1:.3} < {min}");
    };
    at_least("article", 0.955);
    at_least("collection", 0.735);
    at_least("documentation", 0.96);
    at_least("forum", 0.815);
    at_least("listing", 0.75);
    at_least("product", 0.79);
    at_least("service", 0.835);
}

#[test]
fn real_pages_in_legacy_charsets_decode() {
    // The page extractor keeps all visible text: this test is about decoding, not about main content
    // (the GBK pages are link listings with little article text).
    let docs = ingest_docs(
        &[&demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz"), &demo_warc().join("clueweb09-ja-quirk.warc.gz")],
        "page",
    );
    let by_charset = |charset: &str| docs.iter().filter(|d| d.attributes["charset"] == charset).collect::<Vec<_>>();
    // ClueWeb09: EUC-JP from the HTTP header.
    let euc_jp = by_charset("EUC-JP");
    assert_eq!(euc_jp.len(), 29);
    assert!(euc_jp.iter().any(|d| d.text.contains("携帯でアクセス")), "Japanese text");
    // Common Crawl 2020: GBK and windows-1251 pages.
    let gbk = by_charset("GBK");
    assert_eq!(gbk.len(), 6);
    let han = |d: &&Document| d.text.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c)).count();
    assert!(gbk.iter().filter(|d| han(d) > 50).count() >= 4, "Chinese text in the GBK pages");
    let cyrillic = by_charset("windows-1251");
    assert_eq!(cyrillic.len(), 1);
    assert!(cyrillic[0].text.contains("безопасности"), "{}", cyrillic[0].text);
}

#[test]
fn utf16_and_mislabelled_utf8_versions_of_a_real_page_decode_alike() {
    // A real page from the ScrapingHub sample, re-encoded.
    let (pages, _, _) = benchmark_pages();
    let html = pages.values().next().unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in html.encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    assert_eq!(decode_html(&utf16, Some("text/html; charset=windows-1252"), None).text, *html);
    // UTF-8 bytes declared as Latin-1 (common on the web) still decode as UTF-8 when non-ASCII.
    let labelled = format!("{html}<p>Zürich — naïve</p>");
    assert_eq!(decode_html(labelled.as_bytes(), Some("text/html; charset=ISO-8859-1"), None).text, labelled);
}

/// A pathological page: the extractors either return text or stop at the element limit, and finish.
fn check_bounded(html: &str, expect_limit: bool) {
    for kind in [ExtractorKind::Article, ExtractorKind::Resiliparse, ExtractorKind::Page] {
        let result = kind.build(ExtractLimits::default()).extract(html, None);
        match result {
            Err(ExtractError::TooManyElements(found, limit) | ExtractError::TooDeep(found, limit)) => {
                assert!(found > limit);
                assert!(expect_limit && kind != ExtractorKind::Page, "{kind:?} hit a limit");
            }
            Err(e) => panic!("{kind:?}: {e}"),
            Ok(extracted) => assert!(
                !expect_limit || kind == ExtractorKind::Page,
                "{kind:?} ignored the element limit ({} chars)",
                extracted.text.len()
            ),
        }
    }
}

#[test]
fn pathological_pages_finish_with_bounded_work() {
    // 150k-deep nesting: over the depth limit (a DOM would cost ~10^10 steps to build).
    check_bounded(
        &format!("<html><body>{}deep{}</body></html>", "<div>".repeat(150_000), "</div>".repeat(150_000)),
        true,
    );
    // A table of 200k cells: over the limit.
    check_bounded(
        &format!("<html><body><table>{}</table></body></html>", "<tr><td>x</td><td>y</td></tr>".repeat(70_000)),
        true,
    );
    // 5 MB of inline script with a little text: under the limit, and the script never leaks.
    let html = format!(
        "<html><body><p>Before the script.</p><script>{}</script><p>After it.</p></body></html>",
        "var a = '<p>not text</p>';\n".repeat(200_000)
    );
    for kind in [ExtractorKind::Article, ExtractorKind::Resiliparse, ExtractorKind::Page] {
        let text = kind.build(ExtractLimits::default()).extract(&html, None).unwrap().text;
        assert!(!text.contains("not text"), "{kind:?}");
        assert!(text.contains("After it."), "{kind:?}: {text}");
    }
    // 10k unclosed inline tags: over the depth limit too.
    check_bounded(&format!("<html><body>{}text</body></html>", "<b><i>".repeat(5_000)), true);
    // Unclosed list items and paragraphs do not nest: well under the limits.
    check_bounded(&format!("<html><body><ul>{}</ul></body></html>", "<li><p>item".repeat(20_000)), false);
    // The page extractor always answers, with tag-stripped text past the limits.
    let deep = format!("<html><body>{}deep text{}</body></html>", "<div>".repeat(150_000), "</div>".repeat(150_000));
    assert_eq!(ExtractorKind::Page.build(ExtractLimits::default()).extract(&deep, None).unwrap().text, "deep text");
}

//! Debugging aid: runs the `resiliparse` extractor on the pages `make bench-extract` prepared and prints
//! the pages whose text differs from resiliparse's own output, with the first difference.
//!
//! `cargo run --release -p sluice-ingest --example compare_resiliparse -- target/bench-extract realhtml`

use sluice_ingest::extract::{ExtractLimits, ExtractorKind};

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `-- ancestors PAGE.html NEEDLE`: the element path above the first text node containing NEEDLE.
fn ancestors(page: &str, needle: &str) {
    use sluice_ingest::extract::dom::Dom;
    let dom = Dom::parse(&std::fs::read_to_string(page).expect("page"));
    let Some(text) = dom.descendants(dom.root()).find(|&n| dom.text(n).contains(needle)) else {
        return println!("not found");
    };
    let mut at = Some(text);
    while let Some(node) = at {
        println!("{} class={:?} id={:?}", dom.tag_name(node), dom.attr(node, "class"), dom.attr(node, "id"));
        at = dom.parent(node);
    }
}

/// `-- profile DIR SET`: extracts every page 20 times (a loop to run under `perf record`).
fn profile(dir: &std::path::Path, set: &str) {
    let extractor = ExtractorKind::Resiliparse.build(ExtractLimits::default());
    let pages: Vec<String> = std::fs::read_dir(dir.join("pages").join(set))
        .expect("pages")
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let mut total = 0;
    for _ in 0..20 {
        for page in &pages {
            total += extractor.extract(page, None).map(|e| e.text.len()).unwrap_or(0);
        }
    }
    println!("{total}");
}

/// `-- f1 DIR SET KIND`: token F1 of an extractor against the gold texts, with the worst pages.
fn f1(dir: &std::path::Path, set: &str, kind: &str) {
    use sluice_ingest::extract::score::{macro_average, score};
    let kind: ExtractorKind = serde_json::from_value(serde_json::Value::String(kind.to_string())).expect("kind");
    let extractor = kind.build(ExtractLimits::default());
    let mut scores = Vec::new();
    let mut worst = Vec::new();
    let start = std::time::Instant::now();
    for entry in std::fs::read_dir(dir.join("gold").join(set)).expect("gold") {
        let gold_path = entry.unwrap().path();
        let id = gold_path.file_stem().unwrap().to_string_lossy().to_string();
        let html = std::fs::read_to_string(dir.join("pages").join(set).join(format!("{id}.html"))).unwrap();
        let gold = std::fs::read_to_string(&gold_path).unwrap();
        let text = extractor.extract(&html, None).map(|e| e.text).unwrap_or_default();
        let s = score(&text, &gold);
        worst.push((s.f1, s.precision, s.recall, id));
        scores.push(s);
    }
    let elapsed = start.elapsed().as_secs_f64();
    worst.sort_by(|a, b| a.0.total_cmp(&b.0));
    let shown = if std::env::var_os("ALL").is_some() { worst.len() } else { 12 };
    for (f, p, r, id) in worst.iter().take(shown) {
        println!("{f:.3} P {p:.3} R {r:.3} {id}");
    }
    let m = macro_average(&scores);
    println!(
        "{kind:?} {set}: P {:.4} R {:.4} F1 {:.4}  ({:.0} docs/s wall)",
        m.precision,
        m.recall,
        m.f1,
        scores.len() as f64 / elapsed
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args[1] == "ancestors" {
        return ancestors(&args[2], &args[3]);
    }
    if args[1] == "f1" {
        return f1(std::path::Path::new(&args[2]), &args[3], &args[4]);
    }
    if args[1] == "show" {
        let kind: ExtractorKind = serde_json::from_value(serde_json::Value::String(args[3].clone())).expect("kind");
        let html = std::fs::read_to_string(&args[2]).expect("page");
        return println!(
            "{}",
            kind.build(ExtractLimits::default()).extract(&html, None).map(|e| e.text).unwrap_or_default()
        );
    }
    if args[1] == "profile" {
        return profile(std::path::Path::new(&args[2]), &args[3]);
    }
    let (dir, set) = (std::path::Path::new(&args[1]), &args[2]);
    let extractor = ExtractorKind::Resiliparse.build(ExtractLimits::default());
    let (mut total, mut same) = (0, 0);
    let mut entries: Vec<_> =
        std::fs::read_dir(dir.join("pages").join(set)).expect("pages").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for page in entries {
        let id = page.file_stem().unwrap().to_string_lossy().to_string();
        let Ok(reference) = std::fs::read_to_string(dir.join("peers/resiliparse").join(set).join(format!("{id}.txt")))
        else {
            continue;
        };
        let html = std::fs::read_to_string(&page).unwrap();
        let ours = extractor.extract(&html, None).map(|e| e.text).unwrap_or_default();
        total += 1;
        let (a, b) = (normalise(&ours), normalise(&reference));
        if a == b {
            same += 1;
            continue;
        }
        let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        let snippet = |s: &str| s.chars().skip(at.saturating_sub(60)).take(160).collect::<String>();
        println!(
            "== {id} (ours {} chars, resiliparse {} chars)\n  ours: {}\n  them: {}",
            a.len(),
            b.len(),
            snippet(&a),
            snippet(&b)
        );
    }
    println!("{same}/{total} identical");
}

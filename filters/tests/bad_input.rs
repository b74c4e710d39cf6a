//! Hostile documents through DCLM's whole chain (`recipes/dclm-baseline.yaml`): each gets the decision it
//! should (kept, or dropped by the named step and check), nothing panics, and each is decided within a
//! time bound.

use std::time::{Duration, Instant};

use sluice_core::Document;
use sluice_filters::{FilterConfig, FilterStage};

fn dclm_baseline() -> FilterStage {
    let recipe: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../recipes/dclm-baseline.yaml")).unwrap(),
    )
    .unwrap();
    let stage = recipe["stages"].as_array().unwrap().iter().find_map(|s| s.get("filter")).unwrap();
    let config: FilterConfig = serde_json::from_value(stage.clone()).unwrap();
    let stage = FilterStage::new(config).unwrap();
    stage.prepare_steps().unwrap();
    stage
}

/// A short real-looking article that DCLM-Baseline keeps.
const ARTICLE: &str = "The Danube is the second-longest river in Europe, after the Volga in Russia. It rises in the Black Forest of Germany and flows for some 2,850 kilometres to its mouth on the Black Sea.
Along the way it passes through or touches ten countries, more than any other river in the world, and four capital cities stand on its banks: Vienna, Bratislava, Budapest and Belgrade.
Since ancient times the river has been an important route for trade, and it formed a long stretch of the northern frontier of the Roman Empire.
Today canals link it with the Rhine and the North Sea, so that barges can carry grain, steel and timber across the continent from one coast to the other.";

#[test]
fn hostile_documents_get_the_expected_decision_in_bounded_time() {
    let stage = dclm_baseline();
    let real = "The Danube is Europe's second-longest river, flowing through ten countries from the Black Forest to the Black Sea, and it has been a trade route for centuries. ";
    // (name, text, expected drop reason or None for kept, time bound). The bounds are ~10× what an
    // optimised build takes on one busy core: they catch super-linear blow-ups, not noise.
    let cases: Vec<(&str, String, Option<&str>, Duration)> = vec![
        ("clean article", ARTICLE.into(), None, Duration::from_secs(1)),
        (
            "article with control characters",
            ARTICLE.replacen(", ", ",\u{0} ", 3).replacen(" the ", " the\u{1c}\u{b}", 3).replace('\n', "\r\n"),
            None,
            Duration::from_secs(1),
        ),
        ("only newlines", "\n".repeat(1_000_000), Some("language_filter"), Duration::from_secs(2)),
        ("one 1 MB word", "a".repeat(1 << 20), Some("language_filter"), Duration::from_secs(2)),
        ("empty", String::new(), Some("url_removal_modifier"), Duration::from_secs(1)),
        ("whitespace", " \n\t\u{a0}\n".into(), Some("language_filter"), Duration::from_secs(1)),
        (
            "all punctuation",
            "!!! ... ??? ### --- ,,, ;;; ::: ***".repeat(50),
            Some("language_filter"),
            Duration::from_secs(1),
        ),
        ("one giant line", real.repeat(5_000), Some("page_length_filter"), Duration::from_secs(5)),
        ("10 MB", format!("{}\n", real).repeat(70_000), Some("page_length_filter"), Duration::from_secs(10)),
        (
            "mixed scripts",
            format!(
                "{real}Дунай — вторая по длине река Европы. ドナウ川はヨーロッパで二番目に長い川です。النهر الثاني."
            )
            .repeat(20),
            Some("language_filter"),
            Duration::from_secs(2),
        ),
        (
            "control characters",
            format!("{real}\u{0}\u{1c}\u{1f}\u{b}\u{c}\r").repeat(20),
            Some("massive_web_repetition_filters:top_4_gram"),
            Duration::from_secs(2),
        ),
        ("replacement characters", "\u{fffd}".repeat(10_000), Some("language_filter"), Duration::from_secs(2)),
    ];
    let mut wrong = Vec::new();
    for (name, text, expected, bound) in cases {
        let mut doc = Document::from_text(&text, None);
        doc.metadata.insert("WARC-Target-URI".into(), "http://example.com/page".into());
        let started = Instant::now();
        let decision = stage.drop_reason(&mut doc);
        let elapsed = started.elapsed();
        eprintln!("{name}: {} ({:.3} s)", decision.as_deref().unwrap_or("kept"), elapsed.as_secs_f64());
        if decision.as_deref() != expected {
            wrong.push(format!("{name}: {decision:?}, expected {expected:?}"));
        }
        if elapsed > bound {
            wrong.push(format!("{name}: {elapsed:?}, bound {bound:?}"));
        }
    }
    // A page without the WARC header move_url_modifier reads is an error of that step, not a filter drop.
    let mut headless = Document::from_text(ARTICLE, None);
    assert_eq!(stage.drop_reason(&mut headless).as_deref(), Some("move_url_modifier:error"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

//! Hostile documents through DCLM's whole chain: every one gets a decision (kept, or dropped by a named
//! step), nothing panics, and nothing takes unbounded time.

use sluice_core::Document;
use sluice_filters::{StepConfig, Verdict};

fn chain() -> Vec<Box<dyn sluice_filters::Step>> {
    let recipe: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../recipes/dclm-baseline.yaml")).unwrap(),
    )
    .unwrap();
    let stage = recipe["stages"].as_array().unwrap().iter().find_map(|s| s.get("filter")).unwrap();
    stage["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| serde_json::from_value::<StepConfig>(s.clone()).unwrap().build_prepared().unwrap())
        .collect()
}

/// Runs the chain; returns the name of the step that dropped the document, if any.
fn decide(text: &str) -> Option<&'static str> {
    let mut doc = Document::from_text(text, None);
    doc.metadata.insert("WARC-Target-URI".into(), "http://example.com/page".into());
    for step in chain() {
        match step.apply(&mut doc) {
            Verdict::Keep => {}
            Verdict::Drop | Verdict::Error(_) => return Some(step.name()),
        }
    }
    None
}

#[test]
fn hostile_documents_get_a_decision() {
    let real = "The Danube is Europe's second-longest river, flowing through ten countries from the Black Forest to the Black Sea, and it has been a trade route for centuries. ";
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("whitespace", " \n\t\u{a0}\n".into()),
        ("all punctuation", "!!! ... ??? ### --- ,,, ;;; ::: ***".repeat(50)),
        ("one giant line", real.repeat(5_000)),
        ("10 MB", format!("{}\n", real).repeat(70_000)),
        (
            "mixed scripts",
            format!(
                "{real}Дунай — вторая по длине река Европы. ドナウ川はヨーロッパで二番目に長い川です。النهر الثاني."
            )
            .repeat(20),
        ),
        ("control characters", format!("{real}\u{0}\u{1c}\u{1f}\u{b}\u{c}\r").repeat(20)),
        ("replacement characters", "\u{fffd}".repeat(10_000)),
    ];
    for (name, text) in cases {
        let started = std::time::Instant::now();
        let decision = decide(&text);
        eprintln!("{name}: {} ({:.2} s)", decision.unwrap_or("kept"), started.elapsed().as_secs_f64());
        if text.trim().is_empty() {
            assert!(decision.is_some(), "{name} must be dropped");
        }
    }
}

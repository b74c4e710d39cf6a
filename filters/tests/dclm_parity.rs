//! Per-step parity with DCLM: every case of `shared/golden/filter_cases.jsonl` (746 cases on both sides of
//! every threshold, each with the output of DCLM's own mapper) for the steps sluice implements.

mod common;

use common::{golden_or_skip, json_close};
use std::collections::BTreeMap;

use serde_json::{json, Value};
use sluice_core::Document;
use sluice_filters::{StepConfig, Verdict};

/// A case's input page as a sluice document: `text`, `url`, `metadata`; every other field is an attribute.
fn document(input: &Value) -> Document {
    let mut doc =
        Document::from_text(input["text"].as_str().unwrap_or_default(), input["url"].as_str().map(str::to_string));
    for (key, value) in input.as_object().unwrap() {
        match key.as_str() {
            "text" | "url" => {}
            "metadata" => doc.metadata = value.as_object().cloned().unwrap_or_default(),
            _ => {
                doc.attributes.insert(key.clone(), value.clone());
            }
        }
    }
    doc
}

#[test]
fn implemented_steps_agree_with_dclm_on_every_case() {
    let test = "implemented_steps_agree_with_dclm_on_every_case";
    let Some(dir) = golden_or_skip(test, "filter_cases.jsonl") else { return };
    let mut per_step: BTreeMap<(u64, String), (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut unsupported = BTreeMap::new();
    for line in std::fs::read_to_string(dir.join("filter_cases.jsonl")).unwrap().lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let name = case["name"].as_str().unwrap().to_string();
        let step_config: Result<StepConfig, _> = serde_json::from_value(json!({ name.clone(): case["params"] }));
        let Ok(config) = step_config else {
            *unsupported.entry(name).or_insert(0) += 1;
            continue;
        };
        let step = config.build_prepared().unwrap_or_else(|e| panic!("{}: {e}", case["case_id"]));
        let mut doc = document(&case["input"]);
        let verdict = step.apply(&mut doc);
        let expected = &case["expected"];
        let mut agree = (verdict == Verdict::Keep) == expected["kept"].as_bool().unwrap();
        if agree && verdict == Verdict::Keep {
            agree = expected["text"].as_str() == Some(doc.text.as_str());
            for (key, value) in expected["added"].as_object().into_iter().flatten() {
                let ours =
                    if key == "url" { doc.url.clone().map(Value::String) } else { doc.attributes.get(key).cloned() };
                agree &= ours.as_ref().is_some_and(|a| json_close(a, value));
            }
        }
        let entry = per_step.entry((case["step"].as_u64().unwrap(), name.clone())).or_default();
        entry.0 += usize::from(agree);
        entry.1 += 1;
        if !agree {
            failures.push(format!("{}: sluice {verdict:?}, DCLM kept={}", case["case_id"], expected["kept"]));
        }
    }
    for ((step, name), (agreed, total)) in &per_step {
        eprintln!("step {step:2} {name:32} {agreed}/{total}");
    }
    let cases: usize = per_step.values().map(|(_, total)| total).sum();
    // Every one of DCLM-Baseline's 25 steps with cases (all but the curated domain list, which has none) is
    // implemented: nothing may fall back to "not implemented", and every case is checked.
    assert!(unsupported.is_empty(), "steps sluice cannot build: {unsupported:?}");
    assert_eq!(per_step.len(), 25, "steps checked: {:?}", per_step.keys().collect::<Vec<_>>());
    assert_eq!(cases, 746);
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}

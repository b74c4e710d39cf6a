//! C4 and FineWeb rules on real lines (from the ScrapingHub sample's gold text and real page furniture).

use serde_json::json;
use sluice_core::Document;
use sluice_filters::{StepConfig, Verdict};

fn run(step: serde_json::Value, text: &str) -> (Verdict, String) {
    let step = serde_json::from_value::<StepConfig>(step).unwrap().build_prepared().unwrap();
    let mut doc = Document::from_text(text, None);
    let verdict = step.apply(&mut doc);
    (verdict, doc.text)
}

#[test]
fn c4_line_rules() {
    let text = "The Danube is Europe's second-longest river.\nShare this article\nIt flows into the Black Sea…\nRead more...\n\nIs it navigable?";
    let (verdict, kept) = run(json!({"punctuation_line_modifier": {"remove_ellipses": true}}), text);
    assert_eq!(verdict, Verdict::Keep);
    assert_eq!(kept, "The Danube is Europe's second-longest river.\n\nIs it navigable?");
    let (_, kept) = run(
        json!({"substring_line_modifier": {"banlist": ["privacy policy", "uses cookies"]}}),
        "Real text here.\nThis site uses cookies.\nRead our Privacy Policy",
    );
    assert_eq!(kept, "Real text here.");
    assert_eq!(
        run(json!({"substring_filter": {"banlist": "lorem ipsum"}}), "Lorem Ipsum dolor sit amet").0,
        Verdict::Drop
    );
    assert_eq!(run(json!({"substring_filter": {"banlist": "\\{"}}), "function() { return 1; }").0, Verdict::Drop);
    assert_eq!(run(json!({"substring_filter": {"banlist": "\\{"}}), "No braces at all.").0, Verdict::Keep);
}

#[test]
fn fineweb_rules() {
    let article = "The Danube is Europe's second-longest river, flowing through ten countries.\nIt has been a vital trade route for centuries and connects many capital cities.\nThe Rhine rises in the Swiss Alps and flows north to the North Sea.";
    let fineweb = |text: &str| run(json!({"fineweb_quality_filter": {}}), text).0;
    assert_eq!(fineweb(article), Verdict::Keep);
    // A menu: no line ends in punctuation.
    assert_eq!(fineweb("Home\nNews\nSport\nWeather\nContact us"), Verdict::DropCheck("line_punct_ratio"));
    // Punctuated, but mostly short lines.
    assert_eq!(
        fineweb("Home.\nNews.\nSport.\nThe Danube is Europe's second-longest river."),
        Verdict::DropCheck("short_line_ratio")
    );
    // Duplicated lines.
    let duplicated = format!("{article}\n{article}");
    assert_eq!(fineweb(&duplicated), Verdict::DropCheck("char_dup_ratio"));
    // A list: more than 0.3 newlines per word.
    let list =
        "The Danube is Europe's second-longest river, flowing through ten countries.\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nEnd.";
    assert_eq!(fineweb(list), Verdict::DropCheck("list_ratio"));
    assert_eq!(fineweb(""), Verdict::DropCheck("empty"));
}

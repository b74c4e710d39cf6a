//! Line modifiers: rewrite the text line by line (lines are `text.split("\n")`), then drop the page if
//! nothing is left.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use sluice_core::Document;

use crate::step::{set_text, Step, Verdict};
use crate::text;

/// Keeps the lines `keep` accepts, joins them with `\n` and Python-strips the result (unless `strip` is
/// false).
fn filter_lines(doc: &mut Document, strip: bool, mut keep: impl FnMut(&str) -> bool) -> Verdict {
    let kept: Vec<&str> = doc.text.split('\n').filter(|line| keep(line)).collect();
    let joined = kept.join("\n");
    let result = if strip { text::strip(&joined).to_string() } else { joined };
    set_text(doc, result)
}

/// `newline_removal_modifier`: runs of more than `max_consecutive` newlines become `max_consecutive`.
/// (The only DCLM modifier that keeps a page whose text becomes empty.)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewlineRemovalModifier {
    #[serde(default = "two")]
    pub max_consecutive: usize,
}

fn two() -> usize {
    2
}

impl Step for NewlineRemovalModifier {
    fn name(&self) -> &'static str {
        "newline_removal_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let limit = self.max_consecutive;
        // Most pages have no run to shorten: leave them untouched without copying.
        let longest_run = doc.text.split(|c| c != '\n').map(str::len).max().unwrap_or(0);
        if longest_run <= limit {
            return Verdict::Keep;
        }
        let mut out = String::with_capacity(doc.text.len());
        let mut run = 0;
        for c in doc.text.chars() {
            if c == '\n' {
                run += 1;
                continue;
            }
            out.extend(std::iter::repeat_n('\n', if run > limit { limit } else { run }));
            run = 0;
            out.push(c);
        }
        out.extend(std::iter::repeat_n('\n', if run > limit { limit } else { run }));
        doc.text = out;
        Verdict::Keep
    }
}

/// `uppercase_ratio_line_modifier`: removes non-empty lines where more than `max_ratio` of the
/// characters are upper case (Python `isupper`, length in code points).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UppercaseRatioLineModifier {
    #[serde(default = "half")]
    pub max_ratio: f64,
}

fn half() -> f64 {
    0.5
}

/// Whether `count(pred) / len(line) <= max_ratio` (empty lines always pass).
fn ratio_at_most(line: &str, pred: fn(char) -> bool, max_ratio: f64) -> bool {
    let (mut matching, mut total) = (0usize, 0usize);
    for c in line.chars() {
        total += 1;
        matching += usize::from(pred(c));
    }
    total == 0 || matching as f64 / total as f64 <= max_ratio
}

impl Step for UppercaseRatioLineModifier {
    fn name(&self) -> &'static str {
        "uppercase_ratio_line_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        filter_lines(doc, true, |line| ratio_at_most(line, text::is_upper, self.max_ratio))
    }
}

/// `numeric_ratio_line_modifier`: removes non-empty lines where more than `max_ratio` of the characters are
/// digits (Python `isdigit`). DCLM uses 0.999999: all-digit lines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericRatioLineModifier {
    #[serde(default = "one")]
    pub max_ratio: f64,
}

fn one() -> f64 {
    1.0
}

impl Step for NumericRatioLineModifier {
    fn name(&self) -> &'static str {
        "numeric_ratio_line_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        filter_lines(doc, true, |line| ratio_at_most(line, text::is_digit, self.max_ratio))
    }
}

/// `counter_line_modifier`: removes social-media counter lines ("3 likes", "1.2K shares"), matched on the
/// lower-cased line.
#[derive(Debug, Clone)]
pub struct CounterLineModifier {
    pattern: Regex,
}

impl Default for CounterLineModifier {
    fn default() -> Self {
        let pattern = Regex::new(
            r"^\W*\d(?:,|\.|\d)*(?:K|k|M|m|B|b)?\s+(?:likes|shares|comments|retweets|reposts|quotes|bookmarks|upvotes|downvotes|downloads|views|followers)\W*$",
        )
        .expect("the counter pattern is valid");
        CounterLineModifier { pattern }
    }
}

impl Serialize for CounterLineModifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for CounterLineModifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NoParams {}
        NoParams::deserialize(d).map(|_| CounterLineModifier::default())
    }
}

impl Step for CounterLineModifier {
    fn name(&self) -> &'static str {
        "counter_line_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let pattern = &self.pattern;
        filter_lines(doc, true, |line| !pattern.is_match(&line.to_lowercase()))
    }
}

/// `line_length_modifier`: removes lines whose `str.split()` word count is outside
/// `[min_length, max_length]` — except empty lines, which stay. The text is not stripped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineLengthModifier {
    #[serde(default)]
    pub min_length: f64,
    #[serde(default = "infinity")]
    pub max_length: f64,
}

fn infinity() -> f64 {
    f64::INFINITY
}

impl Step for LineLengthModifier {
    fn name(&self) -> &'static str {
        "line_length_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        filter_lines(doc, false, |line| {
            let words = text::split(line).count() as f64;
            line.is_empty() || (self.min_length <= words && words <= self.max_length)
        })
    }
}

/// Where `substring_line_modifier` looks for its banned substrings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    #[default]
    Any,
    Prefix,
    Suffix,
}

/// One banned string or several.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Banlist {
    One(String),
    Many(Vec<String>),
}

/// The parameters of `substring_line_modifier`, as written in a recipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubstringLineParams {
    pub banlist: Banlist,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub location: Location,
    /// Only lines with at most this many `str.split()` words are touched.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Remove only the banned substring (and one adjacent whitespace character), not the whole line.
    #[serde(default)]
    pub remove_substring_only: bool,
}

/// `substring_line_modifier`: removes banned substrings (or whole lines containing them) from short lines.
///
/// DCLM quirk, reproduced: the banned strings are lower-cased and put into the regex **unescaped**, so the
/// `...` of "Read more..." matches any three characters. With `remove_substring_only`, a non-empty line
/// that is empty or whitespace afterwards is removed — including whitespace-only lines that contained no
/// banned string at all.
#[derive(Debug, Clone)]
pub struct SubstringLineModifier {
    params: SubstringLineParams,
    pattern: Regex,
}

impl SubstringLineModifier {
    pub fn new(params: SubstringLineParams) -> Result<Self, regex::Error> {
        let banned: Vec<String> = match &params.banlist {
            Banlist::One(one) => vec![one.clone()],
            Banlist::Many(many) => many.clone(),
        };
        let banned: Vec<String> =
            if params.case_sensitive { banned } else { banned.iter().map(|b| b.to_lowercase()).collect() };
        let alternation = format!("(?:{})", banned.join("|"));
        let source = match params.location {
            Location::Prefix => format!(r"^{alternation}\s?"),
            Location::Suffix => format!(r"\s?{alternation}$"),
            Location::Any => format!(r"\s?{alternation}"),
        };
        let pattern = RegexBuilder::new(&source).case_insensitive(!params.case_sensitive).build()?;
        Ok(SubstringLineModifier { params, pattern })
    }
}

impl Serialize for SubstringLineModifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SubstringLineModifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let params = SubstringLineParams::deserialize(d)?;
        SubstringLineModifier::new(params).map_err(serde::de::Error::custom)
    }
}

impl Step for SubstringLineModifier {
    fn name(&self) -> &'static str {
        "substring_line_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let mut kept: Vec<String> = Vec::new();
        for line in doc.text.split('\n') {
            let applies = self.params.max_length.is_none_or(|max| text::split(line).count() <= max);
            if applies {
                if self.params.remove_substring_only {
                    let modified = self.pattern.replace_all(line, "");
                    if !line.is_empty() && (modified.is_empty() || text::is_space_str(&modified)) {
                        continue;
                    }
                    kept.push(modified.into_owned());
                    continue;
                } else if self.pattern.is_match(line) {
                    continue;
                }
            }
            kept.push(line.to_string());
        }
        set_text(doc, text::strip(&kept.join("\n")).to_string())
    }
}

/// `punctuation_line_modifier` (C4's rule): keeps only lines that end in terminal punctuation
/// (`.`, `!`, `?`, `"` or `…`, then optional whitespace) and empty lines; with `remove_ellipses`, lines
/// ending in an ellipsis go too (as the C4 TFDS code does).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PunctuationLineModifier {
    #[serde(default)]
    pub remove_ellipses: bool,
}

impl Step for PunctuationLineModifier {
    fn name(&self) -> &'static str {
        "punctuation_line_modifier"
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let remove_ellipses = self.remove_ellipses;
        let kept: Vec<&str> = doc
            .text
            .split('\n')
            .filter(|line| {
                // Python's `\s*$` on the line: trailing whitespace is ignored.
                let trimmed = line.trim_end_matches(|c: char| text::is_space(c));
                let ends_in_punctuation = trimmed.ends_with(['.', '!', '?', '"', '\u{2026}']);
                let ellipsis = trimmed.ends_with("...") || trimmed.ends_with('\u{2026}');
                (ends_in_punctuation || line.is_empty()) && !(remove_ellipses && ellipsis)
            })
            .collect();
        // DCLM joins without stripping here.
        set_text(doc, kept.join("\n"))
    }
}

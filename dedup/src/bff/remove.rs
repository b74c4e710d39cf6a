//! The remove types, each split in two so that hashing can run in parallel while the Bloom filter is
//! checked and filled in document order:
//!
//! 1. [`hash_document`] (pure, any thread): a document's units and their n-gram keys, laid out as the
//!    remove type needs them;
//! 2. [`apply`] (in document order, one thread): checks the keys against the filter, inserts what DCLM
//!    inserts, and cuts the text (or annotates it), exactly as DCLM's `process_line*` functions do.
//!
//! Within a document every key is checked before any of that unit's keys is inserted, as in DCLM, so a
//! repeat inside one unit does not count; a repeat in a later paragraph of the same document does.

use serde_json::Value;
use sluice_core::Document;

use super::config::RemoveType;
use super::filter::BloomFilter;
use super::ngrams::{whole_text_key, NgramHasher, NgramKey};
use super::substring::{fuzzy_sandwich_intervals, invert_intervals, merge_intervals, merge_sorted_interval_pair};

/// What a document's decision depends on besides its keys.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub remove_type: RemoveType,
    pub min_ngram_size: usize,
    pub max_ngram_size: usize,
    pub threshold: f64,
    pub substr_seqlen: usize,
    pub annotate: bool,
    /// Check only, never insert.
    pub read_only: bool,
}

/// Units (paragraphs, or the whole text) and their keys, in order.
#[derive(Debug, Default)]
pub struct Units {
    keys: Vec<NgramKey>,
    /// Each unit's byte span and the end of its keys in `keys` (they start where the previous unit's end).
    units: Vec<(usize, usize, usize)>,
}

impl Units {
    /// The units of `text` cut at each `\n` (each unit after the first starts with its `\n`), or the whole
    /// text as one unit.
    fn of(text: &str, paragraphs: bool, rules: &Rules, hasher: &mut NgramHasher) -> Units {
        let mut units = Units::default();
        let mut push = |start: usize, end: usize, units: &mut Units| {
            hasher.unit_keys(&text[start..end], rules.min_ngram_size, rules.max_ngram_size, &mut units.keys);
            units.units.push((start, end, units.keys.len()));
        };
        let mut start = 0;
        if paragraphs {
            for (newline, _) in text.match_indices('\n') {
                push(start, newline, &mut units);
                start = newline;
            }
        }
        push(start, text.len(), &mut units);
        units
    }
}

/// `both`: n-grams over the whole text's tokens, in DCLM's buckets.
#[derive(Debug, Default)]
pub struct BothKeys {
    /// Where each paragraph starts, then the text's length (DCLM's `newlines`).
    cuts: Vec<usize>,
    /// N-grams whose last token starts inside the first paragraph.
    first: Vec<NgramKey>,
    /// Every other n-gram …
    overflow: Vec<NgramKey>,
    /// … and the byte offset of its last token.
    overflow_last: Vec<usize>,
    /// The one short n-gram of a text with fewer than `max` tokens (and at least `min`).
    short: Option<NgramKey>,
}

/// `substring`: every full window's key and each token's offset.
#[derive(Debug, Default)]
pub struct SubstringKeys {
    keys: Vec<NgramKey>,
    /// Each token's byte offset, then the text's length.
    offsets: Vec<usize>,
}

/// A document's keys, as its remove type needs them.
#[derive(Debug)]
pub enum Hashed {
    Units(Units),
    NaiveBoth { document: Units, paragraphs: Units },
    Both(BothKeys),
    Substring(SubstringKeys),
    Exact(NgramKey),
}

/// Step 1: the keys of `text` for `rules.remove_type`.
pub fn hash_document(text: &str, rules: &Rules, hasher: &mut NgramHasher) -> Hashed {
    match rules.remove_type {
        RemoveType::OldBoth | RemoveType::Paragraph => Hashed::Units(Units::of(text, true, rules, hasher)),
        RemoveType::Document => Hashed::Units(Units::of(text, false, rules, hasher)),
        RemoveType::NaiveBoth => Hashed::NaiveBoth {
            document: Units::of(text, false, rules, hasher),
            paragraphs: Units::of(text, true, rules, hasher),
        },
        RemoveType::Both => Hashed::Both(both_keys(text, rules, hasher)),
        RemoveType::Substring => {
            let count = hasher.hash_tokens_with_offsets(text);
            let max = rules.max_ngram_size;
            let keys = if count >= max { (0..=count - max).map(|i| hasher.key(i, max)).collect() } else { Vec::new() };
            let mut offsets = hasher.offsets().to_vec();
            offsets.push(text.len());
            Hashed::Substring(SubstringKeys { keys, offsets })
        }
        RemoveType::Exact => Hashed::Exact(whole_text_key(text)),
    }
}

/// DCLM's `process_line_both` token loop. It assigns an n-gram to paragraph `p` when its last token starts
/// before paragraph `p + 1`, else to the overflow bucket, and then advances `p` with
/// `while front < newlines[p] { p += 1 }` — a condition that never holds, since `newlines[0] = 0`. So `p`
/// stays 0: the first paragraph collects the n-grams that end in it, everything else overflows.
fn both_keys(text: &str, rules: &Rules, hasher: &mut NgramHasher) -> BothKeys {
    let mut keys = BothKeys { cuts: paragraph_cuts(text), ..Default::default() };
    let first_end = keys.cuts[1];
    let count = hasher.hash_tokens_with_offsets(text);
    let max = rules.max_ngram_size;
    if count >= max {
        let offsets = hasher.offsets();
        for start in 0..=count - max {
            let key = hasher.key(start, max);
            let last = offsets[start + max - 1];
            if last < first_end {
                keys.first.push(key);
            } else {
                keys.overflow.push(key);
                keys.overflow_last.push(last);
            }
        }
    } else if count >= rules.min_ngram_size {
        keys.short = Some(hasher.key(0, count));
    }
    keys
}

/// `[0, each '\n' offset…, len]`.
fn paragraph_cuts(text: &str) -> Vec<usize> {
    let mut cuts = vec![0];
    cuts.extend(text.match_indices('\n').map(|(i, _)| i));
    cuts.push(text.len());
    cuts
}

/// What one document contributed, for the stage's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub ngrams: u64,
    pub contained: u64,
    /// Units (paragraphs or texts) checked, and how many of them were cut.
    pub units: u64,
    pub units_removed: u64,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.ngrams += other.ngrams;
        self.contained += other.contained;
        self.units += other.units;
        self.units_removed += other.units_removed;
    }
}

/// A contained fraction, as DCLM computes it (`0/0` is NaN, which compares false with everything).
fn ratio(contained: usize, total: usize) -> f64 {
    contained as f64 / total as f64
}

fn spans_value(spans: &[(usize, usize)]) -> Value {
    Value::Array(spans.iter().map(|&(s, e)| Value::Array(vec![s.into(), e.into()])).collect())
}

/// `text` without the sorted, disjoint byte `spans`.
fn cut(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_end = 0;
    for &(start, end) in spans {
        out.push_str(&text[last_end..start]);
        last_end = end;
    }
    out.push_str(&text[last_end..]);
    out
}

fn annotate(doc: &mut Document, spans: Value, contained: usize) {
    doc.attributes.insert("bff_duplicate_spans".into(), spans);
    doc.attributes.insert("bff_contained_ngram_count".into(), contained.into());
}

/// DCLM's unit loop (`process_line` and `process_line_oldboth`): a unit whose contained fraction is
/// `> threshold` is marked; otherwise its keys are inserted. Returns the marked spans and the totals.
fn check_units(
    units: &Units,
    filter: &mut BloomFilter,
    rules: &Rules,
    tally: &mut Tally,
) -> (Vec<(usize, usize)>, usize, usize) {
    let mut spans = Vec::new();
    let (mut total, mut total_contained) = (0, 0);
    let mut keys_start = 0;
    for &(start, end, keys_end) in &units.units {
        let keys = &units.keys[keys_start..keys_end];
        keys_start = keys_end;
        let contained = filter.count_contained(keys, None);
        total += keys.len();
        total_contained += contained;
        if ratio(contained, keys.len()) > rules.threshold {
            spans.push((start, end));
        } else if !rules.read_only {
            filter.insert_many(keys);
        }
    }
    tally.ngrams += total as u64;
    tally.contained += total_contained as u64;
    tally.units += units.units.len() as u64;
    tally.units_removed += spans.len() as u64;
    (spans, total, total_contained)
}

/// Step 2: checks and inserts `hashed` (the keys of `doc.text`) and cuts or annotates `doc`.
pub fn apply(doc: &mut Document, hashed: &Hashed, filter: &mut BloomFilter, rules: &Rules) -> Tally {
    let mut tally = Tally::default();
    match (rules.remove_type, hashed) {
        (RemoveType::OldBoth, Hashed::Units(units)) => {
            let (spans, total, contained) = check_units(units, filter, rules, &mut tally);
            if rules.annotate {
                // DCLM's annotate mode also drops every field but id, source and text; sluice keeps them.
                annotate(doc, spans_value(&spans), contained);
            } else {
                doc.text =
                    if ratio(contained, total) > rules.threshold { String::new() } else { cut(&doc.text, &spans) };
                doc.attributes.insert("bff_contained_ngram_count_before_dedupe".into(), contained.into());
            }
        }
        (RemoveType::Paragraph | RemoveType::Document, Hashed::Units(units)) => {
            let (spans, _, contained) = check_units(units, filter, rules, &mut tally);
            finish_units(doc, &spans, contained, rules);
        }
        (RemoveType::NaiveBoth, Hashed::NaiveBoth { document, paragraphs }) => {
            let (spans, _, contained) = check_units(document, filter, rules, &mut tally);
            // DCLM keeps the document pass when it removed bytes (a removed empty text removes none).
            if !spans.is_empty() && !doc.text.is_empty() {
                finish_units(doc, &spans, contained, rules);
            } else {
                let (spans, _, contained) = check_units(paragraphs, filter, rules, &mut tally);
                finish_units(doc, &spans, contained, rules);
            }
        }
        (RemoveType::Both, Hashed::Both(keys)) => apply_both(doc, keys, filter, rules, &mut tally),
        (RemoveType::Substring, Hashed::Substring(keys)) => apply_substring(doc, keys, filter, rules, &mut tally),
        (RemoveType::Exact, Hashed::Exact(key)) => {
            tally.ngrams = 1;
            tally.units = 1;
            if filter.count_contained(std::slice::from_ref(key), None) == 1 {
                tally.contained = 1;
                tally.units_removed = 1;
                if rules.annotate {
                    doc.attributes.insert("bff_exact_duplicate".into(), Value::Bool(true));
                } else {
                    doc.text.clear();
                }
            } else if !rules.read_only {
                filter.insert_many(std::slice::from_ref(key));
            }
        }
        (remove_type, _) => unreachable!("keys hashed for another remove type than {remove_type:?}"),
    }
    tally
}

/// The output of `process_line` (`paragraph`, `document`, and each pass of `naive-both`).
fn finish_units(doc: &mut Document, spans: &[(usize, usize)], contained: usize, rules: &Rules) {
    if rules.annotate {
        annotate(doc, spans_value(spans), contained);
    } else if !spans.is_empty() {
        doc.text = cut(&doc.text, spans);
    }
}

/// DCLM's `process_line_both` after its token loop (see [`both_keys`]).
fn apply_both(doc: &mut Document, keys: &BothKeys, filter: &mut BloomFilter, rules: &Rules, tally: &mut Tally) {
    let first_contained = filter.count_contained(&keys.first, None);
    let overflow_contained = filter.count_contained(&keys.overflow, None);
    let short_contained = filter.count_contained(keys.short.as_slice(), None);
    let total = keys.first.len() + keys.overflow.len() + keys.short.is_some() as usize;
    let contained = first_contained + overflow_contained + short_contained;
    let paragraphs = keys.cuts.len() - 1;
    tally.ngrams += total as u64;
    tally.contained += contained as u64;
    tally.units += paragraphs as u64;
    if total == 0 {
        return; // DCLM returns the line untouched: no annotation, no trimming
    }
    if ratio(contained, total) >= rules.threshold {
        tally.units_removed += paragraphs as u64;
        if rules.annotate {
            annotate(doc, spans_value(&[(0, doc.text.len())]), contained);
        } else {
            doc.text.clear();
        }
        return;
    }
    let cuts = &keys.cuts;
    let mut spans = Vec::new();
    let mut output = String::with_capacity(doc.text.len());
    // DCLM walks the overflow n-grams alongside the paragraphs: one that ends before the current paragraph
    // survived and is inserted; one that reaches into a removed paragraph is dropped. Survivors form runs
    // between dropped ones: `run_start..next` is the run being collected.
    let (mut next, mut run_start) = (0, 0);
    for paragraph in 0..paragraphs {
        // Only the first paragraph has n-grams of its own (see `both_keys`).
        let (own, own_contained) = if paragraph == 0 { (keys.first.len(), first_contained) } else { (0, 0) };
        let remove = own != 0 && ratio(own_contained, own) >= rules.threshold;
        let (start, end) = (cuts[paragraph], cuts[paragraph + 1]);
        if remove {
            spans.push((start, end));
        } else {
            output.push_str(&doc.text[start..end]);
            if paragraph == 0 && !rules.read_only {
                filter.insert_many(&keys.first);
            }
        }
        while let Some(&last_token) = keys.overflow_last.get(next) {
            if last_token >= start {
                if !remove {
                    break;
                }
                if !rules.read_only {
                    filter.insert_many(&keys.overflow[run_start..next]);
                }
                run_start = next + 1;
            }
            next += 1;
        }
    }
    if !rules.read_only {
        // The rest of the overflow survived to the end.
        filter.insert_many(&keys.overflow[run_start..]);
        filter.insert_many(keys.short.as_slice());
    }
    tally.units_removed += spans.len() as u64;
    if rules.annotate {
        annotate(doc, spans_value(&spans), contained);
    } else {
        output.truncate(output.trim_end().len());
        doc.text = output;
    }
}

/// DCLM's `process_line_substring`.
fn apply_substring(
    doc: &mut Document,
    keys: &SubstringKeys,
    filter: &mut BloomFilter,
    rules: &Rules,
    tally: &mut Tally,
) {
    let max = rules.max_ngram_size;
    let tokens = keys.offsets.len() - 1;
    tally.ngrams += keys.keys.len() as u64;
    tally.units += 1;
    if keys.keys.is_empty() {
        return; // too short: DCLM returns the line untouched
    }
    // Runs of contained n-grams, as token intervals: n-gram i covers tokens [i, i + max).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut flags = Vec::with_capacity(keys.keys.len());
    let contained = filter.count_contained(&keys.keys, Some(&mut flags));
    for (i, _) in flags.iter().enumerate().filter(|(_, &hit)| hit) {
        match runs.last_mut() {
            Some(run) if run.1 == i => run.1 = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    tally.contained += contained as u64;
    let token_runs: Vec<(usize, usize)> = runs.iter().map(|&(s, e)| (s, e + max - 1)).collect();
    let merged = merge_intervals(&token_runs);
    let merged = if rules.threshold < 1.0 {
        let forward = fuzzy_sandwich_intervals(&merged, true, rules.threshold);
        let backward = fuzzy_sandwich_intervals(&merged, false, rules.threshold);
        // DCLM merges the backward list as it comes out (last interval first), not re-sorted.
        merge_sorted_interval_pair(&forward, &backward)
    } else {
        merged
    };
    let removed: Vec<(usize, usize)> = merged.into_iter().filter(|(s, e)| e - s >= rules.substr_seqlen).collect();
    let kept = invert_intervals(&removed, tokens);
    if !rules.read_only {
        // Only n-grams wholly inside kept token ranges are inserted.
        for &(s, e) in &kept {
            if e >= s + max {
                filter.insert_many(&keys.keys[s..=e - max]);
            }
        }
    }
    if !removed.is_empty() {
        tally.units_removed += 1;
    }
    let offsets = &keys.offsets;
    if rules.annotate {
        let spans: Vec<(usize, usize)> = removed.iter().map(|&(s, e)| (offsets[s], offsets[e])).collect();
        annotate(doc, spans_value(&spans), contained);
    } else {
        let mut output = String::with_capacity(doc.text.len());
        for &(s, e) in &kept {
            output.push_str(&doc.text[offsets[s]..offsets[e]]);
        }
        output.truncate(output.trim_end().len());
        doc.text = output;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` distinct tokens `<prefix>0 <prefix>1 …`.
    fn words(prefix: &str, n: usize) -> String {
        (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>().join(" ")
    }

    fn rules(remove_type: RemoveType, threshold: f64) -> Rules {
        Rules {
            remove_type,
            min_ngram_size: 3,
            max_ngram_size: 3,
            threshold,
            substr_seqlen: 6,
            annotate: false,
            read_only: false,
        }
    }

    /// Runs `texts` through one filter in order; returns the resulting documents and tallies.
    fn run_with(filter: &mut BloomFilter, rules: &Rules, texts: &[&str]) -> Vec<(Document, Tally)> {
        let mut hasher = NgramHasher::default();
        texts
            .iter()
            .map(|text| {
                let mut doc = Document::from_text(*text, None);
                let hashed = hash_document(text, rules, &mut hasher);
                let tally = apply(&mut doc, &hashed, filter, rules);
                (doc, tally)
            })
            .collect()
    }

    fn run(rules: &Rules, texts: &[&str]) -> Vec<String> {
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        run_with(&mut filter, rules, texts).into_iter().map(|(d, _)| d.text).collect()
    }

    #[test]
    fn old_both_removes_a_paragraph_only_above_the_threshold() {
        // Base: 7 tokens = 5 trigrams. Then 4 of 5 contained (0.8: not > 0.8) and 5 of 6 (0.83 > 0.8).
        let base = words("r", 7);
        let four_of_five = format!("{} x", words("r", 6)); // r0..r5 x: r0r1r2 … r3r4r5 contained, r4r5x not
        let five_of_six = format!("{} x", words("r", 7));
        let rules = rules(RemoveType::OldBoth, 0.8);
        let out = run(&rules, &[&base, &four_of_five, &base, &five_of_six]);
        assert_eq!(out[0], base);
        assert_eq!(out[1], four_of_five, "0.8 is not > 0.8");
        assert_eq!(out[2], "", "5/5 contained: the whole text goes");
        assert_eq!(out[3], "", "5/6 > 0.8");
    }

    #[test]
    fn old_both_sees_earlier_paragraphs_of_the_same_document_and_keeps_the_leading_newline() {
        let a = words("a", 5);
        let b = words("b", 5);
        let c = words("c", 5);
        let rules = rules(RemoveType::OldBoth, 0.8);
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        let results = run_with(&mut filter, &rules, &[&format!("{a}\n{b}\n{a}"), &format!("{a}\n{c}")]);
        // The repeat inside the first document goes with its leading newline.
        assert_eq!(results[0].0.text, format!("{a}\n{b}"));
        assert_eq!(results[0].0.attributes["bff_contained_ngram_count_before_dedupe"], 3);
        // A duplicate first paragraph goes; the next paragraph keeps its '\n'. 3 of 6 contained: doc stays.
        assert_eq!(results[1].0.text, format!("\n{c}"));
        assert_eq!(results[1].1, Tally { ngrams: 6, contained: 3, units: 2, units_removed: 1 });
    }

    #[test]
    fn old_both_drops_the_whole_text_on_pre_removal_totals_after_inserting_new_paragraphs() {
        let dup = words("d", 12); // 10 trigrams
        let new = words("n", 3); // 1 trigram
        let rules = rules(RemoveType::OldBoth, 0.8);
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        let results = run_with(&mut filter, &rules, &[&dup, &format!("{dup}\n{new}"), &new]);
        // 10 of 11 contained > 0.8: the whole text goes, but its new paragraph was inserted first …
        assert_eq!(results[1].0.text, "");
        assert_eq!(results[1].0.attributes["bff_contained_ngram_count_before_dedupe"], 10);
        // … so a later copy of it is a duplicate.
        assert_eq!(results[2].0.text, "");
    }

    #[test]
    fn units_below_min_have_no_ngrams_and_short_units_one() {
        let rules = Rules { min_ngram_size: 2, max_ngram_size: 4, ..rules(RemoveType::OldBoth, 0.5) };
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        let results = run_with(&mut filter, &rules, &["lonely", "lonely", "two words", "two words", "\n\n"]);
        assert_eq!(results[1].0.text, "lonely", "below min: never removed");
        assert_eq!(results[1].1.ngrams, 0);
        assert_eq!(results[3].0.text, "", "2 tokens ≥ min: one short n-gram, found again");
        // Empty units are 0/0: never removed.
        assert_eq!(results[4].0.text, "\n\n");
        assert_eq!(results[4].1, Tally { ngrams: 0, contained: 0, units: 3, units_removed: 0 });
    }

    #[test]
    fn paragraph_mode_never_drops_the_whole_text() {
        let dup = words("d", 12);
        let new = words("n", 3);
        let out = run(&rules(RemoveType::Paragraph, 0.8), &[&dup, &format!("{dup}\n{new}")]);
        assert_eq!(out[1], format!("\n{new}"));
        // No before_dedupe attribute outside old-both.
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        assert!(run_with(&mut filter, &rules(RemoveType::Paragraph, 0.8), &[&dup])[0].0.attributes.is_empty());
    }

    #[test]
    fn document_mode_counts_ngrams_across_newlines() {
        // 3 tokens split 2 + 1 over two lines: no paragraph has a trigram, the document has one.
        let out = run(&rules(RemoveType::Document, 0.8), &["p q\nr", "p q r"]);
        assert_eq!(out, ["p q\nr", ""]);
        let out = run(&rules(RemoveType::Paragraph, 0.8), &["p q\nr", "p q\nr"]);
        assert_eq!(out, ["p q\nr", "p q\nr"]);
    }

    #[test]
    fn both_mode_uses_at_least_the_threshold_and_inserts_nothing_from_a_removed_document() {
        let base = words("r", 7); // 5 trigrams
        let four_of_five = format!("{} x", words("r", 6));
        let rules = rules(RemoveType::Both, 0.8);
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        let results = run_with(&mut filter, &rules, &[&base, &format!("{four_of_five}\nfresh new tokens here")]);
        // 4 of 5 + 0 of 4 (overflow) = 4/9 < 0.8: the document stays; the first paragraph is 4/5 ≥ 0.8: cut.
        assert_eq!(results[1].0.text, "\nfresh new tokens here");
        // A removed first paragraph drops the n-grams that reach into it: "x fresh new" was not inserted.
        let again = run_with(&mut filter, &rules, &["x\nfresh new tokens here"]);
        assert_eq!(again[0].1.contained, 0);
        // Exactly 0.8 at document level removes (≥), and inserts nothing.
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        let results = run_with(&mut filter, &rules, &[&base, &four_of_five, &four_of_five]);
        assert_eq!(results[1].0.text, "");
        assert_eq!(results[2].0.text, "", "r4 r5 x was never inserted, so 4/5 again");
    }

    #[test]
    fn both_mode_trims_the_end_and_only_ever_cuts_the_first_paragraph() {
        let a = words("a", 5);
        let b = words("b", 5);
        let rules = rules(RemoveType::Both, 0.8);
        let out = run(&rules, &[&format!("{a}  \n"), &format!("{b}\n{a}\n{b} c")]);
        assert_eq!(out[0], a, "trailing whitespace trimmed");
        // The repeated `a` in paragraph 2 stays: DCLM's paragraph index never leaves paragraph 0.
        assert_eq!(out[1], format!("{b}\n{a}\n{b} c"));
        // Too short for any n-gram: returned untouched, trailing whitespace included.
        assert_eq!(run(&rules, &["a b  "]), ["a b  "]);
    }

    #[test]
    fn naive_both_finds_its_own_paragraphs_after_the_document_pass() {
        let a = words("a", 5);
        let b = words("b", 5);
        let out = run(&rules(RemoveType::NaiveBoth, 0.8), &[&format!("{a}\n{b}")]);
        assert_eq!(out, [""], "the document pass inserted every paragraph's n-grams");
    }

    #[test]
    fn substring_mode_cuts_runs_of_at_least_seqlen_tokens() {
        let base = words("s", 10);
        let rules = rules(RemoveType::Substring, 0.8);
        // 7 shared tokens (≥ 6) go; the leading whitespace before the first kept token goes too.
        let out = run(&rules, &[&base, &format!("  x y {} z", words("s", 7))]);
        assert_eq!(out[1], "x y z");
        // 5 shared tokens (< 6) stay.
        let out = run(&rules, &[&base, &format!("x y {} z  ", words("s", 5))]);
        assert_eq!(out[1], format!("x y {} z", words("s", 5)));
    }

    #[test]
    fn exact_mode_removes_repeated_texts_only() {
        let out = run(&rules(RemoveType::Exact, 0.8), &["same text", "same text", "same  text"]);
        assert_eq!(out, ["same text", "", "same  text"]);
    }

    #[test]
    fn read_only_checks_without_inserting() {
        let a = words("a", 5);
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        run_with(&mut filter, &rules(RemoveType::OldBoth, 0.8), &[&a]);
        let read_only = Rules { read_only: true, ..rules(RemoveType::OldBoth, 0.8) };
        let b = words("b", 5);
        let results = run_with(&mut filter, &read_only, &[&format!("{a}\n{b}"), &b]);
        assert_eq!(results[0].0.text, format!("\n{b}"));
        assert_eq!(results[1].0.text, b, "b was never inserted");
        assert_eq!(filter.bits_set(), {
            let mut fresh = BloomFilter::new(1 << 16, 7).unwrap();
            run_with(&mut fresh, &rules(RemoveType::OldBoth, 0.8), &[&a]);
            fresh.bits_set()
        });
    }

    #[test]
    fn annotate_keeps_the_text_and_marks_byte_spans() {
        let a = words("a", 5);
        let b = words("b", 5);
        let rules = Rules { annotate: true, ..rules(RemoveType::OldBoth, 0.8) };
        let mut filter = BloomFilter::new(1 << 16, 7).unwrap();
        let text = format!("{a}\n{b}\n{a}");
        let results = run_with(&mut filter, &rules, &[&text]);
        let doc = &results[0].0;
        assert_eq!(doc.text, text);
        let start = a.len() + 1 + b.len();
        assert_eq!(doc.attributes["bff_duplicate_spans"], serde_json::json!([[start, text.len()]]));
        assert_eq!(doc.attributes["bff_contained_ngram_count"], 3);
        assert!(!doc.attributes.contains_key("bff_contained_ngram_count_before_dedupe"));
    }
}

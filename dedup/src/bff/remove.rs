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
    /// Every other n-gram, with the byte offset of its last token.
    overflow: Vec<(NgramKey, usize)>,
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
                keys.overflow.push((key, last));
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
    filter: &BloomFilter,
    rules: &Rules,
    tally: &mut Tally,
) -> (Vec<(usize, usize)>, usize, usize) {
    let mut spans = Vec::new();
    let (mut total, mut total_contained) = (0, 0);
    let mut keys_start = 0;
    for &(start, end, keys_end) in &units.units {
        let keys = &units.keys[keys_start..keys_end];
        keys_start = keys_end;
        let contained = keys.iter().filter(|&&k| filter.contains(k)).count();
        total += keys.len();
        total_contained += contained;
        if ratio(contained, keys.len()) > rules.threshold {
            spans.push((start, end));
        } else if !rules.read_only {
            keys.iter().for_each(|&k| filter.insert(k));
        }
    }
    tally.ngrams += total as u64;
    tally.contained += total_contained as u64;
    tally.units += units.units.len() as u64;
    tally.units_removed += spans.len() as u64;
    (spans, total, total_contained)
}

/// Step 2: checks and inserts `hashed` (the keys of `doc.text`) and cuts or annotates `doc`.
pub fn apply(doc: &mut Document, hashed: &Hashed, filter: &BloomFilter, rules: &Rules) -> Tally {
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
            if filter.contains(*key) {
                tally.contained = 1;
                tally.units_removed = 1;
                if rules.annotate {
                    doc.attributes.insert("bff_exact_duplicate".into(), Value::Bool(true));
                } else {
                    doc.text.clear();
                }
            } else if !rules.read_only {
                filter.insert(*key);
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
fn apply_both(doc: &mut Document, keys: &BothKeys, filter: &BloomFilter, rules: &Rules, tally: &mut Tally) {
    let first_contained = keys.first.iter().filter(|&&k| filter.contains(k)).count();
    let overflow_contained = keys.overflow.iter().filter(|(k, _)| filter.contains(*k)).count();
    let short_contained = keys.short.is_some_and(|k| filter.contains(k)) as usize;
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
    // survived and is inserted; one that reaches into a removed paragraph is dropped.
    let mut next_overflow = 0;
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
                keys.first.iter().for_each(|&k| filter.insert(k));
            }
        }
        while let Some(&(key, last_token)) = keys.overflow.get(next_overflow) {
            if last_token < start {
                if !rules.read_only {
                    filter.insert(key);
                }
            } else if !remove {
                break;
            }
            next_overflow += 1;
        }
    }
    if !rules.read_only {
        keys.overflow[next_overflow..].iter().for_each(|&(k, _)| filter.insert(k));
        keys.short.iter().for_each(|&k| filter.insert(k));
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
fn apply_substring(doc: &mut Document, keys: &SubstringKeys, filter: &BloomFilter, rules: &Rules, tally: &mut Tally) {
    let max = rules.max_ngram_size;
    let tokens = keys.offsets.len() - 1;
    tally.ngrams += keys.keys.len() as u64;
    tally.units += 1;
    if keys.keys.is_empty() {
        return; // too short: DCLM returns the line untouched
    }
    // Runs of contained n-grams, as token intervals: n-gram i covers tokens [i, i + max).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut contained = 0;
    for (i, &key) in keys.keys.iter().enumerate() {
        if !filter.contains(key) {
            continue;
        }
        contained += 1;
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
                keys.keys[s..=e - max].iter().for_each(|&k| filter.insert(k));
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

//! llm-foundry v0.9.0's in-context-learning metrics (`llmfoundry/eval/metrics/nlp.py`), bit for bit.
//!
//! Each function reproduces one metric's per-example decision and the final `correct / total`, in the
//! precision llm-foundry computes it (float32 tensors on CPU):
//!
//! - `InContextLearningMultipleChoiceAccuracy` (multiple_choice and schema tasks): [`mean_neg_logprob_f32`],
//!   [`perplexity_f32`], [`select_min_perplexity`], [`select_choice`], [`multiple_choice_correct`];
//! - `InContextLearningLMAccuracy` (language_modeling tasks): [`lm_correct`], [`argmax_first`];
//! - `InContextLearningGenerationExactMatchAccuracy` (generation_task_with_answers): [`GenerationExactMatch`],
//!   [`normalize_answer`];
//! - `compute()` of all three: [`metric_value`].
//!
//! The metrics see logits and shifted labels; what they depend on is, per scored position, the float32
//! log-softmax value of the target token (multiple choice) or the greedy argmax (LM), and for generation the
//! decoded text. Turning logits into those inputs is the caller's job.
//!
//! # Python `re` vs the `regex` crate (generation stop sequences)
//!
//! llm-foundry cuts a generation at the first match of `"|".join(stop_sequences)` used **unescaped** as a
//! Python regular expression. [`GenerationExactMatch::new`] compiles the same joined text with
//! `regex::Regex`. Only the *start* of the leftmost match matters (the text before it is kept), and both
//! engines agree on it for ordinary patterns: literals, `.`, classes, alternation, repetition, `^`. Known
//! differences:
//! - Python-only syntax (`\Z`, look-around, back-references, octal escapes, a `{` that is not a
//!   repetition, `[` inside a class) does not compile here: `new` returns [`MetricError::StopPattern`]
//!   instead of guessing.
//! - Rust-only syntax (`\p{..}`, `[[:alpha:]]`, `&&`/`--`/`~~` in classes, `\z`, flags in mid-pattern)
//!   compiles here where Python would treat it literally or raise.
//! - `$` without `(?m)`: Python also matches just before a final `"\n"`, Rust only at the very end.
//! - `\w`, `\b`, `\s`, `\d`: Python's Unicode classes are `str.isalnum() or "_"`, `str.isspace()` and
//!   `str.isdecimal()`; Rust's are the UTS #18 ones (its `\w` also has combining marks, its `\s` lacks
//!   U+001C..U+001F).
//!
//! A differential run against Python 3.11 (20,000 random generations × 15 stop lists incl. `.`, `\d+`,
//! `(ab)*c`, `^Q`, `\w`, `\b`, `""`, with and without a cot delimiter) agreed everywhere except `$` before a
//! final newline and `\s` at U+001C..U+001F. DCLM's stop sequences (`"\n\n"`, `"Q:"`, `"Q: "`) and every
//! plain-text stop sequence hit none of these.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

/// What can go wrong building a metric.
#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    /// The joined stop sequences are not a pattern the `regex` crate accepts (see the module docs for how
    /// Python `re` syntax differs).
    #[error(
        "stop sequences {stop_sequences:?} joined with '|' ({pattern:?}) do not compile as a regex: {source}; \
         llm-foundry uses them unescaped as a Python `re` pattern, so a stop sequence with regex syntax must \
         also be valid for Rust's `regex` crate (escape it in the task config if it is meant literally)"
    )]
    StopPattern {
        stop_sequences: Vec<String>,
        pattern: String,
        #[source]
        source: regex::Error,
    },
}

// ---------------------------------------------------------------------------------------------------------
// Multiple choice / schema
// ---------------------------------------------------------------------------------------------------------

/// `F.cross_entropy(logits, targets)` (reduction `"mean"`) of one choice's continuation, from the float32
/// log-softmax values of its target tokens: the mean negative log-probability, in float32.
///
/// The sum is the one torch 2.3's CPU `nll_loss` forward does (`aten/src/ATen/native/LossNLL.cpp`,
/// `nll_loss_out_frame`): a float32 cascade of 8 partial sums where each 16-element block is folded one level
/// up, then the levels are added from the lowest up and the total divided by the count. Precision matters:
/// a plain left-to-right float32 sum gives a different last bit for 35 of the 104 golden choices (e.g.
/// `[-4.348697662353516, -4.01122522354126, -4.199167728424072]` → 4.186363697052002 by the cascade,
/// 4.186363220214844 summed in order). An empty continuation gives NaN, as torch does.
pub fn mean_neg_logprob_f32(target_logprobs: &[f32]) -> f32 {
    const LEVELS: usize = 8;
    let n = target_logprobs.len();
    // level_power = max(4, CeilLog2(n) / 8): 4 for any n below 2^32.
    let level_power = std::cmp::max(4, ceil_log2(n as u64) / LEVELS as u32);
    let level_mask: u64 = (1u64 << level_power) - 1;
    let mut partial = [0f32; LEVELS];
    for (b, &logprob) in target_logprobs.iter().enumerate() {
        partial[0] -= logprob;
        for j in 0..LEVELS - 1 {
            let mask = level_mask.checked_shl(j as u32 * level_power).unwrap_or(0);
            if (b as u64) & mask != 0 {
                break;
            }
            partial[j + 1] += partial[j];
            partial[j] = 0.0;
        }
    }
    let total = partial.iter().fold(0f32, |acc, &p| acc + p);
    total / n as f32
}

/// c10's `CeilLog2`: 1 for x <= 2, else the number of bits of x - 1.
fn ceil_log2(x: u64) -> u32 {
    if x <= 2 {
        1
    } else {
        64 - (x - 1).leading_zeros()
    }
}

/// `torch.exp(cross_entropy)` in float32: the perplexity llm-foundry compares between choices.
///
/// Computed as the correctly rounded float32 of `exp` (via f64). torch's CPU `exp` (MKL/SLEEF vector code) is
/// not always correctly rounded: one of the 104 golden choices differs by 1 ulp (mean 4.2267351150512695:
/// torch 68.49324798583984, correctly rounded 68.49324035644531). That can only change a selection when two
/// choices' perplexities land on the same float32 in one computation and not in the other.
pub fn perplexity_f32(mean_neg_logprob: f32) -> f32 {
    (mean_neg_logprob as f64).exp() as f32
}

/// Index of the choice llm-foundry picks: `subset.index(min(subset))` over the choices' perplexities.
///
/// Python's `min` keeps the first element and replaces it only by a strictly smaller one; `index` then finds
/// that first minimum. So ties (equal float32 perplexities, which happens for different means below ~1.0
/// where adjacent means map to the same `exp`) go to the lowest index, and a NaN is only ever selected when it
/// comes first. `None` for no choices.
pub fn select_min_perplexity(perplexities: &[f32]) -> Option<usize> {
    let first = perplexities.first()?;
    let mut best = 0;
    let mut best_value = *first;
    for (i, &value) in perplexities.iter().enumerate().skip(1) {
        if value < best_value {
            best = i;
            best_value = value;
        }
    }
    Some(best)
}

/// One choice's scores: what llm-foundry computes before comparing choices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChoiceScore {
    /// `F.cross_entropy` over the continuation ([`mean_neg_logprob_f32`]).
    pub mean_neg_logprob: f32,
    /// `torch.exp` of that ([`perplexity_f32`]).
    pub perplexity: f32,
}

/// Scores one choice from its target tokens' float32 log-softmax values.
pub fn score_choice(target_logprobs: &[f32]) -> ChoiceScore {
    let mean_neg_logprob = mean_neg_logprob_f32(target_logprobs);
    ChoiceScore { mean_neg_logprob, perplexity: perplexity_f32(mean_neg_logprob) }
}

/// The choice llm-foundry selects for one question (multiple_choice: the continuation varies; schema: the
/// context varies and the shared continuation is scored), given each choice's target log-probs. `None` for a
/// question without choices.
pub fn select_choice<C: AsRef<[f32]>>(choices: &[C]) -> Option<usize> {
    let perplexities: Vec<f32> = choices.iter().map(|c| score_choice(c.as_ref()).perplexity).collect();
    select_min_perplexity(&perplexities)
}

/// Whether the question counts as correct: the selected choice is `gold`.
pub fn multiple_choice_correct<C: AsRef<[f32]>>(choices: &[C], gold: usize) -> bool {
    select_choice(choices) == Some(gold)
}

// ---------------------------------------------------------------------------------------------------------
// Language modeling
// ---------------------------------------------------------------------------------------------------------

/// `InContextLearningLMAccuracy`: correct iff the greedy prediction equals the target at **every**
/// continuation position (`(pred == targ).all()`). An empty continuation is correct (torch's `all()` of
/// nothing); slices of different lengths are not (torch would fail to broadcast).
pub fn lm_correct(argmax_ids: &[u32], target_ids: &[u32]) -> bool {
    argmax_ids == target_ids
}

/// `logits.argmax(dim=-1)` of one row as torch does it on CPU: the first NaN if there is one, else the first
/// maximum. `None` for an empty row.
pub fn argmax_first(logits: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &value) in logits.iter().enumerate() {
        if value.is_nan() {
            return Some(i);
        }
        match best {
            Some((_, best_value)) if value <= best_value => {}
            _ => best = Some((i, value)),
        }
    }
    best.map(|(i, _)| i)
}

// ---------------------------------------------------------------------------------------------------------
// Generation exact match
// ---------------------------------------------------------------------------------------------------------

/// `InContextLearningGenerationExactMatchAccuracy` for one task: its stop sequences (compiled once),
/// `cot_delimiter` and `do_normalization`.
#[derive(Debug, Clone)]
pub struct GenerationExactMatch {
    stop: Option<Regex>,
    cot_delimiter: String,
    do_normalization: bool,
}

/// One generation's outcome, as llm-foundry's `metric_result_dict` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationScore {
    /// The answer after cutting, delimiter handling and normalisation (or `strip()` without normalisation).
    pub cleaned_output: String,
    /// The accepted answers, cleaned the same way; a set in llm-foundry (its order is meaningless), sorted here.
    pub cleaned_labels: BTreeSet<String>,
    /// `cleaned_output` starts with some cleaned label.
    pub correct: bool,
}

impl GenerationExactMatch {
    /// `stop_sequences` are the batch's `stopping_criteria` (none or empty: no cut); `cot_delimiter` empty
    /// means the whole (cut) generation is the answer; `do_normalization` is the task's flag (llm-foundry's
    /// default is `true`).
    pub fn new<S: AsRef<str>>(
        stop_sequences: &[S],
        cot_delimiter: &str,
        do_normalization: bool,
    ) -> Result<Self, MetricError> {
        let stop = if stop_sequences.is_empty() {
            None
        } else {
            let pattern = stop_sequences.iter().map(AsRef::as_ref).collect::<Vec<&str>>().join("|");
            match Regex::new(&pattern) {
                Ok(re) => Some(re),
                Err(source) => {
                    return Err(MetricError::StopPattern {
                        stop_sequences: stop_sequences.iter().map(|s| s.as_ref().to_owned()).collect(),
                        pattern,
                        source,
                    })
                }
            }
        };
        Ok(Self { stop, cot_delimiter: cot_delimiter.to_owned(), do_normalization })
    }

    /// The raw answer inside a generation, before normalisation:
    /// `re.split(stop, text)[0]`, then `.split(cot_delimiter)[-1]` when the delimiter is non-empty.
    ///
    /// `str.split` finds delimiters left to right without overlap, and so does Rust's `str::split`; taking
    /// the text after the last *rightmost* occurrence (`rsplit`) would differ for self-overlapping delimiters.
    pub fn extract_answer<'t>(&self, generated: &'t str) -> &'t str {
        let mut answer = generated;
        if let Some(stop) = &self.stop {
            if let Some(m) = stop.find(answer) {
                answer = &answer[..m.start()];
            }
        }
        if !self.cot_delimiter.is_empty() {
            answer = answer.split(self.cot_delimiter.as_str()).last().unwrap_or(answer);
        }
        answer
    }

    /// Scores one generation against its accepted answers (`answer` ∪ `aliases`).
    pub fn score<L: AsRef<str>>(&self, generated: &str, labels: &[L]) -> GenerationScore {
        let answer = self.extract_answer(generated);
        let clean = |text: &str| {
            if self.do_normalization {
                normalize_answer(text)
            } else {
                // llm-foundry still strips surrounding whitespace without normalisation.
                py_strip(text).to_owned()
            }
        };
        let cleaned_output = clean(answer);
        let cleaned_labels: BTreeSet<String> = labels.iter().map(|l| clean(l.as_ref())).collect();
        let correct = cleaned_labels.iter().any(|label| cleaned_output.starts_with(label.as_str()));
        GenerationScore { cleaned_output, cleaned_labels, correct }
    }
}

/// llm-foundry's `normalize_answer` (from the TriviaQA evaluation script), step by step:
/// `_` → space; `str.lower()`; every character of Python's `string.punctuation`
/// (`` !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ ``) and ‘ ’ ´ → space; `re.sub(r'\b(a|an|the)\b', ' ', ·)`;
/// `' '.join(·.split())`; `strip()`.
///
/// Python semantics kept: `lower()` is the full Unicode lowercase mapping with the final-sigma rule (as Rust's
/// `to_lowercase`); `\b` is a boundary between `str.isalnum() or "_"` characters (Unicode letters and numbers)
/// and the rest, so an article is a whole run of such characters; `split()` splits on `str.isspace()`, which
/// is Rust's `char::is_whitespace` plus U+001C..U+001F. Only Unicode-version differences remain (Python 3.11
/// uses Unicode 14 tables).
pub fn normalize_answer(answer: &str) -> String {
    let lowered = answer.replace('_', " ").to_lowercase();
    let depunctuated: String = lowered.chars().map(|c| if is_excluded_punctuation(c) { ' ' } else { c }).collect();
    let without_articles = remove_articles(&depunctuated);
    without_articles.split(is_py_whitespace).filter(|word| !word.is_empty()).collect::<Vec<&str>>().join(" ")
}

/// `string.punctuation` plus ‘ ’ ´ (` is already in `string.punctuation`).
fn is_excluded_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || matches!(c, '\u{2018}' | '\u{2019}' | '\u{00B4}')
}

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII information separators U+001C..U+001F.
fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// Python's `str.strip()` with no argument.
fn py_strip(text: &str) -> &str {
    text.trim_matches(is_py_whitespace)
}

/// `re.sub(r'\b(a|an|the)\b', ' ', text)`: both `\b`s force the match to be a whole maximal run of word
/// characters, so replacing runs that equal an article is the same substitution.
fn remove_articles(text: &str) -> String {
    let runs = py_word_runs();
    let mut out = String::with_capacity(text.len());
    let mut copied_to = 0;
    for run in runs.find_iter(text) {
        if matches!(run.as_str(), "a" | "an" | "the") {
            out.push_str(&text[copied_to..run.start()]);
            out.push(' ');
            copied_to = run.end();
        }
    }
    out.push_str(&text[copied_to..]);
    out
}

/// Maximal runs of Python `re` word characters (`str.isalnum()` = Unicode categories L* and N*, or `_`).
fn py_word_runs() -> &'static Regex {
    static RUNS: OnceLock<Regex> = OnceLock::new();
    // A constant pattern: it compiles or every test fails, independent of input.
    RUNS.get_or_init(|| Regex::new(r"[\p{L}\p{N}_]+").expect("constant word-run pattern compiles"))
}

// ---------------------------------------------------------------------------------------------------------
// compute()
// ---------------------------------------------------------------------------------------------------------

/// The metric's `compute()`: `correct / total` of two float32 counters, as the Python float that
/// `.item()` returns (e.g. 6/10 → 0.6000000238418579). 0/0 is NaN, as in torch.
///
/// The counters are incremented by `+= 1.0` in float32, which stops growing at 2^24; that is reproduced.
pub fn metric_value(correct: u64, total: u64) -> f64 {
    (f32_counter(correct) / f32_counter(total)) as f64
}

/// A float32 counter after `n` increments of 1.0.
fn f32_counter(n: u64) -> f32 {
    const SATURATION: u64 = 1 << 24;
    if n <= SATURATION {
        n as f32
    } else {
        SATURATION as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_sums_like_torch_not_left_to_right() {
        // Golden values as Python prints float32s (f64 repr), hence the casts.
        let logprobs = [-4.348697662353516_f64, -4.01122522354126, -4.199167728424072].map(|x| x as f32);
        assert_eq!(mean_neg_logprob_f32(&logprobs), 4.186363697052002_f64 as f32);
        let naive = logprobs.iter().fold(0f32, |acc, &x| acc - x) / 3.0;
        assert_eq!(naive, 4.186363220214844_f64 as f32);
    }

    #[test]
    fn cross_entropy_of_nothing_is_nan() {
        assert!(mean_neg_logprob_f32(&[]).is_nan());
        assert!(select_choice(&[Vec::<f32>::new()]).is_some());
    }

    #[test]
    fn cascade_folds_blocks_of_sixteen() {
        // 40 values: element 0 goes to the top level, 1..=16 and 17..=32 fold into level 1, 33..39 stay.
        let values: Vec<f32> = (0..40).map(|i| -(1.0 + i as f32 * 0.1)).collect();
        let mut level0 = 0f32;
        let mut level1 = 0f32;
        for (b, &x) in values.iter().enumerate().skip(1) {
            level0 -= x;
            if b % 16 == 0 {
                level1 += level0;
                level0 = 0.0;
            }
        }
        let expected = ((0f32 + level0) + level1) + -values[0];
        assert_eq!(mean_neg_logprob_f32(&values), expected / 40.0);
    }

    #[test]
    fn ties_go_to_the_lowest_index() {
        assert_eq!(select_min_perplexity(&[2.0, 1.0, 1.0]), Some(1));
        assert_eq!(select_min_perplexity(&[1.0, 1.0]), Some(0));
        assert_eq!(select_min_perplexity(&[]), None);
        let same = [-1.5_f32, -2.5];
        assert_eq!(select_choice(&[same, same]), Some(0));
    }

    #[test]
    fn perplexity_ties_hide_smaller_means() {
        // Means of 2e-8 and 1e-8 both give perplexity 1.0f32: llm-foundry keeps the first choice even though
        // the second has the smaller mean negative log-prob.
        let choices = [vec![-2e-8_f32], vec![-1e-8_f32]];
        assert_eq!(perplexity_f32(2e-8), 1.0);
        assert_eq!(perplexity_f32(1e-8), 1.0);
        assert_eq!(select_choice(&choices), Some(0));
        assert!(multiple_choice_correct(&choices, 0));
    }

    #[test]
    fn nan_perplexity_is_selected_only_first() {
        assert_eq!(select_min_perplexity(&[f32::NAN, 1.0]), Some(0));
        assert_eq!(select_min_perplexity(&[2.0, f32::NAN, 1.0]), Some(2));
        // Overflowing perplexities are all +inf and tie.
        assert_eq!(select_choice(&[vec![-100.0_f32], vec![-120.0]]), Some(0));
    }

    #[test]
    fn lm_accuracy_needs_every_position() {
        assert!(lm_correct(&[1, 2, 3], &[1, 2, 3]));
        assert!(!lm_correct(&[1, 2, 4], &[1, 2, 3]));
        assert!(lm_correct(&[], &[]));
        assert!(!lm_correct(&[1], &[1, 2]));
    }

    #[test]
    fn argmax_like_torch() {
        assert_eq!(argmax_first(&[0.0, 3.0, 3.0, 1.0]), Some(1));
        assert_eq!(argmax_first(&[0.0, f32::NAN, 5.0, f32::NAN]), Some(1));
        assert_eq!(argmax_first(&[f32::NEG_INFINITY]), Some(0));
        assert_eq!(argmax_first(&[]), None);
    }

    #[test]
    fn normalisation_matches_python() {
        assert_eq!(normalize_answer("The Cold blooded (horse), of course"), "cold blooded horse of course");
        assert_eq!(normalize_answer("Eduard_III"), "eduard iii");
        assert_eq!(normalize_answer("a Ambrosiani"), "ambrosiani");
        assert_eq!(normalize_answer("Hansen's disease"), "hansen s disease");
        assert_eq!(normalize_answer("‘quoted’ ´x´ `y`"), "quoted x y");
        assert_eq!(normalize_answer("theater an answer, the end"), "theater answer end");
        assert_eq!(normalize_answer("ΟΔΟΣ"), "οδος");
        assert_eq!(normalize_answer("x\u{1F}y\u{A0}z"), "x y z");
        assert_eq!(normalize_answer("   "), "");
        assert_eq!(normalize_answer(""), "");
        // Articles glued to non-word characters still count; inside words they do not.
        assert_eq!(normalize_answer("the€a"), "€");
        assert_eq!(normalize_answer("théa"), "théa");
        // A combining mark is not a Python word character: in decomposed "thé a" the "the" is an article.
        assert_eq!(normalize_answer("the\u{301} a"), "\u{301}");
    }

    #[test]
    fn empty_generation_is_wrong_unless_a_label_cleans_to_empty() {
        let metric = GenerationExactMatch::new::<&str>(&[], "", true).unwrap();
        let score = metric.score("", &["Hansen's disease"]);
        assert_eq!(score.cleaned_output, "");
        assert!(!score.correct);
        // A label that normalises to "" is a prefix of everything.
        assert!(metric.score("", &["The"]).correct);
    }

    #[test]
    fn gsm8k_style_cut_then_last_delimiter() {
        let metric = GenerationExactMatch::new(&["\n\n", "Q:", "Q: "], " #### ", true).unwrap();
        assert_eq!(metric.extract_answer("Some reasoning #### 3\n\nQ: next question #### 999"), "3");
        assert_eq!(metric.extract_answer("Q: 20 #### 20"), "");
        assert_eq!(metric.extract_answer("Reasoning #### 12 #### 64."), "64.");
        let score = metric.score("Some reasoning #### 700000", &["70000"]);
        assert!(score.correct, "prefix match counts");
        assert!(!metric.score("No delimiter here, just 260", &["260"]).correct);
    }

    #[test]
    fn delimiter_split_is_left_to_right() {
        let metric = GenerationExactMatch::new::<&str>(&[], "aa", false).unwrap();
        // Python: "xaaay".split("aa") == ["x", "ay"].
        assert_eq!(metric.extract_answer("xaaay"), "ay");
    }

    #[test]
    fn stop_sequences_are_unescaped_regexes() {
        // "." is "any character": the cut happens at the very start (Python: re.split('.', s)[0] == '').
        let dot = GenerationExactMatch::new(&["."], "", true).unwrap();
        assert_eq!(dot.extract_answer("42. Next"), "");
        // "a+b" matches "aab", not the text "a+b".
        let plus = GenerationExactMatch::new(&["a+b"], "", true).unwrap();
        assert_eq!(plus.extract_answer("x a+b caab"), "x a+b c");
        // An escaped special character is literal in both engines.
        let escaped = GenerationExactMatch::new(&[r"\$", "\n"], "", true).unwrap();
        assert_eq!(escaped.extract_answer("12 $ 13"), "12 ");
        // An empty stop sequence matches at 0 (Python 3.7+ splits on empty matches too).
        let empty = GenerationExactMatch::new(&["", "Q:"], "", true).unwrap();
        assert_eq!(empty.extract_answer("anything"), "");
        // Patterns Python also rejects are errors, not silent literals.
        for bad in ["?", "(", "[", "*x"] {
            let err = GenerationExactMatch::new(&["\n\n", bad], "", true).unwrap_err();
            assert!(err.to_string().contains("do not compile as a regex"), "{err}");
        }
    }

    #[test]
    fn without_normalisation_only_whitespace_is_stripped() {
        let metric = GenerationExactMatch::new::<&str>(&[], "", false).unwrap();
        let score = metric.score("  The Answer!\u{1C}", &[" The Answer "]);
        assert_eq!(score.cleaned_output, "The Answer!");
        assert!(score.correct);
        assert!(!metric.score("the answer", &["The Answer"]).correct);
    }

    #[test]
    fn metric_value_is_a_float32_ratio() {
        assert_eq!(metric_value(6, 10), 0.6000000238418579);
        assert_eq!(metric_value(3, 8), 0.375);
        assert!(metric_value(0, 0).is_nan());
        assert_eq!(metric_value((1 << 24) + 5, (1 << 24) + 5), 1.0);
    }
}

//! Prompts exactly as llm-foundry v0.9.0 builds them for DCLM (the rules are numbered in
//! `shared/golden/eval/README.md`): few-shot rows drawn by a replay of Python's `random` and `set`
//! ([`crate::fewshot`]), the few-shot block, the test item with its trailing whitespace stripped and a space
//! moved onto the continuation, piecewise tokenization (preamble, test context and continuation are encoded
//! separately, so BPE never merges across the seams), and truncation from the left.
//!
//! An [`Example`] serialises with the golden files' field names, which is what `sluice eval prompts --json`
//! prints and what the parity tests compare.

use serde::Serialize;
use tokenizers::Tokenizer;

use crate::data::{py_rstrip, Dataset, Row};
use crate::error::EvalError;
use crate::fewshot::fewshot_indices;
use crate::pyrandom::PyRandom;
use crate::task::{TaskConfig, TaskType};

/// llm-foundry adds this many tokens to a chain-of-thought task's longest answer (`_MAX_ANSWER_BUFFER_LENGTH`).
const COT_ANSWER_BUFFER: usize = 10;

/// The tokenizer as DCLM's evaluation configures it: no special tokens added, and whether a continuation
/// needs a space in front (llm-foundry's `prefix_space`: true for byte-level BPE such as GPT-NeoX's).
pub struct PromptTokenizer {
    tokenizer: Tokenizer,
    prefix_space: bool,
}

impl PromptTokenizer {
    /// From the bytes of a HF `tokenizer.json` (its own truncation and padding settings are switched off).
    pub fn from_bytes(bytes: &[u8]) -> Result<PromptTokenizer, EvalError> {
        let mut tokenizer = Tokenizer::from_bytes(bytes).map_err(|e| EvalError::Tokenizer(e.to_string()))?;
        tokenizer.with_truncation(None).map_err(|e| EvalError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        let mut this = PromptTokenizer { tokenizer, prefix_space: false };
        // A tokenizer whose " a" is one token that decodes with its space keeps spaces inside tokens, so a
        // continuation must carry its leading space to be tokenized as in running text.
        let probe = this.encode(" a")?;
        this.prefix_space = probe.len() == 1
            && this.tokenizer.decode(&probe, false).map_err(|e| EvalError::Tokenizer(e.to_string()))? == " a";
        Ok(this)
    }

    /// The ids of `text` with no special tokens (the tokenizer's normaliser, NFC for GPT-NeoX, applies).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, EvalError> {
        let encoding = self.tokenizer.encode(text, false).map_err(|e| EvalError::Tokenizer(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Text of generated ids as llm-foundry scores it: special tokens skipped, and transformers'
    /// `clean_up_tokenization_spaces` (`" ."` → `"."`, `" n't"` → `"n't"`, …).
    pub fn decode_generation(&self, ids: &[u32]) -> Result<String, EvalError> {
        let text = self.tokenizer.decode(ids, true).map_err(|e| EvalError::Tokenizer(e.to_string()))?;
        Ok(clean_up_tokenization(&text))
    }

    /// The id of a token of the vocabulary (added tokens included), e.g. `<|endoftext|>`.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    pub fn prefix_space(&self) -> bool {
        self.prefix_space
    }

    /// `continuation` as llm-foundry tokenizes it: with a leading space when the tokenizer needs one.
    fn continuation_text(&self, continuation: &str) -> String {
        if self.prefix_space && !continuation.starts_with(' ') {
            format!(" {continuation}")
        } else {
            continuation.to_string()
        }
    }
}

/// transformers' `PreTrainedTokenizerBase.clean_up_tokenization`.
pub fn clean_up_tokenization(text: &str) -> String {
    [
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ]
    .iter()
    .fold(text.to_string(), |text, (from, to)| text.replace(from, to))
}

/// One evaluator's examples: a task at one few-shot count on one dataset (a category's rows, or all).
pub struct Evaluator<'a> {
    tokenizer: &'a PromptTokenizer,
    task: &'a TaskConfig,
    dataset: &'a Dataset,
    num_fewshot: usize,
    max_seq_len: usize,
    /// Few-shot rows of every example, drawn in file order from one `Random(seed)`.
    fewshot: Vec<Vec<usize>>,
    /// Generation tasks: the dataset's longest answer in tokens (+ the CoT buffer).
    max_new_tokens: Option<usize>,
    /// Whether the dataset has chain-of-thought answers (llm-foundry: the column exists in the file).
    has_cot: bool,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        tokenizer: &'a PromptTokenizer,
        task: &'a TaskConfig,
        dataset: &'a Dataset,
        num_fewshot: usize,
        max_seq_len: usize,
    ) -> Result<Evaluator<'a>, EvalError> {
        let n = dataset.rows.len();
        let mut rng = PyRandom::new(task.fewshot_random_seed);
        // Every row's draw depends on all earlier draws, so the whole file is replayed even to show one row.
        let fewshot = (0..n).map(|own| fewshot_indices(&mut rng, n, num_fewshot, own)).collect();
        let has_cot = dataset.rows.iter().any(|row| matches!(row, Row::Generation { chain_of_thought: Some(_), .. }));
        let mut evaluator =
            Evaluator { tokenizer, task, dataset, num_fewshot, max_seq_len, fewshot, max_new_tokens: None, has_cot };
        if task.icl_task_type == TaskType::GenerationTaskWithAnswers {
            evaluator.max_new_tokens = Some(evaluator.longest_answer()?);
        }
        Ok(evaluator)
    }

    pub fn len(&self) -> usize {
        self.dataset.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dataset.rows.is_empty()
    }

    /// llm-foundry's evaluator label: `<task>/<k>-shot[/<category>]`.
    pub fn label(&self) -> String {
        match &self.dataset.category {
            Some(category) => format!("{}/{}-shot/{category}", self.task.label, self.num_fewshot),
            None => format!("{}/{}-shot", self.task.label, self.num_fewshot),
        }
    }

    /// The text a generation is expected to produce for `answer`: `chain_of_thought + cot_delimiter +
    /// answer` when the file has chain-of-thought (a row without one reads as Python's `None`), else `answer`.
    fn generation_target(&self, chain_of_thought: &Option<String>, answer: &str) -> String {
        if self.has_cot {
            let cot = chain_of_thought.as_deref().unwrap_or("None");
            format!("{cot}{}{answer}", self.task.cot_delimiter)
        } else {
            answer.to_string()
        }
    }

    /// `get_max_answer_length`: the longest tokenized target over every row and every accepted answer.
    fn longest_answer(&self) -> Result<usize, EvalError> {
        let mut longest = 0;
        for row in &self.dataset.rows {
            // llm-foundry: `[answer] + list(aliases)`, the stripped answer and the accepted set.
            if let Row::Generation { answer, labels, chain_of_thought, .. } = row {
                for accepted in std::iter::once(answer).chain(labels) {
                    let target = self.generation_target(chain_of_thought, accepted);
                    longest = longest.max(self.tokenizer.encode(&target)?.len());
                }
            }
        }
        let buffer = if self.task.cot_delimiter.is_empty() { 0 } else { COT_ANSWER_BUFFER };
        Ok(longest + buffer)
    }

    /// The context part of a row as it appears in a few-shot example or test item.
    fn row_context(row: &Row) -> &str {
        match row {
            Row::MultipleChoice { query, .. } => query,
            Row::Schema { context_options, gold, .. } => &context_options[*gold],
            Row::LanguageModeling { context, .. } | Row::Generation { context, .. } => context,
        }
    }

    /// The answer of a row in a few-shot example (no space added).
    fn row_answer(&self, row: &Row) -> String {
        match row {
            Row::MultipleChoice { choices, gold, .. } => choices[*gold].clone(),
            Row::Schema { continuation, .. } | Row::LanguageModeling { continuation, .. } => continuation.clone(),
            Row::Generation { answer, chain_of_thought, .. } => self.generation_target(chain_of_thought, answer),
        }
    }

    /// `prompt_string` and the few-shot examples, delimited.
    fn preamble(&self, shots: &[usize]) -> String {
        let task = self.task;
        let mut text = task.prompt_string.clone();
        for (position, &shot) in shots.iter().enumerate() {
            let row = &self.dataset.rows[shot];
            if position > 0 {
                text.push_str(&task.example_delimiter);
            }
            text.push_str(&task.question_prelimiter);
            text.push_str(Self::row_context(row));
            text.push_str(&task.continuation_delimiter);
            text.push_str(&self.row_answer(row));
        }
        text
    }

    /// The test item's context: delimited from a non-empty preamble, trailing whitespace stripped.
    fn query_text(&self, preamble: &str, context: &str) -> String {
        let task = self.task;
        let delimiter = if preamble.is_empty() { "" } else { task.example_delimiter.as_str() };
        let text = format!("{delimiter}{}{context}{}", task.question_prelimiter, task.continuation_delimiter);
        py_rstrip(&text).to_string()
    }

    /// Example `index` of this evaluator, tokenized and truncated as the model sees it.
    pub fn example(&self, index: usize) -> Result<Example, EvalError> {
        let row = self.dataset.rows.get(index).ok_or_else(|| self.error(index, "no such example".into()))?;
        let shots = &self.fewshot[index];
        let preamble = self.preamble(shots);
        let body = match row {
            Row::Schema { context_options, continuation, gold } => {
                self.schema(index, preamble, context_options, continuation, *gold)?
            }
            _ => self.sequential(index, row, preamble)?,
        };
        Ok(Example {
            task: self.task.label.clone(),
            num_fewshot: self.num_fewshot,
            category: self.dataset.category.clone(),
            index,
            icl_task_type: self.task.icl_task_type,
            fewshot_indices: shots.clone(),
            body,
        })
    }

    /// Multiple choice, language modelling and generation: preamble + test context, then continuations.
    fn sequential(&self, index: usize, row: &Row, preamble: String) -> Result<Body, EvalError> {
        let query_text = self.query_text(&preamble, Self::row_context(row));
        let preamble_ids = self.tokenizer.encode(&preamble)?;
        let n_preamble_tokens = preamble_ids.len();
        let mut context_ids = preamble_ids;
        context_ids.extend(self.tokenizer.encode(&query_text)?);
        let prompt = Prompt { prompt_text: format!("{preamble}{query_text}"), query_text, n_preamble_tokens };
        Ok(match row {
            Row::MultipleChoice { choices, gold, .. } => {
                let continuation_texts: Vec<String> =
                    choices.iter().map(|c| self.tokenizer.continuation_text(c)).collect();
                let continuation_ids =
                    continuation_texts.iter().map(|c| self.tokenizer.encode(c)).collect::<Result<Vec<_>, _>>()?;
                let (trim_left, continuation_start) = continuation_ids
                    .iter()
                    .map(|c| self.fit(index, context_ids.len(), c.len()))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .unzip();
                Body::MultipleChoice(MultipleChoice {
                    prompt,
                    context_ids,
                    choices: choices.clone(),
                    continuation_texts,
                    continuation_ids,
                    gold: *gold,
                    trim_left,
                    continuation_start,
                })
            }
            Row::LanguageModeling { continuation, .. } => {
                let continuation_text = self.tokenizer.continuation_text(continuation);
                let continuation_ids = self.tokenizer.encode(&continuation_text)?;
                let (trim_left, continuation_start) = self.fit(index, context_ids.len(), continuation_ids.len())?;
                Body::LanguageModeling(LanguageModeling {
                    prompt,
                    context_ids,
                    continuation_text,
                    continuation_ids,
                    trim_left,
                    continuation_start,
                })
            }
            Row::Generation { answer, labels, .. } => self.generation(prompt, context_ids, answer, labels),
            Row::Schema { .. } => return Err(self.error(index, "a schema row in a sequential task".into())),
        })
    }

    fn generation(&self, prompt: Prompt, context_ids: Vec<u32>, answer: &str, labels: &[String]) -> Body {
        let max_new_tokens = self.max_new_tokens.unwrap_or(0);
        let padded_length = self.max_seq_len.saturating_sub(max_new_tokens);
        let trim_left = context_ids.len().saturating_sub(padded_length);
        let left_pad = padded_length - (context_ids.len() - trim_left);
        Body::Generation(Generation {
            prompt,
            context_ids,
            trim_left,
            left_pad,
            padded_length,
            answer: answer.to_string(),
            labels: labels.to_vec(),
            stop_sequences: self.task.early_stopping_criteria.clone(),
            cot_delimiter: self.task.cot_delimiter.clone(),
            do_normalization: self.task.do_normalization,
            max_new_tokens,
        })
    }

    /// Winograd-style: the options are the contexts, the continuation is shared.
    fn schema(
        &self,
        index: usize,
        preamble: String,
        options: &[String],
        continuation: &str,
        gold: usize,
    ) -> Result<Body, EvalError> {
        let task = self.task;
        let option_texts: Vec<String> = options
            .iter()
            .map(|option| {
                if preamble.is_empty() {
                    format!("{}{option}", task.question_prelimiter)
                } else {
                    // llm-foundry puts the prelimiter before the delimiter here (DCLM's schema tasks are 0-shot).
                    let delimiter = py_rstrip(&task.continuation_delimiter);
                    format!("{}{}{option}{delimiter}", task.question_prelimiter, task.example_delimiter)
                }
            })
            .collect();
        let preamble_ids = self.tokenizer.encode(&preamble)?;
        let option_ids = option_texts.iter().map(|o| self.tokenizer.encode(o)).collect::<Result<Vec<_>, _>>()?;
        let continuation_text = self.tokenizer.continuation_text(continuation);
        let continuation_ids = self.tokenizer.encode(&continuation_text)?;
        let (trim_left, continuation_start) = option_ids
            .iter()
            .map(|o| self.fit(index, preamble_ids.len() + o.len(), continuation_ids.len()))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        Ok(Body::Schema(Schema {
            preamble_text: preamble,
            preamble_ids,
            option_texts,
            option_ids,
            continuation_text,
            continuation_ids,
            gold,
            trim_left,
            continuation_start,
        }))
    }

    /// Tokens cut from the left of a context so context + continuation fit `max_seq_len`, and where the
    /// continuation then starts. A continuation that fills the whole window is an error in llm-foundry too.
    fn fit(&self, index: usize, context: usize, continuation: usize) -> Result<(usize, usize), EvalError> {
        if continuation >= self.max_seq_len {
            let reason = format!("a continuation of {continuation} tokens leaves no room in {}", self.max_seq_len);
            return Err(self.error(index, reason));
        }
        let trim_left = (context + continuation).saturating_sub(self.max_seq_len);
        Ok((trim_left, context - trim_left))
    }

    fn error(&self, index: usize, reason: String) -> EvalError {
        EvalError::Example { task: self.label(), index, reason }
    }
}

/// One test item as the model is fed it, with the golden files' field names.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub task: String,
    pub num_fewshot: usize,
    pub category: Option<String>,
    /// Row of the (per-category) dataset.
    pub index: usize,
    pub icl_task_type: TaskType,
    /// Few-shot rows in the order they appear in the prompt.
    pub fewshot_indices: Vec<usize>,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Body {
    MultipleChoice(MultipleChoice),
    Schema(Schema),
    LanguageModeling(LanguageModeling),
    Generation(Generation),
}

/// The prompt text of multiple-choice, LM and generation items.
#[derive(Debug, Clone, Serialize)]
pub struct Prompt {
    /// Few-shot block + `query_text`.
    pub prompt_text: String,
    /// The test item's part (a suffix of `prompt_text`).
    pub query_text: String,
    /// Tokens of the few-shot block at the start of `context_ids`.
    pub n_preamble_tokens: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MultipleChoice {
    #[serde(flatten)]
    pub prompt: Prompt,
    /// Before truncation; choice j's model input is `context_ids[trim_left[j]..] + continuation_ids[j]`.
    pub context_ids: Vec<u32>,
    pub choices: Vec<String>,
    pub continuation_texts: Vec<String>,
    pub continuation_ids: Vec<Vec<u32>>,
    pub gold: usize,
    pub trim_left: Vec<usize>,
    pub continuation_start: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    pub preamble_text: String,
    pub preamble_ids: Vec<u32>,
    pub option_texts: Vec<String>,
    /// Option j's model input is `(preamble_ids + option_ids[j])[trim_left[j]..] + continuation_ids`.
    pub option_ids: Vec<Vec<u32>>,
    pub continuation_text: String,
    pub continuation_ids: Vec<u32>,
    pub gold: usize,
    pub trim_left: Vec<usize>,
    pub continuation_start: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageModeling {
    #[serde(flatten)]
    pub prompt: Prompt,
    pub context_ids: Vec<u32>,
    pub continuation_text: String,
    pub continuation_ids: Vec<u32>,
    pub trim_left: usize,
    pub continuation_start: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Generation {
    #[serde(flatten)]
    pub prompt: Prompt,
    pub context_ids: Vec<u32>,
    pub trim_left: usize,
    /// The prompt given to generation is `[0] * left_pad + context_ids[trim_left..]`.
    pub left_pad: usize,
    /// `max_seq_len − max_new_tokens`.
    pub padded_length: usize,
    pub answer: String,
    /// Accepted answers (the answer and its aliases), sorted.
    pub labels: Vec<String>,
    pub stop_sequences: Vec<String>,
    pub cot_delimiter: String,
    pub do_normalization: bool,
    pub max_new_tokens: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_up_follows_transformers() {
        assert_eq!(clean_up_tokenization("It is n't here . Right ?"), "It isn't here. Right?");
    }
}

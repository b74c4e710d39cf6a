//! Running the model over the sequences a task scores: teacher-forced sequences in batches, greedy generation
//! with a KV cache.
//!
//! What makes it fast on a CPU, without changing a number llm-foundry would compute:
//! * sequences are sorted by length and batched up to a token budget, right-padded to the batch's longest
//!   (llm-foundry pads every row to 2048). Padding after a sequence cannot change its logits: attention is
//!   causal, so position p only sees positions ≤ p.
//! * only the rows the metric reads (the positions that predict continuation tokens) go through the output
//!   projection and the log-softmax; the projection onto 50,432 words is the model's largest matmul.
//! * log-softmax normalisers are summed in f64 ([`target_logprobs`]), argmax is torch's (first maximum).

use candle_core::{Device, Tensor};

use crate::metrics::argmax_first;
use crate::model::{target_logprobs, KvCache, ModelError, OpenLm};

/// The default token budget of one forward pass (batch × padded length).
pub const DEFAULT_BATCH_TOKENS: usize = 4096;

/// One sequence to run teacher-forced: its ids and where its scored tokens start (`ids[target_start..]`
/// are scored, each by the logits of the position before it, so `target_start ≥ 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub ids: Vec<u32>,
    pub target_start: usize,
}

/// What the metrics read of one sequence's scored tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceScore {
    /// `log_softmax(logits)[target]` per scored token, f32.
    pub logprobs: Vec<f32>,
    /// The greedy prediction per scored token.
    pub argmax: Vec<u32>,
}

/// Scores `sequences` in batches of at most `batch_tokens` (batch × padded length; a longer sequence runs
/// alone). Results come back in input order; `progress` is told the tokens of each finished batch.
pub fn score_sequences(
    model: &OpenLm,
    sequences: &[Sequence],
    batch_tokens: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<SequenceScore>, ModelError> {
    for (i, sequence) in sequences.iter().enumerate() {
        if sequence.target_start == 0 || sequence.target_start > sequence.ids.len() {
            return Err(ModelError::Config(format!(
                "sequence {i}: scored tokens start at {} of {} (need a context token before them)",
                sequence.target_start,
                sequence.ids.len()
            )));
        }
    }
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    // Longest first, ties by input order: the batches are the same on every run.
    order.sort_by_key(|&i| (std::cmp::Reverse(sequences[i].ids.len()), i));
    let mut results: Vec<Option<SequenceScore>> = vec![None; sequences.len()];
    for batch in batches(&order, sequences, batch_tokens.max(1)) {
        let members: Vec<&Sequence> = batch.iter().map(|&i| &sequences[i]).collect();
        let scores = score_batch(model, &members)?;
        progress(members.iter().map(|s| s.ids.len()).sum());
        for (&i, score) in batch.iter().zip(scores) {
            results[i] = Some(score);
        }
    }
    Ok(results.into_iter().map(|r| r.unwrap_or_else(empty_score)).collect())
}

fn empty_score() -> SequenceScore {
    SequenceScore { logprobs: Vec::new(), argmax: Vec::new() }
}

/// Consecutive runs of `order` (longest first) whose count × first length fits the budget.
fn batches<'a>(order: &'a [usize], sequences: &[Sequence], batch_tokens: usize) -> Vec<&'a [usize]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let longest = sequences[order[start]].ids.len().max(1);
        let fits = (batch_tokens / longest).max(1);
        let end = (start + fits).min(order.len());
        out.push(&order[start..end]);
        start = end;
    }
    out
}

/// One forward pass over right-padded `members`; the output projection runs on the scored rows only.
fn score_batch(model: &OpenLm, members: &[&Sequence]) -> Result<Vec<SequenceScore>, ModelError> {
    let device = model.device();
    let time = members.iter().map(|s| s.ids.len()).max().unwrap_or(0);
    let mut ids = vec![0u32; members.len() * time];
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (b, sequence) in members.iter().enumerate() {
        ids[b * time..b * time + sequence.ids.len()].copy_from_slice(&sequence.ids);
        for p in sequence.target_start..sequence.ids.len() {
            rows.push((b * time + p - 1) as u32);
            targets.push(sequence.ids[p]);
        }
    }
    let ids = Tensor::from_vec(ids, (members.len(), time), device)?;
    let hidden = model.hidden_states(&ids)?;
    let d = hidden.dim(2)?;
    let hidden = hidden.reshape((members.len() * time, d))?;
    let (logprobs, argmax) = if rows.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let picked = hidden.index_select(&Tensor::new(rows.as_slice(), device)?, 0)?;
        let logits = model.logits(&picked.unsqueeze(0)?)?;
        let target_ids = Tensor::new(targets.as_slice(), device)?.unsqueeze(0)?;
        let logprobs = target_logprobs(&logits, &target_ids)?.squeeze(0)?.to_vec1::<f32>()?;
        (logprobs, argmax_rows(&logits.squeeze(0)?)?)
    };
    let mut out = Vec::with_capacity(members.len());
    let mut at = 0;
    for sequence in members {
        let n = sequence.ids.len() - sequence.target_start;
        out.push(SequenceScore { logprobs: logprobs[at..at + n].to_vec(), argmax: argmax[at..at + n].to_vec() });
        at += n;
    }
    Ok(out)
}

/// torch's `argmax(dim=-1)` of each row of `[rows, vocab]` f32 logits.
fn argmax_rows(logits: &Tensor) -> Result<Vec<u32>, ModelError> {
    let rows = logits.to_device(&Device::Cpu)?.to_vec2::<f32>()?;
    Ok(rows.iter().map(|row| argmax_first(row).unwrap_or(0) as u32).collect())
}

/// Greedy decoding as `generate(do_sample=False)` does it: the prompt once, then one token at a time through
/// the KV cache. Stops after `max_new_tokens`, at `eos_id`, or as soon as `stop(generated)` says the text so far
/// is complete (llm-foundry's stop-sequence criterion; the metric cuts at the stop string anyway). The returned
/// ids exclude the prompt and `eos_id`.
pub fn generate_greedy(
    model: &OpenLm,
    prompt: &[u32],
    max_new_tokens: usize,
    eos_id: Option<u32>,
    stop: &mut dyn FnMut(&[u32]) -> bool,
) -> Result<Vec<u32>, ModelError> {
    if prompt.is_empty() {
        return Err(ModelError::Config("generation needs a prompt of at least one token".to_owned()));
    }
    let device = model.device();
    let mut cache = KvCache::new();
    let mut generated = Vec::new();
    let mut input = Tensor::new(prompt, device)?.unsqueeze(0)?;
    while generated.len() < max_new_tokens {
        let hidden = model.forward_hidden_last(&input, &mut cache)?;
        let logits = model.logits(&hidden)?.flatten_all()?.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
        let next = argmax_first(&logits).unwrap_or(0) as u32;
        if Some(next) == eos_id {
            break;
        }
        generated.push(next);
        if stop(&generated) {
            break;
        }
        input = Tensor::new(&[next], device)?.unsqueeze(0)?;
    }
    Ok(generated)
}

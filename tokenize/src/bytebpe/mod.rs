//! A byte-level BPE encoder that gives HF `tokenizers`' ids for the GPT-2 family (GPT-2, GPT-NeoX-20B,
//! Pythia, OLMo-1, …) several times faster: the same four steps — added tokens, NFC, the GPT-2
//! pre-tokenizer regex, BPE merges — without HF's per-byte offset and alignment bookkeeping (which the
//! stage never reads), with a per-thread cache of encoded pieces.
//!
//! HF's order is reproduced exactly: non-normalized added tokens (`<|endoftext|>`) are matched in the raw
//! text (leftmost-longest, daachorse as HF); each remaining segment is normalized (NFC, by the same
//! `unicode-normalization-alignments` tables HF uses) and normalized added tokens (NeoX's runs of 2–24
//! spaces) are matched in it; what remains is cut by the GPT-2 regex ([`pretokenize`]) and each piece's
//! bytes are merged ([`merge`]). Only `tokenizer.json`s whose pipeline is exactly this are accepted
//! ([`ByteBpe::from_json`] says why not); any other tokenizer is encoded by HF. `tests/bytebpe.rs` checks
//! the ids against HF's on real text in many scripts and on random Unicode.

pub mod merge;
pub mod pretokenize;

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use daachorse::{DoubleArrayAhoCorasick, DoubleArrayAhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;
use serde_json::Value;
use unicode_normalization_alignments::UnicodeNormalization;

use merge::{merge_piece, Merges};
use pretokenize::{for_each_piece, CharClasses};

/// Pieces up to this many bytes are cached (longer ones are rare and cheap to miss).
const CACHED_PIECE_BYTES: usize = 64;
/// The per-thread cache is emptied when it holds this many pieces (bounds its memory to a few MiB).
const CACHED_PIECES: usize = 1 << 16;

/// A byte-level BPE tokenizer (see the module docs).
pub struct ByteBpe {
    raw_added: Option<DoubleArrayAhoCorasick<u32>>,
    normalized_added: Option<DoubleArrayAhoCorasick<u32>>,
    nfc: bool,
    classes: CharClasses,
    byte_ids: [u32; 256],
    merges: Merges,
    /// Tells this encoder's cached pieces from another's in the per-thread cache.
    uid: usize,
}

impl std::fmt::Debug for ByteBpe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteBpe").field("nfc", &self.nfc).field("merges", &self.merges.len()).finish()
    }
}

static NEXT_UID: AtomicUsize = AtomicUsize::new(1);

#[derive(Default)]
struct PieceCache {
    owner: usize,
    pieces: FxHashMap<Box<[u8]>, Box<[u32]>>,
}

thread_local! {
    static CACHE: RefCell<PieceCache> = RefCell::new(PieceCache::default());
}

impl ByteBpe {
    /// The encoder for a parsed `tokenizer.json`, or why its pipeline is not one this encoder reproduces.
    pub fn from_json(json: &Value) -> Result<ByteBpe, String> {
        let nfc = normalizer_is_nfc(json.get("normalizer"))?;
        check_pipeline(json)?;
        let model = json.get("model").ok_or("no model")?;
        let vocab = model.get("vocab").and_then(Value::as_object).ok_or("the model has no vocab")?;
        let id = |token: &str| vocab.get(token).and_then(Value::as_u64).map(|id| id as u32);
        // Bytes that never occur in UTF-8 (C0, C1, F5–FF) may be missing: GPT-NeoX's vocab lacks them.
        let mut byte_ids = [u32::MAX; 256];
        for (byte, slot) in byte_ids.iter_mut().enumerate().filter(|(b, _)| !matches!(b, 0xC0 | 0xC1 | 0xF5..)) {
            let c = byte_char(byte as u8).to_string();
            *slot = id(&c).ok_or_else(|| format!("the vocab lacks the byte-level character for byte {byte}"))?;
        }
        let mut merges = Merges::default();
        for (rank, (a, b)) in merge_list(model)?.into_iter().enumerate() {
            let missing = |t: &str| format!("merge {} has '{t}', which is not in the vocab", rank + 1);
            let a_id = id(&a).ok_or_else(|| missing(&a))?;
            let b_id = id(&b).ok_or_else(|| missing(&b))?;
            let merged = format!("{a}{b}");
            let new_id = id(&merged).ok_or_else(|| missing(&merged))?;
            merges.insert((a_id, b_id), (rank as u32, new_id));
        }
        let (raw_added, normalized_added) = added_token_matchers(json, nfc)?;
        Ok(ByteBpe {
            raw_added,
            normalized_added,
            nfc,
            classes: CharClasses::new()?,
            byte_ids,
            merges,
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Appends the ids of `text` (HF `encode(text, add_special_tokens=False)`) to `out`.
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) {
        CACHE.with_borrow_mut(|cache| {
            if cache.owner != self.uid {
                cache.pieces.clear();
                cache.owner = self.uid;
            }
            for_each_segment(text, self.raw_added.as_ref(), out, |segment, out| {
                let normalized;
                let segment = if self.nfc && !segment.is_ascii() {
                    normalized = segment.nfc().map(|(c, _)| c).collect::<String>();
                    normalized.as_str()
                } else {
                    segment
                };
                for_each_segment(segment, self.normalized_added.as_ref(), out, |plain, out| {
                    for_each_piece(plain, &self.classes, |piece| self.encode_piece(piece.as_bytes(), cache, out));
                });
            });
        });
    }

    fn encode_piece(&self, piece: &[u8], cache: &mut PieceCache, out: &mut Vec<u32>) {
        if piece.len() > CACHED_PIECE_BYTES {
            return merge_piece(piece, &self.byte_ids, &self.merges, out);
        }
        if let Some(ids) = cache.pieces.get(piece) {
            return out.extend_from_slice(ids);
        }
        let start = out.len();
        merge_piece(piece, &self.byte_ids, &self.merges, out);
        if cache.pieces.len() >= CACHED_PIECES {
            cache.pieces.clear();
        }
        cache.pieces.insert(piece.into(), out[start..].into());
    }
}

/// Splits `text` at the added tokens `matcher` finds (leftmost-longest): an added token's id goes to
/// `out`, the text between them to `plain`.
fn for_each_segment(
    text: &str,
    matcher: Option<&DoubleArrayAhoCorasick<u32>>,
    out: &mut Vec<u32>,
    mut plain: impl FnMut(&str, &mut Vec<u32>),
) {
    let Some(matcher) = matcher else { return plain(text, out) };
    let mut start = 0;
    for m in matcher.leftmost_find_iter(text) {
        if start < m.start() {
            plain(&text[start..m.start()], out);
        }
        out.push(m.value());
        start = m.end();
    }
    if start < text.len() {
        plain(&text[start..], out);
    }
}

/// GPT-2's byte → printable character map (`bytes_to_unicode`): printable Latin-1 bytes stand for
/// themselves, the others for U+0100 onwards in byte order.
fn byte_char(byte: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable(byte) {
        return byte as char;
    }
    let shifted = (0..byte).filter(|&b| !printable(b)).count() as u32;
    char::from_u32(256 + shifted).unwrap_or('\u{FFFD}')
}

/// Whether the normalizer is NFC (`true`) or absent (`false`); any other normalizer is not supported.
fn normalizer_is_nfc(normalizer: Option<&Value>) -> Result<bool, String> {
    let kind = |n: &Value| n.get("type").and_then(Value::as_str).map(str::to_string);
    match normalizer {
        None | Some(Value::Null) => Ok(false),
        Some(n) if kind(n).as_deref() == Some("NFC") => Ok(true),
        Some(n) if kind(n).as_deref() == Some("Sequence") => {
            let list = n.get("normalizers").and_then(Value::as_array).ok_or("a Sequence without normalizers")?;
            match list.as_slice() {
                [] => Ok(false),
                [only] => normalizer_is_nfc(Some(only)),
                _ => Err("a sequence of normalizers".into()),
            }
        }
        Some(n) => Err(format!("normalizer {}", kind(n).unwrap_or_default())),
    }
}

/// The pre-tokenizer, post-processor and model options this encoder reproduces.
fn check_pipeline(json: &Value) -> Result<(), String> {
    let pre = json.get("pre_tokenizer").ok_or("no pre-tokenizer")?;
    let field = |v: &Value, f: &str| v.get(f).cloned().unwrap_or(Value::Null);
    if pre.get("type").and_then(Value::as_str) != Some("ByteLevel")
        || field(pre, "add_prefix_space") != Value::Bool(false)
        || !matches!(field(pre, "use_regex"), Value::Null | Value::Bool(true))
    {
        return Err("the pre-tokenizer is not ByteLevel without prefix space".into());
    }
    match json.get("post_processor") {
        None | Some(Value::Null) => {}
        Some(p) if p.get("type").and_then(Value::as_str) == Some("ByteLevel") => {}
        Some(_) => return Err("a post-processor other than ByteLevel".into()),
    }
    let model = json.get("model").ok_or("no model")?;
    if model.get("type").and_then(Value::as_str) != Some("BPE") {
        return Err("the model is not BPE".into());
    }
    let empty = |f: &str| match field(model, f) {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    };
    for option in ["dropout", "continuing_subword_prefix", "end_of_word_suffix", "byte_fallback", "ignore_merges"] {
        if !empty(option) {
            return Err(format!("the BPE model sets `{option}`"));
        }
    }
    Ok(())
}

/// The model's merges in rank order, from either form HF writes (`"a b"` strings, `["a", "b"]` pairs).
fn merge_list(model: &Value) -> Result<Vec<(String, String)>, String> {
    let list = model.get("merges").and_then(Value::as_array).ok_or("the model has no merges")?;
    let mut merges = Vec::with_capacity(list.len());
    for entry in list {
        match entry {
            Value::String(line) if line.starts_with("#version") => {}
            Value::String(line) => match line.split(' ').collect::<Vec<_>>().as_slice() {
                [a, b] => merges.push((a.to_string(), b.to_string())),
                _ => return Err(format!("merge '{line}' is not two tokens")),
            },
            Value::Array(pair) => match pair.as_slice() {
                [Value::String(a), Value::String(b)] => merges.push((a.clone(), b.clone())),
                _ => return Err("a merge pair is not two strings".into()),
            },
            _ => return Err("a merge is neither a string nor a pair".into()),
        }
    }
    Ok(merges)
}

type Matcher = Option<DoubleArrayAhoCorasick<u32>>;

/// Matchers for the added tokens matched in raw text and in normalized text.
fn added_token_matchers(json: &Value, nfc: bool) -> Result<(Matcher, Matcher), String> {
    let mut raw: FxHashMap<String, u32> = FxHashMap::default();
    let mut normalized: FxHashMap<String, u32> = FxHashMap::default();
    for token in json.get("added_tokens").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        let flag = |f: &str| token.get(f).and_then(Value::as_bool).unwrap_or(false);
        let content = token.get("content").and_then(Value::as_str).ok_or("an added token without content")?;
        let id = token.get("id").and_then(Value::as_u64).ok_or("an added token without id")? as u32;
        if flag("lstrip") || flag("rstrip") || flag("single_word") {
            return Err(format!("added token '{content}' strips spaces or is single-word"));
        }
        if content.is_empty() {
            continue;
        }
        // HF keys added tokens by content: a later duplicate replaces an earlier one.
        if flag("normalized") {
            let pattern = if nfc { content.nfc().map(|(c, _)| c).collect() } else { content.to_string() };
            normalized.insert(pattern, id);
        } else {
            raw.insert(content.to_string(), id);
        }
    }
    Ok((matcher(raw)?, matcher(normalized)?))
}

fn matcher(patterns: FxHashMap<String, u32>) -> Result<Matcher, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    DoubleArrayAhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build_with_values(patterns)
        .map(Some)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_chars_are_gpt2s() {
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
        assert_eq!(byte_char(b'a'), 'a');
        assert_eq!(byte_char(0xAD), '\u{143}');
        let distinct: std::collections::HashSet<char> = (0..=255u8).map(byte_char).collect();
        assert_eq!(distinct.len(), 256);
    }
}

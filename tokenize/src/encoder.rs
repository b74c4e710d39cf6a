//! The tokenizer: a HF `tokenizer.json` (GPT-NeoX-20B bundled), the special ids the stage adds, and
//! encoding of whole documents — long ones split first at points proven not to change the token stream,
//! so one 10 MB page is encoded on every core and never as one giant call.
//!
//! ## Where a document can be split
//! HF encodes text as: added/special tokens matched in the text → normalizer → pre-tokenizer (a regex
//! that cuts the text into pieces) → the model (BPE) on each piece. Cutting the text at a point where the
//! whole-text pipeline cuts anyway, and where no stage looks across the point, gives the same tokens.
//! For the GPT-2 family's byte-level pre-tokenizer (GPT-2, GPT-NeoX, Pythia, OLMo-1, …; regex
//! `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`) such a point is **just
//! before a `\n` that is followed by a letter, digit or ASCII punctuation** (not the first character of
//! an added token):
//! * no alternative that starts before the `\n` can take it: the non-space ones take at most one *leading*
//!   space, and a whitespace run ending in the `\n` is cut before it — whole-text `\s+(?!\S)` backtracks
//!   to just before the `\n` (the `\n` is not `\S`), exactly what the shorter text's run ending at its end
//!   gives; the `\n` itself is then a piece of its own (`\s+`) in both;
//! * added tokens never contain `\n` and none strips whitespace (`lstrip`/`rstrip`), so none spans the
//!   point, and the next character does not start one (else the `\n` would end a segment);
//! * NFC/NFD never compose or reorder across a `\n` (a starter that combines with nothing).
//!
//! Other tokenizers (Llama-3's `\s*[\r\n]+` pre-tokenizer, SentencePiece's prefix space, BPE dropout, …)
//! are encoded whole. `tests/split.rs` checks the rule against whole-document encoding on real and
//! adversarial text.

use std::sync::Arc;

use serde_json::Value;
use tokenizers::Tokenizer;
use xxhash_rust::xxh3::xxh3_64;

use crate::bytebpe::ByteBpe;
use crate::config::TokenizeConfig;
use crate::error::TokenizeError;

/// The bundled default tokenizer (see `data/gpt-neox-20b/ORIGIN.md`).
pub const BUNDLED_TOKENIZER: &[u8] = include_bytes!("../data/gpt-neox-20b/tokenizer.json");
/// The name DCLM gives the bundled tokenizer (`tokenizer` in its dataset JSON).
pub const BUNDLED_TOKENIZER_NAME: &str = "EleutherAI/gpt-neox-20b";

/// Documents longer than this (bytes) are split before encoding, into pieces of about [`SPLIT_PIECE`].
pub const SPLIT_ABOVE: usize = 48 * 1024;
/// The target size of the pieces of a split document.
pub const SPLIT_PIECE: usize = 16 * 1024;

/// How tokens are stored on disk: the narrowest type that holds every id the stage can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenWidth {
    U16,
    U32,
}

impl TokenWidth {
    pub fn bytes(self) -> usize {
        match self {
            TokenWidth::U16 => 2,
            TokenWidth::U32 => 4,
        }
    }

    /// The name in manifests (`u16`, `u32`; numpy's `<u2`/`<u4`).
    pub fn name(self) -> &'static str {
        match self {
            TokenWidth::U16 => "u16",
            TokenWidth::U32 => "u32",
        }
    }

    /// Appends `tokens` little-endian.
    pub fn put(self, tokens: &[u32], out: &mut Vec<u8>) {
        match self {
            TokenWidth::U16 => tokens.iter().for_each(|t| out.extend_from_slice(&(*t as u16).to_le_bytes())),
            TokenWidth::U32 => tokens.iter().for_each(|t| out.extend_from_slice(&t.to_le_bytes())),
        }
    }

    /// Reads little-endian tokens from `bytes` (a multiple of the width) into `out`.
    pub fn get(self, bytes: &[u8], out: &mut Vec<u32>) {
        match self {
            TokenWidth::U16 => out.extend(bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]]) as u32)),
            TokenWidth::U32 => out.extend(bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        }
    }
}

/// Where a document may be cut (see the module docs).
#[derive(Debug, Clone)]
struct SplitRule {
    /// First characters of added tokens: a `\n` followed by one of these is not a cut point.
    added_starts: Vec<char>,
}

/// A loaded tokenizer with the ids the stage adds.
pub struct Encoder {
    tokenizer: Tokenizer,
    /// The tokenizer as the outputs name it (DCLM's hub name for the bundled one, else the path).
    pub name: String,
    /// xxh3-64 of the tokenizer file, hex.
    pub checksum: String,
    /// End of text, appended after every document.
    pub eot: u32,
    /// Padding of the last context of each input file.
    pub pad: u32,
    /// Put before every document, if configured.
    pub bos: Option<u32>,
    /// The model's vocabulary without added tokens (what DCLM's `vocab_size` is).
    pub base_vocab: usize,
    /// Every id the tokenizer knows, added tokens included.
    pub vocab_size: usize,
    /// The largest id the stage can write (a token, EOT, PAD or BOS).
    pub max_id: u32,
    pub width: TokenWidth,
    split: Option<SplitRule>,
    /// sluice's byte-level BPE, when the tokenizer is one it reproduces (else HF encodes).
    bytebpe: Option<ByteBpe>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("name", &self.name)
            .field("eot", &self.eot)
            .field("pad", &self.pad)
            .field("bos", &self.bos)
            .field("vocab_size", &self.vocab_size)
            .field("width", &self.width)
            .field("splits_long_documents", &self.split.is_some())
            .field("bytebpe", &self.bytebpe.is_some())
            .finish()
    }
}

impl Encoder {
    /// Loads the configured tokenizer (the bundled one when `config.tokenizer` is unset).
    pub fn load(config: &TokenizeConfig) -> Result<Arc<Encoder>, TokenizeError> {
        match &config.tokenizer {
            None => Encoder::from_bytes(BUNDLED_TOKENIZER, BUNDLED_TOKENIZER_NAME, config).map(Arc::new),
            Some(path) => {
                let missing = |reason: String| TokenizeError::TokenizerMissing { path: path.clone(), reason };
                let location = sluice_core::store::Location::parse(path).map_err(|e| missing(e.to_string()))?;
                let bytes = location.read_bytes().map_err(|e| missing(e.to_string()))?;
                Encoder::from_bytes(&bytes, path, config).map(Arc::new)
            }
        }
    }

    /// Builds an encoder from the bytes of a `tokenizer.json`; `name` is used in messages and outputs.
    pub fn from_bytes(bytes: &[u8], name: &str, config: &TokenizeConfig) -> Result<Encoder, TokenizeError> {
        let invalid = |reason: String| TokenizeError::TokenizerInvalid { path: name.to_string(), reason };
        let json: Value = serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        if json.pointer("/model/dropout").and_then(Value::as_f64).is_some_and(|d| d > 0.0) {
            return Err(invalid("BPE dropout makes tokenization random; remove `dropout` from the model".into()));
        }
        let mut tokenizer = Tokenizer::from_bytes(bytes).map_err(|e| invalid(e.to_string()))?;
        // The stage cuts contexts itself: a truncation or padding setting in the file must not apply.
        tokenizer.with_truncation(None).map_err(|e| invalid(e.to_string()))?;
        tokenizer.with_padding(None);

        let special = |token: &str, role: &'static str, field: &'static str| {
            tokenizer.token_to_id(token).ok_or_else(|| TokenizeError::MissingSpecialToken {
                path: name.to_string(),
                token: token.to_string(),
                role,
                field,
            })
        };
        let eot = special(&config.eot_token, "end-of-text token", "eot_token")?;
        let bos = match &config.bos {
            Some(token) => Some(special(token, "begin-of-text token", "bos")?),
            None => None,
        };
        let base_vocab = tokenizer.get_vocab_size(false);
        let vocab_size = tokenizer.get_vocab_size(true);
        let pad = match config.pad_id {
            Some(pad) => pad,
            None => u32::try_from(base_vocab + 2).map_err(|_| invalid("vocabulary too large".into()))?,
        };
        let largest_token = tokenizer.get_vocab(true).values().copied().max().unwrap_or(0);
        let max_id = largest_token.max(eot).max(pad).max(bos.unwrap_or(0));
        let width = if max_id <= u16::MAX as u32 { TokenWidth::U16 } else { TokenWidth::U32 };
        let bytebpe = checked_bytebpe(&json, &tokenizer, name);
        Ok(Encoder {
            split: split_rule(&json),
            bytebpe,
            tokenizer,
            name: name.to_string(),
            checksum: format!("{:016x}", xxh3_64(bytes)),
            eot,
            pad,
            bos,
            base_vocab,
            vocab_size,
            max_id,
            width,
        })
    }

    /// Whether long documents are split before encoding (the tokenizer is one the split rule is proven for).
    pub fn splits_long_documents(&self) -> bool {
        self.split.is_some()
    }

    /// Whether sluice's byte-level BPE encodes (see [`crate::bytebpe`]); HF `tokenizers` does otherwise.
    pub fn uses_bytebpe(&self) -> bool {
        self.bytebpe.is_some()
    }

    /// The ids of `text` as HF `encode(text, add_special_tokens=False)` gives them.
    pub fn encode_piece(&self, text: &str) -> Result<Vec<u32>, TokenizeError> {
        match &self.bytebpe {
            Some(bpe) => {
                let mut ids = Vec::with_capacity(text.len() / 4 + 1);
                bpe.encode(text, &mut ids);
                Ok(ids)
            }
            None => self.encode_with_hf(text),
        }
    }

    /// The ids of `text` from HF `tokenizers` itself, whatever [`Encoder::encode_piece`] uses.
    pub fn encode_with_hf(&self, text: &str) -> Result<Vec<u32>, TokenizeError> {
        let encoding = self
            .tokenizer
            .encode_fast(text, false)
            .map_err(|e| TokenizeError::Encode { path: self.name.clone(), reason: e.to_string() })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The ids of a whole document: its pieces (see [`Encoder::pieces`]) encoded and concatenated — the
    /// same ids as encoding it whole.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizeError> {
        let mut ids = Vec::new();
        for piece in self.pieces(text) {
            ids.extend(self.encode_piece(piece)?);
        }
        Ok(ids)
    }

    /// `text` cut into pieces of about [`SPLIT_PIECE`] bytes at points where cutting cannot change the
    /// tokens (module docs); a short document, or one for a tokenizer the rule is not proven for, is one
    /// piece.
    pub fn pieces<'t>(&self, text: &'t str) -> Vec<&'t str> {
        match &self.split {
            Some(rule) if text.len() > SPLIT_ABOVE => cut(text, rule, SPLIT_PIECE),
            _ => vec![text],
        }
    }

    /// Every point of `text` where it may be cut (byte offsets of the `\n`s that start a piece); empty if
    /// the tokenizer's documents are never cut. For tests.
    pub fn cut_points(&self, text: &str) -> Vec<usize> {
        let Some(rule) = &self.split else { return Vec::new() };
        memchr::memchr_iter(b'\n', text.as_bytes()).filter(|&p| p > 0 && is_cut_point(text, p, rule)).collect()
    }

    /// The tokenizer itself.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }
}

/// Text whose ids sluice's byte-level BPE must reproduce before it replaces HF: contractions, space runs
/// (NeoX's added tokens), tabs and newlines, digits, punctuation, accents to compose (NFC), several scripts,
/// astral characters, a special token.
const BYTEBPE_PROBE: &str = "It's 2026 — they'll   say \"naïve\"\tcafe\u{301}s\n\n  1,234.5 ½ <|endoftext|>Ⅳ 東京 \
     Москва देवनागरी 𝔘𝔫𝔦 😀😀\u{3000}x  \r\n";

/// sluice's byte-level BPE for this tokenizer, if its pipeline is one it reproduces and it gives HF's ids
/// on [`BYTEBPE_PROBE`]; otherwise HF encodes (said in the log).
fn checked_bytebpe(json: &Value, tokenizer: &Tokenizer, name: &str) -> Option<ByteBpe> {
    let bpe = match ByteBpe::from_json(json) {
        Ok(bpe) => bpe,
        Err(reason) => {
            tracing::debug!(tokenizer = name, reason, "HF tokenizers encodes (not a GPT-2-style byte-level BPE)");
            return None;
        }
    };
    let expected = tokenizer.encode_fast(BYTEBPE_PROBE, false).ok()?.get_ids().to_vec();
    let mut ids = Vec::new();
    bpe.encode(BYTEBPE_PROBE, &mut ids);
    if ids != expected {
        tracing::warn!(tokenizer = name, "sluice's byte-level BPE disagrees with HF on this tokenizer; HF encodes");
        return None;
    }
    Some(bpe)
}

/// Whether `text` may be cut just before the `\n` at byte `p`.
fn is_cut_point(text: &str, p: usize, rule: &SplitRule) -> bool {
    let Some(next) = text[p + 1..].chars().next() else { return false };
    (next.is_alphanumeric() || next.is_ascii_punctuation()) && !rule.added_starts.contains(&next)
}

/// Cuts `text` into pieces of at least `target` bytes (the last may be shorter) at cut points.
fn cut<'t>(text: &'t str, rule: &SplitRule, target: usize) -> Vec<&'t str> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::with_capacity(text.len() / target + 1);
    let mut start = 0;
    while text.len() - start > target + target / 2 {
        let from = start + target;
        let point = memchr::memchr_iter(b'\n', &bytes[from..]).map(|i| from + i).find(|&p| is_cut_point(text, p, rule));
        match point {
            Some(p) => {
                pieces.push(&text[start..p]);
                start = p;
            }
            None => break,
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// The split rule for a `tokenizer.json`, or `None` when the pipeline is not one it is proven for.
fn split_rule(json: &Value) -> Option<SplitRule> {
    let canonical = |n: &Value| matches!(n.get("type").and_then(Value::as_str), Some("NFC" | "NFD"));
    let normalizer_ok = match json.get("normalizer") {
        None | Some(Value::Null) => true,
        Some(n) if canonical(n) => true,
        Some(n) if n.get("type").and_then(Value::as_str) == Some("Sequence") => {
            n.get("normalizers").and_then(Value::as_array).is_some_and(|list| list.iter().all(canonical))
        }
        Some(_) => false,
    };
    let pre = json.get("pre_tokenizer")?;
    let byte_level = pre.get("type").and_then(Value::as_str) == Some("ByteLevel")
        && pre.get("add_prefix_space").and_then(Value::as_bool) == Some(false)
        && pre.get("use_regex").and_then(Value::as_bool).unwrap_or(true);
    let mut added_starts = Vec::new();
    for token in json.get("added_tokens").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        let content = token.get("content").and_then(Value::as_str).unwrap_or("");
        let strips = ["lstrip", "rstrip"].iter().any(|f| token.get(*f).and_then(Value::as_bool) == Some(true));
        if content.contains('\n') || strips {
            return None;
        }
        added_starts.extend(content.chars().next());
    }
    (normalizer_ok && byte_level).then_some(SplitRule { added_starts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neox() -> Encoder {
        Encoder::from_bytes(BUNDLED_TOKENIZER, BUNDLED_TOKENIZER_NAME, &TokenizeConfig::default()).unwrap()
    }

    #[test]
    fn bundled_neox_has_dclm_special_ids() {
        let e = neox();
        assert_eq!((e.eot, e.pad, e.base_vocab, e.vocab_size), (0, 50256, 50254, 50277));
        assert_eq!(e.width, TokenWidth::U16);
        assert_eq!(e.encode("Hello world").unwrap(), [12092, 1533]);
        assert!(e.splits_long_documents());
        assert!(e.uses_bytebpe());
        // DCLM's PAD is a real NeoX token: a run of 22 spaces.
        assert_eq!(e.tokenizer().id_to_token(50256).unwrap(), " ".repeat(22));
    }

    #[test]
    fn cut_points_follow_the_rule() {
        let e = neox();
        let text = "a\nb \n\nc\n d\n<|endoftext|>\n\u{301}x\n.";
        let points = e.cut_points(text);
        let next: Vec<char> = points.iter().map(|&p| text[p + 1..].chars().next().unwrap()).collect();
        assert_eq!(next, ['b', 'c', '.']);
    }

    #[test]
    fn unproven_pipelines_are_not_split() {
        let mut json: Value = serde_json::from_slice(BUNDLED_TOKENIZER).unwrap();
        assert!(split_rule(&json).is_some());
        json["pre_tokenizer"]["add_prefix_space"] = Value::Bool(true);
        assert!(split_rule(&json).is_none());
        let mut json: Value = serde_json::from_slice(BUNDLED_TOKENIZER).unwrap();
        json["normalizer"] = serde_json::json!({"type": "Lowercase"});
        assert!(split_rule(&json).is_none());
        let mut json: Value = serde_json::from_slice(BUNDLED_TOKENIZER).unwrap();
        json["added_tokens"][2]["lstrip"] = Value::Bool(true);
        assert!(split_rule(&json).is_none());
    }
}

//! The error type of the tokenize stage: what went wrong, where, and what to do about it.

/// Everything that stops the tokenize stage before or while it runs. Bad documents are not errors: they
/// are counted (`empty_text`, `unreadable`) and skipped.
#[derive(Debug, thiserror::Error)]
pub enum TokenizeError {
    #[error("invalid tokenize configuration: {0}")]
    Config(String),

    #[error("tokenizer file {path} not found ({reason}); give the path of a HF tokenizer.json, or leave `tokenizer` unset for the bundled GPT-NeoX-20B")]
    TokenizerMissing { path: String, reason: String },

    #[error("{path} is not a usable HF tokenizer.json: {reason}")]
    TokenizerInvalid { path: String, reason: String },

    #[error("tokenizer {path} has no token '{token}' (needed as the {role}); set `{field}` to a token it has")]
    MissingSpecialToken { path: String, token: String, role: &'static str, field: &'static str },

    #[error("tokenizer {path}: encoding failed: {reason}")]
    Encode { path: String, reason: String },

    #[error("{location}: {reason}")]
    Artifact { location: String, reason: String },

    #[error("{location}: not a tokenize output ({reason})")]
    NotAnOutput { location: String, reason: String },
}

impl From<TokenizeError> for sluice_core::Error {
    fn from(e: TokenizeError) -> Self {
        sluice_core::Error::stage("tokenize", e)
    }
}

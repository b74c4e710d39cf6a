//! Errors of loading, checking and saving OpenLM models: each names the file and, where there is one, the tensor.

use std::path::{Path, PathBuf};

use candle_core::DType;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A tensor operation or a file parser of candle failed (`what` says which step).
    #[error("{path}: {what}: {source}")]
    Candle { path: PathBuf, what: &'static str, source: Box<candle_core::Error> },
    /// A tensor operation failed outside any file.
    #[error("tensor operation: {0}")]
    Tensor(#[source] Box<candle_core::Error>),
    #[error("{path}: not an OpenLM model config: {source}")]
    ConfigJson { path: PathBuf, source: serde_json::Error },
    #[error("model config: {0}")]
    Config(String),
    #[error("unknown model preset `{name}` (expected one of: {known})")]
    UnknownPreset { name: String, known: String },
    #[error("{path}: not a checkpoint this loader reads: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: tensor `{name}` is missing (expected shape {expected:?}; the file has {found} tensors)")]
    MissingTensor { path: PathBuf, name: String, expected: Vec<usize>, found: usize },
    #[error("{path}: tensor `{name}` has shape {got:?}, expected {expected:?} (does the model config match?)")]
    ShapeMismatch { path: PathBuf, name: String, expected: Vec<usize>, got: Vec<usize> },
    #[error("{path}: tensor `{name}` has dtype {dtype:?}, expected a float dtype")]
    BadDtype { path: PathBuf, name: String, dtype: DType },
    #[error("{path}: {count} tensor(s) the model config does not have, e.g. {examples:?} (does the config match?)")]
    UnexpectedTensors { path: PathBuf, count: usize, examples: Vec<String> },
    #[error(
        "{path}: tensors `{first}` and `{second}` are both `{name}` once `module.`/`_orig_mod.`/`model.` are removed"
    )]
    DuplicateTensor { path: PathBuf, name: String, first: String, second: String },
    #[error(
        "{path}: `{name}` is not base-10000 RoPE for head_dim {head_dim} (largest relative difference {max_rel_diff:e})"
    )]
    BadInvFreq { path: PathBuf, name: String, head_dim: usize, max_rel_diff: f64 },
}

impl ModelError {
    /// Wraps a candle error with the file and the step it happened in.
    pub fn candle(path: &Path, what: &'static str, source: candle_core::Error) -> Self {
        ModelError::Candle { path: path.to_path_buf(), what, source: Box::new(source) }
    }
}

impl From<candle_core::Error> for ModelError {
    fn from(source: candle_core::Error) -> Self {
        ModelError::Tensor(Box::new(source))
    }
}

//! The eval harness's errors: each names the file, line or task it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("eval suite {name}: {reason}")]
    Suite { name: String, reason: String },
    #[error("task data {path} is missing ({reason})")]
    MissingData { path: PathBuf, reason: String },
    #[error("{path}:{line}: {reason}")]
    BadRow { path: PathBuf, line: usize, reason: String },
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("model: {0}")]
    Model(#[from] crate::model::ModelError),
    #[error("task `{task}`, example {index}: {reason}")]
    Example { task: String, index: usize, reason: String },
}

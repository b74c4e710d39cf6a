//! The error type of `sluice-filters`: what stops a filter stage before (or instead of) running.
//!
//! Problems with one document (a missing field, a failed prediction) are not errors of this kind: a step
//! returns [`crate::Verdict::Error`] and the stage counts it per document.

/// Everything that can stop a filter chain from being built, prepared, or a classifier from being trained.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A step's parameters are inconsistent (caught when the recipe is read).
    #[error("{step}: {message}")]
    Params { step: &'static str, message: String },

    /// A step's pattern (from a ban list or a recipe) is not a valid regex.
    #[error("{step}: invalid pattern: {source}")]
    Pattern {
        step: &'static str,
        #[source]
        source: regex::Error,
    },

    /// A list file (ban list, TLD list) a step names could not be read.
    #[error("{step}: cannot read list file '{path}': {source}")]
    ListFile {
        step: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A model file a step names does not exist.
    #[error("{step}: model '{path}' not found ({hint})")]
    ModelNotFound { step: &'static str, path: String, hint: &'static str },

    /// fastText could not load a model (the C++ loader reports errors as text).
    #[error("{step}: cannot load fastText model '{path}': {message}")]
    ModelLoad { step: &'static str, path: String, message: String },

    /// fastText failed on a text (the C++ code reports errors as text). Inside a chain this is a per-document
    /// error, not a stage error.
    #[error("fastText prediction failed: {0}")]
    Prediction(String),

    /// Reading or writing a file outside a step (training data, a model being saved).
    #[error("I/O error on '{path}': {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// fastText training failed (the C++ trainer reports errors as text).
    #[error("fastText training failed: {0}")]
    Training(String),

    /// A step of a chain could not be prepared: which one, by position (1-based) and by its drop-reason
    /// label; the message names the step through `source`.
    #[error("filter step {position}: {source}")]
    Step {
        position: usize,
        label: String,
        #[source]
        source: Box<FilterError>,
    },
}

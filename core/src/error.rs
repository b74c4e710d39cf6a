//! The error type of `sluice-core`.

use std::path::PathBuf;

/// Everything that can go wrong in the spine. Data problems inside a shard (a bad record, an undecodable
/// page) are *not* errors: stages count them in [`crate::runner::ShardStats`] and go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid location '{location}': {reason}")]
    Location { location: String, reason: String },

    #[error("object store error at '{location}': {source}")]
    Store {
        location: String,
        #[source]
        source: object_store::Error,
    },

    #[error("I/O error on '{location}': {source}")]
    Io {
        location: String,
        #[source]
        source: std::io::Error,
    },

    #[error("Parquet error on '{location}': {source}")]
    Parquet {
        location: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    #[error("Arrow error on '{location}': {source}")]
    Arrow {
        location: String,
        #[source]
        source: arrow_schema::ArrowError,
    },

    #[error("{location}:{line}: {message}")]
    Jsonl { location: String, line: u64, message: String },

    #[error("'{location}' does not have the sluice document schema: {reason}")]
    Schema { location: String, reason: String },

    /// `message` starts with `:line:column: ` when the position is known.
    #[error("{}{message}", file.display())]
    Recipe { file: PathBuf, message: String },

    #[error("invalid shard spec '{0}': expected i/N with 0 <= i < N (e.g. 0/4)")]
    ShardSpec(String),

    #[error("no input found under {0}")]
    NoInput(String),

    #[error("{failed} of {total} shards failed in stage '{stage}'; first failure: {first}")]
    ShardsFailed { stage: String, failed: usize, total: usize, first: String },

    #[error(
        "another sluice process is writing {output} for the same worker slot ({holder}); wait for it to \
         finish, or stop it — two writers of one output would delete each other's temporaries"
    )]
    Locked { output: String, holder: String },

    #[error(
        "{what} is incomplete: {missing} of {total} tasks are not committed (first: {first}); run the \
         remaining workers, or pass --allow-partial to read it as it is"
    )]
    Incomplete { what: String, missing: usize, total: usize, first: String },

    #[error("stage '{stage}' cannot start: {reason}")]
    Prepare { stage: String, reason: String },

    /// A stage crate's own typed error, kept as the source so callers can downcast it.
    #[error("{stage}: {source}")]
    Stage {
        stage: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a stage crate's typed error.
    pub fn stage(stage: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Stage { stage: stage.into(), source: Box::new(source) }
    }

    pub fn io(location: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { location: location.into(), source }
    }
    pub fn store(location: impl Into<String>, source: object_store::Error) -> Self {
        Error::Store { location: location.into(), source }
    }
    pub fn parquet(location: impl Into<String>, source: parquet::errors::ParquetError) -> Self {
        Error::Parquet { location: location.into(), source }
    }
    pub fn arrow(location: impl Into<String>, source: arrow_schema::ArrowError) -> Self {
        Error::Arrow { location: location.into(), source }
    }
}

//! The errors of the BFF stage: a bad configuration, or a Bloom filter file that cannot be used.

/// What can stop BFF before or while it runs (bad documents are counted, never errors).
#[derive(Debug, thiserror::Error)]
pub enum BffError {
    #[error("bff: {0}")]
    Config(String),

    #[error(
        "bff: a Bloom filter of {bytes} bytes cannot be allocated ({reason}); lower expected_ngram_count or \
         raise fp_rate (`sluice bff sysreq` prints the size for a count and rate)"
    )]
    TooLarge { bytes: u64, reason: String },

    #[error("bff: bloom filter file {location}: {reason}")]
    FilterFile { location: String, reason: String },

    #[error("bff: I/O error on {location}: {source}")]
    Io {
        location: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<BffError> for sluice_core::Error {
    fn from(error: BffError) -> Self {
        sluice_core::Error::Other(error.to_string())
    }
}

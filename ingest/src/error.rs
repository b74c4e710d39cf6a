//! What makes an input file fail as a whole. Bad records are not errors: the stage counts them and goes on.

/// An input the ingest stage refuses.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file holds bytes but not one WARC (or ARC) record: most likely not a WARC file at all (an image,
    /// a tar archive, a web page saved under a `.warc` name).
    #[error("no WARC record found in {location} — is this a WARC file? (first problem: {first_problem})")]
    NoRecords { location: String, first_problem: String },
}

impl From<IngestError> for sluice_core::Error {
    fn from(error: IngestError) -> Self {
        sluice_core::Error::stage("ingest", error)
    }
}

//! One WARC record: its version line, headers in file order, and its content block.

/// A WARC record as read from the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarcRecord {
    /// The version line (`WARC/1.0`, `WARC/0.18`); empty when the record had none (cc_net WET fixtures).
    pub version: String,
    /// Header fields in file order, names as written.
    pub headers: Vec<(String, String)>,
    /// The content block (for `response` records: the HTTP response, headers included).
    pub block: Vec<u8>,
    /// Byte offset of the record (of its gzip member, for compressed files) in the file.
    pub offset: u64,
}

impl WarcRecord {
    /// The first header named `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// `WARC-Type`, lower-cased (`response`, `warcinfo`, `conversion`, …); `unknown` when absent.
    pub fn record_type(&self) -> String {
        self.header("WARC-Type").map(|t| t.to_ascii_lowercase()).unwrap_or_else(|| "unknown".into())
    }

    /// `WARC-Target-URI`, without the angle brackets some writers (WARC/1.1 drafts, wget) put around it.
    pub fn target_uri(&self) -> Option<&str> {
        self.header("WARC-Target-URI")
            .map(|u| u.trim_start_matches('<').trim_end_matches('>'))
            .filter(|u| !u.is_empty())
    }
}

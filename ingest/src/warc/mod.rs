//! WARC reading: records framed by `Content-Length`, over gzip-per-record (as Common Crawl ships) or
//! uncompressed WARC/WET files, that survives bad input.
//!
//! Why not the `warc` crate: `warc` 0.4 stops at the first malformed record (no resync), rejects non-ASCII
//! header names, and cannot see gzip member boundaries — which are what lets a reader recover the exact
//! record after a lying `Content-Length` or skip one corrupt member and carry on with the next. Real crawls
//! (ClueWeb09's WARC/0.18, cc_net's WET fixtures, warcio's edge cases) need all of that.

mod reader;
mod record;
mod stream;

pub use reader::{read_warc, Limits, Problem, ProblemKind, WarcEvent};
pub use record::WarcRecord;

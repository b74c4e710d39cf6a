//! [`DocumentSink`]: where a task writes documents, in batches, into one artifact.

use crate::document::Document;
use crate::error::Result;
use crate::format::DocumentWriter;

/// Collects a task's output documents and writes them in batches.
pub struct DocumentSink {
    writer: Box<dyn DocumentWriter>,
    pending: Vec<Document>,
    pending_bytes: usize,
    docs: u64,
    text_bytes: u64,
}

/// A batch is written when it holds this many documents …
const SINK_BATCH_DOCS: usize = 1024;
/// … or this many bytes of text, whichever comes first (keeps memory bounded with huge documents).
const SINK_BATCH_BYTES: usize = 32 << 20;

impl DocumentSink {
    pub(super) fn new(writer: Box<dyn DocumentWriter>) -> Self {
        DocumentSink { writer, pending: Vec::new(), pending_bytes: 0, docs: 0, text_bytes: 0 }
    }

    /// Writes one document (buffered).
    pub fn push(&mut self, doc: Document) -> Result<()> {
        self.docs += 1;
        self.text_bytes += doc.text.len() as u64;
        self.pending_bytes += doc.text.len();
        self.pending.push(doc);
        if self.pending.len() >= SINK_BATCH_DOCS || self.pending_bytes >= SINK_BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Documents written so far.
    pub fn docs(&self) -> u64 {
        self.docs
    }

    fn flush(&mut self) -> Result<()> {
        self.writer.write(&self.pending)?;
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    /// Flushes and closes the file; returns (documents, bytes of text) written.
    pub(super) fn finish(mut self) -> Result<(u64, u64)> {
        self.flush()?;
        self.writer.finish()?;
        Ok((self.docs, self.text_bytes))
    }
}

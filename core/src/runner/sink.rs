//! [`DocumentSink`]: where a task writes documents, in batches, into one artifact.

use crate::document::Document;
use crate::error::{Error, Result};
use crate::format::{DocumentBatch, DocumentWriter};

/// Collects a task's output documents and writes them in batches.
///
/// Documents come one at a time ([`DocumentSink::push`]) or as rows of a batch read from a file in
/// sluice's schema ([`DocumentSink::push_batch`]); either way the writer gets the same batches, cut at the
/// same documents, so the file's bytes do not depend on which way they came.
pub struct DocumentSink {
    writer: Box<dyn DocumentWriter>,
    pending: Vec<Pending>,
    pending_docs: usize,
    pending_bytes: usize,
    docs: u64,
    text_bytes: u64,
}

/// Documents waiting to be written, in order.
enum Pending {
    Documents(Vec<Document>),
    Batch(DocumentBatch),
}

/// A batch is written when it holds this many documents …
const SINK_BATCH_DOCS: usize = 1024;
/// … or this many bytes of text, whichever comes first (keeps memory bounded with huge documents).
const SINK_BATCH_BYTES: usize = 32 << 20;

impl DocumentSink {
    pub(super) fn new(writer: Box<dyn DocumentWriter>) -> Self {
        DocumentSink { writer, pending: Vec::new(), pending_docs: 0, pending_bytes: 0, docs: 0, text_bytes: 0 }
    }

    /// Writes one document (buffered).
    pub fn push(&mut self, doc: Document) -> Result<()> {
        if self.count(doc.text.len()) {
            self.pending_document(doc);
            return self.flush();
        }
        self.pending_document(doc);
        Ok(())
    }

    /// Writes the documents of a batch (buffered), as pushing them one by one would.
    pub fn push_batch(&mut self, batch: DocumentBatch) -> Result<()> {
        let mut batch = batch;
        let mut row = 0;
        while row < batch.num_rows() {
            let full = self.count(batch.text().value_length(row) as usize);
            row += 1;
            if full {
                let (head, tail) = batch.split_at(row);
                self.pending.push(Pending::Batch(head));
                self.flush()?;
                (batch, row) = (tail, 0);
            }
        }
        if !batch.is_empty() {
            self.pending.push(Pending::Batch(batch));
        }
        Ok(())
    }

    /// Whether [`DocumentSink::push_batch`] writes a batch's columns as they are (Parquet) rather than
    /// decoding its documents (JSONL): a stage that changes documents pushes them as documents then.
    pub fn takes_batches(&self) -> bool {
        self.writer.takes_batches()
    }

    /// Documents written so far.
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// Counts one more document with this much text; whether the pending batch is full with it.
    fn count(&mut self, text_bytes: usize) -> bool {
        self.docs += 1;
        self.text_bytes += text_bytes as u64;
        self.pending_docs += 1;
        self.pending_bytes += text_bytes;
        self.pending_docs >= SINK_BATCH_DOCS || self.pending_bytes >= SINK_BATCH_BYTES
    }

    fn pending_document(&mut self, doc: Document) {
        match self.pending.last_mut() {
            Some(Pending::Documents(docs)) => docs.push(doc),
            _ => self.pending.push(Pending::Documents(vec![doc])),
        }
    }

    fn flush(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.pending_docs = 0;
        self.pending_bytes = 0;
        if self.writer.takes_batches() && pending.iter().any(|p| matches!(p, Pending::Batch(_))) {
            // Documents between batches (rows a reader could not hand out as a batch) join them as a batch
            // built as the writer would build it from them.
            let mut parts = Vec::with_capacity(pending.len());
            for part in pending {
                parts.push(match part {
                    Pending::Batch(batch) => batch,
                    Pending::Documents(docs) => {
                        DocumentBatch::from_documents(docs).map_err(|e| Error::Other(e.to_string()))?
                    }
                });
            }
            let batch = DocumentBatch::concat(parts).map_err(|e| Error::Other(e.to_string()))?;
            return self.writer.write_batch(&batch);
        }
        // Documents only, or a writer that takes documents (JSONL): all as documents.
        let mut docs = Vec::new();
        for part in pending {
            match part {
                Pending::Documents(d) => docs.extend(d),
                Pending::Batch(b) => docs.extend(b.documents().map_err(|e| Error::Other(e.to_string()))?),
            }
        }
        self.writer.write(&docs)
    }

    /// Flushes and closes the file; returns (documents, bytes of text) written.
    pub(super) fn finish(mut self) -> Result<(u64, u64)> {
        self.flush()?;
        self.writer.finish()?;
        Ok((self.docs, self.text_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{create_writer, open_reader, write_all, Format, Records};
    use crate::store::Location;
    use serde_json::json;

    /// Documents with what makes writing them hard: attributes nested and scalar in either order, a key
    /// whose type changes after the first batch, floats, empty and missing fields. (Floats that serde_json
    /// reads back exactly: see `a_float_that_does_not_read_back_exactly_sends_its_batch_as_documents`.)
    fn documents(n: usize) -> Vec<Document> {
        (0..n)
            .map(|i| {
                let mut doc = Document::from_text(format!("page {i}\n{}", "words ".repeat(i % 50)), None);
                if i % 4 != 0 {
                    doc.url = Some(format!("http://example.org/{i}"));
                }
                if i % 5 != 0 {
                    doc.metadata.insert("WARC-Type".into(), json!("response"));
                    doc.metadata.insert("score".into(), json!(i as f64 / 8.0));
                }
                if i % 3 == 0 {
                    doc.attributes.insert("lang".into(), json!({"en": 0.5 + (i % 16) as f64 / 64.0}));
                }
                doc.attributes.insert("words".into(), if i > 1500 && i % 2 == 0 { json!("many") } else { json!(i) });
                if i % 7 == 0 {
                    doc.extra.insert("added".into(), json!("2023-01-01"));
                }
                doc
            })
            .collect()
    }

    fn sink(path: &std::path::Path, format: Format) -> DocumentSink {
        let file = std::fs::File::create(path).unwrap();
        DocumentSink::new(create_writer(format, file, "test").unwrap())
    }

    /// Reads `input` and writes each batch twice, as documents and as the reader hands it out (batches
    /// and documents), through `change` (which gets each document and says whether it is kept): the files
    /// must be byte-identical. Returns how many runs came as batches and as documents.
    fn assert_same_bytes(
        input: &Location,
        format: Format,
        change: impl Fn(usize, &mut Document) -> bool,
    ) -> (usize, usize) {
        let dir = tempfile::tempdir().unwrap();
        let (by_docs, by_batch) = (dir.path().join("docs"), dir.path().join("batch"));
        let (mut docs_sink, mut batch_sink) = (sink(&by_docs, format), sink(&by_batch, format));
        let mut reader = open_reader(input).unwrap();
        let mut row = 0;
        let mut runs = (0, 0);
        while let Some(records) = reader.next_records().unwrap() {
            let batch = match records {
                Records::Batch(batch) => batch,
                Records::Documents(docs) => {
                    runs.1 += 1;
                    for mut doc in docs {
                        let k = change(row, &mut doc);
                        row += 1;
                        if k {
                            docs_sink.push(doc.clone()).unwrap();
                            batch_sink.push(doc).unwrap();
                        }
                    }
                    continue;
                }
            };
            runs.0 += 1;
            let mut keep = Vec::new();
            let mut kept = Vec::new();
            for mut doc in batch.documents().unwrap() {
                let k = change(row, &mut doc);
                row += 1;
                keep.push(k);
                if k {
                    kept.push(doc.clone());
                    docs_sink.push(doc).unwrap();
                }
            }
            batch_sink.push_batch(batch.kept(&keep, kept).unwrap()).unwrap();
        }
        assert_eq!(docs_sink.finish().unwrap(), batch_sink.finish().unwrap());
        let (a, b) = (std::fs::read(&by_docs).unwrap(), std::fs::read(&by_batch).unwrap());
        assert!(a == b, "{format}: {} bytes as documents, {} as a batch", a.len(), b.len());
        runs
    }

    fn written(dir: &std::path::Path, docs: &[Document]) -> Location {
        let location = Location::parse(dir.join("in.parquet").to_str().unwrap()).unwrap();
        write_all(&location, Format::Parquet, docs).unwrap();
        location
    }

    #[test]
    fn batches_write_the_bytes_documents_write() {
        let dir = tempfile::tempdir().unwrap();
        let input = written(dir.path(), &documents(2600));
        for format in [Format::Parquet, Format::Jsonl(crate::format::Compression::None)] {
            // Everything kept as it is; every third dropped.
            assert_eq!(assert_same_bytes(&input, format, |_, _| true), (3, 0), "a file sluice wrote reads as batches");
            assert_same_bytes(&input, format, |i, _| i % 3 != 1);
        }
        // A stage that changes texts, moves URLs, adds attributes after a nested one, edits metadata.
        assert_same_bytes(&input, Format::Parquet, |i, doc| {
            if i % 5 == 2 {
                doc.text.push_str(" (edited)");
            }
            if i % 11 == 0 {
                doc.url = Some(format!("http://moved.example/{i}"));
            }
            doc.attributes.insert("language_id".into(), json!({"en": 0.93, "de": 0.01}));
            doc.attributes.insert("previous_word_count".into(), json!(i * 3));
            if i == 2000 {
                doc.metadata.insert("note".into(), json!(1.5));
            }
            i % 4 != 3
        });
    }

    #[test]
    fn rows_whose_json_would_change_on_writing_go_as_documents_between_batches() {
        // serde_json (without `float_roundtrip`) reads some floats one bit off, so writing such a row's
        // documents changes its JSON: those rows go as documents, the rest as batches, same bytes.
        let drifting = (1..1000)
            .map(|i| i as f64 / 997.0)
            .find(|x| serde_json::from_str::<f64>(&serde_json::to_string(x).unwrap()).unwrap() != *x)
            .expect("a float serde_json does not read back exactly");
        let mut docs = documents(2600);
        for i in (5..2600).step_by(97) {
            docs[i].metadata.insert("score".into(), json!(drifting));
        }
        let dir = tempfile::tempdir().unwrap();
        let input = written(dir.path(), &docs);
        let (batches, as_documents) = assert_same_bytes(&input, Format::Parquet, |i, _| i % 3 != 1);
        assert!(batches > 3 && as_documents == 27, "{batches} batch runs, {as_documents} document runs");
        assert_same_bytes(&input, Format::Jsonl(crate::format::Compression::Zstd), |_, _| true);
        assert_same_bytes(&input, Format::Parquet, |i, doc| {
            doc.attributes.insert("language_id".into(), json!({"en": drifting}));
            i % 5 != 0
        });
    }

    #[test]
    fn a_huge_batch_is_cut_where_documents_would_be() {
        // 32 MB of text is reached inside a batch: the cut falls on the same document either way.
        let dir = tempfile::tempdir().unwrap();
        let big = "x".repeat(3 << 20);
        let docs: Vec<Document> = (0..30).map(|i| Document::from_text(format!("{i} {big}"), None)).collect();
        let input = written(dir.path(), &docs);
        assert_same_bytes(&input, Format::Parquet, |i, _| i != 4);
    }

    #[test]
    fn documents_and_batches_mix_in_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let docs = documents(3000);
        let input = written(dir.path(), &docs);
        let (by_docs, mixed) = (dir.path().join("docs.parquet"), dir.path().join("mixed.parquet"));
        let (mut a, mut b) = (sink(&by_docs, Format::Parquet), sink(&mixed, Format::Parquet));
        let mut reader = open_reader(&input).unwrap();
        let mut n = 0;
        while let Some(Records::Batch(batch)) = reader.next_records().unwrap() {
            let decoded = batch.documents().unwrap();
            decoded.iter().cloned().for_each(|d| a.push(d).unwrap());
            if n % 2 == 0 {
                b.push_batch(batch).unwrap();
            } else {
                decoded.into_iter().for_each(|d| b.push(d).unwrap());
            }
            n += 1;
        }
        assert_eq!(a.finish().unwrap(), b.finish().unwrap());
        assert_eq!(std::fs::read(&by_docs).unwrap(), std::fs::read(&mixed).unwrap());
        assert_eq!(crate::format::read_all(&Location::parse(mixed.to_str().unwrap()).unwrap()).unwrap(), {
            let mut expected = crate::format::read_all(&input).unwrap();
            expected.truncate(3000);
            expected
        });
    }
}

//! Document file formats: Parquet (zstd; the default between stages) and JSONL, plain or compressed with
//! gzip or zstd, using DCLM's and dolma's field names (`text`, `url`, `metadata`, …).
//!
//! Readers stream: memory is bounded by the batch size, not the file size. A bad line in a JSONL file is
//! counted (see [`DocumentReader::skipped`]) and skipped, never fatal.
//!
//! Besides documents, a reader of a file in sluice's own schema hands out its record batches as they are
//! ([`DocumentReader::next_records`], [`DocumentBatch`]) and the Parquet writer takes them
//! ([`DocumentWriter::write_batch`]), so a stage that drops documents or changes a few fields copies no
//! unchanged text into documents and back; the bytes written are the same either way.

mod batch;
mod canonical_json;
mod jsonl;
mod parquet;

use std::collections::BTreeMap;
use std::fs::File;

use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::error::{Error, Result};
use crate::store::Location;

pub use batch::DocumentBatch;
pub use jsonl::{document_from_json, document_to_json};
pub use parquet::{parquet_attribute_values, parquet_document_count, parquet_file_schema};

/// Documents per batch when reading.
pub const READ_BATCH_ROWS: usize = 1024;

/// Compression of a JSONL file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A document file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Jsonl(Compression),
}

impl Format {
    /// The format of a file, from its name (`.parquet`, `.jsonl`, `.json`, `.jsonl.gz`, `.json.gz`,
    /// `.jsonl.zst`, `.jsonl.zstd`, `.json.zst`).
    pub fn from_path(name: &str) -> Option<Format> {
        let name = name.to_ascii_lowercase();
        if name.ends_with(".parquet") {
            return Some(Format::Parquet);
        }
        let (stem, compression) = if let Some(stem) = name.strip_suffix(".gz") {
            (stem, Compression::Gzip)
        } else if let Some(stem) = name.strip_suffix(".zst").or_else(|| name.strip_suffix(".zstd")) {
            (stem, Compression::Zstd)
        } else {
            (name.as_str(), Compression::None)
        };
        (stem.ends_with(".jsonl") || stem.ends_with(".json")).then_some(Format::Jsonl(compression))
    }

    /// The file-name extension sluice writes for this format.
    pub fn extension(&self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Jsonl(Compression::None) => "jsonl",
            Format::Jsonl(Compression::Gzip) => "jsonl.gz",
            Format::Jsonl(Compression::Zstd) => "jsonl.zst",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::from_path(&format!("x.{s}"))
            .ok_or_else(|| format!("unknown format '{s}' (expected parquet, jsonl, jsonl.gz or jsonl.zst)"))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.extension())
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One batch of a document file: its record batch when the file holds documents in sluice's own
/// schema, else its documents.
#[derive(Debug)]
pub enum Records {
    Batch(DocumentBatch),
    Documents(Vec<Document>),
}

impl Records {
    /// The documents (decoded from the batch if need be).
    pub fn into_documents(self) -> Result<Vec<Document>> {
        match self {
            Records::Batch(batch) => {
                batch.documents().map_err(|e| Error::Other(format!("decoding a document batch: {e}")))
            }
            Records::Documents(docs) => Ok(docs),
        }
    }

    /// The number of documents.
    pub fn len(&self) -> usize {
        match self {
            Records::Batch(batch) => batch.num_rows(),
            Records::Documents(docs) => docs.len(),
        }
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A streaming source of document batches.
pub trait DocumentReader: Send {
    /// The next batch, or `None` at the end of the file.
    fn next_batch(&mut self) -> Result<Option<Vec<Document>>>;
    /// The next documents: rows in sluice's own schema and form (Parquet that sluice wrote) as a
    /// [`DocumentBatch`], other rows as documents; one batch of the file may come as several runs, in
    /// order. The same documents, skips and repairs as [`DocumentReader::next_batch`]. Do not mix the two
    /// on one reader.
    fn next_records(&mut self) -> Result<Option<Records>> {
        Ok(self.next_batch()?.map(Records::Documents))
    }
    /// Records skipped so far because they could not be read, by kind (e.g. `jsonl_invalid_json`).
    fn skipped(&self) -> &BTreeMap<String, u64>;
    /// Records read after a repair, by kind (e.g. `jsonl_lone_surrogates_replaced`).
    fn repaired(&self) -> &BTreeMap<String, u64>;
}

/// A sink of documents into one file.
pub trait DocumentWriter: Send {
    fn write(&mut self, docs: &[Document]) -> Result<()>;
    /// Writes the documents of a batch: the same bytes as [`DocumentWriter::write`] of its documents.
    fn write_batch(&mut self, batch: &DocumentBatch) -> Result<()> {
        let docs = batch.documents().map_err(|e| Error::Other(format!("decoding a document batch: {e}")))?;
        self.write(&docs)
    }
    /// Whether [`DocumentWriter::write_batch`] writes the batch's columns (Parquet) rather than decoding
    /// its documents (JSONL).
    fn takes_batches(&self) -> bool {
        false
    }
    /// Flushes and closes the file.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Opens a document file for streaming reads; the format comes from the file name.
pub fn open_reader(location: &Location) -> Result<Box<dyn DocumentReader>> {
    let name = location.file_name().to_string();
    match Format::from_path(&name) {
        Some(Format::Parquet) => parquet::ParquetReader::open(location).map(|r| Box::new(r) as Box<dyn DocumentReader>),
        Some(Format::Jsonl(compression)) => {
            jsonl::JsonlReader::open(location, compression).map(|r| Box::new(r) as Box<dyn DocumentReader>)
        }
        None => Err(Error::Other(format!(
            "{location}: not a document file (expected .parquet, .jsonl, .jsonl.gz or .jsonl.zst)"
        ))),
    }
}

/// Creates a writer of `format` into `file`; `name` is used in error messages.
pub fn create_writer(format: Format, file: File, name: &str) -> Result<Box<dyn DocumentWriter>> {
    match format {
        Format::Parquet => Ok(Box::new(parquet::ParquetWriter::new(file, name)?)),
        Format::Jsonl(compression) => Ok(Box::new(jsonl::JsonlWriter::new(file, compression, name)?)),
    }
}

/// The values of attribute `key` in a document file: for Parquet only the columns that hold it are read.
pub fn attribute_values(location: &Location, key: &str) -> Result<Vec<serde_json::Value>> {
    if Format::from_path(location.file_name()) == Some(Format::Parquet) {
        return parquet_attribute_values(location, key);
    }
    Ok(read_all(location)?.into_iter().filter_map(|mut d| d.attributes.remove(key)).collect())
}

/// Reads a whole document file (small files and tests).
pub fn read_all(location: &Location) -> Result<Vec<Document>> {
    let mut reader = open_reader(location)?;
    let mut docs = Vec::new();
    while let Some(batch) = reader.next_batch()? {
        docs.extend(batch);
    }
    Ok(docs)
}

/// Writes documents to `location` in `format` (small files and tests); atomic on every store.
pub fn write_all(location: &Location, format: Format, docs: &[Document]) -> Result<()> {
    let tmp = tempfile::NamedTempFile::new().map_err(|e| Error::io("temporary file", e))?;
    let file = tmp.reopen().map_err(|e| Error::io("temporary file", e))?;
    let mut writer = create_writer(format, file, &location.to_string())?;
    // In batches, as the stage runner writes (a Parquet file's typed columns come from its first batch).
    for batch in docs.chunks(READ_BATCH_ROWS) {
        writer.write(batch)?;
    }
    writer.finish()?;
    location.put_file(tmp.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_file_names() {
        assert_eq!(Format::from_path("a/b.parquet"), Some(Format::Parquet));
        assert_eq!(Format::from_path("x.jsonl.gz"), Some(Format::Jsonl(Compression::Gzip)));
        assert_eq!(Format::from_path("x.json.zst"), Some(Format::Jsonl(Compression::Zstd)));
        assert_eq!(Format::from_path("X.JSONL"), Some(Format::Jsonl(Compression::None)));
        assert_eq!(Format::from_path("x.warc.gz"), None);
        assert_eq!("jsonl.zst".parse::<Format>().unwrap(), Format::Jsonl(Compression::Zstd));
        assert!("csv".parse::<Format>().is_err());
    }

    #[test]
    fn counts_and_attributes_come_from_the_columns_that_hold_them() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::parse(dir.path().join("d.parquet").to_str().unwrap()).unwrap();
        let mut docs: Vec<Document> = (0..2500).map(|i| Document::from_text(format!("doc {i}"), None)).collect();
        for (i, doc) in docs.iter_mut().enumerate() {
            if i % 3 != 0 {
                doc.attributes.insert("q".into(), serde_json::json!(i as f64 / 10.0));
            }
        }
        // Past the first batch, one value of another type: it overflows into the JSON column.
        docs[2000].attributes.insert("q".into(), serde_json::json!("high"));
        write_all(&location, Format::Parquet, &docs).unwrap();
        assert_eq!(parquet_document_count(&location).unwrap(), Some(2500));
        let values = attribute_values(&location, "q").unwrap();
        let expected: Vec<serde_json::Value> = docs.iter().filter_map(|d| d.attributes.get("q").cloned()).collect();
        assert_eq!(values, expected);
        assert_eq!(read_all(&location).unwrap(), docs);
        let schema = parquet_file_schema(&location).unwrap();
        assert_eq!(schema.field_with_name("attr_q").unwrap().data_type(), &arrow_schema::DataType::Float64);
    }
}

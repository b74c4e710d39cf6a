//! Parquet document files (zstd-compressed, the sluice document schema).

use std::collections::BTreeMap;
use std::fs::File;

use arrow_array::{RecordBatch, RecordBatchReader};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{DocumentReader, DocumentWriter, READ_BATCH_ROWS};
use crate::attributes::AttributeColumns;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::schema::{batch_to_documents, documents_to_batch_with, schema_with};
use crate::store::Location;

/// Rows per Parquet row group: large enough for good compression, small enough that a reader holding one
/// row group stays within a few hundred MB even for long documents.
const ROW_GROUP_ROWS: usize = 8192;

pub struct ParquetReader {
    name: String,
    batches: ParquetRecordBatchReader,
    /// For a remote object: the local copy being read (Parquet needs random access; a local copy keeps
    /// memory bounded by the batch size whatever the file size). Deleted on drop.
    _local_copy: Option<tempfile::NamedTempFile>,
    skipped: BTreeMap<String, u64>,
    repaired: BTreeMap<String, u64>,
}

impl ParquetReader {
    pub fn open(location: &Location) -> Result<Self> {
        let name = location.to_string();
        let (file, local_copy) = match location.local_path() {
            Some(path) => (File::open(path).map_err(|e| Error::io(&name, e))?, None),
            None => {
                let mut copy = tempfile::NamedTempFile::new().map_err(|e| Error::io("temporary file", e))?;
                let mut source = location.open_read()?;
                std::io::copy(&mut source, copy.as_file_mut()).map_err(|e| Error::io(&name, e))?;
                (copy.reopen().map_err(|e| Error::io(&name, e))?, Some(copy))
            }
        };
        let batches = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(READ_BATCH_ROWS).build())
            .map_err(|e| Error::parquet(&name, e))?;
        Ok(ParquetReader {
            name,
            batches,
            _local_copy: local_copy,
            skipped: BTreeMap::new(),
            repaired: BTreeMap::new(),
        })
    }

    fn next_record_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.batches.next().transpose().map_err(|e| Error::arrow(&self.name, e))
    }
}

impl DocumentReader for ParquetReader {
    fn next_batch(&mut self) -> Result<Option<Vec<Document>>> {
        // A batch whose rows all had a null text decodes to no document: read on.
        loop {
            let Some(batch) = self.next_record_batch()? else { return Ok(None) };
            let decoded = batch_to_documents(&batch)
                .map_err(|e| Error::Schema { location: self.name.clone(), reason: e.to_string() })?;
            for (target, source) in [(&mut self.skipped, decoded.skipped), (&mut self.repaired, decoded.repaired)] {
                for (kind, n) in source {
                    *target.entry(kind).or_default() += n;
                }
            }
            if !decoded.docs.is_empty() {
                return Ok(Some(decoded.docs));
            }
        }
    }

    fn skipped(&self) -> &BTreeMap<String, u64> {
        &self.skipped
    }

    fn repaired(&self) -> &BTreeMap<String, u64> {
        &self.repaired
    }
}

/// The Arrow schema stored in a Parquet file (which may not be sluice's own).
pub fn parquet_file_schema(location: &Location) -> Result<arrow_schema::SchemaRef> {
    Ok(ParquetReader::open(location)?.batches.schema())
}

/// Writes document batches to one Parquet file. The file's schema — which attributes get typed columns —
/// is fixed by its first batch (see [`crate::attributes`]), so the writer opens lazily.
pub struct ParquetWriter {
    name: String,
    file: Option<File>,
    writer: Option<(ArrowWriter<File>, AttributeColumns)>,
}

impl ParquetWriter {
    pub fn new(file: File, name: &str) -> Result<Self> {
        Ok(ParquetWriter { name: name.to_string(), file: Some(file), writer: None })
    }

    fn open(&mut self, attributes: AttributeColumns) -> Result<()> {
        let level = ZstdLevel::try_new(3).map_err(|e| Error::parquet(&self.name, e))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let file = self.file.take().ok_or_else(|| Error::Other(format!("{}: writer already open", self.name)))?;
        let writer = ArrowWriter::try_new(file, schema_with(&attributes), Some(properties))
            .map_err(|e| Error::parquet(&self.name, e))?;
        self.writer = Some((writer, attributes));
        Ok(())
    }
}

impl DocumentWriter for ParquetWriter {
    fn write(&mut self, docs: &[Document]) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        if self.writer.is_none() {
            self.open(AttributeColumns::infer(docs))?;
        }
        let Some((writer, attributes)) = self.writer.as_mut() else { return Ok(()) };
        let batch = documents_to_batch_with(docs, attributes).map_err(|e| Error::arrow(&self.name, e))?;
        writer.write(&batch).map_err(|e| Error::parquet(&self.name, e))
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if self.writer.is_none() {
            self.open(AttributeColumns::default())?;
        }
        let name = self.name;
        match self.writer {
            Some((writer, _)) => writer.close().map(|_| ()).map_err(|e| Error::parquet(&name, e)),
            None => Ok(()),
        }
    }
}

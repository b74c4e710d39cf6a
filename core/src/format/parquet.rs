//! Parquet document files (zstd-compressed, the sluice document schema).

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;

use arrow_array::{Array, BooleanArray, RecordBatch, RecordBatchReader};
use arrow_select::filter::filter_record_batch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::batch::canonical_runs;
use super::{DocumentBatch, DocumentReader, DocumentWriter, Records, READ_BATCH_ROWS};
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
    metadata: Option<std::sync::Arc<parquet::file::metadata::ParquetMetaData>>,
    batches: ParquetRecordBatchReader,
    /// For a remote object: the local copy being read (Parquet needs random access; a local copy keeps
    /// memory bounded by the batch size whatever the file size). Deleted on drop.
    _local_copy: Option<tempfile::NamedTempFile>,
    skipped: BTreeMap<String, u64>,
    repaired: BTreeMap<String, u64>,
    /// Runs of one batch not handed out yet by [`DocumentReader::next_records`].
    queued: VecDeque<Records>,
}

impl ParquetReader {
    /// The file to read: the object itself on local disk, else a local copy (Parquet needs random access;
    /// a copy keeps memory bounded by the batch size whatever the file size), deleted when dropped.
    fn local_file(location: &Location) -> Result<(File, Option<tempfile::NamedTempFile>)> {
        let name = location.to_string();
        Ok(match location.local_path() {
            Some(path) => (File::open(path).map_err(|e| Error::io(&name, e))?, None),
            None => {
                let mut copy = tempfile::NamedTempFile::new().map_err(|e| Error::io("temporary file", e))?;
                let mut source = location.open_read()?;
                std::io::copy(&mut source, copy.as_file_mut()).map_err(|e| Error::io(&name, e))?;
                (copy.reopen().map_err(|e| Error::io(&name, e))?, Some(copy))
            }
        })
    }

    fn batches_metadata(&self) -> Option<std::sync::Arc<parquet::file::metadata::ParquetMetaData>> {
        self.metadata.clone()
    }

    pub fn open(location: &Location) -> Result<Self> {
        let name = location.to_string();
        let (file, local_copy) = Self::local_file(location)?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::parquet(&name, e))?;
        let metadata = Some(builder.metadata().clone());
        let batches = builder.with_batch_size(READ_BATCH_ROWS).build().map_err(|e| Error::parquet(&name, e))?;
        Ok(ParquetReader {
            name,
            metadata,
            batches,
            _local_copy: local_copy,
            skipped: BTreeMap::new(),
            repaired: BTreeMap::new(),
            queued: VecDeque::new(),
        })
    }

    fn next_record_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.batches.next().transpose().map_err(|e| Error::arrow(&self.name, e))
    }

    /// The documents of a batch, counting the rows skipped or repaired.
    fn decode(&mut self, batch: &RecordBatch) -> Result<Vec<Document>> {
        let decoded = batch_to_documents(batch)
            .map_err(|e| Error::Schema { location: self.name.clone(), reason: e.to_string() })?;
        for (target, source) in [(&mut self.skipped, decoded.skipped), (&mut self.repaired, decoded.repaired)] {
            for (kind, n) in source {
                *target.entry(kind).or_default() += n;
            }
        }
        Ok(decoded.docs)
    }

    /// The batch without its rows whose text is null (not documents: counted as `parquet_null_text`, as
    /// [`batch_to_documents`] counts them).
    fn without_null_texts(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let Some(nulls) = batch.column_by_name("text").and_then(|t| t.logical_nulls()) else { return Ok(batch) };
        if nulls.null_count() == 0 {
            return Ok(batch);
        }
        *self.skipped.entry("parquet_null_text".into()).or_default() += nulls.null_count() as u64;
        let keep = BooleanArray::new(nulls.inner().clone(), None);
        filter_record_batch(&batch, &keep).map_err(|e| Error::arrow(&self.name, e))
    }
}

impl DocumentReader for ParquetReader {
    fn next_batch(&mut self) -> Result<Option<Vec<Document>>> {
        if let Some(records) = self.queued.pop_front() {
            return records.into_documents().map(Some);
        }
        // A batch whose rows all had a null text decodes to no document: read on.
        loop {
            let Some(batch) = self.next_record_batch()? else { return Ok(None) };
            let docs = self.decode(&batch)?;
            if !docs.is_empty() {
                return Ok(Some(docs));
            }
        }
    }

    fn next_records(&mut self) -> Result<Option<Records>> {
        loop {
            if let Some(records) = self.queued.pop_front() {
                return Ok(Some(records));
            }
            let Some(batch) = self.next_record_batch()? else { return Ok(None) };
            let batch = self.without_null_texts(batch)?;
            // Canonical runs of rows go as batches, the rows between them as documents, in order.
            for run in canonical_runs(batch) {
                match run {
                    Ok(batch) => self.queued.push_back(Records::Batch(batch)),
                    Err(batch) => {
                        let docs = self.decode(&batch)?;
                        if !docs.is_empty() {
                            self.queued.push_back(Records::Documents(docs));
                        }
                    }
                }
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

/// The number of documents in a Parquet file from its footer alone (rows minus null texts, from the
/// column statistics); `None` when the statistics do not say, and the file must be read.
pub fn parquet_document_count(location: &Location) -> Result<Option<u64>> {
    let reader = ParquetReader::open(location)?;
    let metadata = reader.batches_metadata();
    let Some(metadata) = metadata else { return Ok(None) };
    let schema = metadata.file_metadata().schema_descr();
    let Some(text) = (0..schema.num_columns()).find(|i| schema.column(*i).path().string() == "text") else {
        return Ok(None);
    };
    let mut documents = 0u64;
    for group in metadata.row_groups() {
        let nulls = group.column(text).statistics().and_then(|s| s.null_count_opt());
        let Some(nulls) = nulls else { return Ok(None) };
        documents += group.num_rows() as u64 - nulls;
    }
    Ok(Some(documents))
}

/// The values of attribute `key` in a Parquet file, reading only its typed column (`attr_<key>`) and
/// the JSON `attributes` column (for values that did not fit it, and files written before typed columns).
pub fn parquet_attribute_values(location: &Location, key: &str) -> Result<Vec<serde_json::Value>> {
    let name = location.to_string();
    let file = ParquetReader::local_file(location)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file.0).map_err(|e| Error::parquet(&name, e))?;
    let schema = builder.parquet_schema();
    let wanted = [format!("{}{key}", crate::attributes::ATTRIBUTE_PREFIX), "attributes".to_string()];
    let roots: Vec<usize> = (0..schema.num_columns())
        .filter(|i| wanted.iter().any(|w| schema.column(*i).path().parts().first() == Some(w)))
        .map(|i| schema.get_column_root_idx(i))
        .collect();
    let mask = parquet::arrow::ProjectionMask::roots(schema, roots);
    let batches =
        builder.with_projection(mask).with_batch_size(READ_BATCH_ROWS).build().map_err(|e| Error::parquet(&name, e))?;
    let mut values = Vec::new();
    for batch in batches {
        let batch = batch.map_err(|e| Error::arrow(&name, e))?;
        let typed = batch
            .column_by_name(&wanted[0])
            .map(crate::attributes::normalise_attribute_array)
            .transpose()
            .map_err(|e| Error::arrow(&name, e))?;
        let json = batch
            .column_by_name("attributes")
            .map(|a| arrow_cast::cast(a, &arrow_schema::DataType::Utf8))
            .transpose()
            .map_err(|e| Error::arrow(&name, e))?;
        let json = json.as_ref().and_then(|a| a.as_any().downcast_ref::<arrow_array::StringArray>());
        for row in 0..batch.num_rows() {
            if let Some(value) = typed.as_ref().and_then(|a| crate::attributes::attribute_value(a, row)) {
                values.push(value);
            } else if let Some(object) = json.filter(|a| !arrow_array::Array::is_null(*a, row)) {
                if let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(object.value(row)) {
                    if let Some(value) = map.remove(key) {
                        values.push(value);
                    }
                }
            }
        }
    }
    Ok(values)
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

    fn write_batch(&mut self, batch: &DocumentBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.writer.is_none() {
            // As for documents: the attributes of the first batch, in order, fix the file's columns.
            let attributes = batch.attributes().map_err(|e| Error::arrow(&self.name, e))?;
            self.open(AttributeColumns::infer_maps(&attributes))?;
        }
        let Some((writer, attributes)) = self.writer.as_mut() else { return Ok(()) };
        let batch = batch.to_record_batch(attributes).map_err(|e| Error::arrow(&self.name, e))?;
        writer.write(&batch).map_err(|e| Error::parquet(&self.name, e))
    }

    fn takes_batches(&self) -> bool {
        true
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

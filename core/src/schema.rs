//! The Arrow schema of a document batch, and conversion between [`Document`]s and `RecordBatch`es.
//!
//! | column | type | null? | notes |
//! |---|---|---|---|
//! | `id` | Utf8 | no | stable id (see [`crate::document`]) |
//! | `text` | Utf8 | no | |
//! | `url`, `source`, `warc_record_id`, `warc_date`, `content_type`, `language`, `title`, `description`, `canonical_url`, `warcinfo` | Utf8 | yes | |
//! | `metadata`, `attributes`, `extra` | Utf8 | yes | a JSON object, null when empty |
//!
//! The JSON-object columns are plain strings so that any Parquet reader (DuckDB, pandas, DataFusion) can read
//! sluice's shards, and free-form metadata never forces a schema change.

use std::sync::{Arc, OnceLock};

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use crate::document::{Document, JsonMap};

/// Optional string columns, in schema order after `id` and `text`.
const OPTIONAL_COLUMNS: [&str; 10] = [
    "url",
    "source",
    "warc_record_id",
    "warc_date",
    "content_type",
    "language",
    "title",
    "description",
    "canonical_url",
    "warcinfo",
];
/// JSON-object columns, in schema order after the optional strings.
const JSON_COLUMNS: [&str; 3] = ["metadata", "attributes", "extra"];

/// The document schema (one shared instance).
pub fn document_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut fields = vec![Field::new("id", DataType::Utf8, false), Field::new("text", DataType::Utf8, false)];
            fields.extend(OPTIONAL_COLUMNS.iter().map(|n| Field::new(*n, DataType::Utf8, true)));
            fields.extend(JSON_COLUMNS.iter().map(|n| Field::new(*n, DataType::Utf8, true)));
            Arc::new(Schema::new(fields))
        })
        .clone()
}

fn optional_fields(doc: &Document) -> [&Option<String>; 10] {
    [
        &doc.url,
        &doc.source,
        &doc.warc_record_id,
        &doc.warc_date,
        &doc.content_type,
        &doc.language,
        &doc.title,
        &doc.description,
        &doc.canonical_url,
        &doc.warcinfo,
    ]
}

fn optional_fields_mut(doc: &mut Document) -> [&mut Option<String>; 10] {
    [
        &mut doc.url,
        &mut doc.source,
        &mut doc.warc_record_id,
        &mut doc.warc_date,
        &mut doc.content_type,
        &mut doc.language,
        &mut doc.title,
        &mut doc.description,
        &mut doc.canonical_url,
        &mut doc.warcinfo,
    ]
}

fn json_fields(doc: &Document) -> [&JsonMap; 3] {
    [&doc.metadata, &doc.attributes, &doc.extra]
}

fn json_fields_mut(doc: &mut Document) -> [&mut JsonMap; 3] {
    [&mut doc.metadata, &mut doc.attributes, &mut doc.extra]
}

/// Builds one `RecordBatch` from documents.
pub fn documents_to_batch(docs: &[Document]) -> Result<RecordBatch, ArrowError> {
    let text_bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let mut id = StringBuilder::with_capacity(docs.len(), docs.len() * 36);
    let mut text = StringBuilder::with_capacity(docs.len(), text_bytes);
    let mut optional: Vec<StringBuilder> = OPTIONAL_COLUMNS.iter().map(|_| StringBuilder::new()).collect();
    let mut json: Vec<StringBuilder> = JSON_COLUMNS.iter().map(|_| StringBuilder::new()).collect();
    for doc in docs {
        id.append_value(&doc.id);
        text.append_value(&doc.text);
        for (builder, value) in optional.iter_mut().zip(optional_fields(doc)) {
            builder.append_option(value.as_deref());
        }
        for (builder, map) in json.iter_mut().zip(json_fields(doc)) {
            if map.is_empty() {
                builder.append_null();
            } else {
                let encoded = serde_json::to_string(map).map_err(|e| ArrowError::JsonError(e.to_string()))?;
                builder.append_value(encoded);
            }
        }
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(id.finish()), Arc::new(text.finish())];
    columns.extend(optional.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.extend(json.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(document_schema(), columns)
}

/// Reads documents back from a batch. Only `text` is required; a missing `id` is derived from the content
/// (rule 3 in [`crate::document`]), other missing columns are left empty, unknown columns are ignored.
pub fn batch_to_documents(batch: &RecordBatch) -> Result<Vec<Document>, ArrowError> {
    let column = |name: &str| -> Result<Option<&StringArray>, ArrowError> {
        match batch.column_by_name(name) {
            None => Ok(None),
            Some(array) => array.as_any().downcast_ref::<StringArray>().map(Some).ok_or_else(|| {
                ArrowError::SchemaError(format!("column '{name}' is {}, expected Utf8", array.data_type()))
            }),
        }
    };
    let text = column("text")?.ok_or_else(|| ArrowError::SchemaError("no 'text' column".into()))?;
    let id = column("id")?;
    let optional = OPTIONAL_COLUMNS.iter().map(|n| column(n)).collect::<Result<Vec<_>, _>>()?;
    let json = JSON_COLUMNS.iter().map(|n| column(n)).collect::<Result<Vec<_>, _>>()?;

    let value_at = |array: Option<&StringArray>, row: usize| -> Option<String> {
        array.filter(|a| a.is_valid(row)).map(|a| a.value(row).to_string())
    };
    let mut docs = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut doc = Document { text: value_at(Some(text), row).unwrap_or_default(), ..Default::default() };
        for (slot, array) in optional_fields_mut(&mut doc).into_iter().zip(&optional) {
            *slot = value_at(*array, row);
        }
        for ((slot, array), name) in json_fields_mut(&mut doc).into_iter().zip(&json).zip(JSON_COLUMNS) {
            if let Some(encoded) = value_at(*array, row) {
                *slot = serde_json::from_str(&encoded)
                    .map_err(|e| ArrowError::JsonError(format!("row {row}, column '{name}': {e}")))?;
            }
        }
        doc.id = match value_at(id, row) {
            Some(id) => id,
            None => crate::document::content_id(doc.url.as_deref(), &doc.text),
        };
        docs.push(doc);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_round_trip_through_a_batch() {
        let mut a = Document::from_text("first page\nwith two lines", Some("http://a.example/".into()));
        a.warc_date = Some("2020-08-08T17:00:00Z".into());
        a.metadata.insert("WARC-Type".into(), json!("response"));
        a.attributes.insert("score".into(), json!(0.5));
        let b = Document::from_text("ünïcödé — 日本語", None);
        let batch = documents_to_batch(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(batch.schema(), document_schema());
        assert_eq!(batch_to_documents(&batch).unwrap(), vec![a, b]);
    }
}

//! The Arrow schema of a document batch, and conversion between [`Document`]s and `RecordBatch`es.
//!
//! | column | type | null? | notes |
//! |---|---|---|---|
//! | `id` | Utf8 | no | stable id (see [`crate::document`]) |
//! | `text` | Utf8 | no | |
//! | `url`, `source`, `warc_record_id`, `warc_date`, `content_type`, `language`, `title`, `description`, `canonical_url`, `warcinfo` | Utf8 | yes | |
//! | `metadata`, `attributes`, `extra` | Utf8 | yes | a JSON object, null when empty |
//!
//! | `attr_<name>` | Boolean, Int64, Float64 or Utf8 | yes | one per scalar attribute (see [`crate::attributes`]) |
//!
//! The JSON-object columns are plain strings so that any Parquet reader (DuckDB, pandas, DataFusion) can read
//! sluice's shards, and free-form metadata never forces a schema change. Attributes that stages compute are
//! typed columns, so readers project and filter them; `attributes` holds only what does not fit one.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use serde_json::Value;

use crate::attributes::{attribute_name, attribute_value, normalise_attribute_array, AttributeColumns};
use crate::document::{Document, JsonMap};

/// Optional string columns, in schema order after `id` and `text`.
pub(crate) const OPTIONAL_COLUMNS: [&str; 10] = [
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
pub(crate) const JSON_COLUMNS: [&str; 3] = ["metadata", "attributes", "extra"];

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

pub(crate) fn optional_fields(doc: &Document) -> [&Option<String>; 10] {
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

fn json_fields_mut(doc: &mut Document) -> [&mut JsonMap; 3] {
    [&mut doc.metadata, &mut doc.attributes, &mut doc.extra]
}

/// The schema of a batch with these typed attribute columns (after the document columns).
pub fn schema_with(attributes: &AttributeColumns) -> SchemaRef {
    let base = document_schema();
    let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(attributes.fields());
    Arc::new(Schema::new(fields))
}

/// Builds one `RecordBatch` from documents, with typed columns for their scalar attributes.
pub fn documents_to_batch(docs: &[Document]) -> Result<RecordBatch, ArrowError> {
    documents_to_batch_with(docs, &AttributeColumns::infer(docs))
}

/// Builds one `RecordBatch` with the given attribute columns (a file's, fixed by its first batch);
/// attributes that do not fit them go to the `attributes` JSON column.
pub fn documents_to_batch_with(docs: &[Document], attributes: &AttributeColumns) -> Result<RecordBatch, ArrowError> {
    let text_bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let mut id = StringBuilder::with_capacity(docs.len(), docs.len() * 36);
    let mut text = StringBuilder::with_capacity(docs.len(), text_bytes);
    let mut optional: Vec<StringBuilder> = OPTIONAL_COLUMNS.iter().map(|_| StringBuilder::new()).collect();
    let mut json: Vec<StringBuilder> = JSON_COLUMNS.iter().map(|_| StringBuilder::new()).collect();
    let (typed, overflow) = attributes.build(docs);
    let mut scratch = Vec::new();
    for (doc, overflow) in docs.iter().zip(&overflow) {
        id.append_value(&doc.id);
        text.append_value(&doc.text);
        for (builder, value) in optional.iter_mut().zip(optional_fields(doc)) {
            builder.append_option(value.as_deref());
        }
        for (builder, map) in json.iter_mut().zip([&doc.metadata, overflow, &doc.extra]) {
            append_json(builder, map, &mut scratch)?;
        }
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(id.finish()), Arc::new(text.finish())];
    columns.extend(optional.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.extend(json.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.extend(typed);
    RecordBatch::try_new(schema_with(attributes), columns)
}

/// The JSON text sluice writes for an object (`None` when it is empty: written as null), into `out`.
pub(crate) fn json_text<'a>(map: &JsonMap, out: &'a mut Vec<u8>) -> Result<Option<&'a str>, ArrowError> {
    if map.is_empty() {
        return Ok(None);
    }
    out.clear();
    serde_json::to_writer(&mut *out, map).map_err(|e| ArrowError::JsonError(e.to_string()))?;
    // serde_json writes UTF-8.
    std::str::from_utf8(out).map(Some).map_err(|e| ArrowError::JsonError(e.to_string()))
}

/// Appends an object as sluice writes it: JSON text, or null when it is empty.
pub(crate) fn append_json(builder: &mut StringBuilder, map: &JsonMap, scratch: &mut Vec<u8>) -> Result<(), ArrowError> {
    builder.append_option(json_text(map, scratch)?);
    Ok(())
}

/// The attributes of one row as [`batch_to_documents`] reads them: the typed columns' values (in column
/// order), then the attributes that overflowed into the JSON column.
pub(crate) fn merge_attributes(typed: &[(String, ArrayRef)], row: usize, overflow: JsonMap) -> JsonMap {
    if typed.is_empty() {
        return overflow;
    }
    let mut attributes = JsonMap::new();
    for (name, array) in typed {
        if let Some(value) = attribute_value(array, row) {
            attributes.insert(name.clone(), value);
        }
    }
    attributes.extend(overflow);
    attributes
}

/// The attributes of every row of a batch whose `attributes` column holds JSON objects (or nulls), as
/// [`batch_to_documents`] reads them.
pub(crate) fn batch_attributes(batch: &RecordBatch) -> Result<Vec<JsonMap>, ArrowError> {
    let typed = typed_attribute_columns(batch)?;
    let overflow = json_column(batch, "attributes")?;
    let mut maps = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let object = match overflow.as_ref().and_then(|c| c.object_at(row)) {
            Some(Ok(object)) => object,
            Some(Err(_)) => return Err(ArrowError::JsonError(format!("row {row}: attributes is not an object"))),
            None => JsonMap::new(),
        };
        maps.push(merge_attributes(&typed, row, object));
    }
    Ok(maps)
}

/// Documents read from a batch, and rows that could not become documents, by reason.
#[derive(Debug, Default)]
pub struct DecodedBatch {
    pub docs: Vec<Document>,
    /// Rows skipped, by reason (`parquet_null_text`).
    pub skipped: BTreeMap<String, u64>,
    /// Rows read after a repair, by kind (`parquet_metadata_not_json`: the value is kept in `extra`).
    pub repaired: BTreeMap<String, u64>,
}

/// Reads documents back from a batch written by sluice or by the ecosystem (pandas/pyarrow, Spark,
/// DuckDB, datatrove, dolma). Only `text` is required, as any string type (`Utf8`, `LargeUtf8`,
/// `Utf8View`, dictionary-encoded); a row whose `text` is null is skipped and counted. The other known
/// columns are cast to strings; `metadata`, `attributes` and `extra` may be JSON text or nested Arrow
/// types (struct, map, list). Columns sluice does not model go to `extra`, so they are written back out.
/// A missing `id` is derived from the content (rule 3 in [`crate::document`]).
pub fn batch_to_documents(batch: &RecordBatch) -> Result<DecodedBatch, ArrowError> {
    let text_array = batch.column_by_name("text").ok_or_else(|| ArrowError::SchemaError("no 'text' column".into()))?;
    if !is_string_like(text_array.data_type()) {
        return Err(ArrowError::SchemaError(format!("column 'text' is {}, expected a string", text_array.data_type())));
    }
    let text = as_utf8(text_array)?;
    let id = batch.column_by_name("id").map(as_utf8).transpose()?;
    let optional = OPTIONAL_COLUMNS
        .iter()
        .map(|n| batch.column_by_name(n).map(as_utf8).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let json = JSON_COLUMNS.iter().map(|n| json_column(batch, n)).collect::<Result<Vec<_>, _>>()?;
    let typed = typed_attribute_columns(batch)?;
    let unknown = unknown_columns_as_json(batch)?;

    let mut decoded = DecodedBatch::default();
    for row in 0..batch.num_rows() {
        let Some(text) = value_at(Some(&text), row) else {
            *decoded.skipped.entry("parquet_null_text".into()).or_default() += 1;
            continue;
        };
        let mut doc = Document { text, ..Default::default() };
        for (slot, array) in optional_fields_mut(&mut doc).into_iter().zip(&optional) {
            *slot = value_at(array.as_ref(), row);
        }
        let mut not_objects = Vec::new();
        for ((slot, column), name) in json_fields_mut(&mut doc).into_iter().zip(&json).zip(JSON_COLUMNS) {
            match column.as_ref().and_then(|c| c.object_at(row)) {
                Some(Ok(object)) => *slot = object,
                Some(Err(raw)) => not_objects.push((name, raw)),
                None => {}
            }
        }
        // Typed columns first (in column order), then the attributes that overflowed into JSON.
        doc.attributes = merge_attributes(&typed, row, std::mem::take(&mut doc.attributes));
        for (name, raw) in not_objects {
            // Not a JSON object: keep the value verbatim rather than lose it.
            *decoded.repaired.entry(format!("parquet_{name}_not_an_object")).or_default() += 1;
            doc.extra.insert(name.to_string(), raw);
        }
        if let Some(rows) = &unknown {
            for (key, value) in &rows[row] {
                doc.extra.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        doc.id = match value_at(id.as_ref(), row) {
            Some(id) => id,
            None => crate::document::content_id(doc.url.as_deref(), &doc.text),
        };
        decoded.docs.push(doc);
    }
    Ok(decoded)
}

fn is_string_like(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_string_like(value),
        _ => false,
    }
}

fn is_nested(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Struct(_)
            | DataType::Map(..)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
    )
}

/// Any column as `Utf8`: strings of every encoding as they are, scalars formatted, nested values as JSON.
fn as_utf8(array: &ArrayRef) -> Result<StringArray, ArrowError> {
    if is_nested(array.data_type()) {
        let rows = column_json_rows(array)?;
        return Ok(rows.into_iter().map(|v| v.map(|v| v.to_string())).collect());
    }
    let cast = arrow_cast::cast(array, &DataType::Utf8)?;
    cast.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .ok_or_else(|| ArrowError::CastError(format!("cannot read {} as text", array.data_type())))
}

fn value_at(array: Option<&StringArray>, row: usize) -> Option<String> {
    array.filter(|a| a.is_valid(row)).map(|a| a.value(row).to_string())
}

/// A `metadata` / `attributes` / `extra` column: JSON text, or a nested Arrow type.
enum JsonColumn {
    Text(StringArray),
    Values(Vec<Option<Value>>),
}

impl JsonColumn {
    /// The object at `row`; `Err(value)` for a value that is not a JSON object; `None` for null.
    fn object_at(&self, row: usize) -> Option<Result<JsonMap, Value>> {
        let value = match self {
            JsonColumn::Text(array) => {
                let raw = value_at(Some(array), row)?;
                serde_json::from_str::<Value>(&raw).unwrap_or(Value::String(raw))
            }
            JsonColumn::Values(values) => values[row].clone()?,
        };
        Some(match value {
            Value::Object(object) => Ok(object),
            Value::Null => Ok(JsonMap::new()),
            other => Err(other),
        })
    }
}

fn json_column(batch: &RecordBatch, name: &str) -> Result<Option<JsonColumn>, ArrowError> {
    let Some(array) = batch.column_by_name(name) else { return Ok(None) };
    if is_nested(array.data_type()) {
        return Ok(Some(JsonColumn::Values(column_json_rows(array)?)));
    }
    Ok(Some(JsonColumn::Text(as_utf8(array)?)))
}

/// One JSON value per row of a column (null rows → `None`), through arrow-json.
fn column_json_rows(array: &ArrayRef) -> Result<Vec<Option<Value>>, ArrowError> {
    let field = Field::new("v", array.data_type().clone(), true);
    let batch = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![array.clone()])?;
    Ok(batch_json_rows(&batch)?.into_iter().map(|mut row| row.remove("v")).collect())
}

/// The batch's rows as JSON objects (null fields left out).
fn batch_json_rows(batch: &RecordBatch) -> Result<Vec<JsonMap>, ArrowError> {
    let mut writer = arrow_json::LineDelimitedWriter::new(Vec::new());
    writer.write(batch)?;
    writer.finish()?;
    let bytes = writer.into_inner();
    let mut rows: Vec<JsonMap> = Vec::with_capacity(batch.num_rows());
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        rows.push(serde_json::from_slice(line).map_err(|e| ArrowError::JsonError(e.to_string()))?);
    }
    rows.resize(batch.num_rows(), JsonMap::new());
    Ok(rows)
}

/// The typed attribute columns of a batch (`attr_<name>`), by attribute name.
fn typed_attribute_columns(batch: &RecordBatch) -> Result<Vec<(String, ArrayRef)>, ArrowError> {
    let schema = batch.schema();
    let mut columns = Vec::new();
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        if let Some(name) = attribute_name(field) {
            columns.push((name.to_string(), normalise_attribute_array(array)?));
        }
    }
    Ok(columns)
}

/// Columns sluice does not model, as one JSON object per row (`None` when there are none).
fn unknown_columns_as_json(batch: &RecordBatch) -> Result<Option<Vec<JsonMap>>, ArrowError> {
    let schema = batch.schema();
    let known = |i: usize| {
        let field = schema.field(i);
        let name = field.name().as_str();
        name == "id"
            || name == "text"
            || OPTIONAL_COLUMNS.contains(&name)
            || JSON_COLUMNS.contains(&name)
            || attribute_name(field).is_some()
    };
    let indices: Vec<usize> = (0..schema.fields().len()).filter(|i| !known(*i)).collect();
    if indices.is_empty() {
        return Ok(None);
    }
    Ok(Some(batch_json_rows(&batch.project(&indices)?)?))
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
        assert_eq!(batch.schema().field(batch.num_columns() - 1).name(), "attr_score");
        assert_eq!(batch.column_by_name("attributes").unwrap().null_count(), 2, "score is a typed column");
        assert_eq!(batch_to_documents(&batch).unwrap().docs, vec![a, b]);
    }
}

//! [`DocumentBatch`]: documents as the rows of a record batch in sluice's own schema, so that a stage that
//! only drops documents, or changes a few of their fields, writes the columns it read instead of building a
//! [`Document`] per row and encoding every string again.
//!
//! A batch is taken as it is only when it is *canonical*: writing the documents it decodes to
//! ([`batch_to_documents`]) with its own attribute columns gives back exactly its values. That is, the
//! document columns have sluice's types, no id or text is null, the JSON columns hold the text serde_json
//! writes for a non-empty object, typed floats are finite (JSON has no NaN), and no attribute in the JSON
//! column belongs in a typed one. Files sluice writes are canonical; readers hand out anything else as
//! documents ([`super::Records::Documents`]). So writing a batch ([`super::DocumentWriter::write_batch`])
//! writes the bytes that writing its documents writes.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType};
use arrow_select::concat::concat_batches;
use arrow_select::filter::{filter, filter_record_batch};
use serde_json::Value;

use super::canonical_json::{surely_canonical_object, Kind};
use crate::attributes::{AttributeColumns, AttributeType};
use crate::document::{Document, JsonMap};
use crate::schema::{
    append_json, batch_attributes, batch_to_documents, document_schema, documents_to_batch_with, json_text,
    optional_fields, schema_with, OPTIONAL_COLUMNS,
};

/// Column positions in the document schema: `id`, `text`, the optional strings, then the JSON objects.
const ID: usize = 0;
const TEXT: usize = 1;
const METADATA: usize = 2 + OPTIONAL_COLUMNS.len();
const ATTRIBUTES: usize = METADATA + 1;
const EXTRA: usize = METADATA + 2;
/// The document columns; typed attribute columns follow them.
const DOCUMENT_COLUMNS: usize = METADATA + 3;

/// Documents as the rows of a canonical record batch (see the module docs).
#[derive(Debug, Clone)]
pub struct DocumentBatch {
    /// The document columns, then the typed attribute columns (none when `attributes` is set).
    batch: RecordBatch,
    /// The rows' attributes when a stage has set them ([`DocumentBatch::kept`]); the batch's `attributes`
    /// column is then null. Maps keep the attributes' order, which decides the columns a file gets.
    attributes: Option<Vec<JsonMap>>,
}

impl DocumentBatch {
    /// The batch as documents if it is canonical (see the module docs), else the batch back.
    pub fn from_canonical(batch: RecordBatch) -> Result<DocumentBatch, RecordBatch> {
        if is_canonical(&batch) {
            Ok(DocumentBatch { batch, attributes: None })
        } else {
            Err(batch)
        }
    }

    /// Documents as a batch for a file: their columns as [`crate::schema::documents_to_batch`] builds
    /// them, their attributes as maps, so that written to a file they give the bytes writing them gives.
    /// (Not canonical: [`DocumentBatch::documents`] would read their JSON back.)
    pub(crate) fn from_documents(mut docs: Vec<Document>) -> Result<DocumentBatch, ArrowError> {
        let attributes: Vec<JsonMap> = docs.iter_mut().map(|d| std::mem::take(&mut d.attributes)).collect();
        let batch = documents_to_batch_with(&docs, &AttributeColumns::default())?;
        Ok(DocumentBatch { batch, attributes: Some(attributes) })
    }

    /// The number of documents.
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    /// The `text` column.
    pub fn text(&self) -> &StringArray {
        self.batch.column(TEXT).as_string::<i32>()
    }

    /// An optional string column (`url`, `source`, …, see [`crate::schema`]) by name.
    pub fn strings(&self, name: &str) -> Option<&StringArray> {
        let i = OPTIONAL_COLUMNS.iter().position(|c| *c == name)?;
        Some(self.batch.column(2 + i).as_string::<i32>())
    }

    /// Bytes of text in the batch.
    pub fn text_bytes(&self) -> usize {
        let offsets = self.text().value_offsets();
        (offsets[offsets.len() - 1] - offsets[0]) as usize
    }

    /// The documents, as [`batch_to_documents`] reads them.
    pub fn documents(&self) -> Result<Vec<Document>, ArrowError> {
        let mut docs = batch_to_documents(&self.batch)?.docs;
        if let Some(attributes) = &self.attributes {
            for (doc, map) in docs.iter_mut().zip(attributes) {
                doc.attributes = map.clone();
            }
        }
        Ok(docs)
    }

    /// The documents' attributes, one map per row.
    pub fn attributes(&self) -> Result<Vec<JsonMap>, ArrowError> {
        match &self.attributes {
            Some(maps) => Ok(maps.clone()),
            None => batch_attributes(&self.batch),
        }
    }

    /// The typed attribute columns the batch has.
    pub fn attribute_columns(&self) -> AttributeColumns {
        let schema = self.batch.schema();
        AttributeColumns::from_fields(schema.fields()[DOCUMENT_COLUMNS..].iter().map(|f| f.as_ref()))
            .unwrap_or_default()
    }

    /// The record batch with these attribute columns (a file's): exactly what
    /// [`crate::schema::documents_to_batch_with`] builds from the documents. Only the attribute columns are
    /// built, and only when they differ from the batch's.
    pub fn to_record_batch(&self, attributes: &AttributeColumns) -> Result<RecordBatch, ArrowError> {
        let schema = schema_with(attributes);
        if self.attributes.is_none() && self.attribute_columns() == *attributes {
            return RecordBatch::try_new(schema, self.batch.columns().to_vec());
        }
        let (typed, overflow) = attributes.build_maps(self.attributes()?);
        let mut json = StringBuilder::new();
        let mut scratch = Vec::new();
        for map in &overflow {
            append_json(&mut json, map, &mut scratch)?;
        }
        let mut columns = self.batch.columns()[..DOCUMENT_COLUMNS].to_vec();
        columns[ATTRIBUTES] = Arc::new(json.finish());
        columns.extend(typed);
        RecordBatch::try_new(schema, columns)
    }

    /// The rows where `keep` is true.
    pub fn filter(&self, keep: &[bool]) -> Result<DocumentBatch, ArrowError> {
        let mask = BooleanArray::from(keep.to_vec());
        let batch = filter_record_batch(&self.batch, &mask)?;
        let attributes = self
            .attributes
            .as_ref()
            .map(|maps| maps.iter().zip(keep).filter(|(_, keep)| **keep).map(|(map, _)| map.clone()).collect());
        Ok(DocumentBatch { batch, attributes })
    }

    /// The rows where `keep` is true, which are now `docs` (a stage ran on them): a column whose values
    /// are unchanged is the batch's, filtered; one where some row changed (a modified text, a moved URL) is
    /// rebuilt from the batch's values and the changed ones; the attributes are the documents'.
    pub fn kept(&self, keep: &[bool], docs: Vec<Document>) -> Result<DocumentBatch, ArrowError> {
        let rows: Vec<usize> = keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect();
        if keep.len() != self.num_rows() || rows.len() != docs.len() {
            return Err(ArrowError::InvalidArgumentError(format!(
                "{} kept documents for {} of {} rows kept from a batch of {}",
                docs.len(),
                rows.len(),
                keep.len(),
                self.num_rows()
            )));
        }
        let mask = BooleanArray::from(keep.to_vec());
        let column = |i: usize| self.batch.column(i).as_string::<i32>();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(DOCUMENT_COLUMNS);
        columns.push(kept_strings(column(ID), &mask, &rows, |i| Some(docs[i].id.as_str()))?);
        columns.push(kept_strings(column(TEXT), &mask, &rows, |i| Some(docs[i].text.as_str()))?);
        for j in 0..OPTIONAL_COLUMNS.len() {
            columns.push(kept_strings(column(2 + j), &mask, &rows, |i| optional_fields(&docs[i])[j].as_deref())?);
        }
        columns.push(kept_json(column(METADATA), &mask, &rows, |i| &docs[i].metadata)?);
        columns.push(new_null_array(&DataType::Utf8, rows.len()));
        columns.push(kept_json(column(EXTRA), &mask, &rows, |i| &docs[i].extra)?);
        let batch = RecordBatch::try_new(document_schema(), columns)?;
        Ok(DocumentBatch { batch, attributes: Some(docs.into_iter().map(|d| d.attributes).collect()) })
    }

    /// The first `mid` rows and the rest.
    pub fn split_at(self, mid: usize) -> (DocumentBatch, DocumentBatch) {
        let rows = self.num_rows();
        let (head, tail) = (self.batch.slice(0, mid), self.batch.slice(mid, rows - mid));
        let (head_maps, tail_maps) = match self.attributes {
            Some(mut maps) => {
                let tail = maps.split_off(mid);
                (Some(maps), Some(tail))
            }
            None => (None, None),
        };
        (DocumentBatch { batch: head, attributes: head_maps }, DocumentBatch { batch: tail, attributes: tail_maps })
    }

    /// The rows of several batches, in order, as one.
    pub fn concat(parts: Vec<DocumentBatch>) -> Result<DocumentBatch, ArrowError> {
        let Some(first) = parts.first() else {
            return Ok(DocumentBatch { batch: RecordBatch::new_empty(document_schema()), attributes: None });
        };
        if parts.len() == 1 {
            return Ok(parts.into_iter().next().expect("one part"));
        }
        let schema = first.batch.schema();
        if parts.iter().all(|p| p.attributes.is_none() && p.batch.schema() == schema) {
            let batch = concat_batches(&schema, parts.iter().map(|p| &p.batch))?;
            return Ok(DocumentBatch { batch, attributes: None });
        }
        // Different attribute columns, or attributes a stage set: the attributes go along as maps.
        let mut batches = Vec::with_capacity(parts.len());
        let mut maps = Vec::new();
        for part in parts {
            let (batch, attributes) = part.into_attribute_maps()?;
            batches.push(batch);
            maps.extend(attributes);
        }
        let batch = concat_batches(&document_schema(), &batches)?;
        Ok(DocumentBatch { batch, attributes: Some(maps) })
    }

    /// The document columns (`attributes` null) and the rows' attributes as maps.
    fn into_attribute_maps(self) -> Result<(RecordBatch, Vec<JsonMap>), ArrowError> {
        let maps = match self.attributes {
            Some(maps) => maps,
            None => batch_attributes(&self.batch)?,
        };
        let mut columns = self.batch.columns()[..DOCUMENT_COLUMNS].to_vec();
        columns[ATTRIBUTES] = new_null_array(&DataType::Utf8, self.batch.num_rows());
        Ok((RecordBatch::try_new(document_schema(), columns)?, maps))
    }
}

/// A string column of the kept `rows` whose values are now `value(i)` for the i-th kept row: the source
/// filtered when nothing changed, else rebuilt.
fn kept_strings<'a>(
    source: &StringArray,
    keep: &BooleanArray,
    rows: &[usize],
    value: impl Fn(usize) -> Option<&'a str>,
) -> Result<ArrayRef, ArrowError> {
    let original = |row: usize| source.is_valid(row).then(|| source.value(row));
    let changed: Vec<bool> = rows.iter().enumerate().map(|(i, &row)| value(i) != original(row)).collect();
    if !changed.contains(&true) {
        return filter(source, keep);
    }
    let mut bytes = 0;
    for (i, &row) in rows.iter().enumerate() {
        bytes += if changed[i] { value(i).map_or(0, str::len) } else { source.value_length(row) as usize };
    }
    let mut builder = StringBuilder::with_capacity(rows.len(), bytes);
    for (i, &row) in rows.iter().enumerate() {
        builder.append_option(if changed[i] { value(i) } else { original(row) });
    }
    Ok(Arc::new(builder.finish()))
}

/// A JSON-object column of the kept `rows` whose objects are now `map(i)`: the source filtered when
/// every object is written as the source has it, else rebuilt.
fn kept_json<'a>(
    source: &StringArray,
    keep: &BooleanArray,
    rows: &[usize],
    map: impl Fn(usize) -> &'a JsonMap,
) -> Result<ArrayRef, ArrowError> {
    let mut scratch = Vec::new();
    let mut changed = false;
    for (i, &row) in rows.iter().enumerate() {
        let original = source.is_valid(row).then(|| source.value(row));
        if json_text(map(i), &mut scratch)? != original {
            changed = true;
            break;
        }
    }
    if !changed {
        return filter(source, keep);
    }
    let mut builder = StringBuilder::with_capacity(rows.len(), 0);
    for i in 0..rows.len() {
        append_json(&mut builder, map(i), &mut scratch)?;
    }
    Ok(Arc::new(builder.finish()))
}

/// Whether a batch is canonical (see the module docs).
fn is_canonical(batch: &RecordBatch) -> bool {
    canonical_rows(batch).iter().all(|c| *c)
}

/// A batch in runs of consecutive rows: the canonical ones as document batches, the others as they are
/// (to be read as documents). A row whose JSON would not read back as it is written (say a float that
/// serde_json reads one bit off) sends only its own run the slow way.
pub(crate) fn canonical_runs(batch: RecordBatch) -> Vec<Result<DocumentBatch, RecordBatch>> {
    let rows = canonical_rows(&batch);
    let mut runs = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let canonical = rows[start];
        let end = rows[start..].iter().position(|c| *c != canonical).map_or(rows.len(), |n| start + n);
        let run = if start == 0 && end == rows.len() { batch.clone() } else { batch.slice(start, end - start) };
        runs.push(if canonical { Ok(DocumentBatch { batch: run, attributes: None }) } else { Err(run) });
        start = end;
    }
    runs
}

/// Which rows of a batch are canonical (see the module docs); none when its schema is not sluice's.
fn canonical_rows(batch: &RecordBatch) -> Vec<bool> {
    let schema = batch.schema();
    let fields = schema.fields();
    let document = document_schema();
    if fields.len() < DOCUMENT_COLUMNS || fields.iter().zip(document.fields()).any(|(a, b)| a != b) {
        return vec![false; batch.num_rows()];
    }
    let Some(columns) = AttributeColumns::from_fields(fields[DOCUMENT_COLUMNS..].iter().map(|f| f.as_ref())) else {
        return vec![false; batch.num_rows()];
    };
    let mut rows = vec![true; batch.num_rows()];
    for column in [ID, TEXT] {
        let array = batch.column(column);
        if array.null_count() > 0 {
            reject(&mut rows, |row| array.is_null(row));
        }
    }
    let typed = &batch.columns()[DOCUMENT_COLUMNS..];
    // A NaN or infinite float reads back as no value.
    for array in typed {
        if let Some(floats) = array.as_primitive_opt::<Float64Type>() {
            reject(&mut rows, |row| floats.is_valid(row) && !floats.value(row).is_finite());
        }
    }
    let mut scratch = Vec::new();
    for column in [METADATA, EXTRA] {
        let cells = batch.column(column).as_string::<i32>();
        reject(&mut rows, |row| {
            let Some(cell) = cells.is_valid(row).then(|| cells.value(row)) else { return false };
            !surely_canonical_object(cell, |_, _| {}) && canonical_object(cell, &mut scratch).is_none()
        });
    }
    // An attribute in the JSON column that fits its typed column, or shadows a value there, would move on
    // writing.
    let names: Vec<(&str, AttributeType)> = columns.iter().collect();
    let cells = batch.column(ATTRIBUTES).as_string::<i32>();
    reject(&mut rows, |row| {
        let Some(cell) = cells.is_valid(row).then(|| cells.value(row)) else { return false };
        let mut moves = false;
        let fast = surely_canonical_object(cell, |key, kind| {
            if let Some(i) = names.iter().position(|(name, _)| *name == key) {
                moves |= typed[i].is_valid(row) || fits(kind, names[i].1);
            }
        });
        if fast {
            return moves;
        }
        let Some(object) = canonical_object(cell, &mut scratch) else { return true };
        names.iter().zip(typed).any(|((name, kind), array)| {
            object.get(*name).is_some_and(|value| array.is_valid(row) || AttributeType::of(value) == Some(*kind))
        })
    });
    rows
}

/// Whether a value of this kind goes to a typed column of this type.
fn fits(kind: Kind, column: AttributeType) -> bool {
    matches!(
        (kind, column),
        (Kind::Bool, AttributeType::Bool) | (Kind::Int, AttributeType::Int) | (Kind::Text, AttributeType::Text)
    )
}

/// Marks the rows still canonical for which `bad` says otherwise (and asks only about those).
fn reject(rows: &mut [bool], mut bad: impl FnMut(usize) -> bool) {
    for (row, ok) in rows.iter_mut().enumerate() {
        if *ok && bad(row) {
            *ok = false;
        }
    }
}

/// The object in a JSON cell, if the cell is exactly what sluice writes for it (a non-empty object as
/// serde_json writes it: compact, its escapes, its numbers).
fn canonical_object(cell: &str, scratch: &mut Vec<u8>) -> Option<JsonMap> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(cell) else { return None };
    let written = json_text(&object, scratch).ok()?;
    (written == Some(cell)).then_some(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::documents_to_batch;
    use arrow_array::Float64Array;
    use arrow_schema::{Field, Schema};
    use serde_json::json;

    fn documents() -> Vec<Document> {
        let mut a = Document::from_text("first page", Some("http://a.example/".into()));
        a.metadata.insert("WARC-Type".into(), json!("response"));
        a.attributes.insert("lang".into(), json!({"en": 0.75}));
        a.attributes.insert("words".into(), json!(2));
        let mut b = Document::from_text("second — ünïcödé\n\u{1}", None);
        b.attributes.insert("words".into(), json!(4));
        b.extra.insert("added".into(), json!("2023-01-01"));
        vec![a, b]
    }

    /// `batch` with column `name` replaced.
    fn with_column(batch: &RecordBatch, name: &str, array: ArrayRef) -> RecordBatch {
        let i = batch.schema().index_of(name).unwrap();
        let mut columns = batch.columns().to_vec();
        columns[i] = array;
        let mut fields: Vec<Field> = batch.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        let nullable = fields[i].is_nullable() || columns[i].null_count() > 0;
        fields[i] = Field::new(name, array_type(&columns[i]), nullable);
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    }

    fn array_type(array: &ArrayRef) -> DataType {
        array.data_type().clone()
    }

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    #[test]
    fn what_sluice_writes_is_canonical_and_reads_as_the_same_documents() {
        let docs = documents();
        let batch = documents_to_batch(&docs).unwrap();
        let canonical = DocumentBatch::from_canonical(batch.clone()).expect("canonical");
        assert_eq!(canonical.documents().unwrap(), batch_to_documents(&batch).unwrap().docs);
        assert_eq!(canonical.text_bytes(), docs.iter().map(|d| d.text.len()).sum::<usize>());
        assert_eq!(canonical.strings("url").unwrap().value(0), "http://a.example/");
        // With its own columns it is written as it is; with others, as the documents would be.
        let columns = canonical.attribute_columns();
        assert_eq!(canonical.to_record_batch(&columns).unwrap(), batch);
        let none = AttributeColumns::default();
        let expected = crate::schema::documents_to_batch_with(&canonical.documents().unwrap(), &none).unwrap();
        assert_eq!(canonical.to_record_batch(&none).unwrap(), expected);
    }

    #[test]
    fn batches_that_would_not_read_back_as_they_are_are_not_canonical() {
        let batch = documents_to_batch(&documents()).unwrap();
        let not = |b: RecordBatch| DocumentBatch::from_canonical(b).is_err();
        // JSON that sluice would write otherwise: spaces, an empty object, not an object, a repeated key,
        // an escape serde_json does not write, a float that serde_json (without `float_roundtrip`) reads
        // back one bit off, so that writing it again changes it.
        let drifting = (1..1000)
            .map(|i| (i as f64 / 997.0).to_string())
            .find(|s| serde_json::to_string(&serde_json::from_str::<Value>(s).unwrap()).unwrap() != *s)
            .expect("a float serde_json does not read back exactly");
        let drifting = format!(r#"{{"x":{drifting}}}"#);
        for cell in [r#"{"a": 1}"#, "{}", "[1]", r#"{"a":1,"a":2}"#, r#"{"a":"\u00e9"}"#, drifting.as_str()] {
            assert!(not(with_column(&batch, "metadata", strings(&[Some(cell), None]))), "{cell}");
        }
        assert!(!not(with_column(&batch, "metadata", strings(&[Some(r#"{"a":"é","b":[1,-2,true,null]}"#), None]))));
        // An overflowing attribute that fits its typed column, or shadows a value there.
        assert!(not(with_column(&batch, "attributes", strings(&[None, Some(r#"{"words":3}"#)]))));
        assert!(not(with_column(&batch, "attributes", strings(&[Some(r#"{"words":"x"}"#), None]))));
        // Nulls where documents have values; other types; NaN.
        assert!(not(with_column(&batch, "id", strings(&[None, Some("b")]))));
        let large: ArrayRef = Arc::new(arrow_array::LargeStringArray::from(vec!["a", "b"]));
        assert!(not(with_column(&batch, "text", large)));
        let nan = Arc::new(Float64Array::from(vec![Some(f64::NAN), None])) as ArrayRef;
        let mut fields: Vec<Field> = batch.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("attr_q", DataType::Float64, true));
        let mut columns = batch.columns().to_vec();
        columns.push(nan);
        assert!(not(RecordBatch::try_new(Arc::new(Schema::new(fields.clone())), columns.clone()).unwrap()));
        columns.pop();
        columns.push(Arc::new(Float64Array::from(vec![Some(0.5), None])));
        assert!(!not(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()));
    }

    #[test]
    fn kept_rows_take_unchanged_columns_and_rebuild_changed_ones() {
        let docs = documents();
        let batch = DocumentBatch::from_canonical(documents_to_batch(&docs).unwrap()).unwrap();
        let mut changed = docs.clone();
        changed[1].text = "second, shorter".into();
        changed[1].attributes.insert("kept".into(), json!(true));
        let kept = batch.kept(&[true, true], changed.clone()).unwrap();
        assert_eq!(kept.documents().unwrap(), changed);
        assert_eq!(kept.batch.column(ID), batch.batch.column(ID), "unchanged: the same values");
        let only_second = batch.kept(&[false, true], vec![changed[1].clone()]).unwrap();
        assert_eq!(only_second.documents().unwrap(), vec![changed[1].clone()]);
        assert!(batch.kept(&[true, false], vec![]).is_err(), "one document per kept row");
        // Concatenated with an unchanged batch, the rows keep their attributes in order.
        let all = DocumentBatch::concat(vec![batch.clone(), only_second]).unwrap();
        let mut expected = batch_to_documents(&batch.batch).unwrap().docs;
        expected.push(changed[1].clone());
        assert_eq!(all.documents().unwrap(), expected);
        let (head, tail) = all.split_at(1);
        assert_eq!((head.num_rows(), tail.num_rows()), (1, 2));
        assert_eq!(tail.documents().unwrap(), expected[1..]);
    }
}

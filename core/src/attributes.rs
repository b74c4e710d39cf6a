//! Attributes as typed Arrow columns: each attribute a stage computes (`word_count`, `language_score`,
//! a quality probability) is written as its own column `attr_<name>` of the value's type, so a reader can
//! project and filter it without parsing JSON per row (`sluice quality threshold`, SQL over outputs).
//!
//! A Parquet file has one schema, fixed when its first batch is written: [`AttributeColumns::infer`] takes
//! every attribute of that batch whose values all have one scalar type (bool, integer, float, string), in
//! order of first appearance. Anything that does not fit — nested values, mixed types, a key first seen in
//! a later batch — goes to the `attributes` column as JSON text, so nothing is lost. Files of one stage may
//! have different attribute columns; readers take the union by name. JSONL keeps the nested `attributes`
//! object.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow_schema::{DataType, Field};
use serde_json::Value;

use crate::document::{Document, JsonMap};

/// Prefix of typed attribute columns.
pub const ATTRIBUTE_PREFIX: &str = "attr_";

/// The scalar type of an attribute column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    Bool,
    Int,
    Float,
    Text,
}

impl AttributeType {
    /// The column type a JSON value fits, if it is a scalar.
    pub fn of(value: &Value) -> Option<AttributeType> {
        match value {
            Value::Bool(_) => Some(AttributeType::Bool),
            Value::Number(n) if n.is_i64() => Some(AttributeType::Int),
            Value::Number(n) if n.is_f64() => Some(AttributeType::Float),
            Value::String(_) => Some(AttributeType::Text),
            _ => None, // null, nested, or an integer beyond i64
        }
    }

    /// The Arrow type of its column.
    pub fn data_type(self) -> DataType {
        match self {
            AttributeType::Bool => DataType::Boolean,
            AttributeType::Int => DataType::Int64,
            AttributeType::Float => DataType::Float64,
            AttributeType::Text => DataType::Utf8,
        }
    }

    fn from_data_type(data_type: &DataType) -> Option<AttributeType> {
        match data_type {
            DataType::Boolean => Some(AttributeType::Bool),
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Some(AttributeType::Int),
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => Some(AttributeType::Int),
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Some(AttributeType::Float),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(AttributeType::Text),
            _ => None,
        }
    }
}

/// The typed attribute columns of one file, in column order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeColumns {
    columns: Vec<(String, AttributeType)>,
}

impl AttributeColumns {
    /// The attributes of `docs` that have one scalar type in every document that has them.
    pub fn infer(docs: &[Document]) -> AttributeColumns {
        AttributeColumns::infer_maps(docs.iter().map(|d| &d.attributes))
    }

    /// [`AttributeColumns::infer`] over attribute maps (one per document, in order).
    pub fn infer_maps<'a>(maps: impl IntoIterator<Item = &'a JsonMap>) -> AttributeColumns {
        let mut columns: Vec<(String, Option<AttributeType>)> = Vec::new();
        for attributes in maps {
            for (key, value) in attributes {
                let kind = AttributeType::of(value);
                match columns.iter_mut().find(|(k, _)| k == key) {
                    Some((_, seen)) => {
                        if *seen != kind {
                            *seen = None;
                        }
                    }
                    None => columns.push((key.clone(), kind)),
                }
            }
        }
        AttributeColumns { columns: columns.into_iter().filter_map(|(k, t)| Some((k, t?))).collect() }
    }

    /// The columns of a batch whose attribute fields are exactly the ones sluice writes (`attr_<name>`,
    /// nullable, one of the four types, each name once); `None` for any other fields.
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = &'a Field>) -> Option<AttributeColumns> {
        let mut columns: Vec<(String, AttributeType)> = Vec::new();
        for field in fields {
            let name = field.name().strip_prefix(ATTRIBUTE_PREFIX)?;
            let kind = AttributeType::from_data_type(field.data_type())?;
            let expected = Field::new(field.name(), kind.data_type(), true);
            if *field != expected || columns.iter().any(|(k, _)| k == name) {
                return None;
            }
            columns.push((name.to_string(), kind));
        }
        Some(AttributeColumns { columns })
    }

    /// The columns, in order: attribute name and type.
    pub fn iter(&self) -> impl Iterator<Item = (&str, AttributeType)> {
        self.columns.iter().map(|(k, t)| (k.as_str(), *t))
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The Arrow fields, `attr_<name>`, nullable.
    pub fn fields(&self) -> Vec<Field> {
        self.columns.iter().map(|(k, t)| Field::new(format!("{ATTRIBUTE_PREFIX}{k}"), t.data_type(), true)).collect()
    }

    /// One array per column for `docs`; the attributes that did not fit a column, per document (for the
    /// JSON `attributes` column).
    pub fn build(&self, docs: &[Document]) -> (Vec<ArrayRef>, Vec<JsonMap>) {
        self.build_maps(docs.iter().map(|d| d.attributes.clone()).collect())
    }

    /// [`AttributeColumns::build`] over attribute maps (one per document), which become the overflow.
    pub fn build_maps(&self, maps: Vec<JsonMap>) -> (Vec<ArrayRef>, Vec<JsonMap>) {
        let rows = maps.len();
        let mut overflow = maps;
        let mut arrays = Vec::with_capacity(self.columns.len());
        for (key, kind) in &self.columns {
            let mut take = |row: usize| -> Option<Value> {
                let fits = overflow[row].get(key).is_some_and(|v| AttributeType::of(v) == Some(*kind));
                if fits {
                    overflow[row].shift_remove(key)
                } else {
                    None
                }
            };
            let array: ArrayRef = match kind {
                AttributeType::Bool => {
                    let mut b = BooleanBuilder::with_capacity(rows);
                    (0..rows).for_each(|r| b.append_option(take(r).and_then(|v| v.as_bool())));
                    Arc::new(b.finish())
                }
                AttributeType::Int => {
                    let mut b = Int64Builder::with_capacity(rows);
                    (0..rows).for_each(|r| b.append_option(take(r).and_then(|v| v.as_i64())));
                    Arc::new(b.finish())
                }
                AttributeType::Float => {
                    let mut b = Float64Builder::with_capacity(rows);
                    (0..rows).for_each(|r| b.append_option(take(r).and_then(|v| v.as_f64())));
                    Arc::new(b.finish())
                }
                AttributeType::Text => {
                    let mut b = StringBuilder::new();
                    (0..rows).for_each(|r| b.append_option(take(r).as_ref().and_then(Value::as_str)));
                    Arc::new(b.finish())
                }
            };
            arrays.push(array);
        }
        (arrays, overflow)
    }
}

/// Whether a column is a typed attribute column (`attr_<name>` of a scalar type); its attribute name.
pub fn attribute_name(field: &Field) -> Option<&str> {
    let name = field.name().strip_prefix(ATTRIBUTE_PREFIX)?;
    AttributeType::from_data_type(field.data_type()).map(|_| name)
}

/// The value at `row` of a typed attribute column (`None` for null), as JSON.
pub fn attribute_value(array: &ArrayRef, row: usize) -> Option<Value> {
    if array.is_null(row) {
        return None;
    }
    let any = array.as_any();
    if let Some(a) = any.downcast_ref::<BooleanArray>() {
        return Some(Value::Bool(a.value(row)));
    }
    if let Some(a) = any.downcast_ref::<Int64Array>() {
        return Some(Value::from(a.value(row)));
    }
    if let Some(a) = any.downcast_ref::<Float64Array>() {
        return serde_json::Number::from_f64(a.value(row)).map(Value::Number);
    }
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Some(Value::String(a.value(row).to_string()));
    }
    None
}

/// A typed attribute column cast to the array types [`attribute_value`] reads.
pub fn normalise_attribute_array(array: &ArrayRef) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let target = match AttributeType::from_data_type(array.data_type()) {
        Some(kind) => kind.data_type(),
        None => return Ok(array.clone()),
    };
    if array.data_type() == &target {
        return Ok(array.clone());
    }
    arrow_cast::cast(array, &target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(attributes: Value) -> Document {
        let mut d = Document::from_text("x", None);
        d.attributes = attributes.as_object().unwrap().clone();
        d
    }

    #[test]
    fn scalar_attributes_of_one_type_become_columns_and_the_rest_overflows() {
        let docs = vec![
            doc(json!({"words": 3, "score": 0.5, "lang": "en", "spans": [[0, 1]], "mixed": 1})),
            doc(json!({"words": 7, "score": 1.0, "flag": true, "mixed": "one"})),
        ];
        let columns = AttributeColumns::infer(&docs);
        let names: Vec<String> = columns.fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["attr_words", "attr_score", "attr_lang", "attr_flag"]);
        let (arrays, overflow) = columns.build(&docs);
        assert_eq!(attribute_value(&arrays[0], 1), Some(json!(7)));
        assert_eq!(attribute_value(&arrays[1], 0), Some(json!(0.5)));
        assert_eq!(attribute_value(&arrays[2], 1), None);
        assert_eq!(Value::Object(overflow[0].clone()), json!({"spans": [[0, 1]], "mixed": 1}));
        assert_eq!(Value::Object(overflow[1].clone()), json!({"mixed": "one"}));
        // A later batch with another type for a column: that value overflows, nothing is lost.
        let later = vec![doc(json!({"words": "many"}))];
        let (arrays, overflow) = columns.build(&later);
        assert_eq!(attribute_value(&arrays[0], 0), None);
        assert_eq!(Value::Object(overflow[0].clone()), json!({"words": "many"}));
    }
}

//! Helpers shared by the parity tests.
#![allow(dead_code)]

use serde_json::Value;

/// Equal JSON, except that numbers may differ by a relative 1e-6: DCLM's Python fastText binding widens
/// the probability as exp(log p) in double precision, the C++ API returns exp in single precision, so
/// language probabilities can differ in the last bit of a double (never near a threshold in practice).
pub fn json_close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            (x - y).abs() <= 1e-6 * y.abs().max(1.0)
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}

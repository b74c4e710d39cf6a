//! Helpers shared by the parity tests.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// `../shared/golden` (DCLM's golden outputs), when `file` is in it. When it is missing, a test prints
/// SKIPPED and does nothing — except under `CI=true`, where the data must be there and the test fails.
pub fn golden_or_skip(test: &str, file: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden");
    if dir.join(file).is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {} is missing, and CI=true requires the shared golden data", dir.join(file).display());
    }
    eprintln!("SKIPPED {test}: {} not found", dir.join(file).display());
    None
}

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

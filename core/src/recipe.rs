//! Loading YAML recipes (and any YAML config) into typed structs, with errors that say where.
//!
//! Recipe types live with the binary (which knows every stage); this module only turns YAML into them and
//! turns `serde-saphyr`'s errors into `recipe.yaml:14:7: unknown field 'treshold', expected …`.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Parses `text` (the contents of `file`) as `T`.
pub fn parse_yaml<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T> {
    serde_saphyr::from_str(text).map_err(|e| {
        let message = match e.location() {
            Some(location) => format!(":{}:{}: {}", location.line(), location.column(), first_line(&e.to_string())),
            None => format!(": {e}"),
        };
        Error::Recipe { file: file.to_path_buf(), message }
    })
}

/// serde-saphyr's message without its own location (`error: line 2 column 1: …`) or snippet: the location
/// is printed first, compiler-style.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
        Some((_, text)) => text.to_string(),
        None => line.to_string(),
    }
}

/// Reads and parses the YAML file at `path`.
pub fn load_yaml<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    parse_yaml(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Step {
        min: f64,
        max: f64,
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = "min: 1.0\ntreshold: 3\n";
        let err = parse_yaml::<Step>(Path::new("r.yaml"), text).unwrap_err().to_string();
        assert!(err.starts_with("r.yaml:2:"), "{err}");
        assert!(err.contains("treshold"), "{err}");
        let err = parse_yaml::<Step>(Path::new("r.yaml"), "min: 1.0\nmax: high\n").unwrap_err().to_string();
        assert!(err.starts_with("r.yaml:2:"), "{err}");
    }
}

//! Loading YAML recipes (and any YAML config) into typed structs, with errors that say where.
//!
//! Recipe types live with the binary (which knows every stage); this module only turns YAML into them and
//! turns `serde-saphyr`'s errors into `recipe.yaml:14:7: unknown field 'treshold', expected …`.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Parses `text` (the contents of `file`) as `T`. YAML tags (`!foo`) and non-finite numbers (`.nan`,
/// `.inf`) are refused with their position: serde would accept them silently (a tag is ignored, a NaN
/// threshold compares false with everything).
pub fn parse_yaml<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T> {
    if let Some((line, column, message)) = find_unsupported_scalar(text) {
        return Err(Error::Recipe { file: file.to_path_buf(), message: format!(":{line}:{column}: {message}") });
    }
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
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
        Error::Recipe { file: path.to_path_buf(), message: format!(":{line}:{column}: not valid UTF-8") }
    })?;
    parse_yaml(path, &text)
}

/// The first node that is a YAML tag or a non-finite number, as (line, column, message), 1-based. A light
/// lexical scan: node starts are the beginning of a line (after `- `), after `key: `, and after `[`, `{`
/// and `,` in flow collections; quoted strings and comments are skipped.
fn find_unsupported_scalar(text: &str) -> Option<(usize, usize, String)> {
    for (number, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut quote: Option<char> = None;
        let mut node_start = true;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            if c == ' ' || c == '\t' {
                i += 1;
                continue;
            }
            if c == '#' && (i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '\t') {
                break;
            }
            if node_start {
                if c == '!' {
                    return Some((number + 1, i + 1, "YAML tags (!…) are not supported in recipes".into()));
                }
                let scalar: String = chars[i..].iter().take_while(|c| !matches!(c, ',' | ']' | '}' | '#')).collect();
                let scalar = scalar.trim().to_ascii_lowercase();
                if matches!(scalar.as_str(), ".nan" | ".inf" | "+.inf" | "-.inf") {
                    return Some((number + 1, i + 1, format!("'{scalar}' is not a finite number")));
                }
            }
            node_start = match c {
                '\'' | '"' => {
                    quote = Some(c);
                    false
                }
                '-' | '[' | '{' | ',' => chars.get(i + 1).is_none_or(|n| *n == ' ' || c != '-'),
                ':' => chars.get(i + 1).is_none_or(|n| *n == ' '),
                _ => false,
            };
            i += 1;
        }
    }
    None
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

    #[test]
    fn tags_nan_and_bad_utf8_are_refused_with_their_position() {
        let err = parse_yaml::<Step>(Path::new("r.yaml"), "min: 1.0\nmax: .nan\n").unwrap_err().to_string();
        assert!(err.starts_with("r.yaml:2:6:") && err.contains("finite"), "{err}");
        let err = parse_yaml::<Step>(Path::new("r.yaml"), "min: !custom 1.0\nmax: 2\n").unwrap_err().to_string();
        assert!(err.starts_with("r.yaml:1:6:") && err.contains("tags"), "{err}");
        let err = parse_yaml::<Vec<f64>>(Path::new("r.yaml"), "- 1\n- [2, -.Inf]\n").unwrap_err().to_string();
        assert!(err.starts_with("r.yaml:2:7:"), "{err}");
        // Inside quotes, comments and plain text they are just characters.
        let ok: Vec<String> = parse_yaml(Path::new("r.yaml"), "- '.nan'\n- \"!x\" # !y .inf\n- a !b\n").unwrap();
        assert_eq!(ok, vec![".nan", "!x", "a !b"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.yaml");
        std::fs::write(&path, b"min: 1.0\nmax: \xff2\n").unwrap();
        let err = load_yaml::<Step>(&path).unwrap_err().to_string();
        assert!(err.ends_with("r.yaml:2:6: not valid UTF-8"), "{err}");
    }
}

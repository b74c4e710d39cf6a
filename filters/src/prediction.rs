//! fastText prediction on a text exactly as DCLM's Python binding runs it.

use fasttext::{FastText, Prediction};

use crate::error::FilterError;

/// The top `k` predictions for `text`, as the Python binding's `model.predict(text, k)` gives them: it
/// appends a newline (an end-of-sentence token, which counts even for empty input).
///
/// The Rust binding passes text as a C string, which cannot hold NUL; fastText's tokenizer reads NUL as a
/// word separator, like a space, so NULs become spaces and the tokens are the ones the Python binding sees.
pub(crate) fn predict(model: &FastText, text: &str, k: i32) -> Result<Vec<Prediction>, FilterError> {
    let mut line = String::with_capacity(text.len() + 1);
    if text.contains('\0') {
        line.extend(text.chars().map(|c| if c == '\0' { ' ' } else { c }));
    } else {
        line.push_str(text);
    }
    line.push('\n');
    model.predict(&line, k, 0.0).map_err(FilterError::Prediction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_reads_as_a_word_separator_not_as_an_error() {
        let model = crate::dclm::lid_176().unwrap();
        let with_nul = predict(&model, "Der Fluss\0fließt durch zehn Länder", 1).unwrap();
        let with_space = predict(&model, "Der Fluss fließt durch zehn Länder", 1).unwrap();
        assert_eq!(with_nul[0].label, "__label__de");
        assert_eq!((&with_nul[0].label, with_nul[0].prob), (&with_space[0].label, with_space[0].prob));
    }
}

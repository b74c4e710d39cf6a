//! The step abstraction.

use sluice_core::Document;

/// What a step decided for a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the document (possibly modified).
    Keep,
    /// Drop the document (a filter said no, or a modifier left no text).
    Drop,
    /// The document lacks what the step needs (DCLM's mapper would raise; DCLM drops such pages and
    /// counts an error).
    Error(&'static str),
}

/// One filter, modifier or enricher.
pub trait Step: Send + Sync {
    /// The step's name (DCLM's function name for DCLM steps).
    fn name(&self) -> &'static str;
    /// Loads what the step needs (models, lists) before any document; an error stops the stage.
    fn prepare(&self) -> Result<(), String> {
        Ok(())
    }
    /// Applies the step to `doc` in place.
    fn apply(&self, doc: &mut Document) -> Verdict;
}

/// Replaces a modifier's output text, dropping the document when nothing is left (every DCLM modifier does).
pub(crate) fn set_text(doc: &mut Document, text: String) -> Verdict {
    if text.is_empty() {
        return Verdict::Drop;
    }
    doc.text = text;
    Verdict::Keep
}

/// `Keep` if `keep`, else `Drop`.
pub(crate) fn keep_if(keep: bool) -> Verdict {
    if keep {
        Verdict::Keep
    } else {
        Verdict::Drop
    }
}

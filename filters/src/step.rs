//! The step abstraction.

use sluice_core::Document;

use crate::error::FilterError;

/// What a step decided for a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the document (possibly modified).
    Keep,
    /// Drop the document (a filter said no, or a modifier left no text). The drop reason is the step's name.
    Drop,
    /// Drop the document because one named check of a step that runs several said no (Gopher repetition's
    /// `dup_line_frac`, FineWeb's `line_punct_ratio`, …). The drop reason is `<step>:<check>`.
    DropCheck(&'static str),
    /// The step could not decide: the document lacks what the step needs (DCLM's mapper would raise; DCLM
    /// drops such pages and counts an error), or the model failed on it. The stage drops the document as
    /// `<step>:error` and counts the kind as an error `<step>:<kind>` — never as an ordinary filter drop.
    Error(&'static str),
}

impl Verdict {
    /// Whether the document goes on.
    pub fn is_keep(self) -> bool {
        self == Verdict::Keep
    }
}

/// One filter, modifier or enricher.
///
/// A step is plain data until [`Step::prepare`] loads what it needs (models, list files, patterns built
/// from them): deserialising, cloning or serialising a step never touches the file system.
pub trait Step: Send + Sync {
    /// The step's name (DCLM's function name for DCLM steps).
    fn name(&self) -> &'static str;
    /// Files the step reads in [`Step::prepare`] (models, list files), as the recipe names them. Lists and
    /// models compiled into sluice are not files and are not listed.
    fn referenced_files(&self) -> Vec<String> {
        Vec::new()
    }
    /// Loads what the step needs before any document. Idempotent: a prepared step stays prepared.
    fn prepare(&self) -> Result<(), FilterError> {
        Ok(())
    }
    /// Applies the step to `doc` in place. A step that needs [`Step::prepare`] and did not get it answers
    /// `Verdict::Error("not_prepared")`.
    fn apply(&self, doc: &mut Document) -> Verdict;
}

/// The error kind of a step applied before [`Step::prepare`] succeeded.
pub(crate) const NOT_PREPARED: &str = "not_prepared";

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

/// `Keep` if `keep`, else a drop by the named `check`.
pub(crate) fn keep_unless_check(keep: bool, check: &'static str) -> Verdict {
    if keep {
        Verdict::Keep
    } else {
        Verdict::DropCheck(check)
    }
}

/// Loads `state` into `cell` unless it holds one already (races load twice and keep one; both are equal).
pub(crate) fn prepare_once<T>(
    cell: &std::sync::OnceLock<T>,
    load: impl FnOnce() -> Result<T, FilterError>,
) -> Result<(), FilterError> {
    if cell.get().is_none() {
        let state = load()?;
        let _ = cell.set(state);
    }
    Ok(())
}

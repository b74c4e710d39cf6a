//! Whole-page visible text.

use dom_query::Document;

use super::metadata::read_metadata;
use super::{strip_tags, tidy_text, ExtractError, ExtractLimits, Extracted, Extractor};

/// Elements whose content is never visible text.
const INVISIBLE: &str = "script, style, noscript, template, svg, iframe, object, head";

/// The visible text of the whole page, with a line break after each block element. Pages over the
/// [`ExtractLimits`] get tag-stripped text instead of a DOM walk, so this extractor always answers.
pub struct PageTextExtractor {
    limits: ExtractLimits,
}

impl PageTextExtractor {
    pub fn new(limits: ExtractLimits) -> Self {
        PageTextExtractor { limits }
    }
}

/// The visible text of an already-parsed document (consumes its invisible elements).
pub(crate) fn page_text(doc: &Document) -> String {
    doc.select(INVISIBLE).remove();
    let body = doc.select("body");
    let text = if body.exists() { body.formatted_text() } else { doc.formatted_text() };
    tidy_text(&text)
}

impl Extractor for PageTextExtractor {
    fn name(&self) -> &'static str {
        "page"
    }

    fn extract(&self, html: &str, _url: Option<&str>) -> Result<Extracted, ExtractError> {
        if self.limits.check(html).is_err() {
            return Ok(Extracted { text: strip_tags(html), fell_back: true, ..Extracted::default() });
        }
        let doc = Document::from(html);
        let mut out = Extracted::default();
        read_metadata(&doc, &mut out);
        out.text = page_text(&doc);
        Ok(out)
    }
}

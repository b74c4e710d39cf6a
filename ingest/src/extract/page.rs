//! Whole-page visible text: resiliparse's `extract_plain_text(main_content=False)` walk (scripts, styles,
//! templates and form controls removed; block breaks, list bullets and table layout kept).

use super::metadata::read_dom_metadata;
use super::resiliparse::ResiliparseExtractor;
use super::{strip_tags, ExtractError, ExtractLimits, Extracted, Extractor};

/// The visible text of the whole page. Pages over the [`ExtractLimits`] get tag-stripped text instead of a
/// DOM walk, so this extractor always answers.
pub struct PageTextExtractor {
    limits: ExtractLimits,
    walker: ResiliparseExtractor,
}

impl PageTextExtractor {
    pub fn new(limits: ExtractLimits) -> Self {
        PageTextExtractor { limits, walker: ResiliparseExtractor::new(limits, false) }
    }
}

impl Extractor for PageTextExtractor {
    fn name(&self) -> &'static str {
        "page"
    }

    fn extract(&self, html: &str, _url: Option<&str>) -> Result<Extracted, ExtractError> {
        let Ok(dom) = self.limits.parse(html) else {
            return Ok(Extracted { text: strip_tags(html), fell_back: true, ..Extracted::default() });
        };
        let mut out = Extracted::default();
        read_dom_metadata(&dom, &mut out);
        out.text = self.walker.plain_text(&dom);
        Ok(out)
    }
}

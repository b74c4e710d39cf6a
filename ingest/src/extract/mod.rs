//! HTML → text extraction behind one [`Extractor`] trait, selected in the recipe by [`ExtractorKind`].
//!
//! Every extractor parses with sluice's own HTML5 parser ([`dom`]), then walks the tree:
//! * `article` (default): the page's main article — Readability's content scoring picks its subtrees,
//!   resiliparse's main-content walk turns them into text (F1 0.961 on the ScrapingHub benchmark; see
//!   `docs/extraction.md`). Pages where no article is found fall back to the main-content text, so nothing
//!   is lost to the extractor's judgement at ingest time; filters decide later.
//! * `resiliparse`: resiliparse's `extract_plain_text(main_content=True)`, reproduced (DCLM-Pool's extractor).
//! * `page`: the whole page's visible text, with block breaks.
//!
//! All also return page metadata: title, `<html lang>`, meta description, canonical URL.

mod article;
pub mod dom;
mod metadata;
mod page;
mod resiliparse;
pub mod score;
mod strip;

use serde::{Deserialize, Serialize};

pub use article::ArticleExtractor;
pub use page::PageTextExtractor;
pub use resiliparse::ResiliparseExtractor;
pub use strip::strip_tags;

/// Text and metadata extracted from one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub text: String,
    pub title: Option<String>,
    /// `<html lang>` as written.
    pub language: Option<String>,
    pub description: Option<String>,
    pub canonical_url: Option<String>,
    /// True when the main-content extractor found nothing and the page text was used instead.
    pub fell_back: bool,
}

/// Why extraction failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractError {
    #[error("page has {0} elements, more than the limit of {1}")]
    TooManyElements(usize, usize),
    #[error("page nests elements {0} deep, more than the limit of {1}")]
    TooDeep(usize, usize),
    #[error("extraction failed: {0}")]
    Failed(String),
}

/// An HTML-to-text extractor. Implementations are pure: same HTML and URL, same output.
pub trait Extractor: Send + Sync {
    fn name(&self) -> &'static str;
    fn extract(&self, html: &str, url: Option<&str>) -> Result<Extracted, ExtractError>;
}

/// The extractors a recipe can choose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractorKind {
    #[default]
    Article,
    Page,
    /// resiliparse's `extract_plain_text(main_content=True)`, as DCLM-Pool was extracted.
    Resiliparse,
}

/// Limits every extractor honours, so one pathological page cannot stall a shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractLimits {
    /// Pages with more elements than this are not parsed into a DOM (tag-stripped text is used).
    pub max_elements: usize,
    /// Pages nesting elements deeper than this are not parsed into a DOM (tag-stripped text is used).
    pub max_depth: usize,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits { max_elements: 100_000, max_depth: 512 }
    }
}

impl ExtractLimits {
    /// Parses a page into sluice's DOM, stopping (with an error) once it passes the limits.
    pub fn parse(&self, html: &str) -> Result<dom::Dom, ExtractError> {
        let limits = dom::TreeLimits { max_elements: self.max_elements, max_depth: self.max_depth };
        dom::Dom::parse_within(html, limits).map_err(|exceeded| match exceeded {
            dom::LimitExceeded::Elements(found) => ExtractError::TooManyElements(found, self.max_elements),
            dom::LimitExceeded::Depth(found) => ExtractError::TooDeep(found, self.max_depth),
        })
    }
}

impl ExtractorKind {
    pub fn build(self, limits: ExtractLimits) -> Box<dyn Extractor> {
        match self {
            ExtractorKind::Article => Box::new(ArticleExtractor::new(limits)),
            ExtractorKind::Page => Box::new(PageTextExtractor::new(limits)),
            ExtractorKind::Resiliparse => Box::new(ResiliparseExtractor::new(limits, true)),
        }
    }
}

//! HTML → text extraction behind one [`Extractor`] trait, selected in the recipe by [`ExtractorKind`].
//!
//! * `article` (default): main-content extraction with `dom_smoothie` (a Readability.js port; F1 0.951 on
//!   the ScrapingHub benchmark at ~2.8 ms/page, per `shared/spec/CRATES.md`) in its formatted-text mode
//!   (paragraph breaks kept). Pages where no article is found fall back to the page text, so nothing is
//!   lost to the extractor's judgement at ingest time; filters decide later.
//! * `page`: the whole page's visible text (scripts, styles and templates removed), with block breaks.
//!
//! Both also return page metadata: title, `<html lang>`, meta description, canonical URL.

mod article;
pub mod dom;
mod metadata;
mod page;
mod resiliparse;
pub mod score;
mod shape;

use serde::{Deserialize, Serialize};

pub use article::ArticleExtractor;
pub use page::PageTextExtractor;
pub use resiliparse::ResiliparseExtractor;
pub use shape::{shape, strip_tags, Shape};

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

    /// Checks a page against the limits with a linear pre-scan, before any DOM is built.
    pub fn check(&self, html: &str) -> Result<(), ExtractError> {
        let shape = shape(html, self.max_elements, self.max_depth);
        if shape.elements > self.max_elements {
            return Err(ExtractError::TooManyElements(shape.elements, self.max_elements));
        }
        if shape.max_depth > self.max_depth {
            return Err(ExtractError::TooDeep(shape.max_depth, self.max_depth));
        }
        Ok(())
    }
}

/// Tags that start a block of text (resiliparse's list, shared by the tag-stripping fallback).
pub(crate) fn resiliparse_blocks(tag: &str) -> bool {
    resiliparse::is_block(dom::Tag::from_name(tag))
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

/// Collapses runs of blank lines to one and trims every line's trailing whitespace.
pub(crate) fn tidy_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

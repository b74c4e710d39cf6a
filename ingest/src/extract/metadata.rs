//! Page metadata read from the parsed DOM: title, language, description, canonical URL.
//!
//! Only `<html>` and the children of `<head>` are visited (not the whole tree): this runs on every page.

use super::dom::{Dom, Tag};
use super::Extracted;

fn squeeze(text: &str) -> Option<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn dom_attr_is(dom: &Dom, node: u32, name: &str, value: &str) -> bool {
    dom.attr(node, name).is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
}

/// Fills `title`, `language`, `description` and `canonical_url` of `out` from `dom`.
pub(crate) fn read_dom_metadata(dom: &Dom, out: &mut Extracted) {
    let Some(html) = dom.html() else { return };
    out.language = dom.attr(html, "lang").and_then(squeeze);
    let Some(head) = dom.head() else { return };
    let mut og_description = None;
    for child in dom.children(head) {
        match dom.tag(child) {
            Tag::Title if out.title.is_none() => out.title = squeeze(&dom.text_content(child)),
            Tag::Meta => {
                if dom_attr_is(dom, child, "name", "description") && out.description.is_none() {
                    out.description = dom.attr(child, "content").and_then(squeeze);
                } else if dom_attr_is(dom, child, "property", "og:description") && og_description.is_none() {
                    og_description = dom.attr(child, "content").and_then(squeeze);
                }
            }
            Tag::Link if dom_attr_is(dom, child, "rel", "canonical") && out.canonical_url.is_none() => {
                out.canonical_url = dom.attr(child, "href").and_then(squeeze);
            }
            _ => {}
        }
    }
    if out.description.is_none() {
        out.description = og_description;
    }
}

/// Whether the page declares itself an article (`<meta property="og:type" content="article">`, Open Graph's
/// type for news and blog posts; listings, products and sites declare `website`, `product`, … or nothing).
/// The whole document is searched: a stray element in `<head>` moves the metas after it into `<body>`.
pub(crate) fn declares_article(dom: &Dom) -> bool {
    let Some(html) = dom.html() else { return false };
    dom.descendants(html).any(|node| {
        dom.is_element(node)
            && dom.tag(node) == Tag::Meta
            && dom_attr_is(dom, node, "property", "og:type")
            && dom_attr_is(dom, node, "content", "article")
    })
}

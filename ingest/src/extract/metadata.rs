//! Page metadata read from the parsed DOM: title, language, description, canonical URL.
//!
//! Only `<html>` and the children of `<head>` are visited (not the whole tree): this runs on every page.

use dom_query::{Document, NodeRef};

use super::dom::{Dom, Tag};
use super::Extracted;

fn squeeze(text: &str) -> Option<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn attr_is(node: &NodeRef, name: &str, value: &str) -> bool {
    node.attr(name).is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
}

/// Fills `title`, `language`, `description` and `canonical_url` of `out` from `doc`.
pub(crate) fn read_metadata(doc: &Document, out: &mut Extracted) {
    let Some(html) = doc.root().element_children().into_iter().find(|n| n.has_name("html")) else { return };
    out.language = html.attr("lang").and_then(|l| squeeze(&l));
    let Some(head) = html.element_children().into_iter().find(|n| n.has_name("head")) else { return };
    let mut og_description = None;
    for child in head.element_children() {
        if child.has_name("title") && out.title.is_none() {
            out.title = squeeze(&child.text());
        } else if child.has_name("meta") {
            if attr_is(&child, "name", "description") && out.description.is_none() {
                out.description = child.attr("content").and_then(|c| squeeze(&c));
            } else if attr_is(&child, "property", "og:description") && og_description.is_none() {
                og_description = child.attr("content").and_then(|c| squeeze(&c));
            }
        } else if child.has_name("link") && attr_is(&child, "rel", "canonical") && out.canonical_url.is_none() {
            out.canonical_url = child.attr("href").and_then(|h| squeeze(&h));
        }
    }
    if out.description.is_none() {
        out.description = og_description;
    }
}

fn dom_attr_is(dom: &Dom, node: u32, name: &str, value: &str) -> bool {
    dom.attr(node, name).is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
}

/// [`read_metadata`] for sluice's own [`Dom`].
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

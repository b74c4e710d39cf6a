//! Step 3 of the resiliparse walk: merging traversal events into runs of text.

use crate::extract::dom::{Dom, NodeId, Tag};

/// Tags that start a new block of text.
pub(crate) fn is_block(tag: Tag) -> bool {
    use Tag::*;
    matches!(
        tag,
        Address
            | Article
            | Aside
            | Blockquote
            | Br
            | Center
            | Details
            | Dd
            | Dt
            | Div
            | Dl
            | Fieldset
            | Figcaption
            | Figure
            | Footer
            | Form
            | H1
            | H2
            | H3
            | H4
            | H5
            | H6
            | Header
            | Hgroup
            | Hr
            | Li
            | Main
            | Nav
            | Ol
            | P
            | Pre
            | Section
            | Table
            | Tr
            | Ul
    )
}

/// One run: the event that opened it and the text gathered since.
#[derive(Debug, Clone)]
pub(crate) struct ExtractNode {
    /// Tag of the opening event (`Other` for a text node).
    pub tag: Tag,
    /// Depth of the opening event below the walk's root.
    pub depth: usize,
    /// `<pre>` nesting after the opening event.
    pub pre_depth: usize,
    /// False once a `<br>` joined the run: its line breaks then add up instead of collapsing.
    pub collapse_margins: bool,
    pub block: bool,
    /// Paragraphs and `h1`–`h4` ask for a blank line.
    pub big_block: bool,
    /// Opened by an element's exit event.
    pub end: bool,
    pub text: Option<String>,
}

/// Adds one traversal event to `nodes`.
pub(crate) fn collect(nodes: &mut Vec<ExtractNode>, dom: &Dom, node: NodeId, tag: Tag, depth: usize, end: bool) {
    let block = is_block(tag);
    let starts_run = match nodes.last() {
        None => true,
        Some(last) => block || depth < last.depth || matches!(tag, Tag::Td | Tag::Th),
    };
    if starts_run {
        let mut pre_depth = nodes.last().map_or(0, |n| n.pre_depth);
        if tag == Tag::Pre {
            pre_depth = if end { pre_depth.saturating_sub(1) } else { pre_depth + 1 };
        }
        let big_block = matches!(tag, Tag::P | Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4);
        nodes.push(ExtractNode { tag, depth, pre_depth, collapse_margins: true, block, big_block, end, text: None });
    }
    let Some(current) = nodes.last_mut() else {
        return;
    };
    let text = if dom.is_text(node) {
        dom.text(node)
    } else if !dom.is_element(node) {
        return;
    } else if tag == Tag::Br {
        current.collapse_margins = false;
        ""
    } else if tag == Tag::Img || tag == Tag::Area {
        dom.attr(node, "alt").unwrap_or_default()
    } else {
        return;
    };
    current.text.get_or_insert_with(String::new).push_str(text);
}

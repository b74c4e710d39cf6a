//! Step 3 of the resiliparse walk: merging traversal events into runs of text.

use dom_query::NodeRef;


/// Tags that start a new block of text.
pub(crate) fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "address" | "article" | "aside" | "blockquote" | "br" | "center" | "details" | "dd" | "dt" | "div" | "dl"
            | "fieldset" | "figcaption" | "figure" | "footer" | "form" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "header" | "hgroup" | "hr" | "li" | "main" | "nav" | "ol" | "p" | "pre" | "section" | "table" | "tr"
            | "ul"
    )
}

/// One run: the event that opened it and the text gathered since.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtractNode {
    /// Tag of the opening event ("" for a text node).
    pub tag: String,
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
pub(crate) fn collect(nodes: &mut Vec<ExtractNode>, node: &NodeRef, tag: String, depth: usize, end: bool) {
    let block = is_block(&tag);
    let starts_run = match nodes.last() {
        None => true,
        Some(last) => block || depth < last.depth || tag == "td" || tag == "th",
    };
    if starts_run {
        let mut pre_depth = nodes.last().map_or(0, |n| n.pre_depth);
        if tag == "pre" {
            pre_depth = if end { pre_depth.saturating_sub(1) } else { pre_depth + 1 };
        }
        let big_block = matches!(tag.as_str(), "p" | "h1" | "h2" | "h3" | "h4");
        nodes.push(ExtractNode { tag: tag.clone(), depth, pre_depth, collapse_margins: true, block, big_block, end, text: None });
    }
    let Some(current) = nodes.last_mut() else { return };
    let text = if node.is_text() {
        node.text().to_string()
    } else if !node.is_element() {
        return;
    } else if tag == "br" {
        current.collapse_margins = false;
        String::new()
    } else if tag == "img" || tag == "area" {
        node.attr("alt").map(|a| a.to_string()).unwrap_or_default()
    } else {
        return;
    };
    current.text.get_or_insert_with(String::new).push_str(&text);
}

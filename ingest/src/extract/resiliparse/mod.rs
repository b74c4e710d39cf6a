//! The `resiliparse` extractor: reproduces `resiliparse.extract.html2text.extract_plain_text(html,
//! main_content=True)` with its default options — the extractor DCLM-Pool was built with — so that the
//! heuristic filters downstream see text shaped exactly like DCLM's.
//!
//! Resiliparse (chatnoir-eu/chatnoir-resiliparse, Apache-2.0) parses with lexbor; sluice parses with
//! html5ever. Both build the HTML5-specified tree, so the walk below sees the same nodes. The behaviour
//! reproduced here was read from resiliparse 2.0's `extract/html2text.rs` and `extract/filters.rs`:
//! 1. **Root.** With main-content on, if exactly one element under `<body>` matches the candidate selectors
//!    (`.article-body`, `.articleBody`, `.contentBody`, `.article-text`, `.main-content`, `.postcontent`,
//!    `.post-content`, `.single-post`, `[role=main]`, each element counted once per selector it matches),
//!    extraction starts there; otherwise at `<body>`.
//! 2. **Walk.** A pre-order walk emits an *enter* event for every element and text node and an *exit*
//!    event for elements whose children were walked. Subtrees are skipped for `script`, `style`, `iframe`,
//!    `frame`, `template`, `noscript`, form controls (`textarea`, `input`, `button`, `select`, `option`,
//!    `label`), and elements the main-content heuristics reject ([`main_content`]).
//! 3. **Collect** ([`collect`]): events are merged into runs of inline text; a block element, a table
//!    cell, or a step back up the tree starts a new run. `<br>` forces a line break, `<img>`/`<area>`
//!    contribute their `alt` text.
//! 4. **Serialize** ([`serialize`]): whitespace collapses to single spaces outside `<pre>`; blocks are
//!    separated by one newline, paragraphs and `h1`–`h4` by a blank line; list items get `• ` or `1. `
//!    bullets and two spaces of indentation per level; table cells in a row are separated by two tabs.

mod collect;
mod main_content;
mod serialize;

use dom_query::{Document, NodeRef};

use super::metadata::read_metadata;
use super::{ExtractError, ExtractLimits, Extracted, Extractor};
use collect::{collect, ExtractNode};
pub(crate) use collect::is_block;

/// Subtrees never extracted (resiliparse's defaults: no noscript, no form fields).
fn is_skipped_tag(tag: &str) -> bool {
    matches!(
        tag,
        "script" | "style" | "iframe" | "frame" | "template" | "noscript" | "textarea" | "input" | "button" | "select" | "option" | "label"
    )
}

/// The lower-case local name of an element ("" for other nodes).
pub(crate) fn tag_of(node: &NodeRef) -> String {
    node.node_name().map(|n| n.to_ascii_lowercase()).unwrap_or_default()
}

pub struct ResiliparseExtractor {
    limits: ExtractLimits,
    main_content: bool,
}

impl ResiliparseExtractor {
    /// `main_content` as in resiliparse (DCLM used `true`).
    pub fn new(limits: ExtractLimits, main_content: bool) -> Self {
        ResiliparseExtractor { limits, main_content }
    }
}

impl Extractor for ResiliparseExtractor {
    fn name(&self) -> &'static str {
        "resiliparse"
    }

    fn extract(&self, html: &str, _url: Option<&str>) -> Result<Extracted, ExtractError> {
        self.limits.check(html)?;
        let doc = Document::from(html);
        let mut out = Extracted::default();
        read_metadata(&doc, &mut out);
        out.text = self.plain_text(&doc)?;
        Ok(out)
    }
}

impl ResiliparseExtractor {
    fn plain_text(&self, doc: &Document) -> Result<String, ExtractError> {
        let Some(body) = doc.body() else { return Ok(String::new()) };
        let root = if self.main_content { main_content::candidate_root(&body).unwrap_or(body) } else { body };
        // Depths in the main-content rules count from <body>, wherever the walk starts.
        let mut base_depth = 0;
        let mut parent = root.clone();
        while tag_of(&parent) != "body" {
            let Some(next) = parent.parent() else { break };
            parent = next;
            base_depth += 1;
        }
        Ok(serialize::serialize(self.walk(&root, base_depth)))
    }

    /// The pre-order walk with enter/exit events (see the module docs).
    fn walk(&self, root: &NodeRef, base_depth: usize) -> Vec<ExtractNode> {
        let mut nodes = Vec::new();
        let mut current = Some(root.clone());
        let mut depth = 0usize;
        let mut end = false;
        while let Some(node) = current {
            let tag = tag_of(&node);
            let visible = (node.is_element() || node.is_text())
                && !is_skipped_tag(&tag)
                && (!self.main_content || main_content::is_main_content(&node, &tag, depth + base_depth));
            if visible {
                collect(&mut nodes, &node, tag, depth, end);
            } else {
                end = true;
            }
            if !end {
                if let Some(child) = node.first_child() {
                    depth += 1;
                    current = Some(child);
                    continue;
                }
            }
            if node.id == root.id {
                current = None;
            } else if let Some(next) = node.next_sibling() {
                end = false;
                current = Some(next);
            } else {
                end = true;
                depth = depth.saturating_sub(1);
                current = node.parent();
            }
        }
        nodes
    }
}

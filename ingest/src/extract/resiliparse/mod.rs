//! The `resiliparse` extractor: reproduces `resiliparse.extract.html2text.extract_plain_text(html,
//! main_content=True)` with its default options — the extractor DCLM-Pool was built with — so that the
//! heuristic filters downstream see text shaped exactly like DCLM's.
//!
//! Resiliparse (chatnoir-eu/chatnoir-resiliparse, Apache-2.0) parses with lexbor; sluice parses with its
//! own HTML5 tree builder ([`crate::extract::dom`]). Both build the HTML5-specified tree, so the walk below
//! sees the same nodes. The behaviour
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
use main_content::Rules;
pub(crate) use main_content::{is_streamed_segment, style_hides};
mod serialize;

use super::dom::{Dom, NodeId, Tag};
use super::metadata::read_dom_metadata;
use super::{ExtractError, ExtractLimits, Extracted, Extractor};
pub(crate) use collect::is_block;
use collect::{collect, ExtractNode};

/// Subtrees never extracted (resiliparse's defaults: no noscript, no form fields).
fn is_skipped_tag(tag: Tag) -> bool {
    use Tag::*;
    matches!(
        tag,
        Script | Style | Iframe | Frame | Template | Noscript | Textarea | Input | Button | Select | OptionEl | Label
    )
}

/// Inside the article's subtrees a list is dropped as navigation only when most of its text is links:
/// resiliparse's 0.2 drops a post that is a list of sources, downloads or products.
pub(crate) const ARTICLE_LIST_LINK_RATIO: f64 = 0.5;

pub struct ResiliparseExtractor {
    limits: ExtractLimits,
    main_content: bool,
    /// resiliparse's own rules, or the `article` extractor's departures from them ([`Rules`]).
    rules: Rules,
}

impl ResiliparseExtractor {
    /// `main_content` as in resiliparse (DCLM used `true`).
    pub fn new(limits: ExtractLimits, main_content: bool) -> Self {
        ResiliparseExtractor { limits, main_content, rules: Rules::RESILIPARSE }
    }

    /// The walker for text already known to be the article: shallow lists are content (the article's
    /// subtrees are already chosen), and so are React's streamed segments and promoted posts.
    pub(crate) fn for_article(mut self) -> Self {
        self.rules = Rules {
            drop_shallow_lists: false,
            show_streamed: true,
            list_link_ratio: ARTICLE_LIST_LINK_RATIO,
            cards: false,
            cap_ads: true,
            exact_icon_glyphs: true,
            quoted_posts: true,
        };
        self
    }

    /// The article walker for a page that does not declare itself an article: links around a title and a
    /// summary (cards) are content, not link clusters — a catalogue's, a documentation index's entries.
    /// On news articles such cards are teasers of other stories.
    pub(crate) fn with_cards(mut self) -> Self {
        self.rules.cards = true;
        self
    }
}

impl Extractor for ResiliparseExtractor {
    fn name(&self) -> &'static str {
        "resiliparse"
    }

    fn extract(&self, html: &str, _url: Option<&str>) -> Result<Extracted, ExtractError> {
        let dom = self.limits.parse(html)?;
        let mut out = Extracted::default();
        read_dom_metadata(&dom, &mut out);
        out.text = self.plain_text(&dom);
        Ok(out)
    }
}

impl ResiliparseExtractor {
    /// The extracted text of an already-parsed page.
    pub(crate) fn plain_text(&self, dom: &Dom) -> String {
        let Some(body) = dom.body() else {
            return String::new();
        };
        let root = if self.main_content { main_content::candidate_root(dom, body).unwrap_or(body) } else { body };
        self.text_of_subtrees(dom, &[root], &|_| false)
    }

    /// The text of the subtrees at `roots` (in order), each walked with the main-content rules as if the
    /// walk had started at `<body>`.
    pub(crate) fn text_of_subtrees(&self, dom: &Dom, roots: &[NodeId], skip: &dyn Fn(NodeId) -> bool) -> String {
        let mut nodes = Vec::new();
        for &root in roots {
            // Depths in the main-content rules count from <body>, wherever the walk starts.
            let base_depth =
                std::iter::successors(Some(root), |&n| dom.parent(n)).take_while(|&n| dom.tag(n) != Tag::Body).count();
            nodes.extend(self.walk(dom, root, base_depth, skip));
        }
        serialize::serialize(nodes)
    }

    /// The pre-order walk with enter/exit events (see the module docs).
    fn walk(&self, dom: &Dom, root: NodeId, base_depth: usize, skip: &dyn Fn(NodeId) -> bool) -> Vec<ExtractNode> {
        let mut nodes = Vec::new();
        let mut current = Some(root);
        let mut depth = 0usize;
        let mut end = false;
        while let Some(node) = current {
            let tag = dom.tag(node);
            let visible = (dom.is_element(node) || dom.is_text(node))
                && !is_skipped_tag(tag)
                && !skip(node)
                && (!self.main_content
                    || main_content::is_main_content(dom, node, tag, depth + base_depth, self.rules));
            if visible {
                collect(&mut nodes, dom, node, tag, depth, end);
            } else {
                end = true;
            }
            if !end {
                if let Some(child) = dom.first_child(node) {
                    depth += 1;
                    current = Some(child);
                    continue;
                }
            }
            if node == root {
                current = None;
            } else if let Some(next) = dom.next_sibling(node) {
                end = false;
                current = Some(next);
            } else {
                end = true;
                depth = depth.saturating_sub(1);
                current = dom.parent(node);
            }
        }
        nodes
    }
}

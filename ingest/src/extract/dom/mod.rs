//! sluice's own HTML DOM: an HTML5 tokenizer and tree builder writing into one arena.
//!
//! Why not html5ever: building html5ever's tree (reference-counted nodes, string interning, per-node
//! attribute vectors) cost more than resiliparse's whole extraction (lexbor + walk), so no extractor on it
//! could be faster than resiliparse. Here the tree is a `Vec` of nodes linked by `u32` indices, all text
//! and attribute strings live in one buffer, and known element names are a one-byte [`Tag`].
//!
//! The tree builder implements the WHATWG tree-construction rules that shape text extraction: implied
//! `html`/`head`/`body`, implied end tags, `<p>` closing, list items, headings, formatting elements with
//! the adoption agency and reconstruction, tables with implied sections and foster parenting, `<select>`,
//! raw text, and SVG/MathML content; template contents are detached, as a separate fragment would be. Left
//! out: `<frameset>` documents beyond their frames, and error reporting. The `resiliparse` extractor's text
//! on this tree equals resiliparse's (lexbor's tree) on all 1,482 pages of `make bench-extract`;
//! `tests/extraction.rs` checks the 240 bundled ones.

mod entities;
mod tags;
mod tokenizer;
mod tree;

pub use tags::Tag;
pub use tokenizer::{TokenKind, Tokenizer};

/// An index into [`Dom::nodes`].
pub type NodeId = u32;

/// "No node" in the links of [`Node`].
pub const NONE: NodeId = u32::MAX;

/// A byte range in [`Dom`]'s string buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeData {
    Document,
    Doctype,
    Comment,
    Text(Span),
    Element(Element),
}

/// Which markup language an element belongs to (SVG and MathML subtrees parse differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    Html,
    Svg,
    MathMl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    pub tag: Tag,
    pub namespace: Namespace,
    /// The lower-cased name (kept for every element: `Tag::Other` has no other).
    pub name: Span,
    /// Range of [`Dom::attrs`].
    pub attrs: (u32, u32),
}

/// One attribute: lower-cased name and decoded value.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: Span,
    pub value: Span,
}

#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub parent: NodeId,
    pub first_child: NodeId,
    pub last_child: NodeId,
    pub prev_sibling: NodeId,
    pub next_sibling: NodeId,
    pub data: NodeData,
}

/// A parsed page.
#[derive(Debug, Clone)]
pub struct Dom {
    pub nodes: Vec<Node>,
    pub attrs: Vec<Attr>,
    strings: String,
    html: Option<NodeId>,
    head: Option<NodeId>,
    body: Option<NodeId>,
    /// Whether the page is in quirks mode (no or a legacy doctype): CSS class matching is then
    /// case-insensitive, which resiliparse's selectors honour.
    pub quirks: bool,
}

fn some(id: NodeId) -> Option<NodeId> {
    (id != NONE).then_some(id)
}

/// Bounds on the tree a page may build. Tree construction checks "element in scope" by walking the stack
/// of open elements, so unbounded nesting would make parsing quadratic; parsing stops once a bound is
/// passed, after work linear in the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeLimits {
    pub max_elements: usize,
    pub max_depth: usize,
}

impl TreeLimits {
    pub const NONE: TreeLimits = TreeLimits { max_elements: usize::MAX, max_depth: usize::MAX };
}

/// Which bound a page passed (with the count reached when parsing stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitExceeded {
    Elements(usize),
    Depth(usize),
}

impl Dom {
    /// Parses `html` as an HTML5 document, without limits (line breaks normalised as the specification's
    /// input stream does).
    pub fn parse(html: &str) -> Dom {
        match Dom::parse_within(html, TreeLimits::NONE) {
            Ok(dom) => dom,
            Err(_) => unreachable!("no limits to exceed"),
        }
    }

    /// Parses `html`, stopping as soon as the tree passes one of `limits`.
    pub fn parse_within(html: &str, limits: TreeLimits) -> Result<Dom, LimitExceeded> {
        if memchr::memchr(b'\r', html.as_bytes()).is_some() {
            let normalised = html.replace("\r\n", "\n").replace('\r', "\n");
            return tree::build(&normalised, limits);
        }
        tree::build(html, limits)
    }

    fn empty(capacity: usize) -> Dom {
        let document = Node {
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            prev_sibling: NONE,
            next_sibling: NONE,
            data: NodeData::Document,
        };
        let mut nodes = Vec::with_capacity(capacity / 40 + 16);
        nodes.push(document);
        Dom {
            nodes,
            attrs: Vec::new(),
            strings: String::with_capacity(capacity / 2),
            html: None,
            head: None,
            body: None,
            quirks: false,
        }
    }

    /// The document node.
    pub fn root(&self) -> NodeId {
        0
    }

    pub fn html(&self) -> Option<NodeId> {
        self.html
    }

    pub fn head(&self) -> Option<NodeId> {
        self.head
    }

    pub fn body(&self) -> Option<NodeId> {
        self.body
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        some(self.node(id).parent)
    }

    pub fn first_child(&self, id: NodeId) -> Option<NodeId> {
        some(self.node(id).first_child)
    }

    pub fn next_sibling(&self, id: NodeId) -> Option<NodeId> {
        some(self.node(id).next_sibling)
    }

    pub fn prev_sibling(&self, id: NodeId) -> Option<NodeId> {
        some(self.node(id).prev_sibling)
    }

    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.first_child(id), move |&c| self.next_sibling(c))
    }

    /// The children of `id`, last first.
    pub fn children_rev(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(some(self.node(id).last_child), move |&c| self.prev_sibling(c))
    }

    /// Whether `node` is `ancestor` or lies below it.
    pub fn is_inside(&self, node: NodeId, ancestor: NodeId) -> bool {
        std::iter::successors(Some(node), |&n| self.parent(n)).any(|n| n == ancestor)
    }

    /// Every node below `id` in document order (pre-order), `id` excluded.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_> {
        Descendants { dom: self, root: id, next: self.first_child(id) }
    }

    pub fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.node(id).data {
            NodeData::Element(e) => Some(e),
            _ => None,
        }
    }

    pub fn is_element(&self, id: NodeId) -> bool {
        matches!(self.node(id).data, NodeData::Element(_))
    }

    pub fn is_text(&self, id: NodeId) -> bool {
        matches!(self.node(id).data, NodeData::Text(_))
    }

    /// The element's tag (`Tag::Other` for unknown elements and for non-elements).
    pub fn tag(&self, id: NodeId) -> Tag {
        self.element(id).map_or(Tag::Other, |e| e.tag)
    }

    /// The element's lower-case name ("" for non-elements).
    pub fn tag_name(&self, id: NodeId) -> &str {
        self.element(id).map_or("", |e| self.span(e.name))
    }

    /// Whether `id` is an HTML element with tag `tag`.
    pub fn is(&self, id: NodeId, tag: Tag) -> bool {
        self.element(id).is_some_and(|e| e.tag == tag && e.namespace == Namespace::Html)
    }

    pub fn attrs(&self, id: NodeId) -> &[Attr] {
        match self.element(id) {
            Some(e) => &self.attrs[e.attrs.0 as usize..e.attrs.1 as usize],
            None => &[],
        }
    }

    /// The value of attribute `name` (lower case).
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.attrs(id).iter().find(|a| self.span(a.name) == name).map(|a| self.span(a.value))
    }

    pub fn has_attr(&self, id: NodeId, name: &str) -> bool {
        self.attr(id, name).is_some()
    }

    /// A text node's text ("" for other nodes).
    pub fn text(&self, id: NodeId) -> &str {
        match self.node(id).data {
            NodeData::Text(span) => self.span(span),
            _ => "",
        }
    }

    /// The concatenated text of every text node below `id` (or of `id` itself).
    pub fn text_content(&self, id: NodeId) -> String {
        if self.is_text(id) {
            return self.text(id).to_string();
        }
        self.descendants(id).filter(|&d| self.is_text(d)).map(|d| self.text(d)).collect()
    }

    pub fn span(&self, span: Span) -> &str {
        &self.strings[span.start as usize..span.end as usize]
    }
}

/// Pre-order iterator over a subtree (see [`Dom::descendants`]).
pub struct Descendants<'a> {
    dom: &'a Dom,
    root: NodeId,
    next: Option<NodeId>,
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let current = self.next?;
        let dom = self.dom;
        self.next = dom.first_child(current).or_else(|| {
            let mut at = current;
            loop {
                if at == self.root {
                    return None;
                }
                if let Some(sibling) = dom.next_sibling(at) {
                    return Some(sibling);
                }
                at = dom.parent(at)?;
            }
        });
        Some(current)
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn parsing_stops_at_the_limits() {
        let limits = TreeLimits { max_elements: 1_000, max_depth: 64 };
        let deep = format!("<body>{}x", "<div>".repeat(150_000));
        assert_eq!(Dom::parse_within(&deep, limits).unwrap_err(), LimitExceeded::Depth(65));
        let wide = format!("<body>{}", "<p>x</p>".repeat(150_000));
        assert_eq!(Dom::parse_within(&wide, limits).unwrap_err(), LimitExceeded::Elements(1_001));
        // Misnested formatting elements are reconstructed, and count towards the depth.
        let unclosed = format!("<body>{}text", "<b><i>".repeat(5_000));
        assert!(matches!(Dom::parse_within(&unclosed, limits), Err(LimitExceeded::Depth(65))));
    }
}

//! HTML5 tree construction (WHATWG §13.2.6) into the arena of [`Dom`]: insertion modes, the stack of open
//! elements, the list of active formatting elements, the adoption agency, foster parenting.
//! Function names follow the specification's algorithm names so the code can be read beside it.

// Each match arm is one of the specification's token cases, and the `if` inside it the case's steps; as a
// guard the condition would send a token that fails it on to the other cases, which reads unlike the spec.
#![allow(clippy::collapsible_match)]

use super::tags::Tag::{self, *};
use super::tokenizer::{TokenKind, Tokenizer};
use super::{Attr, Dom, Element, LimitExceeded, Namespace, Node, NodeData, NodeId, Span, TreeLimits, NONE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Initial,
    BeforeHtml,
    BeforeHead,
    InHead,
    InHeadNoscript,
    AfterHead,
    InBody,
    InTable,
    InCaption,
    InColumnGroup,
    InTableBody,
    InRow,
    InCell,
    InSelect,
    InSelectInTable,
    AfterBody,
    InFrameset,
}

/// Which elements bound an "has an element in … scope" search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Default,
    ListItem,
    Button,
    Table,
    Select,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Active {
    Marker,
    Element(NodeId),
}

/// One token, copied out of the tokenizer so it can be reprocessed in another mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Start {
        tag: Tag,
        self_closing: bool,
    },
    End {
        tag: Tag,
    },
    Text,
    Comment,
    Doctype,
    /// The end of input: creates whatever `html`/`head`/`body` is still missing.
    Eof,
}

struct Builder<'a> {
    dom: Dom,
    tok: Tokenizer<'a>,
    mode: Mode,
    /// The mode to return to after raw text.
    text_return: Option<Mode>,
    stack: Vec<NodeId>,
    /// Per node: whether it is on the stack of open elements (O(1) membership for reconstruction).
    open: Vec<bool>,
    active: Vec<Active>,
    head: Option<NodeId>,
    form: Option<NodeId>,
    quirks: bool,
    foster_parenting: bool,
    /// Drop one leading newline from the next text (`<pre>`, `<listing>`, `<textarea>`).
    skip_newline: bool,
    /// Text of the current text token, possibly with a leading part already consumed.
    text_from: usize,
    limits: TreeLimits,
    elements: usize,
    exceeded: Option<LimitExceeded>,
}

pub(super) fn build(html: &str, limits: TreeLimits) -> Result<Dom, LimitExceeded> {
    let mut b = Builder {
        dom: Dom::empty(html.len()),
        tok: Tokenizer::new(html),
        mode: Mode::Initial,
        text_return: None,
        stack: Vec::with_capacity(64),
        open: vec![false],
        active: Vec::new(),
        head: None,
        form: None,
        quirks: false,
        foster_parenting: false,
        skip_newline: false,
        text_from: 0,
        limits,
        elements: 0,
        exceeded: None,
    };
    while let Some(kind) = b.tok.next_token() {
        let token = match kind {
            TokenKind::StartTag => Token::Start { tag: b.tok.tag, self_closing: b.tok.self_closing },
            TokenKind::EndTag => Token::End { tag: b.tok.tag },
            TokenKind::Text => Token::Text,
            TokenKind::Comment => Token::Comment,
            TokenKind::Doctype => Token::Doctype,
        };
        b.text_from = 0;
        b.dispatch(token);
        if let Some(exceeded) = b.exceeded {
            return Err(exceeded);
        }
        b.tok.allow_cdata = b.stack.last().is_some_and(|&n| b.namespace(n) != Namespace::Html);
    }
    b.dispatch(Token::Eof);
    b.detach_template_contents();
    b.dom.quirks = b.quirks;
    Ok(b.dom)
}

/// See [`Builder::merge_attributes`].
const MAX_MERGED_ATTRS: u32 = 256;

/// Text appended next to an existing text node that is not at the end of the string buffer is merged by
/// copying only while the node is shorter than this; longer nodes get a new sibling text node instead, so
/// that text foster-parented again and again before one table stays linear. (Extractors read adjacent
/// text nodes as one run.)
const MAX_COPIED_TEXT: u32 = 4096;

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

impl Builder<'_> {
    // ---- the tree ----------------------------------------------------------------------------------

    fn element(&self, id: NodeId) -> Option<&Element> {
        self.dom.element(id)
    }

    fn tag(&self, id: NodeId) -> Tag {
        self.dom.tag(id)
    }

    fn namespace(&self, id: NodeId) -> Namespace {
        self.element(id).map_or(Namespace::Html, |e| e.namespace)
    }

    /// Whether `id` is the HTML element `tag`.
    fn is(&self, id: NodeId, tag: Tag) -> bool {
        self.dom.is(id, tag)
    }

    fn new_node(&mut self, data: NodeData) -> NodeId {
        if matches!(data, NodeData::Element(_)) {
            self.elements += 1;
            if self.elements > self.limits.max_elements {
                self.exceeded = Some(LimitExceeded::Elements(self.elements));
            }
        }
        let id = self.dom.nodes.len() as NodeId;
        self.dom.nodes.push(Node {
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            prev_sibling: NONE,
            next_sibling: NONE,
            data,
        });
        self.open.push(false);
        id
    }

    fn push_string(&mut self, text: &str) -> Span {
        let start = self.dom.strings.len() as u32;
        self.dom.strings.push_str(text);
        Span { start, end: self.dom.strings.len() as u32 }
    }

    /// A new element from the current tag token.
    fn create_element(&mut self, tag: Tag, namespace: Namespace) -> NodeId {
        let name = self.push_string_owned_name();
        let first = self.dom.attrs.len() as u32;
        for i in 0..self.tok.attrs.len() {
            let raw = self.tok.attrs[i];
            let name = self.push_string_from_tok(raw.name);
            let value = self.push_string_from_tok(raw.value);
            self.dom.attrs.push(Attr { name, value });
        }
        let attrs = (first, self.dom.attrs.len() as u32);
        self.new_node(NodeData::Element(Element { tag, namespace, name, attrs }))
    }

    fn push_string_owned_name(&mut self) -> Span {
        let start = self.dom.strings.len() as u32;
        self.dom.strings.push_str(&self.tok.name);
        Span { start, end: self.dom.strings.len() as u32 }
    }

    fn push_string_from_tok(&mut self, (start, end): (u32, u32)) -> Span {
        let from = self.dom.strings.len() as u32;
        self.dom.strings.push_str(&self.tok.attr_text[start as usize..end as usize]);
        Span { start: from, end: self.dom.strings.len() as u32 }
    }

    /// An element created by the parser itself (`html`, `head`, `body`, `tbody`, `tr`, `p`, …).
    fn create_implied(&mut self, tag: Tag) -> NodeId {
        let name = self.push_string(tag.name());
        let attrs = (self.dom.attrs.len() as u32, self.dom.attrs.len() as u32);
        self.new_node(NodeData::Element(Element { tag, namespace: Namespace::Html, name, attrs }))
    }

    /// A copy of an element with the same name and attributes (attributes are immutable, so shared).
    fn clone_element(&mut self, id: NodeId) -> NodeId {
        let data = self.dom.node(id).data;
        self.new_node(data)
    }

    /// A `<template>`'s content is a separate document fragment, not its children: unlink it so that
    /// walks over the tree do not see it (as in lexbor, which resiliparse walks).
    fn detach_template_contents(&mut self) {
        for node in &mut self.dom.nodes {
            if matches!(node.data, NodeData::Element(Element { tag: Template, namespace: Namespace::Html, .. })) {
                node.first_child = NONE;
                node.last_child = NONE;
            }
        }
    }

    fn detach(&mut self, id: NodeId) {
        let Node { parent, prev_sibling: prev, next_sibling: next, .. } = *self.dom.node(id);
        if parent == NONE {
            return;
        }
        if prev != NONE {
            self.dom.nodes[prev as usize].next_sibling = next;
        } else {
            self.dom.nodes[parent as usize].first_child = next;
        }
        if next != NONE {
            self.dom.nodes[next as usize].prev_sibling = prev;
        } else {
            self.dom.nodes[parent as usize].last_child = prev;
        }
        let node = &mut self.dom.nodes[id as usize];
        node.parent = NONE;
        node.prev_sibling = NONE;
        node.next_sibling = NONE;
    }

    /// Inserts `id` into `parent` before `before` (or last when `before` is NONE).
    fn insert_at(&mut self, parent: NodeId, before: NodeId, id: NodeId) {
        self.detach(id);
        let prev = if before == NONE { self.dom.node(parent).last_child } else { self.dom.node(before).prev_sibling };
        {
            let node = &mut self.dom.nodes[id as usize];
            node.parent = parent;
            node.prev_sibling = prev;
            node.next_sibling = before;
        }
        if prev == NONE {
            self.dom.nodes[parent as usize].first_child = id;
        } else {
            self.dom.nodes[prev as usize].next_sibling = id;
        }
        if before == NONE {
            self.dom.nodes[parent as usize].last_child = id;
        } else {
            self.dom.nodes[before as usize].prev_sibling = id;
        }
    }

    fn append(&mut self, parent: NodeId, id: NodeId) {
        self.insert_at(parent, NONE, id);
    }

    /// The appropriate place for inserting a node: (parent, before), with foster parenting.
    fn insertion_place(&self, target: NodeId) -> (NodeId, NodeId) {
        let fosters = self.foster_parenting
            && matches!(self.tag(target), Table | Tbody | Tfoot | Thead | Tr)
            && self.namespace(target) == Namespace::Html;
        if !fosters {
            return (target, NONE);
        }
        let Some(table_at) = self.stack.iter().rposition(|&n| self.is(n, Table)) else {
            return (self.stack[0], NONE);
        };
        let table = self.stack[table_at];
        match self.dom.parent(table) {
            Some(parent) => (parent, table),
            None => (self.stack[table_at - 1], NONE),
        }
    }

    fn current(&self) -> NodeId {
        *self.stack.last().unwrap_or(&0)
    }

    fn insert_node_here(&mut self, id: NodeId) {
        let (parent, before) = self.insertion_place(self.current());
        self.insert_at(parent, before, id);
    }

    /// Inserts an element for the current start tag and pushes it on the stack.
    fn insert_element(&mut self, tag: Tag) -> NodeId {
        self.insert_foreign(tag, Namespace::Html)
    }

    fn insert_foreign(&mut self, tag: Tag, namespace: Namespace) -> NodeId {
        let id = self.create_element(tag, namespace);
        self.insert_node_here(id);
        self.push(id);
        id
    }

    fn insert_implied(&mut self, tag: Tag) -> NodeId {
        let id = self.create_implied(tag);
        self.insert_node_here(id);
        self.push(id);
        id
    }

    /// Inserts `text` at the appropriate place, merging with an adjacent text node.
    fn insert_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let (parent, before) = self.insertion_place(self.current());
        if parent == 0 {
            return; // text is never a child of the document
        }
        let adjacent =
            if before == NONE { self.dom.node(parent).last_child } else { self.dom.node(before).prev_sibling };
        if adjacent != NONE {
            let text_span = match self.dom.node(adjacent).data {
                NodeData::Text(span)
                    if span.end as usize == self.dom.strings.len() || span.end - span.start <= MAX_COPIED_TEXT =>
                {
                    Some(span)
                }
                _ => None,
            };
            if let Some(span) = text_span {
                let merged = if span.end as usize == self.dom.strings.len() {
                    self.dom.strings.push_str(text);
                    Span { start: span.start, end: self.dom.strings.len() as u32 }
                } else {
                    let start = self.dom.strings.len();
                    self.dom.strings.extend_from_within(span.start as usize..span.end as usize);
                    self.dom.strings.push_str(text);
                    Span { start: start as u32, end: self.dom.strings.len() as u32 }
                };
                self.dom.nodes[adjacent as usize].data = NodeData::Text(merged);
                return;
            }
        }
        let span = self.push_string(text);
        let id = self.new_node(NodeData::Text(span));
        self.insert_at(parent, before, id);
    }

    fn insert_comment(&mut self) {
        let id = self.new_node(NodeData::Comment);
        self.insert_node_here(id);
    }

    // ---- the stack of open elements ----------------------------------------------------------------

    fn push(&mut self, id: NodeId) {
        self.stack.push(id);
        if self.stack.len() > self.limits.max_depth {
            self.exceeded = Some(LimitExceeded::Depth(self.stack.len()));
        }
        self.open[id as usize] = true;
    }

    fn pop(&mut self) -> Option<NodeId> {
        let id = self.stack.pop()?;
        self.open[id as usize] = false;
        Some(id)
    }

    fn pop_until(&mut self, tag: Tag) {
        while let Some(id) = self.pop() {
            if self.is(id, tag) {
                break;
            }
        }
    }

    fn pop_until_one_of(&mut self, tags: &[Tag]) {
        while let Some(id) = self.pop() {
            if tags.contains(&self.tag(id)) && self.namespace(id) == Namespace::Html {
                break;
            }
        }
    }

    fn remove_from_stack(&mut self, id: NodeId) {
        if let Some(at) = self.stack.iter().rposition(|&n| n == id) {
            self.stack.remove(at);
            self.open[id as usize] = false;
        }
    }

    fn is_boundary(&self, id: NodeId, scope: Scope) -> bool {
        let tag = self.tag(id);
        match self.namespace(id) {
            Namespace::Html => match scope {
                Scope::Select => !matches!(tag, Optgroup | OptionEl),
                Scope::Table => matches!(tag, Html | Table | Template),
                _ => {
                    matches!(tag, Applet | Caption | Html | Table | Td | Th | Marquee | Object | Template)
                        || (scope == Scope::ListItem && matches!(tag, Ol | Ul))
                        || (scope == Scope::Button && tag == Button)
                }
            },
            Namespace::MathMl => {
                scope != Scope::Select
                    && scope != Scope::Table
                    && (matches!(tag, Mi | Mo | Mn | Ms | Mtext) || self.is_annotation_xml(id))
            }
            Namespace::Svg => {
                scope != Scope::Select && scope != Scope::Table && matches!(tag, ForeignObject | Desc | Title)
            }
        }
    }

    fn is_annotation_xml(&self, id: NodeId) -> bool {
        self.dom.tag_name(id) == "annotation-xml"
    }

    /// "Has an element in scope" for one of `tags`.
    fn in_scope_any(&self, tags: &[Tag], scope: Scope) -> bool {
        for &id in self.stack.iter().rev() {
            if self.namespace(id) == Namespace::Html && tags.contains(&self.tag(id)) {
                return true;
            }
            if self.is_boundary(id, scope) {
                return false;
            }
        }
        false
    }

    fn in_scope(&self, tag: Tag, scope: Scope) -> bool {
        self.in_scope_any(&[tag], scope)
    }

    fn node_in_scope(&self, node: NodeId) -> bool {
        for &id in self.stack.iter().rev() {
            if id == node {
                return true;
            }
            if self.is_boundary(id, Scope::Default) {
                return false;
            }
        }
        false
    }

    fn generate_implied_end_tags(&mut self, except: Option<Tag>) {
        while let Some(&id) = self.stack.last() {
            let tag = self.tag(id);
            if !tag.has_implied_end() || self.namespace(id) != Namespace::Html || Some(tag) == except {
                break;
            }
            self.pop();
        }
    }

    fn close_p_in_button_scope(&mut self) {
        if self.in_scope(P, Scope::Button) {
            self.generate_implied_end_tags(Some(P));
            self.pop_until(P);
        }
    }

    // ---- the list of active formatting elements ----------------------------------------------------

    fn push_active(&mut self, id: NodeId) {
        // Noah's Ark: at most three entries with the same name and attributes after the last marker.
        let mut same = Vec::new();
        for (at, entry) in self.active.iter().enumerate().rev() {
            match entry {
                Active::Marker => break,
                Active::Element(other) if self.same_element(*other, id) => same.push(at),
                Active::Element(_) => {}
            }
        }
        if same.len() >= 3 {
            if let Some(&earliest) = same.last() {
                self.active.remove(earliest);
            }
        }
        self.active.push(Active::Element(id));
    }

    fn same_element(&self, a: NodeId, b: NodeId) -> bool {
        let (Some(ea), Some(eb)) = (self.element(a), self.element(b)) else {
            return false;
        };
        if ea.tag != eb.tag || self.dom.span(ea.name) != self.dom.span(eb.name) {
            return false;
        }
        let (xa, xb) = (self.dom.attrs(a), self.dom.attrs(b));
        xa.len() == xb.len()
            && xa.iter().all(|x| {
                xb.iter().any(|y| {
                    self.dom.span(x.name) == self.dom.span(y.name) && self.dom.span(x.value) == self.dom.span(y.value)
                })
            })
    }

    fn reconstruct_active_formatting(&mut self) {
        let Some(&Active::Element(last)) = self.active.last() else {
            return;
        };
        if self.open[last as usize] {
            return;
        }
        let mut first = self.active.len() - 1;
        while first > 0 {
            match self.active[first - 1] {
                Active::Marker => break,
                Active::Element(id) if self.open[id as usize] => break,
                Active::Element(_) => first -= 1,
            }
        }
        for at in first..self.active.len() {
            let Active::Element(entry) = self.active[at] else {
                continue;
            };
            let copy = self.clone_element(entry);
            self.insert_node_here(copy);
            self.push(copy);
            self.active[at] = Active::Element(copy);
        }
    }

    fn clear_active_to_marker(&mut self) {
        while let Some(entry) = self.active.pop() {
            if entry == Active::Marker {
                break;
            }
        }
    }

    fn active_position(&self, id: NodeId) -> Option<usize> {
        self.active.iter().rposition(|&e| e == Active::Element(id))
    }

    /// The last formatting element named `tag` after the last marker.
    fn active_with_tag(&self, tag: Tag) -> Option<NodeId> {
        for entry in self.active.iter().rev() {
            match *entry {
                Active::Marker => return None,
                Active::Element(id) if self.tag(id) == tag => return Some(id),
                Active::Element(_) => {}
            }
        }
        None
    }

    /// The adoption agency algorithm for an end tag (or `<a>`/`<nobr>` start) of formatting element
    /// `tag`. Returns false when the token should be handled as "any other end tag".
    fn adoption_agency(&mut self, tag: Tag) -> bool {
        let current = self.current();
        if self.is(current, tag) && self.active_position(current).is_none() {
            self.pop();
            return true;
        }
        for _ in 0..8 {
            let Some(formatting) = self.active_with_tag(tag) else {
                return false;
            };
            let Some(stack_at) = self.stack.iter().rposition(|&n| n == formatting) else {
                if let Some(at) = self.active_position(formatting) {
                    self.active.remove(at);
                }
                return true;
            };
            if !self.node_in_scope(formatting) {
                return true;
            }
            let furthest =
                self.stack[stack_at + 1..].iter().position(|&n| self.is_special(n)).map(|i| stack_at + 1 + i);
            let Some(furthest_at) = furthest else {
                while let Some(id) = self.pop() {
                    if id == formatting {
                        break;
                    }
                }
                if let Some(at) = self.active_position(formatting) {
                    self.active.remove(at);
                }
                return true;
            };
            let furthest_block = self.stack[furthest_at];
            let common_ancestor = self.stack[stack_at - 1];
            let mut bookmark = self.active_position(formatting).unwrap_or(0);
            let mut last_node = furthest_block;
            let mut node_at = furthest_at;
            let mut inner = 0;
            loop {
                inner += 1;
                node_at -= 1;
                let node = self.stack[node_at];
                if node == formatting {
                    break;
                }
                if inner > 3 {
                    if let Some(at) = self.active_position(node) {
                        self.active.remove(at);
                        if at < bookmark {
                            bookmark -= 1;
                        }
                    }
                }
                let Some(active_at) = self.active_position(node) else {
                    self.stack.remove(node_at);
                    self.open[node as usize] = false;
                    continue;
                };
                let copy = self.clone_element(node);
                self.active[active_at] = Active::Element(copy);
                self.stack[node_at] = copy;
                self.open[node as usize] = false;
                self.open[copy as usize] = true;
                if last_node == furthest_block {
                    bookmark = active_at + 1;
                }
                self.append(copy, last_node);
                last_node = copy;
            }
            let (parent, before) = self.insertion_place(common_ancestor);
            self.insert_at(parent, before, last_node);
            let copy = self.clone_element(formatting);
            while let Some(child) = self.dom.first_child(furthest_block) {
                self.append(copy, child);
            }
            self.append(furthest_block, copy);
            if let Some(at) = self.active_position(formatting) {
                self.active.remove(at);
                if at < bookmark {
                    bookmark -= 1;
                }
            }
            self.active.insert(bookmark.min(self.active.len()), Active::Element(copy));
            self.remove_from_stack(formatting);
            let furthest_at = self.stack.iter().rposition(|&n| n == furthest_block).unwrap_or(self.stack.len() - 1);
            self.stack.insert(furthest_at + 1, copy);
            self.open[copy as usize] = true;
        }
        true
    }

    fn is_special(&self, id: NodeId) -> bool {
        match self.namespace(id) {
            Namespace::Html => self.tag(id).is_special(),
            _ => self.is_boundary(id, Scope::Default),
        }
    }

    // ---- modes -------------------------------------------------------------------------------------

    fn reset_insertion_mode(&mut self) {
        for (i, &id) in self.stack.iter().enumerate().rev() {
            let last = i == 0;
            let mode = match self.tag(id) {
                Select => {
                    let in_table = self.stack[..i].iter().any(|&n| self.is(n, Table));
                    Some(if in_table { Mode::InSelectInTable } else { Mode::InSelect })
                }
                Td | Th if !last => Some(Mode::InCell),
                Tr => Some(Mode::InRow),
                Tbody | Thead | Tfoot => Some(Mode::InTableBody),
                Caption => Some(Mode::InCaption),
                Colgroup => Some(Mode::InColumnGroup),
                Table => Some(Mode::InTable),
                Template => Some(Mode::InBody),
                Head if !last => Some(Mode::InHead),
                Body => Some(Mode::InBody),
                Frameset => Some(Mode::InFrameset),
                Html => Some(if self.head.is_none() { Mode::BeforeHead } else { Mode::AfterHead }),
                _ if last => Some(Mode::InBody),
                _ => None,
            };
            if let Some(mode) = mode.filter(|_| self.namespace(id) == Namespace::Html || last) {
                self.mode = mode;
                return;
            }
        }
        self.mode = Mode::InBody;
    }

    /// The tree-construction dispatcher: foreign content or the current insertion mode.
    fn dispatch(&mut self, token: Token) {
        if let Some(mode) = self.text_return {
            // Raw text: its text, then its end tag.
            match token {
                Token::Text => self.insert_text_token(),
                _ => {
                    self.pop();
                    self.text_return = None;
                    self.mode = mode;
                    if !matches!(token, Token::End { .. }) {
                        self.dispatch(token);
                    }
                }
            }
            return;
        }
        if self.use_foreign_rules(token) {
            self.foreign_content(token);
        } else {
            self.process(self.mode, token);
        }
    }

    fn use_foreign_rules(&self, token: Token) -> bool {
        let Some(node) = self.stack.last().copied() else {
            return false;
        };
        let namespace = self.namespace(node);
        if namespace == Namespace::Html {
            return false;
        }
        let tag = self.tag(node);
        let text_integration = namespace == Namespace::MathMl && matches!(tag, Mi | Mo | Mn | Ms | Mtext);
        let html_integration = namespace == Namespace::Svg && matches!(tag, ForeignObject | Desc | Title)
            || self.is_annotation_xml(node)
                && self.dom.attr(node, "encoding").is_some_and(|e| {
                    e.eq_ignore_ascii_case("text/html") || e.eq_ignore_ascii_case("application/xhtml+xml")
                });
        match token {
            Token::Start { tag: start, .. } => {
                let mathml_glyph = matches!(self.tok.name.as_str(), "mglyph" | "malignmark");
                !((text_integration && !mathml_glyph)
                    || (self.is_annotation_xml(node) && start == Svg)
                    || html_integration)
            }
            Token::Text => !(text_integration || html_integration),
            _ => true,
        }
    }

    fn process(&mut self, mode: Mode, token: Token) {
        match mode {
            Mode::Initial => self.initial(token),
            Mode::BeforeHtml => self.before_html(token),
            Mode::BeforeHead => self.before_head(token),
            Mode::InHead => self.in_head(token),
            Mode::InHeadNoscript => self.in_head_noscript(token),
            Mode::AfterHead => self.after_head(token),
            Mode::InBody => self.in_body(token),
            Mode::InTable => self.in_table(token),
            Mode::InCaption => self.in_caption(token),
            Mode::InColumnGroup => self.in_column_group(token),
            Mode::InTableBody => self.in_table_body(token),
            Mode::InRow => self.in_row(token),
            Mode::InCell => self.in_cell(token),
            Mode::InSelect => self.in_select(token),
            Mode::InSelectInTable => self.in_select_in_table(token),
            Mode::AfterBody => self.after_body(token),
            Mode::InFrameset => self.in_frameset(token),
        }
    }

    /// The unconsumed part of the current text token.
    fn pending_text(&self) -> &str {
        &self.tok.text[self.text_from..]
    }

    /// Consumes the leading whitespace of the current text; returns whether any text is left.
    fn skip_leading_whitespace(&mut self) -> bool {
        let text = self.pending_text();
        let kept = text.trim_start_matches(is_whitespace).len();
        self.text_from += text.len() - kept;
        kept > 0
    }

    /// Inserts the leading whitespace of the current text; returns whether any text is left.
    fn insert_leading_whitespace(&mut self) -> bool {
        let text = self.pending_text();
        let space = text.len() - text.trim_start_matches(is_whitespace).len();
        if space > 0 {
            let whitespace = text[..space].to_string();
            self.insert_text(&whitespace);
            self.text_from += space;
        }
        !self.pending_text().is_empty()
    }

    fn insert_text_token(&mut self) {
        let mut from = self.text_from;
        if std::mem::take(&mut self.skip_newline) && self.tok.text[from..].starts_with('\n') {
            from += 1;
        }
        let text = std::mem::take(&mut self.tok.text);
        self.insert_text(&text[from..]);
        self.tok.text = text;
    }

    fn initial(&mut self, token: Token) {
        match token {
            Token::Text if !self.skip_leading_whitespace() => {}
            Token::Comment => {}
            Token::Doctype => {
                self.quirks = doctype_is_quirks(&self.tok.doctype);
                let id = self.new_node(NodeData::Doctype);
                self.append(0, id);
                self.mode = Mode::BeforeHtml;
            }
            _ => {
                self.quirks = true;
                self.mode = Mode::BeforeHtml;
                self.dispatch(token);
            }
        }
    }

    fn before_html(&mut self, token: Token) {
        match token {
            Token::Doctype | Token::Comment => {}
            Token::Text if !self.skip_leading_whitespace() => {}
            Token::Start { tag: Html, .. } => {
                let html = self.create_element(Html, Namespace::Html);
                self.append(0, html);
                self.push(html);
                self.dom.html = Some(html);
                self.mode = Mode::BeforeHead;
            }
            Token::End { tag } if !matches!(tag, Head | Body | Html | Br) => {}
            _ => {
                let html = self.create_implied(Html);
                self.append(0, html);
                self.push(html);
                self.dom.html = Some(html);
                self.mode = Mode::BeforeHead;
                self.dispatch(token);
            }
        }
    }

    fn before_head(&mut self, token: Token) {
        match token {
            Token::Text if !self.skip_leading_whitespace() => {}
            Token::Comment => self.insert_comment(),
            Token::Doctype => {}
            Token::Start { tag: Html, .. } => self.in_body(token),
            Token::Start { tag: Head, .. } => {
                let head = self.insert_element(Head);
                self.head = Some(head);
                self.dom.head = Some(head);
                self.mode = Mode::InHead;
            }
            Token::End { tag } if !matches!(tag, Head | Body | Html | Br) => {}
            _ => {
                let head = self.insert_implied(Head);
                self.head = Some(head);
                self.dom.head = Some(head);
                self.mode = Mode::InHead;
                self.dispatch(token);
            }
        }
    }

    /// Starts raw text (or RCDATA, script data) for the element just inserted.
    fn start_text(&mut self, tag: Tag) {
        self.tok.enter_content_of(tag);
        if tag.is_raw_text() || tag.is_rcdata() || tag == Script {
            self.text_return = Some(self.mode);
        }
    }

    /// The "in head" rules that also apply from other modes (`<script>`, `<style>`, `<meta>`, …).
    fn head_element(&mut self, token: Token) -> bool {
        let Token::Start { tag, .. } = token else {
            return false;
        };
        match tag {
            Base | Basefont | Bgsound | Link | Meta => {
                self.insert_element(tag);
                self.pop();
            }
            Title | Noframes | Style | Script => {
                self.insert_element(tag);
                self.start_text(tag);
            }
            Template => {
                self.insert_element(tag);
                self.active.push(Active::Marker);
                self.mode = Mode::InBody;
            }
            _ => return false,
        }
        true
    }

    fn end_template(&mut self) {
        if !self.stack.iter().any(|&n| self.is(n, Template)) {
            return;
        }
        self.generate_implied_end_tags(None);
        self.pop_until(Template);
        self.clear_active_to_marker();
        self.reset_insertion_mode();
    }

    fn in_head(&mut self, token: Token) {
        match token {
            Token::Text if !self.insert_leading_whitespace() => {}
            Token::Comment => self.insert_comment(),
            Token::Doctype => {}
            Token::Start { tag: Html, .. } => self.in_body(token),
            Token::Start { .. } if self.head_element(token) => {}
            Token::Start { tag: Noscript, .. } => {
                self.insert_element(Noscript);
                self.mode = Mode::InHeadNoscript;
            }
            Token::End { tag: Head } => {
                self.pop();
                self.mode = Mode::AfterHead;
            }
            Token::End { tag: Template } => self.end_template(),
            Token::Start { tag: Head, .. } => {}
            Token::End { tag } if !matches!(tag, Body | Html | Br) => {}
            _ => {
                self.pop();
                self.mode = Mode::AfterHead;
                self.dispatch(token);
            }
        }
    }

    /// `<noscript>` in `<head>` with scripting disabled (as resiliparse's lexbor parses): only head
    /// elements stay inside; anything else closes it and the head.
    fn in_head_noscript(&mut self, token: Token) {
        match token {
            Token::Doctype => {}
            Token::Start { tag: Html, .. } => self.in_body(token),
            Token::End { tag: Noscript } => {
                self.pop();
                self.mode = Mode::InHead;
            }
            Token::Text if !self.insert_leading_whitespace() => {}
            Token::Comment | Token::Start { tag: Basefont | Bgsound | Link | Meta | Noframes | Style, .. } => {
                self.in_head(token)
            }
            Token::Start { tag: Head | Noscript, .. } => {}
            Token::End { tag } if tag != Br => {}
            _ => {
                self.pop();
                self.mode = Mode::InHead;
                self.dispatch(token);
            }
        }
    }

    fn after_head(&mut self, token: Token) {
        match token {
            Token::Text if !self.insert_leading_whitespace() => {}
            Token::Comment => self.insert_comment(),
            Token::Doctype => {}
            Token::Start { tag: Html, .. } => self.in_body(token),
            Token::Start { tag: Body, .. } => {
                let body = self.insert_element(Body);
                self.dom.body = Some(body);
                self.mode = Mode::InBody;
            }
            Token::Start { tag: Frameset, .. } => {
                self.insert_element(Frameset);
                self.mode = Mode::InFrameset;
            }
            Token::Start {
                tag: Base | Basefont | Bgsound | Link | Meta | Noframes | Script | Style | Template | Title,
                ..
            } => {
                let Some(head) = self.head else { return };
                self.push(head);
                self.head_element(token);
                self.remove_from_stack(head);
            }
            Token::End { tag: Template } => self.end_template(),
            Token::Start { tag: Head, .. } => {}
            Token::End { tag } if !matches!(tag, Body | Html | Br) => {}
            _ => {
                let body = self.insert_implied(Body);
                self.dom.body = Some(body);
                self.mode = Mode::InBody;
                self.dispatch(token);
            }
        }
    }

    fn in_body(&mut self, token: Token) {
        match token {
            Token::Text => {
                self.reconstruct_active_formatting();
                self.insert_text_token();
            }
            Token::Comment => self.insert_comment(),
            Token::Doctype | Token::Eof => {}
            Token::Start { tag, self_closing } => self.in_body_start(tag, self_closing),
            Token::End { tag } => self.in_body_end(tag),
        }
    }

    /// A repeated `<html>` or `<body>` tag adds the attributes the element lacks. Attributes are stored
    /// contiguously, so each merge copies the element's list: past [`MAX_MERGED_ATTRS`] merging stops
    /// (extractors read a handful of these attributes) so that thousands of repeated tags stay linear.
    fn merge_attributes(&mut self, target: NodeId) {
        let Some(element) = self.element(target).copied() else {
            return;
        };
        if element.attrs.1 - element.attrs.0 >= MAX_MERGED_ATTRS {
            return;
        }
        let missing: Vec<usize> = (0..self.tok.attrs.len())
            .filter(|&i| self.dom.attr(target, self.tok.span(self.tok.attrs[i].name)).is_none())
            .collect();
        if missing.is_empty() {
            return;
        }
        let first = self.dom.attrs.len() as u32;
        self.dom.attrs.extend_from_within(element.attrs.0 as usize..element.attrs.1 as usize);
        for i in missing {
            let raw = self.tok.attrs[i];
            let name = self.push_string_from_tok(raw.name);
            let value = self.push_string_from_tok(raw.value);
            self.dom.attrs.push(Attr { name, value });
        }
        let attrs = (first, self.dom.attrs.len() as u32);
        if let NodeData::Element(e) = &mut self.dom.nodes[target as usize].data {
            e.attrs = attrs;
        }
    }

    fn in_body_start(&mut self, tag: Tag, self_closing: bool) {
        let token = Token::Start { tag, self_closing };
        match tag {
            Html => {
                if let Some(&html) = self.stack.first() {
                    self.merge_attributes(html);
                }
            }
            Base | Basefont | Bgsound | Link | Meta | Noframes | Script | Style | Template | Title => {
                self.head_element(token);
            }
            Body => {
                if let Some(&body) = self.stack.get(1).filter(|&&b| self.is(b, Body)) {
                    self.merge_attributes(body);
                }
            }
            Frameset => {}
            _ if tag.closes_p() => {
                self.close_p_in_button_scope();
                self.insert_element(tag);
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                self.close_p_in_button_scope();
                if self.tag(self.current()).is_heading() && self.namespace(self.current()) == Namespace::Html {
                    self.pop();
                }
                self.insert_element(tag);
            }
            Pre | Listing => {
                self.close_p_in_button_scope();
                self.insert_element(tag);
                self.skip_newline = true;
            }
            Form => {
                let in_template = self.stack.iter().any(|&n| self.is(n, Template));
                if self.form.is_some() && !in_template {
                    return;
                }
                self.close_p_in_button_scope();
                let form = self.insert_element(Form);
                if !in_template {
                    self.form = Some(form);
                }
            }
            Li => {
                self.close_list_item(&[Li]);
                self.close_p_in_button_scope();
                self.insert_element(tag);
            }
            Dd | Dt => {
                self.close_list_item(&[Dd, Dt]);
                self.close_p_in_button_scope();
                self.insert_element(tag);
            }
            Plaintext => {
                self.close_p_in_button_scope();
                self.insert_element(tag);
                self.tok.enter_content_of(Plaintext);
            }
            Button => {
                if self.in_scope(Button, Scope::Default) {
                    self.generate_implied_end_tags(None);
                    self.pop_until(Button);
                }
                self.reconstruct_active_formatting();
                self.insert_element(tag);
            }
            A => {
                if let Some(open_a) = self.active_with_tag(A) {
                    self.adoption_agency(A);
                    if let Some(at) = self.active_position(open_a) {
                        self.active.remove(at);
                    }
                    self.remove_from_stack(open_a);
                }
                self.reconstruct_active_formatting();
                let id = self.insert_element(tag);
                self.push_active(id);
            }
            Nobr => {
                self.reconstruct_active_formatting();
                if self.in_scope(Nobr, Scope::Default) {
                    self.adoption_agency(Nobr);
                    self.reconstruct_active_formatting();
                }
                let id = self.insert_element(tag);
                self.push_active(id);
            }
            _ if tag.is_formatting() => {
                self.reconstruct_active_formatting();
                let id = self.insert_element(tag);
                self.push_active(id);
            }
            Applet | Marquee | Object => {
                self.reconstruct_active_formatting();
                self.insert_element(tag);
                self.active.push(Active::Marker);
            }
            Table => {
                if !self.quirks {
                    self.close_p_in_button_scope();
                }
                self.insert_element(tag);
                self.mode = Mode::InTable;
            }
            Area | Br | Embed | Img | Keygen | Wbr | Input | Param | Source | Track => {
                if !matches!(tag, Param | Source | Track) {
                    self.reconstruct_active_formatting();
                }
                self.insert_element(tag);
                self.pop();
            }
            Image => {
                self.reconstruct_active_formatting();
                self.tok.name.clear();
                self.tok.name.push_str("img");
                self.insert_element(Img);
                self.pop();
            }
            Hr => {
                self.close_p_in_button_scope();
                self.insert_element(tag);
                self.pop();
            }
            Textarea => {
                self.insert_element(tag);
                self.skip_newline = true;
                self.start_text(tag);
            }
            Xmp | Iframe | Noembed => {
                if tag == Xmp {
                    self.close_p_in_button_scope();
                    self.reconstruct_active_formatting();
                }
                self.insert_element(tag);
                self.start_text(tag);
            }
            Select => {
                self.reconstruct_active_formatting();
                self.insert_element(tag);
                self.mode = if matches!(
                    self.mode,
                    Mode::InTable | Mode::InCaption | Mode::InTableBody | Mode::InRow | Mode::InCell
                ) {
                    Mode::InSelectInTable
                } else {
                    Mode::InSelect
                };
            }
            Optgroup | OptionEl => {
                if self.is(self.current(), OptionEl) {
                    self.pop();
                }
                self.reconstruct_active_formatting();
                self.insert_element(tag);
            }
            Rb | Rtc | Rp | Rt => {
                self.generate_implied_end_tags(if matches!(tag, Rp | Rt) { Some(Rtc) } else { None });
                self.insert_element(tag);
            }
            Math | Svg => {
                self.reconstruct_active_formatting();
                self.insert_foreign(tag, if tag == Math { Namespace::MathMl } else { Namespace::Svg });
                if self_closing {
                    self.pop();
                }
            }
            Caption | Col | Colgroup | Frame | Head | Tbody | Td | Tfoot | Th | Thead | Tr => {}
            _ => {
                self.reconstruct_active_formatting();
                self.insert_element(tag);
            }
        }
    }

    /// `<li>`, `<dd>`, `<dt>`: closes the open item of the same kind unless a special element intervenes.
    fn close_list_item(&mut self, kinds: &[Tag]) {
        for at in (0..self.stack.len()).rev() {
            let id = self.stack[at];
            let tag = self.tag(id);
            let html = self.namespace(id) == Namespace::Html;
            if html && kinds.contains(&tag) {
                self.generate_implied_end_tags(Some(tag));
                self.pop_until(tag);
                return;
            }
            if self.is_special(id) && !(html && matches!(tag, Address | Div | P)) {
                return;
            }
        }
    }

    fn in_body_end(&mut self, tag: Tag) {
        match tag {
            Template => self.end_template(),
            Body | Html => {
                if self.in_scope(Body, Scope::Default) {
                    self.mode = Mode::AfterBody;
                }
            }
            Address | Article | Aside | Blockquote | Button | Center | Details | Dialog | Dir | Div | Dl | Fieldset
            | Figcaption | Figure | Footer | Header | Hgroup | Listing | Main | Menu | Nav | Ol | Pre | Search
            | Section | Summary | Ul => {
                if self.in_scope(tag, Scope::Default) {
                    self.generate_implied_end_tags(None);
                    self.pop_until(tag);
                }
            }
            Form => {
                let Some(form) = self.form.take() else { return };
                if self.node_in_scope(form) {
                    self.generate_implied_end_tags(None);
                    self.remove_from_stack(form);
                }
            }
            P => {
                if !self.in_scope(P, Scope::Button) {
                    self.insert_implied(P);
                }
                self.close_p_in_button_scope();
            }
            Li => {
                if self.in_scope(Li, Scope::ListItem) {
                    self.generate_implied_end_tags(Some(Li));
                    self.pop_until(Li);
                }
            }
            Dd | Dt => {
                if self.in_scope(tag, Scope::Default) {
                    self.generate_implied_end_tags(Some(tag));
                    self.pop_until(tag);
                }
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                const HEADINGS: [Tag; 6] = [H1, H2, H3, H4, H5, H6];
                if self.in_scope_any(&HEADINGS, Scope::Default) {
                    self.generate_implied_end_tags(None);
                    self.pop_until_one_of(&HEADINGS);
                }
            }
            _ if tag.is_formatting() => {
                if !self.adoption_agency(tag) {
                    self.any_other_end_tag(tag);
                }
            }
            Applet | Marquee | Object => {
                if self.in_scope(tag, Scope::Default) {
                    self.generate_implied_end_tags(None);
                    self.pop_until(tag);
                    self.clear_active_to_marker();
                }
            }
            Br => {
                self.tok.attrs.clear();
                self.tok.name.clear();
                self.tok.name.push_str("br");
                self.in_body_start(Br, false);
            }
            _ => self.any_other_end_tag(tag),
        }
    }

    fn name_matches(&self, id: NodeId, tag: Tag) -> bool {
        match tag {
            Other => self.dom.tag_name(id) == self.tok.name,
            _ => self.tag(id) == tag,
        }
    }

    fn any_other_end_tag(&mut self, tag: Tag) {
        for at in (0..self.stack.len()).rev() {
            let id = self.stack[at];
            if self.name_matches(id, tag) && self.namespace(id) == Namespace::Html {
                self.generate_implied_end_tags(Some(tag).filter(|t| *t != Other));
                while self.stack.len() > at {
                    self.pop();
                }
                return;
            }
            if self.is_special(id) {
                return;
            }
        }
    }

    // ---- tables ------------------------------------------------------------------------------------

    fn clear_stack_to(&mut self, context: &[Tag]) {
        while let Some(&id) = self.stack.last() {
            if (context.contains(&self.tag(id)) && self.namespace(id) == Namespace::Html) || self.stack.len() == 1 {
                break;
            }
            self.pop();
        }
    }

    fn in_table(&mut self, token: Token) {
        let current_is_table = matches!(self.tag(self.current()), Table | Tbody | Tfoot | Thead | Tr);
        match token {
            Token::Text if current_is_table => {
                if self.pending_text().chars().all(is_whitespace) {
                    self.insert_text_token();
                } else {
                    self.foster_parenting = true;
                    self.in_body(token);
                    self.foster_parenting = false;
                }
            }
            Token::Comment => self.insert_comment(),
            Token::Doctype => {}
            Token::Start { tag: Caption, .. } => {
                self.clear_stack_to(&[Table, Template, Html]);
                self.active.push(Active::Marker);
                self.insert_element(Caption);
                self.mode = Mode::InCaption;
            }
            Token::Start { tag: Colgroup, .. } => {
                self.clear_stack_to(&[Table, Template, Html]);
                self.insert_element(Colgroup);
                self.mode = Mode::InColumnGroup;
            }
            Token::Start { tag: Col, .. } => {
                self.clear_stack_to(&[Table, Template, Html]);
                self.insert_implied(Colgroup);
                self.mode = Mode::InColumnGroup;
                self.dispatch(token);
            }
            Token::Start { tag: tag @ (Tbody | Tfoot | Thead), .. } => {
                self.clear_stack_to(&[Table, Template, Html]);
                self.insert_element(tag);
                self.mode = Mode::InTableBody;
            }
            Token::Start { tag: Td | Th | Tr, .. } => {
                self.clear_stack_to(&[Table, Template, Html]);
                self.insert_implied(Tbody);
                self.mode = Mode::InTableBody;
                self.dispatch(token);
            }
            Token::Start { tag: Table, .. } => {
                if self.in_scope(Table, Scope::Table) {
                    self.pop_until(Table);
                    self.reset_insertion_mode();
                    self.dispatch(token);
                }
            }
            Token::End { tag: Table } => {
                if self.in_scope(Table, Scope::Table) {
                    self.pop_until(Table);
                    self.reset_insertion_mode();
                }
            }
            Token::End { tag: Body | Caption | Col | Colgroup | Html | Tbody | Td | Tfoot | Th | Thead | Tr } => {}
            Token::Start { tag: Style | Script | Template, .. } => {
                self.head_element(token);
            }
            Token::End { tag: Template } => self.end_template(),
            Token::Start { tag: Input, .. }
                if self.tok.attr("type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")) =>
            {
                self.insert_element(Input);
                self.pop();
            }
            Token::Start { tag: Form, .. } => {
                if self.form.is_none() && !self.stack.iter().any(|&n| self.is(n, Template)) {
                    let form = self.insert_element(Form);
                    self.form = Some(form);
                    self.pop();
                }
            }
            _ => {
                self.foster_parenting = true;
                self.in_body(token);
                self.foster_parenting = false;
            }
        }
    }

    fn in_caption(&mut self, token: Token) {
        let closes = matches!(
            token,
            Token::End { tag: Caption | Table }
                | Token::Start { tag: Caption | Col | Colgroup | Tbody | Td | Tfoot | Th | Thead | Tr, .. }
        );
        if closes {
            if !self.in_scope(Caption, Scope::Table) {
                return;
            }
            self.generate_implied_end_tags(None);
            self.pop_until(Caption);
            self.clear_active_to_marker();
            self.mode = Mode::InTable;
            if token != (Token::End { tag: Caption }) {
                self.dispatch(token);
            }
            return;
        }
        match token {
            Token::End { tag: Body | Col | Colgroup | Html | Tbody | Td | Tfoot | Th | Thead | Tr } => {}
            _ => self.in_body(token),
        }
    }

    fn in_column_group(&mut self, token: Token) {
        match token {
            Token::Text if !self.insert_leading_whitespace() => {}
            Token::Comment => self.insert_comment(),
            Token::Doctype => {}
            Token::Start { tag: Html, .. } => self.in_body(token),
            Token::Start { tag: Col, .. } => {
                self.insert_element(Col);
                self.pop();
            }
            Token::End { tag: Colgroup } => {
                if self.is(self.current(), Colgroup) {
                    self.pop();
                    self.mode = Mode::InTable;
                }
            }
            Token::End { tag: Col } => {}
            Token::Start { tag: Template, .. } | Token::End { tag: Template } => self.in_head(token),
            _ => {
                if self.is(self.current(), Colgroup) {
                    self.pop();
                    self.mode = Mode::InTable;
                    self.dispatch(token);
                }
            }
        }
    }

    fn in_table_body(&mut self, token: Token) {
        const CONTEXT: [Tag; 5] = [Tbody, Tfoot, Thead, Template, Html];
        match token {
            Token::Start { tag: Tr, .. } => {
                self.clear_stack_to(&CONTEXT);
                self.insert_element(Tr);
                self.mode = Mode::InRow;
            }
            Token::Start { tag: Th | Td, .. } => {
                self.clear_stack_to(&CONTEXT);
                self.insert_implied(Tr);
                self.mode = Mode::InRow;
                self.dispatch(token);
            }
            Token::End { tag: tag @ (Tbody | Tfoot | Thead) } => {
                if self.in_scope(tag, Scope::Table) {
                    self.clear_stack_to(&CONTEXT);
                    self.pop();
                    self.mode = Mode::InTable;
                }
            }
            Token::Start { tag: Caption | Col | Colgroup | Tbody | Tfoot | Thead, .. } | Token::End { tag: Table } => {
                if self.in_scope_any(&[Tbody, Thead, Tfoot], Scope::Table) {
                    self.clear_stack_to(&CONTEXT);
                    self.pop();
                    self.mode = Mode::InTable;
                    self.dispatch(token);
                }
            }
            Token::End { tag: Body | Caption | Col | Colgroup | Html | Td | Th | Tr } => {}
            _ => self.in_table(token),
        }
    }

    fn in_row(&mut self, token: Token) {
        const CONTEXT: [Tag; 3] = [Tr, Template, Html];
        match token {
            Token::Start { tag: tag @ (Th | Td), .. } => {
                self.clear_stack_to(&CONTEXT);
                self.insert_element(tag);
                self.mode = Mode::InCell;
                self.active.push(Active::Marker);
            }
            Token::End { tag: Tr } => {
                if self.in_scope(Tr, Scope::Table) {
                    self.clear_stack_to(&CONTEXT);
                    self.pop();
                    self.mode = Mode::InTableBody;
                }
            }
            Token::Start { tag: Caption | Col | Colgroup | Tbody | Tfoot | Thead | Tr, .. }
            | Token::End { tag: Table } => {
                if self.in_scope(Tr, Scope::Table) {
                    self.clear_stack_to(&CONTEXT);
                    self.pop();
                    self.mode = Mode::InTableBody;
                    self.dispatch(token);
                }
            }
            Token::End { tag: tag @ (Tbody | Tfoot | Thead) } => {
                if self.in_scope(tag, Scope::Table) && self.in_scope(Tr, Scope::Table) {
                    self.clear_stack_to(&CONTEXT);
                    self.pop();
                    self.mode = Mode::InTableBody;
                    self.dispatch(token);
                }
            }
            Token::End { tag: Body | Caption | Col | Colgroup | Html | Td | Th } => {}
            _ => self.in_table(token),
        }
    }

    fn close_cell(&mut self) {
        self.generate_implied_end_tags(None);
        self.pop_until_one_of(&[Td, Th]);
        self.clear_active_to_marker();
        self.mode = Mode::InRow;
    }

    fn in_cell(&mut self, token: Token) {
        match token {
            Token::End { tag: tag @ (Td | Th) } => {
                if self.in_scope(tag, Scope::Table) {
                    self.close_cell();
                }
            }
            Token::Start { tag: Caption | Col | Colgroup | Tbody | Td | Tfoot | Th | Thead | Tr, .. } => {
                if self.in_scope_any(&[Td, Th], Scope::Table) {
                    self.close_cell();
                    self.dispatch(token);
                }
            }
            Token::End { tag: Body | Caption | Col | Colgroup | Html } => {}
            Token::End { tag: tag @ (Table | Tbody | Tfoot | Thead | Tr) } => {
                if self.in_scope(tag, Scope::Table) {
                    self.close_cell();
                    self.dispatch(token);
                }
            }
            _ => self.in_body(token),
        }
    }

    fn in_select(&mut self, token: Token) {
        match token {
            Token::Text => self.insert_text_token(),
            Token::Comment => self.insert_comment(),
            Token::Doctype => {}
            Token::Start { tag: Html, .. } => self.in_body(token),
            Token::Start { tag: OptionEl, .. } => {
                if self.is(self.current(), OptionEl) {
                    self.pop();
                }
                self.insert_element(OptionEl);
            }
            Token::Start { tag: Optgroup, .. } => {
                if self.is(self.current(), OptionEl) {
                    self.pop();
                }
                if self.is(self.current(), Optgroup) {
                    self.pop();
                }
                self.insert_element(Optgroup);
            }
            Token::Start { tag: Hr, .. } => {
                if self.is(self.current(), OptionEl) {
                    self.pop();
                }
                if self.is(self.current(), Optgroup) {
                    self.pop();
                }
                self.insert_element(Hr);
                self.pop();
            }
            Token::End { tag: Optgroup } => {
                let below = self.stack.len().checked_sub(2).map(|i| self.stack[i]);
                if self.is(self.current(), OptionEl) && below.is_some_and(|b| self.is(b, Optgroup)) {
                    self.pop();
                }
                if self.is(self.current(), Optgroup) {
                    self.pop();
                }
            }
            Token::End { tag: OptionEl } => {
                if self.is(self.current(), OptionEl) {
                    self.pop();
                }
            }
            Token::End { tag: Select } | Token::Start { tag: Select, .. } => {
                if self.in_scope(Select, Scope::Select) {
                    self.pop_until(Select);
                    self.reset_insertion_mode();
                }
            }
            Token::Start { tag: Input | Keygen | Textarea, .. } => {
                if self.in_scope(Select, Scope::Select) {
                    self.pop_until(Select);
                    self.reset_insertion_mode();
                    self.dispatch(token);
                }
            }
            Token::Start { tag: Script | Template, .. } | Token::End { tag: Template } => self.in_head(token),
            _ => {}
        }
    }

    fn in_select_in_table(&mut self, token: Token) {
        const TABLE: [Tag; 8] = [Caption, Table, Tbody, Tfoot, Thead, Tr, Td, Th];
        match token {
            Token::Start { tag, .. } if TABLE.contains(&tag) => {
                self.pop_until(Select);
                self.reset_insertion_mode();
                self.dispatch(token);
            }
            Token::End { tag } if TABLE.contains(&tag) => {
                if self.in_scope(tag, Scope::Table) {
                    self.pop_until(Select);
                    self.reset_insertion_mode();
                    self.dispatch(token);
                }
            }
            _ => self.in_select(token),
        }
    }

    fn after_body(&mut self, token: Token) {
        match token {
            Token::Comment | Token::Doctype => {}
            Token::End { tag: Html } => {}
            Token::Text if !self.pending_text().chars().any(|c| !is_whitespace(c)) => self.in_body(token),
            _ => {
                self.mode = Mode::InBody;
                self.dispatch(token);
            }
        }
    }

    fn in_frameset(&mut self, token: Token) {
        match token {
            Token::Start { tag: Frameset, .. } => {
                self.insert_element(Frameset);
            }
            Token::Start { tag: Frame, .. } => {
                self.insert_element(Frame);
                self.pop();
            }
            Token::End { tag: Frameset } => {
                if self.stack.len() > 1 {
                    self.pop();
                }
            }
            Token::Start { tag: Noframes, .. } => {
                self.head_element(token);
            }
            _ => {}
        }
    }

    // ---- foreign content ---------------------------------------------------------------------------

    fn foreign_content(&mut self, token: Token) {
        match token {
            Token::Text => self.insert_text_token(),
            Token::Comment => self.insert_comment(),
            Token::Doctype | Token::Eof => {}
            Token::Start { tag, self_closing } => {
                let breaks_out = matches!(
                    tag,
                    B | Big
                        | Blockquote
                        | Body
                        | Br
                        | Center
                        | Code
                        | Dd
                        | Div
                        | Dl
                        | Dt
                        | Em
                        | Embed
                        | H1
                        | H2
                        | H3
                        | H4
                        | H5
                        | H6
                        | Head
                        | Hr
                        | I
                        | Img
                        | Li
                        | Listing
                        | Menu
                        | Meta
                        | Nobr
                        | Ol
                        | P
                        | Pre
                        | S
                        | Small
                        | Span
                        | Strong
                        | Strike
                        | Table
                        | Tt
                        | U
                        | Ul
                ) || matches!(self.tok.name.as_str(), "ruby" | "sub" | "sup" | "var")
                    || (tag == Font && ["color", "face", "size"].iter().any(|a| self.tok.attr(a).is_some()));
                if breaks_out {
                    while let Some(&id) = self.stack.last() {
                        if self.namespace(id) == Namespace::Html
                            || self.is_html_integration_point(id)
                            || self.stack.len() == 1
                        {
                            break;
                        }
                        self.pop();
                    }
                    self.process(self.mode, token);
                    return;
                }
                let namespace = self.namespace(self.current());
                self.insert_foreign(tag, namespace);
                if self_closing {
                    self.pop();
                }
            }
            Token::End { .. } => {
                for at in (1..self.stack.len()).rev() {
                    let id = self.stack[at];
                    if self.namespace(id) == Namespace::Html {
                        self.process(self.mode, token);
                        return;
                    }
                    if self.dom.tag_name(id) == self.tok.name {
                        while self.stack.len() > at {
                            self.pop();
                        }
                        return;
                    }
                }
            }
        }
    }

    fn is_html_integration_point(&self, id: NodeId) -> bool {
        let tag = self.tag(id);
        match self.namespace(id) {
            Namespace::MathMl => matches!(tag, Mi | Mo | Mn | Ms | Mtext) || self.is_annotation_xml(id),
            Namespace::Svg => matches!(tag, ForeignObject | Desc | Title),
            Namespace::Html => false,
        }
    }
}

/// Whether a doctype puts the document in quirks mode (the cases real pages hit: no `html` name, HTML 3.x
/// and 4.0, HTML 4.01 Transitional/Frameset without a system identifier, and the legacy public ids).
fn doctype_is_quirks(doctype: &super::tokenizer::Doctype) -> bool {
    if doctype.name != "html" {
        return true;
    }
    let public = doctype.public_id.as_deref().unwrap_or("").to_ascii_lowercase();
    let system = doctype.system_id.as_deref().unwrap_or("").to_ascii_lowercase();
    if system == "http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd"
        || matches!(
            public.as_str(),
            "-//w3o//dtd w3 html strict 3.0//en//" | "-/w3c/dtd html 4.0 transitional/en" | "html"
        )
    {
        return true;
    }
    const QUIRKY_PREFIXES: [&str; 12] = [
        "+//silmaril//dtd html pro v0r11 19970101//",
        "-//as//dtd html 3.0 aswedit + extensions//",
        "-//advasoft ltd//dtd html 3.0 aswedit + extensions//",
        "-//ietf//dtd html",
        "-//metrius//dtd metrius presentational//",
        "-//microsoft//dtd internet explorer",
        "-//netscape comm. corp.//dtd",
        "-//o'reilly and associates//dtd html",
        "-//softquad",
        "-//spyglass//dtd html 2.0 extended//",
        "-//sun microsystems corp.//dtd hotjava",
        "-//webtechs//dtd mozilla html",
    ];
    const QUIRKY_W3C: [&str; 7] = [
        "-//w3c//dtd html 3",
        "-//w3c//dtd html 4.0 frameset//",
        "-//w3c//dtd html 4.0 transitional//",
        "-//w3c//dtd html experimental",
        "-//w3c//dtd w3 html//",
        "-//w3o//dtd w3 html 3.0//",
        "-//w3c//dtd html 3.2",
    ];
    if QUIRKY_PREFIXES.iter().chain(QUIRKY_W3C.iter()).any(|p| public.starts_with(p)) {
        return true;
    }
    doctype.system_id.is_none()
        && (public.starts_with("-//w3c//dtd html 4.01 frameset//")
            || public.starts_with("-//w3c//dtd html 4.01 transitional//"))
}

#[cfg(test)]
mod tests;

//! The HTML5 tokenizer, as a pull parser over one string: tags with attributes, text with character
//! references decoded, comments and doctypes. It follows the WHATWG states that change what text a page
//! yields (raw text, RCDATA, script escapes, `<plaintext>`, bogus comments, attribute-value quoting, EOF
//! inside a tag) and skips the ones that only matter for error reporting. The tree builder switches it
//! into raw-text modes, as the specification's tree construction does.
//!
//! After [`Tokenizer::next`] returns a [`TokenKind`], the token's data is in the tokenizer's public
//! fields until the next call; buffers are reused, so tokenizing allocates almost nothing per tag.

use std::collections::HashSet;

use super::entities::{decode_into, has_reference};
use super::tags::Tag;

/// What [`Tokenizer::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    StartTag,
    EndTag,
    /// Text, already decoded, in [`Tokenizer::text`].
    Text,
    Comment,
    Doctype,
}

/// One attribute: byte ranges of its lower-cased name and decoded value in [`Tokenizer::attr_text`].
#[derive(Debug, Clone, Copy)]
pub struct RawAttr {
    pub name: (u32, u32),
    pub value: (u32, u32),
}

/// The fields of a `<!DOCTYPE>` that decide quirks mode.
#[derive(Debug, Clone, Default)]
pub struct Doctype {
    pub name: String,
    pub public_id: Option<String>,
    pub system_id: Option<String>,
}

/// How the content after a start tag is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Markup,
    /// Raw text up to `</name` (`style`, `xmp`, `iframe`, …): no references, no tags.
    RawText,
    /// `title`, `textarea`: references decoded, no tags.
    RcData,
    /// `script`, with its `<!--` escape states.
    Script,
    /// `<plaintext>`: everything to the end of input.
    Plaintext,
}

pub struct Tokenizer<'a> {
    input: &'a str,
    pos: usize,
    content: Content,
    /// The end tag that leaves raw text (lower case).
    raw_end: &'static str,
    /// `<![CDATA[` sections are text only inside SVG/MathML (the tree builder sets this).
    pub allow_cdata: bool,
    /// The tag's lower-cased name.
    pub name: String,
    pub tag: Tag,
    pub self_closing: bool,
    pub attrs: Vec<RawAttr>,
    pub attr_text: String,
    /// The current tag's attribute names once it has more than [`FEW_ATTRS`], so that dropping
    /// duplicates stays linear on tags with thousands of attributes.
    many_names: HashSet<String>,
    pub text: String,
    pub doctype: Doctype,
}

/// Up to this many attributes, duplicates are found by a scan of the tag's attributes.
const FEW_ATTRS: usize = 16;

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

fn ends_tag_name(b: u8) -> bool {
    is_space(b) || b == b'/' || b == b'>'
}

impl<'a> Tokenizer<'a> {
    pub fn new(input: &'a str) -> Self {
        Tokenizer {
            input,
            pos: 0,
            content: Content::Markup,
            raw_end: "",
            allow_cdata: false,
            name: String::new(),
            tag: Tag::Other,
            self_closing: false,
            attrs: Vec::new(),
            attr_text: String::new(),
            many_names: HashSet::new(),
            text: String::new(),
            doctype: Doctype::default(),
        }
    }

    /// Reads the content after the current start tag (`tag`) the way the specification's tree
    /// construction tells the tokenizer to.
    pub fn enter_content_of(&mut self, tag: Tag) {
        self.content = match tag {
            Tag::Script => Content::Script,
            Tag::Plaintext => Content::Plaintext,
            t if t.is_rcdata() => Content::RcData,
            t if t.is_raw_text() => Content::RawText,
            _ => return,
        };
        self.raw_end = tag.name();
    }

    /// The attribute `name` of the current tag.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| self.span(a.name) == name).map(|a| self.span(a.value))
    }

    pub fn span(&self, (start, end): (u32, u32)) -> &str {
        &self.attr_text[start as usize..end as usize]
    }

    fn bytes(&self) -> &'a [u8] {
        self.input.as_bytes()
    }

    /// The next token, or `None` at the end of input (a tag cut off by the end of input is dropped).
    pub fn next_token(&mut self) -> Option<TokenKind> {
        if self.pos >= self.input.len() {
            return None;
        }
        match self.content {
            Content::Markup => self.markup(),
            Content::Plaintext => {
                self.text.clear();
                self.text.push_str(&self.input[self.pos..]);
                self.pos = self.input.len();
                Some(TokenKind::Text)
            }
            Content::RawText | Content::RcData | Content::Script => self.raw_text(),
        }
    }

    /// Text up to the end tag that closes raw text (or the end of input).
    fn raw_text(&mut self) -> Option<TokenKind> {
        let start = self.pos;
        let end = if self.content == Content::Script { self.script_end(start) } else { self.find_end_tag(start) };
        self.content = Content::Markup;
        self.pos = end;
        if end == start {
            return self.next_token();
        }
        self.text.clear();
        let raw = &self.input[start..end];
        if self.content_was_rcdata(raw) {
            decode_into(&mut self.text, raw, false);
        } else {
            self.text.push_str(raw);
        }
        Some(TokenKind::Text)
    }

    fn content_was_rcdata(&self, raw: &str) -> bool {
        matches!(self.raw_end, "title" | "textarea") && has_reference(raw)
    }

    /// Whether `</raw_end` followed by a tag-name delimiter starts at `at`.
    fn end_tag_at(&self, at: usize) -> bool {
        let bytes = self.bytes();
        let name = self.raw_end.as_bytes();
        let after = at + 2 + name.len();
        bytes.len() > after
            && bytes[at + 1] == b'/'
            && bytes[at + 2..after].eq_ignore_ascii_case(name)
            && ends_tag_name(bytes[after])
    }

    fn find_end_tag(&self, from: usize) -> usize {
        let bytes = self.bytes();
        let mut at = from;
        while let Some(found) = memchr::memchr(b'<', &bytes[at..]) {
            if self.end_tag_at(at + found) {
                return at + found;
            }
            at += found + 1;
        }
        bytes.len()
    }

    /// Script data: `<!--` enters the escaped state, where `<script>` starts a double-escaped part in which
    /// `</script>` does not end the element (old `document.write` idioms depend on this).
    fn script_end(&self, from: usize) -> usize {
        let bytes = self.bytes();
        let (mut escaped, mut double) = (false, false);
        let mut at = from;
        while let Some(found) = memchr::memchr2(b'<', b'-', &bytes[at..]) {
            let p = at + found;
            at = p + 1;
            if bytes[p] == b'-' {
                if escaped && bytes[p..].starts_with(b"-->") {
                    escaped = false;
                    double = false;
                    at = p + 3;
                }
                continue;
            }
            if !escaped && bytes[p..].starts_with(b"<!--") {
                escaped = true;
                at = p + 4;
            } else if self.end_tag_at(p) {
                if !double {
                    return p;
                }
                double = false;
            } else if escaped
                && !double
                && bytes.len() > p + 7
                && bytes[p + 1..p + 7].eq_ignore_ascii_case(b"script")
                && ends_tag_name(bytes[p + 7])
            {
                double = true;
            }
        }
        bytes.len()
    }

    /// Data state: text up to the next markup, or the markup itself.
    fn markup(&mut self) -> Option<TokenKind> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut at = start;
        let markup_at = loop {
            match memchr::memchr(b'<', &bytes[at..]) {
                None => break bytes.len(),
                Some(found) => {
                    let lt = at + found;
                    match bytes.get(lt + 1) {
                        Some(b) if b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?') => break lt,
                        _ => at = lt + 1,
                    }
                }
            }
        };
        if markup_at > start {
            self.pos = markup_at;
            self.text.clear();
            decode_into(&mut self.text, &self.input[start..markup_at], false);
            return Some(TokenKind::Text);
        }
        let next = bytes[start + 1];
        if next.is_ascii_alphabetic() {
            return self.tag(start + 1, TokenKind::StartTag);
        }
        match next {
            b'/' => match bytes.get(start + 2) {
                Some(b) if b.is_ascii_alphabetic() => self.tag(start + 2, TokenKind::EndTag),
                Some(b'>') => {
                    self.pos = start + 3;
                    self.next_token()
                }
                None => {
                    self.pos = bytes.len();
                    self.text.clear();
                    self.text.push_str("</");
                    Some(TokenKind::Text)
                }
                Some(_) => self.bogus_comment(start + 2),
            },
            b'!' => self.declaration(start + 2),
            _ => self.bogus_comment(start + 1),
        }
    }

    /// A start or end tag whose name begins at `at`.
    fn tag(&mut self, at: usize, kind: TokenKind) -> Option<TokenKind> {
        let bytes = self.bytes();
        let name_end = at + bytes[at..].iter().position(|&b| ends_tag_name(b)).unwrap_or(bytes.len() - at);
        self.name.clear();
        self.name.push_str(&self.input[at..name_end]);
        self.name.make_ascii_lowercase();
        self.tag = Tag::from_name(&self.name);
        self.self_closing = false;
        self.attrs.clear();
        self.attr_text.clear();
        self.many_names.clear();
        match self.attributes(name_end) {
            Some(end) => {
                self.pos = end;
                Some(kind)
            }
            None => {
                // End of input inside a tag: the tag is dropped.
                self.pos = bytes.len();
                None
            }
        }
    }

    /// Attributes from `at` to the tag's `>`; returns the position after it (None at end of input).
    fn attributes(&mut self, mut at: usize) -> Option<usize> {
        let bytes = self.bytes();
        loop {
            while at < bytes.len() && is_space(bytes[at]) {
                at += 1;
            }
            match *bytes.get(at)? {
                b'>' => return Some(at + 1),
                b'/' => {
                    at += 1;
                    if bytes.get(at) == Some(&b'>') {
                        self.self_closing = true;
                        return Some(at + 1);
                    }
                    continue;
                }
                _ => {}
            }
            // The first character may be '=' (it is then part of the name).
            let name_start = at;
            at += 1;
            while at < bytes.len() && !ends_tag_name(bytes[at]) && bytes[at] != b'=' {
                at += 1;
            }
            let name_end = at;
            while at < bytes.len() && is_space(bytes[at]) {
                at += 1;
            }
            let mut value = (0, 0);
            if bytes.get(at) == Some(&b'=') {
                at += 1;
                while at < bytes.len() && is_space(bytes[at]) {
                    at += 1;
                }
                let (value_start, value_end, next) = match *bytes.get(at)? {
                    quote @ (b'"' | b'\'') => {
                        let close = at + 1 + memchr::memchr(quote, &bytes[at + 1..])?;
                        (at + 1, close, close + 1)
                    }
                    b'>' => (at, at, at),
                    _ => {
                        let end =
                            at + bytes[at..].iter().position(|&b| is_space(b) || b == b'>').unwrap_or(bytes.len() - at);
                        (at, end, end)
                    }
                };
                value = (value_start, value_end);
                at = next;
            }
            self.push_attr(name_start, name_end, value);
        }
    }

    /// Whether the current tag already has an attribute named `raw_name` (the first one wins).
    fn is_duplicate(&mut self, raw_name: &str) -> bool {
        if self.attrs.len() < FEW_ATTRS {
            return self.attrs.iter().any(|a| self.span(a.name).eq_ignore_ascii_case(raw_name));
        }
        if self.many_names.is_empty() {
            let names: Vec<String> = self.attrs.iter().map(|a| self.span(a.name).to_string()).collect();
            self.many_names.extend(names);
        }
        !self.many_names.insert(raw_name.to_ascii_lowercase())
    }

    fn push_attr(&mut self, name_start: usize, name_end: usize, (value_start, value_end): (usize, usize)) {
        let raw_name = &self.input[name_start..name_end];
        if self.is_duplicate(raw_name) {
            return;
        }
        let offset = |s: &String| s.len() as u32;
        let name_from = offset(&self.attr_text);
        self.attr_text.push_str(raw_name);
        let name_to = offset(&self.attr_text);
        self.attr_text[name_from as usize..].make_ascii_lowercase();
        let raw_value = &self.input[value_start..value_end];
        decode_into(&mut self.attr_text, raw_value, true);
        let value_to = offset(&self.attr_text);
        self.attrs.push(RawAttr { name: (name_from, name_to), value: (name_to, value_to) });
    }

    /// `<!` at `at - 2`: a comment, a doctype, a CDATA section or a bogus comment.
    fn declaration(&mut self, at: usize) -> Option<TokenKind> {
        let bytes = self.bytes();
        let rest = &bytes[at..];
        if rest.starts_with(b"--") {
            return self.comment(at + 2);
        }
        if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"doctype") {
            return self.doctype(at + 7);
        }
        if self.allow_cdata && rest.starts_with(b"[CDATA[") {
            let start = at + 7;
            let end = memchr::memmem::find(&bytes[start..], b"]]>").map_or(bytes.len(), |e| start + e);
            self.pos = (end + 3).min(bytes.len());
            self.text.clear();
            self.text.push_str(&self.input[start..end]);
            return Some(TokenKind::Text);
        }
        self.bogus_comment(at)
    }

    /// A comment whose content starts at `at`: ends at `-->` or `--!>`; `<!-->` and `<!--->` are empty.
    fn comment(&mut self, at: usize) -> Option<TokenKind> {
        let bytes = self.bytes();
        if bytes[at..].starts_with(b">") {
            self.pos = at + 1;
            return Some(TokenKind::Comment);
        }
        if bytes[at..].starts_with(b"->") {
            self.pos = at + 2;
            return Some(TokenKind::Comment);
        }
        let mut search = at;
        while let Some(found) = memchr::memmem::find(&bytes[search..], b"--") {
            let dashes = search + found;
            let after = &bytes[dashes + 2..];
            if after.starts_with(b">") {
                self.pos = dashes + 3;
                return Some(TokenKind::Comment);
            }
            if after.starts_with(b"!>") {
                self.pos = dashes + 4;
                return Some(TokenKind::Comment);
            }
            search = dashes + 1;
        }
        self.pos = bytes.len();
        Some(TokenKind::Comment)
    }

    fn bogus_comment(&mut self, at: usize) -> Option<TokenKind> {
        let bytes = self.bytes();
        self.pos = memchr::memchr(b'>', &bytes[at..]).map_or(bytes.len(), |e| at + e + 1);
        Some(TokenKind::Comment)
    }

    /// `<!DOCTYPE name PUBLIC "…" "…">` (content from `at`): name and identifiers, loosely parsed.
    fn doctype(&mut self, at: usize) -> Option<TokenKind> {
        let bytes = self.bytes();
        let end = memchr::memchr(b'>', &bytes[at..]).map_or(bytes.len(), |e| at + e);
        self.pos = (end + 1).min(bytes.len());
        let body = &self.input[at..end];
        let body = body.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let name_len = body.find(|c: char| c.is_ascii_whitespace()).unwrap_or(body.len());
        self.doctype = Doctype { name: body[..name_len].to_ascii_lowercase(), public_id: None, system_id: None };
        let rest = body[name_len..].trim_start_matches(|c: char| c.is_ascii_whitespace());
        let keyword = rest.get(..6).map(str::to_ascii_lowercase);
        let mut quoted = quoted_strings(rest.get(6..).unwrap_or(""));
        match keyword.as_deref() {
            Some("public") => {
                self.doctype.public_id = quoted.next();
                self.doctype.system_id = quoted.next();
            }
            Some("system") => self.doctype.system_id = quoted.next(),
            _ => {}
        }
        Some(TokenKind::Doctype)
    }
}

/// The `"…"` or `'…'` strings in `text`, in order.
fn quoted_strings(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = text;
    std::iter::from_fn(move || {
        let open = rest.find(['"', '\''])?;
        let quote = rest[open..].chars().next()?;
        let after = &rest[open + 1..];
        let close = after.find(quote).unwrap_or(after.len());
        let value = after[..close].to_string();
        rest = after.get(close + 1..).unwrap_or("");
        Some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(html: &str) -> Vec<String> {
        let mut t = Tokenizer::new(html);
        let mut out = Vec::new();
        while let Some(kind) = t.next_token() {
            out.push(match kind {
                TokenKind::StartTag => {
                    let attrs: Vec<String> =
                        t.attrs.iter().map(|a| format!("{}={}", t.span(a.name), t.span(a.value))).collect();
                    let tag = t.tag;
                    let s = format!(
                        "<{}{}{}>",
                        t.name,
                        if attrs.is_empty() { String::new() } else { format!(" {}", attrs.join(" ")) },
                        if t.self_closing { "/" } else { "" }
                    );
                    t.enter_content_of(tag);
                    s
                }
                TokenKind::EndTag => format!("</{}>", t.name),
                TokenKind::Text => t.text.clone(),
                TokenKind::Comment => "<!---->".to_string(),
                TokenKind::Doctype => format!("<!{}>", t.doctype.name),
            });
        }
        out
    }

    #[test]
    fn tags_attributes_and_text() {
        assert_eq!(
            tokens("<!DOCTYPE html><P CLASS='a b' id=x data-x=\"1&amp;2\" hidden>Tom &amp; Jerry</p>"),
            ["<!html>", "<p class=a b id=x data-x=1&2 hidden=>", "Tom & Jerry", "</p>"]
        );
        assert_eq!(tokens("a < b <3 </> c"), ["a < b <3 ", " c"]);
        assert_eq!(tokens("<br/><img alt=x/>"), ["<br/>", "<img alt=x/>"]);
        assert_eq!(tokens("<a href=x title=\"unterminated>text"), Vec::<String>::new());
        assert_eq!(tokens("<p a=1 a=2 A=3>"), ["<p a=1>"]);
    }

    #[test]
    fn tags_with_many_attributes_keep_the_first_of_each_name() {
        let names: String = (0..50_000).map(|i| format!(" a{i}={i}")).collect();
        let html = format!("<p{names} A7=dup a49999=dup>");
        let mut t = Tokenizer::new(&html);
        assert_eq!(t.next_token(), Some(TokenKind::StartTag));
        assert_eq!(t.attrs.len(), 50_000);
        assert_eq!((t.attr("a7"), t.attr("a49999")), (Some("7"), Some("49999")));
    }

    #[test]
    fn raw_text_comments_and_scripts() {
        assert_eq!(tokens("<style>p < b { }</style >x"), ["<style>", "p < b { }", "</style>", "x"]);
        assert_eq!(tokens("<title>A &amp; B</title>"), ["<title>", "A & B", "</title>"]);
        assert_eq!(tokens("<!-- a -- b -->x<!-->y<!--->z"), ["<!---->", "x", "<!---->", "y", "<!---->", "z"]);
        assert_eq!(
            tokens("<script><!-- document.write('<script>x</script>'); --></script>after"),
            ["<script>", "<!-- document.write('<script>x</script>'); -->", "</script>", "after"]
        );
        assert_eq!(tokens("<?xml version='1.0'?>t"), ["<!---->", "t"]);
        assert_eq!(tokens("<plaintext><b>x</b>"), ["<plaintext>", "<b>x</b>"]);
    }
}

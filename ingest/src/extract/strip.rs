//! Tag-stripped text: the fallback for pages too large or too deep for a DOM. It runs sluice's HTML5
//! tokenizer alone (linear time, no tree), so text, character references and raw-text elements are read
//! exactly as the tree builder would read them.

use super::dom::{Tag, TokenKind, Tokenizer};

/// Whether a tag starts a new line of text.
fn breaks_line(tag: Tag) -> bool {
    super::resiliparse::is_block(tag) || matches!(tag, Tag::Td | Tag::Th | Tag::Title | Tag::Head)
}

/// Raw-text elements whose content is never visible.
fn is_code(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::Script
            | Tag::Style
            | Tag::Template
            | Tag::Noscript
            | Tag::Iframe
            | Tag::Noembed
            | Tag::Noframes
            | Tag::Xmp
    )
}

/// The page's visible text with tags removed: the `<head>`, scripts and styles dropped, a line break at block
/// boundaries, character references decoded, whitespace collapsed.
pub fn strip_tags(html: &str) -> String {
    let mut raw = String::with_capacity(html.len() / 4);
    let mut tokens = Tokenizer::new(html);
    let (mut in_head, mut in_code) = (false, false);
    while let Some(kind) = tokens.next_token() {
        match kind {
            TokenKind::Text if !in_head && !in_code => raw.push_str(&tokens.text),
            TokenKind::StartTag | TokenKind::EndTag => {
                let (tag, start) = (tokens.tag, kind == TokenKind::StartTag);
                if tag == Tag::Head || tag == Tag::Body {
                    in_head = start && tag == Tag::Head;
                }
                in_code = start && is_code(tag) && !tokens.self_closing;
                if start {
                    tokens.enter_content_of(tag);
                }
                if breaks_line(tag) {
                    raw.push('\n');
                }
            }
            _ => {}
        }
    }
    let lines: Vec<String> =
        raw.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripping_keeps_text_and_drops_code() {
        let html = "<html><head><title>T</title></head><body><p>Fish &amp; chips</p><script>var x = '<p>no</p>';</script><div>two<br>lines</div></body></html>";
        assert_eq!(strip_tags(html), "Fish & chips\ntwo\nlines");
        let deep = format!(
            "<html><body>{}deep &lt;text&gt;{}</body></html>",
            "<div>".repeat(150_000),
            "</div>".repeat(150_000)
        );
        assert_eq!(strip_tags(&deep), "deep <text>");
    }
}

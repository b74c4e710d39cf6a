//! A linear pre-scan of a page's tags: how many elements and how deep they nest, and a tag-stripping text
//! fallback for pages too large for a DOM.
//!
//! Why: HTML5 tree building checks "element in scope" by walking the stack of open elements, so a page
//! nested 100,000 deep costs ~10¹⁰ steps in html5ever. The pre-scan bounds the work before any parse; pages
//! over the limits get [`strip_tags`] text (linear) instead.

/// Elements that never have content (no end tag, no nesting).
fn is_void(name: &str) -> bool {
    matches!(name, "area" | "base" | "br" | "col" | "embed" | "hr" | "img" | "input" | "link" | "meta" | "param" | "source" | "track" | "wbr")
}

/// Elements whose content is raw text up to their end tag.
fn is_raw_text(name: &str) -> bool {
    matches!(name, "script" | "style" | "textarea" | "title" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript")
}

/// Pops `target` (and everything above it) if it is open below the nearest of `boundaries`.
fn pop_to(open: &mut Vec<String>, target: &str, boundaries: &[&str]) {
    for at in (0..open.len()).rev() {
        if open[at] == target {
            open.truncate(at);
            return;
        }
        if boundaries.contains(&open[at].as_str()) {
            return;
        }
    }
}

/// The HTML5 implied end tags that matter for nesting depth: a block start closes an open `<p>`; list
/// items, definition terms, table cells and rows, and options close their open predecessor.
fn close_implied(open: &mut Vec<String>, name: &str) {
    if super::resiliparse_blocks(name) || matches!(name, "dd" | "dt") {
        pop_to(open, "p", &["table", "td", "th", "button"]);
    }
    match name {
        "li" => pop_to(open, "li", &["ul", "ol"]),
        "dd" | "dt" => {
            pop_to(open, "dd", &["dl"]);
            pop_to(open, "dt", &["dl"]);
        }
        "td" | "th" => {
            pop_to(open, "td", &["tr", "table"]);
            pop_to(open, "th", &["tr", "table"]);
        }
        "tr" => pop_to(open, "tr", &["table"]),
        "option" => pop_to(open, "option", &["select"]),
        _ => {}
    }
}

/// What the scan found (it stops early once a limit is passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub elements: usize,
    pub max_depth: usize,
}

/// One tag-level event of the scan.
enum Event<'a> {
    Text(&'a str),
    Start(String),
    End(String),
}

/// Calls `on_event` for every text run and tag, skipping comments, doctypes and raw-text contents
/// (which are reported as `Start` then `End` with nothing between). Stops when `on_event` returns false.
fn scan<'a>(html: &'a str, mut on_event: impl FnMut(Event<'a>) -> bool) {
    let bytes = html.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(lt) = memchr::memchr(b'<', &bytes[pos..]).map(|i| pos + i) else {
            on_event(Event::Text(&html[pos..]));
            return;
        };
        if lt > pos && !on_event(Event::Text(&html[pos..lt])) {
            return;
        }
        let rest = &bytes[lt + 1..];
        match rest.first() {
            Some(b'!') if rest.starts_with(b"!--") => {
                pos = memchr::memmem::find(&bytes[lt + 4..], b"-->").map_or(bytes.len(), |i| lt + 4 + i + 3);
            }
            Some(b'!' | b'?') => pos = memchr::memchr(b'>', rest).map_or(bytes.len(), |i| lt + 1 + i + 1),
            Some(b'/') => {
                let name = tag_name(&rest[1..]);
                pos = memchr::memchr(b'>', rest).map_or(bytes.len(), |i| lt + 1 + i + 1);
                if !name.is_empty() && !on_event(Event::End(name)) {
                    return;
                }
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let name = tag_name(rest);
                let end = tag_end(bytes, lt + 1);
                let self_closing = end >= 2 && bytes[end - 2] == b'/';
                pos = end;
                if !on_event(Event::Start(name.clone())) {
                    return;
                }
                if is_raw_text(&name) && !self_closing {
                    let closing = format!("</{name}");
                    pos = find_ignore_case(&bytes[pos..], closing.as_bytes()).map_or(bytes.len(), |i| pos + i);
                } else if is_void(&name) || self_closing {
                    if !on_event(Event::End(name)) {
                        return;
                    }
                }
            }
            _ => {
                if !on_event(Event::Text(&html[lt..lt + 1])) {
                    return;
                }
                pos = lt + 1;
            }
        }
    }
}

fn tag_name(bytes: &[u8]) -> String {
    let len = bytes.iter().position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/').unwrap_or(bytes.len());
    let name = &bytes[..len.min(32)];
    // Tag names are ASCII; anything else is kept lossily (it only has to compare equal to itself).
    let mut owned = String::with_capacity(name.len());
    owned.extend(name.iter().map(|b| b.to_ascii_lowercase() as char));
    owned
}

/// The index just past the `>` closing the tag that starts at `start`, honouring quoted attribute values.
fn tag_end(bytes: &[u8], start: usize) -> usize {
    let mut quote = None;
    for (i, b) in bytes[start..].iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(*b),
            (Some(q), _) if *b == q => quote = None,
            (None, b'>') => return start + i + 1,
            _ => {}
        }
    }
    bytes.len()
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// Counts elements and nesting depth, stopping as soon as either exceeds its limit.
pub fn shape(html: &str, max_elements: usize, max_depth: usize) -> Shape {
    let mut shape = Shape { elements: 0, max_depth: 0 };
    let mut open: Vec<String> = Vec::new();
    scan(html, |event| {
        match event {
            Event::Text(_) => {}
            Event::Start(name) => {
                shape.elements += 1;
                close_implied(&mut open, &name);
                open.push(name);
                shape.max_depth = shape.max_depth.max(open.len());
            }
            Event::End(name) => {
                // Close up to the matching open element, if it is open at all (stray end tags are ignored).
                if let Some(at) = open.iter().rposition(|n| *n == name) {
                    open.truncate(at);
                }
            }
        }
        shape.elements <= max_elements && shape.max_depth <= max_depth
    });
    shape
}

/// Blocks that end a line in stripped text.
fn breaks_line(name: &str) -> bool {
    super::resiliparse_blocks(name) || matches!(name, "td" | "th")
}

/// The page's text with tags removed (linear time): scripts, styles and other raw-text elements dropped,
/// a line break at block boundaries, entities decoded, whitespace collapsed.
pub fn strip_tags(html: &str) -> String {
    let mut raw = String::with_capacity(html.len() / 4);
    let mut in_head = false;
    scan(html, |event| {
        match event {
            Event::Text(text) if !in_head => raw.push_str(text),
            Event::Text(_) => {}
            Event::Start(name) | Event::End(name) if name == "head" => in_head = raw.is_empty() && !in_head,
            Event::Start(name) | Event::End(name) if breaks_line(&name) => raw.push('\n'),
            _ => {}
        }
        true
    });
    let decoded = html_escape::decode_html_entities(&raw);
    let lines: Vec<String> = decoded.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_count_elements_and_depth() {
        let html = "<html><body><ul><li>a<li>b<li>c</ul><p>x<br>y<img src=a><script>if (a<b) { '<div>' }</script></body></html>";
        assert_eq!(shape(html, 1000, 1000), Shape { elements: 10, max_depth: 4 });
        let deep = "<div>".repeat(5000);
        assert!(shape(&deep, 100_000, 512).max_depth > 512);
    }

    #[test]
    fn stripping_keeps_text_and_drops_code() {
        let html = "<html><head><title>T</title></head><body><p>Fish &amp; chips</p><script>var x = '<p>no</p>';</script><div>two<br>lines</div></body></html>";
        assert_eq!(strip_tags(html), "Fish & chips\ntwo\nlines");
    }
}

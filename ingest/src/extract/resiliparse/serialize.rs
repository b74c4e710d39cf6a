//! Step 4 of the resiliparse walk: runs of text to the final string.

use super::collect::ExtractNode;
use crate::extract::dom::Tag;

/// ASCII whitespace plus vertical tab, as resiliparse counts it.
pub(crate) fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{000b}'
}

/// Collapses every run of whitespace to one space (no trimming).
pub(crate) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if is_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

fn rstrip(s: &mut String) {
    let kept = s.trim_end_matches(is_space).len();
    s.truncate(kept);
}

/// Writes the pending block separation (`size` newlines) before more text.
fn flush_margin(out: &mut String, size: &mut usize, pre_depth: usize) {
    if *size == 0 {
        return;
    }
    if pre_depth == 0 {
        rstrip(out);
    }
    if !out.is_empty() {
        out.extend(std::iter::repeat_n('\n', *size));
    }
    *size = 0;
}

fn indent(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n(' ', depth * 2));
}

/// Serialises runs with block formatting and list bullets (resiliparse's `preserve_formatting=True`,
/// `list_bullets=True`).
pub(crate) fn serialize(nodes: Vec<ExtractNode>) -> String {
    let mut out = String::new();
    let mut prefix = String::new();
    let mut bullet = false;
    let mut list_depth: usize = 0;
    let mut margins: usize = 0;
    let mut numbering: Vec<usize> = Vec::new();
    let mut row_has_cell: Vec<bool> = Vec::new();
    for mut n in nodes {
        let tag = n.tag;
        if tag == Tag::Tr {
            if n.end {
                row_has_cell.pop();
            } else {
                row_has_cell.push(false);
            }
        }
        if matches!(tag, Tag::Td | Tag::Th) {
            // A cell's exit event only gathers the whitespace between cells.
            if n.end {
                continue;
            }
            flush_margin(&mut out, &mut margins, n.pre_depth);
            if let Some(has_cell) = row_has_cell.last_mut() {
                if *has_cell {
                    out.push_str("\t\t");
                }
                *has_cell = true;
            }
        }
        if matches!(tag, Tag::Ul | Tag::Ol) || (tag == Tag::Li && list_depth == 0) {
            if n.end {
                list_depth = list_depth.saturating_sub(1);
                numbering.pop();
                bullet = false;
                prefix.clear();
            } else {
                list_depth += 1;
                numbering.push(usize::from(tag == Tag::Ol));
            }
        }
        if tag == Tag::Li {
            if let Some(number) = numbering.last_mut() {
                prefix = if *number == 0 {
                    "• ".to_string()
                } else {
                    let numbered = format!("{number}. ");
                    if !n.end {
                        *number += 1;
                    }
                    numbered
                };
                bullet = !n.end;
            }
        }
        if n.block {
            if n.collapse_margins {
                margins = margins.max(if n.big_block && n.pre_depth == 0 { 2 } else { 1 });
            } else {
                margins += if n.big_block { 2 } else { 1 };
            }
        }
        let Some(mut text) = n.text.take() else {
            continue;
        };
        if n.pre_depth == 0 {
            text = collapse(&text);
            if n.block || out.ends_with(is_space) {
                text = text.trim_start_matches(is_space).to_string();
            }
        }
        if text.is_empty() {
            continue;
        }
        flush_margin(&mut out, &mut margins, n.pre_depth);
        if list_depth > 0 {
            indent(&mut out, list_depth + usize::from(!bullet));
            bullet = false;
        }
        out.push_str(&prefix);
        prefix.clear();
        out.push_str(&text);
    }
    rstrip(&mut out);
    out
}

//! resiliparse's main-content heuristics: which subtrees are boilerplate.
//!
//! The class/id patterns are resiliparse 2.0's (`extract/filters.rs`, Apache-2.0, © Janek Bevendorff),
//! reproduced verbatim because matching its output is the point; the code around them is sluice's own.
//! All patterns are ASCII-only and case-insensitive except `OTHER_JUNK`.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

use super::collect::is_block;
use super::serialize::is_space;
use crate::extract::dom::{Dom, NodeId, Tag};

fn pattern(source: &str, case_insensitive: bool) -> Regex {
    RegexBuilder::new(source)
        .case_insensitive(case_insensitive)
        .unicode(false)
        .build()
        .expect("main-content patterns are valid")
}

macro_rules! patterns {
    ($($name:ident = $ci:expr, $($part:expr),+;)+) => {
        $(static $name: LazyLock<Regex> = LazyLock::new(|| pattern(concat!($($part),+), $ci));)+
    };
}

patterns! {
    ARTICLE = true, r"(?:^|[\s_-])(?:article|entry|post|story|single[_-]?post|(?:main[_-])?content|body|text|page)(?:$|[\s_-])";
    NAV = true, r"(?:^|\s)(?:(?:l|m|wp|main|site|page|sub|article|global|sticky)[_-]*)?",
        r"(?:nav(?:igation|bar)?(?:[_-](?:bar|menu|container|wrapper))?|menu(?:[_-]item)?",
        r"|drop[_-]?down|bread[_-]?crumbs?|links?[_-]?(?:bar|box|list|container|section|wrapper))(?:$|\s)";
    RECOMMENDED = true, r"(?:^|[\s_-])(?:trends|trending|recommended|featured|popular|editors?[_-]picks",
        r"|related|read-next|related[_-]?(?:links|articles|posts|guides|stories))(?:$|[\s_-])";
    LANDMARK_ID = true, r"^(?:(?:l|wp|global|page|site|full|sticky)[_-]*)?(?:(?:head|foot)(?:er)?|right)$";
    HEADER = true, r"(?:^|\s)(?:l|m|wp|global|page|site|full|sticky)[_-]*header(?:[_-]?wrap(?:per)?|bar)?(?:$|\s)";
    FOOTER = true, r"(?:^|\s)(?:(?:global|page|site)[_-]?)?(?:footer|copyright|cookie|consent|legal|fcontainer)",
        r"(?:[_-](?:wrap(?:per)?|container|banner|notice|bar|consent))?(?:$|\s)";
    SIDEBAR = true, r"(?:^|\s)(?:(?:l|wp|global|sticky)[_-]*)?(?:(?:side|sticky)[_-]?(?:bars?|box)", r"|one-third)(?:$|\s)";
    SEARCH = true, r"(?:^|\s)search(?:[_-]?(?:bar|facility|box))?(?:$|\s)";
    SKIP_LINK = true, r"(?:^|\s)(?:link[_-]?)?(?:skip(?:[_-]?(?:to|link))?|scroll[_-]?(?:up|down)|next|prev(?:ious)?",
        r"|permalink|pagination|skip-to-(?:main-)?content)(?:$|\s|[_-]?(?:post|article))";
    DISPLAY_CLASS = true, r"(?:^|\s)(?:(?:is|visually)[_-])?",
        r"(?:display-none|hidden|invisible|collapsed|h-0|nocontent|expandable)(?:-xs|-sm|-lg|-2?xl)?(?:$|\s)";
    DISPLAY_CSS = true, r"(?:^|;\s*)(?:display\s?:\s?none|visibility\s?:\s?hidden)(?:$|\s?;)";
    MODAL = true, r"(?:^|\s)(?:wp-|p-|-l)?(?:modal|popup|lightbox)(?:[_-]*(?:window|pane|box))?(?:$|\s)";
    GALLERY = true, r"(?:^|\s)(?:gallery|carousel)(?:$|\s)";
    SIGNIN = true, r"(?:^|[\s_-])(?:(?:log[_-]?in|sign[_-]?(?:in|up)|account)|user[_-]",
        r"(?:info|profile|settings|actions))(?:$|[\s_-])";
    ADS = true, r"(?:^|\s)(?:(?:google|wide)[_-]?ads?|ad(?:vert|vertise(?:ment|link)?|$|_[a-f0-9]+)",
        r"|sponsor(?:ed)?|promoted|paid|(?:wide)?banner|donate)(?:$|[\s_-])";
    SOCIAL = true, r"(?:^|\s|__|--|mobile-|desktop-|l-|m-|c-)(?:social(?:media|search)?|share(?:daddy)?",
        r"|syndication|newsletter|sharing|follow|email|likes?|(?:give[_-]?)?feedback|(?:brand[_-])?engagement",
        r"|facebook|twitter|subscribe|wa|jp|aptf-follow)(?:[_-]?(?:post|links?|section|icons?",
        r"|btn|buttons?|target))?(?:$|[\s_-])";
    LOGO = true, r"(?:brand(?:ing)?[_-]*)?logo(?:$|\s)";
    PRINT = true, r"(?:^|\s)print[_-]";
    OTHER_JUNK = false, r"(?:^|\s)short-view-count|spinner(?:$|[\s_-])";
}

/// One regex matching where any of `parts` matches (one scan of the haystack instead of one per part).
fn any_of(parts: &[&Regex]) -> Regex {
    let alternation: Vec<String> = parts.iter().map(|re| format!("(?:{})", re.as_str())).collect();
    pattern(&alternation.join("|"), true)
}

static LOGO_OR_ADS: LazyLock<Regex> = LazyLock::new(|| any_of(&[&LOGO, &ADS]));
static BOILERPLATE: LazyLock<Regex> =
    LazyLock::new(|| any_of(&[&HEADER, &FOOTER, &NAV, &RECOMMENDED, &SEARCH, &SIDEBAR, &MODAL, &GALLERY, &PRINT]));

/// Whether an inline `style` hides its element (`display: none`, `visibility: hidden`).
pub(crate) fn style_hides(style: &str) -> bool {
    matches(style, &DISPLAY_CSS)
}

/// Selectors for the main-content container, in resiliparse's order.
const CANDIDATE_CLASSES: [&str; 8] = [
    "article-body",
    "articleBody",
    "contentBody",
    "article-text",
    "main-content",
    "postcontent",
    "post-content",
    "single-post",
];

/// ARIA roles of boilerplate blocks.
const BOILERPLATE_ROLES: [&str; 20] = [
    "alert",
    "banner",
    "checkbox",
    "comment",
    "complementary",
    "contentinfo",
    "dialog",
    "img",
    "menu",
    "menubar",
    "menuitem",
    "navigation",
    "presentation",
    "radio",
    "search",
    "searchbox",
    "separator",
    "tab",
    "toolbar",
    "tooltip",
];

fn attr<'a>(dom: &'a Dom, node: NodeId, name: &str) -> &'a str {
    dom.attr(node, name).unwrap_or_default()
}

fn trimmed(value: &str) -> &str {
    value.trim_matches(is_space)
}

fn matches(value: &str, regex: &Regex) -> bool {
    !value.is_empty() && regex.is_match(value)
}

/// The single element under `body` matching a candidate selector, if exactly one matches (an element
/// matching two selectors counts twice, as in resiliparse). One pass over the elements.
pub(crate) fn candidate_root(dom: &Dom, body: NodeId) -> Option<NodeId> {
    // Per selector (8 classes, then [role=main]): how many elements match, and the first one.
    let mut matches: [(usize, Option<NodeId>); 9] = Default::default();
    for element in dom.descendants(body).filter(|&n| dom.is_element(n)) {
        let class = attr(dom, element, "class");
        // Every candidate class is 11 or 12 bytes long: most class lists have no such token.
        if class.split_ascii_whitespace().any(|c| matches!(c.len(), 11 | 12)) {
            for (i, candidate) in CANDIDATE_CLASSES.iter().enumerate() {
                // Class selectors ignore ASCII case in quirks mode (CSS Selectors §6.6).
                let is = |c: &str| c == *candidate || (dom.quirks && c.eq_ignore_ascii_case(candidate));
                if class.split_ascii_whitespace().any(is) {
                    matches[i].0 += 1;
                    matches[i].1.get_or_insert(element);
                }
            }
        }
        if dom.attr(element, "role") == Some("main") {
            matches[8].0 += 1;
            matches[8].1.get_or_insert(element);
        }
    }
    // resiliparse stops at the first selector that brings the count above one.
    let mut count = 0;
    let mut candidate = None;
    for (n, first) in matches {
        if n == 0 {
            continue;
        }
        count += n;
        if count > 1 {
            return None;
        }
        candidate = first;
    }
    candidate
}

/// Byte length of the whitespace-collapsed text content of `node` (`collapse(textContent).len()`), or
/// any value over `cap` once it is known to exceed it (the count stops there: callers only compare).
fn collapsed_text_len(dom: &Dom, node: NodeId, cap: usize) -> usize {
    let mut len = 0;
    let mut in_space = false;
    let mut add = |text: &str| {
        for c in text.chars() {
            if is_space(c) {
                if !in_space {
                    len += 1;
                }
                in_space = true;
            } else {
                len += c.len_utf8();
                in_space = false;
            }
        }
        len
    };
    if dom.is_text(node) {
        return add(dom.text(node));
    }
    let mut total = 0;
    for descendant in dom.descendants(node).filter(|&n| dom.is_text(n)) {
        total = add(dom.text(descendant));
        if total > cap {
            break;
        }
    }
    total
}

/// Whether links make up more than `ratio` of the element's text (texts longer than `max_length` bytes,
/// when it is non-zero, and empty texts are never link clusters). With `rules.cards`, cards are not links.
fn link_cluster(dom: &Dom, node: NodeId, ratio: f64, max_length: usize, rules: Rules) -> bool {
    let cap = if max_length > 0 { max_length } else { usize::MAX };
    let text_len = collapsed_text_len(dom, node, cap);
    if text_len > cap || text_len == 0 || !dom.is_element(node) {
        return false;
    }
    let links: usize = dom
        .descendants(node)
        .filter(|&d| dom.tag(d) == Tag::A && !(rules.cards && is_card(dom, d)))
        .map(|a| collapsed_text_len(dom, a, usize::MAX))
        .sum();
    links > 0 && links as f64 / text_len as f64 > ratio
}

/// The least text (bytes) outside headings of a card (see [`is_card`]): a summary, not only a title and a
/// price or a menu entry wrapped in a `<div>`.
const MIN_CARD_SUMMARY_BYTES: usize = 60;

/// Whether the link `a` is a card: it wraps blocks (a title and a summary) with [`MIN_CARD_SUMMARY_BYTES`] of
/// text outside its headings. A grid of such cards is a catalogue's content — a summary per item — where a
/// cluster of plain links, or of product tiles (a title and a price), is navigation.
fn is_card(dom: &Dom, a: NodeId) -> bool {
    let mut has_block = false;
    let mut heading_bytes = 0;
    for d in dom.descendants(a).filter(|&d| dom.is_element(d)) {
        let tag = dom.tag(d);
        if tag.is_heading() {
            heading_bytes += collapsed_text_len(dom, d, usize::MAX);
        }
        has_block |= is_block(tag) && tag != Tag::Br;
    }
    has_block && collapsed_text_len(dom, a, usize::MAX).saturating_sub(heading_bytes) >= MIN_CARD_SUMMARY_BYTES
}

/// A footer counts as main content only if something other than whitespace follows it (or one of its
/// ancestors below `<body>`) — i.e. it is not the page's last block.
fn footer_is_followed(dom: &Dom, node: NodeId) -> bool {
    let mut current = node;
    while let Some(parent) = dom.parent(current) {
        if dom.tag(parent) == Tag::Body {
            break;
        }
        if let Some(next) = dom.next_sibling(current) {
            if !dom.is_text(next) || dom.next_sibling(next).is_some() {
                return true;
            }
        }
        current = parent;
    }
    false
}

/// Whether a text node is an icon glyph: a lone three-byte character in resiliparse's historical range
/// (its bytes read as a little-endian integer in 0x8080ee..=0xbfa3ef: mostly the private-use area).
fn is_icon_glyph(text: &str) -> bool {
    match text.as_bytes() {
        [a, b, c] => (0x8080ee..=0xbfa3ef).contains(&u32::from_le_bytes([*a, *b, *c, 0])),
        _ => false,
    }
}

/// Whether a text node is one character of Unicode's private-use area (U+E000–U+F8FF), where icon fonts put
/// their glyphs.
fn is_private_use_char(text: &str) -> bool {
    let mut chars = text.chars();
    matches!((chars.next(), chars.next()), (Some('\u{e000}'..='\u{f8ff}'), None))
}

/// Where the `article` extractor's walk departs from resiliparse's rules (resiliparse mode keeps them all).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// Drop lists less than four levels below `<body>` as navigation.
    pub drop_shallow_lists: bool,
    /// Walk into React's streamed segments ([`is_streamed_segment`]) although they are `hidden`.
    pub show_streamed: bool,
    /// A `<ul>` whose link text is more than this share of its text is navigation.
    pub list_link_ratio: f64,
    /// Links around blocks ([`is_card`]) are not link text in the link-cluster tests.
    pub cards: bool,
    /// A block named like an ad or a logo is one only up to [`MAX_AD_BYTES`] of text.
    pub cap_ads: bool,
    /// Only a lone private-use character is an icon glyph ([`is_icon_glyph`]): resiliparse's byte range also
    /// takes a lone CJK character for one (ruby bases, one-character links) and drops it.
    pub exact_icon_glyphs: bool,
    /// A `<blockquote>` named like a social widget (`blockquote.twitter-tweet`) is a post the article quotes,
    /// not a share button.
    pub quoted_posts: bool,
}

/// The most text (bytes) a block named like an ad or a logo holds (with `Rules::cap_ads`): more is a post
/// whose classes say it is promoted or sponsored (`article.hentry.promoted`), not an ad slot.
const MAX_AD_BYTES: usize = 2500;

impl Rules {
    pub const RESILIPARSE: Rules = Rules {
        drop_shallow_lists: true,
        show_streamed: false,
        list_link_ratio: 0.2,
        cards: false,
        cap_ads: false,
        exact_icon_glyphs: false,
        quoted_posts: false,
    };
}

/// Whether `node` is a segment React's streaming server rendering sent late: `<div hidden id="S:1f">`, which
/// the page's own script moves into place at once (Next.js pages often hold their whole article in one).
/// Hidden in the markup, visible to every reader of the page.
pub(crate) fn is_streamed_segment(dom: &Dom, node: NodeId) -> bool {
    dom.tag(node) == Tag::Div
        && dom
            .attr(node, "id")
            .and_then(|id| id.strip_prefix("S:"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `node` (at `depth` below `<body>`) belongs to the main content.
pub(crate) fn is_main_content(dom: &Dom, node: NodeId, tag: Tag, depth: usize, rules: Rules) -> bool {
    if dom.is_text(node) {
        let text = trimmed(dom.text(node));
        let glyph = if rules.exact_icon_glyphs { is_private_use_char(text) } else { is_icon_glyph(text) };
        return text != "¶" && !glyph;
    }
    if !dom.is_element(node) {
        return true;
    }
    match tag {
        Tag::Body | Tag::Main | Tag::H1 => return true,
        Tag::Footer => return depth >= 3 && !link_cluster(dom, node, 0.2, 0, rules) && footer_is_followed(dom, node),
        Tag::Ul
            if (rules.drop_shallow_lists && depth < 4) || link_cluster(dom, node, rules.list_link_ratio, 0, rules) =>
        {
            return false
        }
        Tag::Article if depth > 2 && link_cluster(dom, node, 0.2, 500, rules) => return false,
        Tag::Nav | Tag::Aside | Tag::Audio | Tag::Video | Tag::Time => return false,
        _ => {}
    }
    let attr = |name: &str| attr(dom, node, name);
    if (dom.has_attr(node, "hidden") && !(rules.show_streamed && is_streamed_segment(dom, node)))
        || matches!(trimmed(attr("rel")), "author" | "icon" | "search" | "prev" | "next" | "tag")
        || matches!(trimmed(attr("itemprop")), "datePublished" | "author" | "url")
        || trimmed(attr("aria-hidden")) == "true"
        || trimmed(attr("aria-expanded")) == "false"
    {
        return false;
    }
    let class = attr("class");
    let id = attr("id");
    if matches(class, &DISPLAY_CLASS) || matches(attr("style"), &DISPLAY_CSS) {
        return false;
    }
    if class.is_empty() && id.is_empty() {
        return tag != Tag::Div || depth <= 5 || !link_cluster(dom, node, 0.6, 800, rules);
    }
    // Class and id are matched together, separated by a space (a class without id keeps the trailing space).
    let combined = format!("{class}{}{id}", if class.is_empty() { "" } else { " " });
    if matches!(tag, Tag::A | Tag::Div | Tag::Li) && matches(&combined, &SKIP_LINK) {
        return false;
    }
    let quoted_post = rules.quoted_posts && tag == Tag::Blockquote;
    if depth > 2 && !quoted_post && (matches(class, &SIGNIN) || matches(class, &SOCIAL)) {
        return false;
    }
    if (matches(&combined, &LOGO_OR_ADS)
        && !(rules.cap_ads && collapsed_text_len(dom, node, MAX_AD_BYTES) > MAX_AD_BYTES))
        || ["data-ad", "data-advertisement", "data-text-ad"].iter().any(|a| dom.has_attr(node, a))
        || matches(class, &OTHER_JUNK)
    {
        return false;
    }
    if !is_block(tag) && tag != Tag::Td {
        return true;
    }
    if trimmed(attr("rel")) == "main" {
        return true;
    }
    if BOILERPLATE_ROLES.contains(&trimmed(attr("role"))) {
        return false;
    }
    if tag == Tag::Article || matches(&combined, &ARTICLE) {
        return true;
    }
    if matches(id, &LANDMARK_ID) || matches(&combined, &BOILERPLATE) {
        return false;
    }
    !(depth > 2 && tag == Tag::Div && link_cluster(dom, node, 0.6, 1500, rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first `<a>` of the page.
    fn first_link(dom: &Dom) -> NodeId {
        (0..dom.nodes.len() as NodeId).find(|&n| dom.is(n, Tag::A)).expect("the page has a link")
    }

    fn card(inner: &str) -> bool {
        let dom = Dom::parse(&format!("<html><body><div>{inner}</div></body></html>"));
        is_card(&dom, first_link(&dom))
    }

    #[test]
    fn a_card_is_a_link_around_a_title_and_a_summary() {
        assert!(card(
            "<a href='/b'><div>Badge</div><div>Icon-like block that conveys dynamic content such as counts or \
             status.</div></a>"
        ));
        // A summary as loose text beside the heading counts too.
        assert!(card(
            "<a href='/s'><h3>SS26: Sal</h3>Our latest jewelry campaign, documented in Paris by the sea.</a>"
        ));
    }

    #[test]
    fn tiles_menus_and_plain_links_are_not_cards() {
        // A product tile: a title (a heading) and a price.
        assert!(!card(
            "<a href='/p'><h3>Kinesis PD7DXT-WR DXT 2 Wireless Mouse, right-handed</h3><div>$110.00</div></a>"
        ));
        // A menu entry wrapped in a block.
        assert!(!card("<a href='/m'><div>Products</div></a>"));
        // A long plain link.
        assert!(!card("<a href='/l'>Icon-like block that conveys dynamic content such as counts or status.</a>"));
        // Text broken by <br> only.
        assert!(!card("<a href='/r'>Icon-like block that conveys<br>dynamic content such as counts or status.</a>"));
    }
}

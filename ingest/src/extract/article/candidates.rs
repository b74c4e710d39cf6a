//! Which subtrees hold the article: Readability's content scoring on sluice's DOM.
//!
//! Paragraph-like elements earn points for their text (length, commas) and hand them up to their
//! ancestors; elements whose class or id looks like boilerplate are not candidates in the strict pass;
//! link-heavy candidates are discounted. The best candidate — or the shared ancestor of several close
//! ones — and the siblings that score close to it are the article.
//! The algorithm and its class/id patterns follow Mozilla Readability.js (Apache-2.0).

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

use crate::extract::dom::{Dom, NodeId, Tag};
use crate::extract::resiliparse::{is_streamed_segment, style_hides};

fn pattern(source: &str) -> Regex {
    RegexBuilder::new(source).case_insensitive(true).build().expect("article patterns are valid")
}

static UNLIKELY: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote",
    )
});
static MAYBE: LazyLock<Regex> = LazyLock::new(|| pattern(r"and|article|body|column|content|main|shadow"));
static POSITIVE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story"));
static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget",
    )
});

/// Words of a class or id token that name a block that is never the article, whatever Readability's pass:
/// comment threads, cookie notices.
const NEVER_WORDS: [&str; 9] =
    ["comment", "comments", "commentlist", "disqus", "respond", "cookie", "cookies", "consent", "gdpr"];

/// The [`NEVER_WORDS`] of cookie notices: unlike comment threads (a forum's posts), never content in any pass.
const COOKIE_WORDS: [&str; 4] = ["cookie", "cookies", "consent", "gdpr"];

/// Words that make the next word a property of the block rather than its name: `has-comments` on a page's
/// `<main>`, `no-comments`, `comments-open` in WordPress's body classes, `comment-count`.
const MODIFIER_WORDS: [&str; 9] = ["has", "with", "no", "show", "allow", "enable", "open", "closed", "count"];

/// Whether a class or id value names a block that is never the article. Matched on whole tokens, word by
/// word (`comment-list`, `disqus_thread`, `wp-comments`), not as a substring: `has-comments` (a state of
/// the page's main block), `bbp-replies` and `topic-with-replies` (a forum thread: the content) are not.
fn names_never_block(value: &str) -> bool {
    names_block(value, &NEVER)
}

/// Whether a class or id token has one of `names` as a `-`/`_` word and no [`MODIFIER_WORDS`].
fn names_block(value: &str, names: &WordSet) -> bool {
    value.split_ascii_whitespace().any(|token| {
        let mut words = token.split(['-', '_']);
        words.clone().any(|w| names.contains(w)) && !words.any(|w| MODIFIERS.contains(w))
    })
}

/// ASCII words matched case-insensitively; the set of their lengths turns most other words away without a
/// comparison (these tests run on every element's class and id, several times a page).
struct WordSet {
    words: &'static [&'static str],
    lengths: u64,
}

impl WordSet {
    const fn new(words: &'static [&'static str]) -> Self {
        let mut lengths = 0u64;
        let mut i = 0;
        while i < words.len() {
            assert!(words[i].len() < 64, "words are shorter than 64 bytes");
            lengths |= 1 << words[i].len();
            i += 1;
        }
        WordSet { words, lengths }
    }

    fn contains(&self, word: &str) -> bool {
        word.len() < 64
            && self.lengths & (1 << word.len()) != 0
            && self.words.iter().any(|w| w.eq_ignore_ascii_case(word))
    }
}

const NEVER: WordSet = WordSet::new(&NEVER_WORDS);
const COOKIES: WordSet = WordSet::new(&COOKIE_WORDS);
const MODIFIERS: WordSet = WordSet::new(&MODIFIER_WORDS);
const INNER_BOILERPLATE: WordSet = WordSet::new(&INNER_BOILERPLATE_WORDS);
const TITLES: WordSet = WordSet::new(&TITLE_WORDS);
const LEADS: WordSet = WordSet::new(&LEAD_WORDS);
const NO_PRINT: WordSet = WordSet::new(&NO_PRINT_TOKENS);

/// Photo credits outside `<figcaption>`: dropped from the text when short, as captions are (captions named by
/// class are [`INNER_BOILERPLATE_WORDS`]).
static CREDIT: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?:^|[\s_-])(?:credit|credits|photocredit)(?:$|[\s_-])"));

/// Article metadata blocks (bylines, datelines): dropped from the text when short.
static BYLINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?:^|[\s_-])(?:byline|author|authors|dateline|writtenby|timestamp|date|time|published|updated|posted|(?:post|entry|article)-?(?:meta|info|date|details))(?:$|[\s_-])",
    )
});

/// ARIA roles that never hold the article.
const UNLIKELY_ROLES: [&str; 7] = ["menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog"];

/// Readability's retry flags: a first pass that finds too little text runs again with less pruning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pass {
    /// Exclude elements whose class/id look like boilerplate before scoring.
    pub strip_unlikely: bool,
    /// Let class/id patterns add to or subtract from scores.
    pub weight_classes: bool,
}

impl Pass {
    /// The passes in the order Readability tries them.
    pub const ALL: [Pass; 3] = [
        Pass { strip_unlikely: true, weight_classes: true },
        Pass { strip_unlikely: false, weight_classes: true },
        Pass { strip_unlikely: false, weight_classes: false },
    ];
}

/// Per-node text statistics of a subtree, computed once bottom-up.
pub(crate) struct Stats {
    /// Characters of whitespace-collapsed text.
    pub text: Vec<u32>,
    /// Of which inside links.
    pub links: Vec<u32>,
    pub commas: Vec<u32>,
    /// Whether a paragraph-level block (`p`, `div`, `table`, lists, …) lies below.
    pub has_block: Vec<bool>,
    /// Excluded as boilerplate (with its subtree).
    pub excluded: Vec<bool>,
    /// Named as a comment thread or cookie notice ([`names_never_block`]) but not excluded (the passes after
    /// the strict one): the article's text leaves it out unless the article lies inside one (a thread).
    pub never: Vec<bool>,
}

impl Stats {
    pub fn link_density(&self, id: NodeId) -> f64 {
        let text = self.text[id as usize];
        if text == 0 {
            return 0.0;
        }
        self.links[id as usize] as f64 / text as f64
    }
}

fn collapsed_len(text: &str) -> (u32, u32) {
    let (mut len, mut commas, mut in_space) = (0u32, 0u32, true);
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                len += 1;
            }
            in_space = true;
        } else {
            len += 1;
            in_space = false;
            if c == ',' || c == '，' {
                commas += 1;
            }
        }
    }
    (len, commas)
}

/// Subtrees that never hold article text.
fn is_invisible(tag: Tag) -> bool {
    use Tag::*;
    matches!(tag, Script | Style | Noscript | Template | Iframe | Svg | Select | Textarea | Button | Head)
}

fn class_and_id(dom: &Dom, id: NodeId) -> (&str, &str) {
    (dom.attr(id, "class").unwrap_or_default(), dom.attr(id, "id").unwrap_or_default())
}

fn is_hidden(dom: &Dom, id: NodeId) -> bool {
    (dom.has_attr(id, "hidden") && !is_streamed_segment(dom, id))
        || dom.attr(id, "aria-hidden") == Some("true")
        || dom.attr(id, "style").is_some_and(style_hides)
}

/// Whether Readability would drop `id` before scoring ("unlikely candidates" and hidden elements).
fn is_unlikely(dom: &Dom, id: NodeId, tag: Tag, in_table_or_code: bool, strip_unlikely: bool) -> bool {
    if is_invisible(tag) || is_hidden(dom, id) {
        return true;
    }
    if matches!(tag, Tag::Body | Tag::A) || in_table_or_code {
        return false;
    }
    if dom.attr(id, "role").is_some_and(|r| UNLIKELY_ROLES.contains(&r)) {
        return true;
    }
    let (class, ident) = class_and_id(dom, id);
    if class.is_empty() && ident.is_empty() {
        return false;
    }
    // A cookie notice is never the article: on a page whose article is short, the later passes would
    // otherwise pick it.
    if names_block(class, &COOKIES) || names_block(ident, &COOKIES) {
        return true;
    }
    // Readability matches `class + " " + id`; no pattern can match across the space, so each is matched
    // on its own (no string built per element).
    let any = |re: &Regex| re.is_match(class) || re.is_match(ident);
    // Comment threads and cookie notices go in the strict pass only: in the others they are marked
    // (`Stats::never`) and scored, because on a forum the "comments" are the content.
    strip_unlikely && (is_never_block(dom, id) || (any(&UNLIKELY) && !any(&MAYBE)))
}

/// Whether `id`'s class or id names a block that is never the article ([`names_never_block`]).
fn is_never_block(dom: &Dom, id: NodeId) -> bool {
    let (class, ident) = class_and_id(dom, id);
    names_never_block(class) || names_never_block(ident)
}

/// The page's one main element (`<main>` or `role="main"`), if it has exactly one.
pub(crate) fn unique_main(dom: &Dom, body: NodeId) -> Option<NodeId> {
    let mut mains = dom
        .descendants(body)
        .filter(|&n| dom.is_element(n) && (dom.tag(n) == Tag::Main || dom.attr(n, "role") == Some("main")));
    let main = mains.next()?;
    // A `<main role="main">` counts once; a second, separate one makes the landmark ambiguous.
    mains.all(|other| dom.is_inside(other, main)).then_some(main)
}

/// An article with less than this share of the text of the main landmark it lies in is a part of it.
const MIN_SHARE_OF_MAIN: f64 = 0.5;

/// Weighs the article's `roots` against the page's one main landmark (HTML5's `<main>`, which holds the
/// page's main content by definition): an article outside it that has less text than it is looked for
/// inside it; an article inside it with under half its text is a part of content spread over sections
/// that score apart (service pages, documentation, threads), and the landmark is the article.
pub(crate) fn weigh_against_main(
    dom: &Dom,
    main: NodeId,
    roots: Vec<NodeId>,
    stats: &Stats,
    pass: Pass,
) -> Vec<NodeId> {
    if roots.is_empty() {
        return roots;
    }
    let text: u32 = roots.iter().map(|&r| stats.text[r as usize]).sum();
    let main_text = stats.text[main as usize];
    if !roots.iter().any(|&r| dom.is_inside(r, main)) {
        return if main_text > text { article_roots(dom, main, stats, pass) } else { roots };
    }
    if roots.iter().all(|&r| dom.is_inside(r, main)) && (text as f64) < MIN_SHARE_OF_MAIN * main_text as f64 {
        return vec![main];
    }
    roots
}

/// The fewest children of one structure that make a listing.
const MIN_LISTING_ITEMS: u32 = 4;
/// The least text per item (characters) of a listing: a menu's or a tag cloud's entries are shorter.
const MIN_LISTING_ITEM_CHARS: u32 = 25;

/// The element whose children repeat one structure (same tag and first class) with the most text — a listing's
/// cards, a forum's thread list, a product grid — outside excluded blocks: (element, the items' text).
pub(crate) fn listing(dom: &Dom, root: NodeId, stats: &Stats) -> Option<(NodeId, u32)> {
    let mut best: Option<(NodeId, u32)> = None;
    let mut groups: Vec<((Tag, &str), u32, u32)> = Vec::new();
    for parent in dom.descendants(root).filter(|&n| dom.is_element(n) && stats.text[n as usize] > 0) {
        groups.clear();
        for child in dom.children(parent).filter(|&c| dom.is_element(c) && stats.text[c as usize] > 0) {
            // The first class names the kind of item; later ones often carry the item's id or state.
            let class = dom.attr(child, "class").unwrap_or_default();
            let key = (dom.tag(child), class.split_ascii_whitespace().next().unwrap_or_default());
            match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, count, text)) => (*count, *text) = (*count + 1, *text + stats.text[child as usize]),
                None => groups.push((key, 1, stats.text[child as usize])),
            }
        }
        for &(_, count, text) in &groups {
            if count >= MIN_LISTING_ITEMS
                && text >= count * MIN_LISTING_ITEM_CHARS
                && best.is_none_or(|(_, t)| text > t)
            {
                best = Some((parent, text));
            }
        }
    }
    best
}

/// Whether the article's subtrees lie inside a block named as comments: then it is a thread (a forum's
/// posts are often `comment`s), and its comment blocks are the content.
pub(crate) fn is_thread(dom: &Dom, roots: &[NodeId], stats: &Stats) -> bool {
    roots.iter().any(|&r| std::iter::successors(Some(r), |&n| dom.parent(n)).any(|n| stats.never[n as usize]))
}

/// Parts of the article block that are not article text: the headline (kept as the title), captions and
/// image alt texts, photo credits, bylines and datelines.
pub(crate) fn is_article_furniture(dom: &Dom, id: NodeId, stats: &Stats) -> bool {
    if !dom.is_element(id) {
        return false;
    }
    if matches!(dom.tag(id), Tag::H1 | Tag::Figcaption | Tag::Img | Tag::Caption | Tag::Rt | Tag::Rp) {
        return true;
    }
    let (class, ident) = class_and_id(dom, id);
    if class.is_empty() && ident.is_empty() || stats.text[id as usize] > 200 {
        return false;
    }
    BYLINE.is_match(class) || BYLINE.is_match(ident) || CREDIT.is_match(class) || CREDIT.is_match(ident)
}

/// Whether an element inside the article is a teaser of other content: a class word `teaser(s)`, and a link
/// in it or around it. (Without a link, sites use the word for the article's own lead paragraph.)
pub(crate) fn is_teaser(dom: &Dom, id: NodeId) -> bool {
    let is_teaser_word = |w: &str| w.eq_ignore_ascii_case("teaser") || w.eq_ignore_ascii_case("teasers");
    dom.attr(id, "class")
        .is_some_and(|class| class.split_ascii_whitespace().any(|token| token.split(['-', '_']).any(is_teaser_word)))
        && (dom.is(id, Tag::A) || dom.descendants(id).any(|d| dom.is(d, Tag::A)))
}

/// Class/id words of blocks inside an article that are not its text: boxes of related and popular stories,
/// newsletter sign-ups, rating widgets, captions, embedded-content notices, disclaimers, share bars, print
/// links, contact boxes, "loading" placeholders, and a post's utility line, metadata line and category list.
/// Matched as whole `-`/`_` words of a token, as the comment words are; blocks over
/// [`MAX_INNER_BOILERPLATE_CHARS`] are content whatever their name.
const INNER_BOILERPLATE_WORDS: [&str; 39] = [
    "related",
    "relatedposts",
    "relatedlinks",
    "recommended",
    "recommendations",
    "popular",
    "mostviewed",
    "mostread",
    "newsletter",
    "subscribe",
    "subscription",
    "signup",
    "rating",
    "ratings",
    "vote",
    "feedback",
    "caption",
    "legend",
    "embed",
    "embedded",
    "disclaimer",
    "disclosure",
    "notice",
    "share",
    "sharing",
    "shariff",
    "social",
    "sharedaddy",
    "utility",
    "entryfooter",
    "categories",
    "print",
    "printlink",
    "postmetadata",
    "entrymeta",
    "contact",
    "contactbox",
    "loading",
    "loader",
];

/// Class tokens that keep a block off the printed page (`noprint`, Bootstrap's `d-print-none`): sites mark
/// their furniture so. Matched whole.
const NO_PRINT_TOKENS: [&str; 12] = [
    "noprint",
    "no-print",
    "no_print",
    "d-print-none",
    "hidden-print",
    "print-hidden",
    "dontprint",
    "noprintcontent",
    "not-print",
    "hide-print",
    "hide-on-print",
    "print-none",
];

/// The most text (characters) a block named by [`INNER_BOILERPLATE_WORDS`] holds: more is content that a
/// page builder named oddly (a Webflow `w-html-embed` holding a whole article, a product's rating cards).
const MAX_INNER_BOILERPLATE_CHARS: u32 = 1000;

/// Whether an element inside the article is boilerplate by its class or id ([`INNER_BOILERPLATE_WORDS`]).
pub(crate) fn is_inner_boilerplate(dom: &Dom, id: NodeId, stats: &Stats) -> bool {
    if !dom.is_element(id) || stats.text[id as usize] > MAX_INNER_BOILERPLATE_CHARS {
        return false;
    }
    let (class, ident) = class_and_id(dom, id);
    names_block(class, &INNER_BOILERPLATE)
        || names_block(ident, &INNER_BOILERPLATE)
        || class.split_ascii_whitespace().any(|token| NO_PRINT.contains(token))
}

/// Whether an element inside the article is a form or one of its controls: a rating, comment, order or
/// search form is the page's interface, not the article (a page wrapped whole in a `<form>`, as ASP.NET
/// pages are, has its article inside the form, where this is never asked).
pub(crate) fn is_form(dom: &Dom, id: NodeId) -> bool {
    dom.is_element(id) && matches!(dom.tag(id), Tag::Form | Tag::Fieldset | Tag::Select | Tag::Button)
}

/// The longest heading (characters) that can be a box's title ("More on this topic", "Weitere Artikel").
const MAX_BOX_HEADING_CHARS: u32 = 80;
/// Text outside links (characters) that makes what follows a heading a section of the article.
const MIN_SECTION_PROSE_CHARS: u32 = 25;

/// Class/id words of a block that is a box's title though not a heading element (`div.boxhead`,
/// `p.box-title`).
const TITLE_WORDS: [&str; 7] = ["heading", "headline", "head", "title", "boxhead", "kastenhead", "header"];

/// A heading below the headline: `h2`–`h6`, or a `div`, `p`, `span` or `strong` named as a title.
fn is_subheading(dom: &Dom, id: NodeId) -> bool {
    if !dom.is_element(id) {
        return false;
    }
    match dom.tag(id) {
        Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6 => true,
        Tag::Div | Tag::P | Tag::Span | Tag::Strong => {
            let (class, ident) = class_and_id(dom, id);
            names_block(class, &TITLES) || names_block(ident, &TITLES)
        }
        _ => false,
    }
}

/// Whether a heading inside the article titles a box of links rather than a section: what follows it up to
/// the next heading is links with under [`MIN_SECTION_PROSE_CHARS`] of other text. The walk drops the links
/// as a link cluster; the heading would be left behind ("Mehr zum Thema", "Explore further"). A heading
/// wrapped alone in blocks (`div.heading > h2`) is judged by what follows its outermost wrapper.
pub(crate) fn is_link_box_heading(dom: &Dom, id: NodeId, stats: &Stats, roots: &[NodeId]) -> bool {
    if stats.text[id as usize] > MAX_BOX_HEADING_CHARS || !is_subheading(dom, id) || roots.contains(&id) {
        return false;
    }
    let mut block = id;
    while let Some(parent) = dom.parent(block) {
        // Whitespace around the heading in its wrapper counts as nothing.
        if roots.contains(&block) || stats.text[parent as usize] > stats.text[block as usize] + 2 {
            break;
        }
        block = parent;
    }
    if roots.contains(&block) {
        return false;
    }
    let (mut prose, mut links) = (0, 0);
    for sibling in std::iter::successors(dom.next_sibling(block), |&n| dom.next_sibling(n)) {
        if is_subheading(dom, sibling) {
            break;
        }
        let i = sibling as usize;
        if !stats.excluded[i] {
            prose += stats.text[i].saturating_sub(stats.links[i]);
            links += stats.links[i];
        }
        if prose >= MIN_SECTION_PROSE_CHARS {
            return false;
        }
    }
    links > 0
}

/// Labels that mark an ad slot, in the languages of the measured pages and the crawl's largest.
const AD_LABELS: [&str; 11] = [
    "advertisement",
    "advertising",
    "anzeige",
    "werbung",
    "publicidad",
    "publicité",
    "pubblicità",
    "reklama",
    "annonce",
    "sponsored",
    "реклама",
];

/// Whether a text node is an ad slot's label standing alone in its element ("Anzeige", "- Advertisement -"):
/// the ad itself is gone (scripts, iframes), the label would be left in the text.
pub(crate) fn is_ad_label(dom: &Dom, id: NodeId, stats: &Stats) -> bool {
    if !dom.is_text(id) || stats.text[id as usize] > 24 {
        return false;
    }
    let alone = dom.parent(id).is_some_and(|p| stats.text[p as usize] <= stats.text[id as usize] + 2);
    alone && {
        let label = dom.text(id).trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        AD_LABELS.contains(&label.as_str())
    }
}

/// The longest link line (characters, see [`is_link_line`]).
const MAX_LINK_LINE_CHARS: u32 = 60;

/// Whether an element inside the article is a short paragraph or `div` whose text is all links: a "back",
/// "print", "read more" or teaser link on a line of its own, not prose.
pub(crate) fn is_link_line(dom: &Dom, id: NodeId, stats: &Stats) -> bool {
    let i = id as usize;
    dom.is_element(id)
        && matches!(dom.tag(id), Tag::P | Tag::Div)
        && (1..=MAX_LINK_LINE_CHARS).contains(&stats.text[i])
        && stats.links[i] >= stats.text[i]
}

/// Class/id words of an article's lead (standfirst): the paragraph under the headline that sites often put
/// in the header, outside the block that scores as the article.
const LEAD_WORDS: [&str; 15] = [
    "lead",
    "leadin",
    "lede",
    "intro",
    "subtitle",
    "subheadline",
    "standfirst",
    "perex",
    "bajada",
    "vorspann",
    "deck",
    "dek",
    "abstract",
    "sapo",
    "chapeau",
];
/// How far above the article's first block (ancestors) its lead is looked for.
const LEAD_SCOPE_LEVELS: usize = 3;
/// The least text (characters) of a lead: shorter is a kicker or a label.
const MIN_LEAD_CHARS: u32 = 40;
/// A lead is prose: at most this share of its text is links.
const MAX_LEAD_LINK_DENSITY: f64 = 0.3;

/// The article's lead when it lies outside the article's blocks: the first element before them, below
/// their ancestor [`LEAD_SCOPE_LEVELS`] up, named as a lead ([`LEAD_WORDS`]) and holding prose.
pub(crate) fn lead_before(dom: &Dom, roots: &[NodeId], stats: &Stats) -> Option<NodeId> {
    let first = *roots.first()?;
    let scope = std::iter::successors(dom.parent(first), |&n| dom.parent(n))
        .take(LEAD_SCOPE_LEVELS)
        .take_while(|&n| dom.tag(n) != Tag::Body)
        .last()?;
    dom.descendants(scope).take_while(|&n| n != first).find(|&n| {
        dom.is_element(n)
            && !stats.excluded[n as usize]
            && stats.text[n as usize] >= MIN_LEAD_CHARS
            && stats.link_density(n) <= MAX_LEAD_LINK_DENSITY
            && {
                let (class, ident) = class_and_id(dom, n);
                names_block(class, &LEADS) || names_block(ident, &LEADS)
            }
            && !dom.is_inside(first, n)
    })
}

/// Computes [`Stats`] for the subtree at `root` in one depth-first walk: elements are excluded on the
/// way down, sums are taken on the way up. Only `strip_unlikely` of a [`Pass`] changes the result.
pub(crate) fn stats(dom: &Dom, root: NodeId, strip_unlikely: bool) -> Stats {
    let n = dom.nodes.len();
    let mut stats = Stats {
        text: vec![0; n],
        links: vec![0; n],
        commas: vec![0; n],
        has_block: vec![false; n],
        excluded: vec![false; n],
        never: vec![false; n],
    };
    // An explicit stack of (node, children already walked?, inside a table or code block?, inside a
    // sectioning element?).
    let mut stack = vec![(root, false, false, false)];
    while let Some((id, visited, in_table_or_code, in_section)) = stack.pop() {
        let i = id as usize;
        if !visited {
            if dom.is_element(id) {
                let tag = dom.tag(id);
                if id != root
                    && (is_unlikely(dom, id, tag, in_table_or_code, strip_unlikely) || is_page_footer(tag, in_section))
                {
                    stats.excluded[i] = true;
                    continue;
                }
                stats.never[i] = is_never_block(dom, id);
                let inner = in_table_or_code || matches!(tag, Tag::Table | Tag::Code | Tag::Pre);
                let section =
                    in_section || matches!(tag, Tag::Article | Tag::Section | Tag::Main | Tag::Aside | Tag::Nav);
                stack.push((id, true, in_table_or_code, in_section));
                stack.extend(dom.children_rev(id).map(|c| (c, false, inner, section)));
            } else if dom.is_text(id) {
                let (len, commas) = collapsed_len(dom.text(id));
                stats.text[i] = len;
                stats.commas[i] = commas;
            }
            continue;
        }
        // All children are done: sum them up.
        let is_link = dom.tag(id) == Tag::A;
        let (mut text, mut links, mut commas, mut block) = (0, 0, 0, false);
        for child in dom.children(id) {
            let c = child as usize;
            if stats.excluded[c] {
                continue;
            }
            text += stats.text[c];
            links += stats.links[c];
            commas += stats.commas[c];
            block |= stats.has_block[c] || is_block_level(dom.tag(child));
        }
        stats.text[i] = text;
        stats.links[i] = if is_link { text } else { links };
        stats.commas[i] = commas;
        stats.has_block[i] = block;
    }
    stats
}

/// Whether an element is the page's footer: a `<footer>` outside any sectioning element (HTML5: a footer
/// belongs to its nearest sectioning ancestor, here the whole page). Its contact details, newsletter box
/// and link columns can outscore a page whose content is short or mostly linked titles; it is never the
/// article, in any pass.
fn is_page_footer(tag: Tag, in_section: bool) -> bool {
    tag == Tag::Footer && !in_section
}

/// Readability's `DIV_TO_P_ELEMS`: a `div` without any of these below reads as a paragraph.
fn is_block_level(tag: Tag) -> bool {
    use Tag::*;
    matches!(tag, Blockquote | Dl | Div | Img | Ol | P | Pre | Table | Ul)
}

fn class_weight(dom: &Dom, id: NodeId) -> f64 {
    let (class, ident) = class_and_id(dom, id);
    let mut weight = 0.0;
    for value in [class, ident] {
        if value.is_empty() {
            continue;
        }
        if NEGATIVE.is_match(value) {
            weight -= 25.0;
        }
        if POSITIVE.is_match(value) {
            weight += 25.0;
        }
    }
    weight
}

fn initial_score(dom: &Dom, id: NodeId, pass: Pass) -> f64 {
    use Tag::*;
    let by_tag = match dom.tag(id) {
        Div => 5.0,
        Pre | Td | Blockquote => 3.0,
        Address | Ol | Ul | Dl | Dd | Dt | Li | Form => -3.0,
        H1 | H2 | H3 | H4 | H5 | H6 | Th => -5.0,
        _ => 0.0,
    };
    by_tag + if pass.weight_classes { class_weight(dom, id) } else { 0.0 }
}

/// Content scores of the candidate elements (NaN for elements that are not candidates).
fn scores(dom: &Dom, root: NodeId, stats: &Stats, pass: Pass) -> Vec<f64> {
    let mut score = vec![f64::NAN; dom.nodes.len()];
    let mut pending = vec![root];
    while let Some(id) = pending.pop() {
        if stats.excluded[id as usize] || !dom.is_element(id) {
            continue;
        }
        pending.extend(dom.children(id));
        let tag = dom.tag(id);
        let paragraph_like =
            matches!(tag, Tag::P | Tag::Td | Tag::Pre | Tag::Section | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6)
                || (tag == Tag::Div && !stats.has_block[id as usize]);
        if tag == Tag::Div && !paragraph_like {
            // Readability wraps the runs of inline content of such a div in paragraphs of its own.
            for (length, commas) in inline_runs(dom, id, stats) {
                add_paragraph(dom, root, Some(id), length, commas, &mut score, pass);
            }
        }
        let length = stats.text[id as usize];
        if !paragraph_like || length < 25 || id == root {
            continue;
        }
        add_paragraph(dom, root, dom.parent(id), length, stats.commas[id as usize], &mut score, pass);
    }
    for (id, s) in score.iter_mut().enumerate() {
        if !s.is_nan() {
            *s *= 1.0 - stats.link_density(id as NodeId);
        }
    }
    score
}

/// (text length, commas) of each run of inline children of `div` between its block-level children.
fn inline_runs(dom: &Dom, div: NodeId, stats: &Stats) -> Vec<(u32, u32)> {
    let mut runs = Vec::new();
    let (mut length, mut commas) = (0, 0);
    for child in dom.children(div) {
        let c = child as usize;
        if stats.excluded[c] {
            continue;
        }
        if dom.is_element(child) && (is_block_level(dom.tag(child)) || stats.has_block[c]) {
            runs.push((length, commas));
            (length, commas) = (0, 0);
            continue;
        }
        length += stats.text[c];
        commas += stats.commas[c];
    }
    runs.push((length, commas));
    runs.retain(|&(length, _)| length >= 25);
    runs
}

/// Hands a paragraph's score to its first five ancestors (from `parent` up), Readability's way.
fn add_paragraph(
    dom: &Dom,
    root: NodeId,
    parent: Option<NodeId>,
    length: u32,
    commas: u32,
    score: &mut [f64],
    pass: Pass,
) {
    let content = 1.0 + commas as f64 + (length / 100).min(3) as f64;
    let mut ancestor = parent;
    for level in 0..5 {
        let Some(a) = ancestor.filter(|&a| dom.is_element(a)) else {
            break;
        };
        let s = &mut score[a as usize];
        if s.is_nan() {
            *s = initial_score(dom, a, pass);
        }
        let divider = match level {
            0 => 1.0,
            1 => 2.0,
            l => l as f64 * 3.0,
        };
        score[a as usize] += content / divider;
        if a == root {
            break;
        }
        ancestor = dom.parent(a);
    }
}

/// The article's subtrees under `root` (usually `<body>`), in document order; empty if nothing scored.
pub(crate) fn article_roots(dom: &Dom, root: NodeId, stats: &Stats, pass: Pass) -> Vec<NodeId> {
    let score = scores(dom, root, stats, pass);
    // On equal scores the first candidate in document order wins, as in Readability.
    let best =
        (0..score.len()).filter(|&i| !score[i].is_nan()).max_by(|&a, &b| score[a].total_cmp(&score[b]).then(b.cmp(&a)));
    let Some(best) = best else { return Vec::new() };
    let mut top = best as NodeId;
    // A table row is not an article: its table is where the climb starts (a list of signatories laid out
    // in a table outscored the letter around it).
    if matches!(dom.tag(top), Tag::Tr | Tag::Tbody | Tag::Thead | Tag::Tfoot) {
        if let Some(table) = std::iter::successors(dom.parent(top), |&n| dom.parent(n)).find(|&n| dom.is(n, Tag::Table))
        {
            if table != root {
                top = table;
            }
        }
    }
    let shared = shared_ancestor_of_close_candidates(dom, root, &score, best);
    // Climb while a parent scores better (the article is often split over sibling blocks).
    let mut last_score = score[best];
    let threshold = last_score / 3.0;
    let mut parent = if let Some(shared) = shared {
        top = shared;
        None
    } else {
        dom.parent(top)
    };
    while let Some(p) = parent.filter(|&p| p != root) {
        let s = score[p as usize];
        if s.is_nan() {
            parent = dom.parent(p);
            continue;
        }
        if s < threshold {
            break;
        }
        if s > last_score {
            top = p;
            break;
        }
        last_score = s;
        parent = dom.parent(p);
    }
    // An only child says no more than its parent.
    while let Some(p) = dom.parent(top).filter(|&p| p != root) {
        if dom.children(p).filter(|&c| dom.is_element(c)).count() != 1 {
            break;
        }
        top = p;
    }
    let top_score = if score[top as usize].is_nan() { 0.0 } else { score[top as usize] };
    let Some(parent) = dom.parent(top).filter(|_| top != root) else {
        return vec![top];
    };
    let sibling_threshold = (top_score * 0.2).max(10.0);
    let top_class = dom.attr(top, "class").unwrap_or_default();
    dom.children(parent)
        .filter(|&s| {
            s == top
                || (!stats.excluded[s as usize]
                    && sibling_joins(dom, s, stats, &score, top_score, top_class, sibling_threshold))
        })
        .collect()
}

/// Readability's candidates that score this close to the best one are parts of the same article.
const CLOSE_CANDIDATE_RATIO: f64 = 0.75;
/// How many of the best candidates Readability compares (`nbTopCandidates`).
const TOP_CANDIDATES: usize = 5;
/// How many close candidates must share an ancestor for it to be the article (`MINIMUM_TOPCANDIDATES`).
const MIN_CLOSE_CANDIDATES: usize = 3;

/// Readability's "alternative candidate ancestors": when several of the best candidates score close to the
/// best one, the article is spread over blocks (page-builder sections, posts of a thread), and the
/// lowest ancestor of the best candidate that holds enough of them is the article.
fn shared_ancestor_of_close_candidates(dom: &Dom, root: NodeId, score: &[f64], best: usize) -> Option<NodeId> {
    let mut ranked: Vec<usize> = (0..score.len()).filter(|&i| i != best && !score[i].is_nan()).collect();
    ranked.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let close: Vec<NodeId> = ranked
        .into_iter()
        .take(TOP_CANDIDATES - 1)
        .filter(|&i| score[i] >= score[best] * CLOSE_CANDIDATE_RATIO)
        .map(|i| i as NodeId)
        .collect();
    if close.len() < MIN_CLOSE_CANDIDATES {
        return None;
    }
    std::iter::successors(dom.parent(best as NodeId), |&n| dom.parent(n))
        .take_while(|&a| a != root)
        .find(|&a| close.iter().filter(|&&c| c != a && dom.is_inside(c, a)).count() >= MIN_CLOSE_CANDIDATES)
}

fn sibling_joins(
    dom: &Dom,
    s: NodeId,
    stats: &Stats,
    score: &[f64],
    top_score: f64,
    top_class: &str,
    threshold: f64,
) -> bool {
    if !dom.is_element(s) {
        return false;
    }
    let class = dom.attr(s, "class").unwrap_or_default();
    let bonus = if !class.is_empty() && class == top_class { top_score * 0.2 } else { 0.0 };
    let own = score[s as usize];
    if !own.is_nan() && own + bonus >= threshold {
        return true;
    }
    if dom.tag(s) != Tag::P {
        return false;
    }
    let length = stats.text[s as usize];
    let density = stats.link_density(s);
    if length > 80 {
        return density < 0.25;
    }
    length > 0 && density == 0.0 && {
        let text = dom.text_content(s);
        text.contains(". ") || text.trim_end().ends_with('.')
    }
}

#[cfg(test)]
mod tests {
    use super::names_never_block;

    #[test]
    fn comment_blocks_are_named_by_whole_words() {
        for never in
            ["comments", "comment-list", "commentlist", "disqus_thread", "wp-comments", "cookie-notice", "gdpr"]
        {
            assert!(names_never_block(never), "{never}");
        }
        for content in [
            "main has-comments",
            "BlogItem has-comments",
            "forums bbp-replies",
            "topic-with-replies",
            "comment-count",
            "no-comments",
            "commentary",
            "recommended",
        ] {
            assert!(!names_never_block(content), "{content}");
        }
    }
}

//! The `article` extractor: the page's main article as plain text.
//!
//! Two passes over sluice's DOM: Readability's content scoring picks the subtrees that hold the article
//! ([`candidates`]), then resiliparse's main-content walk turns them into text, dropping the boilerplate
//! blocks it recognises inside them (share bars, ads, related links, hidden elements) and keeping
//! headings, lists, tables, code and paragraph breaks. Pages where no article is found keep the
//! main-content walk's text of the whole page (or, if that is empty, all visible text), so nothing is lost
//! to the extractor's judgement at ingest time.
//!
//! Where it departs from Readability, each measured on the ScrapingHub, Readability and WCXB sets
//! (`docs/extraction.md`): comment blocks are recognised by whole class words and kept when the article lies
//! inside one (forum threads); close top candidates lift the article to their shared ancestor (content over
//! page-builder blocks, as Readability.js itself does); the page's one `<main>` is weighed against the
//! article (an article outside it that holds less text, or inside it with under half its text, gives way
//! to it); an article that is a sliver of the page's main content (listings, collections) gives way to the
//! whole main content; a short article on a page that does not declare itself one gets the page's listing
//! (cards, thread lists) added, without the lists of links inside its items; on such pages links around a
//! title and a summary (cards) are content, not link clusters; the page's `<footer>` is never the article;
//! React's streamed segments are content, and so is `<noscript>` content on a page that shows next to nothing
//! without JavaScript; cookie notices never win a retry pass; a table row starts the climb at its table.
//! Inside the article, photo credits, its own `<footer>`, linked teasers, blocks named as related stories,
//! newsletters, ratings, captions, embeds, notices, share or print bars, contact boxes (up to 1,000
//! characters), headings of boxes of links, short all-link lines, lone ad labels and forms are left out; the
//! lead before the article's block is put in front of it; ruby annotations are dropped and soft hyphens
//! removed from the text. These last rules were also measured on trafilatura's own evaluation pages.

mod candidates;

use super::dom::{Dom, NodeId, Tag};
use super::metadata::{declares_article, read_dom_metadata};
use super::resiliparse::{ResiliparseExtractor, ARTICLE_LIST_LINK_RATIO};
use super::{ExtractError, ExtractLimits, Extracted, Extractor};
use candidates::{Pass, Stats};

pub struct ArticleExtractor {
    limits: ExtractLimits,
    walker: ResiliparseExtractor,
    /// The same walk where cards are content (pages that do not declare themselves articles).
    catalogue_walker: ResiliparseExtractor,
    /// resiliparse's main-content extraction of the whole page.
    main_content: ResiliparseExtractor,
    /// The last resort: all visible text.
    page: ResiliparseExtractor,
}

impl ArticleExtractor {
    pub fn new(limits: ExtractLimits) -> Self {
        ArticleExtractor {
            limits,
            walker: ResiliparseExtractor::new(limits, true).for_article(),
            catalogue_walker: ResiliparseExtractor::new(limits, true).for_article().with_cards(),
            main_content: ResiliparseExtractor::new(limits, true),
            page: ResiliparseExtractor::new(limits, false),
        }
    }
}

impl Extractor for ArticleExtractor {
    fn name(&self) -> &'static str {
        "article"
    }

    fn extract(&self, html: &str, _url: Option<&str>) -> Result<Extracted, ExtractError> {
        let dom = self.limits.parse(html)?;
        let mut out = Extracted::default();
        read_dom_metadata(&dom, &mut out);
        let Some(body) = dom.body() else {
            return Ok(out);
        };
        // As Readability: a pass that finds less than MIN_ARTICLE_CHARS runs again with less pruning; the
        // longest text wins. Passes 2 and 3 differ only in scoring, so they share their statistics.
        let mut stats: [Option<Stats>; 2] = [None, None];
        let mut longest = 0;
        let mut rejected_thread = false;
        let main = candidates::unique_main(&dom, body);
        let article_page = declares_article(&dom);
        let walker = if article_page { &self.walker } else { &self.catalogue_walker };
        for pass in Pass::ALL {
            let stats = stats[usize::from(pass.strip_unlikely)]
                .get_or_insert_with(|| candidates::stats(&dom, body, pass.strip_unlikely));
            let (text, thread) = self.article_text(&dom, body, main, walker, stats, pass);
            let chars = text.chars().count();
            // A thread found by a later pass (the strict one drops comment blocks) replaces an article only
            // when the strict pass found next to nothing: a short article keeps its comments out.
            if thread && longest >= MAX_CHARS_UNDER_A_THREAD {
                rejected_thread = true;
                continue;
            }
            if chars > longest {
                (out.text, longest) = (text, chars);
            }
            if longest >= MIN_ARTICLE_CHARS {
                break;
            }
        }
        // Not after a rejected thread: there the rest of the page is comments.
        if !rejected_thread && !out.text.trim().is_empty() {
            self.replace_a_sliver(&dom, &mut out.text, longest);
        }
        if !rejected_thread && longest < MIN_ARTICLE_CHARS {
            if let Some(strict) = &stats[usize::from(Pass::ALL[0].strip_unlikely)] {
                if !article_page {
                    self.add_a_listing(&dom, body, strict, &mut out.text);
                }
            }
        }
        if !rejected_thread && longest < MIN_ARTICLE_CHARS {
            self.add_noscript_content(&dom, body, &mut out.text);
        }
        if out.text.trim().is_empty() {
            out.text = self.walker.plain_text(&dom);
            out.fell_back = true;
        }
        if out.text.trim().is_empty() {
            out.text = self.page.plain_text(&dom);
        }
        // Soft hyphens are line-break hints, invisible unless a word breaks there: left in, they split words
        // for every reader of the text (German and Dutch sites hyphenate whole articles with them).
        if out.text.contains(SOFT_HYPHEN) {
            out.text.retain(|c| c != SOFT_HYPHEN);
        }
        Ok(out)
    }
}

const SOFT_HYPHEN: char = '\u{ad}';

/// How much more text than a short article a listing or `<noscript>` content must hold to be added to it
/// (see `add_a_listing`, `add_noscript_content`).
const ADDED_OVER_ARTICLE: f64 = 1.5;

/// The least text (characters) `<noscript>` content must have to be a page's content (see
/// `add_noscript_content`): "please enable JavaScript" notices are shorter.
const MIN_NOSCRIPT_CHARS: usize = 200;

/// The least share (in words) of the page's main-content text an article may have (see `extract`).
const MIN_ARTICLE_SHARE: f64 = 0.1;

/// Bytes of the page's text outside scripts, styles and links (one scan of the node array, no tree walk):
/// a cheap estimate of how much text the main-content walk could find, so that it runs only when it can
/// matter.
fn text_bytes(dom: &Dom) -> usize {
    (0..dom.nodes.len() as NodeId)
        .filter(|&n| {
            dom.is_text(n) && dom.parent(n).is_none_or(|p| !matches!(dom.tag(p), Tag::Script | Tag::Style | Tag::A))
        })
        .map(|n| dom.text(n).len())
        .sum()
}

fn word_count(text: &str) -> usize {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count()
}

/// Readability's `charThreshold` (characters).
const MIN_ARTICLE_CHARS: usize = 500;

/// An earlier pass's text this long (characters) is an article, not to be replaced by a comment thread. On
/// the measured sets, the strict pass finds under 100 characters on forums whose posts are `comment`s, and
/// 470 or more on short articles followed by long comment threads.
const MAX_CHARS_UNDER_A_THREAD: usize = 400;

impl ArticleExtractor {
    /// An article that is a sliver of the page's main content is a fragment the scoring picked from a page
    /// that is not one article (a listing, a collection, a one-page site, a thread in unlike containers):
    /// the main-content walk of the whole page replaces it. The walk runs only when the page's text outside
    /// links could make the article a sliver (on real pages about one in ten; the text changes on 1 in 300).
    fn replace_a_sliver(&self, dom: &Dom, text: &mut String, chars: usize) {
        if chars as f64 >= MIN_ARTICLE_SHARE * text_bytes(dom) as f64 {
            return;
        }
        let main = self.main_content.plain_text(dom);
        if (word_count(text) as f64) < MIN_ARTICLE_SHARE * word_count(&main) as f64 {
            *text = main;
        }
    }

    /// Where Readability found less than its minimum on a page that does not declare itself an article, a
    /// listing (cards, a thread list, a product grid: [`candidates::listing`]) with more than 1.5 times that
    /// text is the page's content too: its text, links included, follows the article's. Its items score
    /// nothing in Readability (they are mostly links) and resiliparse drops them as link clusters.
    fn add_a_listing(&self, dom: &Dom, body: NodeId, strict: &Stats, text: &mut String) {
        let Some((listing, listing_text)) = candidates::listing(dom, body, strict) else { return };
        if (listing_text as f64) <= ADDED_OVER_ARTICLE * text.chars().count() as f64 {
            return;
        }
        // Lists of links inside the items (a card's table of contents, its tags) are navigation; image alt
        // texts are left out as in the article.
        let skip = |n: NodeId| {
            let tag = dom.tag(n);
            tag == Tag::Img
                || matches!(tag, Tag::Ul | Tag::Ol)
                    && n != listing
                    && dom.parent(n) != Some(listing)
                    && strict.link_density(n) > ARTICLE_LIST_LINK_RATIO
        };
        let items = self.page.text_of_subtrees(dom, &[listing], &skip);
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&items);
    }

    /// A page that renders its content with JavaScript may give script-less readers (crawlers among them)
    /// the content in `<body>`'s `<noscript>` elements, which every walk skips (as resiliparse and browsers
    /// with scripting on do). Where Readability found less than its minimum and the noscript elements hold
    /// more than 1.5 times that text, and at least [`MIN_NOSCRIPT_CHARS`] (more than an "enable JavaScript"
    /// notice), their content follows the article's.
    fn add_noscript_content(&self, dom: &Dom, body: NodeId, text: &mut String) {
        let roots: Vec<NodeId> =
            dom.descendants(body).filter(|&n| dom.is(n, Tag::Noscript)).flat_map(|n| dom.children(n)).collect();
        if roots.is_empty() {
            return;
        }
        let content = self.walker.text_of_subtrees(dom, &roots, &|_| false);
        let chars = content.trim().chars().count();
        if chars < MIN_NOSCRIPT_CHARS || (chars as f64) <= ADDED_OVER_ARTICLE * text.chars().count() as f64 {
            return;
        }
        if !text.trim().is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(content.trim());
    }

    /// The article's text in one pass, and whether it is a thread (see [`candidates::is_thread`]).
    /// `main` is the page's one main landmark, if any ([`candidates::unique_main`]); `walker` turns the
    /// article's subtrees into text.
    fn article_text(
        &self,
        dom: &Dom,
        body: NodeId,
        main: Option<NodeId>,
        walker: &ResiliparseExtractor,
        stats: &Stats,
        pass: Pass,
    ) -> (String, bool) {
        let mut roots = candidates::article_roots(dom, body, stats, pass);
        if let Some(main) = main {
            roots = candidates::weigh_against_main(dom, main, roots, stats, pass);
        }
        if let Some(lead) = candidates::lead_before(dom, &roots, stats) {
            roots.insert(0, lead);
        }
        let thread = candidates::is_thread(dom, &roots, stats);
        let skip = |id: NodeId| {
            let i = id as usize;
            if stats.excluded[i]
                || (stats.never[i] && !thread)
                || candidates::is_article_furniture(dom, id, stats)
                || candidates::is_ad_label(dom, id, stats)
            {
                return true;
            }
            // The rest judge blocks inside the article, never one of its own subtrees.
            !roots.contains(&id)
                && (dom.tag(id) == Tag::Footer
                    || candidates::is_teaser(dom, id)
                    || candidates::is_inner_boilerplate(dom, id, stats)
                    || candidates::is_link_box_heading(dom, id, stats, &roots)
                    || candidates::is_link_line(dom, id, stats)
                    || candidates::is_form(dom, id))
        };
        if roots.is_empty() {
            return (String::new(), false);
        }
        (walker.text_of_subtrees(dom, &roots, &skip), thread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"<!doctype html><html lang="en"><head><title>Rivers of Europe</title>
        <meta name="description" content="About rivers."><link rel="canonical" href="https://example.org/rivers"></head>
        <body><nav><a href="/">Home</a> | <a href="/about">About</a> | <a href="/contact">Contact</a></nav>
        <div class="share-bar"><a href="#">Share on Facebook, Twitter, and email to a friend today</a></div>
        <article><h1>Rivers of Europe</h1><p class="byline">By A. Writer, 2 May 2024</p>
        <p>The Danube is Europe's second-longest river, flowing through ten countries from the Black Forest to the Black Sea. It has been a vital trade route for centuries and connects many capital cities along its course.</p>
        <figure><img src="d.jpg" alt="The Danube at Budapest"><figcaption>The Danube at Budapest, 2019.</figcaption></figure>
        <p>The Rhine rises in the Swiss Alps and flows north to the North Sea, passing through Germany and the Netherlands. Its valley is famous for vineyards, castles and the legendary Lorelei rock.</p>
        <ul><li>Danube: 2,850 km</li><li>Rhine: 1,230 km</li></ul>
        <p>The Volga is the longest river in Europe. It flows entirely within Russia and drains into the Caspian Sea, and nearly half of the Russian population lives in its basin.</p>
        </article><div id="comments"><p>Great article, thanks! I always wanted to know more about the rivers, and this helped a lot.</p></div>
        <footer>Copyright 2024 Example Corp. All rights reserved.</footer></body></html>"##;

    #[test]
    fn extracts_the_article_body_and_metadata() {
        let out =
            ArticleExtractor::new(ExtractLimits::default()).extract(PAGE, Some("https://example.org/rivers")).unwrap();
        assert!(out.text.starts_with("The Danube is Europe's second-longest river"), "{}", out.text);
        assert!(out.text.contains("course.\n\nThe Rhine rises"), "paragraphs stay apart: {}", out.text);
        assert!(out.text.contains("  • Danube: 2,850 km\n  • Rhine: 1,230 km"), "lists keep their items: {}", out.text);
        for boilerplate in ["Home", "Share on", "By A. Writer", "Budapest", "Great article", "All rights reserved"] {
            assert!(!out.text.contains(boilerplate), "{boilerplate:?} leaked: {}", out.text);
        }
        assert!(!out.fell_back);
        assert_eq!(out.title.as_deref(), Some("Rivers of Europe"));
        assert_eq!(out.language.as_deref(), Some("en"));
        assert_eq!(out.description.as_deref(), Some("About rivers."));
        assert_eq!(out.canonical_url.as_deref(), Some("https://example.org/rivers"));
    }

    #[test]
    fn pages_without_an_article_keep_their_text() {
        // Nothing scores as an article and the main-content rules drop the menu: the page text is kept.
        let html = "<html><body><script>var x = 1;</script><ul><li>Login</li><li>Cart</li></ul></body></html>";
        let out = ArticleExtractor::new(ExtractLimits::default()).extract(html, None).unwrap();
        assert_eq!(out.text, "  • Login\n  • Cart");
        assert!(out.fell_back);
    }

    fn paragraphs(topic: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("<p>Paragraph {i} about {topic}, which goes on for a while, with commas, details and more words so that it scores as real prose in a real page.</p>"))
            .collect()
    }

    fn article_text(html: &str) -> String {
        ArticleExtractor::new(ExtractLimits::default()).extract(html, None).unwrap().text
    }

    #[test]
    fn a_main_block_that_has_comments_is_still_the_article() {
        // WordPress-style state classes name a property of the block, not a comment thread.
        let html = format!(
            "<html><body><nav><a href='/'>Home</a></nav><main class='main has-comments'><article>{}</article></main>\
             <div id='comments' class='comments-area'>{}</div></body></html>",
            paragraphs("rivers", 6),
            paragraphs("a reader's opinion", 2)
        );
        let text = article_text(&html);
        assert!(text.contains("Paragraph 5 about rivers"), "{text}");
        assert!(!text.contains("opinion"), "the comment thread stays out: {text}");
    }

    #[test]
    fn a_forum_whose_posts_are_comments_keeps_the_thread() {
        // Invision-style: the whole thread sits in `#comments`, each post in a `comment` wrapper.
        let posts: String = (0..4)
            .map(|i| {
                format!(
                    "<article class='cPost ipsComment'><div class='ipsComment_content'>{}</div></article>",
                    paragraphs(&format!("post {i}"), 1)
                )
            })
            .collect();
        let html = format!(
            "<html><body><div class='ipsLayout'><p>Important information: terms of use.</p><div id='comments' class='cTopic'>{posts}</div></div></body></html>"
        );
        let text = article_text(&html);
        for i in 0..4 {
            assert!(text.contains(&format!("about post {i}")), "post {i} kept: {text}");
        }
    }

    #[test]
    fn content_spread_over_similar_blocks_is_kept_whole() {
        // A page builder's sections: several blocks scoring alike share the article's ancestor.
        let sections: String = (0..4)
            .map(|i| {
                format!(
                    "<div class='row'><div class='col'><div class='block'><div class='content'>{}</div></div></div>\
                     <div class='col'><img src='x.jpg'></div></div>",
                    paragraphs(&format!("section {i}"), 3)
                )
            })
            .collect();
        let html = format!(
            "<html><body><header><a href='/'>Logo</a></header><div class='page'>{sections}</div></body></html>"
        );
        let text = article_text(&html);
        for i in 0..4 {
            assert!(text.contains(&format!("about section {i}")), "section {i} kept: {text}");
        }
    }

    #[test]
    fn a_listing_is_not_cut_down_to_its_intro() {
        // A collection page: one intro paragraph scores as the article; the cards are whole links and score
        // nothing. The intro is a sliver of the page, so the page's main content is kept.
        let cards: String = (0..30)
            .map(|i| {
                format!(
                    "<a class='item' href='/e{i}'><p>Exhibition {i}</p><p>Gallery {i}, open daily until March, \
                     tickets at the door</p></a>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><nav><a href='/'>Home</a></nav><div class='intro'><p>Our current exhibitions, from \
             painting and sculpture to photography, drawing, prints, and the works of local artists.</p></div>\
             <div class='grid'>{cards}</div></body></html>"
        );
        let text = article_text(&html);
        assert!(text.contains("Our current exhibitions"), "{text}");
        assert!(text.contains("Gallery 17, open daily"), "the cards are kept: {text}");
    }

    #[test]
    fn an_article_outside_the_main_landmark_gives_way_to_it() {
        // The densest block (a newsletter blurb full of commas) sits outside `<main>`; `<main>` holds more
        // text, spread thinly over many event entries: the article is looked for inside `<main>`.
        let blurb = "<p>Stay up to date, every week, with events, exhibitions, talks, tours, classes, openings, \
                     members' nights, family days, and more, straight to your inbox, free, always.</p>";
        let events: String = (0..12)
            .map(|i| format!("<section><div><h3>Event {i}</h3><p>Event {i} is a talk in the main hall about the collection and its history.</p></div></section>"))
            .collect();
        let html = format!(
            "<html><body><div class='wrap'><div class='newsletter'>{blurb}{blurb}</div><img src='logo.png'></div>\
             <main>{events}</main></body></html>"
        );
        let text = article_text(&html);
        assert!(text.contains("Event 7 is a talk"), "{text}");
    }

    #[test]
    fn a_service_page_is_its_main_landmark() {
        // The hero scores best, but the features and the FAQ, scored apart, hold most of `<main>`'s text.
        let hero = "<p>Design, prototype, and test your product, in minutes, with your team, on any device, \
                    from one shared workspace.</p>";
        let cards: String = (0..6)
            .map(|i| {
                format!(
                    "<div class='card'><h3>Feature {i}</h3><p>Feature {i} saves your team hours every week.</p></div>"
                )
            })
            .collect();
        let faq: String = (0..8)
            .map(|i| {
                format!("<dt>Question {i}?</dt><dd>Answer {i} explains the plan and its price in plain words.</dd>")
            })
            .collect();
        let html = format!(
            "<html><body><header><a href='/'>Logo</a></header><main><div class='hero'><div class='inner'>{hero}{hero}\
             </div><img src='x.png'></div><div class='features'><div class='grid'>{cards}</div></div>\
             <div class='faq'><dl>{faq}</dl></div></main><footer>© 2026</footer></body></html>"
        );
        let text = article_text(&html);
        assert!(text.contains("Design, prototype"), "{text}");
        assert!(text.contains("Feature 4 saves"), "the features are kept: {text}");
        assert!(text.contains("Answer 6 explains"), "the FAQ is kept: {text}");
        assert!(!text.contains("© 2026"), "{text}");
    }

    #[test]
    fn a_thread_list_is_kept_unless_the_page_is_an_article() {
        // A forum's thread list: each item is a linked title and a byline (its class carries its id), the
        // page's one paragraph is the forum's description. Readability finds only that; the list is the content.
        let items: String = (0..8)
            .map(|i| {
                format!(
                    "<div class='item thread-{i}'><div class='title'><a href='/t/{i}'>Looking for plans for a table, thread {i}</a>\
                     </div><div class='meta'><a href='/u/{i}'>member{i}</a> · 3 replies</div></div>"
                )
            })
            .collect();
        let page = |head: &str| {
            format!(
                "<html><head>{head}</head><body><div class='wrap'><div class='box'><div class='desc'><p>Project and \
                 design discussion.</p></div><div class='list'>{items}</div></div></div></body></html>"
            )
        };
        let text = article_text(&page(""));
        assert!(text.contains("Looking for plans for a table, thread 5"), "{text}");
        // A page that declares itself an article keeps Readability's choice: its lists are related links.
        let text = article_text(&page("<meta property='og:type' content='article'>"));
        assert!(!text.contains("thread 5"), "{text}");
    }

    #[test]
    fn react_streamed_segments_are_content() {
        // Next.js streams the article into a hidden div that its script moves into place.
        let html = format!(
            "<html><body><div id='__next'><p>Loading</p></div><div hidden id='S:2'><main>{}</main></div>\
             <div hidden id='other'><p>{}</p></div></body></html>",
            paragraphs("sleep", 5),
            "A really hidden block that nobody sees, long enough to count as a paragraph of text."
        );
        let text = article_text(&html);
        assert!(text.contains("Paragraph 4 about sleep"), "{text}");
        assert!(!text.contains("really hidden"), "{text}");
    }

    #[test]
    fn a_listing_keeps_its_items_summaries_not_their_link_lists() {
        // A documentation index: each card has a title, a summary and a list of links to its pages.
        let card = |i: usize| {
            let links: String =
                (0..6).map(|j| format!("<li><a href='/s{i}/{j}'>Chapter {j} of part {i}</a></li>")).collect();
            format!(
                "<div class='item'><h4>Part {i}</h4><p>What part {i} of the guide explains.</p><ul>{links}</ul></div>"
            )
        };
        let cards: String = (0..8).map(card).collect();
        let html =
            format!("<html><body><main><h1>Documentation</h1><div class='columns'>{cards}</div></main></body></html>");
        let text = article_text(&html);
        assert!(text.contains("What part 5 of the guide explains."), "{text}");
        assert!(!text.contains("Chapter 3 of part 5"), "{text}");
    }

    #[test]
    fn the_page_footer_is_never_the_article() {
        // An exhibitions page of linked titles and artists' names, and a page footer (in sections) with more
        // plain text.
        let items: String = (0..6)
            .map(|i| {
                format!(
                    "<div class='fe-block'><h4><a href='/x{i}'>Exhibition number {i}</a></h4><p>ARTIST {i}</p></div>"
                )
            })
            .collect();
        let html = format!(
            "<html><head><meta property='og:type' content='website'></head><body><main><h1>Current exhibitions</h1>\
             <div class='grid'>{items}</div></main><footer class='sections'><section class='page-section'>\
             <div class='content-wrapper'><div class='content'><p>{}</p><p>{}</p></div></div></section>\
             <section class='page-section'><div class='content-wrapper'><p>Copyright 2024 The Art Museum</p></div>\
             </section></footer></body></html>",
            "The Art Museum, 20 East Fifth Street, open Tuesday to Sunday, ten to five, closed on holidays, with \
             free admission for members, students, and children under twelve, and guided tours on Saturdays.",
            "Stay up to date on events, exhibitions, and more with our weekly newsletter, sent every Thursday, \
             and follow the museum for news of openings, talks, workshops and family days through the year."
        );
        let text = article_text(&html);
        assert!(text.contains("Exhibition number 4") && text.contains("ARTIST 4"), "{text}");
        assert!(!text.contains("weekly newsletter"), "{text}");
    }

    #[test]
    fn a_listing_leaves_out_image_alt_texts() {
        let items: String = (0..6)
            .map(|i| {
                format!(
                    "<li class='product'><img alt='Photo of a blue mug from the side'><a href='/p{i}'>Mug model {i}, \
                     stoneware, 350 ml</a> <span>$12</span></li>"
                )
            })
            .collect();
        let html = format!("<html><body><main><h1>Mugs</h1><ul class='products'>{items}</ul></main></body></html>");
        let text = article_text(&html);
        assert!(text.contains("Mug model 5, stoneware") && !text.contains("Photo of a blue mug"), "{text}");
    }

    /// A page whose sections are grids of cards (a link around a title and a summary) after an introduction,
    /// with `og:type` `og_type`.
    fn catalogue_page(og_type: &str) -> String {
        let section = |name: &str| {
            let cards: String = (0..5)
                .map(|i| {
                    format!(
                        "<a class='card' href='/{name}/{i}'><div class='card-title'>{name} widget {i}</div>\
                         <div class='card-content'>A block of the {name} kind, drawn with a shadow, that responds to \
                         taps with a ripple.</div></a>"
                    )
                })
                .collect();
            format!("<h2>{name}</h2><div class='card-grid'>{cards}</div>")
        };
        format!(
            "<html><head><meta property='og:type' content='{og_type}'></head><body><main><article>\
             <h1>Widget catalogue</h1><p>{}</p>{}{}{}{}</article></main></body></html>",
            "The widgets below implement the design system's components, each with its own page of examples.",
            // Long enough for Readability's minimum: the listing rule stays out of it.
            paragraphs("widgets", 4),
            section("Actions"),
            section("Containment"),
            section("Navigation")
        )
    }

    #[test]
    fn cards_are_a_catalogue_s_content() {
        let text = article_text(&catalogue_page("website"));
        assert!(text.contains("Containment widget 3") && text.contains("responds to taps"), "{text}");
    }

    #[test]
    fn cards_on_an_article_are_teasers() {
        let text = article_text(&catalogue_page("article"));
        assert!(
            text.contains("each with its own page of examples") && !text.contains("Containment widget 3"),
            "{text}"
        );
    }

    #[test]
    fn noscript_content_is_the_page_when_nothing_else_is() {
        // A page rendered by JavaScript that gives script-less readers its article in <noscript>.
        let html = format!(
            "<html><body><div id='app'><p>Loading…</p></div><noscript><article><h1>Saving rivers</h1>{}</article>\
             </noscript></body></html>",
            paragraphs("rivers", 4)
        );
        let text = article_text(&html);
        assert!(text.contains("Saving rivers") && text.contains("Paragraph 3 about rivers"), "{text}");
    }

    #[test]
    fn a_noscript_notice_is_not_content() {
        // An article with a tracking pixel and an "enable JavaScript" notice in <noscript>, and a short page whose
        // <noscript> holds over MIN_NOSCRIPT_CHARS but less than 1.5 times its text.
        let notice = "<noscript><p>Please enable JavaScript to view the comments powered by Disqus.</p></noscript>";
        let html = format!("<html><body><article>{}</article>{notice}</body></html>", paragraphs("lakes", 5));
        let text = article_text(&html);
        assert!(text.contains("Paragraph 4 about lakes") && !text.contains("Disqus"), "{text}");
        let short = format!(
            "<html><body><p>{}</p><noscript><p>{}</p></noscript></body></html>",
            "A short note on a page about ponds, its only paragraph, with enough words to be read as text by the walk, \
             and a few more words about the ponds here, their reeds, their ducks and their frogs.",
            "Without JavaScript this page shows a second note about ponds, a little longer than the first one is, \
             with more words about ponds and their frogs, but not half as long again as the page's own text, so \
             it stays out."
        );
        let text = article_text(&short);
        assert!(text.contains("only paragraph") && !text.contains("Without JavaScript"), "{text}");
    }

    #[test]
    fn a_promoted_post_is_not_an_ad() {
        // A blog post whose classes mark it as promoted (Squarespace), beside a real ad slot.
        let html = format!(
            "<html><head><meta property='og:type' content='article'></head><body><div class='content'>\
             <article class='hentry promoted promoted-block-image'>{}</article>\
             <div class='ad'><p>Buy the best garden tools at the lowest prices this week, only at our partner shop.</p>\
             </div></div></body></html>",
            paragraphs("gardens", 20)
        );
        let text = article_text(&html);
        assert!(text.contains("Paragraph 19 about gardens") && !text.contains("garden tools"), "{text}");
    }

    #[test]
    fn photo_credits_and_the_article_s_footer_are_not_its_text() {
        let html = format!(
            "<html><body><article><div class='photo-credit'>Photo: Jane Doe for the Daily News</div>{}\
             <footer><p>Filed under rivers, lakes. Share this story with your friends and family today.</p></footer>\
             </article></body></html>",
            paragraphs("rivers", 5)
        );
        let text = article_text(&html);
        assert!(text.contains("Paragraph 4 about rivers"), "{text}");
        assert!(!text.contains("Jane Doe") && !text.contains("Filed under"), "{text}");
    }

    #[test]
    fn teasers_of_other_stories_are_not_the_article() {
        let html = format!(
            "<html><body><article><p class='article-teaser'>The lead: rivers are rising across the region.</p>{}\
             <div class='teaser-box'><a href='/other'>Read also: how lakes freeze in winter, and why</a></div>\
             </article></body></html>",
            paragraphs("rivers", 5)
        );
        let text = article_text(&html);
        assert!(text.contains("The lead: rivers are rising") && text.contains("Paragraph 4 about rivers"), "{text}");
        assert!(!text.contains("how lakes freeze"), "{text}");
    }

    #[test]
    fn soft_hyphens_are_left_out() {
        let html = format!(
            "<html><body><article>{}<p>Schon im Mit&shy;tel&shy;al&shy;ter war er be\u{ad}kannt.</p></article>\
             </body></html>",
            paragraphs("wine", 4)
        );
        let text = article_text(&html);
        assert!(text.contains("Schon im Mittelalter war er bekannt."), "{text}");
    }

    #[test]
    fn boxes_inside_the_article_are_not_its_text() {
        let html = format!(
            "<html><body><article>{}\
             <div class='wp-caption'><img src='a.jpg'>\
             <p class='wp-caption-text'>The river at dawn, seen from the old bridge</p></div>\
             <div class='newsletter-box'><p>Sign up for our weekly newsletter and never miss a story again.</p></div>\
             <div class='post-ratings'>How useful was this article? 12 votes so far, average 4.2 of 5.</div>\
             <p class='ad-disclosure'>We may receive a commission when you buy through the links on this page.</p>\
             <div class='contact-box'><p>Press office: Jane Doe, phone 555 0100, press@example.org</p></div>\
             <div class='loader'>Loading more stories for you, one moment please</div>\
             <div class='w-html-embed'>{}</div></article></body></html>",
            paragraphs("rivers", 5),
            paragraphs("embedded rivers", 8)
        );
        let text = article_text(&html);
        assert!(text.contains("Paragraph 4 about rivers"), "{text}");
        for boilerplate in
            ["seen from the old bridge", "weekly newsletter", "12 votes", "commission", "Press office", "Loading"]
        {
            assert!(!text.contains(boilerplate), "{boilerplate}: {text}");
        }
        // Over 1,000 characters, a block named like an embed is content.
        assert!(text.contains("Paragraph 7 about embedded rivers"), "{text}");
    }

    #[test]
    fn a_box_of_links_leaves_no_heading_behind() {
        let html = format!(
            "<html><body><article><h2>How rivers rise</h2>{}<div class='heading'><h2>More on this topic</h2></div>\
             <ul><li><a href='/a'>Lakes in winter and why they freeze</a></li>\
             <li><a href='/b'>The longest rivers</a></li></ul>\
             <h3>What comes next</h3><p>Short.</p><p class='box-title'>Further reading</p>\
             <div><a href='/c'>A history of floods, from the first records to today</a></div></article></body></html>",
            paragraphs("rivers", 5)
        );
        let text = article_text(&html);
        assert!(text.contains("How rivers rise") && text.contains("Paragraph 4 about rivers"), "{text}");
        assert!(!text.contains("More on this topic") && !text.contains("Further reading"), "{text}");
        // A heading followed by a little prose and no links titles a (short) section.
        assert!(text.contains("What comes next"), "{text}");
    }

    #[test]
    fn a_link_on_a_line_of_its_own_is_not_prose() {
        let html = format!(
            "<html><body><article>{}<p><a href='/back'>Back to the overview</a></p>\
             <div class='recipe-print'><span>Print this recipe</span></div>\
             <p>A sentence with <a href='/x'>a link</a> in it stays.</p></article></body></html>",
            paragraphs("rivers", 5)
        );
        let text = article_text(&html);
        assert!(text.contains("A sentence with a link in it stays."), "{text}");
        assert!(!text.contains("Back to the overview") && !text.contains("Print this recipe"), "{text}");
    }

    #[test]
    fn an_ad_slot_s_label_is_not_text() {
        let html = format!(
            "<html><body><article>{}<center>- Anzeige -</center><div><small>ADVERTISEMENT</small></div>{}\
             <p>Werbung ist das Thema dieses Absatzes, also bleibt er.</p></article></body></html>",
            paragraphs("rivers", 3),
            paragraphs("lakes", 3)
        );
        let text = article_text(&html);
        assert!(text.contains("Werbung ist das Thema") && text.contains("Paragraph 2 about lakes"), "{text}");
        assert!(!text.contains("Anzeige") && !text.contains("ADVERTISEMENT"), "{text}");
    }

    #[test]
    fn forms_and_unprinted_blocks_are_not_the_article() {
        let html = format!(
            "<html><body><article>{}<form><fieldset><h2>How do you rate this article?</h2>\
             <select><option>Very useful</option><option>Not useful</option></select><button>Send</button></fieldset>\
             </form><div class='no-print'><p>Questions? Write to the press office, we answer every message.</p></div>\
             <div class='postmetadata'>This entry was posted on Monday and filed under Rivers.</div></article>\
             </body></html>",
            paragraphs("rivers", 5)
        );
        let text = article_text(&html);
        assert!(text.contains("Paragraph 4 about rivers"), "{text}");
        for boilerplate in ["rate this article", "Very useful", "Send", "press office", "This entry was posted"] {
            assert!(!text.contains(boilerplate), "{boilerplate}: {text}");
        }
    }

    #[test]
    fn a_page_inside_a_form_keeps_its_article() {
        let html = format!(
            "<html><head><meta property='og:type' content='article'></head><body><nav><a href='/'>Home</a></nav>\
             <form id='aspnetForm'>{}</form></body></html>",
            paragraphs("rivers", 5)
        );
        let out = ArticleExtractor::new(ExtractLimits::default()).extract(&html, None).unwrap();
        assert!(out.text.contains("Paragraph 4 about rivers") && !out.fell_back, "{out:?}");
    }

    #[test]
    fn the_lead_in_the_header_opens_the_article() {
        let html = format!(
            "<html><body><div class='story'><header><h1>Rivers rise</h1>\
             <p class='article__lead'>Rain for a week has filled the region's rivers to the brim, and more is \
             coming.</p>\
             </header><div class='story-body'>{}</div></div><div class='intro'>A site-wide introduction far away from \
             the story, in another part of the page entirely.</div></body></html>",
            paragraphs("rivers", 6)
        );
        let text = article_text(&html);
        assert!(text.starts_with("Rain for a week has filled"), "{text}");
        assert!(text.contains("Paragraph 5 about rivers") && !text.contains("site-wide introduction"), "{text}");
    }

    #[test]
    fn a_table_row_is_not_the_article() {
        // A letter whose signatories are laid out as the cells of one table row: the row outscores the
        // letter's paragraphs, but the article is the letter with its table.
        let cells: String = (0..12)
            .map(|i| format!("<td>Signatory {i}, professor of history, university of somewhere, in some town</td>"))
            .collect();
        let html = format!(
            "<html><body><div class='letter'>{}<div><table><tr><th>Signed</th></tr><tr>{cells}</tr></table></div>\
             </div></body></html>",
            paragraphs("free speech", 3)
        );
        let text = article_text(&html);
        assert!(text.contains("Paragraph 0 about free speech") && text.contains("Signatory 11"), "{text}");
    }

    #[test]
    fn equal_candidates_go_to_the_first() {
        let html = "<html><body><div><p>The first block of text on this page, and the one that comes first.</p></div>\
             <div><p>The other block of text on this page, and the one that comes later.</p></div></body></html>";
        let text = article_text(html);
        assert!(text.contains("comes first") && !text.contains("comes later"), "{text}");
    }

    #[test]
    fn ruby_annotations_and_lone_cjk_characters() {
        let html = format!(
            "<html><body><article><p><ruby>子<rt>こ</rt></ruby>どもへの<ruby>虐待<rt>ぎゃくたい</rt></ruby>をなくすための\
             <ruby>法律<rt>ほうりつ</rt></ruby>ができて、<a href='#'><ruby><span>親</span><rt>おや</rt></ruby></a>が\
             <ruby>子<rt>こ</rt></ruby>どもを<ruby>教育<rt>きょういく</rt></ruby>するために</p>{}</article></body></html>",
            paragraphs("children", 4)
        );
        let text = article_text(&html);
        assert!(text.contains("子どもへの虐待をなくすための法律ができて、親が子どもを教育するために"), "{text}");
    }

    #[test]
    fn an_embedded_tweet_is_quoted_content() {
        let html = format!(
            "<html><body><div><div><article>{}<blockquote class='twitter-tweet'><p>Rivers are rising fast in the \
             north, stay safe everyone.</p>&mdash; A Reporter (@reporter)</blockquote>{}\
             <div class='twitter-share'><a href='#'>Tweet</a></div></article></div></div></body></html>",
            paragraphs("rivers", 3),
            paragraphs("lakes", 3)
        );
        let text = article_text(&html);
        assert!(text.contains("Rivers are rising fast in the north"), "{text}");
        assert!(!text.contains("Tweet\n") && !text.ends_with("Tweet"), "{text}");
    }

    #[test]
    fn a_cookie_notice_is_never_the_article() {
        // The article is short and sits in a wrapper named like a sidebar, so the strict pass finds nothing
        // and the later passes score the whole page: the cookie notice must not win.
        let html = "<html><body><div class='wrap cb-sidebar-right'><article><section class='entry-content'>\
             <p>The author talks about her new novel, its research, the points of view she tried and dropped, and \
             about hope in disillusion.</p></section></article></div><div class='wordpress-gdpr-popup'>\
             <div class='wordpress-gdpr-popup-text'><p>We use cookies to give you the best online experience. With \
             your consent you accept our cookie policy, every part of it, today.</p></div></div></body></html>";
        let text = article_text(html);
        assert!(text.contains("her new novel") && !text.contains("cookies"), "{text}");
    }

    #[test]
    fn element_limits_bound_the_work() {
        let html = format!("<html><body>{}</body></html>", "<div>x</div>".repeat(500));
        let limits = ExtractLimits { max_elements: 100, ..ExtractLimits::default() };
        let err = ArticleExtractor::new(limits).extract(&html, None).unwrap_err();
        assert!(matches!(err, ExtractError::TooManyElements(found, 100) if found > 100), "{err:?}");
    }
}

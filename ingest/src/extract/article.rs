//! Main-content extraction with `dom_smoothie` (Readability.js port).

use dom_query::Document;
use dom_smoothie::{Config, Readability, ReadabilityError, TextMode};

use super::metadata::read_metadata;
use super::page::page_text;
use super::{tidy_text, ExtractError, ExtractLimits, Extracted, Extractor};

pub struct ArticleExtractor {
    limits: ExtractLimits,
}

impl ArticleExtractor {
    pub fn new(limits: ExtractLimits) -> Self {
        ArticleExtractor { limits }
    }

    fn config(&self) -> Config {
        Config { text_mode: TextMode::Formatted, max_elements_to_parse: self.limits.max_elements, ..Config::default() }
    }
}

impl Extractor for ArticleExtractor {
    fn name(&self) -> &'static str {
        "article"
    }

    fn extract(&self, html: &str, url: Option<&str>) -> Result<Extracted, ExtractError> {
        self.limits.check(html)?;
        let doc = Document::from(html);
        let mut out = Extracted::default();
        read_metadata(&doc, &mut out);
        // dom_smoothie rejects relative document URLs; it only uses the URL to resolve links.
        let url = url.filter(|u| u.starts_with("http://") || u.starts_with("https://"));
        let article = Readability::with_document(doc, url, Some(self.config())).and_then(|mut r| r.parse());
        match article {
            Ok(article) if !article.text_content.trim().is_empty() => {
                out.text = tidy_text(&article.text_content);
            }
            Ok(_) | Err(ReadabilityError::GrabFailed) | Err(ReadabilityError::BadDocumentURL) => {
                // No article found: keep the page text; later filters judge it.
                out.text = page_text(&Document::from(html));
                out.fell_back = true;
            }
            Err(ReadabilityError::TooManyElements(found, limit)) => {
                return Err(ExtractError::TooManyElements(found, limit));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html lang="en"><head><title>Rivers of Europe</title>
        <meta name="description" content="About rivers."><link rel="canonical" href="https://example.org/rivers"></head>
        <body><nav><a href="/">Home</a> | <a href="/about">About</a> | <a href="/contact">Contact</a></nav>
        <article><h1>Rivers of Europe</h1>
        <p>The Danube is Europe's second-longest river, flowing through ten countries from the Black Forest to the Black Sea. It has been a vital trade route for centuries and connects many capital cities along its course.</p>
        <p>The Rhine rises in the Swiss Alps and flows north to the North Sea, passing through Germany and the Netherlands. Its valley is famous for vineyards, castles and the legendary Lorelei rock.</p>
        <p>The Volga is the longest river in Europe. It flows entirely within Russia and drains into the Caspian Sea, and nearly half of the Russian population lives in its basin.</p>
        </article><footer>Copyright 2024 Example Corp. All rights reserved.</footer></body></html>"#;

    #[test]
    fn extracts_the_article_and_metadata() {
        let out = ArticleExtractor::new(ExtractLimits::default()).extract(PAGE, Some("https://example.org/rivers")).unwrap();
        assert!(out.text.contains("The Danube is Europe's second-longest river"), "{}", out.text);
        assert!(out.text.contains("\n\nThe Rhine rises"), "paragraphs stay apart: {}", out.text);
        assert!(!out.text.contains("All rights reserved"), "{}", out.text);
        assert!(!out.fell_back);
        assert_eq!(out.title.as_deref(), Some("Rivers of Europe"));
        assert_eq!(out.language.as_deref(), Some("en"));
        assert_eq!(out.description.as_deref(), Some("About rivers."));
        assert_eq!(out.canonical_url.as_deref(), Some("https://example.org/rivers"));
    }

    #[test]
    fn pages_without_an_article_keep_their_text() {
        // Readability returns its best candidate even for pages with no article; scripts never leak.
        let html = "<html><body><script>var x = 1;</script><ul><li>Login</li><li>Cart</li></ul></body></html>";
        let out = ArticleExtractor::new(ExtractLimits::default()).extract(html, None).unwrap();
        assert_eq!(out.text, "Login\nCart");
    }

    #[test]
    fn element_limits_bound_the_work() {
        let html = format!("<html><body>{}</body></html>", "<div>x</div>".repeat(500));
        let limits = ExtractLimits { max_elements: 100, ..ExtractLimits::default() };
        let err = ArticleExtractor::new(limits).extract(&html, None).unwrap_err();
        assert!(matches!(err, ExtractError::TooManyElements(found, 100) if found > 100), "{err:?}");
    }
}

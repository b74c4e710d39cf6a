//! Page metadata read from the parsed DOM: title, language, description, canonical URL.

use dom_query::Document;

use super::Extracted;

/// Fills `title`, `language`, `description` and `canonical_url` of `out` from `doc`.
pub(crate) fn read_metadata(doc: &Document, out: &mut Extracted) {
    let non_empty = |s: String| {
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        (!s.is_empty()).then_some(s)
    };
    out.title = non_empty(doc.select("head title").text().to_string())
        .or_else(|| non_empty(doc.select("title").first().text().to_string()));
    out.language = doc.select("html").attr("lang").and_then(|l| non_empty(l.to_string()));
    out.description = doc
        .select(r#"meta[name="description" i]"#)
        .attr("content")
        .or_else(|| doc.select(r#"meta[property="og:description" i]"#).attr("content"))
        .and_then(|d| non_empty(d.to_string()));
    out.canonical_url = doc.select(r#"link[rel="canonical" i]"#).attr("href").and_then(|h| non_empty(h.to_string()));
}

//! Tree-construction cases from the HTML5 specification's examples and html5lib's tree tests, as compact
//! dumps: elements as `<name>…</name>`, text quoted.

use super::super::{Dom, NodeData, NodeId};

fn dump(dom: &Dom, id: NodeId, out: &mut String) {
    match dom.node(id).data {
        NodeData::Text(_) => out.push_str(&format!("{:?}", dom.text(id))),
        NodeData::Element(_) => {
            let name = dom.tag_name(id).to_string();
            out.push_str(&format!("<{name}>"));
            for child in dom.children(id) {
                dump(dom, child, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        NodeData::Document => {
            for child in dom.children(id) {
                dump(dom, child, out);
            }
        }
        NodeData::Comment | NodeData::Doctype => {}
    }
}

fn body(html: &str) -> String {
    let dom = Dom::parse(html);
    let mut out = String::new();
    for child in dom.children(dom.body().expect("a body")) {
        dump(&dom, child, &mut out);
    }
    out
}

#[test]
fn implied_structure_and_end_tags() {
    let dom = Dom::parse("<title>T &amp; U</title><p>One<p>Two");
    let mut out = String::new();
    dump(&dom, dom.root(), &mut out);
    assert_eq!(out, r#"<html><head><title>"T & U"</title></head><body><p>"One"</p><p>"Two"</p></body></html>"#);
    assert_eq!(
        body("<ul><li>a<li>b</ul><dl><dt>t<dd>d</dl>"),
        r#"<ul><li>"a"</li><li>"b"</li></ul><dl><dt>"t"</dt><dd>"d"</dd></dl>"#
    );
    assert_eq!(body("<h1>a<h2>b</h1>c"), r#"<h1>"a"</h1><h2>"b"</h2>"c""#);
    assert_eq!(body("<p>a<div>b</div></p>"), r#"<p>"a"</p><div>"b"</div><p></p>"#);
    assert_eq!(body("<pre>\nx\n</pre><textarea>\ny</textarea>"), r#"<pre>"x\n"</pre><textarea>"y"</textarea>"#);
    assert_eq!(body("a\r\nb\rc"), r#""a\nb\nc""#);
}

#[test]
fn formatting_elements_and_the_adoption_agency() {
    assert_eq!(body("<b>1<p>2</b>3</p>"), r#"<b>"1"</b><p><b>"2"</b>"3"</p>"#);
    assert_eq!(body("<a>x<div>y</a>z</div>"), r#"<a>"x"</a><div><a>"y"</a>"z"</div>"#);
    assert_eq!(body("<a>1<a>2</a>"), r#"<a>"1"</a><a>"2"</a>"#);
    assert_eq!(body("<p><b><i>x</p>y"), r#"<p><b><i>"x"</i></b></p><b><i>"y"</i></b>"#);
}

#[test]
fn tables() {
    assert_eq!(
        body("<table><tr><td>a<td>b</tr>x</table>"),
        r#""x"<table><tbody><tr><td>"a"</td><td>"b"</td></tr></tbody></table>"#
    );
    assert_eq!(
        body("<table><div>d</div><tr><th>h</table>"),
        r#"<div>"d"</div><table><tbody><tr><th>"h"</th></tr></tbody></table>"#
    );
    // Quirks mode (no doctype) keeps a table inside an open paragraph; standards mode closes it.
    assert_eq!(body("<p>a<table></table>"), r#"<p>"a"<table></table></p>"#);
    assert_eq!(body("<!DOCTYPE html><p>a<table></table>"), r#"<p>"a"</p><table></table>"#);
}

#[test]
fn select_raw_text_and_foreign_content() {
    assert_eq!(
        body("<select><div>x</div><option>a<option>b</select>c"),
        r#"<select>"x"<option>"a"</option><option>"b"</option></select>"c""#
    );
    assert_eq!(
        body("<p>x</p><script>if (a<b) x='</p>';</script>"),
        r#"<p>"x"</p><script>"if (a<b) x='</p>';"</script>"#
    );
    let head_only = Dom::parse("<title>only a head");
    assert_eq!(head_only.body().map(|b| head_only.children(b).count()), Some(0));
    assert_eq!(
        body("<svg><path/><text>t</text></svg><p>after"),
        r#"<svg><path></path><text>"t"</text></svg><p>"after"</p>"#
    );
    assert_eq!(body("<svg><g><p>out</svg>"), r#"<svg><g></g></svg><p>"out"</p>"#);
}

#[test]
fn repeated_tags_and_foster_parented_text_stay_linear() {
    // Each "x" is foster-parented before the table, next to the text before it.
    let dom = Dom::parse(&format!("<table>{}</table>", "x<tr>".repeat(100_000)));
    let body = dom.body().expect("a body");
    let text: String = dom.children(body).filter(|&c| dom.is_text(c)).map(|c| dom.text(c)).collect();
    assert_eq!(text, "x".repeat(100_000));
    // Repeated <body> tags merge new attributes up to a bound.
    let dom = Dom::parse(&(0..100_000).map(|i| format!("<body a{i}>")).collect::<String>());
    let body = dom.body().expect("a body");
    assert_eq!(dom.attrs(body).len(), 256);
    assert_eq!(dom.attr(body, "a0"), Some(""));
}

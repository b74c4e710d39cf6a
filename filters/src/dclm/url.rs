//! URL steps: ban lists over the page URL (`url_substring_filter`) and URL removal from the text
//! (`url_removal_modifier`).

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use sluice_core::Document;

use crate::error::FilterError;
use crate::lists;
use crate::step::{keep_if, prepare_once, set_text, Step, Verdict, NOT_PREPARED};

/// A regex alternation of literal words in which, at any position, the longest matching word wins — what
/// retrie's trie regex does (DCLM builds its ban-list and TLD patterns with retrie).
fn longest_first_alternation(words: &[String]) -> String {
    let mut sorted: Vec<&String> = words.iter().filter(|w| !w.is_empty()).collect();
    sorted.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    sorted.dedup();
    sorted.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join("|")
}

/// One string or several.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

/// The parameters of `url_substring_filter`, as written in a recipe.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlSubstringParams {
    #[serde(default)]
    pub banlist: Option<StringOrList>,
    /// A file with one banned string per line (DCLM's bundled lists are found by file name).
    #[serde(default)]
    pub banlist_from_fname: Option<String>,
    /// Characters deleted from the URL before matching (DCLM: `['-', '.']` and `['www']`).
    #[serde(default)]
    pub ignore_chars: Vec<String>,
    /// How many distinct banned strings must occur for the page to be dropped.
    #[serde(default = "one")]
    pub num_banned_substrs: usize,
    /// Compare the URL's host (after `ignore_chars`) with the list instead of searching the URL.
    #[serde(default)]
    pub exact_domain_match: bool,
    /// Banned strings may occur anywhere; when false they must be whole words (`\b…\b`).
    #[serde(default = "yes")]
    pub match_substrings: bool,
    #[serde(default)]
    pub case_sensitive: bool,
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

enum Matcher {
    Domains(HashSet<String>),
    Pattern(Regex),
}

const URL_SUBSTRING_FILTER: &str = "url_substring_filter";

/// `url_substring_filter`: drops pages whose URL contains banned strings (RefinedWeb's URL filters).
///
/// DCLM quirk, reproduced: `ignore_chars` are removed from the whole host with `str.replace`, so
/// `ignore_chars: ['www']` turns `www.x.com` into `.x.com`, and `awww.com` into `a.com`.
///
/// The list file is read and the pattern built in [`Step::prepare`].
#[derive(Clone)]
pub struct UrlSubstringFilter {
    params: UrlSubstringParams,
    matcher: OnceLock<Arc<Matcher>>,
}

impl UrlSubstringFilter {
    /// Checks the parameters; nothing is read until [`Step::prepare`].
    pub fn new(params: UrlSubstringParams) -> Result<Self, FilterError> {
        if params.banlist.is_none() && params.banlist_from_fname.is_none() {
            return Err(FilterError::Params {
                step: URL_SUBSTRING_FILTER,
                message: "needs `banlist` or `banlist_from_fname`".into(),
            });
        }
        Ok(UrlSubstringFilter { params, matcher: OnceLock::new() })
    }

    fn build_matcher(&self) -> Result<Arc<Matcher>, FilterError> {
        let params = &self.params;
        let mut banned: Vec<String> = match (&params.banlist_from_fname, &params.banlist) {
            (Some(path), _) => lists::read_lines(URL_SUBSTRING_FILTER, path)?,
            (None, Some(StringOrList::One(one))) => vec![one.clone()],
            (None, Some(StringOrList::Many(many))) => many.clone(),
            (None, None) => unreachable!("checked in UrlSubstringFilter::new"),
        };
        if !params.case_sensitive {
            banned = banned.iter().map(|b| b.to_lowercase()).collect();
        }
        let matcher = if params.exact_domain_match {
            Matcher::Domains(banned.into_iter().collect())
        } else {
            let alternation = format!("(?:{})", longest_first_alternation(&banned));
            let source = if params.match_substrings { alternation } else { format!(r"\b{alternation}\b") };
            let regex = RegexBuilder::new(&source)
                .case_insensitive(!params.case_sensitive)
                .build()
                .map_err(|source| FilterError::Pattern { step: URL_SUBSTRING_FILTER, source })?;
            Matcher::Pattern(regex)
        };
        Ok(Arc::new(matcher))
    }
}

/// The network location of a URL as Python's `urlparse(url).netloc` gives it.
fn netloc(url: &str) -> &str {
    let rest = match url.find(':') {
        Some(colon) => {
            let scheme = &url[..colon];
            let valid = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if valid {
                &url[colon + 1..]
            } else {
                url
            }
        }
        None => url,
    };
    match rest.strip_prefix("//") {
        Some(after) => &after[..after.find(['/', '?', '#']).unwrap_or(after.len())],
        None => "",
    }
}

impl Step for UrlSubstringFilter {
    fn name(&self) -> &'static str {
        URL_SUBSTRING_FILTER
    }

    fn referenced_files(&self) -> Vec<String> {
        self.params.banlist_from_fname.iter().filter_map(|path| lists::referenced_file(path)).collect()
    }

    fn prepare(&self) -> Result<(), FilterError> {
        prepare_once(&self.matcher, || self.build_matcher())
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let Some(matcher) = self.matcher.get() else { return Verdict::Error(NOT_PREPARED) };
        let Some(url) = doc.url.as_deref() else { return Verdict::Error("missing_url") };
        let target = if self.params.exact_domain_match { netloc(url) } else { url };
        let mut target = if self.params.case_sensitive { target.to_string() } else { target.to_lowercase() };
        for ignored in &self.params.ignore_chars {
            target = target.replace(ignored.as_str(), "");
        }
        match matcher.as_ref() {
            Matcher::Domains(domains) => keep_if(!domains.contains(&target)),
            Matcher::Pattern(pattern) => {
                let found: HashSet<&str> = pattern.find_iter(&target).map(|m| m.as_str()).collect();
                keep_if(found.len() < self.params.num_banned_substrs)
            }
        }
    }
}

impl Serialize for UrlSubstringFilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl<'de> Deserialize<'de> for UrlSubstringFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        UrlSubstringFilter::new(UrlSubstringParams::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Debug for UrlSubstringFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlSubstringFilter").field("params", &self.params).finish()
    }
}

/// The parameters of `url_removal_modifier`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlRemovalParams {
    #[serde(default = "default_tlds")]
    pub tlds_filepath: String,
}

fn default_tlds() -> String {
    "baselines/mappers/iana_tlds.txt".into()
}

/// `url_removal_modifier`: removes URLs and IPv4 addresses from the text.
///
/// DCLM quirk, reproduced: the URL pattern is applied only when the text *begins* with a TLD (any of 1,591,
/// case-insensitively — "The…" begins with `th`), and it is case-sensitive itself; the IPv4 pattern is
/// always applied. Python's `\s` (which includes `\x1c`–`\x1f`) is kept.
///
/// Speed: Python's `\b` is Unicode-aware, and a Unicode `\b` keeps the regex crate off its fast DFA (17×
/// slower here). Each pattern is therefore compiled twice, with a Unicode and with an ASCII `\b`, and the
/// ASCII one is used whenever the two cannot differ on the text ([`url_boundaries_matter`],
/// [`ipv4_boundaries_matter`]).
///
/// The TLD list is read and the patterns built in [`Step::prepare`].
#[derive(Clone)]
pub struct UrlRemovalModifier {
    params: UrlRemovalParams,
    patterns: OnceLock<Arc<UrlPatterns>>,
}

/// `url_removal_modifier`'s compiled patterns.
struct UrlPatterns {
    starts_with_tld: Regex,
    /// (URL, IPv4) with a Unicode `\b`, as Python's.
    unicode: (Regex, Regex),
    /// (URL, IPv4) with an ASCII `\b`.
    ascii: (Regex, Regex),
}

/// Whether a Unicode `\b` could decide differently from an ASCII `\b` after a TLD: `.` + ASCII letters
/// followed by a non-ASCII word character, or `.` + a non-ASCII word character (an internationalised TLD).
/// Everywhere else the two agree, so the fast ASCII pattern gives Python's result.
fn url_boundaries_matter(text: &str) -> bool {
    let mut previous = ' ';
    let mut letters_after_dot = false;
    for c in text.chars() {
        if (previous == '.' || letters_after_dot) && wide_word(c) {
            return true;
        }
        letters_after_dot =
            c.is_ascii_alphabetic() && (previous == '.' || (letters_after_dot && previous.is_ascii_alphabetic()));
        previous = c;
    }
    false
}

/// The same for the `\b` before an IPv4 address or scheme: a non-ASCII word character right before
/// `http`, `ftp`, or digits followed by a `.`.
fn ipv4_boundaries_matter(text: &str) -> bool {
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        if wide_word(previous) && (c.is_ascii_digit() || c == 'h' || c == 'f') {
            let rest = &text[i..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if rest.starts_with("http")
                || rest.starts_with("ftp")
                || (digits > 0 && rest.as_bytes().get(digits) == Some(&b'.'))
            {
                return true;
            }
        }
        previous = c;
    }
    false
}

fn wide_word(c: char) -> bool {
    !c.is_ascii() && crate::text::is_alnum(c)
}

const URL_REMOVAL_MODIFIER: &str = "url_removal_modifier";

impl UrlRemovalModifier {
    /// Nothing is read until [`Step::prepare`].
    pub fn new(params: UrlRemovalParams) -> Self {
        UrlRemovalModifier { params, patterns: OnceLock::new() }
    }

    fn build_patterns(&self) -> Result<Arc<UrlPatterns>, FilterError> {
        let tlds = longest_first_alternation(&lists::read_lines(URL_REMOVAL_MODIFIER, &self.params.tlds_filepath)?);
        let build = |source: &str, insensitive: bool| {
            RegexBuilder::new(source)
                .case_insensitive(insensitive)
                .build()
                .map_err(|source| FilterError::Pattern { step: URL_REMOVAL_MODIFIER, source })
        };
        let starts_with_tld = build(&format!("^(?:{tlds})"), true)?;
        let space = r"[\s\x1c-\x1f]";
        let patterns = |boundary: &str| -> Result<(Regex, Regex), FilterError> {
            let url = build(
                &format!(
                    r"{space}{{0,10}}(?:((https?|ftp)://))?[-a-zA-Z0-9@:%._\+~#=]{{1,256}}\.(?:{tlds}){boundary}([-a-zA-Z0-9()@:%_\+.~#?&//=]*)"
                ),
                false,
            )?;
            let ipv4 = build(
                &format!(
                    r"{space}{{0,10}}{boundary}((https?|ftp)://)?(?:[0-2]?[0-9]{{1,2}}\.){{3}}[0-2]?[0-9]{{1,2}}[-a-zA-Z0-9()@:%_\+.~#?&//=]*"
                ),
                false,
            )?;
            Ok((url, ipv4))
        };
        let (unicode, ascii) = (patterns(r"\b")?, patterns(r"(?-u:\b)")?);
        Ok(Arc::new(UrlPatterns { starts_with_tld, unicode, ascii }))
    }
}

impl Step for UrlRemovalModifier {
    fn name(&self) -> &'static str {
        URL_REMOVAL_MODIFIER
    }

    fn referenced_files(&self) -> Vec<String> {
        lists::referenced_file(&self.params.tlds_filepath).into_iter().collect()
    }

    fn prepare(&self) -> Result<(), FilterError> {
        prepare_once(&self.patterns, || self.build_patterns())
    }

    fn apply(&self, doc: &mut Document) -> Verdict {
        let Some(patterns) = self.patterns.get() else { return Verdict::Error(NOT_PREPARED) };
        let mut text = std::mem::take(&mut doc.text);
        if patterns.starts_with_tld.is_match(&text) {
            let url = if url_boundaries_matter(&text) { &patterns.unicode.0 } else { &patterns.ascii.0 };
            text = url.replace_all(&text, "").into_owned();
        }
        let ipv4 = if ipv4_boundaries_matter(&text) { &patterns.unicode.1 } else { &patterns.ascii.1 };
        text = ipv4.replace_all(&text, "").into_owned();
        set_text(doc, text)
    }
}

impl Serialize for UrlRemovalModifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.serialize(s)
    }
}

impl<'de> Deserialize<'de> for UrlRemovalModifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        UrlRemovalParams::deserialize(d).map(UrlRemovalModifier::new)
    }
}

impl std::fmt::Debug for UrlRemovalModifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlRemovalModifier").field("params", &self.params).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_unicode_boundaries_agree_where_the_fast_path_is_taken() {
        let step = UrlRemovalModifier::new(UrlRemovalParams { tlds_filepath: default_tlds() });
        step.prepare().unwrap();
        let patterns = step.patterns.get().unwrap();
        let texts = [
            "The site example.com/page and 192.168.0.1 are gone.",
            "The café at example.comé stays, and so does xn.рф here.",
            "Thé 10.0.0.1 address",
            "Themes: see docs.rs, crates.io and рф.рф",
            "The Straße für 192.168.1.1 und example.com/über",
            "Thé x1.2.3.4 and приветhttp://example.com",
        ];
        for text in texts {
            let mut fast = Document::from_text(text, None);
            let mut exact = fast.clone();
            step.apply(&mut fast);
            exact.text = patterns.unicode.1.replace_all(&patterns.unicode.0.replace_all(text, ""), "").into_owned();
            assert_eq!(fast.text, exact.text, "{text}");
        }
        assert!(!url_boundaries_matter("plain ascii text, with “quotes” — and dashes"));
        assert!(!url_boundaries_matter("Straße und Grüße für alle: example.com"));
        assert!(url_boundaries_matter("example.comé"));
        assert!(url_boundaries_matter("site.рф"));
        assert!(ipv4_boundaries_matter("приветhttp://x") && ipv4_boundaries_matter("年10.0.0.1"));
        assert!(
            !ipv4_boundaries_matter("ähnlich")
                && !ipv4_boundaries_matter("2020年8月")
                && !ipv4_boundaries_matter("Straße 12")
        );
    }

    #[test]
    fn netloc_follows_urlparse() {
        assert_eq!(netloc("https://www.Example.com:8080/a?b"), "www.Example.com:8080");
        assert_eq!(netloc("example.com/path"), "");
        assert_eq!(netloc("//host/x"), "host");
    }
}

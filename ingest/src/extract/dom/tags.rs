//! Element names the tree builder and the extractors care about, interned as a one-byte enum so that the
//! hot paths compare integers, not strings. Every other name is `Tag::Other` (its text is kept on the node).

macro_rules! tags {
    ($($variant:ident = $name:literal,)+) => {
        /// A known HTML element name (lower case), or `Other`. (`<option>` is `OptionEl`, so that
        /// glob imports do not shadow `Option`.)
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Tag {
            $($variant,)+
            Other,
        }

        impl Tag {
            /// The tag for a lower-case element name.
            pub fn from_name(name: &str) -> Tag {
                match name {
                    $($name => Tag::$variant,)+
                    _ => Tag::Other,
                }
            }

            /// The element name ("" for `Other`: read it from the node).
            pub fn name(self) -> &'static str {
                match self {
                    $(Tag::$variant => $name,)+
                    Tag::Other => "",
                }
            }
        }
    };
}

tags! {
    A = "a", Address = "address", Applet = "applet", Area = "area", Article = "article", Aside = "aside",
    Audio = "audio", B = "b", Base = "base", Basefont = "basefont", Bgsound = "bgsound", Big = "big",
    Blockquote = "blockquote", Body = "body", Br = "br", Button = "button", Caption = "caption",
    Center = "center", Code = "code", Col = "col", Colgroup = "colgroup", Dd = "dd", Desc = "desc",
    Details = "details", Dialog = "dialog", Dir = "dir", Div = "div", Dl = "dl", Dt = "dt", Em = "em",
    Embed = "embed", Fieldset = "fieldset", Figcaption = "figcaption", Figure = "figure", Font = "font",
    Footer = "footer", ForeignObject = "foreignobject", Form = "form", Frame = "frame", Frameset = "frameset",
    H1 = "h1", H2 = "h2", H3 = "h3", H4 = "h4", H5 = "h5", H6 = "h6", Head = "head", Header = "header",
    Hgroup = "hgroup", Hr = "hr", Html = "html", I = "i", Iframe = "iframe", Image = "image", Img = "img",
    Input = "input", Keygen = "keygen", Label = "label", Li = "li", Link = "link", Listing = "listing",
    Main = "main", Marquee = "marquee", Math = "math", Menu = "menu", Meta = "meta", Mi = "mi", Mn = "mn",
    Mo = "mo", Ms = "ms", Mtext = "mtext", Nav = "nav", Nobr = "nobr", Noembed = "noembed",
    Noframes = "noframes", Noscript = "noscript", Object = "object", Ol = "ol", Optgroup = "optgroup",
    OptionEl = "option", P = "p", Param = "param", Plaintext = "plaintext", Pre = "pre", Rb = "rb", Rp = "rp",
    Rt = "rt", Rtc = "rtc", S = "s", Script = "script", Search = "search", Section = "section",
    Select = "select", Small = "small", Source = "source", Span = "span", Strike = "strike",
    Strong = "strong", Style = "style", Summary = "summary", Svg = "svg", Table = "table", Tbody = "tbody",
    Td = "td", Template = "template", Textarea = "textarea", Tfoot = "tfoot", Th = "th", Thead = "thead",
    Time = "time", Title = "title", Tr = "tr", Track = "track", Tt = "tt", U = "u", Ul = "ul",
    Video = "video", Wbr = "wbr", Xmp = "xmp",
}

use Tag::*;

impl Tag {
    /// Elements without content or end tag.
    pub fn is_void(self) -> bool {
        matches!(
            self,
            Area | Base
                | Basefont
                | Bgsound
                | Br
                | Col
                | Embed
                | Frame
                | Hr
                | Img
                | Input
                | Keygen
                | Link
                | Meta
                | Param
                | Source
                | Track
                | Wbr
        )
    }

    /// `h1`–`h6`.
    pub fn is_heading(self) -> bool {
        matches!(self, H1 | H2 | H3 | H4 | H5 | H6)
    }

    /// The HTML5 "formatting" elements (tracked in the list of active formatting elements).
    pub fn is_formatting(self) -> bool {
        matches!(self, A | B | Big | Code | Em | Font | I | Nobr | S | Small | Strike | Strong | Tt | U)
    }

    /// The HTML5 "special" category (HTML namespace), which stops the generic end-tag search.
    pub fn is_special(self) -> bool {
        matches!(
            self,
            Address
                | Applet
                | Area
                | Article
                | Aside
                | Base
                | Basefont
                | Bgsound
                | Blockquote
                | Body
                | Br
                | Button
                | Caption
                | Center
                | Col
                | Colgroup
                | Dd
                | Details
                | Dir
                | Div
                | Dl
                | Dt
                | Embed
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Form
                | Frame
                | Frameset
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | Head
                | Header
                | Hgroup
                | Hr
                | Html
                | Iframe
                | Img
                | Input
                | Keygen
                | Li
                | Link
                | Listing
                | Main
                | Marquee
                | Menu
                | Meta
                | Nav
                | Noembed
                | Noframes
                | Noscript
                | Object
                | Ol
                | P
                | Param
                | Plaintext
                | Pre
                | Script
                | Search
                | Section
                | Select
                | Source
                | Style
                | Summary
                | Table
                | Tbody
                | Td
                | Template
                | Textarea
                | Tfoot
                | Th
                | Thead
                | Title
                | Tr
                | Track
                | Ul
                | Wbr
                | Xmp
        )
    }

    /// Start tags that close an open `<p>` in button scope (the in-body "address, article, …" group).
    pub fn closes_p(self) -> bool {
        matches!(
            self,
            Address
                | Article
                | Aside
                | Blockquote
                | Center
                | Details
                | Dialog
                | Dir
                | Div
                | Dl
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Header
                | Hgroup
                | Main
                | Menu
                | Nav
                | Ol
                | P
                | Search
                | Section
                | Summary
                | Ul
        )
    }

    /// Elements whose end tags are implied (`generate implied end tags`).
    pub fn has_implied_end(self) -> bool {
        matches!(self, Dd | Dt | Li | Optgroup | OptionEl | P | Rb | Rp | Rt | Rtc)
    }

    /// Elements whose content the tokenizer reads as raw text up to the matching end tag (`noscript` is
    /// not: pages are parsed with scripting disabled, as resiliparse's lexbor does).
    pub fn is_raw_text(self) -> bool {
        matches!(self, Script | Style | Xmp | Iframe | Noembed | Noframes)
    }

    /// Elements whose content is text with character references (`title`, `textarea`).
    pub fn is_rcdata(self) -> bool {
        matches!(self, Title | Textarea)
    }
}

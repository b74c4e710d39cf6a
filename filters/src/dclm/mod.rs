//! DCLM-Baseline's steps (`baselines/mappers/` at mlfoundations/dclm 361714b), reproduced with Python's
//! semantics. Each struct is one DCLM function; its fields are that function's parameters, with DCLM's
//! defaults, so `dclm_baseline_refinedweb.yaml`'s steps deserialise unchanged.

mod content;
mod language;
pub(crate) mod lines;
mod metadata;
mod repetition;
mod url;

pub use content::{
    AlphabeticWordRatioFilter, BulletCountFilter, EllipsisCountFilter, PageLengthFilter, StopWordFilter,
    SubstringFilter, SymbolRatioFilter, WordCounterEnricher, WordLengthFilter, WordRemovalRatioFilter,
};
pub use language::{lid_176, top_language, DetectLangWholePageEnricher};
pub use lines::{
    CounterLineModifier, LineLengthModifier, NewlineRemovalModifier, NumericRatioLineModifier, PunctuationLineModifier,
    SubstringLineModifier, UppercaseRatioLineModifier,
};
pub use metadata::{LanguageFilter, MoveUrlModifier};
pub use repetition::MassiveWebRepetitionFilters;
pub use url::{UrlRemovalModifier, UrlSubstringFilter};

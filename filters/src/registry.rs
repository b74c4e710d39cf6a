//! Step names → step structs: what a recipe's `steps:` list deserialises into.

use serde::{Deserialize, Serialize};

use crate::dclm::*;
use crate::error::FilterError;
use crate::fineweb::FinewebQualityFilter;
use crate::quality::{ClassifyFasttextHqProbEnricher, QualityFilter};
use crate::step::Step;

/// One step of a filter chain, written in a recipe as a single-key map from the step's name (DCLM's function
/// name) to its parameters, e.g. `- word_length_filter: {min_length: 3, max_length: 10}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StepConfig {
    MoveUrlModifier(MoveUrlModifier),
    UrlSubstringFilter(UrlSubstringFilter),
    UrlRemovalModifier(UrlRemovalModifier),
    NewlineRemovalModifier(NewlineRemovalModifier),
    DetectLangWholePageEnricher(DetectLangWholePageEnricher),
    LanguageFilter(LanguageFilter),
    PageLengthFilter(PageLengthFilter),
    WordLengthFilter(WordLengthFilter),
    SymbolRatioFilter(SymbolRatioFilter),
    BulletCountFilter(BulletCountFilter),
    EllipsisCountFilter(EllipsisCountFilter),
    AlphabeticWordRatioFilter(AlphabeticWordRatioFilter),
    StopWordFilter(StopWordFilter),
    MassiveWebRepetitionFilters(MassiveWebRepetitionFilters),
    WordCounterEnricher(WordCounterEnricher),
    UppercaseRatioLineModifier(UppercaseRatioLineModifier),
    NumericRatioLineModifier(NumericRatioLineModifier),
    CounterLineModifier(CounterLineModifier),
    LineLengthModifier(LineLengthModifier),
    SubstringLineModifier(SubstringLineModifier),
    WordRemovalRatioFilter(WordRemovalRatioFilter),
    ClassifyFasttextHqProbEnricher(ClassifyFasttextHqProbEnricher),
    QualityFilter(QualityFilter),
    PunctuationLineModifier(PunctuationLineModifier),
    SubstringFilter(SubstringFilter),
    FinewebQualityFilter(FinewebQualityFilter),
}

impl StepConfig {
    /// The runnable step, not prepared yet: [`Step::prepare`] loads its models and lists (a
    /// [`crate::FilterStage`] prepares every step before its first document).
    pub fn build(&self) -> Box<dyn Step> {
        self.clone().into_step()
    }

    /// The runnable step, prepared.
    pub fn build_prepared(&self) -> Result<Box<dyn Step>, FilterError> {
        let step = self.build();
        step.prepare()?;
        Ok(step)
    }

    fn into_step(self) -> Box<dyn Step> {
        match self {
            StepConfig::MoveUrlModifier(s) => Box::new(s),
            StepConfig::UrlSubstringFilter(s) => Box::new(s),
            StepConfig::UrlRemovalModifier(s) => Box::new(s),
            StepConfig::NewlineRemovalModifier(s) => Box::new(s),
            StepConfig::DetectLangWholePageEnricher(s) => Box::new(s),
            StepConfig::LanguageFilter(s) => Box::new(s),
            StepConfig::PageLengthFilter(s) => Box::new(s),
            StepConfig::WordLengthFilter(s) => Box::new(s),
            StepConfig::SymbolRatioFilter(s) => Box::new(s),
            StepConfig::BulletCountFilter(s) => Box::new(s),
            StepConfig::EllipsisCountFilter(s) => Box::new(s),
            StepConfig::AlphabeticWordRatioFilter(s) => Box::new(s),
            StepConfig::StopWordFilter(s) => Box::new(s),
            StepConfig::MassiveWebRepetitionFilters(s) => Box::new(s),
            StepConfig::WordCounterEnricher(s) => Box::new(s),
            StepConfig::UppercaseRatioLineModifier(s) => Box::new(s),
            StepConfig::NumericRatioLineModifier(s) => Box::new(s),
            StepConfig::CounterLineModifier(s) => Box::new(s),
            StepConfig::LineLengthModifier(s) => Box::new(s),
            StepConfig::SubstringLineModifier(s) => Box::new(s),
            StepConfig::WordRemovalRatioFilter(s) => Box::new(s),
            StepConfig::ClassifyFasttextHqProbEnricher(s) => Box::new(s),
            StepConfig::QualityFilter(s) => Box::new(s),
            StepConfig::PunctuationLineModifier(s) => Box::new(s),
            StepConfig::SubstringFilter(s) => Box::new(s),
            StepConfig::FinewebQualityFilter(s) => Box::new(s),
        }
    }
}

//! Recipes: YAML files that list stages with their parameters, run in order by `sluice run`.
//!
//! ```yaml
//! name: demo
//! output: out/demo            # each stage writes to <output>/<position>-<stage> unless it says `output:`
//! format: parquet             # parquet (default), jsonl, jsonl.gz or jsonl.zst
//! stages:
//!   - ingest:
//!       input: [demo/warc]    # the first stage needs an input; later ones read the previous output
//!       extractor: article
//! ```
//!
//! Relative paths are relative to the directory `sluice` runs in. Unknown stages and fields, and values of
//! the wrong type, are errors that name the file, line and column.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sluice_core::format::Format;
use sluice_core::recipe::load_yaml;
use sluice_core::runner::{run_phased, run_stage, MapStage, PhasedStage};
use sluice_dedup::DedupConfig;
use sluice_filters::{FilterConfig, FilterStage};
use sluice_ingest::{IngestConfig, IngestStage};
use sluice_mixer::mix::{MixConfig, MixStage};
use sluice_tokenize::{TokenizeConfig, TokenizeStage};

use crate::cli::RunArgs;
use crate::progress::BarProgress;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// A short name for the pipeline.
    pub name: String,
    /// What the recipe is for (free text).
    #[serde(default)]
    pub description: Option<String>,
    /// Root location of the outputs.
    pub output: String,
    /// Format of every stage's output.
    #[serde(default = "default_format")]
    pub format: Format,
    /// The stages, in order.
    pub stages: Vec<StageSpec>,
}

fn default_format() -> Format {
    Format::Parquet
}

/// One stage of a recipe: a single-key map from the stage name to its parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StageSpec {
    /// WARC/WET → documents (`sluice-ingest`).
    Ingest(IngestConfig),
    /// Documents → the documents a chain of filters, modifiers and enrichers keeps (`sluice-filters`).
    Filter(FilterConfig),
    /// Documents → deduplicated documents (`sluice-dedup`; `method:` exact, bff or minhash).
    Dedup(DedupConfig),
    /// Several sources → one mix, sampled by weight or target size (`sluice-mixer`).
    Mix(MixConfig),
    /// Documents → token shards: openlm, bin or decomposed (`sluice-tokenize`). Its output holds no
    /// documents, so no stage reads it.
    Tokenize(TokenizeConfig),
}

/// A stage with its resolved input and output (built only when it runs: a stage may need what an earlier
/// one writes).
pub(crate) struct PlannedStage<'a> {
    pub position: usize,
    pub spec: &'a StageSpec,
    pub input: Vec<String>,
    pub output: String,
    /// A mix stage with its sources' `@N` references resolved.
    pub mix: Option<MixConfig>,
}

impl PlannedStage<'_> {
    /// The runnable stage.
    pub fn build(&self) -> Result<Box<dyn PhasedStage>> {
        match &self.mix {
            Some(mix) => Ok(Box::new(MixStage::new(mix.clone())?)),
            None => self.spec.build(),
        }
    }
}

impl StageSpec {
    fn name(&self) -> &'static str {
        match self {
            StageSpec::Ingest(_) => "ingest",
            StageSpec::Filter(_) => "filter",
            StageSpec::Dedup(_) => "dedup",
            StageSpec::Mix(_) => "mix",
            StageSpec::Tokenize(_) => "tokenize",
        }
    }

    fn io(&self) -> (&[String], Option<&str>) {
        match self {
            StageSpec::Ingest(c) => (&c.input, c.output.as_deref()),
            StageSpec::Filter(c) => (&c.input, c.output.as_deref()),
            StageSpec::Dedup(c) => c.io(),
            // The sources hold the inputs (see `mix_inputs`).
            StageSpec::Mix(c) => (&[], c.output.as_deref()),
            StageSpec::Tokenize(c) => (&c.input, c.output.as_deref()),
        }
    }

    /// The runnable stage (models and lists are loaded later, by [`Stage::prepare`] when it starts).
    pub fn build(&self) -> Result<Box<dyn PhasedStage>> {
        Ok(match self {
            StageSpec::Ingest(c) => Box::new(MapStage(Box::new(IngestStage::new(c.clone())))),
            StageSpec::Filter(c) => {
                Box::new(MapStage(Box::new(FilterStage::new(c.clone()).map_err(anyhow::Error::msg)?)))
            }
            StageSpec::Dedup(c) => c.build()?,
            StageSpec::Mix(c) => Box::new(MixStage::new(c.clone())?),
            StageSpec::Tokenize(c) => Box::new(TokenizeStage::new(c.clone())?),
        })
    }
}

/// Loads a recipe and checks what serde cannot: the stage list and the first stage's input.
pub fn load_recipe(path: &Path) -> Result<Recipe> {
    let recipe: Recipe = load_yaml(path)?;
    // A recipe error (exit code 2): `message` follows the file name.
    let error =
        |message: String| sluice_core::Error::Recipe { file: path.to_path_buf(), message: format!(": {message}") };
    if recipe.stages.is_empty() {
        return Err(error("the recipe has no stages".into()).into());
    }
    if recipe.stages[0].io().0.is_empty() && !matches!(recipe.stages[0], StageSpec::Mix(_)) {
        return Err(error(format!("stage 1 ({}) needs an `input`", recipe.stages[0].name())).into());
    }
    let planned = plan_recipe(&recipe, &recipe.output);
    for (i, stage) in recipe.stages.iter().enumerate() {
        let named: Vec<&String> = match stage {
            StageSpec::Mix(c) => c.sources.iter().flat_map(|s| &s.input).collect(),
            _ => stage.io().0.iter().collect(),
        };
        if i > 0 && named.is_empty() && matches!(recipe.stages[i - 1], StageSpec::Tokenize(_)) {
            return Err(error(format!(
                "stage {} ({}) would read stage {i}'s token shards, which are not documents: give it an `input` \
                 (e.g. `@N` for an earlier document stage)",
                i + 1,
                stage.name()
            ))
            .into());
        }
        for input in named.into_iter().filter(|i| i.starts_with('@')) {
            if resolve_reference(input, &planned[..i]).is_none() {
                return Err(error(format!(
                    "stage {} ({}) reads `{input}`, which names no single earlier stage (use @N for stage N, or \
                     @name for a stage name used once)",
                    i + 1,
                    stage.name()
                ))
                .into());
            }
        }
    }
    Ok(recipe)
}

/// The output of the earlier stage an input names with `@N` (its 1-based position) or `@name` (a stage
/// name used once, e.g. `@filter`), so a stage can read several sources, not only the previous stage.
fn resolve_reference(input: &str, earlier: &[PlannedStage]) -> Option<String> {
    let wanted = input.strip_prefix('@')?;
    let matches: Vec<&PlannedStage> =
        earlier.iter().filter(|p| p.position.to_string() == wanted || p.spec.name() == wanted).collect();
    match matches.as_slice() {
        [one] => Some(one.output.clone()),
        _ => None,
    }
}

/// Every stage with its resolved input and output.
pub(crate) fn plan_recipe<'a>(recipe: &'a Recipe, output_root: &str) -> Vec<PlannedStage<'a>> {
    let mut planned: Vec<PlannedStage> = Vec::new();
    for (i, spec) in recipe.stages.iter().enumerate() {
        let (input, output) = spec.io();
        let input = if input.is_empty() {
            vec![planned.last().map(|p| p.output.clone()).unwrap_or_default()]
        } else {
            input.iter().map(|i| resolve_reference(i, &planned).unwrap_or_else(|| i.clone())).collect()
        };
        let output = output
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/{}-{}", output_root.trim_end_matches('/'), i + 1, spec.name()));
        let (input, mix) = match spec {
            StageSpec::Mix(config) => {
                let mut resolved = config.clone();
                for source in &mut resolved.sources {
                    for input in &mut source.input {
                        *input = resolve_reference(input, &planned).unwrap_or_else(|| input.clone());
                    }
                }
                (resolved.sources.iter().flat_map(|s| s.input.clone()).collect(), Some(resolved))
            }
            _ => (input, None),
        };
        planned.push(PlannedStage { position: i + 1, spec, input, output, mix });
    }
    planned
}

/// `sluice filter RECIPE --input DOCS --output OUT`: the recipe's filter stages (in order) over any
/// document files. With several filter stages, stage k > 1 writes to `OUT/<k>-filter` and the last to `OUT`.
pub fn run_filter_only(
    recipe_path: &Path,
    input: &[String],
    output: &str,
    job: &crate::cli::JobArgs,
    format: Option<Format>,
    quiet: bool,
) -> Result<()> {
    let recipe: Recipe = load_yaml(recipe_path)?;
    let filters: Vec<&FilterConfig> =
        recipe.stages.iter().filter_map(|s| if let StageSpec::Filter(c) = s { Some(c) } else { None }).collect();
    if filters.is_empty() {
        bail!("{}: the recipe has no `filter` stage", recipe_path.display());
    }
    let mut current = input.to_vec();
    for (i, config) in filters.iter().enumerate() {
        let last = i + 1 == filters.len();
        let out = if last { output.to_string() } else { format!("{}/{}-filter", output.trim_end_matches('/'), i + 1) };
        let stage = FilterStage::new((*config).clone()).map_err(anyhow::Error::msg)?;
        let progress = BarProgress::new(quiet || job.json);
        let report = run_stage(&stage, &current, &out, &job.options(format.unwrap_or(recipe.format)), &progress)
            .with_context(|| format!("filter stage {} of {} failed", i + 1, recipe_path.display()))?;
        crate::summary::print_stage_report(&report, job.json);
        current = vec![out];
    }
    Ok(())
}

/// Fails, naming each, if any file a stage refers to (a model, a word list) does not exist.
fn check_referenced_files(recipe: &Path, planned: &[&PlannedStage], built: &[Box<dyn PhasedStage>]) -> Result<()> {
    let mut missing = Vec::new();
    for (planned, stage) in planned.iter().zip(built) {
        for file in stage.referenced_files() {
            let exists = sluice_core::store::Location::parse(&file).and_then(|l| l.exists()).unwrap_or(false);
            if !exists {
                missing.push(format!("stage {} ({}): {file}", planned.position, planned.spec.name()));
            }
        }
    }
    if !missing.is_empty() {
        return Err(sluice_core::Error::Recipe {
            file: recipe.to_path_buf(),
            message: format!(
                ": files the recipe refers to do not exist (nothing was run):\n  {}",
                missing.join("\n  ")
            ),
        }
        .into());
    }
    Ok(())
}

/// `sluice run`.
pub fn run_recipe_file(args: &RunArgs, quiet: bool) -> Result<()> {
    let recipe = load_recipe(&args.recipe)?;
    let output_root = args.output.clone().unwrap_or_else(|| recipe.output.clone());
    let stages = plan_recipe(&recipe, &output_root);
    let selected: Vec<&PlannedStage> = match &args.stage {
        None => stages.iter().collect(),
        Some(wanted) => {
            let matches: Vec<&PlannedStage> =
                stages.iter().filter(|s| s.position.to_string() == *wanted || s.spec.name() == wanted).collect();
            if matches.len() != 1 {
                bail!("--stage {wanted}: expected one stage's position (1..={}) or unique name", stages.len());
            }
            matches
        }
    };
    // Build every selected stage and check every file they refer to before any work, so a missing model
    // is reported now and not after hours of an earlier stage.
    let built = selected
        .iter()
        .map(|planned| {
            planned.build().with_context(|| {
                format!("stage {} ({}) of {}", planned.position, planned.spec.name(), args.recipe.display())
            })
        })
        .collect::<Result<Vec<_>>>()?;
    check_referenced_files(&args.recipe, &selected, &built)?;
    if !args.job.json {
        println!("recipe {} ({} stages) → {}", recipe.name, stages.len(), output_root);
        if let Some(description) = &recipe.description {
            println!("  {description}");
        }
    }
    for (planned, stage) in selected.iter().zip(&built) {
        let context =
            || format!("stage {} ({}) of {} failed", planned.position, planned.spec.name(), args.recipe.display());
        let progress = BarProgress::new(quiet || args.job.json);
        let report =
            run_phased(stage.as_ref(), &planned.input, &planned.output, &args.job.options(recipe.format), &progress)
                .with_context(context)?;
        crate::summary::print_stage_report(&report, args.job.json);
        if matches!(planned.spec, StageSpec::Tokenize(_)) {
            crate::tokenize::finish(&planned.output, Some(&recipe.name), args.job.json)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.yaml");
        std::fs::write(&path, text).unwrap();
        format!("{:#}", load_recipe(&path).unwrap_err())
    }

    #[test]
    fn the_bundled_recipes_load() {
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/recipes")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                load_recipe(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            }
        }
    }

    #[test]
    fn broken_recipes_say_where() {
        let base = "name: t\noutput: out\nstages:\n  - ingest:\n      input: [x]\n";
        let err = error_of(&format!("{base}      extracter: page\n"));
        assert!(err.contains("r.yaml:6:") && err.contains("extracter"), "{err}");
        let err = error_of(&format!("{base}      max_html_bytes: lots\n"));
        assert!(err.contains("r.yaml:6:"), "{err}");
        let err = error_of("name: t\noutput: out\nstages:\n  - ingets: {}\n");
        assert!(err.contains("r.yaml:4:") && err.contains("ingets"), "{err}");
        let err = error_of("name: t\noutput: out\nstages:\n  - ingest: {}\n");
        assert!(err.contains("stage 1 (ingest) needs an `input`"), "{err}");
        let err = error_of("name: t\noutput: out\nformat: csv\nstages: []\n");
        assert!(err.contains("r.yaml:3:") && err.contains("csv"), "{err}");
    }

    #[test]
    fn later_stages_read_the_previous_output() {
        let recipe: Recipe = sluice_core::recipe::parse_yaml(
            Path::new("r.yaml"),
            "name: t\noutput: out/x/\nstages:\n  - ingest: {input: [a]}\n  - ingest: {}\n",
        )
        .unwrap();
        let planned = plan_recipe(&recipe, &recipe.output);
        assert_eq!(planned[0].output, "out/x/1-ingest");
        assert_eq!(planned[1].input, vec!["out/x/1-ingest".to_string()]);
        assert_eq!(planned[1].output, "out/x/2-ingest");
    }

    #[test]
    fn dedup_stages_take_a_method_and_its_fields() {
        let parse = |text: &str| sluice_core::recipe::parse_yaml::<Recipe>(Path::new("r.yaml"), text);
        let base = "name: t\noutput: out\nstages:\n  - ingest: {input: [a]}\n";
        let recipe = parse(&format!("{base}  - dedup:\n      method: exact\n      key: url\n")).unwrap();
        assert!(
            matches!(&recipe.stages[1], StageSpec::Dedup(DedupConfig::Exact(c)) if c.key == sluice_dedup::exact::ExactKey::Url)
        );
        let err = parse(&format!("{base}  - dedup:\n      method: exact\n      kee: url\n")).unwrap_err().to_string();
        assert!(err.contains("kee"), "{err}");
        let err = parse(&format!("{base}  - dedup:\n      method: fuzzy\n")).unwrap_err().to_string();
        assert!(err.contains("fuzzy"), "{err}");
    }

    #[test]
    fn stages_can_read_several_earlier_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.yaml");
        let text = "name: t\noutput: out\nstages:\n  - ingest: {input: [a]}\n  - ingest: {input: [b]}\n  - filter: {input: ['@1', '@2', extra/docs], steps: []}\n";
        std::fs::write(&path, text).unwrap();
        let recipe = load_recipe(&path).unwrap();
        let planned = plan_recipe(&recipe, &recipe.output);
        assert_eq!(planned[2].input, vec!["out/1-ingest", "out/2-ingest", "extra/docs"]);
        std::fs::write(&path, text.replace("'@2'", "'@ingest'")).unwrap();
        let err = format!("{:#}", load_recipe(&path).unwrap_err());
        assert!(err.contains("`@ingest`, which names no single earlier stage"), "{err}");
        std::fs::write(&path, text.replace("'@2'", "'@3'")).unwrap();
        assert!(load_recipe(&path).is_err(), "a stage cannot read itself or a later stage");
    }
}

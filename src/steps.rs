//! `sluice steps`: every filter step a recipe's `filter:` stage can use, with its parameters and their
//! defaults. Read from the step types themselves (their serde definitions), so the list cannot drift from
//! what recipes accept.

use anyhow::Result;
use clap::Args;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, VariantAccess, Visitor};
use serde_json::{json, Map, Value};
use sluice_filters::StepConfig;

#[derive(Debug, Args)]
pub struct StepsArgs {
    /// Print one JSON object per step.
    #[arg(long)]
    pub json: bool,
}

/// One step: its name, its parameters with defaults, and which parameters a recipe must give.
#[derive(Debug, serde::Serialize)]
pub struct StepInfo {
    pub name: String,
    pub defaults: Map<String, Value>,
    pub required: Vec<String>,
    /// What the step needs that no default gives (e.g. one of two list parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

pub fn steps(args: &StepsArgs) -> Result<()> {
    for info in catalog() {
        if args.json {
            println!("{}", serde_json::to_string(&info)?);
            continue;
        }
        println!("{}", info.name);
        if let Some(needs) = &info.needs {
            println!("    ({needs})");
        }
        for (param, default) in &info.defaults {
            if info.required.contains(param) {
                println!("    {param}: (required)");
            } else if default.is_null() {
                println!("    {param}: none");
            } else {
                println!("    {param}: {default}");
            }
        }
    }
    Ok(())
}

/// Every step, in the order the registry declares them.
pub fn catalog() -> Vec<StepInfo> {
    record(|r| <StepConfig as serde::Deserialize>::deserialize(r)).into_iter().map(describe).collect()
}

/// A step's parameters: deserialise `{name: {}}`, filling each parameter serde reports missing with the
/// first placeholder of a fitting type, then serialise the step back — the defaults and the placeholders.
fn describe(name: String) -> StepInfo {
    let placeholders = [json!(0), json!(0.5), json!(""), json!(false), json!([]), json!({})];
    let mut params = Map::new();
    let mut required = Vec::new();
    for _ in 0..32 {
        match serde_json::from_value::<StepConfig>(json!({ &name: Value::Object(params.clone()) })) {
            Ok(step) => {
                let serialised = serde_json::to_value(&step).unwrap_or(Value::Null);
                let defaults = serialised.get(&name).and_then(Value::as_object).cloned().unwrap_or_default();
                return StepInfo { name, defaults, required, needs: None };
            }
            Err(e) => {
                let message = e.to_string();
                if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                    required.push(field.to_string());
                    params.insert(field.to_string(), placeholders[0].clone());
                    continue;
                }
                // An enum parameter: serde lists its variants; take the first.
                if let (Some(last), Some(variant)) = (required.last(), first_expected_variant(&message)) {
                    if params.get(last) != Some(&json!(variant)) {
                        params.insert(last.clone(), json!(variant));
                        continue;
                    }
                }
                // The placeholder of the last required field has the wrong type: try the next one. With no
                // required field left to vary, the step checks something else: say what.
                let Some(last) = required.last() else {
                    let needs = message.split_once(": ").map_or(message.as_str(), |(_, m)| m).to_string();
                    return StepInfo { name, defaults: params, required, needs: Some(needs) };
                };
                let current = params.get(last).cloned().unwrap_or(Value::Null);
                let next = placeholders.iter().skip_while(|p| **p != current).nth(1).cloned();
                match next {
                    Some(next) => params.insert(last.clone(), next),
                    None => break,
                };
            }
        }
    }
    StepInfo { name, defaults: params, required, needs: None }
}

/// `unknown variant ``, expected one of `word`, `char`` → `word`.
fn first_expected_variant(message: &str) -> Option<String> {
    let expected = message.split_once("unknown variant")?.1.split_once("expected")?.1;
    Some(expected.split('`').nth(1)?.to_string())
}

/// Runs `f` against a deserializer that records the variant names of the enum it is asked for.
fn record(f: impl FnOnce(&mut Recorder) -> Result<StepConfig, RecordError>) -> Vec<String> {
    let mut recorder = Recorder::default();
    let _ = f(&mut recorder);
    recorder.variants
}

#[derive(Default)]
struct Recorder {
    variants: Vec<String>,
}

#[derive(Debug)]
struct RecordError;

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("recorded")
    }
}
impl std::error::Error for RecordError {}
impl de::Error for RecordError {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        RecordError
    }
}

impl<'de> Deserializer<'de> for &mut Recorder {
    type Error = RecordError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, RecordError> {
        Err(RecordError)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, RecordError> {
        self.variants = variants.iter().map(|v| v.to_string()).collect();
        Err(RecordError)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

// The enum-access traits are not needed to list variants, but keep the recorder honest if serde asks.
#[allow(dead_code)]
struct NoAccess;
impl<'de> EnumAccess<'de> for NoAccess {
    type Error = RecordError;
    type Variant = NoAccess;
    fn variant_seed<V: DeserializeSeed<'de>>(self, _: V) -> Result<(V::Value, NoAccess), RecordError> {
        Err(RecordError)
    }
}
impl<'de> VariantAccess<'de> for NoAccess {
    type Error = RecordError;
    fn unit_variant(self) -> Result<(), RecordError> {
        Err(RecordError)
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, RecordError> {
        Err(RecordError)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, RecordError> {
        Err(RecordError)
    }
    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], _: V) -> Result<V::Value, RecordError> {
        Err(RecordError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dclm_step_is_listed_with_its_defaults() {
        let steps = catalog();
        let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
        for expected in ["page_length_filter", "massive_web_repetition_filters", "quality_filter", "language_filter"] {
            assert!(names.contains(&expected), "{expected} missing from {names:?}");
        }
        let bullets = steps.iter().find(|s| s.name == "bullet_count_filter").unwrap();
        assert_eq!(bullets.defaults.get("max_bullet_start_ratio"), Some(&json!(0.9)));
        assert!(bullets.required.is_empty());
        let banlist = steps.iter().find(|s| s.name == "url_substring_filter").unwrap();
        assert!(banlist.needs.as_deref().is_some_and(|n| n.contains("banlist")), "{banlist:?}");
        // Every listed step builds from its defaults plus placeholders: the listing is what recipes accept.
        for step in steps.iter().filter(|s| s.needs.is_none()) {
            // JSON has no infinity: an unbounded default serialises as null and is left out.
            let defaults: Map<String, Value> =
                step.defaults.clone().into_iter().filter(|(_, v)| !v.is_null()).collect();
            let config = json!({ &step.name: Value::Object(defaults) });
            serde_json::from_value::<StepConfig>(config).unwrap_or_else(|e| panic!("{}: {e}", step.name));
        }
    }
}

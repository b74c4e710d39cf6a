//! OpenLM checkpoints as named tensors: reading `.safetensors` files and OpenLM's `epoch_N.pt` (a `torch.save` zip
//! holding `{"epoch", "name", "state_dict", ...}`), normalising wrapper prefixes, and checking every tensor a config
//! needs is there with its shape before a model is built.
//!
//! Names are OpenLM's own (`layers.0.attention.in_proj.weight`). DDP (`module.`), `torch.compile` (`_orig_mod.`,
//! removed wherever it appears, as OpenLM's loader does) and HF conversion (`model.`) prefixes are removed. The
//! `pos_embed.inv_freq` buffers are optional: when present they must hold base-10000 RoPE frequencies for the
//! config's head_dim, and the model uses their values (OpenLM's forward rebuilds its tables from the buffer).

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::pickle::PthTensors;
use candle_core::{DType, Device, Tensor};

use crate::model::config::{expected_layout, OpenLmConfig, TensorKind, PRESET_NAMES};
use crate::model::error::ModelError;
use crate::model::layers::Rope;

/// The largest relative difference accepted between a checkpoint's `inv_freq` and 1/10000^(2j/head_dim). Buffers
/// saved in bf16 (DCLM's pure-bf16 FSDP runs) are off by up to 2^-9; another RoPE base is off by far more.
const INV_FREQ_REL_TOL: f64 = 1e-2;

/// How many unexpected names an error lists.
const EXAMPLES: usize = 8;

/// OpenLM's name for a state_dict key saved through DDP, `torch.compile` or an HF conversion.
pub fn canonical_name(raw: &str) -> String {
    let name = raw.replace("_orig_mod.", "");
    let mut rest = name.as_str();
    while let Some(stripped) = rest.strip_prefix("module.").or_else(|| rest.strip_prefix("model.")) {
        rest = stripped;
    }
    rest.to_owned()
}

/// A checkpoint's tensors by OpenLM name, on the CPU in the file's dtypes, with the file they came from.
#[derive(Debug, Clone)]
pub struct StateDict {
    source: PathBuf,
    tensors: BTreeMap<String, Tensor>,
}

impl StateDict {
    /// Names are normalised with [`canonical_name`]; two raw names with the same OpenLM name are an error.
    pub fn from_tensors(
        source: impl Into<PathBuf>,
        tensors: impl IntoIterator<Item = (String, Tensor)>,
    ) -> Result<Self, ModelError> {
        let source = source.into();
        let mut by_name: BTreeMap<String, (String, Tensor)> = BTreeMap::new();
        for (raw, tensor) in tensors {
            let name = canonical_name(&raw);
            if let Some((first, _)) = by_name.get(&name) {
                let first = first.clone();
                return Err(ModelError::DuplicateTensor { path: source, name, first, second: raw });
            }
            by_name.insert(name, (raw, tensor));
        }
        let tensors = by_name.into_iter().map(|(name, (_, tensor))| (name, tensor)).collect();
        Ok(StateDict { source, tensors })
    }

    /// Reads a `.safetensors` file, or a `torch.save` zip archive (any other extension; checked by its magic).
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        if path.extension().is_some_and(|ext| ext == "safetensors") {
            return Self::read_safetensors(path);
        }
        let io_err = |source| ModelError::Io { path: path.to_path_buf(), source };
        let mut magic = [0u8; 4];
        std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut magic)).map_err(io_err)?;
        if magic == *b"PK\x03\x04" {
            Self::read_pytorch(path)
        } else {
            Err(ModelError::Format {
                path: path.to_path_buf(),
                reason: "expected .safetensors or a torch.save zip (legacy non-zip pickles are not read)".to_owned(),
            })
        }
    }

    /// Reads every tensor of a `.safetensors` file.
    pub fn read_safetensors(path: &Path) -> Result<Self, ModelError> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| ModelError::candle(path, "reading safetensors", e))?;
        Self::from_tensors(path, tensors)
    }

    /// Reads a `torch.save` zip: the tensors under its `state_dict` key (OpenLM's `epoch_N.pt`), or, when there is
    /// no such key, the top-level dict of tensors (`torch.save(model.state_dict())`). Other entries (`epoch`,
    /// `step`, `name`, ...) and the state_dict's `_metadata` are skipped.
    pub fn read_pytorch(path: &Path) -> Result<Self, ModelError> {
        let pth = match PthTensors::new(path, Some("state_dict")) {
            Ok(pth) if !pth.tensor_infos().is_empty() => pth,
            _ => {
                PthTensors::new(path, None).map_err(|e| ModelError::candle(path, "reading the torch checkpoint", e))?
            }
        };
        let mut tensors = Vec::with_capacity(pth.tensor_infos().len());
        for name in pth.tensor_infos().keys() {
            let read_err = |reason: String| ModelError::Format {
                path: path.to_path_buf(),
                reason: format!("tensor `{name}` could not be read: {reason}"),
            };
            let tensor =
                pth.get(name).map_err(|e| read_err(e.to_string()))?.ok_or_else(|| read_err("absent".into()))?;
            tensors.push((name.clone(), tensor));
        }
        if tensors.is_empty() {
            return Err(ModelError::Format {
                path: path.to_path_buf(),
                reason: "no tensors under a `state_dict` key nor at the top level".to_owned(),
            });
        }
        Self::from_tensors(path, tensors)
    }

    /// The file the tensors came from (named in every error).
    pub fn source(&self) -> &Path {
        &self.source
    }

    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// A tensor by OpenLM name.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// `(name, tensor)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.tensors.iter().map(|(name, tensor)| (name.as_str(), tensor))
    }

    pub fn into_tensors(self) -> BTreeMap<String, Tensor> {
        self.tensors
    }

    /// Every parameter `cfg` needs is present with OpenLM's shape and a float dtype, buffers (`inv_freq`) and the
    /// tied `output.weight` may be absent, and nothing else is there.
    pub fn check_layout(&self, cfg: &OpenLmConfig) -> Result<(), ModelError> {
        let layout = expected_layout(cfg);
        for spec in &layout {
            let Some(tensor) = self.tensors.get(&spec.name) else {
                if spec.kind == TensorKind::Parameter {
                    return Err(ModelError::MissingTensor {
                        path: self.source.clone(),
                        name: spec.name.clone(),
                        expected: spec.shape.clone(),
                        found: self.tensors.len(),
                    });
                }
                continue;
            };
            if tensor.dims() != spec.shape.as_slice() {
                return Err(ModelError::ShapeMismatch {
                    path: self.source.clone(),
                    name: spec.name.clone(),
                    expected: spec.shape.clone(),
                    got: tensor.dims().to_vec(),
                });
            }
            if !tensor.dtype().is_float() {
                return Err(ModelError::BadDtype {
                    path: self.source.clone(),
                    name: spec.name.clone(),
                    dtype: tensor.dtype(),
                });
            }
        }
        let known: HashSet<&str> = layout.iter().map(|spec| spec.name.as_str()).collect();
        let unexpected: Vec<&String> = self.tensors.keys().filter(|name| !known.contains(name.as_str())).collect();
        if !unexpected.is_empty() {
            return Err(ModelError::UnexpectedTensors {
                path: self.source.clone(),
                count: unexpected.len(),
                examples: unexpected.into_iter().take(EXAMPLES).cloned().collect(),
            });
        }
        Ok(())
    }

    /// The preset ([`PRESET_NAMES`]) whose layout this checkpoint has, if exactly one does: OpenLM checkpoints
    /// carry no config, but DCLM's scales and sluice's CPU sizes all differ in shape.
    pub fn matching_preset(&self) -> Option<(&'static str, OpenLmConfig)> {
        let mut matches = PRESET_NAMES
            .iter()
            .filter_map(|&name| OpenLmConfig::preset(name).ok().map(|cfg| (name, cfg)))
            .filter(|(_, cfg)| self.check_layout(cfg).is_ok());
        let first = matches.next()?;
        matches.next().is_none().then_some(first)
    }

    /// Each layer's RoPE frequencies: its `inv_freq` buffer when the checkpoint has one (checked against
    /// OpenLM's formula), else the formula.
    pub fn inv_freqs(&self, cfg: &OpenLmConfig) -> Result<Vec<Vec<f32>>, ModelError> {
        let head_dim = cfg.head_dim();
        let formula = Rope::default_inv_freq(head_dim);
        (0..cfg.n_layers)
            .map(|i| {
                let name = format!("layers.{i}.attention.pos_embed.inv_freq");
                let Some(tensor) = self.tensors.get(&name) else {
                    return Ok(formula.clone());
                };
                let values: Vec<f32> = tensor
                    .to_dtype(DType::F32)
                    .and_then(|t| t.flatten_all())
                    .and_then(|t| t.to_vec1())
                    .map_err(|e| ModelError::candle(&self.source, "reading an inv_freq buffer", e))?;
                let mut max_rel_diff = 0f64;
                for (&got, &want) in values.iter().zip(&formula) {
                    let rel = (f64::from(got) - f64::from(want)).abs() / f64::from(want);
                    // NaN must fail too, so no `f64::max` (which drops NaN).
                    if rel.is_nan() || rel > max_rel_diff {
                        max_rel_diff = rel;
                    }
                }
                let close = values.len() == formula.len() && max_rel_diff <= INV_FREQ_REL_TOL;
                if !close {
                    return Err(ModelError::BadInvFreq { path: self.source.clone(), name, head_dim, max_rel_diff });
                }
                Ok(values)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeros(shape: &[usize]) -> Tensor {
        Tensor::zeros(shape, DType::F32, &Device::Cpu).unwrap()
    }

    fn full_state(cfg: &OpenLmConfig) -> Vec<(String, Tensor)> {
        expected_layout(cfg).into_iter().map(|spec| (spec.name, zeros(&spec.shape))).collect()
    }

    fn micro() -> OpenLmConfig {
        OpenLmConfig { vocab_size: 32, ..OpenLmConfig::micro() }
    }

    #[test]
    fn wrapper_prefixes_are_removed() {
        assert_eq!(canonical_name("module.layers.0.ffn_norm.weight"), "layers.0.ffn_norm.weight");
        assert_eq!(canonical_name("_orig_mod.norm.weight"), "norm.weight");
        assert_eq!(canonical_name("module._orig_mod.output.weight"), "output.weight");
        assert_eq!(canonical_name("model.tok_embeddings.weight"), "tok_embeddings.weight");
        assert_eq!(canonical_name("norm.weight"), "norm.weight");
    }

    #[test]
    fn a_complete_state_dict_passes_and_buffers_are_optional() {
        let cfg = micro();
        let sd = StateDict::from_tensors("full.safetensors", full_state(&cfg)).unwrap();
        sd.check_layout(&cfg).unwrap();
        let no_buffers = full_state(&cfg).into_iter().filter(|(name, _)| !name.ends_with("inv_freq"));
        let sd = StateDict::from_tensors("no_buffers.safetensors", no_buffers).unwrap();
        sd.check_layout(&cfg).unwrap();
        assert_eq!(sd.inv_freqs(&cfg).unwrap(), vec![Rope::default_inv_freq(cfg.head_dim()); cfg.n_layers]);
    }

    #[test]
    fn missing_and_misshapen_tensors_are_named() {
        let cfg = micro();
        let missing = full_state(&cfg).into_iter().filter(|(name, _)| name != "layers.1.attention.k_norm.weight");
        let err = StateDict::from_tensors("ckpt.pt", missing).unwrap().check_layout(&cfg).unwrap_err().to_string();
        assert!(err.contains("ckpt.pt") && err.contains("layers.1.attention.k_norm.weight"), "{err}");

        let mut misshapen = full_state(&cfg);
        misshapen[1].1 = zeros(&[64, 64]);
        let err = StateDict::from_tensors("ckpt.pt", misshapen).unwrap().check_layout(&cfg).unwrap_err().to_string();
        assert!(err.contains("layers.0.attention.in_proj.weight") && err.contains("[192, 64]"), "{err}");

        let mut extra = full_state(&cfg);
        extra.push(("layers.2.ffn_norm.weight".to_owned(), zeros(&[64])));
        let err = StateDict::from_tensors("ckpt.pt", extra).unwrap().check_layout(&cfg).unwrap_err().to_string();
        assert!(err.contains("layers.2.ffn_norm.weight"), "{err}");
    }

    #[test]
    fn prefixed_duplicates_are_refused() {
        let tensors = [("module.norm.weight".to_owned(), zeros(&[4])), ("norm.weight".to_owned(), zeros(&[4]))];
        let err = StateDict::from_tensors("ckpt.pt", tensors).unwrap_err().to_string();
        assert!(err.contains("module.norm.weight") && err.contains("`norm.weight`"), "{err}");
    }

    #[test]
    fn inv_freq_of_another_base_is_refused() {
        let cfg = micro();
        let mut state = full_state(&cfg);
        for (_, tensor) in state.iter_mut().filter(|(name, _)| name.ends_with("inv_freq")) {
            let base_500k: Vec<f32> = (0..cfg.head_dim() / 2)
                .map(|j| 1.0 / 500_000f64.powf((2 * j) as f64 / cfg.head_dim() as f64) as f32)
                .collect();
            *tensor = Tensor::from_vec(base_500k, cfg.head_dim() / 2, &Device::Cpu).unwrap();
        }
        let err = StateDict::from_tensors("ckpt.pt", state).unwrap().inv_freqs(&cfg).unwrap_err().to_string();
        assert!(err.contains("layers.0.attention.pos_embed.inv_freq"), "{err}");
    }
}

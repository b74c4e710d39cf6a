//! DCLM's fixed training recipes per competition scale (DCLM_SPEC §5.2): what a leaderboard model reference
//! records as its `hyperparameters`, `name` and `open_lm_args`.

use serde_json::{json, Value};

use crate::model::{parameter_count, OpenLmConfig};

/// One of DCLM's five competition scales and its recipe (`training/configs/*.json`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingScale {
    /// DCLM's `--scale` name (`411m_1x`, `1b_1x`, …).
    pub name: &'static str,
    /// The OpenLM model config the recipe trains (`training/open_lm_configs/…`).
    pub model_config: &'static str,
    /// The sluice preset of that architecture.
    pub preset: &'static str,
    /// Training tokens, the Chinchilla multiplier included.
    pub tokens: u64,
    pub warmup: u64,
    /// Peak learning rate, weight decay, cooldown-end rate and z-loss, written as Python's `repr` writes
    /// them (`3e-05`, `0.0001`), since DCLM's model names and argument lists are made from those strings.
    pub lr: &'static str,
    pub wd: &'static str,
    pub cd: &'static str,
    pub z_loss: &'static str,
    pub global_bs: u64,
    pub acc: u64,
    pub fsdp_flags: &'static [&'static str],
    pub chinchilla_multiplier: u64,
}

/// DCLM's seed for every scale.
pub const SEED: u64 = 124;
/// `--epochs`: OpenLM's checkpoints per run (`num_checkpoints`).
pub const NUM_CHECKPOINTS: u64 = 5;

const FSDP_AMP: &[&str] = &["--fsdp", "--fsdp-amp", "--fsdp-limit-all-gathers"];
const FSDP_AMP_ORIG: &[&str] = &["--fsdp", "--fsdp-amp", "--fsdp-limit-all-gathers", "--fsdp-use-orig-params"];
const FSDP_BF16: &[&str] = &["--fsdp", "--fsdp-limit-all-gathers", "--fsdp-pure-bf16", "--fsdp-use-orig-params"];

/// The five scales, smallest first.
pub const SCALES: [TrainingScale; 5] = [
    TrainingScale {
        name: "411m_1x",
        model_config: "training/open_lm_configs/d=1024_l=24_h=8.json",
        preset: "411m",
        tokens: 8_232_325_120,
        warmup: 2000,
        lr: "0.003",
        wd: "0.033",
        cd: "3e-05",
        z_loss: "0.0001",
        global_bs: 512,
        acc: 8,
        fsdp_flags: FSDP_AMP,
        chinchilla_multiplier: 1,
    },
    TrainingScale {
        name: "1b_1x",
        model_config: "training/open_lm_configs/open_lm_1b_swiglutorch.json",
        preset: "1b",
        tokens: 28_795_904_000,
        warmup: 5000,
        lr: "0.003",
        wd: "0.033",
        cd: "3e-05",
        z_loss: "0.0001",
        global_bs: 256,
        acc: 1,
        fsdp_flags: FSDP_AMP_ORIG,
        chinchilla_multiplier: 1,
    },
    TrainingScale {
        name: "3b_1x",
        model_config: "training/open_lm_configs/open_lm_3b_swiglutorch.json",
        preset: "3b",
        tokens: 55_918_643_200,
        warmup: 5000,
        lr: "0.003",
        wd: "0.033",
        cd: "3e-05",
        z_loss: "0.0001",
        global_bs: 256,
        acc: 1,
        fsdp_flags: FSDP_BF16,
        chinchilla_multiplier: 1,
    },
    TrainingScale {
        name: "7b_1x",
        model_config: "training/open_lm_configs/open_lm_7b_swiglutorch.json",
        preset: "7b",
        tokens: 137_788_211_200,
        warmup: 5000,
        lr: "0.002",
        wd: "0.05",
        cd: "3e-05",
        z_loss: "5e-06",
        global_bs: 2048,
        acc: 2,
        fsdp_flags: FSDP_BF16,
        chinchilla_multiplier: 1,
    },
    TrainingScale {
        name: "7b_2x",
        model_config: "training/open_lm_configs/open_lm_7b_swiglutorch.json",
        preset: "7b",
        tokens: 275_576_422_400,
        warmup: 5000,
        lr: "0.002",
        wd: "0.05",
        cd: "3e-05",
        z_loss: "5e-06",
        global_bs: 2048,
        acc: 2,
        fsdp_flags: FSDP_BF16,
        chinchilla_multiplier: 2,
    },
];

impl TrainingScale {
    /// A scale by DCLM's name (`411m_1x`, `1b_1x`, `3b_1x`, `7b_1x`, `7b_2x`; `400m-1x` style accepted).
    pub fn by_name(name: &str) -> Option<TrainingScale> {
        let wanted = name.to_ascii_lowercase().replace('-', "_").replace("400m", "411m");
        SCALES.iter().copied().find(|s| s.name == wanted)
    }

    /// The 1x scale whose architecture `config` is (7B is ambiguous between 1x and 2x: 1x is returned).
    pub fn for_config(config: &OpenLmConfig) -> Option<TrainingScale> {
        SCALES.iter().copied().find(|s| OpenLmConfig::preset(s.preset).is_ok_and(|p| &p == config))
    }

    /// The architecture this scale trains.
    pub fn config(&self) -> OpenLmConfig {
        OpenLmConfig::preset(self.preset).expect("every scale names a known preset")
    }

    /// The config file's stem, as DCLM's model names use it (`d=1024_l=24_h=8`, `open_lm_1b_swiglutorch`).
    pub fn model_stem(&self) -> &'static str {
        let file = self.model_config.rsplit('/').next().unwrap_or(self.model_config);
        file.strip_suffix(".json").unwrap_or(file)
    }

    /// DCLM's model name (`hyperparameters.py`): `{data}-{model}-warm=…-lr=…-wd=…-cd=…-bs=…-mult=…-seed=…-tokens=…`
    /// with `.` written `p` in the numbers.
    pub fn model_name(&self, dataset_name: &str) -> String {
        let p = |s: &str| s.replace('.', "p");
        format!(
            "{dataset_name}-{}-warm={}-lr={}-wd={}-cd={}-bs={}-mult={}-seed={SEED}-tokens={}",
            self.model_stem(),
            self.warmup,
            p(self.lr),
            p(self.wd),
            p(self.cd),
            self.global_bs,
            self.chinchilla_multiplier,
            self.tokens
        )
    }

    /// The model reference's `hyperparameters` object. `params` is DCLM's count (OpenLM's trainable
    /// parameters minus the 2·d·L QK-norm gains) and `params_no_embed` that minus the input embedding.
    pub fn hyperparameters(&self) -> Value {
        let config = self.config();
        let params = dclm_params(&config);
        json!({
            "model": self.model_config,
            "tokens": self.tokens,
            "warmup": self.warmup,
            "lr": number(self.lr),
            "wd": number(self.wd),
            "cd": number(self.cd),
            "global_bs": self.global_bs,
            "acc": self.acc,
            "qk_norm": true,
            "z_loss": number(self.z_loss),
            "grad_checkpointing": false,
            "params": params,
            "params_no_embed": params - (config.vocab_size * config.hidden_dim) as u64,
            "fsdp_flags": self.fsdp_flags,
            "chinchilla_multiplier": self.chinchilla_multiplier,
            "seed": SEED,
            "vocab_size": config.vocab_size,
            "norm": "gain_only_lp_layer_norm",
        })
    }

    /// The OpenLM command line DCLM's `training/train.py` builds for this scale (`get_open_lm_args`, in its
    /// order), for a run named `name` reading `manifest_url`.
    pub fn open_lm_args(&self, name: &str, manifest_url: &str, data_key: &str) -> Vec<String> {
        let mut args: Vec<String> = [
            "--workers",
            "2",
            "--precision",
            "amp_bfloat16",
            "--global-batch-size",
            &self.global_bs.to_string(),
            "--log-every-n-steps",
            "20",
            "--grad-clip-norm",
            "1",
            "--lr",
            self.lr,
            "--warmup",
            &self.warmup.to_string(),
            "--model",
            self.model_config,
            "--wd",
            self.wd,
            "--beta2",
            "0.95",
            "--epochs",
            &NUM_CHECKPOINTS.to_string(),
            "--resume",
            "latest",
            "--seed",
            &SEED.to_string(),
            "--accum-freq",
            &self.acc.to_string(),
            "--model-norm",
            "gain_only_lp_layer_norm",
            "--delete-previous-checkpoint",
            "--lr-cooldown-end",
            self.cd,
            "--attn-name",
            "torch_attn",
            "--log-logit-mean",
            "--data-tolerate-error-p",
            "0.09",
            "--data-tolerate-num-ckpts",
            "0",
            "--multiple-data-passes",
            "--train-num-samples",
            &(self.tokens / NUM_CHECKPOINTS).to_string(),
            "--dataset-manifest",
            manifest_url,
            "--data-key",
            data_key,
            "--name",
            name,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(self.fsdp_flags.iter().map(|s| s.to_string()));
        args.extend(["--qk-norm", "--z-loss", self.z_loss].iter().map(|s| s.to_string()));
        args
    }
}

/// The `hyperparameters` of a model outside DCLM's scales (sluice's `tiny`, `micro`, a user's own config):
/// what the architecture says, and null for the training recipe sluice cannot know.
pub fn custom_hyperparameters(config: &OpenLmConfig, label: &str) -> Value {
    let params = dclm_params(config);
    json!({
        "model": label,
        "tokens": null,
        "warmup": null,
        "lr": null,
        "wd": null,
        "cd": null,
        "global_bs": null,
        "acc": null,
        "qk_norm": config.qk_norm,
        "z_loss": null,
        "grad_checkpointing": null,
        "params": params,
        "params_no_embed": params - (config.vocab_size * config.hidden_dim) as u64,
        "fsdp_flags": [],
        "chinchilla_multiplier": null,
        "seed": null,
        "vocab_size": config.vocab_size,
        "norm": "gain_only_lp_layer_norm",
    })
}

/// DCLM's `params` field: OpenLM's trainable parameters less the 2·d·L QK-norm gains.
pub fn dclm_params(config: &OpenLmConfig) -> u64 {
    let qk_gains = if config.qk_norm { 2 * config.hidden_dim * config.n_layers } else { 0 };
    parameter_count(config) - qk_gains as u64
}

fn number(text: &str) -> Value {
    text.parse::<f64>().map(Value::from).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hyperparameters_match_dclm_model_references() {
        // exp_data/models/c4_original-d=1024_l=24_h=8-…json in mlfoundations/dclm.
        let scale = TrainingScale::by_name("400M-1x").unwrap();
        assert_eq!(
            scale.model_name("c4_original"),
            "c4_original-d=1024_l=24_h=8-warm=2000-lr=0p003-wd=0p033-cd=3e-05-bs=512-mult=1-seed=124-tokens=8232325120"
        );
        let h = scale.hyperparameters();
        assert_eq!(h["params"], 411_616_256);
        assert_eq!(h["params_no_embed"], 359_973_888);
        assert_eq!(h["z_loss"], 0.0001);
        assert_eq!(h["cd"], 3e-5);
        let args = scale.open_lm_args("x", "m.jsonl", "json.gz");
        let after = |flag: &str| args[args.iter().position(|a| a == flag).unwrap() + 1].clone();
        assert_eq!(after("--train-num-samples"), "1646465024");
        assert_eq!(after("--accum-freq"), "8");
        // …-open_lm_7b_swiglutorch-…-mult=2-seed=124-tokens=275576422400.json
        let seven = TrainingScale::by_name("7b_2x").unwrap();
        assert!(seven.model_name("d").ends_with("-bs=2048-mult=2-seed=124-tokens=275576422400"));
        assert_eq!(seven.hyperparameters()["params"], 6_889_410_560u64);
        assert_eq!(seven.hyperparameters()["params_no_embed"], 6_682_841_088u64);
    }

    #[test]
    fn every_scale_maps_back_from_its_architecture() {
        for scale in SCALES.iter().filter(|s| s.chinchilla_multiplier == 1) {
            assert_eq!(TrainingScale::for_config(&scale.config()).map(|s| s.name), Some(scale.name));
        }
        assert!(TrainingScale::for_config(&OpenLmConfig::tiny()).is_none());
        assert!(TrainingScale::by_name("2b_1x").is_none());
    }
}

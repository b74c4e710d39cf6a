//! When a committed shard may be reused: everything that determines its bytes must be unchanged.
//!
//! * [`RunIdentity`] — what a whole run shares: the stage's version, a hash of its configuration, the
//!   contents of every file the configuration refers to, and the `--limit` of a smoke run;
//! * [`InputIdentities`] — what identifies each input's contents: the checksum the upstream stage recorded
//!   in its manifest (so a redone upstream shard that came out identical does not redo this one), else the
//!   object's size and ETag / modification time;
//! * [`check_committed`] — compares a manifest with both and with the data object it describes, and says
//!   why a shard is stale.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::manifest::{InputRecord, Manifest, MANIFEST_DIR};
use super::PhasedStage;
use crate::error::{Error, Result};
use crate::store::{Location, ObjectEntry};

/// What every shard of one run shares.
#[derive(Debug, Clone)]
pub struct RunIdentity {
    pub stage: String,
    pub version: u32,
    /// xxh3-64 of the configuration string, hex.
    pub fingerprint: String,
    /// Each referenced file → xxh3-64 of its contents, hex.
    pub referenced: BTreeMap<String, String>,
    pub limit: Option<u64>,
}

impl RunIdentity {
    /// Hashes the stage's configuration and every file it refers to; a referenced file that cannot be
    /// read is an error naming it.
    pub fn of(stage: &dyn PhasedStage, limit: Option<u64>) -> Result<RunIdentity> {
        let mut referenced = BTreeMap::new();
        for file in stage.referenced_files() {
            let hash = hash_object(&Location::parse(&file)?).map_err(|e| {
                Error::Other(format!("stage '{}' refers to {file}, which cannot be read: {e}", stage.name()))
            })?;
            referenced.insert(file, hash);
        }
        Ok(RunIdentity {
            stage: stage.name().to_string(),
            version: stage.version(),
            fingerprint: format!("{:016x}", xxh3_64(stage.fingerprint().as_bytes())),
            referenced,
            limit,
        })
    }

    /// Why a manifest was made by a different run, or `None` if it matches this one.
    fn mismatch(&self, manifest: &Manifest) -> Option<String> {
        if manifest.version != self.version {
            return Some(format!("made by version {} of the stage, now {}", manifest.version, self.version));
        }
        if manifest.fingerprint != self.fingerprint {
            return Some("the stage configuration changed".into());
        }
        for (file, hash) in &self.referenced {
            if manifest.referenced.get(file) != Some(hash) {
                return Some(format!("{file} changed"));
            }
        }
        if let Some(file) = manifest.referenced.keys().find(|f| !self.referenced.contains_key(*f)) {
            return Some(format!("the configuration no longer refers to {file}"));
        }
        if manifest.limit != self.limit {
            return Some(match manifest.limit {
                Some(n) => format!("made by a smoke run (--limit {n})"),
                None => "this run has a --limit".into(),
            });
        }
        None
    }
}

/// Checksums recorded by the stages that wrote this stage's inputs, by input location.
#[derive(Debug, Default)]
pub struct InputIdentities {
    upstream: HashMap<String, (u64, String)>,
}

impl InputIdentities {
    /// Reads the manifests under each input root that is a stage output (`ROOT/_manifests/*.json`).
    pub fn load(inputs: &[String]) -> Result<InputIdentities> {
        let mut upstream = HashMap::new();
        for input in inputs {
            let root = Location::parse(input)?;
            let manifests = root.join(MANIFEST_DIR);
            for entry in manifests.list_objects()? {
                if !entry.location.file_name().ends_with(".json") {
                    continue;
                }
                let Ok(manifest) = serde_json::from_slice::<Manifest>(&entry.location.read_bytes()?) else {
                    continue; // an unreadable upstream manifest: fall back to size and version
                };
                for output in manifest.outputs {
                    upstream.insert(root.join(&output.name).to_string(), (output.bytes, output.xxh3));
                }
            }
        }
        Ok(InputIdentities { upstream })
    }

    /// The identity of one input object.
    pub fn of(&self, entry: &ObjectEntry) -> String {
        match self.upstream.get(&entry.location.to_string()) {
            Some((bytes, xxh3)) if *bytes == entry.size => format!("xxh3:{xxh3}"),
            _ => format!("size:{};{}", entry.size, entry.version),
        }
    }
}

/// Whether a shard is committed and still valid.
#[derive(Debug, Clone, PartialEq)]
pub enum ShardState {
    /// Committed by an identical run: reuse it.
    Committed(Box<Manifest>),
    /// Never committed.
    Pending,
    /// Committed, but something changed (the reason).
    Stale(String),
}

/// Checks the commit record at `manifest` against this run, the task's phase and inputs, and the
/// artifacts it lists under `phase_root`. With `verify`, the artifacts' checksums are recomputed too (a
/// full read).
pub fn check_committed(
    manifest: &Location,
    phase_root: &Location,
    run: &RunIdentity,
    phase: &str,
    inputs: &[InputRecord],
    verify: bool,
) -> Result<ShardState> {
    if !manifest.exists()? {
        return Ok(ShardState::Pending);
    }
    let Ok(parsed) = serde_json::from_slice::<Manifest>(&manifest.read_bytes()?) else {
        return Ok(ShardState::Stale("its manifest is unreadable (or from an older sluice)".into()));
    };
    if let Some(reason) = run.mismatch(&parsed) {
        return Ok(ShardState::Stale(reason));
    }
    if parsed.phase != phase {
        return Ok(ShardState::Stale(format!("made by phase '{}'", parsed.phase)));
    }
    let identities = |records: &[InputRecord]| records.iter().map(|r| r.identity.clone()).collect::<Vec<_>>();
    if identities(&parsed.inputs) != identities(inputs) {
        return Ok(ShardState::Stale("its input changed".into()));
    }
    for output in &parsed.outputs {
        let data = phase_root.join(&output.name);
        let Some(entry) = data.head()? else {
            return Ok(ShardState::Stale(format!("its output {} is missing", output.name)));
        };
        if entry.size != output.bytes {
            return Ok(ShardState::Stale(format!(
                "its output {} is {} bytes, the manifest says {} (truncated or overwritten)",
                output.name, entry.size, output.bytes
            )));
        }
        if verify {
            let actual = hash_object(&data)?;
            if actual != output.xxh3 {
                return Ok(ShardState::Stale(format!(
                    "its output {}'s xxh3 is {actual}, the manifest says {}",
                    output.name, output.xxh3
                )));
            }
        }
    }
    Ok(ShardState::Committed(Box::new(parsed)))
}

/// xxh3-64 (hex) of an object's contents, streamed.
pub fn hash_object(location: &Location) -> Result<String> {
    let mut reader = location.open_read()?;
    Ok(hash_reader(&mut reader, &location.to_string())?.1)
}

/// Size and xxh3-64 (hex) of everything `reader` yields.
pub fn hash_reader(reader: &mut dyn Read, name: &str) -> Result<(u64, String)> {
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| Error::io(name, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, format!("{:016x}", hasher.digest())))
}

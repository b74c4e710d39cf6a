//! One URL syntax for every place sluice reads and writes, over `object_store`.
//!
//! | written as | store |
//! |---|---|
//! | `out/shards`, `/data/x`, `file:///data/x` | local disk |
//! | `s3://bucket/prefix` | Amazon S3 or any S3 API (`AWS_*` environment: `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, keys, region) |
//! | `gs://bucket/prefix` | Google Cloud Storage (`GOOGLE_*` environment) |
//! | `az://container/prefix` | Azure Blob Storage (`AZURE_*` environment) |
//! | `memory://name/prefix` | an in-process store shared by all locations with the same `name` (tests) |
//!
//! [`Location`] offers a small synchronous API (list, streaming read, put, rename, delete) so that CPU-bound
//! stages running on rayon threads can use any store. Local paths bypass the async machinery entirely.

mod runtime;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::{Error, Result};

pub use runtime::{block_on, handle};

/// A place in a store: an object, or a prefix ("directory") holding objects.
#[derive(Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    /// The key inside the store (no leading slash).
    path: ObjectPath,
    /// `scheme://authority` of the store, for display (`""` for local disk).
    root: String,
    /// Set for local-disk locations: the absolute filesystem path.
    local: Option<PathBuf>,
}

/// An object found by [`Location::list_objects`].
#[derive(Clone)]
pub struct ObjectEntry {
    pub location: Location,
    pub size: u64,
    /// What identifies this version of the object besides its size: the store's ETag, else its
    /// modification time (nanoseconds since the epoch on local disk). Empty when the store gives neither.
    pub version: String,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({self})")
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.local {
            Some(path) => write!(f, "{}", path.display()),
            None => write!(f, "{}/{}", self.root, self.path),
        }
    }
}

impl Location {
    /// Parses a path or URL (see the module docs for the forms accepted).
    pub fn parse(input: &str) -> Result<Location> {
        let bad = |reason: String| Error::Location { location: input.to_string(), reason };
        if input.trim().is_empty() {
            return Err(bad("empty location".into()));
        }
        let Some((scheme, rest)) = input.split_once("://") else {
            return Location::local(FsPath::new(input));
        };
        if scheme == "file" {
            return Location::local(FsPath::new(rest));
        }
        let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() {
            return Err(bad(format!("missing bucket or container name after '{scheme}://'")));
        }
        let store = cached_store(scheme, authority).map_err(&bad)?;
        let path = ObjectPath::parse(key.trim_end_matches('/')).map_err(|e| bad(e.to_string()))?;
        Ok(Location { store, path, root: format!("{scheme}://{authority}"), local: None })
    }

    fn local(path: &FsPath) -> Result<Location> {
        let absolute = std::path::absolute(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        let absolute = normalize(&absolute);
        let path = ObjectPath::from_absolute_path(&absolute)
            .map_err(|e| Error::Location { location: absolute.display().to_string(), reason: e.to_string() })?;
        static LOCAL: OnceLock<Arc<dyn ObjectStore>> = OnceLock::new();
        let store = LOCAL.get_or_init(|| Arc::new(object_store::local::LocalFileSystem::new())).clone();
        Ok(Location { store, path, root: String::new(), local: Some(absolute) })
    }

    /// The location of `name` under this prefix (`name` may contain `/`).
    pub fn join(&self, name: &str) -> Location {
        let mut path = self.path.clone();
        for part in name.split('/').filter(|p| !p.is_empty()) {
            path = path.join(part);
        }
        let local =
            self.local.as_ref().map(|l| name.split('/').filter(|p| !p.is_empty()).fold(l.clone(), |p, c| p.join(c)));
        Location { store: self.store.clone(), path, root: self.root.clone(), local }
    }

    /// The last path component (file name).
    pub fn file_name(&self) -> &str {
        self.path.filename().unwrap_or("")
    }

    /// The path of `self` relative to the prefix `base`, or the file name if `self` is not under `base`.
    pub fn relative_to(&self, base: &Location) -> String {
        match self.path.prefix_match(&base.path) {
            Some(parts) => {
                let rel: Vec<String> = parts.map(|p| p.as_ref().to_string()).collect();
                if rel.is_empty() {
                    self.file_name().to_string()
                } else {
                    rel.join("/")
                }
            }
            None => self.file_name().to_string(),
        }
    }

    /// The filesystem path, for local-disk locations.
    pub fn local_path(&self) -> Option<&FsPath> {
        self.local.as_deref()
    }

    /// Lists the objects at this location: the object itself if it is one, else every object under the
    /// prefix (recursively), sorted by key so that every worker sees the same order.
    pub fn list_objects(&self) -> Result<Vec<ObjectEntry>> {
        if let Some(path) = &self.local {
            return list_local(self, path);
        }
        if let Ok(meta) = block_on(self.store.head(&self.path)) {
            return Ok(vec![ObjectEntry { location: self.clone(), size: meta.size, version: object_version(&meta) }]);
        }
        let prefix = if self.path.as_ref().is_empty() { None } else { Some(&self.path) };
        let metas: Vec<_> =
            block_on(self.store.list(prefix).try_collect::<Vec<_>>()).map_err(|e| Error::store(self.to_string(), e))?;
        let mut entries: Vec<ObjectEntry> = metas
            .into_iter()
            .map(|m| ObjectEntry {
                version: object_version(&m),
                location: Location {
                    store: self.store.clone(),
                    path: m.location,
                    root: self.root.clone(),
                    local: None,
                },
                size: m.size,
            })
            .collect();
        entries.sort_by(|a, b| a.location.path.as_ref().cmp(b.location.path.as_ref()));
        Ok(entries)
    }

    /// Whether an object exists here.
    pub fn exists(&self) -> Result<bool> {
        if let Some(path) = &self.local {
            return Ok(path.is_file());
        }
        match block_on(self.store.head(&self.path)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(Error::store(self.to_string(), e)),
        }
    }

    /// The object here with its size and version, or `None` if there is none.
    pub fn head(&self) -> Result<Option<ObjectEntry>> {
        if let Some(path) = &self.local {
            return match std::fs::metadata(path) {
                Ok(meta) if meta.is_file() => {
                    Ok(Some(ObjectEntry { location: self.clone(), size: meta.len(), version: local_version(&meta) }))
                }
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(self.to_string(), e)),
            };
        }
        match block_on(self.store.head(&self.path)) {
            Ok(meta) => {
                Ok(Some(ObjectEntry { location: self.clone(), size: meta.size, version: object_version(&meta) }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::store(self.to_string(), e)),
        }
    }

    /// Writes a whole object only if none exists (an atomic create on stores that support conditional
    /// writes). `Ok(false)` when one was already there.
    pub fn put_if_absent(&self, bytes: impl Into<Bytes>) -> Result<bool> {
        if let Some(target) = &self.local {
            use std::io::Write;
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display().to_string(), e))?;
            }
            let created = std::fs::OpenOptions::new().write(true).create_new(true).open(target);
            return match created {
                Ok(mut file) => {
                    file.write_all(&bytes.into())
                        .and_then(|_| file.sync_all())
                        .map_err(|e| Error::io(self.to_string(), e))?;
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(Error::io(self.to_string(), e)),
            };
        }
        let options = object_store::PutOptions { mode: object_store::PutMode::Create, ..Default::default() };
        match block_on(self.store.put_opts(&self.path, PutPayload::from(bytes.into()), options)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) | Err(object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(Error::store(self.to_string(), e)),
        }
    }

    /// Opens the object for streaming reads (memory stays bounded whatever the object's size).
    pub fn open_read(&self) -> Result<Box<dyn Read + Send>> {
        if let Some(path) = &self.local {
            let file = std::fs::File::open(path).map_err(|e| Error::io(self.to_string(), e))?;
            return Ok(Box::new(file));
        }
        let result = block_on(self.store.get(&self.path)).map_err(|e| Error::store(self.to_string(), e))?;
        let stream = result.into_stream().map_err(std::io::Error::other);
        let reader = tokio_util::io::StreamReader::new(stream);
        Ok(Box::new(tokio_util::io::SyncIoBridge::new_with_handle(reader, handle())))
    }

    /// Reads the whole object into memory (for small objects: manifests, models, recipes).
    pub fn read_bytes(&self) -> Result<Bytes> {
        if let Some(path) = &self.local {
            return std::fs::read(path).map(Bytes::from).map_err(|e| Error::io(self.to_string(), e));
        }
        block_on(async { self.store.get(&self.path).await?.bytes().await })
            .map_err(|e| Error::store(self.to_string(), e))
    }

    /// Writes a whole object at once (atomic on every store: readers see the old or the new object).
    pub fn put_bytes(&self, bytes: impl Into<Bytes>) -> Result<()> {
        if let Some(target) = &self.local {
            return write_local_atomically(target, &bytes.into()).map_err(|e| Error::io(self.to_string(), e));
        }
        block_on(self.store.put(&self.path, PutPayload::from(bytes.into())))
            .map(|_| ())
            .map_err(|e| Error::store(self.to_string(), e))
    }

    /// Uploads a local file to this location, streaming it (multipart for large files). Readers see the
    /// old object or the whole new one, never a partial file.
    pub fn put_file(&self, file: &FsPath) -> Result<()> {
        if let Some(target) = &self.local {
            return copy_local_atomically(file, target).map_err(|e| Error::io(self.to_string(), e));
        }
        let mut source = std::fs::File::open(file).map_err(|e| Error::io(file.display().to_string(), e))?;
        let mut writer =
            object_store::buffered::BufWriter::with_capacity(self.store.clone(), self.path.clone(), 8 << 20);
        let mut chunk = vec![0u8; 4 << 20];
        let outcome: std::io::Result<()> = block_on(async {
            use tokio::io::AsyncWriteExt;
            loop {
                let n = source.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                writer.write_all(&chunk[..n]).await?;
            }
            writer.shutdown().await
        });
        outcome.map_err(|e| Error::io(self.to_string(), e))
    }

    /// Moves this object to `target` (same store). Atomic on local disk; copy + delete on object stores,
    /// where the copy itself appears atomically.
    pub fn rename_to(&self, target: &Location) -> Result<()> {
        if let (Some(from), Some(to)) = (&self.local, &target.local) {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display().to_string(), e))?;
            }
            return std::fs::rename(from, to).map_err(|e| Error::io(target.to_string(), e));
        }
        block_on(self.store.rename(&self.path, &target.path)).map_err(|e| Error::store(target.to_string(), e))
    }

    /// Deletes the object; a missing object is not an error.
    pub fn delete(&self) -> Result<()> {
        if let Some(path) = &self.local {
            return match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(self.to_string(), e)),
                _ => Ok(()),
            };
        }
        match block_on(self.store.delete(&self.path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::store(self.to_string(), e)),
        }
    }

    /// The underlying store and key, for readers that need the async API (Parquet).
    pub fn object_store(&self) -> (Arc<dyn ObjectStore>, ObjectPath) {
        (self.store.clone(), self.path.clone())
    }
}

/// Prefix of the temporary files behind local atomic writes; a killed process may leave them behind, and
/// the stage runner removes them (see [`is_local_temporary`]).
const LOCAL_TMP_PREFIX: &str = ".sluice-tmp-";

/// Whether a file name is a temporary left by an interrupted local write.
pub fn is_local_temporary(file_name: &str) -> bool {
    file_name.starts_with(LOCAL_TMP_PREFIX)
}

/// Writes `bytes` to a temporary file beside `target`, then renames it into place (durably: see
/// [`persist_durably`]).
fn write_local_atomically(target: &FsPath, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let parent = target.parent().unwrap_or(FsPath::new("/"));
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile::Builder::new().prefix(LOCAL_TMP_PREFIX).tempfile_in(parent)?;
    tmp.write_all(bytes)?;
    persist_durably(tmp, target)
}

/// Copies `source` to a temporary file beside `target`, then renames it into place (durably).
fn copy_local_atomically(source: &FsPath, target: &FsPath) -> std::io::Result<()> {
    let parent = target.parent().unwrap_or(FsPath::new("/"));
    std::fs::create_dir_all(parent)?;
    let tmp = tempfile::Builder::new().prefix(LOCAL_TMP_PREFIX).tempfile_in(parent)?;
    std::fs::copy(source, tmp.path())?;
    persist_durably(tmp, target)
}

/// Moves a written temporary file to `target` so that a power loss leaves the old file or the whole new
/// one: the data is flushed to disk before the rename, and the directory after it (without the first, a
/// crash can commit an empty file; without the second, the rename itself can be lost).
pub fn persist_durably(tmp: tempfile::NamedTempFile, target: &FsPath) -> std::io::Result<()> {
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    sync_directory(target.parent().unwrap_or(FsPath::new("/")))
}

/// Flushes a directory's entries (a rename or a new file in it) to disk.
pub fn sync_directory(dir: &FsPath) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Removes temporaries of interrupted local atomic writes in `dir` (not recursive) that are older than
/// `min_age`: a younger one may belong to a write in progress in another process.
pub fn remove_local_temporaries(dir: &FsPath, min_age: std::time::Duration) -> usize {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if !is_local_temporary(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let old_enough = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= min_age);
        if old_enough && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Resolves `.` and `..` lexically (`/a/b/../c` → `/a/c`): object_store paths may not contain them.
fn normalize(path: &FsPath) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn list_local(location: &Location, path: &FsPath) -> Result<Vec<ObjectEntry>> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // Nothing is under a path that does not exist, or under a file (`file.parquet/_manifests`).
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(Error::io(location.to_string(), e)),
    };
    if meta.is_file() {
        return Ok(vec![ObjectEntry { location: location.clone(), size: meta.len(), version: local_version(&meta) }]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir.display().to_string(), e))?;
            let file_type = entry.file_type().map_err(|e| Error::io(entry.path().display().to_string(), e))?;
            let entry_path = entry.path();
            if file_type.is_dir() {
                stack.push(entry_path);
            } else if file_type.is_file() || file_type.is_symlink() {
                // A dangling symlink is listed with size 0; reading it then fails with a clear error.
                let meta = std::fs::metadata(&entry_path).ok();
                let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
                let version = meta.as_ref().map(local_version).unwrap_or_default();
                files.push((entry_path, size, version));
            }
        }
    }
    let mut entries = Vec::with_capacity(files.len());
    for (file, size, version) in files {
        let rel = file.strip_prefix(path).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        entries.push(ObjectEntry { location: location.join(&rel), size, version });
    }
    entries.sort_by(|a, b| a.location.path.as_ref().cmp(b.location.path.as_ref()));
    Ok(entries)
}

/// A local file's version: its modification time in nanoseconds.
fn local_version(meta: &std::fs::Metadata) -> String {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| format!("mtime:{}", d.as_nanos()))
        .unwrap_or_default()
}

/// An object's version on a remote store: its ETag (or object version), else its modification time.
fn object_version(meta: &object_store::ObjectMeta) -> String {
    match (&meta.e_tag, &meta.version) {
        (Some(etag), _) => format!("etag:{etag}"),
        (None, Some(version)) => format!("version:{version}"),
        (None, None) => format!("mtime:{}", meta.last_modified.timestamp_nanos_opt().unwrap_or_default()),
    }
}

/// One store per `scheme://authority`, so that `memory://x` is the same store wherever it is named.
fn cached_store(scheme: &str, authority: &str) -> std::result::Result<Arc<dyn ObjectStore>, String> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let key = format!("{scheme}://{authority}");
    let mut stores = STORES.get_or_init(Default::default).lock().map_err(|_| "store registry poisoned".to_string())?;
    if let Some(store) = stores.get(&key) {
        return Ok(store.clone());
    }
    let store: Arc<dyn ObjectStore> = match scheme {
        "memory" => Arc::new(object_store::memory::InMemory::new()),
        "s3" | "s3a" => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(authority)
                .build()
                .map_err(|e| e.to_string())?,
        ),
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(authority)
                .build()
                .map_err(|e| e.to_string())?,
        ),
        "az" | "azure" | "abfs" | "abfss" => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_container_name(authority)
                .build()
                .map_err(|e| e.to_string())?,
        ),
        other => {
            return Err(format!("unsupported scheme '{other}' (use a path, file://, s3://, gs://, az:// or memory://)"))
        }
    };
    stores.insert(key, store.clone());
    Ok(store)
}

/// Names sluice gives its own bookkeeping under a stage's output; a stage reading that output as its
/// input never takes them for data.
pub const BOOKKEEPING_NAMES: [&str; 6] = ["_manifests", "_work", "_tmp", "_locks", "_stats", "_plan.json"];

/// Whether `relative` (a path under an input root) is sluice's own bookkeeping: a manifest, a stats file,
/// a phase's intermediates, a lock, or the temporary of an interrupted atomic write.
pub fn is_bookkeeping(relative: &str) -> bool {
    relative
        .split('/')
        .any(|part| BOOKKEEPING_NAMES.contains(&part) || part.starts_with("_stats") || is_local_temporary(part))
}

/// The inputs of a stage: every object under each input that the stage accepts, sorted and
/// de-duplicated, each with its path relative to the input it was found under; and what was left out.
#[derive(Debug, Default)]
pub struct InputListing {
    pub accepted: Vec<(ObjectEntry, String)>,
    /// Objects the stage does not take (another file type), by location: reported, never silently lost.
    pub skipped: Vec<String>,
}

impl std::fmt::Debug for ObjectEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes)", self.location, self.size)
    }
}

/// Lists every object under each of `inputs` (paths or URLs), keeping those `accept` likes. sluice's own
/// bookkeeping (see [`is_bookkeeping`]) is left out silently; every other object `accept` refuses is
/// listed in [`InputListing::skipped`]. An input under which nothing is accepted is an error.
pub fn list_stage_inputs(inputs: &[String], accept: impl Fn(&str) -> bool) -> Result<InputListing> {
    let mut listing = InputListing::default();
    for input in inputs {
        let base = Location::parse(input)?;
        let entries = base.list_objects()?;
        let mut found = false;
        for entry in entries {
            let rel = entry.location.relative_to(&base);
            if is_bookkeeping(&rel) {
                continue;
            }
            if accept(&rel) {
                found = true;
                listing.accepted.push((entry, rel));
            } else {
                listing.skipped.push(entry.location.to_string());
            }
        }
        if !found {
            return Err(Error::NoInput(input.clone()));
        }
    }
    listing.accepted.sort_by_key(|a| a.0.location.to_string());
    listing.accepted.dedup_by(|a, b| a.0.location.to_string() == b.0.location.to_string());
    listing.skipped.sort();
    listing.skipped.dedup();
    Ok(listing)
}

/// [`list_stage_inputs`] without the list of what was left out (for commands that read documents).
pub fn list_inputs(inputs: &[String], accept: impl Fn(&str) -> bool) -> Result<Vec<(ObjectEntry, String)>> {
    let listing = list_stage_inputs(inputs, accept)?;
    for skipped in &listing.skipped {
        tracing::warn!("{skipped}: not a file this command reads; skipped");
    }
    Ok(listing.accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_local_locations_behave_the_same() {
        let dir = tempfile::tempdir().unwrap();
        for root in [format!("memory://unit-{}", std::process::id()), dir.path().display().to_string()] {
            let base = Location::parse(&root).unwrap();
            base.join("b/two.txt").put_bytes(&b"2"[..]).unwrap();
            base.join("a/one.txt").put_bytes(&b"one"[..]).unwrap();
            let listed: Vec<(String, u64)> =
                base.list_objects().unwrap().iter().map(|e| (e.location.relative_to(&base), e.size)).collect();
            assert_eq!(listed, vec![("a/one.txt".to_string(), 3), ("b/two.txt".to_string(), 1)], "{root}");
            let mut text = String::new();
            base.join("a/one.txt").open_read().unwrap().read_to_string(&mut text).unwrap();
            assert_eq!(text, "one");
            base.join("a/one.txt").rename_to(&base.join("c/three.txt")).unwrap();
            assert!(!base.join("a/one.txt").exists().unwrap());
            assert_eq!(&base.join("c/three.txt").read_bytes().unwrap()[..], b"one");
            base.join("c/three.txt").delete().unwrap();
            base.join("c/three.txt").delete().unwrap(); // deleting twice is fine
        }
    }

    #[test]
    fn local_paths_are_normalised() {
        let location = Location::parse("/tmp/a/../b/./c.txt").unwrap();
        assert_eq!(location.local_path().unwrap(), FsPath::new("/tmp/b/c.txt"));
    }

    #[test]
    fn bad_locations_say_why() {
        let err = Location::parse("s3:///key").unwrap_err().to_string();
        assert!(err.contains("missing bucket"), "{err}");
        let err = Location::parse("ftp://host/x").unwrap_err().to_string();
        assert!(err.contains("unsupported scheme"), "{err}");
    }
}

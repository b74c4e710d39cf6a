//! One writer per worker slot: a second process started on the same output with the same `--shard i/N`
//! (a user's double start, a retried pod whose first attempt still runs) is refused with a clear message
//! instead of deleting the first one's temporaries and committing over its shards.
//!
//! * Local disk: an exclusive `flock` on `_locks/<slot>.lock`. The kernel releases it when the process
//!   dies, so a killed run never leaves a stale lock behind.
//! * Object stores, which have no locks: a lease object `_locks/<slot>.lease` created with a conditional
//!   write (create-if-absent), renewed by a background thread, deleted at the end. A lease whose holder
//!   died expires after [`LEASE_SECONDS`]; a new writer then takes it over.
//!
//! Different slots (`0/4` and `1/4`) write disjoint shards and do not exclude each other.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::manifest::LOCK_DIR;
use crate::error::{Error, Result};
use crate::store::Location;

/// How long a lease lasts without renewal.
pub const LEASE_SECONDS: u64 = 120;

/// Who holds a lock (written into the lock file or lease object, shown to a refused writer).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    host: String,
    /// Unix seconds when the lease runs out (leases only).
    #[serde(default)]
    expires: u64,
    /// Distinguishes two holders with the same pid on different machines.
    token: String,
}

impl Holder {
    fn me(expires: u64) -> Holder {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        Holder { pid: std::process::id(), host: host_name(), expires, token: format!("{}-{nanos}", std::process::id()) }
    }

    fn describe(&self) -> String {
        format!("process {} on {}", self.pid, self.host)
    }
}

/// A held lock; released when dropped.
pub struct WriterLock {
    _inner: Inner,
}

/// Held only to be dropped: closing the file releases the flock, dropping the lease deletes it.
enum Inner {
    Local(#[allow(dead_code)] std::fs::File),
    Lease(#[allow(dead_code)] Lease),
}

struct Lease {
    location: Location,
    stop: Arc<AtomicBool>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.renewer.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
        let _ = self.location.delete();
    }
}

impl WriterLock {
    /// Takes the lock of worker slot `slot` (e.g. `shard-0-of-1`) on the stage output `output`, or fails
    /// with [`Error::Locked`] naming the holder.
    pub fn acquire(output: &Location, slot: &str) -> Result<WriterLock> {
        let inner = match output.local_path() {
            Some(dir) => Inner::Local(lock_local(output, &dir.join(LOCK_DIR).join(format!("{slot}.lock")))?),
            None => Inner::Lease(take_lease(output, &output.join(&format!("{LOCK_DIR}/{slot}.lease")))?),
        };
        Ok(WriterLock { _inner: inner })
    }
}

fn lock_local(output: &Location, path: &std::path::Path) -> Result<std::fs::File> {
    use std::io::{Seek, Write};
    use std::os::unix::io::AsRawFd;
    let dir = path.parent().unwrap_or(path);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(path.display().to_string(), e))?;
    // SAFETY: flock on a file descriptor we own; it is released when the file is closed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let holder = std::fs::read(path).ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok());
        return Err(Error::Locked {
            output: output.to_string(),
            holder: holder.map(|h| h.describe()).unwrap_or_else(|| "another process".into()),
        });
    }
    let me = serde_json::to_vec(&Holder::me(0)).map_err(|e| Error::Other(e.to_string()))?;
    file.set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| file.write_all(&me))
        .map_err(|e| Error::io(path.display().to_string(), e))?;
    Ok(file)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn encode(holder: &Holder) -> Result<Vec<u8>> {
    serde_json::to_vec(holder).map_err(|e| Error::Other(e.to_string()))
}

fn take_lease(output: &Location, location: &Location) -> Result<Lease> {
    let me = Holder::me(now() + LEASE_SECONDS);
    // Two attempts: the second after removing a lease that expired (its holder died).
    for _ in 0..2 {
        if location.put_if_absent(encode(&me)?)? {
            return Ok(start_renewing(location.clone(), me));
        }
        let current = location.read_bytes().ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok());
        match current {
            Some(holder) if holder.expires > now() => {
                return Err(Error::Locked {
                    output: output.to_string(),
                    holder: format!("{} (lease until unix time {})", holder.describe(), holder.expires),
                })
            }
            _ => {
                tracing::warn!("{location}: taking over an expired lease");
                location.delete()?;
            }
        }
    }
    Err(Error::Locked { output: output.to_string(), holder: "another process (lease contended)".into() })
}

fn start_renewing(location: Location, mut me: Holder) -> Lease {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let target = location.clone();
    let renewer = std::thread::Builder::new()
        .name("sluice-lease".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::park_timeout(Duration::from_secs(LEASE_SECONDS / 4));
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                me.expires = now() + LEASE_SECONDS;
                if let Ok(bytes) = encode(&me) {
                    if let Err(e) = target.put_bytes(bytes) {
                        tracing::warn!("{target}: cannot renew the writer lease: {e}");
                    }
                }
            }
        })
        .ok();
    Lease { location, stop, renewer }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()))
        .unwrap_or_else(|| "this machine".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_of_the_same_slot_is_refused_until_the_first_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let memory = format!("memory://lock-test-{}", std::process::id());
        for root in [dir.path().display().to_string(), memory] {
            let output = Location::parse(&root).unwrap();
            let first = WriterLock::acquire(&output, "shard-0-of-1").unwrap();
            let err = WriterLock::acquire(&output, "shard-0-of-1").err().expect("second writer refused").to_string();
            assert!(err.contains("another sluice process") && err.contains(&std::process::id().to_string()), "{err}");
            let other_slot = WriterLock::acquire(&output, "shard-1-of-2").unwrap();
            drop(first);
            drop(other_slot);
            WriterLock::acquire(&output, "shard-0-of-1").unwrap();
        }
    }

    #[test]
    fn an_expired_lease_is_taken_over() {
        let output = Location::parse(&format!("memory://lease-test-{}", std::process::id())).unwrap();
        let stale = Holder { pid: 1, host: "gone".into(), expires: now() - 1, token: "x".into() };
        output.join("_locks/shard-0-of-1.lease").put_bytes(encode(&stale).unwrap()).unwrap();
        WriterLock::acquire(&output, "shard-0-of-1").unwrap();
    }
}

//! The process-wide tokio runtime that drives `object_store`'s async API.
//!
//! Stages are CPU-bound and run on rayon threads; they reach the object store through the synchronous
//! façade in [`super::Location`], which blocks on this runtime. Two worker threads are plenty for I/O.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Handle, Runtime};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sluice-io")
            .enable_all()
            .build()
            .expect("cannot start the I/O runtime (out of threads?)")
    })
}

/// A handle to the I/O runtime (for bridges such as `SyncIoBridge`).
pub fn handle() -> Handle {
    runtime().handle().clone()
}

/// Runs a future to completion on the I/O runtime. Must not be called from inside the runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

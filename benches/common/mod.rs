//! Helpers shared by the bench binaries.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Thread CPU seconds (robust to other load on the machine).
pub fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes only into `t`.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// `prepare DIR` / `report DIR` from the command line (`cargo bench` adds `--bench`, which is dropped).
pub fn command(bench: &str) -> (String, PathBuf) {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.as_slice() {
        [cmd, dir] if cmd == "prepare" || cmd == "report" => (cmd.clone(), PathBuf::from(dir)),
        _ => {
            eprintln!("usage: {bench} (prepare|report) DIR   (run through `make bench-{bench}`)");
            std::process::exit(2);
        }
    }
}

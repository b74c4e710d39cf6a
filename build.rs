//! Puts the git commit into `sluice --version` (e.g. `0.1.0 (a1b2c3d)`, `+dirty` with local changes), so a
//! result can be traced to the code that made it. Outside a git checkout the version stands alone.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let full = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            format!("{version} ({commit}{})", if dirty { "+dirty" } else { "" })
        }
        None => version.to_string(),
    };
    println!("cargo:rustc-env=SLUICE_VERSION={full}");
    let mut watched = vec![".git/HEAD".to_string(), ".git/index".to_string(), ".git/packed-refs".to_string()];
    if let Some(reference) =
        std::fs::read_to_string(".git/HEAD").ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
    {
        watched.push(format!(".git/{reference}"));
    }
    for path in watched {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

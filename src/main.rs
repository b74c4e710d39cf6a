//! `sluice` — Common Crawl to LLM pretraining data, DCLM-style.
//!
//! The binary is thin glue: argument parsing ([`cli`]), recipe loading and execution ([`recipe`]),
//! progress bars ([`progress`]) and the `inspect` command ([`inspect`]). All data work lives in the
//! library crates (`sluice-core`, `sluice-ingest`, …).

mod cli;
mod clusters;
mod dedup;
mod eval;
mod eval_run;
mod inspect;
mod plan;
mod progress;
mod quality;
mod recipe;
mod sql;
mod stats;
mod steps;
mod submission;
mod summary;
mod tokenize;

use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when the reader of stdout goes away (`sluice steps | head`).
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    if let Err(error) = cli::run(cli) {
        // One line for the reason, then the chain of causes, if any.
        eprintln!("sluice: error: {error}");
        for cause in error.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(exit_code(&error));
    }
}

/// Exit codes a script or a scheduler can act on (also in `--help`):
/// 1 an error before or outside the shards (I/O, a store, a model that does not load);
/// 2 a usage or recipe error (nothing was run; clap uses 2 for bad arguments too);
/// 3 some shards failed (the others are committed: rerun to retry the failed ones);
/// 4 every shard failed; 5 another process is writing the same output.
fn exit_code(error: &anyhow::Error) -> i32 {
    use sluice_core::Error;
    for cause in error.chain() {
        match cause.downcast_ref::<Error>() {
            Some(Error::Recipe { .. } | Error::ShardSpec(_) | Error::Location { .. }) => return 2,
            Some(Error::ShardsFailed { failed, total, .. }) => return if failed == total { 4 } else { 3 },
            Some(Error::Locked { .. }) => return 5,
            _ => {}
        }
    }
    1
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

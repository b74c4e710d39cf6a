//! `sluice` — Common Crawl to LLM pretraining data, DCLM-style.
//!
//! The binary is thin glue: argument parsing ([`cli`]), recipe loading and execution ([`recipe`]),
//! progress bars ([`progress`]) and the `inspect` command ([`inspect`]). All data work lives in the
//! library crates (`sluice-core`, `sluice-ingest`, …).

mod cli;
mod inspect;
mod progress;
mod quality;
mod recipe;
mod summary;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    if let Err(error) = cli::run(cli) {
        // One line for the reason, then the chain of causes, if any.
        eprintln!("sluice: error: {error}");
        for cause in error.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
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

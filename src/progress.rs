//! Progress bars for long runs (hidden with --quiet or when stderr is not a terminal).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sluice_core::runner::Progress;

/// One bar per stage run: bytes read, with shard counts in the message.
pub struct BarProgress {
    bar: ProgressBar,
    shards: Mutex<(usize, usize, usize)>, // (done, resumed, total)
}

impl BarProgress {
    pub fn new(quiet: bool) -> Self {
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        BarProgress { bar, shards: Mutex::new((0, 0, 0)) }
    }

    fn update_message(&self) {
        if let Ok(shards) = self.shards.lock() {
            let (done, resumed, total) = *shards;
            self.bar.set_message(format!("shards {done}/{total} ({resumed} resumed)"));
        }
    }
}

impl Progress for BarProgress {
    fn start(&self, stage: &str, shards: usize, bytes: u64) {
        self.bar.set_prefix(stage.to_string());
        self.bar.set_length(bytes);
        self.bar.set_position(0);
        if let Ok(mut counts) = self.shards.lock() {
            *counts = (0, 0, shards);
        }
        self.update_message();
    }

    fn bytes_read(&self, n: u64) {
        self.bar.inc(n);
    }

    fn shard_done(&self, _key: &str, resumed: bool) {
        if let Ok(mut counts) = self.shards.lock() {
            counts.0 += 1;
            counts.1 += resumed as usize;
        }
        self.update_message();
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

//! The human-readable summary printed after each stage.

use sluice_core::runner::StageReport;

/// Prints what a stage did, in a few lines, to stdout.
pub fn print_stage_summary(report: &StageReport) {
    let s = &report.stats;
    let t = &s.totals;
    println!(
        "{}: {} shards ({} processed, {} resumed) — {} docs in, {} docs out, {} dropped — {:.1} s wall, {:.1} s CPU",
        s.stage,
        s.shards,
        s.shards_processed,
        s.shards_resumed,
        t.docs_in,
        t.docs_out,
        t.dropped(),
        s.wall_seconds,
        s.cpu_seconds
    );
    if !t.drops.is_empty() {
        println!("  drops:  {}", join_counts(&t.drops));
    }
    if !t.errors.is_empty() {
        println!("  errors: {}", join_counts(&t.errors));
    }
    println!("  output: {}", report.output);
    println!("  stats:  {}", report.stats_location);
}

fn join_counts(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let mut pairs: Vec<_> = counts.iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    pairs.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

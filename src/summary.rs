//! The human-readable summary printed after each stage.

use sluice_core::runner::StageReport;

/// Prints what a stage did: a few lines, or with `json` its statistics as one JSON line.
pub fn print_stage_report(report: &StageReport, json: bool) {
    if json {
        let line = serde_json::json!({
            "output": report.output,
            "stats_location": report.stats_location,
            "stats": report.stats,
        });
        println!("{line}");
    } else {
        print_stage_summary(report);
    }
}

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
    if s.inputs_skipped > 0 {
        println!("  inputs: {} skipped (not files this stage reads; listed in the log with -v)", s.inputs_skipped);
    }
    if s.outputs_pruned > 0 {
        println!("  pruned: {} outputs whose input is gone", s.outputs_pruned);
    }
    println!("  output: {}", report.output);
    println!("  stats:  {}", report.stats_location);
}

pub fn join_counts(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let mut pairs: Vec<_> = counts.iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    pairs.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

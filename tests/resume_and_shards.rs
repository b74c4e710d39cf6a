//! A killed job resumes to byte-identical output; `--shard i/N` workers together equal one process; the
//! thread count does not change a byte.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn ingest(input: &Path, output: &Path, extra: &[&str]) {
    let mut args = vec!["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap()];
    args.extend_from_slice(extra);
    sluice_ok(&args);
}

/// Committed shards: finished manifests (not the temporaries of a write in progress).
fn committed(output: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(output.join("_manifests")) else { return 0 };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.ends_with(".json") && !name.starts_with('.')
        })
        .count()
}

#[test]
fn a_job_killed_mid_run_resumes_to_byte_identical_output() {
    let input = demo_warc();
    let work = tempfile::tempdir().unwrap();
    let reference = work.path().join("reference");
    ingest(&input, &reference, &["--threads", "1"]);
    let total = committed(&reference);
    assert_eq!(total, 8);

    // Kill with SIGKILL once some, but not all, shards are committed. Timing varies, so try a few times.
    let mut killed_mid_run = false;
    for attempt in 0..5 {
        let output = work.path().join(format!("killed{attempt}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "ingest",
                input.to_str().unwrap(),
                "--output",
                output.to_str().unwrap(),
                "--threads",
                "1",
                "--quiet",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while committed(&output) == 0 && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let at_kill = committed(&output);
        if at_kill == 0 || at_kill == total {
            continue;
        }
        killed_mid_run = true;
        let rerun =
            sluice_ok(&["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap(), "--threads", "1"]);
        assert!(rerun.contains(&format!("{at_kill} resumed")), "{rerun}");
        assert_eq!(snapshot(&output), snapshot(&reference), "resumed output differs from an uninterrupted run");
        assert!(!output.join("_tmp").exists(), "temporary files of the killed run are cleaned up");
        break;
    }
    assert!(killed_mid_run, "could not kill the job between its first and last shard in 5 attempts");
}

#[test]
fn shard_workers_together_equal_one_process() {
    let input = demo_warc();
    let work = tempfile::tempdir().unwrap();
    let single = work.path().join("single");
    ingest(&input, &single, &[]);
    let split = work.path().join("split");
    let mut seen = 0;
    for i in 0..3 {
        let spec = format!("{i}/3");
        ingest(&input, &split, &["--shard", &spec]);
        let now = committed(&split);
        assert!(now > seen, "worker {spec} committed nothing");
        seen = now;
        assert!(split.join(format!("_stats/shard-{i}-of-3.json")).exists());
    }
    assert_eq!(snapshot(&split), snapshot(&single));
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let input = demo_warc();
    let work = tempfile::tempdir().unwrap();
    let one = work.path().join("one");
    let two = work.path().join("two");
    ingest(&input, &one, &["--threads", "1"]);
    ingest(&input, &two, &["--threads", "2"]);
    assert_eq!(snapshot(&one), snapshot(&two));
}

#[test]
fn a_changed_configuration_redoes_committed_shards() {
    let input = demo_warc().join("CC-MAIN-2020-34-excerpt.warc.gz");
    let work = tempfile::tempdir().unwrap();
    let output = work.path().join("out");
    ingest(&input, &output, &[]);
    let again = sluice_ok(&["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    assert!(again.contains("0 processed, 1 resumed"), "{again}");
    let changed =
        sluice_ok(&["ingest", input.to_str().unwrap(), "--output", output.to_str().unwrap(), "--extractor", "page"]);
    assert!(changed.contains("1 processed, 0 resumed"), "{changed}");
}

//! The shuffle is deterministic: the same bytes (shards, manifests and every intermediate) from 1 or 2
//! threads, from 1 worker or 3 workers running each phase in turn, whatever the memory bound (many small
//! gathering passes or one), and after a kill mid-shuffle (committed manifests and outputs deleted, a
//! temporary left behind) and a rerun — for `openlm` and `decomposed`.

mod common;

use common::*;
use sluice_core::runner::PhasedStage;
use sluice_tokenize::{ByteSize, OutputFormat, TokenizeConfig, TokenizeStage};

fn decomposed_config() -> TokenizeConfig {
    let mut config = TokenizeConfig { format: OutputFormat::Decomposed, cells: 4, ..Default::default() };
    config.decomposition.min_bucket = 4;
    config.decomposition.max_bucket = 7;
    config.decomposition.shard_tokens = 2048;
    config
}

/// Simulates a kill in every phase: the first task of each phase loses its manifest (its outputs stay,
/// uncommitted), the last loses its outputs (its manifest stays), and a half-written temporary is left.
fn kill(root: &std::path::Path, phases: &[&str]) {
    for (i, phase) in phases.iter().enumerate() {
        let dir = if i + 1 == phases.len() { root.to_path_buf() } else { root.join("_work").join(phase) };
        let mut manifests: Vec<_> =
            std::fs::read_dir(dir.join("_manifests")).unwrap().map(|e| e.unwrap().path()).collect();
        manifests.sort();
        let last: serde_json::Value =
            serde_json::from_slice(&std::fs::read(manifests.last().unwrap()).unwrap()).unwrap();
        for output in last["outputs"].as_array().unwrap() {
            let _ = std::fs::remove_file(dir.join(output["name"].as_str().unwrap()));
        }
        std::fs::remove_file(&manifests[0]).unwrap();
        std::fs::remove_file(&manifests[manifests.len() / 2]).unwrap();
        std::fs::create_dir_all(dir.join("_tmp")).unwrap();
        std::fs::write(dir.join("_tmp").join(format!("{}.half-written", last["task"].as_str().unwrap())), b"x")
            .unwrap();
    }
}

fn check(config: TokenizeConfig, tag: &str) {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    write_inputs(&input, &corpus());
    let reference = work.path().join(format!("{tag}-1-thread"));
    run_threads(&config, &input, &reference, 1);

    let two = work.path().join(format!("{tag}-2-threads"));
    run_threads(&config, &input, &two, 2);
    assert_same(&reference, &two, &format!("{tag}: 2 threads"));

    let workers = work.path().join(format!("{tag}-3-workers"));
    run_three_workers(&config, &input, &workers);
    assert_same(&reference, &workers, &format!("{tag}: 3 workers"));

    // A bound of a few records: many windows, many passes over each cell — the same bytes.
    let small = TokenizeConfig { shuffle_memory: ByteSize(2048), ..config.clone() };
    let windows = work.path().join(format!("{tag}-small-memory"));
    run_threads(&small, &input, &windows, 2);
    assert_same(&reference, &windows, &format!("{tag}: 2 KiB shuffle memory"));
    let bound = TokenizeStage::new(small.clone()).unwrap().shuffle_memory_bound().unwrap();
    let (mut passes, mut tasks) = (0, 0);
    for entry in std::fs::read_dir(windows.join("_manifests")).unwrap() {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let counters = &manifest["stats"]["counters"];
        let Some(largest) = counters["window_records_max"].as_u64() else { continue };
        let task = manifest["task"].as_str().unwrap();
        let bucket = task.strip_prefix("D_").map(|r| r.split('-').next().unwrap().parse::<u32>().unwrap());
        let (_, bytes) = bound.iter().find(|(b, _)| *b == bucket).unwrap();
        let record = 8 + 2
            * (match bucket {
                Some(k) => (1u64 << k) + 1,
                None => config.seqlen as u64,
            });
        assert!(
            largest * record <= (*bytes).max(record),
            "{task}: {largest} records of {record} B over the bound {bytes}"
        );
        passes += counters["gather_passes"].as_u64().unwrap();
        tasks += 1;
    }
    assert!(passes > 2 * tasks, "{tag}: the small bound made several passes ({passes} for {tasks} tasks)");
    println!("{tag}: {passes} gathering passes over {tasks} shard tasks under a 2 KiB bound: {bound:?}");

    let killed = work.path().join(format!("{tag}-killed"));
    copy_dir(&reference, &killed);
    let phases = TokenizeStage::new(config.clone()).unwrap().phases();
    kill(&killed, &phases);
    run_threads(&config, &input, &killed, 2);
    assert_same(&reference, &killed, &format!("{tag}: after a kill"));
    let stats: serde_json::Value = serde_json::from_slice(&std::fs::read(killed.join("_stats.json")).unwrap()).unwrap();
    assert!(stats["shards_processed"].as_u64().unwrap() >= 2, "{tag}: the killed tasks were redone");
    assert!(!killed.join("_tmp").exists() || std::fs::read_dir(killed.join("_tmp")).unwrap().next().is_none());

    run_threads(&config, &input, &killed, 2);
    assert_same(&reference, &killed, &format!("{tag}: resumed"));
    let stats: serde_json::Value = serde_json::from_slice(&std::fs::read(killed.join("_stats.json")).unwrap()).unwrap();
    assert_eq!(stats["shards_processed"], 0, "{tag}: a complete run was redone");
}

#[test]
fn openlm_shuffle_is_the_same_bytes_whatever_the_threads_workers_memory_or_kills() {
    check(small_config(), "openlm");
}

#[test]
fn decomposed_shuffle_is_the_same_bytes_whatever_the_threads_workers_memory_or_kills() {
    check(decomposed_config(), "decomposed");
}

#[test]
fn another_seed_gives_another_order_of_the_same_contexts() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    write_inputs(&input, &corpus());
    let a = work.path().join("a");
    let b = work.path().join("b");
    run_threads(&small_config(), &input, &a, 2);
    run_threads(&TokenizeConfig { seed: 99, ..small_config() }, &input, &b, 2);
    let (mut x, mut y) = (read_openlm(&a), read_openlm(&b));
    assert_ne!(x, y);
    x.sort();
    y.sort();
    assert_eq!(x, y);
}

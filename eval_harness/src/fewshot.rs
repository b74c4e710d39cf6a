//! Few-shot example selection exactly as llm-foundry 0.9.0 does it (`_get_fewshot_sample_idxs`).
//!
//! The rows llm-foundry puts in front of a test item, and their order, are a side effect of CPython's
//! `random.Random` and `set` internals. Reproducing DCLM's prompts token for token therefore means replaying
//! that code step by step with [`PyRandom`] and [`PyIntSet`]; see the golden README
//! (`shared/golden/eval/README.md`, "How llm-foundry builds an example", rule 2).

use crate::pyrandom::PyRandom;
use crate::pyset::PyIntSet;

/// The few-shot rows for test row `own` of a dataset of `n` rows, in prompt order.
///
/// `rng` must be the dataset's single `random.Random(1234)` (one per category file when the task has
/// categories), called once per row in file order over *all* rows: each call consumes a data-dependent amount
/// of the stream, so skipping or reordering rows changes every later draw.
///
/// The draw is `set(rng.sample(range(n), min(k, n - 1)))`; if it contains `own`, `own` is removed and
/// `rng.choice(range(n))` is repeated until it yields a row neither in the set nor `own`, which is then
/// added. The result is that set's iteration order, not the draw order: llm-foundry iterates the set when it
/// writes the prompt. (llm-foundry's early return when the reduced set already holds `n - 1` rows can never
/// fire, since it holds at most `n - 2` at that point, so it is not reproduced.)
///
/// `k == 0` (0-shot), `n <= 1` and `k' == 0` draw nothing and leave `rng` untouched, as in llm-foundry.
pub fn fewshot_indices(rng: &mut PyRandom, n: usize, k: usize, own: usize) -> Vec<usize> {
    let k = k.min(n.saturating_sub(1));
    if k == 0 {
        return Vec::new();
    }
    let mut chosen: PyIntSet = rng.sample_range(n, k).into_iter().collect();
    if chosen.remove(own) {
        chosen.insert(replacement(rng, &chosen, n, own));
    }
    chosen.iter_order()
}

/// `rng.choice(range(n))` repeated until the row is neither already chosen nor the test row itself.
fn replacement(rng: &mut PyRandom, chosen: &PyIntSet, n: usize, own: usize) -> usize {
    loop {
        let candidate = rng.choice_index(n);
        if candidate != own && !chosen.contains(candidate) {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values come from CPython 3.11.7 running llm-foundry 0.9.0's `_get_fewshot_sample_idxs`
    // (copied verbatim) on `rng = random.Random(1234)`; each test names the loop that produced them.

    /// Rows of `local_data/world_knowledge/arc_easy.jsonl` (`tasks.json` → arc_easy `dataset_size`).
    const ARC_EASY_ROWS: usize = 2376;

    /// The few-shot rows of rows `0..=last`, drawn from one `Random(1234)` as llm-foundry does.
    fn rows(n: usize, k: usize, last: usize) -> Vec<Vec<usize>> {
        let mut rng = PyRandom::new(1234);
        (0..=last).map(|own| fewshot_indices(&mut rng, n, k, own)).collect()
    }

    #[test]
    fn arc_easy_first_rows_match_llm_foundry() {
        // [list(f(2376, 10, i, rng)) for i in range(3)]
        let got = rows(ARC_EASY_ROWS, 10, 2);
        assert_eq!(got[0], [71, 969, 1452, 1805, 143, 371, 343, 403, 30, 478]); // the README's example
        assert_eq!(got[1], [64, 608, 1417, 1898, 749, 468, 373, 59, 126, 1983]);
        assert_eq!(got[2], [2371, 264, 1993, 2216, 2060, 364, 1908, 280, 2109, 1023]);
    }

    #[test]
    fn arc_easy_row_drawing_itself_gets_a_replacement_in_the_freed_slot() {
        // [list(f(2376, 10, i, rng)) for i in range(69)][68]: the sample is
        // [1382, 2222, 1403, 870, 359, 2124, 998, 403, 1227, 68]; 68 is dropped and 279 reuses its slot.
        let got = rows(ARC_EASY_ROWS, 10, 68);
        assert_eq!(got[68], [870, 1382, 359, 998, 1227, 2124, 2222, 403, 279, 1403]);
    }

    #[test]
    fn small_dataset_with_frequent_replacements() {
        // [list(f(12, 5, i, rng)) for i in range(12)]: rows 0, 1, 2, 7 and 8 draw themselves.
        assert_eq!(
            rows(12, 5, 11),
            [
                [1, 7, 9, 10, 11],
                [0, 3, 5, 10, 11],
                [1, 7, 9, 10, 11],
                [0, 1, 2, 7, 8],
                [1, 3, 7, 8, 10],
                [0, 1, 8, 9, 10],
                [1, 4, 7, 8, 11],
                [3, 4, 5, 8, 9],
                [0, 1, 5, 10, 11],
                [0, 2, 6, 7, 11],
                [1, 2, 7, 9, 11],
                [0, 2, 3, 5, 8],
            ]
        );
    }

    #[test]
    fn k_is_capped_at_the_other_rows() {
        // [list(f(5, 10, i, rng)) for i in range(5)]
        assert_eq!(rows(5, 10, 4), [[1, 2, 3, 4], [0, 2, 3, 4], [0, 1, 3, 4], [0, 1, 2, 4], [0, 1, 2, 3]]);
    }

    #[test]
    fn nothing_to_draw_leaves_the_stream_untouched() {
        // rng = random.Random(1234); f(1, 3, 0, rng) == set(); rng.getrandbits(32) == 4150886329
        let mut rng = PyRandom::new(1234);
        assert!(fewshot_indices(&mut rng, 1, 3, 0).is_empty());
        assert!(fewshot_indices(&mut rng, 2376, 0, 0).is_empty());
        assert_eq!(rng.getrandbits(32), 4150886329);
    }
}

//! The interval arithmetic of DCLM's `substring` remove type (`merge_intervals`, `fuzzy_sandwich_intervals`,
//! `merge_sorted_interval_pair`, `invert_intervals`), ported function for function. Intervals are
//! half-open `[start, end)` token ranges.

/// DCLM's `merge_intervals` on intervals sorted by start: overlapping **or touching** intervals merge.
pub fn merge_intervals(intervals: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(intervals.len());
    for &(start, end) in intervals {
        match merged.last_mut() {
            Some(last) if last.1 >= start => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// DCLM's `merge_sorted_interval_pair`: both lists merged by (start, end), then [`merge_intervals`].
pub fn merge_sorted_interval_pair(u: &[(usize, usize)], w: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut all = Vec::with_capacity(u.len() + w.len());
    let (mut ui, mut wi) = (0, 0);
    while ui < u.len() && wi < w.len() {
        let ((us, ue), (ws, we)) = (u[ui], w[wi]);
        if us < ws || (us == ws && ue <= we) {
            all.push(u[ui]);
            ui += 1;
        } else {
            all.push(w[wi]);
            wi += 1;
        }
    }
    all.extend_from_slice(&u[ui..]);
    all.extend_from_slice(&w[wi..]);
    merge_intervals(&all)
}

/// DCLM's `fuzzy_sandwich_intervals`: scanning sorted disjoint intervals forward (or backward), an
/// interval joins the run before it when the run's covered width stays ≥ `threshold` of the joined span
/// (`[(0,9), (10,20)]` → `[(0,20)]` for a threshold ≤ 0.95). DCLM computes in `i32`; `i64` here gives the
/// same result for every text that fits in memory.
pub fn fuzzy_sandwich_intervals(intervals: &[(usize, usize)], forward: bool, threshold: f64) -> Vec<(usize, usize)> {
    let mut output: Vec<(i64, i64, i64)> = Vec::new();
    let mut visit = |&(s, e): &(usize, usize)| {
        let (next_s, next_e) = (s as i64, e as i64);
        match output.last() {
            None => output.push((next_s, next_e, next_e - next_s)),
            Some(&(cur_s, cur_e, cur_w)) => {
                let joined = (next_s.min(cur_s), next_e.max(cur_e), cur_w + next_e - next_s);
                if joined.2 as f64 >= (joined.1 - joined.0) as f64 * threshold {
                    output.pop();
                    output.push(joined);
                } else {
                    output.push((next_s, next_e, next_e - next_s));
                }
            }
        }
    };
    if forward {
        intervals.iter().for_each(&mut visit);
    } else {
        intervals.iter().rev().for_each(&mut visit);
    }
    output.into_iter().map(|(s, e, _)| (s as usize, e as usize)).collect()
}

/// DCLM's `invert_intervals`: the gaps between sorted disjoint intervals within `[0, len)`.
pub fn invert_intervals(intervals: &[(usize, usize)], len: usize) -> Vec<(usize, usize)> {
    let (Some(first), Some(last)) = (intervals.first(), intervals.last()) else { return vec![(0, len)] };
    let mut gaps = Vec::with_capacity(intervals.len() + 1);
    if first.0 > 0 {
        gaps.push((0, first.0));
    }
    gaps.extend(intervals.windows(2).map(|w| (w[0].1, w[1].0)));
    if last.1 < len {
        gaps.push((last.1, len));
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_joins_overlapping_and_touching_intervals() {
        assert_eq!(merge_intervals(&[(0, 3), (3, 5), (7, 9), (8, 12)]), [(0, 5), (7, 12)]);
        assert_eq!(merge_sorted_interval_pair(&[(0, 2), (10, 12)], &[(1, 4), (20, 21)]), [(0, 4), (10, 12), (20, 21)]);
    }

    #[test]
    fn fuzzy_sandwiches_as_dclm_documents_them() {
        assert_eq!(fuzzy_sandwich_intervals(&[(0, 9), (10, 20)], true, 0.95), [(0, 20)]);
        assert_eq!(fuzzy_sandwich_intervals(&[(0, 9), (10, 20)], true, 0.96), [(0, 9), (10, 20)]);
        // Backward scans start from the last interval; the covered width accumulates.
        assert_eq!(fuzzy_sandwich_intervals(&[(0, 2), (10, 20), (21, 30)], false, 0.8), [(10, 30), (0, 2)]);
        assert_eq!(fuzzy_sandwich_intervals(&[], true, 0.8), []);
    }

    #[test]
    fn inversion_gives_the_gaps() {
        assert_eq!(invert_intervals(&[(0, 4), (6, 8)], 10), [(4, 6), (8, 10)]);
        assert_eq!(invert_intervals(&[(2, 10)], 10), [(0, 2)]);
        assert_eq!(invert_intervals(&[], 7), [(0, 7)]);
    }
}

//! BPE merges of one pre-tokenized piece, exactly as HF's `Word::merge_all`: start from one symbol per
//! byte, repeatedly merge the adjacent pair with the lowest merge rank (the leftmost of equal ranks), until
//! no adjacent pair has a merge. A min-heap keyed by (rank, position) keeps long pieces (a 1 MB run of
//! one letter) at n log n; a heap entry made stale by an earlier merge is recognised because the pair now
//! at its position produces a different token (a symbol only changes by absorbing its right neighbour, so
//! the concatenation — and the token — changes with it).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Merge rules: (left id, right id) → (rank, merged id).
pub type Merges = FxHashMap<(u32, u32), (u32, u32)>;

#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: usize,
    next: usize,
    alive: bool,
}

/// No neighbour.
const NONE: usize = usize::MAX;

/// Appends the ids of `piece` (its bytes as `byte_ids` maps them, then merged) to `out`.
pub fn merge_piece(piece: &[u8], byte_ids: &[u32; 256], merges: &Merges, out: &mut Vec<u32>) {
    match piece {
        [] => {}
        [b] => out.push(byte_ids[*b as usize]),
        _ => merge_all(piece, byte_ids, merges, out),
    }
}

fn merge_all(piece: &[u8], byte_ids: &[u32; 256], merges: &Merges, out: &mut Vec<u32>) {
    let n = piece.len();
    let mut symbols: Vec<Symbol> = piece
        .iter()
        .enumerate()
        .map(|(i, &b)| Symbol {
            id: byte_ids[b as usize],
            prev: if i == 0 { NONE } else { i - 1 },
            next: if i + 1 == n { NONE } else { i + 1 },
            alive: true,
        })
        .collect();
    // Entries: (rank, position of the left symbol, merged id).
    let mut queue: BinaryHeap<Reverse<(u32, usize, u32)>> = symbols
        .windows(2)
        .enumerate()
        .filter_map(|(pos, w)| merges.get(&(w[0].id, w[1].id)).map(|&(rank, id)| Reverse((rank, pos, id))))
        .collect();
    while let Some(Reverse((_, pos, new_id))) = queue.pop() {
        let left = symbols[pos];
        if !left.alive || left.next == NONE {
            continue;
        }
        let right = symbols[left.next];
        if merges.get(&(left.id, right.id)).is_none_or(|&(_, id)| id != new_id) {
            continue; // stale: the pair at `pos` changed since this entry was queued
        }
        symbols[pos].id = new_id;
        symbols[pos].next = right.next;
        symbols[left.next].alive = false;
        if right.next != NONE {
            symbols[right.next].prev = pos;
        }
        if left.prev != NONE {
            if let Some(&(rank, id)) = merges.get(&(symbols[left.prev].id, new_id)) {
                queue.push(Reverse((rank, left.prev, id)));
            }
        }
        if right.next != NONE {
            if let Some(&(rank, id)) = merges.get(&(new_id, symbols[right.next].id)) {
                queue.push(Reverse((rank, pos, id)));
            }
        }
    }
    out.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
}

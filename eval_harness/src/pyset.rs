//! An emulation of CPython 3.11's `set` hash table (`Objects/setobject.c`) for non-negative int keys, kept
//! only for its iteration order.
//!
//! llm-foundry emits few-shot examples in the iteration order of a Python `set` of row indices. That order is
//! the table's slot order, which depends on the table size, insertion order, collisions, removals (dummy
//! slots) and resizes, so the table itself has to be replayed: same probe sequence, same dummy reuse, same
//! resize trigger and same re-insertion order.

/// Probe this many slots linearly after the home slot before jumping (`LINEAR_PROBES`).
const LINEAR_PROBES: usize = 9;
/// Bits of the hash mixed into each jump (`PERTURB_SHIFT`).
const PERTURB_SHIFT: u32 = 5;
/// Initial table size (`PySet_MINSIZE`).
const MIN_SIZE: usize = 8;
/// CPython's int hash modulus: `hash(i) == i % (2**61 - 1)` for `i >= 0`.
const HASH_MODULUS: u64 = (1 << 61) - 1;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    /// Never used since the last resize (`key == NULL`); ends every probe sequence.
    Empty,
    /// Held a key that was removed; probing continues past it and an add may reuse it.
    Dummy,
    /// A live key with its cached hash.
    Active { key: usize, hash: u64 },
}

/// A `set` of non-negative ints with CPython 3.11's slot layout.
#[derive(Clone, Debug)]
pub struct PyIntSet {
    table: Vec<Slot>,
    /// Active plus dummy slots; drives the resize trigger.
    fill: usize,
    /// Active slots.
    used: usize,
}

/// CPython's `hash()` of a non-negative int.
fn py_hash(key: usize) -> u64 {
    key as u64 % HASH_MODULUS
}

/// The slots CPython visits for `hash` in a table of `mask + 1` slots, in order, forever.
///
/// From each position `i` it checks `i`, then `i + 1 ..= i + LINEAR_PROBES` if those fit without wrapping,
/// then jumps to `(5 * i + 1 + perturb) & mask` after shifting `perturb` (which starts as the hash) right.
struct Probe {
    mask: usize,
    perturb: u64,
    /// Start of the current run of linear probes.
    base: usize,
    /// Offset of the next slot to yield within the current run.
    offset: usize,
}

impl Probe {
    fn new(hash: u64, mask: usize) -> Self {
        Probe { mask, perturb: hash, base: hash as usize & mask, offset: 0 }
    }

    /// The next slot to look at; the sequence never ends (callers stop at an empty slot).
    fn next_slot(&mut self) -> usize {
        let run = if self.base + LINEAR_PROBES <= self.mask { LINEAR_PROBES } else { 0 };
        if self.offset > run {
            self.perturb >>= PERTURB_SHIFT;
            self.base = (self.base.wrapping_mul(5).wrapping_add(1).wrapping_add(self.perturb as usize)) & self.mask;
            self.offset = 0;
        }
        let slot = self.base + self.offset;
        self.offset += 1;
        slot
    }
}

impl Default for PyIntSet {
    fn default() -> Self {
        Self::new()
    }
}

impl PyIntSet {
    /// `set()`.
    pub fn new() -> Self {
        PyIntSet { table: vec![Slot::Empty; MIN_SIZE], fill: 0, used: 0 }
    }

    fn mask(&self) -> usize {
        self.table.len() - 1
    }

    /// Number of keys (`len(s)`).
    pub fn len(&self) -> usize {
        self.used
    }

    /// `not s`.
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// The slot holding `key`, if present (`set_lookkey`; dummies are skipped, an empty slot ends the search).
    fn find(&self, key: usize, hash: u64) -> Option<usize> {
        let mut probe = Probe::new(hash, self.mask());
        loop {
            let i = probe.next_slot();
            match self.table[i] {
                Slot::Empty => return None,
                Slot::Active { key: k, hash: h } if h == hash && k == key => return Some(i),
                _ => {}
            }
        }
    }

    /// `key in s`.
    pub fn contains(&self, key: usize) -> bool {
        self.find(key, py_hash(key)).is_some()
    }

    /// `s.add(key)` (`set_add_entry`); returns whether the key was new.
    ///
    /// The probe runs until an empty slot even when it has passed dummies, because the key may sit further
    /// on; a new key then goes into the *last* dummy passed (CPython overwrites `freeslot` at every dummy),
    /// which leaves `fill` unchanged and so never triggers a resize. Only a key placed in a fresh slot counts
    /// towards `fill` and can grow the table.
    pub fn insert(&mut self, key: usize) -> bool {
        let hash = py_hash(key);
        let mut free_slot = None;
        let mut probe = Probe::new(hash, self.mask());
        loop {
            let i = probe.next_slot();
            match self.table[i] {
                Slot::Active { key: k, hash: h } if h == hash && k == key => return false,
                Slot::Active { .. } => {}
                Slot::Dummy => free_slot = Some(i),
                Slot::Empty => {
                    self.used += 1;
                    match free_slot {
                        Some(dummy) => self.table[dummy] = Slot::Active { key, hash },
                        None => {
                            self.table[i] = Slot::Active { key, hash };
                            self.fill += 1;
                            self.grow_if_needed();
                        }
                    }
                    return true;
                }
            }
        }
    }

    /// The resize check at the end of `set_add_entry`: grow once active + dummy slots reach 3/5 of the mask.
    fn grow_if_needed(&mut self) {
        if self.fill * 5 < self.mask() * 3 {
            return;
        }
        let min_used = if self.used > 50_000 { self.used * 2 } else { self.used * 4 };
        self.resize(min_used);
    }

    /// `set_table_resize`: the smallest power of two above `min_used` (at least `MIN_SIZE`), with the live
    /// keys re-inserted in old slot order and the dummies dropped.
    fn resize(&mut self, min_used: usize) {
        let mut size = MIN_SIZE;
        while size <= min_used {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.table, vec![Slot::Empty; size]);
        self.fill = self.used;
        for slot in old {
            if let Slot::Active { key, hash } = slot {
                self.insert_clean(key, hash);
            }
        }
    }

    /// `set_insert_clean`: place a key known to be absent into a table without dummies.
    fn insert_clean(&mut self, key: usize, hash: u64) {
        let mut probe = Probe::new(hash, self.mask());
        loop {
            let i = probe.next_slot();
            if self.table[i] == Slot::Empty {
                self.table[i] = Slot::Active { key, hash };
                return;
            }
        }
    }

    /// `s.discard(key)`, and `s.remove(key)` for a present key; returns whether it was present.
    ///
    /// The slot becomes a dummy, not empty, so probe sequences through it stay intact; the table never
    /// shrinks here.
    pub fn remove(&mut self, key: usize) -> bool {
        match self.find(key, py_hash(key)) {
            Some(i) => {
                self.table[i] = Slot::Dummy;
                self.used -= 1;
                true
            }
            None => false,
        }
    }

    /// The keys in Python's iteration order (`list(s)`): slot order.
    pub fn iter_order(&self) -> Vec<usize> {
        self.table
            .iter()
            .filter_map(|slot| match slot {
                Slot::Active { key, .. } => Some(*key),
                _ => None,
            })
            .collect()
    }
}

/// `set(iterable)`: the keys are added one by one in iteration order (`set_update_internal` does not
/// pre-size for a list), so the result depends on that order.
impl FromIterator<usize> for PyIntSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let mut set = PyIntSet::new();
        for key in iter {
            set.insert(key);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected orders come from CPython 3.11.7; each test names the snippet that produced them. When this
    // module was written it was also compared with real Python on 44,000 random cases (add/discard/lookup
    // sequences of up to 600 operations and `set(list)` constructions, keys up to 2**63, forced collisions),
    // all identical; these are fixed regression cases.

    fn order_of(keys: &[usize]) -> Vec<usize> {
        keys.iter().copied().collect::<PyIntSet>().iter_order()
    }

    #[test]
    fn small_set_without_collisions_is_ascending() {
        // list(set([7, 1, 0]))
        assert_eq!(order_of(&[7, 1, 0]), [0, 1, 7]);
    }

    #[test]
    fn collisions_in_the_minimal_table_use_perturbed_jumps() {
        // list(set([0, 8, 1])): 8 jumps from slot 0 to 1, then 1 jumps from slot 1 to 6.
        assert_eq!(order_of(&[0, 8, 1]), [0, 8, 1]);
    }

    #[test]
    fn resize_reinserts_in_old_slot_order() {
        // list(set([8, 16, 0, 24, 1]))
        assert_eq!(order_of(&[8, 16, 0, 24, 1]), [0, 1, 8, 16, 24]);
        // list(set([1805, 478, 30, 371, 143, 343, 403, 1452, 969, 71]))  (arc_easy row 0's draw)
        assert_eq!(
            order_of(&[1805, 478, 30, 371, 143, 343, 403, 1452, 969, 71]),
            [71, 969, 1452, 1805, 143, 371, 343, 403, 30, 478]
        );
        // list(set([64, 128, 0, 192, 256, 320, 384, 448, 512, 576, 640, 704, 1]))  (linear-probe runs)
        assert_eq!(
            order_of(&[64, 128, 0, 192, 256, 320, 384, 448, 512, 576, 640, 704, 1]),
            [64, 0, 128, 256, 192, 320, 384, 448, 512, 576, 1, 640, 704]
        );
    }

    #[test]
    fn add_reuses_the_last_dummy_on_the_probe_path() {
        // s = set([0, 8, 16]); s.remove(0); s.remove(8); s.add(24); s.add(0); list(s)
        let mut s: PyIntSet = [0, 8, 16].into_iter().collect();
        assert!(s.remove(0) && s.remove(8));
        assert!(!s.remove(8));
        assert!(s.insert(24) && s.insert(0));
        assert!(!s.insert(0));
        assert_eq!(s.iter_order(), [0, 24, 16]);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn dummies_count_towards_the_resize_trigger() {
        // s = set([1, 2, 3, 4]); [s.remove(x) for x in [1, 2, 3, 4]]; s.add(12); s.add(4); list(s)
        let mut s: PyIntSet = [1, 2, 3, 4].into_iter().collect();
        for x in [1, 2, 3, 4] {
            assert!(s.remove(x));
        }
        assert!(s.is_empty());
        s.insert(12);
        s.insert(4);
        assert_eq!(s.iter_order(), [4, 12]);
    }

    #[test]
    fn removals_then_additions_in_a_grown_table() {
        // s = set(range(0, 400, 7)); [s.discard(x) for x in range(0, 400, 21)]; s.update([1000, 3, 448]); list(s)
        let mut s: PyIntSet = (0..400).step_by(7).collect();
        for x in (0..400).step_by(21) {
            s.remove(x);
        }
        for x in [1000, 3, 448] {
            s.insert(x);
        }
        assert_eq!(
            s.iter_order(),
            [
                385, 259, 3, 133, 7, 392, 266, 140, 14, 280, 154, 28, 287, 161, 35, 301, 175, 49, 308, 182, 56, 448,
                322, 196, 70, 329, 203, 77, 343, 217, 91, 350, 224, 98, 1000, 364, 238, 112, 371, 245, 119
            ]
        );
        assert!(s.contains(1000) && s.contains(7) && !s.contains(21) && !s.contains(0));
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn large_keys_hash_modulo_2_pow_61_minus_1() {
        // list(set([2**61-1, 2**61, 3, 2**61+8, 100000, 2**40, 7]))
        let p = (1usize << 61) - 1;
        assert_eq!(order_of(&[p, p + 1, 3, p + 9, 100_000, 1 << 40, 7]), [p, p + 1, 100_000, 3, 1 << 40, 7, p + 9]);
    }
}

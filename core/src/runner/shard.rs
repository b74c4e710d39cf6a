//! `--shard i/N`: which part of the input list one worker takes.

use crate::error::{Error, Result};

/// Worker `index` of `count`. Inputs are listed in sorted order and dealt round-robin, so every worker can
/// compute its part alone (a Kubernetes Indexed Job passes `$JOB_COMPLETION_INDEX` as `i`) and the union of
/// all parts is exactly the single-process run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: usize,
    pub count: usize,
}

impl Default for ShardSpec {
    fn default() -> Self {
        ShardSpec { index: 0, count: 1 }
    }
}

impl ShardSpec {
    /// Whether the input at position `position` of the sorted list belongs to this worker.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index
    }

    /// The worker slot's name in file names: `shard-i-of-N`.
    pub fn slot_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl std::str::FromStr for ShardSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::ShardSpec(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_deals_round_robin() {
        let spec: ShardSpec = "1/3".parse().unwrap();
        assert_eq!(spec, ShardSpec { index: 1, count: 3 });
        let owned: Vec<usize> = (0..8).filter(|p| spec.owns(*p)).collect();
        assert_eq!(owned, vec![1, 4, 7]);
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
    }
}

//! The intermediate records between the phases: each context (or decomposed sequence) as a fixed-size
//! record — its stable id (u64, little-endian) then its tokens (u16 or u32, little-endian) — appended to
//! the cell it was scattered to (`<file key>/cell-NNNNN.bin`, `<file key>/D_k/cell-NNNNN.bin`). Fixed
//! sizes make a piece's record count its size divided by the record size, known when the next phase is
//! planned.

use std::io::Write;

use sluice_core::runner::TaskContext;
use sluice_core::{Error, Result};

use crate::encoder::TokenWidth;

/// The bytes of one record of `tokens` tokens.
pub fn record_bytes(tokens: usize, width: TokenWidth) -> usize {
    8 + tokens * width.bytes()
}

/// Appends one record to `out`.
pub fn put_record(id: u64, tokens: &[u32], width: TokenWidth, out: &mut Vec<u8>) {
    out.extend_from_slice(&id.to_le_bytes());
    width.put(tokens, out);
}

/// The id of a record.
pub fn record_id(record: &[u8]) -> u64 {
    u64::from_le_bytes(record[..8].try_into().expect("records are at least 8 bytes"))
}

/// Buffered writers of one task's cells, created when a cell gets its first record (an empty cell has no
/// file). Each holds a small buffer, not the 1 MiB of a default artifact writer: a task may write to
/// thousands of cells.
pub struct Scatter {
    names: Vec<String>,
    files: Vec<Option<std::fs::File>>,
    buffers: Vec<Vec<u8>>,
    counts: Vec<u64>,
}

/// Bytes buffered per cell before they are written.
const CELL_BUFFER: usize = 64 * 1024;

impl Scatter {
    /// Writers for the artifacts `names` (one per slot).
    pub fn new(names: Vec<String>) -> Scatter {
        let n = names.len();
        Scatter { names, files: (0..n).map(|_| None).collect(), buffers: vec![Vec::new(); n], counts: vec![0; n] }
    }

    /// Appends a record to slot `slot`.
    pub fn push(
        &mut self,
        context: &mut TaskContext,
        slot: usize,
        id: u64,
        tokens: &[u32],
        width: TokenWidth,
    ) -> Result<()> {
        put_record(id, tokens, width, &mut self.buffers[slot]);
        self.counts[slot] += 1;
        if self.buffers[slot].len() >= CELL_BUFFER {
            self.flush(context, slot)?;
        }
        Ok(())
    }

    fn flush(&mut self, context: &mut TaskContext, slot: usize) -> Result<()> {
        if self.files[slot].is_none() {
            let writer = context.create_artifact(&self.names[slot])?;
            // The artifact's own 1 MiB buffer is empty: drop it and keep the file.
            let file = writer.into_inner().map_err(|e| Error::io(self.names[slot].as_str(), e.into_error()))?;
            self.files[slot] = Some(file);
        }
        let file = self.files[slot].as_mut().expect("opened above");
        file.write_all(&self.buffers[slot]).map_err(|e| Error::io(self.names[slot].as_str(), e))?;
        self.buffers[slot].clear();
        Ok(())
    }

    /// Writes what is buffered; returns the records written per slot.
    pub fn finish(mut self, context: &mut TaskContext) -> Result<Vec<u64>> {
        for slot in 0..self.names.len() {
            if !self.buffers[slot].is_empty() {
                self.flush(context, slot)?;
            }
        }
        Ok(self.counts)
    }
}

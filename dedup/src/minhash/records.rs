//! The fixed-size little-endian records the phases pass to each other, and how they are read and written.
//!
//! | record | bytes | written by → read by |
//! |---|---|---|
//! | band: key u64, document index u32 | 12 | `signatures` → `candidates` |
//! | edge: document u64, document u64 | 16 | `candidates` / `verify` → `verify` / `components` |
//! | need: document index u32, verify partition u32 | 8 | `candidates` → `sets` |
//! | set: document u64, length u64, length × shingle hash u64 | 16 + 8·n | `sets` → `verify` |
//! | member: document index u64, representative u64, cluster size u64 | 24 | `components` → `apply` |
//!
//! A document is `file position << 32 | index in the file`, so ordering documents orders them by input
//! file, then by place in the file: the order in which dedup keeps the first.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use sluice_core::runner::{TaskContext, TaskInput};
use sluice_core::{Error, Result};

/// A document: its input file's position and its index in that file.
pub fn doc_ref(file: usize, index: u32) -> u64 {
    ((file as u64) << 32) | index as u64
}

/// The input file position of a document.
pub fn file_of(doc: u64) -> usize {
    (doc >> 32) as usize
}

/// The index of a document in its file.
pub fn index_of(doc: u64) -> u32 {
    doc as u32
}

/// Writers of many partition files at once use small buffers (see [`write_buffer`]).
const WRITE_BUFFER: usize = 64 << 10;
const READ_BUFFER: usize = 256 << 10;

/// The write buffer of each of `open` files written at once: 64 KiB, less when there are many, so that
/// they take at most 32 MiB together (but never under 4 KiB).
pub fn write_buffer(open: usize) -> usize {
    ((32 << 20) / open.max(1)).clamp(4 << 10, WRITE_BUFFER)
}

/// A raw artifact with a write buffer of `buffer` bytes.
fn create(context: &mut TaskContext, name: &str, buffer: usize) -> Result<BufWriter<File>> {
    let file = context.create_artifact(name)?.into_inner().map_err(|e| Error::io(name, e.into_error()))?;
    Ok(BufWriter::with_capacity(buffer, file))
}

/// Flushes a finished artifact.
fn finish(mut writer: BufWriter<File>, name: &str) -> Result<()> {
    writer.flush().map_err(|e| Error::io(name, e))
}

/// Writes records to an artifact, mapping I/O errors to its name.
pub struct RecordWriter {
    name: String,
    out: BufWriter<File>,
}

impl RecordWriter {
    pub fn create(context: &mut TaskContext, name: String) -> Result<Self> {
        Self::with_buffer(context, name, WRITE_BUFFER)
    }

    pub fn with_buffer(context: &mut TaskContext, name: String, buffer: usize) -> Result<Self> {
        let out = create(context, &name, buffer)?;
        Ok(RecordWriter { name, out })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(|e| Error::io(self.name.as_str(), e))
    }

    pub fn u64s(&mut self, values: &[u64]) -> Result<()> {
        for value in values {
            self.write(&value.to_le_bytes())?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        finish(self.out, &self.name)
    }
}

/// Reads an artifact of `N`-byte records, calling `each` on every record; a partial record at the end
/// is an error (a committed artifact is never truncated, so it means damage).
pub fn read_records<const N: usize>(
    context: &TaskContext,
    input: &TaskInput,
    mut each: impl FnMut([u8; N]),
) -> Result<()> {
    let mut reader = BufReader::with_capacity(READ_BUFFER, context.open_raw(input)?);
    let mut record = [0u8; N];
    loop {
        match read_full(&mut reader, &mut record).map_err(|e| Error::io(input.location.to_string(), e))? {
            0 => return Ok(()),
            n if n == N => each(record),
            n => return Err(truncated(input, n)),
        }
    }
}

/// Reads a stream of u64 values (for variable-length records), with the same damage check.
pub struct U64Reader<'a> {
    reader: BufReader<Box<dyn Read + Send + 'a>>,
    input: &'a TaskInput,
}

impl<'a> U64Reader<'a> {
    pub fn open(context: &'a TaskContext, input: &'a TaskInput) -> Result<Self> {
        let raw: Box<dyn Read + Send + 'a> = Box::new(context.open_raw(input)?);
        Ok(U64Reader { reader: BufReader::with_capacity(READ_BUFFER, raw), input })
    }

    /// The next value, `None` at a clean end.
    pub fn read(&mut self) -> Result<Option<u64>> {
        let mut buf = [0u8; 8];
        match read_full(&mut self.reader, &mut buf).map_err(|e| Error::io(self.input.location.to_string(), e))? {
            0 => Ok(None),
            8 => Ok(Some(u64::from_le_bytes(buf))),
            n => Err(truncated(self.input, n)),
        }
    }

    /// The next value, which must be there.
    pub fn expect(&mut self) -> Result<u64> {
        self.read()?.ok_or_else(|| truncated(self.input, 0))
    }
}

fn truncated(input: &TaskInput, partial: usize) -> Error {
    Error::Other(format!(
        "{}: truncated record ({partial} stray bytes at the end); rerun the phase that wrote it",
        input.location
    ))
}

/// Fills `buf` as far as the input allows; returns how many bytes were read (less only at the end).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Reads every edge of the given artifacts.
pub fn read_edges(context: &TaskContext, inputs: &[&TaskInput]) -> Result<Vec<(u64, u64)>> {
    let mut edges = Vec::with_capacity(inputs.iter().map(|i| i.size as usize / 16).sum());
    for input in inputs {
        read_records::<16>(context, input, |r| edges.push((u64_at(&r, 0), u64_at(&r, 8))))?;
    }
    Ok(edges)
}

/// Writes sorted edges as an artifact.
pub fn write_edges(context: &mut TaskContext, name: String, edges: &[(u64, u64)]) -> Result<()> {
    let mut out = RecordWriter::create(context, name)?;
    for &(u, v) in edges {
        out.u64s(&[u, v])?;
    }
    out.finish()
}

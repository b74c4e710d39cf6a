//! Byte-stream helpers for the WARC reader: position counting and push-back.

use std::io::{self, BufRead, Read};

/// A `BufRead` that counts the bytes consumed through it.
pub struct Counted<R> {
    inner: R,
    position: u64,
}

impl<R: BufRead> Counted<R> {
    pub fn new(inner: R) -> Self {
        Counted { inner, position: 0 }
    }
    pub fn position(&self) -> u64 {
        self.position
    }
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.position += amount as u64;
        self.inner.consume(amount);
    }
}

/// A `BufRead` that can take bytes back (to re-read a record start found inside an over-long body).
pub struct Pushback<R> {
    inner: R,
    pending: Vec<u8>,
    pending_pos: usize,
    position: u64,
}

impl<R: BufRead> Pushback<R> {
    pub fn new(inner: R) -> Self {
        Pushback { inner, pending: Vec::new(), pending_pos: 0, position: 0 }
    }

    /// Bytes consumed so far, less those pushed back.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Puts `bytes` back in front of the stream.
    pub fn unread(&mut self, bytes: &[u8]) {
        let mut pending = Vec::with_capacity(bytes.len() + self.pending.len() - self.pending_pos);
        pending.extend_from_slice(bytes);
        pending.extend_from_slice(&self.pending[self.pending_pos..]);
        self.pending = pending;
        self.pending_pos = 0;
        self.position = self.position.saturating_sub(bytes.len() as u64);
    }

    /// Whether the next bytes start with `prefix` (false at end of stream). May buffer `prefix.len()` bytes.
    pub fn starts_with(&mut self, prefix: &[u8]) -> io::Result<bool> {
        let mut head = Vec::with_capacity(prefix.len());
        while head.len() < prefix.len() {
            let available = self.fill_buf()?;
            if available.is_empty() {
                break;
            }
            let take = available.len().min(prefix.len() - head.len());
            head.extend_from_slice(&available[..take]);
            self.consume(take);
        }
        let matched = head == prefix;
        self.unread(&head);
        Ok(matched)
    }

    /// Whether the stream is at its end.
    pub fn at_end(&mut self) -> io::Result<bool> {
        Ok(self.fill_buf()?.is_empty())
    }
}

impl<R: BufRead> Read for Pushback<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Pushback<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pending_pos < self.pending.len() {
            return Ok(&self.pending[self.pending_pos..]);
        }
        self.inner.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.position += amount as u64;
        if self.pending_pos < self.pending.len() {
            self.pending_pos += amount;
            if self.pending_pos >= self.pending.len() {
                self.pending.clear();
                self.pending_pos = 0;
            }
        } else {
            self.inner.consume(amount);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_back_bytes_are_read_first() {
        let mut stream = Pushback::new(&b"world"[..]);
        stream.unread(b"hello ");
        assert!(stream.starts_with(b"hello").unwrap());
        let mut all = String::new();
        stream.read_to_string(&mut all).unwrap();
        assert_eq!(all, "hello world");
        assert!(stream.at_end().unwrap());
    }
}

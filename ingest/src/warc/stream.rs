//! The byte stream under the WARC reader: position counting, push-back, and a bounded copy of what was
//! consumed (to resync after a broken gzip member).

use std::io::{self, BufRead, Read};

/// A `BufRead` that shows at most `max` bytes per `fill_buf`. Under a gzip decoder, it bounds the input one
/// inflate call sees: flate2 drops what a call decoded when that call fails, so small calls deliver all but
/// the last few KiB decoded before a corrupt spot (the header of a record cut short, among others).
pub struct Sliced<R> {
    inner: R,
    max: usize,
}

impl<R: BufRead> Sliced<R> {
    pub fn new(inner: R, max: usize) -> Self {
        Sliced { inner, max: max.max(1) }
    }
}

impl<R: BufRead> Read for Sliced<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Sliced<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let max = self.max;
        self.inner.fill_buf().map(|buf| &buf[..buf.len().min(max)])
    }
    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
    }
}

/// A `BufRead` that can take bytes back (to re-read a record start found inside an over-long body).
pub struct Pushback<R> {
    inner: R,
    pending: Vec<u8>,
    pending_pos: usize,
    position: u64,
    recording: Recording,
}

/// The copy [`Pushback::start_recording`] keeps.
enum Recording {
    Off,
    On {
        bytes: Vec<u8>,
        cap: usize,
    },
    /// More than the cap was consumed: the copy was dropped.
    Overflowed,
}

impl<R: BufRead> Pushback<R> {
    pub fn new(inner: R) -> Self {
        Pushback { inner, pending: Vec::new(), pending_pos: 0, position: 0, recording: Recording::Off }
    }

    /// Starts keeping a copy of the bytes consumed from now on, up to `cap` bytes.
    pub fn start_recording(&mut self, cap: usize) {
        self.recording = Recording::On { bytes: Vec::new(), cap };
    }

    /// Stops keeping a copy; returns the bytes consumed since [`Pushback::start_recording`], or `None` when
    /// they were more than its cap.
    pub fn stop_recording(&mut self) -> Option<Vec<u8>> {
        match std::mem::replace(&mut self.recording, Recording::Off) {
            Recording::On { bytes, .. } => Some(bytes),
            Recording::Off | Recording::Overflowed => None,
        }
    }

    /// Bytes consumed so far, less those pushed back.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Puts `bytes` back in front of the stream. While recording, they must be the bytes consumed last
    /// (as in a peek): they leave the copy, to be recorded when consumed again.
    pub fn unread(&mut self, bytes: &[u8]) {
        if let Recording::On { bytes: recorded, .. } = &mut self.recording {
            recorded.truncate(recorded.len().saturating_sub(bytes.len()));
        }
        let mut pending = Vec::with_capacity(bytes.len() + self.pending.len() - self.pending_pos);
        pending.extend_from_slice(bytes);
        pending.extend_from_slice(&self.pending[self.pending_pos..]);
        self.pending = pending;
        self.pending_pos = 0;
        self.position = self.position.saturating_sub(bytes.len() as u64);
    }

    /// The next `n` bytes (fewer at the end of the stream), left unread.
    pub fn peek(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut head = Vec::with_capacity(n);
        while head.len() < n {
            let available = match self.fill_buf() {
                Ok(available) => available,
                Err(e) => {
                    self.unread(&head);
                    return Err(e);
                }
            };
            if available.is_empty() {
                break;
            }
            let take = available.len().min(n - head.len());
            head.extend_from_slice(&available[..take]);
            self.consume(take);
        }
        self.unread(&head);
        Ok(head)
    }

    /// Whether the next bytes start with `prefix` (false at end of stream). May buffer `prefix.len()` bytes.
    pub fn starts_with(&mut self, prefix: &[u8]) -> io::Result<bool> {
        Ok(self.peek(prefix.len())? == prefix)
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
        if let Recording::On { bytes, cap } = &mut self.recording {
            // `consume` follows `fill_buf`, so the consumed bytes are at the front of what it returned (a
            // second `fill_buf` on a non-empty buffer does not read).
            let front = if self.pending_pos < self.pending.len() {
                Some(&self.pending[self.pending_pos..])
            } else {
                self.inner.fill_buf().ok()
            };
            match front.and_then(|front| front.get(..amount)) {
                Some(consumed) if bytes.len() + amount <= *cap => bytes.extend_from_slice(consumed),
                _ => self.recording = Recording::Overflowed,
            }
        }
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

    #[test]
    fn recording_copies_what_is_consumed_up_to_a_cap() {
        let mut stream = Pushback::new(&b"hello world"[..]);
        stream.start_recording(10);
        let mut five = [0u8; 5];
        stream.read_exact(&mut five).unwrap();
        assert!(stream.starts_with(b" wor").unwrap()); // a peek is not consumed
        stream.consume(1);
        assert_eq!(stream.stop_recording().as_deref(), Some(&b"hello "[..]));
        stream.start_recording(3);
        stream.read_exact(&mut five).unwrap();
        assert_eq!(stream.stop_recording(), None);
    }
}

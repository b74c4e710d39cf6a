//! One OpenLM context as a webdataset tar member: the ids as a JSON list (`[123,0,456]`, as tokshuf's
//! `serde_json::to_string(Vec<usize>)` writes it), gzipped at a fast level, in a tar member named
//! `{shard:08}_{index:08}_{id:016x}.json.gz` (webdataset key `…_{id}`, data key `json.gz`). The gzip level is
//! the configuration's `gzip_level` (1 by default; tokshuf-rs uses 6).
//!
//! The deflate state is reused from member to member (a fresh `GzEncoder` allocates ~300 KB each time)
//! and the JSON is written digit by digit into a reused buffer: no allocation per token or per member.

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

use crate::tar;

/// gzip header: deflate, no flags, mtime 0 (deterministic), no extra flags, OS unknown.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Reusable state for rendering members.
pub struct MemberEncoder {
    deflate: Compress,
    json: Vec<u8>,
    gzip: Vec<u8>,
}

impl MemberEncoder {
    /// An encoder gzipping at `level` (1–9).
    pub fn new(level: u32) -> MemberEncoder {
        MemberEncoder { deflate: Compress::new(Compression::new(level), false), json: Vec::new(), gzip: Vec::new() }
    }

    /// The member name of context `index` of shard `shard` with stable id `id`.
    pub fn name(shard: u64, index: u64, id: u64) -> String {
        format!("{shard:08}_{index:08}_{id:016x}.json.gz")
    }

    /// Appends the tar member holding `tokens` to `out`.
    pub fn append(&mut self, out: &mut Vec<u8>, name: &str, tokens: &[u32]) -> std::io::Result<()> {
        json_list(tokens, &mut self.json);
        gzip(&mut self.deflate, &self.json, &mut self.gzip)?;
        tar::append_member(out, name, &self.gzip)
    }
}

/// `[a,b,c]` into `out` (cleared first).
pub fn json_list(tokens: &[u32], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(tokens.len() * 6 + 2);
    out.push(b'[');
    for (i, &t) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_decimal(t, out);
    }
    out.push(b']');
}

fn push_decimal(mut n: u32, out: &mut Vec<u8>) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A gzip stream of `data` into `out` (cleared first), reusing `deflate`.
fn gzip(deflate: &mut Compress, data: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    deflate.reset();
    out.clear();
    out.reserve(data.len() / 2 + 64);
    out.extend_from_slice(&GZIP_HEADER);
    loop {
        let consumed = deflate.total_in() as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let status = deflate
            .compress_vec(&data[consumed..], out, FlushCompress::Finish)
            .map_err(|e| std::io::Error::other(format!("deflate failed: {e}")))?;
        if status == Status::StreamEnd {
            break;
        }
    }
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn members_are_gzipped_json_lists() {
        let mut encoder = MemberEncoder::new(1);
        let tokens: Vec<u32> = (0..5000).map(|i| (i * 7919) % 60000).collect();
        let mut out = Vec::new();
        for round in 0..3 {
            let name = MemberEncoder::name(3, round, 0xfeed);
            encoder.append(&mut out, &name, &tokens[..(round as usize + 1) * 1000]).unwrap();
        }
        tar::finish(&mut out).unwrap();
        let members = tar::read_members(&out[..]).unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(members[1].0, "00000003_00000001_000000000000feed.json.gz");
        for (i, (_, data)) in members.iter().enumerate() {
            let mut json = String::new();
            flate2::read::GzDecoder::new(&data[..]).read_to_string(&mut json).unwrap();
            let parsed: Vec<u32> = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed, &tokens[..(i + 1) * 1000]);
            assert_eq!(json, serde_json::to_string(&parsed).unwrap());
        }
        let mut empty = Vec::new();
        json_list(&[], &mut empty);
        assert_eq!(empty, b"[]");
        json_list(&[0, 4294967295], &mut empty);
        assert_eq!(empty, b"[0,4294967295]");
    }
}

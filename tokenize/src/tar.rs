//! A small tar writer (and reader) for webdataset shards: POSIX ustar headers with fixed metadata
//! (mode 0644, uid/gid 0, mtime 0), so the same members give the same bytes on every machine. Python's
//! `tarfile` and `webdataset` read it; names are at most 100 bytes (ours are ~45).

use std::io::{self, Read, Write};

const BLOCK: usize = 512;

/// One member's header block.
fn header(name: &str, size: u64) -> io::Result<[u8; BLOCK]> {
    if name.len() > 100 || name.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("tar member name '{name}' is not 1..=100 bytes"),
        ));
    }
    if size >= 1 << 33 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "tar member of 8 GiB or more"));
    }
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

/// Appends one member (header, data, padding to a block) to `out`.
pub fn append_member(out: &mut Vec<u8>, name: &str, data: &[u8]) -> io::Result<()> {
    out.extend_from_slice(&header(name, data.len() as u64)?);
    out.extend_from_slice(data);
    let padding = (BLOCK - data.len() % BLOCK) % BLOCK;
    out.resize(out.len() + padding, 0);
    Ok(())
}

/// The end of an archive: two zero blocks.
pub fn finish(out: &mut impl Write) -> io::Result<()> {
    out.write_all(&[0u8; 2 * BLOCK])
}

/// Reads every member of a tar archive: (name, data), in order. For summaries and tests.
pub fn read_members(mut input: impl Read) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut members = Vec::new();
    let mut block = [0u8; BLOCK];
    loop {
        match input.read_exact(&mut block) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && members.is_empty() => return Ok(members),
            Err(e) => return Err(e),
        }
        if block.iter().all(|b| *b == 0) {
            return Ok(members);
        }
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad tar header: {what}"));
        let name_end = block[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let name = String::from_utf8(block[..name_end].to_vec()).map_err(|_| bad("name"))?;
        let size_field = std::str::from_utf8(&block[124..136]).map_err(|_| bad("size"))?;
        let size = u64::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
            .map_err(|_| bad("size"))?;
        let mut data = vec![0u8; size as usize];
        input.read_exact(&mut data)?;
        let padding = (BLOCK - size as usize % BLOCK) % BLOCK;
        io::copy(&mut (&mut input).take(padding as u64), &mut io::sink())?;
        members.push((name, data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_headers_checksum() {
        let mut out = Vec::new();
        append_member(&mut out, "00000000_00000000_abc.json.gz", b"hello").unwrap();
        append_member(&mut out, "b", &[7u8; 1024]).unwrap();
        finish(&mut out).unwrap();
        assert_eq!(out.len(), 512 + 512 + 512 + 1024 + 1024);
        let members = read_members(&out[..]).unwrap();
        assert_eq!(members[0], ("00000000_00000000_abc.json.gz".to_string(), b"hello".to_vec()));
        assert_eq!(members[1].1.len(), 1024);
        // The checksum is the sum of the header bytes with the checksum field as spaces.
        let h = &out[..512];
        let mut copy = h.to_vec();
        copy[148..156].copy_from_slice(b"        ");
        let sum: u32 = copy.iter().map(|b| *b as u32).sum();
        assert_eq!(std::str::from_utf8(&h[148..154]).unwrap(), format!("{sum:06o}"));
        assert!(append_member(&mut out, &"x".repeat(101), b"").is_err());
    }
}

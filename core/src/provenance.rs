//! Identifiers and timestamps of the reference files sluice writes (DCLM's `exp_data` JSONs): a uuid derived
//! from the content it describes, so the same output always gets the same id and different outputs different
//! ones, and DCLM's `creation_date` format.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UUID (version 8, "custom") derived from `bytes`: the same content gets the same id.
pub fn derived_uuid(bytes: &[u8]) -> String {
    let mut b = xxhash_rust::xxh3::xxh3_128(bytes).to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The content hash sluice records for a file it references (`xxh3-128:` and 32 hex digits, the digest
/// `xxhsum -H2` prints), so a reference can be checked against the bytes it names.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("xxh3-128:{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// `time` in UTC as DCLM's reference files write it: `datetime.now().strftime("%Y_%m_%d-%H_%M_%S")`.
pub fn creation_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}_{month:02}_{day:02}-{:02}_{:02}_{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn content_hash_is_xxhsum_h2() {
        // `xxhsum -H2 /dev/null` prints 99aa06d3014798d86001c324468d497f (XXH128 of no bytes).
        assert_eq!(content_hash(b""), "xxh3-128:99aa06d3014798d86001c324468d497f");
        assert_ne!(content_hash(b"a"), content_hash(b"b"));
    }

    #[test]
    fn creation_date_matches_python_strftime() {
        // python3 -c 'import datetime; print(datetime.datetime.utcfromtimestamp(T).strftime("%Y_%m_%d-%H_%M_%S"))'
        let at = |t: u64| creation_date(UNIX_EPOCH + Duration::from_secs(t));
        assert_eq!(at(0), "1970_01_01-00_00_00");
        assert_eq!(at(951_782_400), "2000_02_29-00_00_00");
        assert_eq!(at(1_715_762_119), "2024_05_15-08_35_19");
        assert_eq!(at(4_107_542_399), "2100_02_28-23_59_59");
    }

    #[test]
    fn derived_uuids_are_stable_and_well_formed() {
        let id = derived_uuid(b"manifest");
        assert_eq!(id, derived_uuid(b"manifest"));
        assert_ne!(id, derived_uuid(b"manifest2"));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8", "version nibble");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "variant bits");
    }
}

//! Small, allocation-free JSON and time writers used by the renderers.

use std::fmt::Write as _;

/// Appends `s` as a JSON string literal (with quotes).
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// Appends the JSON-escaped body of `s` (no quotes).
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => {
                out.push_str(s.get(last..i).unwrap_or_default());
                let _ = write!(out, "\\u{b:04x}");
                last = i + 1;
                continue;
            }
            _ => continue,
        };
        out.push_str(s.get(last..i).unwrap_or_default());
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(s.get(last..).unwrap_or_default());
}

/// Appends `"key":` to `out`.
pub(crate) fn key(out: &mut String, k: &str) {
    out.push('"');
    out.push_str(k);
    out.push_str("\":");
}

/// Appends a decimal number.
pub(crate) fn num(out: &mut String, n: impl std::fmt::Display) {
    let _ = write!(out, "{n}");
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Appends a UTC timestamp with milliseconds, `2024-05-01T10:15:00.000Z`.
pub(crate) fn time_ms(out: &mut String, ms: i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil(days);
    let h = rem / 3_600_000;
    let mi = rem / 60_000 % 60;
    let s = rem / 1000 % 60;
    let milli = rem % 1000;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z"
    );
}

/// Appends a date only, `2024-05-01`.
pub(crate) fn date(out: &mut String, ms: i64) {
    let (y, m, d) = civil(ms.div_euclid(86_400_000));
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

/// Day of the week, 0 = Monday.
pub(crate) fn weekday(ms: i64) -> usize {
    // 1970-01-01 was a Thursday.
    ((ms.div_euclid(86_400_000) + 3).rem_euclid(7)) as usize
}

const B32_SORT: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Appends an AT Protocol TID (13 base32-sortable characters) for a microsecond time and clock id.
pub(crate) fn tid(out: &mut String, micros: i64, clock: u64) {
    let v = ((micros.max(0) as u64) << 10) | (clock & 0x3ff);
    for i in (0..13).rev() {
        let idx = ((v >> (i * 5)) & 31) as usize;
        out.push(char::from(B32_SORT.get(idx).copied().unwrap_or(b'2')));
    }
}

/// A 64-bit mixing function (SplitMix64 finaliser) for derived identifiers.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Appends `n` lowercase RFC 4648 base32 characters derived from `seed`.
pub(crate) fn b32(out: &mut String, seed: u64, n: usize) {
    let mut h = mix(seed);
    for i in 0..n {
        if i % 12 == 11 {
            h = mix(h);
        }
        out.push(char::from(
            B32.get((h & 31) as usize).copied().unwrap_or(b'a'),
        ));
        h >>= 5;
    }
}

/// Appends a CID v1 (dag-cbor, sha2-256) lookalike derived from `seed`.
pub(crate) fn cid(out: &mut String, seed: u64) {
    out.push_str("bafyrei");
    b32(out, seed ^ 0x5eed_c1d0, 52);
}

//! Small target-independent helpers shared by the guest programs.
//!
//! Nothing in here talks to WASI directly: the `wstd-client` binary links this
//! library too, and must do all of its HTTP through `wstd`.

/// The repeating pattern used for generated request bodies.
pub const PATTERN: &[u8; 16] = b"0123456789abcdef";

/// Fills `buf` with [`PATTERN`] as if `buf[0]` were at byte `offset` of an
/// infinite repetition of the pattern starting at offset 0.
pub fn fill_pattern(buf: &mut [u8], offset: u64) {
    // `offset % 16` always fits in usize.
    let start = (offset % PATTERN.len() as u64) as usize;
    for (i, b) in buf.iter_mut().enumerate() {
        *b = PATTERN[(start + i) % PATTERN.len()];
    }
}

/// Strict unsigned decimal parser: only ASCII digits, no sign, no
/// whitespace, no overflow.
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Strict decimal parser for `i32` (optional leading `-`).
pub fn parse_i32(s: &str) -> Option<i32> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Converts milliseconds to nanoseconds (the unit of `wasi:clocks` durations).
pub fn ms_to_ns(ms: u64) -> Option<u64> {
    ms.checked_mul(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_continues_across_offsets() {
        let mut whole = vec![0u8; 100];
        fill_pattern(&mut whole, 0);
        assert_eq!(&whole[..16], PATTERN);
        let mut tail = vec![0u8; 37];
        fill_pattern(&mut tail, 63);
        assert_eq!(&tail[..], &whole[63..]);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("65536"), Some(65536));
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("1x"), None);
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_i32("-3"), Some(-3));
        assert_eq!(parse_i32("-"), None);
        assert_eq!(parse_i32("2147483648"), None);
        assert_eq!(ms_to_ns(5), Some(5_000_000));
        assert_eq!(ms_to_ns(u64::MAX), None);
    }
}

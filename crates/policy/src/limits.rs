//! Resource limits on outbound requests, and the duration and size syntax of
//! the flags that set them.

use std::fmt;
use std::time::Duration;

use crate::error::ValueError;

/// Time to establish a TCP (and TLS) connection: a reachable server answers
/// within a few seconds even across continents; 10 s leaves room for a slow
/// handshake without letting a black-holed address stall the guest for long.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time from sending the request to the first response byte: long enough for
/// ordinary API calls that compute before answering, short enough that a hung
/// server does not hold a request slot for minutes.
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);

/// Time between response body chunks: a live stream sends something well
/// within 30 s; silence for longer means the peer is stuck.
pub const DEFAULT_BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest request body a guest may send: 100 MiB covers uploads of
/// documents and images while keeping a runaway guest from streaming forever.
pub const DEFAULT_MAX_REQUEST_BODY: u64 = 100 * MIB;

/// Largest response body a guest may receive: 1 GiB allows model files and
/// archives while bounding what a hostile server can push into the sandbox.
pub const DEFAULT_MAX_RESPONSE_BODY: u64 = GIB;

/// Requests in flight at once: 64 is plenty for fan-out patterns, and caps
/// the sockets and memory one guest can hold on the host.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 64;

/// Requests over a whole run: 100 000 is far above what a normal job makes,
/// so hitting it points at a retry loop gone wrong rather than real work.
pub const DEFAULT_MAX_REQUESTS: u64 = 100_000;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;

/// Resource limits on a guest's outbound requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// See [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// See [`DEFAULT_FIRST_BYTE_TIMEOUT`].
    pub first_byte_timeout: Duration,
    /// See [`DEFAULT_BETWEEN_BYTES_TIMEOUT`].
    pub between_bytes_timeout: Duration,
    /// Bytes; see [`DEFAULT_MAX_REQUEST_BODY`].
    pub max_request_body: u64,
    /// Bytes; see [`DEFAULT_MAX_RESPONSE_BODY`].
    pub max_response_body: u64,
    /// See [`DEFAULT_MAX_CONCURRENT_REQUESTS`].
    pub max_concurrent_requests: usize,
    /// See [`DEFAULT_MAX_REQUESTS`].
    pub max_requests: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            first_byte_timeout: DEFAULT_FIRST_BYTE_TIMEOUT,
            between_bytes_timeout: DEFAULT_BETWEEN_BYTES_TIMEOUT,
            max_request_body: DEFAULT_MAX_REQUEST_BODY,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_requests: DEFAULT_MAX_REQUESTS,
        }
    }
}

impl Limits {
    /// A guest's own timeout is honoured but capped by the policy: returns min(guest, policy).
    ///
    /// `which` should be a timeout; the other limits cap no time, so for them
    /// the guest's value (or [`Duration::MAX`]) comes back unchanged.
    pub fn effective_timeout(&self, which: Limit, guest: Option<Duration>) -> Duration {
        let policy = self.timeout(which).unwrap_or(Duration::MAX);
        guest.map_or(policy, |g| g.min(policy))
    }

    /// The policy's value for a timeout limit; `None` for the other limits.
    pub fn timeout(&self, which: Limit) -> Option<Duration> {
        match which {
            Limit::ConnectTimeout => Some(self.connect_timeout),
            Limit::FirstByteTimeout => Some(self.first_byte_timeout),
            Limit::BetweenBytesTimeout => Some(self.between_bytes_timeout),
            _ => None,
        }
    }

    /// The value of a limit, formatted for messages ("10s", "100 MiB", "64").
    pub fn describe(&self, which: Limit) -> String {
        match which {
            Limit::ConnectTimeout => format_duration(self.connect_timeout),
            Limit::FirstByteTimeout => format_duration(self.first_byte_timeout),
            Limit::BetweenBytesTimeout => format_duration(self.between_bytes_timeout),
            Limit::MaxRequestBody => format_size(self.max_request_body),
            Limit::MaxResponseBody => format_size(self.max_response_body),
            Limit::MaxConcurrentRequests => self.max_concurrent_requests.to_string(),
            Limit::MaxRequests => self.max_requests.to_string(),
        }
    }
}

/// Names a limit so messages can say which flag raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// [`Limits::connect_timeout`].
    ConnectTimeout,
    /// [`Limits::first_byte_timeout`].
    FirstByteTimeout,
    /// [`Limits::between_bytes_timeout`].
    BetweenBytesTimeout,
    /// [`Limits::max_request_body`].
    MaxRequestBody,
    /// [`Limits::max_response_body`].
    MaxResponseBody,
    /// [`Limits::max_concurrent_requests`].
    MaxConcurrentRequests,
    /// [`Limits::max_requests`].
    MaxRequests,
}

impl Limit {
    /// Every limit, for listing them in help and config docs.
    pub const ALL: [Limit; 7] = [
        Limit::ConnectTimeout,
        Limit::FirstByteTimeout,
        Limit::BetweenBytesTimeout,
        Limit::MaxRequestBody,
        Limit::MaxResponseBody,
        Limit::MaxConcurrentRequests,
        Limit::MaxRequests,
    ];

    /// The command-line flag that sets this limit.
    pub fn flag(self) -> &'static str {
        match self {
            Limit::ConnectTimeout => "--connect-timeout",
            Limit::FirstByteTimeout => "--first-byte-timeout",
            Limit::BetweenBytesTimeout => "--between-bytes-timeout",
            Limit::MaxRequestBody => "--max-request-body",
            Limit::MaxResponseBody => "--max-response-body",
            Limit::MaxConcurrentRequests => "--max-concurrent-requests",
            Limit::MaxRequests => "--max-requests",
        }
    }

    /// The config-file key that sets this limit (the flag with underscores).
    pub fn config_key(self) -> &'static str {
        match self {
            Limit::ConnectTimeout => "connect_timeout",
            Limit::FirstByteTimeout => "first_byte_timeout",
            Limit::BetweenBytesTimeout => "between_bytes_timeout",
            Limit::MaxRequestBody => "max_request_body",
            Limit::MaxResponseBody => "max_response_body",
            Limit::MaxConcurrentRequests => "max_concurrent_requests",
            Limit::MaxRequests => "max_requests",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

const DURATION_EXAMPLES: &str = "250ms, 10s, 2m or 1h";

/// Parses a timeout: "250ms", "10s", "2m", "1h"; a bare number is seconds.
///
/// Numbers are whole; units are case-insensitive and may follow a space.
/// Zero is refused because a zero timeout would fail every request. Errors
/// quote the input and show examples.
pub fn parse_duration(s: &str) -> Result<Duration, ValueError> {
    let err = |problem: &str| ValueError::new("duration", s, problem, DURATION_EXAMPLES);
    let expected =
        "expected a whole number with an optional unit ms, s, m or h (a bare number is seconds)";
    let (number, unit) = split_number(s).ok_or_else(|| err(expected))?;
    let millis_per_unit: u64 = match unit.to_ascii_lowercase().as_str() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(err(expected)),
    };
    let millis = number
        .checked_mul(millis_per_unit)
        .ok_or_else(|| err("too large"))?;
    if millis == 0 {
        return Err(err("a zero timeout would fail every request"));
    }
    Ok(Duration::from_millis(millis))
}

const SIZE_EXAMPLES: &str = "1024, 64KiB, 10MiB, 1GiB or 10MB";

/// Every unit [`parse_size`] accepts (case-insensitive) with its bytes. Its error text
/// lists them from here, so the two cannot disagree.
const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KiB", KIB),
    ("MiB", MIB),
    ("GiB", GIB),
    ("TiB", TIB),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("K", KIB),
    ("M", MIB),
    ("G", GIB),
    ("T", TIB),
];

/// "expected a whole number of bytes with an optional unit B, KiB, …, G or T".
fn expected_size() -> String {
    let names: Vec<&str> = SIZE_UNITS.iter().map(|(name, _)| *name).collect();
    let (last, rest) = names.split_last().expect("SIZE_UNITS is not empty");
    format!(
        "expected a whole number of bytes with an optional unit {} or {last}",
        rest.join(", ")
    )
}

/// Parses a byte count: "1024", "64KiB", "10MiB", "1GiB", also "10MB"/"10M"/"10k".
///
/// Units are case-insensitive: `B`; `KiB`/`MiB`/`GiB`/`TiB` are binary
/// (1024-based); `KB`/`MB`/`GB`/`TB` are decimal (1000-based), as the SI and
/// IEC names say; bare `K`/`M`/`G`/`T` are binary, as in most CLI tools.
/// Zero is allowed (for a body limit it forbids bodies).
pub fn parse_size(s: &str) -> Result<u64, ValueError> {
    let err = |problem: &str| ValueError::new("size", s, problem, SIZE_EXAMPLES);
    let (number, unit) = split_number(s).ok_or_else(|| err(&expected_size()))?;
    let multiplier = if unit.is_empty() {
        1
    } else {
        SIZE_UNITS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(unit))
            .map(|(_, bytes)| *bytes)
            .ok_or_else(|| err(&expected_size()))?
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| err("too large"))
}

/// Splits `"10 MiB"` into `(10, "MiB")`; `None` when there is no leading number.
fn split_number(s: &str) -> Option<(u64, &str)> {
    let s = s.trim();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number = s[..digits].parse().ok()?;
    Some((number, s[digits..].trim_start()))
}

/// Bytes in the largest binary unit that divides them exactly: "100 MiB", "1 GiB", "512 B".
pub fn format_size(n: u64) -> String {
    for (unit, size) in [("TiB", TIB), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)] {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} B")
}

/// A duration in the largest unit that divides it exactly: "10s", "250ms",
/// "2m", "1h" (the syntax [`parse_duration`] reads; sub-millisecond values,
/// which no flag sets, fall back to "us" and "ns").
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    const MS: u128 = 1_000_000;
    for (unit, size) in [
        ("h", 3_600_000 * MS),
        ("m", 60_000 * MS),
        ("s", 1_000 * MS),
        ("ms", MS),
        ("us", 1_000),
    ] {
        if nanos >= size && nanos.is_multiple_of(size) {
            return format!("{}{unit}", nanos / size);
        }
    }
    format!("{nanos}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_durations() {
        let table: &[(&str, u64)] = &[
            ("250ms", 250),
            ("10s", 10_000),
            ("10", 10_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("10S", 10_000),
            ("5 MS", 5),
            (" 3s ", 3_000),
        ];
        for (input, millis) in table {
            let got = parse_duration(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, Duration::from_millis(*millis), "{input}");
        }
    }

    #[test]
    fn does_not_accept_durations() {
        let table: &[(&str, &str)] = &[
            ("", "expected a whole number"),
            ("abc", "expected a whole number"),
            ("10x", "expected a whole number"),
            ("1.5s", "expected a whole number"),
            ("-1s", "expected a whole number"),
            ("s", "expected a whole number"),
            ("0", "a zero timeout would fail every request"),
            ("0ms", "a zero timeout would fail every request"),
            ("99999999999999999999", "expected a whole number"),
            ("18446744073709551615h", "too large"),
        ];
        for (input, fragment) in table {
            let err = parse_duration(input).expect_err(input).to_string();
            assert!(
                err.contains(fragment),
                "{input}: {err:?} lacks {fragment:?}"
            );
            assert!(
                err.starts_with(&format!("invalid duration {input:?}")),
                "{err}"
            );
            assert!(err.contains("e.g. 250ms"), "{err}");
        }
    }

    #[test]
    fn accepts_sizes() {
        let table: &[(&str, u64)] = &[
            ("1024", 1024),
            ("0", 0),
            ("512B", 512),
            ("64KiB", 64 * 1024),
            ("10MiB", 10 << 20),
            ("1GiB", 1 << 30),
            ("10MB", 10_000_000),
            ("10mb", 10_000_000),
            ("2GB", 2_000_000_000),
            ("10M", 10 << 20),
            ("10k", 10 << 10),
            ("1 gib", 1 << 30),
            ("1T", 1 << 40),
        ];
        for (input, want) in table {
            let got = parse_size(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, *want, "{input}");
        }
    }

    #[test]
    fn every_unit_parses_and_the_error_lists_every_unit() {
        let err = parse_size("10 parsecs").unwrap_err().to_string();
        assert!(
            err.contains("unit B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, K, M, G or T"),
            "{err}"
        );
        for (name, bytes) in SIZE_UNITS {
            assert_eq!(parse_size(&format!("1{name}")).unwrap(), *bytes, "{name}");
            let lower = name.to_ascii_lowercase();
            assert_eq!(
                parse_size(&format!("1 {lower}")).unwrap(),
                *bytes,
                "{lower}"
            );
        }
        assert_eq!(parse_size("2TB").unwrap(), 2_000_000_000_000);
        assert_eq!(parse_size("1TiB").unwrap(), 1 << 40);
    }

    #[test]
    fn does_not_accept_sizes() {
        let table: &[(&str, &str)] = &[
            ("", "expected a whole number of bytes"),
            ("MiB", "expected a whole number of bytes"),
            ("10 parsecs", "expected a whole number of bytes"),
            ("1.5GiB", "expected a whole number of bytes"),
            ("-1", "expected a whole number of bytes"),
            ("100000000TiB", "too large"),
        ];
        for (input, fragment) in table {
            let err = parse_size(input).expect_err(input).to_string();
            assert!(
                err.contains(fragment),
                "{input}: {err:?} lacks {fragment:?}"
            );
            assert!(err.starts_with(&format!("invalid size {input:?}")), "{err}");
            assert!(err.contains("e.g. 1024, 64KiB"), "{err}");
        }
    }

    #[test]
    fn formats_sizes_and_durations() {
        let sizes: &[(u64, &str)] = &[
            (DEFAULT_MAX_REQUEST_BODY, "100 MiB"),
            (DEFAULT_MAX_RESPONSE_BODY, "1 GiB"),
            (512, "512 B"),
            (0, "0 B"),
            (1536, "1536 B"),
            (3 * KIB / 2 * 1024, "1536 KiB"),
        ];
        for (n, want) in sizes {
            assert_eq!(format_size(*n), *want);
        }
        let durations: &[(Duration, &str)] = &[
            (DEFAULT_CONNECT_TIMEOUT, "10s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(5), "5us"),
        ];
        for (d, want) in durations {
            assert_eq!(format_duration(*d), *want);
        }
    }

    #[test]
    fn caps_guest_timeouts() {
        let limits = Limits::default();
        let table: &[(Limit, Option<u64>, u64)] = &[
            (Limit::ConnectTimeout, None, 10),
            (Limit::ConnectTimeout, Some(5), 5),
            (Limit::ConnectTimeout, Some(60), 10),
            (Limit::FirstByteTimeout, Some(60), 30),
            (Limit::BetweenBytesTimeout, Some(1), 1),
        ];
        for (which, guest, want) in table {
            let got = limits.effective_timeout(*which, guest.map(Duration::from_secs));
            assert_eq!(got, Duration::from_secs(*want), "{which:?} {guest:?}");
        }
        assert_eq!(
            limits.effective_timeout(Limit::MaxRequests, None),
            Duration::MAX
        );
    }

    #[test]
    fn names_flags_and_keys() {
        for limit in Limit::ALL {
            let from_flag = limit.flag().trim_start_matches("--").replace('-', "_");
            assert_eq!(from_flag, limit.config_key());
        }
        assert_eq!(Limit::MaxResponseBody.flag(), "--max-response-body");
        assert_eq!(Limit::ConnectTimeout.config_key(), "connect_timeout");
        let limits = Limits::default();
        assert_eq!(limits.describe(Limit::MaxRequestBody), "100 MiB");
        assert_eq!(limits.describe(Limit::FirstByteTimeout), "30s");
        assert_eq!(limits.describe(Limit::MaxConcurrentRequests), "64");
        assert_eq!(limits.max_requests, 100_000);
    }
}

//! Special address ranges: addresses that a public-looking name may resolve to
//! (DNS rebinding, internal services, cloud metadata) and that are refused
//! after DNS unless a rule names them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::embedded_ipv4::{Carrier, is_local_use_nat64, same_host_ipv4, tunnelled_ipv4};
use crate::error::ValueError;
use crate::target::parse_ipv6;

/// Special address ranges refused after DNS unless a rule names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialRange {
    /// `0.0.0.0`, `::`: many stacks dial these as the local host.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// RFC 6598 carrier-grade NAT space, `100.64/10`.
    SharedCgnat,
    /// `fc00::/7` (and the deprecated site-local `fec0::/10`).
    UniqueLocal,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// Cloud instance metadata services, which hand out credentials:
    /// `169.254.169.254`, `fd00:ec2::254`, `100.100.100.200` (Alibaba).
    CloudMetadata,
    /// `240/4`, `0/8`, documentation (`192.0.2/24`, `198.51.100/24`,
    /// `203.0.113/24`, `2001:db8::/32`), benchmarking (`198.18/15`), IETF
    /// protocol assignments (`192.0.0/24`) and the IPv6 discard prefix `100::/64`.
    Reserved,
    /// NAT64 local-use `64:ff9b:1::/48` (RFC 8215): translated to IPv4 inside
    /// the operator's network, at a position in the address that cannot be
    /// known from outside, so it is refused whatever it carries.
    LocalUseNat64,
}

impl fmt::Display for SpecialRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpecialRange::Unspecified => "unspecified",
            SpecialRange::Loopback => "loopback",
            SpecialRange::Private => "private (RFC 1918)",
            SpecialRange::LinkLocal => "link-local",
            SpecialRange::SharedCgnat => "shared carrier-grade NAT space (RFC 6598)",
            SpecialRange::UniqueLocal => "unique local (fc00::/7)",
            SpecialRange::Multicast => "multicast",
            SpecialRange::Broadcast => "broadcast",
            SpecialRange::CloudMetadata => "cloud metadata",
            SpecialRange::Reserved => "reserved",
            SpecialRange::LocalUseNat64 => "NAT64 local-use (64:ff9b:1::/48)",
        })
    }
}

/// Fold IPv6 forms of an IPv4 address to that address (what connect dials is unchanged; this is for checks).
///
/// Folds IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d` (except
/// `::` and `::1`), SIIT-translated `::ffff:0:a.b.c.d` and NAT64
/// `64:ff9b::a.b.c.d`, because each of them reaches the embedded IPv4 address
/// itself. Tunnelled forms (6to4, Teredo, ISATAP) are other addresses and are
/// not folded; [`classify`] judges them by what they carry.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => same_host_ipv4(v6).map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Classify an address, or `None` for an ordinary public address.
///
/// IPv6 forms of an IPv4 address are folded first ([`canonical_ip`]). A
/// tunnelled form (6to4, Teredo client or server, ISATAP) takes the range of
/// the first special IPv4 address it carries, else its own. NAT64 local-use
/// `64:ff9b:1::/48` is always [`SpecialRange::LocalUseNat64`].
/// CloudMetadata = 169.254.169.254, fd00:ec2::254, 100.100.100.200 (Alibaba),
/// and is checked before LinkLocal.
pub fn classify(ip: IpAddr) -> Option<SpecialRange> {
    judge(ip).map(|(range, _)| range)
}

/// The range `ip` is in and, when that comes from a tunnelled IPv4 address,
/// which one and how it is carried (for messages).
pub(crate) fn judge(ip: IpAddr) -> Option<(SpecialRange, Option<(Carrier, Ipv4Addr)>)> {
    let v6 = match canonical_ip(ip) {
        IpAddr::V4(v4) => return classify_v4(v4).map(|range| (range, None)),
        IpAddr::V6(v6) => v6,
    };
    if is_local_use_nat64(v6) {
        return Some((SpecialRange::LocalUseNat64, None));
    }
    let carried = tunnelled_ipv4(v6)
        .into_iter()
        .find_map(|(carrier, v4)| classify_v4(v4).map(|range| (range, Some((carrier, v4)))));
    carried.or_else(|| classify_v6(v6).map(|range| (range, None)))
}

/// True when `ip` lies in `net/len`.
fn in_v4(ip: u32, net: [u8; 4], len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    ip & mask == u32::from_be_bytes(net) & mask
}

/// True when `ip` lies in `net/len`.
fn in_v6(ip: u128, net: Ipv6Addr, len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    ip & mask == u128::from(net) & mask
}

fn classify_v4(ip: Ipv4Addr) -> Option<SpecialRange> {
    use SpecialRange::*;
    let n = u32::from(ip);
    // Exact addresses first: each sits inside a broader range below.
    let exact = match ip.octets() {
        [0, 0, 0, 0] => Some(Unspecified),
        [169, 254, 169, 254] | [100, 100, 100, 200] => Some(CloudMetadata),
        [255, 255, 255, 255] => Some(Broadcast),
        _ => None,
    };
    if exact.is_some() {
        return exact;
    }
    let ranges: &[([u8; 4], u32, SpecialRange)] = &[
        ([127, 0, 0, 0], 8, Loopback),
        ([10, 0, 0, 0], 8, Private),
        ([172, 16, 0, 0], 12, Private),
        ([192, 168, 0, 0], 16, Private),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([100, 64, 0, 0], 10, SharedCgnat),
        ([224, 0, 0, 0], 4, Multicast),
        ([240, 0, 0, 0], 4, Reserved),
        ([0, 0, 0, 0], 8, Reserved),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Reserved),
        ([198, 51, 100, 0], 24, Reserved),
        ([203, 0, 113, 0], 24, Reserved),
        ([198, 18, 0, 0], 15, Reserved),
    ];
    ranges
        .iter()
        .find(|(net, len, _)| in_v4(n, *net, *len))
        .map(|(_, _, range)| *range)
}

fn classify_v6(ip: Ipv6Addr) -> Option<SpecialRange> {
    use SpecialRange::*;
    if ip == Ipv6Addr::UNSPECIFIED {
        return Some(Unspecified);
    }
    if ip == Ipv6Addr::LOCALHOST {
        return Some(Loopback);
    }
    // AWS's IPv6 metadata endpoint lies inside fc00::/7, so it is checked first.
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(CloudMetadata);
    }
    let n = u128::from(ip);
    let ranges: &[(Ipv6Addr, u32, SpecialRange)] = &[
        (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, UniqueLocal),
        (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, UniqueLocal),
        (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, LinkLocal),
        (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, Multicast),
        (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, Reserved),
        (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, Reserved),
    ];
    ranges
        .iter()
        .find(|(net, len, _)| in_v6(n, *net, *len))
        .map(|(_, _, range)| *range)
}

/// Examples shown when a CIDR does not parse.
const CIDR_EXAMPLES: &str = "10.0.0.0/8, 127.0.0.1, fd00::/8 or [::1]";

/// Parses a `--allow-cidr` value; a bare IP means just that address (/32 or /128).
///
/// Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`), as Spin does. IPv6
/// may be bracketed (`[::1]`, `[fd00::]/8`, `[fd00::/8]`) so values copied
/// from URLs or rules work.
pub fn parse_cidr(s: &str) -> Result<IpNet, ValueError> {
    let err = |problem: String| ValueError::new("CIDR", s, problem, CIDR_EXAMPLES);
    let text = s.trim();
    if text.is_empty() {
        return Err(err("expected an IP address or ADDRESS/PREFIX-LENGTH".into()));
    }
    let (addr, len) = match text.strip_prefix('[') {
        Some(inner) => {
            let Some((inside, after)) = inner.split_once(']') else {
                return Err(err("IPv6 address has no closing ']'".into()));
            };
            match (inside.split_once('/'), after.strip_prefix('/')) {
                (Some((a, l)), None) if after.is_empty() => (a, Some(l)),
                (None, Some(l)) => (inside, Some(l)),
                (None, None) if after.is_empty() => (inside, None),
                _ => return Err(err(format!("unexpected {after:?} after ']'"))),
            }
        }
        None => match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        },
    };
    let ip: IpAddr = match addr.parse::<Ipv4Addr>() {
        Ok(v4) => IpAddr::V4(v4),
        Err(_) => IpAddr::V6(
            parse_ipv6(addr)
                .map_err(|_| err(format!("{addr:?} is not an IPv4 or IPv6 address")))?,
        ),
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max && l.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(err(format!("prefix length {l:?} is not 0-{max}"))),
        },
    };
    let net = IpNet::new(ip, len).map_err(|e| err(e.to_string()))?;
    Ok(net.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SpecialRange::*;

    // These addresses are only values being classified, never contacted.
    #[test]
    fn classifies_addresses() {
        let table: &[(&str, Option<SpecialRange>)] = &[
            ("0.0.0.0", Some(Unspecified)),
            ("::", Some(Unspecified)),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::127.0.0.1", Some(Loopback)),
            ("64:ff9b::7f00:1", Some(Loopback)),
            ("10.1.2.3", Some(Private)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("169.254.169.254", Some(CloudMetadata)),
            ("::ffff:169.254.169.254", Some(CloudMetadata)),
            ("64:ff9b::a9fe:a9fe", Some(CloudMetadata)),
            ("fd00:ec2::254", Some(CloudMetadata)),
            ("100.100.100.200", Some(CloudMetadata)),
            ("169.254.1.1", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("100.64.0.1", Some(SharedCgnat)),
            ("100.127.255.254", Some(SharedCgnat)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("fec0::1", Some(UniqueLocal)),
            ("224.0.0.1", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("240.0.0.1", Some(Reserved)),
            ("0.1.2.3", Some(Reserved)),
            ("::0.0.0.2", Some(Reserved)),
            ("192.0.0.8", Some(Reserved)),
            ("192.0.2.1", Some(Reserved)),
            ("198.51.100.1", Some(Reserved)),
            ("203.0.113.1", Some(Reserved)),
            ("198.18.0.1", Some(Reserved)),
            ("198.19.255.255", Some(Reserved)),
            ("2001:db8::1", Some(Reserved)),
            ("100::1", Some(Reserved)),
            ("8.8.8.8", None),
            ("2606:4700::1111", None),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::808:808", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("198.20.0.1", None),
            ("169.255.0.1", None),
            ("100:0:0:1::1", None),
        ];
        for (ip, want) in table {
            assert_eq!(classify(ip.parse().unwrap()), *want, "{ip}");
        }
    }

    #[test]
    fn folds_embedded_ipv4() {
        let table: &[(&str, &str)] = &[
            ("::ffff:127.0.0.1", "127.0.0.1"),
            ("::127.0.0.1", "127.0.0.1"),
            ("64:ff9b::a00:1", "10.0.0.1"),
            ("::", "::"),
            ("::1", "::1"),
            ("fe80::1", "fe80::1"),
            ("10.0.0.1", "10.0.0.1"),
        ];
        for (ip, want) in table {
            let want: IpAddr = want.parse().unwrap();
            assert_eq!(canonical_ip(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn accepts_cidrs() {
        let table: &[(&str, &str)] = &[
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("127.0.0.1", "127.0.0.1/32"),
            ("::1", "::1/128"),
            ("[::1]", "::1/128"),
            ("fd00::/8", "fd00::/8"),
            ("[fd00::]/8", "fd00::/8"),
            ("[fd00::/8]", "fd00::/8"),
            (" 0.0.0.0/0 ", "0.0.0.0/0"),
        ];
        for (input, want) in table {
            let got = parse_cidr(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, want.parse::<IpNet>().unwrap(), "{input}");
        }
    }

    #[test]
    fn does_not_accept_cidrs() {
        let table: &[(&str, &str)] = &[
            ("", "expected an IP address"),
            ("10.0.0.0/33", "not 0-32"),
            ("fd00::/129", "not 0-128"),
            ("10.0.0.0/", "prefix length"),
            ("10.0.0.0/+8", "prefix length"),
            ("example.com", "not an IPv4 or IPv6 address"),
            ("10.0.0/8", "not an IPv4 or IPv6 address"),
            ("[::1", "closing"),
            ("[::1]:80", "after ']'"),
        ];
        for (input, fragment) in table {
            let err = parse_cidr(input).expect_err(input).to_string();
            assert!(
                err.contains(fragment),
                "{input}: {err:?} lacks {fragment:?}"
            );
            assert!(err.contains(&format!("{input:?}")), "{err}");
            assert!(err.contains("e.g. 10.0.0.0/8"), "{err}");
        }
    }
}

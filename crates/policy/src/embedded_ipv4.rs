//! IPv6 addresses that carry an IPv4 address.
//!
//! Two kinds, treated differently:
//!
//! - **The same host** ([`same_host_ipv4`]): IPv4-mapped `::ffff:a.b.c.d`,
//!   IPv4-compatible `::a.b.c.d`, SIIT IPv4-translated `::ffff:0:a.b.c.d`
//!   (RFC 2765) and NAT64 `64:ff9b::a.b.c.d` (RFC 6052). A socket or a
//!   translator turns them into the IPv4 address itself, so they are folded to
//!   it: checks, rules and `--allow-cidr` see the IPv4 address.
//! - **Tunnels to a host** ([`tunnelled_ipv4`]): 6to4 `2002:WWXX:YYZZ::/48`
//!   (RFC 3056), Teredo `2001::/32` (RFC 4380) and ISATAP interface ids
//!   `…:0:5efe:a.b.c.d` (RFC 5214). They are other addresses whose packets a
//!   relay or the local stack sends to the embedded IPv4 host, so they are
//!   refused when what they carry is special, but naming the IPv4 address
//!   does not allow them: only naming the IPv6 address does.
//!
//! NAT64 local-use `64:ff9b:1::/48` (RFC 8215) is neither: where the IPv4
//! address sits depends on the prefix length the operator chose, so it cannot
//! be read back, and the range is refused as a whole
//! ([`is_local_use_nat64`]).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// How a tunnelled IPv6 address carries its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Carrier {
    /// 6to4 `2002::/16`: the IPv4 address is bits 16-48.
    SixToFour,
    /// Teredo `2001::/32`: the client's address, bitwise inverted in the last 32 bits.
    TeredoClient,
    /// Teredo `2001::/32`: the Teredo server's address, bits 32-64.
    TeredoServer,
    /// ISATAP: an interface id `0000:5efe` or `0200:5efe` (any u/g bits) then
    /// the IPv4 address, under any prefix.
    Isatap,
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Carrier::SixToFour => "6to4",
            Carrier::TeredoClient => "Teredo client",
            Carrier::TeredoServer => "Teredo server",
            Carrier::Isatap => "ISATAP",
        })
    }
}

/// The NAT64 well-known prefix `64:ff9b::/96` (RFC 6052).
const NAT64: [u16; 6] = [0x64, 0xff9b, 0, 0, 0, 0];

/// The SIIT IPv4-translated prefix `::ffff:0:0:0/96` (RFC 2765).
const TRANSLATED: [u16; 6] = [0, 0, 0, 0, 0xffff, 0];

/// The IPv4 address `v6` is another spelling of, if any (see the module docs).
///
/// `::` and `::1` are IPv6's own unspecified and loopback addresses, not
/// IPv4-compatible forms of `0.0.0.0` and `0.0.0.1`.
pub(crate) fn same_host_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = v6.segments();
    let compatible =
        segments[..6] == [0; 6] && v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST;
    (compatible || segments[..6] == NAT64 || segments[..6] == TRANSLATED)
        .then(|| low_ipv4(&segments))
}

/// True for NAT64 local-use addresses, `64:ff9b:1::/48` (RFC 8215).
pub(crate) fn is_local_use_nat64(v6: Ipv6Addr) -> bool {
    v6.segments()[..3] == [0x64, 0xff9b, 1]
}

/// The IPv4 addresses a tunnelled form carries, in the order they are judged.
///
/// An address can be more than one form (ISATAP under a 6to4 prefix), and
/// Teredo carries two addresses: every one is returned.
pub(crate) fn tunnelled_ipv4(v6: Ipv6Addr) -> Vec<(Carrier, Ipv4Addr)> {
    let s = v6.segments();
    let mut carried = Vec::new();
    match s[0] {
        0x2002 => carried.push((Carrier::SixToFour, ipv4(s[1], s[2]))),
        0x2001 if s[1] == 0 => {
            carried.push((Carrier::TeredoClient, ipv4(!s[6], !s[7])));
            carried.push((Carrier::TeredoServer, ipv4(s[2], s[3])));
        }
        _ => {}
    }
    // The u (0x0200) and g (0x0100) bits of the interface id may be set.
    if s[4] & !0x0300 == 0 && s[5] == 0x5efe {
        carried.push((Carrier::Isatap, low_ipv4(&s)));
    }
    carried
}

fn ipv4(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

fn low_ipv4(segments: &[u16; 8]) -> Ipv4Addr {
    ipv4(segments[6], segments[7])
}

#[cfg(test)]
#[path = "embedded_ipv4_tests.rs"]
mod tests;

use super::*;
use crate::address::{SpecialRange, SpecialRange::*, canonical_ip, classify};
use std::net::IpAddr;

// Every address here is only a value being classified, never contacted.
// Payloads: 127.0.0.1 = 7f00:1, 10.1.2.3 = a01:203, 192.168.1.1 = c0a8:101,
// 172.16.0.1 = ac10:1, 100.64.0.1 = 6440:1, 169.254.169.254 = a9fe:a9fe,
// 8.8.8.8 = 808:808. Teredo clients are inverted: 127.0.0.1 = 80ff:fffe,
// 10.1.2.3 = f5fe:fdfc, 192.168.1.1 = 3f57:fefe, 100.64.0.1 = 9bbf:fffe,
// 169.254.169.254 = 5601:5601, 8.8.8.8 = f7f7:f7f7.

/// Address, the range it is refused as, and why.
#[test]
fn does_not_accept_addresses_carrying_special_ipv4() {
    let table: &[(&str, SpecialRange, &str)] = &[
        // SIIT IPv4-translated ::ffff:0:a.b.c.d: the same host.
        ("::ffff:0:127.0.0.1", Loopback, "SIIT loopback"),
        ("::ffff:0:10.1.2.3", Private, "SIIT RFC 1918"),
        ("::ffff:0:192.168.1.1", Private, "SIIT RFC 1918"),
        ("::ffff:0:100.64.0.1", SharedCgnat, "SIIT CGNAT"),
        ("::ffff:0:169.254.169.254", CloudMetadata, "SIIT metadata"),
        ("::ffff:0:0.0.0.0", Unspecified, "SIIT unspecified"),
        // NAT64 well-known prefix (was already folded).
        ("64:ff9b::127.0.0.1", Loopback, "NAT64 loopback"),
        ("64:ff9b::172.16.0.1", Private, "NAT64 RFC 1918"),
        ("64:ff9b::100.64.0.1", SharedCgnat, "NAT64 CGNAT"),
        ("64:ff9b::169.254.169.254", CloudMetadata, "NAT64 metadata"),
        // NAT64 local-use: refused whatever it carries, wherever it sits.
        (
            "64:ff9b:1::7f00:1",
            LocalUseNat64,
            "local-use, /96 loopback",
        ),
        (
            "64:ff9b:1::a01:203",
            LocalUseNat64,
            "local-use, /96 RFC 1918",
        ),
        ("64:ff9b:1::6440:1", LocalUseNat64, "local-use, /96 CGNAT"),
        (
            "64:ff9b:1::a9fe:a9fe",
            LocalUseNat64,
            "local-use, /96 metadata",
        ),
        (
            "64:ff9b:1:7f00:0:100::",
            LocalUseNat64,
            "local-use, /48 loopback",
        ),
        (
            "64:ff9b:1:a9:fe:a9fe::",
            LocalUseNat64,
            "local-use, /56 metadata",
        ),
        (
            "64:ff9b:1::808:808",
            LocalUseNat64,
            "local-use, public payload",
        ),
        (
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
            LocalUseNat64,
            "top of /48",
        ),
        // 6to4 2002:WWXX:YYZZ::/48.
        ("2002:7f00:1::", Loopback, "6to4 loopback"),
        (
            "2002:7f00:1:1::1",
            Loopback,
            "6to4 loopback, any subnet/host",
        ),
        ("2002:a01:203::1", Private, "6to4 RFC 1918"),
        ("2002:c0a8:101::1", Private, "6to4 RFC 1918"),
        ("2002:6440:1::1", SharedCgnat, "6to4 CGNAT"),
        ("2002:a9fe:a9fe::1", CloudMetadata, "6to4 metadata"),
        ("2002:a9fe:101::1", LinkLocal, "6to4 link-local"),
        ("2002::1", Unspecified, "6to4 of 0.0.0.0"),
        // Teredo 2001:0:SERVER:FLAGS:PORT:~CLIENT.
        (
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            Loopback,
            "Teredo client loopback",
        ),
        (
            "2001:0:4136:e378:8000:63bf:f5fe:fdfc",
            Private,
            "Teredo client RFC 1918",
        ),
        (
            "2001:0:4136:e378:8000:63bf:3f57:fefe",
            Private,
            "Teredo client RFC 1918",
        ),
        (
            "2001:0:4136:e378:8000:63bf:9bbf:fffe",
            SharedCgnat,
            "Teredo client CGNAT",
        ),
        (
            "2001:0:4136:e378:8000:63bf:5601:5601",
            CloudMetadata,
            "Teredo client metadata",
        ),
        (
            "2001:0:7f00:1:8000:63bf:f7f7:f7f7",
            Loopback,
            "Teredo server loopback",
        ),
        (
            "2001:0:a01:203::f7f7:f7f7",
            Private,
            "Teredo server RFC 1918",
        ),
        (
            "2001:0:6440:1::f7f7:f7f7",
            SharedCgnat,
            "Teredo server CGNAT",
        ),
        (
            "2001:0:a9fe:a9fe::f7f7:f7f7",
            CloudMetadata,
            "Teredo server metadata",
        ),
        (
            "2001:0:a9fe:a9fe::80ff:fffe",
            Loopback,
            "both special: the client first",
        ),
        // ISATAP interface ids, under any prefix (u/g bits 0x0200/0x0100).
        (
            "2a00:1450:4001:1:0:5efe:7f00:1",
            Loopback,
            "ISATAP loopback",
        ),
        (
            "2a00:1450:4001:1:0:5efe:a01:203",
            Private,
            "ISATAP RFC 1918",
        ),
        (
            "2a00:1450:4001:1:200:5efe:ac10:1",
            Private,
            "ISATAP u bit, RFC 1918",
        ),
        (
            "2a00:1450:4001:1:100:5efe:6440:1",
            SharedCgnat,
            "ISATAP g bit, CGNAT",
        ),
        (
            "2a00:1450:4001:1:300:5efe:a9fe:a9fe",
            CloudMetadata,
            "ISATAP u+g, metadata",
        ),
        (
            "fe80::5efe:a01:203",
            Private,
            "link-local ISATAP: the carried range",
        ),
        (
            "fe80::5efe:808:808",
            LinkLocal,
            "link-local ISATAP, public: its own range",
        ),
        ("::5efe:a01:203", Private, "ISATAP under ::/64"),
        (
            "2002:808:808:1:0:5efe:a01:203",
            Private,
            "ISATAP under public 6to4",
        ),
    ];
    for (ip, range, why) in table {
        assert_eq!(classify(ip.parse().unwrap()), Some(*range), "{ip}: {why}");
    }
}

/// Address, why it stays allowed: the form carries a public IPv4 address and
/// is not special itself (unlike NAT64 local-use, above).
#[test]
fn accepts_addresses_carrying_public_ipv4() {
    let table: &[(&str, &str)] = &[
        ("::ffff:0:8.8.8.8", "SIIT public"),
        ("64:ff9b::8.8.8.8", "NAT64 public"),
        ("2002:808:808::1", "6to4 public"),
        ("2002:808:808:ffff:1:2:3:4", "6to4 public, any subnet/host"),
        (
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
            "Teredo, public server and client",
        ),
        ("2a00:1450:4001:1:200:5efe:808:808", "ISATAP public"),
        (
            "2a00:1450:4001:1:400:5efe:a01:203",
            "not ISATAP: other interface-id bits",
        ),
        ("2a00:1450:4001:1:0:5eff:a01:203", "not ISATAP: 5eff"),
        ("2001:4860:4860::8888", "2001:4860::/32 is not Teredo"),
        ("2003:7f00:1::", "2003::/16 is not 6to4"),
        ("64:ff9b:2::7f00:1", "outside the local-use /48"),
        ("2606:4700::1111", "ordinary public IPv6"),
    ];
    for (ip, why) in table {
        assert_eq!(classify(ip.parse().unwrap()), None, "{ip}: {why}");
    }
}

/// Which forms are folded to the IPv4 address (the same host) and which are not.
#[test]
fn folds_only_same_host_forms() {
    let table: &[(&str, &str, &str)] = &[
        ("::ffff:127.0.0.1", "127.0.0.1", "mapped"),
        ("::127.0.0.1", "127.0.0.1", "compatible"),
        ("::ffff:0:10.0.0.1", "10.0.0.1", "SIIT translated"),
        ("64:ff9b::a00:1", "10.0.0.1", "NAT64 well-known prefix"),
        ("::", "::", "IPv6 unspecified"),
        ("::1", "::1", "IPv6 loopback"),
        (
            "64:ff9b:1::a00:1",
            "64:ff9b:1::a00:1",
            "local-use: cannot be read back",
        ),
        (
            "2002:7f00:1::",
            "2002:7f00:1::",
            "6to4 is a tunnel, not the host",
        ),
        (
            "2001:0:4136:e378::80ff:fffe",
            "2001:0:4136:e378::80ff:fffe",
            "Teredo",
        ),
        ("fe80::5efe:a01:203", "fe80::5efe:a01:203", "ISATAP"),
    ];
    for (ip, want, why) in table {
        let want: IpAddr = want.parse().unwrap();
        assert_eq!(canonical_ip(ip.parse().unwrap()), want, "{ip}: {why}");
    }
}

#[test]
fn reads_every_carried_address() {
    let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    let v4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
    assert_eq!(
        tunnelled_ipv4(v6("2001:0:4136:e378:8000:63bf:3fff:fdd2")),
        // RFC 4380's own example: server 65.54.227.120, client 192.0.2.45.
        [
            (Carrier::TeredoClient, v4("192.0.2.45")),
            (Carrier::TeredoServer, v4("65.54.227.120")),
        ]
    );
    assert_eq!(
        tunnelled_ipv4(v6("2002:808:808:1:200:5efe:a01:203")),
        [
            (Carrier::SixToFour, v4("8.8.8.8")),
            (Carrier::Isatap, v4("10.1.2.3")),
        ]
    );
    assert!(tunnelled_ipv4(v6("2606:4700::1111")).is_empty());
    assert_eq!(same_host_ipv4(v6("::ffff:0:1.2.3.4")), Some(v4("1.2.3.4")));
    assert!(is_local_use_nat64(v6("64:ff9b:1::1")));
    assert!(!is_local_use_nat64(v6("64:ff9b::1")));
}

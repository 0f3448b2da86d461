//! Address classification: every IPv6 form that is the same host as an IPv4 address
//! (mapped, compatible, SIIT, NAT64) is judged exactly as that IPv4 address; folding is
//! idempotent; `classify` never panics on any address or CIDR text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use wasmgate_policy::{canonical_ip, classify, parse_cidr};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 16 {
        let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(&data[..16]).unwrap());
        let folded = canonical_ip(IpAddr::V6(v6));
        assert_eq!(canonical_ip(folded), folded, "folding is idempotent");
        assert_eq!(classify(IpAddr::V6(v6)), classify(folded));
    }
    if data.len() >= 4 {
        let v4 = Ipv4Addr::from(<[u8; 4]>::try_from(&data[..4]).unwrap());
        let judged = classify(IpAddr::V4(v4));
        let o = v4.octets();
        let forms = [
            v4.to_ipv6_mapped(),
            Ipv6Addr::new(
                0,
                0,
                0,
                0,
                0xffff,
                0,
                u16::from_be_bytes([o[0], o[1]]),
                u16::from_be_bytes([o[2], o[3]]),
            ),
            Ipv6Addr::new(
                0x64,
                0xff9b,
                0,
                0,
                0,
                0,
                u16::from_be_bytes([o[0], o[1]]),
                u16::from_be_bytes([o[2], o[3]]),
            ),
        ];
        for form in forms {
            assert_eq!(canonical_ip(IpAddr::V6(form)), IpAddr::V4(v4), "{form}");
            assert_eq!(classify(IpAddr::V6(form)), judged, "{form} vs {v4}");
        }
        // IPv4-compatible ::a.b.c.d, except :: and ::1 which are IPv6's own.
        #[allow(deprecated)]
        let compatible = v4.to_ipv6_compatible();
        if u32::from(v4) > 1 {
            assert_eq!(classify(IpAddr::V6(compatible)), judged, "{compatible}");
        }
        // A tunnel carrying a special IPv4 address is never an ordinary public one.
        let six_to_four = Ipv6Addr::new(
            0x2002,
            u16::from_be_bytes([o[0], o[1]]),
            u16::from_be_bytes([o[2], o[3]]),
            0,
            0,
            0,
            0,
            1,
        );
        if judged.is_some() {
            assert!(classify(IpAddr::V6(six_to_four)).is_some(), "{six_to_four}");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ip) = text.parse::<IpAddr>() {
            let _ = classify(ip);
        }
        let _ = parse_cidr(text);
    }
});

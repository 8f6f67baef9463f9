//! The client address as the per-address limits count it: one IPv4 address, or one IPv6 /64
//! (the prefix one household or one cloud machine gets, so an attacker cannot step around a
//! limit by walking the 2^64 addresses of its own prefix). Used by the relay's sockets-per-address
//! cap, the registry's sessions-per-address cap and its failed-join throttle.

use std::net::{IpAddr, Ipv6Addr};

/// The key `ip` is counted under: IPv4 (IPv4-mapped IPv6 included) as it is, IPv6 cut to its /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> String {
        address_key(text.parse().unwrap()).to_string()
    }

    #[test]
    fn ipv4_stays_whole() {
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
    }

    #[test]
    fn mapped_ipv4_counts_as_ipv4() {
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn ipv6_counts_by_its_64_prefix() {
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2:aaaa::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }
}

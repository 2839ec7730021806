//! The country of a playback client, for the `allowedCountries` of playback restriction
//! policies (ivs.md §5: a pluggable geo-IP hook that allows everything on loopback).
//!
//! reelay ships no geo-IP database. [`DefaultGeo`] answers [`Country::Local`] (always allowed)
//! for loopback, private, link-local and unique-local addresses, [`Country::Unknown`] (refused
//! by any non-empty country list) for everything else, and takes explicit address-to-country
//! mappings from `REELAY_GEO_COUNTRIES` (`ADDR[/PREFIX]=CC` pairs separated by commas, for
//! example `127.0.0.1=FR,203.0.113.0/24=DE`), which win over the defaults; tests use them to
//! place loopback clients in a country. Another resolver can be plugged in through
//! [`GeoResolver`].

use std::net::IpAddr;

/// Where a client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    /// A local or private address: allowed whatever the policy's countries.
    Local,
    /// An ISO 3166-1 alpha-2 code, uppercase.
    Code([u8; 2]),
    /// Unknown, or the client address is not known: refused by a non-empty country list.
    Unknown,
}

/// Maps client addresses to countries.
pub trait GeoResolver: Send + Sync {
    /// The country of `addr` (`None` when the listener did not say who the peer is).
    fn country(&self, addr: Option<IpAddr>) -> Country;
}

/// Whether a client in `country` may play under a policy's `allowed_countries` (empty: all).
pub fn country_allowed(allowed: &[String], country: Country) -> bool {
    if allowed.is_empty() {
        return true;
    }
    match country {
        Country::Local => true,
        Country::Code(c) => allowed
            .iter()
            .any(|a| a.as_bytes().eq_ignore_ascii_case(&c)),
        Country::Unknown => false,
    }
}

/// Longest `REELAY_GEO_COUNTRIES` value read; the mappings are for tests and small setups.
const MAX_MAPPINGS: usize = 1024;

/// The default resolver (see the module documentation).
#[derive(Debug, Default, Clone)]
pub struct DefaultGeo {
    mappings: Vec<(IpAddr, u8, [u8; 2])>,
}

impl DefaultGeo {
    /// Reads the mappings from a `REELAY_GEO_COUNTRIES`-style value; malformed entries are
    /// skipped (and logged) rather than failing the server.
    pub fn from_spec(spec: &str) -> DefaultGeo {
        let mut mappings = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if mappings.len() >= MAX_MAPPINGS {
                break;
            }
            match parse_mapping(entry) {
                Some(m) => mappings.push(m),
                None => tracing::warn!(entry, "ignoring a malformed REELAY_GEO_COUNTRIES entry"),
            }
        }
        DefaultGeo { mappings }
    }

    /// From the environment.
    pub fn from_env() -> DefaultGeo {
        DefaultGeo::from_spec(&std::env::var("REELAY_GEO_COUNTRIES").unwrap_or_default())
    }
}

fn parse_mapping(entry: &str) -> Option<(IpAddr, u8, [u8; 2])> {
    let (net, cc) = entry.split_once('=')?;
    let cc = cc.trim().as_bytes();
    if cc.len() != 2 || !cc.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let code = [cc[0].to_ascii_uppercase(), cc[1].to_ascii_uppercase()];
    let (addr, prefix) = match net.trim().split_once('/') {
        Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
        None => {
            let a = net.trim().parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((addr, prefix, code))
}

fn in_network(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (a, n, bits) = match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    if prefix == 0 {
        return true;
    }
    let shift = bits - u32::from(prefix);
    (a >> shift) == (n >> shift)
}

fn is_local(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_loopback() || a.is_private() || a.is_link_local(),
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_local(IpAddr::V4(v4));
            }
            let first = a.segments()[0];
            // fc00::/7 unique local, fe80::/10 link local (RFC 4193, RFC 4291 §2.5.6).
            a.is_loopback() || (first & 0xFE00) == 0xFC00 || (first & 0xFFC0) == 0xFE80
        }
    }
}

impl GeoResolver for DefaultGeo {
    fn country(&self, addr: Option<IpAddr>) -> Country {
        let Some(addr) = addr else {
            return Country::Unknown;
        };
        let addr = match addr {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        if let Some((_, _, code)) = self
            .mappings
            .iter()
            .filter(|(net, prefix, _)| in_network(addr, *net, *prefix))
            .max_by_key(|(_, prefix, _)| *prefix)
        {
            return Country::Code(*code);
        }
        if is_local(addr) {
            Country::Local
        } else {
            Country::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn defaults_allow_local_addresses_only() {
        let geo = DefaultGeo::default();
        assert_eq!(geo.country(ip("127.0.0.1")), Country::Local);
        assert_eq!(geo.country(ip("10.1.2.3")), Country::Local);
        assert_eq!(geo.country(ip("::1")), Country::Local);
        assert_eq!(geo.country(ip("::ffff:192.168.1.1")), Country::Local);
        assert_eq!(geo.country(ip("fd00::1")), Country::Local);
        assert_eq!(geo.country(ip("8.8.8.8")), Country::Unknown);
        assert_eq!(geo.country(None), Country::Unknown);
        let us = vec!["US".to_string()];
        assert!(country_allowed(&us, Country::Local));
        assert!(!country_allowed(&us, Country::Unknown));
        assert!(country_allowed(&[], Country::Unknown));
    }

    #[test]
    fn mappings_win_and_the_longest_prefix_decides() {
        let geo = DefaultGeo::from_spec(
            "127.0.0.1=fr, 203.0.113.0/24=DE,203.0.113.7=us,bad,1.2.3.4=USA,::1/129=US",
        );
        assert_eq!(geo.country(ip("127.0.0.1")), Country::Code(*b"FR"));
        assert_eq!(geo.country(ip("203.0.113.9")), Country::Code(*b"DE"));
        assert_eq!(geo.country(ip("203.0.113.7")), Country::Code(*b"US"));
        assert_eq!(geo.country(ip("1.2.3.4")), Country::Unknown);
        assert_eq!(geo.country(ip("::1")), Country::Local);
        let allowed = vec!["FR".to_string()];
        assert!(country_allowed(&allowed, geo.country(ip("127.0.0.1"))));
        assert!(!country_allowed(&allowed, geo.country(ip("203.0.113.9"))));
    }
}

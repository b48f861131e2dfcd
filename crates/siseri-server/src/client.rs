//! Who the client is: its address (the TCP peer, or what a trusted reverse proxy says in
//! `X-Forwarded-For`) and whether it came over HTTPS (a trusted proxy's
//! `X-Forwarded-Proto`). Only proxies listed with `--trusted-proxy CIDR` are believed:
//! anyone else could write these headers to dodge the per-address throttle.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::AppState;

/// A block of addresses, `192.0.2.0/24`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// A `--trusted-proxy` value that is not a block of addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bloc d'adresses invalide « {0} » (attendu : 192.0.2.0/24, 2001:db8::/32 ou une adresse)")]
pub struct CidrError(pub String);

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || CidrError(s.to_string());
        let (address, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let network = canonical(address.parse::<IpAddr>().map_err(|_| error())?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(error)?,
            None => max,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u128::from(u32::from(n)), self.prefix, 32)
                    == masked(u128::from(u32::from(a)), self.prefix, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), self.prefix, 128) == masked(u128::from(a), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, prefix: u8, width: u32) -> u128 {
    let keep = u32::from(prefix).min(width);
    if keep == 0 { 0 } else { bits >> (width - keep) }
}

/// IPv4-mapped IPv6 addresses (a dual-stack socket's view of IPv4 peers) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// The proxies of these blocks.
    pub fn new(blocks: Vec<Cidr>) -> Self {
        TrustedProxies(blocks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the first
    /// address of `X-Forwarded-For` from the right that is not a trusted proxy (those to
    /// its left were written by the client and prove nothing).
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop our proxy could not have written: keep the last one we can vouch for.
            let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }

    /// Whether the request reached a trusted proxy over HTTPS (`X-Forwarded-Proto`).
    pub fn forwarded_https(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        peer.is_some_and(|p| self.trusts(canonical(p)))
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    }
}

/// The TCP peer's address, when the server was started with connection info.
pub fn peer(parts_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    parts_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client's address as text (`inconnue` when the server runs without connection info,
/// as in-process callers do).
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = state
            .trusted_proxies
            .client(peer(&parts.extensions), &parts.headers);
        Ok(ClientAddress(ip.map_or_else(
            || "inconnue".to_string(),
            |ip| ip.to_string(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            v.parse().unwrap_or_else(|_| panic!("{v}")),
        );
        h
    }

    #[test]
    fn blocks_parse_and_contain() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(c.contains(ip("10.1.200.3")));
        assert!(c.contains(ip("::ffff:10.1.0.1")));
        assert!(!c.contains(ip("10.2.0.1")));
        let one: Cidr = "2001:db8::1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(one.contains(ip("2001:db8::1")) && !one.contains(ip("2001:db8::2")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["", "10.0.0.0/33", "proxy", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let proxies =
            TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap_or_else(|e| panic!("{e}"))]);
        let spoofed = forwarded("1.1.1.1, 203.0.113.7, 10.0.0.2");
        // Not from a proxy: the peer, whatever the header says.
        assert_eq!(
            proxies.client(Some(ip("198.51.100.1")), &spoofed),
            Some(ip("198.51.100.1"))
        );
        // From the proxy: the first untrusted hop from the right.
        assert_eq!(
            proxies.client(Some(ip("10.0.0.1")), &spoofed),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            proxies.client(Some(ip("10.0.0.1")), &HeaderMap::new()),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            proxies.client(Some(ip("10.0.0.1")), &forwarded("n'importe quoi")),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(proxies.client(None, &spoofed), None);
        let mut https = HeaderMap::new();
        https.insert(
            "x-forwarded-proto",
            axum::http::HeaderValue::from_static("https"),
        );
        assert!(proxies.forwarded_https(Some(ip("10.0.0.1")), &https));
        assert!(!proxies.forwarded_https(Some(ip("192.0.2.1")), &https));
        assert!(!proxies.forwarded_https(Some(ip("10.0.0.1")), &HeaderMap::new()));
    }
}

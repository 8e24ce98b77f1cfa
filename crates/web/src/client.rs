//! Who is at the other end of a request: the client's address, for login throttling.
//!
//! It is the connection's peer, unless the peer is a proxy the operator named as trusted
//! ([`crate::Config::trusted_proxies`], `WUJIA_TRUSTED_PROXIES`). Then the client is the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy: each proxy appends the address it saw, so the entries
//! to the right of the last trusted hop were written by proxies we trust, and anything further left is whatever
//! the client chose to send. Without trusted proxies the header is ignored: any client can write it.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};

/// The client's address, as far as the operator's proxies vouch for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::Internal("served without connection info (use wujia_web::serve)".into()))?;
        Ok(Self(client_address(peer, &parts.headers, &state.config.trusted_proxies)))
    }
}

/// The client's address behind the `trusted` proxies: see the module documentation.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.contains(ip);
    if !is_trusted(&peer) {
        return peer;
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
        // A hop that is not an address ends the chain: the last trusted proxy is then the client we know.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_when_the_peer_is_a_trusted_proxy() {
        let headers = forwarded(&["198.51.100.9"]);
        assert_eq!(client_address(ip("203.0.113.5"), &headers, &[]), ip("203.0.113.5"));
        assert_eq!(client_address(ip("203.0.113.5"), &headers, &[ip("10.0.0.2")]), ip("203.0.113.5"));
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &[ip("10.0.0.2")]), ip("198.51.100.9"));
    }

    #[test]
    fn what_the_client_wrote_before_the_proxies_is_ignored() {
        let trusted = [ip("10.0.0.2"), ip("10.0.0.3")];
        // The client sent "1.1.1.1" itself; the outer proxy saw 198.51.100.9, the inner one saw the outer proxy.
        let headers = forwarded(&["1.1.1.1, 198.51.100.9", "10.0.0.3"]);
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &trusted), ip("198.51.100.9"));
        let garbled = forwarded(&["1.1.1.1, not-an-address"]);
        assert_eq!(client_address(ip("10.0.0.2"), &garbled, &trusted), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted), ip("10.0.0.2"));
    }
}

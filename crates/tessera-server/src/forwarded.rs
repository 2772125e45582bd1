//! Which address a request came from, for the audit trail.
//!
//! The peer address, unless the peer is a proxy the operator listed in `trusted_proxies`:
//! then the `X-Forwarded-For` chain is read from the right, each trusted proxy skipped, and
//! the first address no listed proxy owns is the client's. Whatever a client writes into the
//! header itself lies to the left of what its first trusted proxy appended, so it is never
//! reached while an untrusted hop stands between; a client talking to Tessera directly is
//! never believed at all. A malformed chain falls back to the last trusted hop.
//!
//! The header is read as bytes, hop by hop: a hop that is not text (a byte a client planted
//! on the left) breaks the chain only where the walk reaches it, so it can never hide the
//! address a trusted proxy appended to its right.

use std::net::IpAddr;

use ipnet::IpNet;

/// The address to record for a request from `peer` carrying `forwarded_for` (the raw values
/// of every `X-Forwarded-For` header, in order).
pub(crate) fn client_address<V: AsRef<[u8]>>(
    peer: IpAddr,
    forwarded_for: &[V],
    trusted: &[IpNet],
) -> IpAddr {
    // A dual-stack listener sees an IPv4 peer as `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2): it is
    // the IPv4 address, for the proxy list, the audit trail and the throttle alike.
    let peer = peer.to_canonical();
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));

    // A peer that is no listed proxy speaks for itself, whatever it sent.
    if !is_trusted(&peer) {
        return peer;
    }

    let mut client = peer;
    let hops = forwarded_for
        .iter()
        .rev()
        .flat_map(|value| value.as_ref().rsplit(|byte| *byte == b','));
    for hop in hops {
        let address = std::str::from_utf8(hop)
            .ok()
            .and_then(|text| text.trim().parse::<IpAddr>().ok())
            .map(|a| a.to_canonical());
        let Some(address) = address else {
            // Not an address (a port, an obfuscated name): the chain cannot be followed
            // further, so the last hop a trusted proxy vouched for is the answer.
            return client;
        };
        client = address;
        if !is_trusted(&address) {
            return address;
        }
    }
    client
}

#[cfg(test)]
mod tests;

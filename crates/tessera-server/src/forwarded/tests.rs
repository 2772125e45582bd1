#![allow(clippy::unwrap_used)]
use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|net| net.parse().unwrap()).collect()
}

/// Documentation addresses (RFC 5737): a client, a load balancer, a CDN edge.
const CLIENT: &str = "203.0.113.7";
const BALANCER: &str = "10.0.0.5";

#[test]
fn without_trusted_proxies_the_header_is_ignored() {
    let peer = ip(BALANCER);
    assert_eq!(client_address(peer, &[CLIENT], &[]), peer);
}

#[test]
fn an_untrusted_peer_cannot_choose_its_address() {
    let peer = ip("198.51.100.9");
    let trusted = nets(&["10.0.0.0/8"]);
    assert_eq!(client_address(peer, &["192.0.2.1"], &trusted), peer);
}

#[test]
fn a_trusted_proxy_forwards_the_client_address() {
    let trusted = nets(&["10.0.0.0/8"]);
    assert_eq!(
        client_address(ip(BALANCER), &[CLIENT], &trusted),
        ip(CLIENT)
    );
}

/// A client that sends its own `X-Forwarded-For` only adds hops to the left of the one the
/// proxy appended; reading from the right stops at the real client.
#[test]
fn a_forged_hop_left_of_the_proxys_is_never_reached() {
    let trusted = nets(&["10.0.0.0/8"]);
    let header = format!("192.0.2.66, {CLIENT}");
    assert_eq!(
        client_address(ip(BALANCER), &[&header], &trusted),
        ip(CLIENT)
    );
}

#[test]
fn trusted_hops_are_skipped_across_headers() {
    let trusted = nets(&["10.0.0.0/8", "2001:db8::/32"]);
    let headers = [CLIENT, "2001:db8::1, 10.1.2.3"];
    assert_eq!(client_address(ip(BALANCER), &headers, &trusted), ip(CLIENT));
}

#[test]
fn a_malformed_hop_stops_at_the_last_trusted_one() {
    let trusted = nets(&["10.0.0.0/8"]);
    let header = format!("{CLIENT}, unknown, 10.9.9.9");
    assert_eq!(
        client_address(ip(BALANCER), &[&header], &trusted),
        ip("10.9.9.9")
    );
    assert_eq!(
        client_address(ip(BALANCER), &["not-an-ip"], &trusted),
        ip(BALANCER)
    );
}

#[test]
fn a_chain_of_trusted_proxies_only_yields_the_leftmost() {
    let trusted = nets(&["10.0.0.0/8"]);
    assert_eq!(
        client_address(ip(BALANCER), &["10.7.7.7"], &trusted),
        ip("10.7.7.7")
    );
}

/// RFC 4291 §2.5.5.2: a dual-stack listener reports an IPv4 proxy as `::ffff:a.b.c.d`; it is
/// still the listed IPv4 proxy, and an IPv4-mapped client is recorded as IPv4.
#[test]
fn an_ipv4_mapped_peer_is_its_ipv4_address() {
    let trusted = ["127.0.0.1/32".parse().unwrap()];
    let peer: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
    let client = client_address(peer, &["203.0.113.9"], &trusted);
    assert_eq!(client, "203.0.113.9".parse::<IpAddr>().unwrap());

    let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
    assert_eq!(
        client_address::<&str>(mapped, &[], &[]),
        "192.0.2.7".parse::<IpAddr>().unwrap()
    );
}

/// A byte that is not text, planted by the client on the left of what its proxy appended,
/// is never reached: the proxy's hop names the client (the hostile pass's bypass, where the
/// whole header was dropped and the proxy's own address recorded).
#[test]
fn a_planted_byte_that_is_not_text_cannot_hide_the_client() {
    let trusted = nets(&["10.0.0.0/8"]);
    let header: &[u8] = b"\xff, 203.0.113.7";
    assert_eq!(
        client_address(ip(BALANCER), &[header], &trusted),
        ip(CLIENT)
    );
    // In a header line of its own, too.
    let lines: [&[u8]; 2] = [b"\xff\xfe", b"203.0.113.7"];
    assert_eq!(client_address(ip(BALANCER), &lines, &trusted), ip(CLIENT));
}

/// Where the walk does reach it (a trusted proxy's own hop is not text), the last hop a
/// trusted proxy vouched for is the answer, as for any malformed hop.
#[test]
fn a_hop_that_is_not_text_stops_the_walk_where_it_is_reached() {
    let trusted = nets(&["10.0.0.0/8"]);
    let header: &[u8] = b"203.0.113.7, \xff";
    assert_eq!(
        client_address(ip(BALANCER), &[header], &trusted),
        ip(BALANCER)
    );
    let header: &[u8] = b"192.0.2.1, \xff, 10.1.1.1";
    assert_eq!(
        client_address(ip(BALANCER), &[header], &trusted),
        ip("10.1.1.1")
    );
}

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
        client_address(mapped, &[], &[]),
        "192.0.2.7".parse::<IpAddr>().unwrap()
    );
}

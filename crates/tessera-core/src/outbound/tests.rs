use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn public_addresses_are_allowed() {
    for text in [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.215.14",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.169.0.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001:81d::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert!(is_public(ip(text)), "{text} should be public");
    }
}

#[test]
fn private_and_reserved_ipv4_addresses_are_refused() {
    for text in [
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
    ] {
        assert!(!is_public(ip(text)), "{text} should be refused");
    }
}

#[test]
fn private_and_reserved_ipv6_addresses_are_refused() {
    for text in [
        "::",
        "::1",
        "fc00::1",
        "fd12:3456:789a::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "2001::1",
        "100::1",
    ] {
        assert!(!is_public(ip(text)), "{text} should be refused");
    }
}

#[test]
fn ipv6_addresses_embedding_a_private_ipv4_address_are_refused() {
    for text in [
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0.0.0.0",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "2002:c0a8:101::1",
    ] {
        assert!(!is_public(ip(text)), "{text} should be refused");
    }
}

/// RFC 8215 §3: 64:ff9b:1::/48 is for local use, whatever it appears to embed.
#[test]
fn the_local_use_nat64_prefix_is_refused() {
    for text in [
        "64:ff9b:1::",
        "64:ff9b:1::808:808",
        "64:ff9b:1::7f00:1",
        "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
        "64:ff9b:1:808:800::",
        "64:ff9b:1:a00:1::",
    ] {
        assert!(!is_public(ip(text)), "{text} should be refused");
    }
}

#[test]
fn only_https_is_accepted_unless_loopback_is_allowed() {
    let strict = OutboundClient::new(false).unwrap();
    assert!(matches!(
        strict.check_url("http://rp.example/logout"),
        Err(OutboundError::Scheme)
    ));
    assert!(matches!(
        strict.check_url("http://127.0.0.1:8080/jwks"),
        Err(OutboundError::Scheme)
    ));
    assert!(strict.check_url("https://rp.example/jwks").is_ok());

    let relaxed = OutboundClient::new(true).unwrap();
    assert!(relaxed.check_url("http://127.0.0.1:8080/jwks").is_ok());
    assert!(matches!(
        relaxed.check_url("http://rp.example/jwks"),
        Err(OutboundError::Scheme)
    ));
}

#[test]
fn literal_private_addresses_are_refused_before_any_connection() {
    let strict = OutboundClient::new(false).unwrap();
    for url in [
        "https://127.0.0.1/jwks",
        "https://[::1]/jwks",
        "https://[::ffff:10.0.0.1]/jwks",
        "https://169.254.169.254/latest/meta-data",
    ] {
        assert!(
            matches!(strict.check_url(url), Err(OutboundError::ForbiddenAddress)),
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_after_resolution() {
    // `localhost` is resolved by the system resolver, then refused on its address.
    let strict = OutboundClient::new(false).unwrap();
    let err = strict.get("https://localhost:9/jwks").await.unwrap_err();
    assert!(matches!(err, OutboundError::ForbiddenAddress), "{err:?}");
    assert_eq!(err.cause(), "forbidden_address");
}

/// The operator learns why a request failed, and nothing of the URL's credentials.
#[tokio::test]
async fn a_failure_keeps_its_cause_and_drops_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);

    let lax = OutboundClient::new(true).unwrap();
    let url = format!("http://user:hunter2@127.0.0.1:{port}/jwks?token=s3cret");
    let err = lax.get(&url).await.unwrap_err();
    assert_eq!(err.cause(), "connect_failed", "{err:?}");

    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        shown.push_str(&cause.to_string());
        source = cause.source();
    }
    for secret in ["hunter2", "s3cret", "/jwks"] {
        assert!(!shown.contains(secret), "{shown}");
    }

    let strict = OutboundClient::new(false).unwrap();
    assert_eq!(
        strict.get(&url).await.unwrap_err().cause(),
        "scheme_refused"
    );
}

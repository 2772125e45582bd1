use super::*;

#[test]
fn https_issuer_gets_host_prefixed_secure_cookies() {
    let policy = CookiePolicy::for_issuer(&Issuer::parse("https://id.example.com").unwrap());
    let header = policy.set(CookieName::Session, "abc", 60);
    let text = header.to_str().unwrap();
    assert!(text.starts_with("__Host-tessera-session=abc"), "{text}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=60"] {
        assert!(text.contains(attribute), "{attribute} missing from {text}");
    }
    assert!(
        !text.contains("Domain"),
        "__Host- cookies must not carry Domain: {text}"
    );
}

#[test]
fn loopback_http_issuer_drops_only_prefix_and_secure() {
    let policy = CookiePolicy::for_issuer(&Issuer::parse("http://127.0.0.1:8080").unwrap());
    let text = policy
        .set(CookieName::Interaction, "xyz", 600)
        .to_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("tessera-interaction=xyz"), "{text}");
    assert!(
        text.contains("HttpOnly") && text.contains("SameSite=Lax"),
        "{text}"
    );
    assert!(!text.contains("Secure"), "{text}");
}

#[test]
fn reads_the_named_cookie_only() {
    let policy = CookiePolicy::for_issuer(&Issuer::parse("https://id.example.com").unwrap());
    let mut headers = HeaderMap::new();
    headers.insert(
        axum::http::header::COOKIE,
        HeaderValue::from_static("tessera-session=planted; __Host-tessera-session=real"),
    );
    assert_eq!(policy.get(&headers, CookieName::Session), Some("real"));
    assert_eq!(policy.get(&headers, CookieName::Interaction), None);
}

#[test]
fn the_device_cookie_has_the_same_attributes_as_the_others() {
    let policy = CookiePolicy::for_issuer(&Issuer::parse("https://id.example.com").unwrap());
    let header = policy.set(CookieName::Device, "v.t", 34_560_000);
    let text = header.to_str().unwrap();
    assert!(text.starts_with("__Host-tessera-device=v.t"), "{text}");
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        "Max-Age=34560000",
    ] {
        assert!(text.contains(attribute), "{attribute} missing from {text}");
    }
}

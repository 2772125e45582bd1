use super::*;

#[test]
fn redirect_uri_rules_follow_rfc_8252() {
    assert!(RedirectUri::register("https://app.example.com/cb").is_ok());
    assert!(RedirectUri::register("http://127.0.0.1:4000/cb").is_ok());
    assert!(RedirectUri::register("http://[::1]:4000/cb").is_ok());
    assert!(RedirectUri::register("http://localhost/cb").is_ok());
    assert!(RedirectUri::register("com.example.app:/oauth2redirect").is_ok());
    assert_eq!(
        RedirectUri::register("http://app.example.com/cb"),
        Err(RedirectUriError::InsecureScheme)
    );
    assert_eq!(
        RedirectUri::register("https://app.example.com/cb#x"),
        Err(RedirectUriError::Fragment)
    );
    assert_eq!(
        RedirectUri::register("https://*.example.com/cb"),
        Err(RedirectUriError::Wildcard)
    );
    assert_eq!(
        RedirectUri::register("myapp:/cb"),
        Err(RedirectUriError::PrivateUseScheme)
    );
    assert_eq!(
        RedirectUri::register("/cb"),
        Err(RedirectUriError::NotAbsolute)
    );
}

#[test]
fn issuer_must_be_https_except_on_loopback() {
    assert!(Issuer::parse("https://id.example.com").is_ok());
    assert!(Issuer::parse("http://localhost:8080").is_ok());
    assert_eq!(
        Issuer::parse("http://id.example.com"),
        Err(IssuerError::InsecureScheme)
    );
    assert_eq!(
        Issuer::parse("https://id.example.com/"),
        Err(IssuerError::TrailingSlash)
    );
    assert_eq!(
        Issuer::parse("https://id.example.com?a=b"),
        Err(IssuerError::QueryOrFragment)
    );
}

#[test]
fn endpoints_are_built_below_the_issuer_path() {
    let root = Issuer::parse("https://id.example.com").unwrap();
    assert_eq!(root.endpoint(&["token"]), "https://id.example.com/token");
    assert_eq!(root.base_path(), "");
    let nested = Issuer::parse("https://example.com/tessera").unwrap();
    assert_eq!(
        nested.endpoint(&["token"]),
        "https://example.com/tessera/token"
    );
    assert_eq!(nested.base_path(), "/tessera");
}

#[test]
fn redirect_uri_with_characters_outside_rfc_3986_is_refused() {
    for value in [
        "http://127.0.0.1:3000/x\r\nSet-Cookie: a=b",
        "http://127.0.0.1:3000/a b",
        "https://app.example.com/<cb>",
        "https://app.example.com/caf\u{e9}",
        "https://app.example.com/cb?a=\"1\"",
    ] {
        assert_eq!(
            RedirectUri::register(value),
            Err(RedirectUriError::InvalidCharacter),
            "{value:?}"
        );
    }
    assert!(RedirectUri::register("https://app.example.com/caf%C3%A9?x=1&y=%20").is_ok());
}

#[test]
fn redirect_uri_cannot_preset_response_parameters() {
    for value in [
        "https://app.example.com/cb?state=evil",
        "https://app.example.com/cb?x=1&code=1",
        "https://app.example.com/cb?iss=https://evil.example",
        "https://app.example.com/cb?error=access_denied",
    ] {
        assert_eq!(
            RedirectUri::register(value),
            Err(RedirectUriError::ResponseParameter),
            "{value:?}"
        );
    }
    assert!(RedirectUri::register("https://app.example.com/cb?tenant=7").is_ok());
}

/// Registered strings are compared exactly, but a browser follows the parsed URI: a web
/// redirect URI must be written as it parses, and carry no user name.
#[test]
fn a_redirect_uri_is_registered_only_as_the_browser_will_read_it() {
    for fine in [
        "https://app.example/cb",
        "https://app.example",
        "https://app.example:8443/cb?tenant=1",
        "http://127.0.0.1:4000/cb",
        "http://[::1]:4000/",
        "com.example.app:/oauth2redirect",
    ] {
        assert!(RedirectUri::register(fine).is_ok(), "{fine}");
    }
    for odd in [
        "https:///cb",
        "https://App.Example/cb",
        "https://app.example/a/../admin",
        "https://app.example/./cb",
        "http://2130706433/cb",
        "http://0x7f000001/cb",
    ] {
        assert!(
            matches!(
                RedirectUri::register(odd),
                Err(RedirectUriError::NotNormal(_))
            ),
            "{odd}"
        );
    }
    assert_eq!(
        RedirectUri::register("https://user:pw@app.example/cb").unwrap_err(),
        RedirectUriError::UserInfo
    );
}

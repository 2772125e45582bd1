use super::*;

/// Computed apart from this code, with `openssl dgst -sha256 -hmac`.
#[test]
fn the_signature_is_an_hmac_of_the_time_and_the_body() {
    let secret = SecretString::from("a shared secret of at least 32 bytes");
    let body = b"{\"seq\":1}\n";
    assert_eq!(
        signature(&secret, 1_700_000_000, body),
        "t=1700000000,v1=cee7551e91a40a37cb9341fb587e71e0d5608a2d18c09c46fbf7beb64b07f89f"
    );
}

#[test]
fn the_wait_doubles_after_each_failure_up_to_ten_minutes() {
    let waits: Vec<i64> = (1..=11).map(backoff).collect();
    assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]);
}

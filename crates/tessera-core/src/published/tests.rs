use super::*;

#[test]
fn the_tag_is_strong_quoted_and_follows_the_bytes() {
    let one = Published::new("{\"keys\":[]}");
    assert!(one.etag().starts_with('"') && one.etag().ends_with('"'));
    assert!(!one.etag().starts_with("W/"));
    assert_eq!(one.etag(), Published::new("{\"keys\":[]}").etag());
    assert_ne!(one.etag(), Published::new("{\"keys\":[{}]}").etag());
}

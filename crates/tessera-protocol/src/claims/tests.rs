use super::*;

#[test]
fn at_hash_matches_the_oidc_core_example() {
    // OIDC Core Appendix A.3: access token and at_hash of the id_token example.
    assert_eq!(
        at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
}

use tessera_core::audit::verify::Finding;

use super::*;

#[test]
fn a_clean_report_says_so_and_counts_unsealed_events_apart() {
    let report = Report {
        events: 5,
        first: Some(1),
        last: Some(5),
        checkpoints: 2,
        unsealed: 3,
        ..Report::default()
    };
    assert_eq!(
        describe(&report),
        "checked 5 sealed events (positions 1 to 5) and 2 signed checkpoints\n\
         not yet sealed: 3 events (sealed by a running server within seconds, or by \
         `tessera audit seal`)\n\
         no tampering found\n"
    );
}

#[test]
fn each_finding_is_a_line_of_its_own() {
    let report = Report {
        findings: vec![
            Finding::Deleted { from: 2, to: 2 },
            Finding::Edited { seq: 4, id: 9 },
        ],
        ..Report::default()
    };
    assert_eq!(
        describe(&report),
        "no sealed events; checked 0 signed checkpoints\n\
         FINDING deleted: no event at position 2\n\
         FINDING edited: the event at position 4 (id 9) no longer matches its hash\n"
    );
}

#![allow(clippy::unwrap_used)]

use super::assess::RiskRefusal;
use super::*;

/// A fixed clock: 1 800 000 000 s is 2027-01-15 08:00:00 UTC (1 800 000 000 mod 86 400 is
/// 28 800, eight hours into the day).
const NOW: i64 = 1_800_000_000;
const HOUR_OF_NOW: usize = 8;

/// The policy every test scores with, written out here rather than taken from the defaults,
/// so that each expected score below is a sum of these numbers.
fn settings() -> RiskSettings {
    RiskSettings {
        weights: RiskWeights {
            new_device: 20,
            new_network: 15,
            new_country: 25,
            impossible_travel: 50,
            unusual_hour: 10,
            recent_failures: 20,
        },
        mfa_above: 40,
        refuse_above: 80,
        travel_speed_kmh: 1000,
        usual_hours_min_logins: 10,
        recent_failures_min: 3,
        recent_failures_window: 3600,
        history_days: 400,
        geoip_database: None,
    }
}

/// Paris and Sydney, as a City database places them (accuracy radius 0 here).
const PARIS: Place = Place {
    latitude: 48.8566,
    longitude: 2.3522,
    accuracy_km: 0.0,
};
const SYDNEY: Place = Place {
    latitude: -33.8688,
    longitude: 151.2093,
    accuracy_km: 0.0,
};
const LONDON: Place = Place {
    latitude: 51.5074,
    longitude: -0.1278,
    accuracy_km: 0.0,
};

fn stored(place: Place) -> StoredPlace {
    place.to_stored()
}

/// A person with a history whose every fact matches this login: nothing fires.
fn familiar() -> Facts {
    Facts {
        history: Some(RiskHistory {
            last_place: Some((stored(PARIS), NOW - 86_400)),
            hours: usual_at(HOUR_OF_NOW, 10),
        }),
        device_known: true,
        network_known: Some(true),
        country_known: Some(true),
        place: Some(PARIS),
        recent_failures: 0,
    }
}

/// A histogram with `logins` logins at `hour`.
fn usual_at(hour: usize, logins: i64) -> [i64; HOURS] {
    let mut hours = [0; HOURS];
    hours[hour] = logins;
    hours
}

fn score(facts: &Facts) -> (i64, Vec<Signal>) {
    evaluate(facts, &settings(), NOW)
}

#[test]
fn a_familiar_login_scores_nothing() {
    assert_eq!(score(&familiar()), (0, vec![]));
}

#[test]
fn a_first_login_has_no_baseline_to_be_new_against() {
    let facts = Facts {
        history: None,
        device_known: false,
        network_known: Some(false),
        country_known: Some(false),
        place: Some(SYDNEY),
        recent_failures: 0,
    };
    assert_eq!(score(&facts), (0, vec![]));
}

#[test]
fn a_first_login_still_counts_recent_failures() {
    let facts = Facts {
        history: None,
        recent_failures: 3,
        ..Facts::default()
    };
    assert_eq!(score(&facts), (20, vec![Signal::RecentFailures]));
}

#[test]
fn a_new_device_adds_its_weight() {
    let facts = Facts {
        device_known: false,
        ..familiar()
    };
    assert_eq!(score(&facts), (20, vec![Signal::NewDevice]));
}

#[test]
fn a_new_network_adds_its_weight() {
    let facts = Facts {
        network_known: Some(false),
        ..familiar()
    };
    assert_eq!(score(&facts), (15, vec![Signal::NewNetwork]));
}

#[test]
fn an_unknown_address_is_no_new_network() {
    let facts = Facts {
        network_known: None,
        ..familiar()
    };
    assert_eq!(score(&facts), (0, vec![]));
}

#[test]
fn a_new_country_adds_its_weight() {
    let facts = Facts {
        country_known: Some(false),
        ..familiar()
    };
    assert_eq!(score(&facts), (25, vec![Signal::NewCountry]));
}

#[test]
fn without_geoip_or_a_country_nothing_is_a_new_country() {
    let facts = Facts {
        country_known: None,
        ..familiar()
    };
    assert_eq!(score(&facts), (0, vec![]));
}

#[test]
fn paris_to_sydney_in_an_hour_is_impossible_travel() {
    // About 16 960 km in one hour: far above 1000 km/h.
    let facts = Facts {
        history: Some(RiskHistory {
            last_place: Some((stored(PARIS), NOW - 3600)),
            hours: usual_at(HOUR_OF_NOW, 10),
        }),
        place: Some(SYDNEY),
        ..familiar()
    };
    assert_eq!(score(&facts), (50, vec![Signal::ImpossibleTravel]));
}

#[test]
fn paris_to_london_in_an_hour_is_possible() {
    // About 344 km in one hour: a train does it.
    let facts = Facts {
        history: Some(RiskHistory {
            last_place: Some((stored(PARIS), NOW - 3600)),
            hours: usual_at(HOUR_OF_NOW, 10),
        }),
        place: Some(LONDON),
        ..familiar()
    };
    assert_eq!(score(&facts), (0, vec![]));
}

#[test]
fn paris_to_sydney_in_a_day_is_possible() {
    // About 16 960 km in 24 hours: about 707 km/h, a flight.
    let facts = Facts {
        history: Some(RiskHistory {
            last_place: Some((stored(PARIS), NOW - 86_400)),
            hours: usual_at(HOUR_OF_NOW, 10),
        }),
        place: Some(SYDNEY),
        ..familiar()
    };
    assert_eq!(score(&facts), (0, vec![]));
}

#[test]
fn places_within_their_accuracy_radii_are_no_travel() {
    // 1° of longitude on the equator is 111.2 km; two locations each known within 60 km,
    // one second apart, may be the same spot.
    let here = Place {
        latitude: 0.0,
        longitude: 0.0,
        accuracy_km: 60.0,
    };
    let there = Place {
        longitude: 1.0,
        ..here
    };
    assert!(!impossible_travel(&here, NOW - 1, &there, NOW, 1000));
    let precise_here = Place {
        accuracy_km: 0.0,
        ..here
    };
    let precise_there = Place {
        accuracy_km: 0.0,
        ..there
    };
    assert!(impossible_travel(
        &precise_here,
        NOW - 1,
        &precise_there,
        NOW,
        1000
    ));
}

#[test]
fn logins_in_the_same_second_count_as_one_second_apart() {
    // 111.2 km in one second would be 400 000 km/h; with the clock not moving at all, the
    // division must not fail.
    let here = Place {
        latitude: 0.0,
        longitude: 0.0,
        accuracy_km: 0.0,
    };
    let there = Place {
        longitude: 1.0,
        ..here
    };
    assert!(impossible_travel(&here, NOW, &there, NOW, 1000));
}

#[test]
fn great_circle_distances_match_the_sphere() {
    // One degree of longitude on the equator: 6371.0088 km × π / 180 = 111.195 km.
    let origin = Place {
        latitude: 0.0,
        longitude: 0.0,
        accuracy_km: 0.0,
    };
    let east = Place {
        longitude: 1.0,
        ..origin
    };
    assert!((distance_km(&origin, &east) - 111.195).abs() < 0.001);
    // Pole to pole: half the circumference, 6371.0088 km × π = 20 015.114 km.
    let north = Place {
        latitude: 90.0,
        ..origin
    };
    let south = Place {
        latitude: -90.0,
        ..origin
    };
    assert!((distance_km(&north, &south) - 20_015.114).abs() < 0.001);
}

#[test]
fn a_login_far_from_the_usual_hours_is_unusual() {
    // Ten logins, all at 14:00; this one at 08:00.
    let facts = Facts {
        history: Some(RiskHistory {
            hours: usual_at(14, 10),
            ..familiar().history.unwrap()
        }),
        ..familiar()
    };
    assert_eq!(score(&facts), (10, vec![Signal::UnusualHour]));
}

#[test]
fn an_hour_next_to_a_usual_one_is_usual() {
    // Ten logins at 09:00; 08:00 is its neighbour.
    assert!(!unusual_hour(&usual_at(9, 10), HOUR_OF_NOW, 10));
    // Midnight's neighbours wrap around the day.
    assert!(!unusual_hour(&usual_at(23, 10), 0, 10));
    assert!(!unusual_hour(&usual_at(0, 10), 23, 10));
    assert!(unusual_hour(&usual_at(22, 10), 0, 10));
}

#[test]
fn unusual_hours_wait_for_enough_history() {
    // Nine logins at 14:00 are not yet a habit.
    assert!(!unusual_hour(&usual_at(14, 9), HOUR_OF_NOW, 10));
    assert!(unusual_hour(&usual_at(14, 10), HOUR_OF_NOW, 10));
}

#[test]
fn recent_failures_fire_at_the_minimum() {
    let two = Facts {
        recent_failures: 2,
        ..familiar()
    };
    assert_eq!(score(&two), (0, vec![]));
    let three = Facts {
        recent_failures: 3,
        ..familiar()
    };
    assert_eq!(score(&three), (20, vec![Signal::RecentFailures]));
}

#[test]
fn a_weight_of_zero_turns_a_signal_off() {
    let mut off = settings();
    off.weights.new_device = 0;
    let facts = Facts {
        device_known: false,
        network_known: Some(false),
        ..familiar()
    };
    assert_eq!(evaluate(&facts, &off, NOW), (15, vec![Signal::NewNetwork]));
}

#[test]
fn the_score_is_capped_at_100() {
    // 20 + 15 + 25 + 50 + 10 + 20 = 140, cut to 100.
    let facts = Facts {
        history: Some(RiskHistory {
            last_place: Some((stored(PARIS), NOW - 60)),
            hours: usual_at(20, 10),
        }),
        device_known: false,
        network_known: Some(false),
        country_known: Some(false),
        place: Some(SYDNEY),
        recent_failures: 5,
    };
    let (total, reasons) = score(&facts);
    assert_eq!(total, 100);
    assert_eq!(reasons, Signal::ALL.to_vec());
}

/// 400 days are 34 560 000 s: at NOW, a network last seen at 1 765 440 000 or before is
/// forgotten, one seen a second later is kept.
#[test]
fn history_is_forgotten_after_history_days() {
    assert_eq!(settings().history_cutoff(NOW), 1_765_440_000);
    let month = RiskSettings {
        history_days: 30,
        ..settings()
    };
    assert_eq!(month.history_cutoff(NOW), 1_797_408_000);
}

#[test]
fn thresholds_are_strictly_above() {
    let policy = settings();
    assert_eq!(policy.decide(0), RiskDecision::Allow);
    assert_eq!(policy.decide(40), RiskDecision::Allow);
    assert_eq!(policy.decide(41), RiskDecision::Mfa);
    assert_eq!(policy.decide(80), RiskDecision::Mfa);
    assert_eq!(policy.decide(81), RiskDecision::Refuse);
    let never = RiskSettings {
        refuse_above: 100,
        ..settings()
    };
    assert_eq!(never.decide(100), RiskDecision::Mfa);
}

#[test]
fn new_device_and_network_stay_below_the_default_mfa_threshold() {
    // The defaults must let a person in from a new laptop in a new place: 20 + 15 = 35,
    // not above 40. Adding a new country (25) makes 60: a second factor.
    let defaults = RiskSettings::default();
    let facts = Facts {
        device_known: false,
        network_known: Some(false),
        ..familiar()
    };
    let (total, _) = evaluate(&facts, &defaults, NOW);
    assert_eq!(total, 35);
    assert_eq!(defaults.decide(total), RiskDecision::Allow);
    let abroad = Facts {
        country_known: Some(false),
        ..facts
    };
    let (total, _) = evaluate(&abroad, &defaults, NOW);
    assert_eq!(total, 60);
    assert_eq!(defaults.decide(total), RiskDecision::Mfa);
}

#[test]
fn networks_are_ipv4_24s_and_ipv6_48s() {
    let at = |text: &str| network_of(text.parse().unwrap());
    assert_eq!(at("192.0.2.77"), "192.0.2.0/24");
    assert_eq!(at("2001:db8:1234:5678::1"), "2001:db8:1234::/48");
    assert_eq!(at("::ffff:198.51.100.9"), "198.51.100.0/24");
}

#[test]
fn hours_of_the_day_are_utc() {
    assert_eq!(hour_of(NOW), HOUR_OF_NOW);
    assert_eq!(hour_of(NOW + 16 * 3600 - 1), 23);
    assert_eq!(hour_of(NOW + 16 * 3600), 0);
}

#[test]
fn a_session_keeps_score_reasons_decision_and_network_but_not_the_place() {
    let assessment = Assessment {
        score: 35,
        reasons: vec![Signal::NewDevice, Signal::NewNetwork],
        decision: RiskDecision::Allow,
        observed: Some(Observation {
            network: Some("192.0.2.0/24".into()),
            country: Some("FR".into()),
            place: Some(PARIS),
            hour: 8,
        }),
    };
    assert_eq!(
        assessment.session_stored().unwrap(),
        r#"{"score":35,"reasons":["new_device","new_network"],"decision":"allow","observed":{"network":"192.0.2.0/24"}}"#
    );
    assert_eq!(assessment.reasons_json(), r#"["new_device","new_network"]"#);
    let back = Assessment::from_stored(assessment.to_stored().as_deref()).unwrap();
    assert_eq!(back, assessment);
    assert_eq!(Assessment::from_stored(Some("not json")), None);
}

#[test]
fn a_stored_place_keeps_micro_degrees() {
    assert_eq!(
        stored(PARIS),
        StoredPlace {
            latitude_e6: 48_856_600,
            longitude_e6: 2_352_200,
            accuracy_km: 0,
        }
    );
    assert_eq!(Place::from_stored(stored(SYDNEY)), SYDNEY);
}

#[test]
fn a_refusal_follows_the_decision_and_the_factor() {
    let at = |decision| Assessment {
        score: 0,
        reasons: vec![],
        decision,
        observed: None,
    };
    assert_eq!(
        refusal(&at(RiskDecision::Refuse), true),
        Some(RiskRefusal::Refused)
    );
    assert_eq!(
        refusal(&at(RiskDecision::Mfa), false),
        Some(RiskRefusal::NeedsFactor)
    );
    assert_eq!(refusal(&at(RiskDecision::Mfa), true), None);
    assert_eq!(refusal(&at(RiskDecision::Allow), false), None);
}

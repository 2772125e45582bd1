//! A small GeoIP database written by the tests themselves, in the MaxMind DB format (version
//! 2.0 of MaxMind's public "MaxMind DB File Format Specification"), so that no real database
//! (licensed, and large) is needed. It maps the documentation prefixes to made-up places:
//!
//! | network | country | place |
//! |---|---|---|
//! | 192.0.2.0/24 (RFC 5737 TEST-NET-1) | FR | Paris |
//! | 198.51.100.0/24 (TEST-NET-2) | AU | Sydney |
//! | 203.0.113.0/24 (TEST-NET-3) | GB | London |
//! | 2001:db8::/32 (RFC 3849) | DE | Berlin |
//!
//! The writer does only what these need: an IPv6 search tree with 24-bit records (IPv4
//! networks live at `::a.b.c.d`, where readers look them up), and the data types of a
//! GeoIP2 City record (maps, strings, doubles, unsigned integers, arrays).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// What the database says about one network.
#[derive(Clone, Copy, Debug)]
pub struct GeoRecord {
    pub country: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_km: u16,
}

pub const PARIS: GeoRecord = GeoRecord {
    country: "FR",
    latitude: 48.8566,
    longitude: 2.3522,
    accuracy_km: 20,
};
pub const SYDNEY: GeoRecord = GeoRecord {
    country: "AU",
    latitude: -33.8688,
    longitude: 151.2093,
    accuracy_km: 20,
};
pub const LONDON: GeoRecord = GeoRecord {
    country: "GB",
    latitude: 51.5074,
    longitude: -0.1278,
    accuracy_km: 20,
};
pub const BERLIN: GeoRecord = GeoRecord {
    country: "DE",
    latitude: 52.52,
    longitude: 13.405,
    accuracy_km: 20,
};

/// The networks of the test database and where they are.
pub const NETWORKS: [(&str, GeoRecord); 4] = [
    ("192.0.2.0/24", PARIS),
    ("198.51.100.0/24", SYDNEY),
    ("203.0.113.0/24", LONDON),
    ("2001:db8::/32", BERLIN),
];

/// The `database_type` the test database announces.
pub const DATABASE_TYPE: &str = "Tessera-Test-City";

/// Writes the test database into `dir` and returns its path.
pub fn test_database(dir: &Path) -> PathBuf {
    let path = dir.join("test-city.mmdb");
    let networks: Vec<(ipnet::IpNet, GeoRecord)> = NETWORKS
        .iter()
        .map(|(net, record)| (net.parse().unwrap(), *record))
        .collect();
    std::fs::write(&path, database(&networks)).unwrap();
    path
}

/// A fresh directory for one test's files under the system's temporary directory, removed
/// when dropped.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tessera-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bits of an IPv6 search tree.
const TREE_BITS: usize = 128;
/// The 16 zero bytes between the search tree and the data section.
const SEPARATOR: usize = 16;
/// Where the metadata starts: after the last occurrence of these bytes.
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

/// One record of a node: nothing, another node, or a record of the data section.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Child {
    Empty,
    Node(usize),
    Data(usize),
}

/// The whole file for `networks`, which must not overlap.
pub fn database(networks: &[(ipnet::IpNet, GeoRecord)]) -> Vec<u8> {
    // The search tree: one bit per level, from the address's most significant bit.
    let mut nodes: Vec<[Child; 2]> = vec![[Child::Empty; 2]];
    for (index, (network, _)) in networks.iter().enumerate() {
        let (bits, prefix) = tree_key(network);
        let mut node = 0;
        for depth in 0..prefix {
            let bit = usize::from((bits >> (TREE_BITS - 1 - depth)) & 1 == 1);
            if depth + 1 == prefix {
                assert_eq!(nodes[node][bit], Child::Empty, "networks overlap");
                nodes[node][bit] = Child::Data(index);
                break;
            }
            node = match nodes[node][bit] {
                Child::Node(next) => next,
                Child::Empty => {
                    nodes.push([Child::Empty; 2]);
                    let next = nodes.len() - 1;
                    nodes[node][bit] = Child::Node(next);
                    next
                }
                Child::Data(_) => panic!("networks overlap"),
            };
        }
    }

    // The data section: one map per network, at offsets the tree's records point to.
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (_, record) in networks {
        offsets.push(data.len());
        encode_record(&mut data, record);
    }

    // The tree, 24-bit records: a node number; the node count itself for "no data"; or the
    // node count + 16 + the data offset.
    let node_count = nodes.len();
    let mut file = Vec::new();
    for node in &nodes {
        for child in node {
            let value = match *child {
                Child::Empty => node_count,
                Child::Node(next) => next,
                Child::Data(index) => node_count + SEPARATOR + offsets[index],
            };
            assert!(value < 1 << 24, "the test database outgrew 24-bit records");
            file.extend_from_slice(&u32::try_from(value).unwrap().to_be_bytes()[1..]);
        }
    }
    file.extend_from_slice(&[0; SEPARATOR]);
    file.extend_from_slice(&data);
    file.extend_from_slice(METADATA_MARKER);
    encode_metadata(&mut file, node_count);
    file
}

/// A network as a key of the IPv6 tree and its length in bits there.
fn tree_key(network: &ipnet::IpNet) -> (u128, usize) {
    match network.trunc().addr() {
        // IPv4 lives in the first /96 of an IPv6 tree (`::a.b.c.d`).
        IpAddr::V4(v4) => (
            u128::from(u32::from(v4)),
            96 + usize::from(network.prefix_len()),
        ),
        IpAddr::V6(v6) => (u128::from(v6), usize::from(network.prefix_len())),
    }
}

/// The data types used here (spec §"Output Data Section"): a type number in the top three
/// bits of the control byte (0: extended, the number less 7 in the next byte), a size in the
/// low five.
const POINTERLESS_UTF8: u8 = 2;
const DOUBLE: u8 = 3;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

/// A control byte for `kind` and `size`, with the size's extra bytes (sizes from 29 on).
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (low, extra): (u8, Vec<u8>) = match size {
        0..=28 => (u8::try_from(size).unwrap(), vec![]),
        29..=284 => (29, vec![u8::try_from(size - 29).unwrap()]),
        285..=65_820 => (
            30,
            u16::try_from(size - 285).unwrap().to_be_bytes().to_vec(),
        ),
        _ => panic!("the test database has no value this large"),
    };
    if kind <= 7 {
        out.push((kind << 5) | low);
    } else {
        out.push(low);
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}

fn string(out: &mut Vec<u8>, text: &str) {
    control(out, POINTERLESS_UTF8, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn double(out: &mut Vec<u8>, value: f64) {
    control(out, DOUBLE, 8);
    out.extend_from_slice(&value.to_be_bytes());
}

/// An unsigned integer of `kind`, in as few big-endian bytes as it needs (zero in none).
fn unsigned(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(out, kind, bytes.len() - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn encode_record(out: &mut Vec<u8>, record: &GeoRecord) {
    control(out, MAP, 2);
    string(out, "country");
    control(out, MAP, 1);
    string(out, "iso_code");
    string(out, record.country);
    string(out, "location");
    control(out, MAP, 3);
    string(out, "accuracy_radius");
    unsigned(out, UINT16, u64::from(record.accuracy_km));
    string(out, "latitude");
    double(out, record.latitude);
    string(out, "longitude");
    double(out, record.longitude);
}

fn encode_metadata(out: &mut Vec<u8>, node_count: usize) {
    control(out, MAP, 9);
    string(out, "binary_format_major_version");
    unsigned(out, UINT16, 2);
    string(out, "binary_format_minor_version");
    unsigned(out, UINT16, 0);
    string(out, "build_epoch");
    unsigned(out, UINT64, 1_800_000_000);
    string(out, "database_type");
    string(out, DATABASE_TYPE);
    string(out, "description");
    control(out, MAP, 1);
    string(out, "en");
    string(out, "Documentation prefixes placed for Tessera's tests");
    string(out, "ip_version");
    unsigned(out, UINT16, 6);
    string(out, "languages");
    control(out, ARRAY, 1);
    string(out, "en");
    string(out, "node_count");
    unsigned(out, UINT32, u64::try_from(node_count).unwrap());
    string(out, "record_size");
    unsigned(out, UINT16, 24);
}

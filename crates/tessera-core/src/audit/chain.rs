//! The link hash: how one event is bound to the one sealed before it.
//!
//! `hash = SHA-256(prev || encoding)`, where `prev` is the 32 bytes of the previous hash
//! (32 zero bytes before the first event) and `encoding` is a version tag followed by every
//! recorded column in a fixed order, each as a type byte and its value:
//!
//! - `0x00`: NULL, nothing follows;
//! - `0x01`: an integer, 8 bytes big-endian two's complement;
//! - `0x02`: text, its UTF-8 length as 4 bytes big-endian, then the bytes.
//!
//! The columns added later (device, session, risk score and reasons) follow `detail` in
//! the same form, but only when one of them is set: an event recorded before they existed
//! keeps the hash it was sealed with.
//!
//! Lengths make the encoding unambiguous: no two different events encode alike, whatever
//! their text holds. The part up to `detail` delimits itself, so an encoding that ends there
//! cannot equal one that goes on. `detail` is hashed as the exact text stored, not as re-serialized JSON.
//! The position is not hashed: the `prev` link is what places an event, so an event moved
//! elsewhere still matches its own hash and is told apart from one that was edited.

use sha2::{Digest, Sha256};
use tessera_store::StoredAuditEvent;

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Starts every encoding, so that a future format cannot be mistaken for this one.
const VERSION_TAG: &[u8] = b"tessera.audit.v1";

const NULL: u8 = 0x00;
const INTEGER: u8 = 0x01;
const TEXT: u8 = 0x02;

/// The hash of `event` sealed after the event whose hash is `prev` (hex); `None` if `prev`
/// is not 64 hex digits (a stored value that was tampered with) or a text is longer than
/// 4 GiB.
pub fn link_hash(prev: &str, event: &StoredAuditEvent) -> Option<String> {
    let prev = decode_hex32(prev)?;
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(encode(event)?);
    Some(hex(&hasher.finalize()))
}

/// The canonical encoding of an event's recorded columns.
fn encode(event: &StoredAuditEvent) -> Option<Vec<u8>> {
    let mut out = VERSION_TAG.to_vec();
    integer(&mut out, event.id);
    integer(&mut out, event.occurred_at);
    text(&mut out, Some(&event.event_type))?;
    text(&mut out, Some(&event.outcome))?;
    text(&mut out, event.user_id.as_deref())?;
    text(&mut out, event.client_id.as_deref())?;
    text(&mut out, event.source_ip.as_deref())?;
    text(&mut out, event.user_agent.as_deref())?;
    text(&mut out, event.request_id.as_deref())?;
    text(&mut out, Some(&event.detail))?;
    let extended = event.device_id.is_some()
        || event.session_id.is_some()
        || event.risk_score.is_some()
        || event.risk_reasons.is_some();
    if extended {
        text(&mut out, event.device_id.as_deref())?;
        text(&mut out, event.session_id.as_deref())?;
        match event.risk_score {
            Some(score) => integer(&mut out, score),
            None => out.push(NULL),
        }
        text(&mut out, event.risk_reasons.as_deref())?;
    }
    Some(out)
}

fn integer(out: &mut Vec<u8>, value: i64) {
    out.push(INTEGER);
    out.extend_from_slice(&value.to_be_bytes());
}

fn text(out: &mut Vec<u8>, value: Option<&str>) -> Option<()> {
    match value {
        None => out.push(NULL),
        Some(value) => {
            let len = u32::try_from(value.len()).ok()?;
            out.push(TEXT);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(value.as_bytes());
        }
    }
    Some(())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;

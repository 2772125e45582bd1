//! Export of the sealed chain as JSON lines, one event per line in chain order: to standard
//! output or a file (the `audit_export` setting), and as the webhook's body.
//!
//! Each line carries the event's position and both hashes, so a receiver can check the
//! chain itself. A file export resumes after the position on its last complete line, so a
//! restart neither repeats nor skips an event; standard output has no memory and starts at
//! the chain's end when the process starts.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tessera_store::{SealedAuditEvent, Store, StoreError};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

/// Events read per query.
const PAGE: i64 = 500;

/// How much of a file's end is read to find its last line; far more than one event.
const TAIL_BYTES: u64 = 256 * 1024;

/// Where JSON lines go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ExportTarget {
    /// No export (the default).
    #[default]
    Off,
    Stdout,
    /// Appended to this file, created if absent.
    File(PathBuf),
}

/// One event as a JSON line, without the newline.
pub fn json_line(sealed: &SealedAuditEvent) -> String {
    let event = &sealed.event;
    // `detail` is JSON written by Tessera; should a row hold something else, it is exported
    // as the text it is rather than dropped.
    let detail = serde_json::from_str::<Value>(&event.detail)
        .unwrap_or_else(|_| Value::String(event.detail.clone()));
    json!({
        "seq": sealed.seq,
        "id": event.id,
        "occurred_at": event.occurred_at,
        "event_type": event.event_type,
        "outcome": event.outcome,
        "user_id": event.user_id,
        "client_id": event.client_id,
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "detail": detail,
        "device_id": event.device_id,
        "session_id": event.session_id,
        "risk_score": event.risk_score,
        "risk_reasons": risk_reasons(event.risk_reasons.as_deref()),
        "prev": sealed.prev,
        "hash": sealed.hash,
    })
    .to_string()
}

/// The reasons as the JSON array they were stored as; kept as text should a row hold
/// anything else, like `detail`.
pub fn risk_reasons(stored: Option<&str>) -> Value {
    match stored {
        None => Value::Null,
        Some(text) => {
            serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.into()))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the audit export failed")]
    Io(#[from] std::io::Error),
    #[error("reading the audit trail failed")]
    Store(#[from] StoreError),
}

/// Writes sealed events to one target, remembering the last position written and its hash.
pub struct Exporter {
    out: Box<dyn AsyncWrite + Send + Unpin>,
    after: i64,
    /// The hash on the last line written; `None` before the first or when unknown.
    last_hash: Option<String>,
}

impl Exporter {
    /// Opens `target`; `None` when export is off. A file resumes after its last line;
    /// standard output starts after the chain's current end.
    pub async fn open(target: &ExportTarget, store: &Store) -> Result<Option<Self>, ExportError> {
        let (out, last): (Box<dyn AsyncWrite + Send + Unpin>, Option<Position>) = match target {
            ExportTarget::Off => return Ok(None),
            ExportTarget::Stdout => {
                let head = store.audit_chain_head().await?;
                let last = Position {
                    seq: head.seq,
                    hash: Some(head.hash),
                };
                (Box::new(tokio::io::stdout()), Some(last))
            }
            ExportTarget::File(path) => {
                let (file, last) = open_file(path).await?;
                (Box::new(file), last)
            }
        };
        let (after, last_hash) = last.map_or((0, None), |last| (last.seq, last.hash));
        Ok(Some(Self {
            out,
            after,
            last_hash,
        }))
    }

    /// Writes every event sealed since the last call; returns how many.
    pub async fn export(&mut self, store: &Store) -> Result<u64, ExportError> {
        self.check_continuity(store).await?;
        let mut written = 0;
        loop {
            let page = store.sealed_audit_events(self.after, PAGE).await?;
            let Some(last) = page.last().map(|event| event.seq) else {
                return Ok(written);
            };
            let mut lines = String::new();
            for event in &page {
                lines.push_str(&json_line(event));
                lines.push('\n');
            }
            self.out.write_all(lines.as_bytes()).await?;
            self.out.flush().await?;
            self.after = last;
            self.last_hash = page.last().map(|event| event.hash.clone());
            written += page.len() as u64;
        }
    }
}

impl Exporter {
    /// The chain must still hold the last exported line: the same hash at its position. When
    /// it does not, the chain was cut or rewritten since (someone wrote to the database); the
    /// export goes on from the chain's head as it now is, so the positions sealed next, which
    /// may repeat positions already exported, reach the copy instead of being skipped as
    /// already written, and the operator is told.
    async fn check_continuity(&mut self, store: &Store) -> Result<(), ExportError> {
        let Some(expected) = self.last_hash.as_deref() else {
            return Ok(());
        };
        if self.after <= 0 {
            return Ok(());
        }
        let held = store.sealed_audit_events(self.after - 1, 1).await?;
        let kept = held
            .first()
            .is_some_and(|event| event.seq == self.after && event.hash == expected);
        if kept {
            return Ok(());
        }
        let head = store.audit_chain_head().await?;
        tracing::error!(
            exported_through = self.after,
            chain_head = head.seq,
            "the audit chain no longer holds the last exported event: it was cut or rewritten; \
             exporting on from the chain's head"
        );
        self.after = head.seq.min(self.after);
        self.last_hash = None;
        Ok(())
    }
}

/// A position and its hash, as the last line of an export holds them.
struct Position {
    seq: i64,
    hash: Option<String>,
}

/// Opens `path` for appending and finds the position on its last complete line (0 for a
/// new or empty file). A line cut short by a crash is ended, so the next line starts clean;
/// the events on it are written again after it.
async fn open_file(path: &Path) -> Result<(tokio::fs::File, Option<Position>), ExportError> {
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true).append(true).create(true);
    // The trail names people, clients and addresses: a new file is its owner's alone. An
    // existing file keeps the permissions its owner gave it.
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    let len = file.metadata().await?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start)).await?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).await?;

    let ends_cleanly = tail.last().is_none_or(|&byte| byte == b'\n');
    if !ends_cleanly {
        file.write_all(b"\n").await?;
    }
    Ok((file, last_position(&tail)))
}

/// The `seq` and `hash` of the last line of `tail` that is a complete JSON object.
fn last_position(tail: &[u8]) -> Option<Position> {
    tail.split(|&byte| byte == b'\n')
        .rev()
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .find_map(|line| {
            let seq = line.get("seq").and_then(Value::as_i64)?;
            let hash = line.get("hash").and_then(Value::as_str).map(str::to_string);
            Some(Position { seq, hash })
        })
}

#[cfg(test)]
mod tests;

//! The events of reads that change nothing (userinfo, introspection), written in batches.
//!
//! Each such call used to open, fill and commit a transaction of its own for one row; under
//! load those transactions, not the reads, were the work. Here one task owns the writing: a
//! call hands its event over and waits for the answer, and whatever calls arrived while the
//! previous batch was being written share the next transaction. Nothing waits for a batch
//! to fill, so a lone call is written at once; a call's response still follows its event's
//! commit, in order of arrival, and the event keeps its place in the chain.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::audit::{bind_event, count, insert_event_sql, EVENT_VALUES};
use crate::{AuditEvent, Engine, Result, Store};

/// Events written in one transaction at most: at [`EVENT_VALUES`] binds each, a statement
/// stays far below SQLite's limit of 32766 parameters and PostgreSQL's of 65535.
const BATCH: usize = 128;

/// Calls that may wait for the writer before a new one waits to hand its event over.
const QUEUE: usize = 4096;

type Handover = (AuditEvent, oneshot::Sender<Result<()>>);

/// The writer's mailbox, started by the first read a [`Store`] records.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReadEvents(Arc<OnceLock<mpsc::Sender<Handover>>>);

impl ReadEvents {
    /// The mailbox, starting its writer on first use. The writer holds a copy of the store
    /// without this mailbox, so it ends once every copy of the store that could send is gone.
    fn sender(&self, store: &Store) -> &mpsc::Sender<Handover> {
        self.0.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            let writer = Store {
                reads: ReadEvents::default(),
                ..store.clone()
            };
            tokio::spawn(write_batches(writer, receiver));
            sender
        })
    }
}

impl Store {
    /// Records the event of a read that changed nothing: a successful or refused userinfo
    /// or introspection call, in a batch with the reads that arrived meanwhile. On
    /// PostgreSQL a batch's commit does not wait for the write-ahead log to reach the disk
    /// (`synchronous_commit = off`, "Asynchronous Commit" in PostgreSQL's documentation): a
    /// crash may lose the last fraction of a second of such events, never a change or the
    /// event of a change, and the database stays consistent. SQLite commits as always.
    pub async fn record_read(&self, event: &AuditEvent) -> Result<()> {
        let (answer, answered) = oneshot::channel();
        if self
            .reads
            .sender(self)
            .send((event.clone(), answer))
            .await
            .is_err()
        {
            // The writer is gone (its runtime is shutting down): write the event alone.
            return write(self, std::slice::from_ref(event)).await;
        }
        match answered.await {
            Ok(result) => result,
            Err(_) => write(self, std::slice::from_ref(event)).await,
        }
    }
}

/// The writer: takes what is waiting, up to [`BATCH`], writes it in one transaction, and
/// answers each call.
async fn write_batches(store: Store, mut receiver: mpsc::Receiver<Handover>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let (events, answers): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
        match write(&store, &events).await {
            Ok(()) => {
                for answer in answers {
                    // A caller that went away (its client hung up) needs no answer.
                    let _ = answer.send(Ok(()));
                }
            }
            // One bad event must not fail the calls it happened to share a batch with: each
            // is tried alone, and gets its own answer.
            Err(_) => {
                for (event, answer) in events.iter().zip(answers) {
                    let _ = answer.send(write(&store, std::slice::from_ref(event)).await);
                }
            }
        }
    }
}

/// Writes `events` in one transaction, in order, with one statement.
async fn write(store: &Store, events: &[AuditEvent]) -> Result<()> {
    let mut tx = store.begin().await?;
    if store.engine == Engine::Postgres {
        sqlx::query("SET LOCAL synchronous_commit TO OFF")
            .execute(&mut *tx.0)
            .await?;
    }
    let sql = insert_events_sql(events.len());
    let mut query = sqlx::query(&sql);
    for event in events {
        query = bind_event(query, event);
    }
    query.execute(&mut *tx.0).await?;
    tx.commit().await?;
    events.iter().for_each(count);
    Ok(())
}

/// One `INSERT` of `rows` events: the statement of [`insert_event_sql`] with a row of
/// placeholders for each.
fn insert_events_sql(rows: usize) -> String {
    let mut sql = insert_event_sql(0);
    for row in 1..rows {
        let placeholders: Vec<String> = (1..=EVENT_VALUES)
            .map(|n| format!("${}", n + row * EVENT_VALUES))
            .collect();
        sql.push_str(&format!(", ({})", placeholders.join(", ")));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::insert_events_sql;

    #[test]
    fn each_row_has_its_own_thirteen_placeholders() {
        let sql = insert_events_sql(2);
        assert!(sql.ends_with(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13), \
             ($14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)"
        ));
    }
}

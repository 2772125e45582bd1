//! Tessera's storage.
//!
//! One set of repositories serves both engines: queries are written in the SQL that
//! PostgreSQL and SQLite share and run through sqlx's `Any` driver, and the dialect split
//! lives only in the per-engine migration folders. Callers never learn which engine is
//! underneath.
//!
//! Reads are methods of [`Store`]; writes happen inside a [`Tx`], so that the audit event
//! describing a change is committed together with the change or not at all.

mod admin;
mod assertions;
mod audit;
mod audit_chain;
mod audit_reads;
mod audit_webhook;
mod client_changes;
mod clients;
mod codes;
mod consents;
mod devices;
mod factors;
mod interactions;
mod janitor;
mod keys;
mod logout;
mod refresh;
mod risk;
mod sessions;
mod throttle;
mod tokens;
mod user_access;
mod user_admin;
mod users;
mod webauthn;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

pub use admin::IdempotentResponse;
pub use audit::{AuditEvent, AuditFilter, Outcome, StoredAuditEvent};
pub use audit_chain::{AuditCheckpoint, AuditKey, ChainHead, SealedAuditEvent};
pub use audit_webhook::WebhookCursor;
pub use client_changes::{ClientRemoval, PreviousSecret};
pub use clients::{Client, NewClient, DEFAULT_REFRESH_TOKEN_IDLE_TTL, DEFAULT_REFRESH_TOKEN_TTL};
pub use codes::{AuthorizationCode, Redemption};
pub use consents::Consent;
pub use devices::{Device, DeviceVisit, DevicesAfter};
pub use factors::TotpFactor;
pub use interactions::Interaction;
pub use janitor::SPENT_CODE_RETENTION;
pub use keys::SigningKeyRecord;
pub use logout::{LogoutDelivery, LOGOUT_DELIVERY_RETENTION};
pub use refresh::{RefreshClaim, RefreshTokenRecord, Revoked, StoredRefreshToken};
pub use risk::{LoginLesson, RiskHistory, StoredPlace, HOURS};
pub use sessions::Session;
pub use throttle::ThrottleCounter;
pub use tokens::{AccessTokenRecord, StoredAccessToken};
pub use user_access::{PageAfter, RecoveryCodeSet, RefreshFamily, SessionSummary, TotpDates};
pub use user_admin::{FactorFilter, ProfileUpdate, UserQuery, UserRecord};
pub use users::{NewUser, User};
pub use webauthn::{NewWebauthnCredential, WebauthnCeremony, WebauthnCredential, WebauthnUse};

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// A storage failure. Its text is for the operator's log only, never for a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL: expected postgres:// or sqlite:")]
    UnsupportedUrl,
    #[error("a stored value is malformed: {0}")]
    Corrupt(&'static str),
    #[error("the value conflicts with an existing record")]
    Conflict,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

/// A pool of connections to one database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    reads: audit_reads::ReadEvents,
}

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite:…`); SQLite files are created if absent.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();

        let engine = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl);
        };

        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets readers run beside the single writer; the busy timeout
                        // queues writers instead of failing them; foreign keys are off by
                        // default in SQLite.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;

        Ok(Self {
            pool,
            engine,
            reads: Default::default(),
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Applies the migrations of this engine that have not run yet.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.engine {
            Engine::Postgres => &POSTGRES_MIGRATIONS,
            Engine::Sqlite => &SQLITE_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx> {
        let tx = match self.engine {
            // SQLite in WAL mode cannot upgrade a reader to a writer once another writer
            // committed after its read began: the upgrade fails at once (SQLITE_BUSY_SNAPSHOT)
            // and the busy timeout does not help. A transaction here usually reads, then
            // writes; taking the write lock at BEGIN makes concurrent ones wait their turn
            // (up to the busy timeout) instead of failing.
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        };
        Ok(Tx(tx))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A database transaction. Dropping it without [`Tx::commit`] rolls it back.
pub struct Tx(Transaction<'static, Any>);

impl Tx {
    pub async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }

    /// Undoes the transaction now, releasing its locks before the next statement elsewhere
    /// (dropping it would defer the rollback until the connection is next used).
    pub async fn rollback(self) -> Result<()> {
        Ok(self.0.rollback().await?)
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
fn conflict(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Database(err),
    }
}

/// Integers stand for booleans in both engines' schemas.
fn flag(value: bool) -> i64 {
    i64::from(value)
}

#[cfg(feature = "testing")]
pub mod testing;

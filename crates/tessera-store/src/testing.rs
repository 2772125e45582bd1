//! Fresh databases for tests: every test owns its database, so tests share nothing and
//! run in any order. A test kit fails by panicking, like the tests that use it.
#![allow(clippy::expect_used)]

use std::path::PathBuf;

use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

use crate::{Engine, Store};

/// The variable naming a PostgreSQL server on which tests may create and drop databases.
pub const POSTGRES_URL_VAR: &str = "TESSERA_TEST_DATABASE_URL";

/// A database created for one test; [`TestDatabase::drop_database`] removes it.
pub struct TestDatabase {
    pub url: String,
    engine: Engine,
    name: String,
    admin_url: Option<String>,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The engines a test should run on: SQLite always, PostgreSQL when configured.
pub fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if std::env::var(POSTGRES_URL_VAR).is_ok() {
        engines.push(Engine::Postgres);
    }
    engines
}

impl TestDatabase {
    pub async fn create(engine: Engine) -> Self {
        let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("create a temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.join("tessera.db").display());
                Self {
                    url,
                    engine,
                    name,
                    admin_url: None,
                    _dir: Some(TempDir(dir)),
                }
            }
            Engine::Postgres => {
                let admin_url = std::env::var(POSTGRES_URL_VAR).expect("TESSERA_TEST_DATABASE_URL");
                let admin = admin_pool(&admin_url).await;
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create a test database");
                admin.close().await;
                let mut url = url::Url::parse(&admin_url).expect("a database URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    engine,
                    name,
                    admin_url: Some(admin_url),
                    _dir: None,
                }
            }
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Connects and applies the migrations.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url, 5)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        store
    }

    pub async fn drop_database(self) {
        if let Some(admin_url) = &self.admin_url {
            let admin = admin_pool(admin_url).await;
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            admin
                .execute(sql.as_str())
                .await
                .expect("drop the test database");
            admin.close().await;
        }
    }
}

async fn admin_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to PostgreSQL")
}

/// Runs `test` once on each engine from [`engines`], each time on a fresh database.
pub async fn on_each_engine<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for engine in engines() {
        let db = TestDatabase::create(engine).await;
        let store = db.store().await;
        test(store.clone()).await;
        store.close().await;
        db.drop_database().await;
    }
}

/// Moves the last authentication of every session of `user_id` `seconds` into the past, as
/// if the person had signed in that long ago; for tests of rules about recent sign-ins.
pub async fn backdate_sessions(store: &Store, user_id: &str, seconds: i64) {
    sqlx::query("UPDATE sessions SET auth_time = auth_time - $1 WHERE user_id = $2")
        .bind(seconds)
        .bind(user_id)
        .execute(&store.pool)
        .await
        .expect("backdate the sessions");
}

/// Moves the last place that risk scoring remembers for `user_id` `seconds` into the past, as
/// if the person had logged in from it that long ago; for tests of impossible travel.
pub async fn backdate_last_place(store: &Store, user_id: &str, seconds: i64) {
    sqlx::query("UPDATE risk_profiles SET last_place_at = last_place_at - $1 WHERE user_id = $2")
        .bind(seconds)
        .bind(user_id)
        .execute(&store.pool)
        .await
        .expect("backdate the last login");
}

/// Sets the stored signature counter of a WebAuthn credential, as a cloned authenticator
/// that another copy has run ahead of would find it.
pub async fn set_webauthn_sign_count(store: &Store, credential_id: &[u8], sign_count: i64) {
    sqlx::query("UPDATE webauthn_credentials SET sign_count = $1 WHERE credential_id = $2")
        .bind(sign_count)
        .bind(credential_id.to_vec())
        .execute(&store.pool)
        .await
        .expect("set a credential's signature counter");
}

/// Runs `sql` as it stands, as someone with write access to the database could; for tests
/// that tamper with the audit trail and expect to be found out.
pub async fn tamper(store: &Store, sql: &str) {
    sqlx::query(sql)
        .execute(&store.pool)
        .await
        .expect("run the tampering statement");
}

/// The first column of every row `sql` returns, as text; for tests that compare what the
/// database holds with what the audit trail says. The statement casts what is not text.
pub async fn strings(store: &Store, sql: &str) -> Vec<String> {
    use sqlx::Row;
    let rows = sqlx::query(sql)
        .fetch_all(&store.pool)
        .await
        .expect("run the query");
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).expect("a text column"))
        .collect()
}

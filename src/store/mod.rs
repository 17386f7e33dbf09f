//! The store: one connection pool over SQLite (embedded default) or PostgreSQL (multi-site),
//! picked from the URL scheme, with the same SQL for both through sqlx's `Any` driver.
//!
//! Portable SQL rules (see `migrations/README.md`): `$1` placeholders, `BIGINT`/`INTEGER` ids,
//! times as fixed-width RFC 3339 UTC text (`Ts`), no booleans (a nullable `*_at` time instead).
//!
//! Every write goes through [`WriteTx`], which also writes the audit row and the change events.

pub mod events;
mod ts;
mod write;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};
use tokio::sync::broadcast;

pub use events::EventKind;
pub use ts::Ts;
pub use write::{Actor, Audience, NewEvent, StoredEvent, WriteTx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The shared store and its change feed. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    /// Carries the id of the newest committed event; listeners read the events from the table.
    changes: broadcast::Sender<i64>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://HOST/DB")]
    Scheme(String),
    #[error("cannot create the directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Creates the store file readable by its owner only (health data), or narrows an existing
/// one to that. SQLite gives its `-wal` and `-shm` files the same permissions.
fn private_file(path: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl Db {
    /// Connects to `url` (`sqlite://path/to/file.db` or `postgres://...`), creating a SQLite file
    /// and its directory if needed, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Db, ConnectError> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(ConnectError::Scheme(url.to_owned()));
        };
        let mut url = url.to_owned();
        if engine == Engine::Sqlite {
            let path = sqlite_path(&url);
            if let Some(dir) = Path::new(&path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|source| ConnectError::Dir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            if path != ":memory:" && !path.is_empty() {
                private_file(&path).map_err(|source| ConnectError::Dir {
                    path: path.clone(),
                    source,
                })?;
            }
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let options = AnyConnectOptions::from_str(&url)
            .map_err(ConnectError::Connect)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = AnyPoolOptions::new()
            .max_connections(match engine {
                Engine::Sqlite => 8,
                Engine::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        match engine {
            Engine::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Engine::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let (changes, _) = broadcast::channel(1024);
        Ok(Db {
            pool,
            engine,
            changes,
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Starts a write transaction on behalf of `actor`. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue instead of failing on lock upgrade.
    pub async fn write(&self, actor: Actor) -> Result<WriteTx, sqlx::Error> {
        let tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx::new(tx, self.clone(), actor))
    }

    /// Wakes up when an event is committed (carries the newest event id).
    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file path inside a `sqlite://path?params` URL.
fn sqlite_path(url: &str) -> String {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    rest.split('?').next().unwrap_or_default().to_owned()
}

/// The default embedded store: `chevet.db` in the user's data directory.
pub fn default_sqlite_url() -> String {
    let dir = dirs::data_dir()
        .unwrap_or_else(|| std::path::PathBuf::from("."))
        .join("chevet");
    format!("sqlite://{}", dir.join("chevet.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(sqlite_path("sqlite:///tmp/a/b.db"), "/tmp/a/b.db");
        assert_eq!(sqlite_path("sqlite://rel.db?mode=rwc"), "rel.db");
        assert_eq!(sqlite_path("sqlite:x.db"), "x.db");
    }
}

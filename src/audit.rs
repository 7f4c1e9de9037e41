//! The audit log: every operation the console attempts, stored in SQLite in the state dir
//! (`audit.db`) before the call is sent and completed with its outcome afterwards, so a crash
//! mid-call still leaves a `pending` record. Parameters never hold secret values.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

/// Migrations in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &["CREATE TABLE audit (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        time_ms     INTEGER NOT NULL,
        identity    TEXT NOT NULL,
        target      TEXT NOT NULL,
        operation   TEXT NOT NULL,
        parameters  TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        message     TEXT NOT NULL DEFAULT '',
        cli_command TEXT NOT NULL,
        finished_ms INTEGER
    );"];

/// File name of the audit database inside the state dir.
pub const FILE_NAME: &str = "audit.db";

/// Why the audit log could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot create the state dir {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit log {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("audit log {path} has schema version {found}, newer than this pipetui knows ({known})")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("audit log: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("audit log: no entry with id {0}")]
    UnknownId(i64),
}

/// How an attempted operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent (or about to be) and not answered yet — or the process died before the answer.
    Pending,
    /// The notice shown to the operator.
    Succeeded(String),
    /// The error line (`Code: message`).
    Failed(String),
    /// The answer was lost (timeout, dropped connection) and reading back could not tell
    /// whether the call took effect; the text says why.
    Unknown(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Pending => f.write_str("pending"),
            Outcome::Succeeded(_) => f.write_str("succeeded"),
            Outcome::Failed(message) => write!(f, "failed: {message}"),
            Outcome::Unknown(message) => write!(f, "unknown: {message}"),
        }
    }
}

/// One operation as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Assigned by [`AuditLog::record_attempt`]; 0 for an entry not stored yet.
    pub id: i64,
    /// When the operation was attempted (wall clock, UTC).
    pub time: OffsetDateTime,
    /// Who acted: the caller ARN, or the account when the ARN is unknown.
    pub identity: String,
    /// Where the call went: `EMULATOR`, `profile@region` or an endpoint URL.
    pub target: String,
    /// The API call, e.g. `codepipeline:PutApprovalResult`.
    pub operation: String,
    /// The call's parameters as JSON (ids, names, comments; never a secret value).
    pub parameters: serde_json::Value,
    pub outcome: Outcome,
    /// The equivalent `aws` CLI command.
    pub cli_command: String,
}

impl AuditEntry {
    /// A pending entry stamped with the current time.
    pub fn now(
        identity: impl Into<String>,
        target: impl Into<String>,
        operation: impl Into<String>,
        parameters: serde_json::Value,
        cli_command: impl Into<String>,
    ) -> Self {
        Self {
            id: 0,
            time: OffsetDateTime::now_utc(),
            identity: identity.into(),
            target: target.into(),
            operation: operation.into(),
            parameters,
            outcome: Outcome::Pending,
            cli_command: cli_command.into(),
        }
    }
}

/// The audit database. Methods take `&self` so one log can be shared (`Arc`) by the worker tasks.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl AuditLog {
    /// Opens (creating when missing) `<state_dir>/audit.db` and applies pending migrations.
    pub fn open(state_dir: &Path) -> Result<Self, AuditError> {
        let dir_err = |source| AuditError::StateDir {
            path: state_dir.to_path_buf(),
            source,
        };
        crate::paths::ensure_private_dir(state_dir).map_err(dir_err)?;
        let path = state_dir.join(FILE_NAME);
        // Created owner-only before SQLite opens it; its -wal/-shm files take the same mode.
        crate::paths::open_private(&path, false).map_err(|source| AuditError::StateDir {
            path: path.clone(),
            source,
        })?;
        let open_err = |source| AuditError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        // WAL + FULL: a committed attempt survives the process being killed right after.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        migrate(&mut conn, &path)?;
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each write is one statement).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores an attempt before the call is sent; returns its id for [`Self::record_outcome`].
    pub fn record_attempt(&self, entry: &AuditEntry) -> Result<i64, AuditError> {
        let (outcome, message) = outcome_columns(&entry.outcome);
        let conn = self.conn();
        conn.execute(
            "INSERT INTO audit (time_ms, identity, target, operation, parameters, outcome, message,
                                cli_command)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                millis(entry.time),
                entry.identity,
                entry.target,
                entry.operation,
                entry.parameters.to_string(),
                outcome,
                message,
                entry.cli_command,
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Completes an attempt: `Ok(notice)` or `Err(error line)`.
    pub fn record_outcome(&self, id: i64, result: Result<&str, &str>) -> Result<(), AuditError> {
        let outcome = match result {
            Ok(notice) => Outcome::Succeeded(notice.to_string()),
            Err(message) => Outcome::Failed(message.to_string()),
        };
        self.record(id, &outcome)
    }

    /// Sets an attempt's outcome (also a later, better-informed one over `unknown`).
    pub fn record(&self, id: i64, outcome: &Outcome) -> Result<(), AuditError> {
        let (outcome, message) = outcome_columns(outcome);
        let changed = self.conn().execute(
            "UPDATE audit SET outcome = ?1, message = ?2, finished_ms = ?3 WHERE id = ?4",
            params![outcome, message, millis(OffsetDateTime::now_utc()), id],
        )?;
        if changed == 0 {
            return Err(AuditError::UnknownId(id));
        }
        Ok(())
    }

    /// The newest `limit` entries, newest first (attempt order: the wall clock may step back).
    pub fn recent(&self, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, time_ms, identity, target, operation, parameters, outcome, message,
                    cli_command
             FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit], row_entry)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// One entry by id.
    pub fn get(&self, id: i64) -> Result<Option<AuditEntry>, AuditError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT id, time_ms, identity, target, operation, parameters, outcome, message,
                        cli_command
                 FROM audit WHERE id = ?1",
                [id],
                row_entry,
            )
            .optional()?)
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), AuditError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(AuditError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn outcome_columns(outcome: &Outcome) -> (&'static str, &str) {
    match outcome {
        Outcome::Pending => ("pending", ""),
        Outcome::Succeeded(notice) => ("succeeded", notice),
        Outcome::Failed(message) => ("failed", message),
        Outcome::Unknown(message) => ("unknown", message),
    }
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn row_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    let time_ms: i64 = row.get(1)?;
    let parameters: String = row.get(5)?;
    let outcome: String = row.get(6)?;
    let message: String = row.get(7)?;
    Ok(AuditEntry {
        id: row.get(0)?,
        time: OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        identity: row.get(2)?,
        target: row.get(3)?,
        operation: row.get(4)?,
        // Written by us as JSON; a hand-edited row still shows as its raw text.
        parameters: serde_json::from_str(&parameters)
            .unwrap_or(serde_json::Value::String(parameters)),
        outcome: match outcome.as_str() {
            "succeeded" => Outcome::Succeeded(message),
            "failed" => Outcome::Failed(message),
            "unknown" => Outcome::Unknown(message),
            _ => Outcome::Pending,
        },
        cli_command: row.get(8)?,
    })
}

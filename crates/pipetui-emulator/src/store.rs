//! Durable state: SQLite in WAL mode, `synchronous = FULL`, one transaction per mutation,
//! committed before the response leaves, schema versioned with `PRAGMA user_version`.
//!
//! Resources are JSON documents keyed by (service, kind, id); streams of records that only grow
//! (log events, metric data, stack events, alarm history) are rows of `records`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::protocol::ServiceError;

/// Migrations in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &["CREATE TABLE documents (
        service TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (service, kind, id)
     ) WITHOUT ROWID;
     CREATE TABLE records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        service TEXT NOT NULL, stream TEXT NOT NULL, ts REAL NOT NULL, body TEXT NOT NULL
     );
     CREATE INDEX records_by_stream ON records (service, stream, ts, seq);"];

/// The documents of one (service, kind), shared with readers without copying.
pub type Documents = Arc<BTreeMap<String, Arc<Value>>>;

type CacheKey = (String, String);
/// A document write waiting for its transaction to commit: (service, kind, id, new body or delete).
type Pending = (String, String, String, Option<Value>);

#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    /// Write-through cache of whole kinds, filled on first [`Store::documents`] and updated only
    /// when a transaction commits, so hot reads skip SQLite and JSON parsing.
    cache: Mutex<HashMap<CacheKey, Documents>>,
}

fn db_err(e: rusqlite::Error) -> ServiceError {
    tracing::error!(error = %e, "emulator store failure");
    ServiceError::internal(format!("emulator store failure: {e}"))
}

/// A record of a stream, in insertion order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub seq: i64,
    pub ts: f64,
    pub body: Value,
}

impl Store {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        #[cfg(unix)]
        if let Err(e) = owner_only(path) {
            return Err(rusqlite::Error::InvalidPath(path.join(format!("({e})"))));
        }
        Self::init(Connection::open(path)?)
    }

    /// A private in-memory store (tests, throwaway runs).
    pub fn in_memory() -> Result<Self, rusqlite::Error> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, rusqlite::Error> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn schema_version(&self) -> i64 {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap_or(0)
    }

    /// Runs `f` in one transaction; it commits only if `f` succeeds.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(db_err)?;
        let pending = RefCell::new(Vec::new());
        let out = f(&Tx {
            conn: &tx,
            pending: Some(&pending),
        })?;
        tx.commit().map_err(db_err)?;
        self.apply(pending.into_inner());
        Ok(out)
    }

    /// Reads without a write transaction.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&Tx {
            conn: &conn,
            pending: None,
        })
    }

    /// Every document of a kind, from the cache (loaded from SQLite on first use).
    pub fn documents(&self, service: &str, kind: &str) -> Result<Documents, ServiceError> {
        let key = (service.to_string(), kind.to_string());
        if let Some(d) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(d.clone());
        }
        // Loaded under the connection lock, so no commit can slip between the read and the insert.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let rows = Tx {
            conn: &conn,
            pending: None,
        }
        .list(service, kind)?;
        let docs: Documents = Arc::new(rows.into_iter().map(|(id, v)| (id, Arc::new(v))).collect());
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, docs.clone());
        Ok(docs)
    }

    /// One document from the cache.
    pub fn document(
        &self,
        service: &str,
        kind: &str,
        id: &str,
    ) -> Result<Option<Arc<Value>>, ServiceError> {
        Ok(self.documents(service, kind)?.get(id).cloned())
    }

    fn apply(&self, pending: Vec<Pending>) {
        if pending.is_empty() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        for (service, kind, id, body) in pending {
            if let Some(docs) = cache.get_mut(&(service, kind)) {
                let docs = Arc::make_mut(docs);
                match body {
                    Some(v) => {
                        docs.insert(id, Arc::new(v));
                    }
                    None => {
                        docs.remove(&id);
                    }
                }
            }
        }
    }
}

/// Operations inside a transaction (or a read).
pub struct Tx<'a> {
    conn: &'a Connection,
    pending: Option<&'a RefCell<Vec<Pending>>>,
}

impl Tx<'_> {
    fn remember(&self, service: &str, kind: &str, id: &str, body: Option<&Value>) {
        if let Some(p) = self.pending {
            p.borrow_mut().push((
                service.to_string(),
                kind.to_string(),
                id.to_string(),
                body.cloned(),
            ));
        }
    }

    pub fn get(&self, service: &str, kind: &str, id: &str) -> Result<Option<Value>, ServiceError> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM documents WHERE service = ?1 AND kind = ?2 AND id = ?3",
                params![service, kind, id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    pub fn put(
        &self,
        service: &str,
        kind: &str,
        id: &str,
        body: &Value,
    ) -> Result<(), ServiceError> {
        self.conn
            .execute(
                "INSERT INTO documents (service, kind, id, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (service, kind, id) DO UPDATE SET body = excluded.body",
                params![service, kind, id, body.to_string()],
            )
            .map_err(db_err)?;
        self.remember(service, kind, id, Some(body));
        Ok(())
    }

    /// Deletes a document; true if it existed.
    pub fn delete(&self, service: &str, kind: &str, id: &str) -> Result<bool, ServiceError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM documents WHERE service = ?1 AND kind = ?2 AND id = ?3",
                params![service, kind, id],
            )
            .map_err(db_err)?;
        self.remember(service, kind, id, None);
        Ok(n > 0)
    }

    /// Every document of a kind, ordered by id.
    pub fn list(&self, service: &str, kind: &str) -> Result<Vec<(String, Value)>, ServiceError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, body FROM documents WHERE service = ?1 AND kind = ?2 ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![service, kind], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(db_err)?;
            if let Ok(v) = serde_json::from_str(&body) {
                out.push((id, v));
            }
        }
        Ok(out)
    }

    /// Appends a record to a stream; returns its sequence number.
    pub fn append(
        &self,
        service: &str,
        stream: &str,
        ts: f64,
        body: &Value,
    ) -> Result<i64, ServiceError> {
        self.conn
            .execute(
                "INSERT INTO records (service, stream, ts, body) VALUES (?1, ?2, ?3, ?4)",
                params![service, stream, ts, body.to_string()],
            )
            .map_err(db_err)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records of a stream with `from <= ts < to`, in (ts, seq) order.
    pub fn records(
        &self,
        service: &str,
        stream: &str,
        from: f64,
        to: f64,
    ) -> Result<Vec<Record>, ServiceError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, ts, body FROM records WHERE service = ?1 AND stream = ?2 AND ts >= ?3 AND ts < ?4
                 ORDER BY ts, seq",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![service, stream, from, to], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, ts, body) = row.map_err(db_err)?;
            out.push(Record {
                seq,
                ts,
                body: serde_json::from_str(&body).unwrap_or(Value::Null),
            });
        }
        Ok(out)
    }

    /// Deletes a stream's records older than `before` (retention) or all of them.
    pub fn delete_records(
        &self,
        service: &str,
        stream: &str,
        before: Option<f64>,
    ) -> Result<usize, ServiceError> {
        let n = match before {
            Some(t) => self.conn.execute(
                "DELETE FROM records WHERE service = ?1 AND stream = ?2 AND ts < ?3",
                params![service, stream, t],
            ),
            None => self.conn.execute(
                "DELETE FROM records WHERE service = ?1 AND stream = ?2",
                params![service, stream],
            ),
        }
        .map_err(db_err)?;
        Ok(n)
    }
}

/// Owner-only from the first byte: the database is created (or tightened) `0600` before SQLite
/// opens it, and SQLite gives new -wal and -shm files the database's mode; companions an older
/// version left are tightened too.
#[cfg(unix)]
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let private = std::fs::Permissions::from_mode(0o600);
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?
        .set_permissions(private.clone())?;
    for suffix in ["-wal", "-shm"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        if std::path::Path::new(&companion).exists() {
            std::fs::set_permissions(&companion, private.clone())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_database_and_its_wal_are_owner_only_from_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emulator.db");
        let store = Store::open(&path).unwrap();
        store
            .write(|tx| tx.put("logs", "group", "/a", &serde_json::json!({"n": 1})))
            .unwrap();
        for name in ["emulator.db", "emulator.db-wal", "emulator.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
        // Files an older version left readable are tightened when the store opens again.
        drop(store);
        for name in ["emulator.db", "emulator.db-wal"] {
            let path = dir.path().join(name);
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
        let _store = Store::open(&path).unwrap();
        for name in ["emulator.db", "emulator.db-wal"] {
            let path = dir.path().join(name);
            if path.exists() {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "reopened {name}: {mode:o}");
            }
        }
    }

    #[test]
    fn documents_and_records_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emulator.db");
        {
            let store = Store::open(&path).unwrap();
            store
                .write(|tx| {
                    tx.put("logs", "group", "/a", &serde_json::json!({"n": 1}))?;
                    tx.append("logs", "/a/s", 5.0, &serde_json::json!("hello"))?;
                    Ok(())
                })
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version(), MIGRATIONS.len() as i64);
        let doc = store.read(|tx| tx.get("logs", "group", "/a")).unwrap();
        assert_eq!(doc, Some(serde_json::json!({"n": 1})));
        let recs = store
            .read(|tx| tx.records("logs", "/a/s", 0.0, 10.0))
            .unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].body, serde_json::json!("hello"));
    }

    #[test]
    fn the_cache_sees_commits_only() {
        let store = Store::in_memory().unwrap();
        store
            .write(|tx| tx.put("s", "k", "1", &serde_json::json!(1)))
            .unwrap();
        assert_eq!(store.documents("s", "k").unwrap().len(), 1);
        let _ = store.write(|tx| {
            tx.put("s", "k", "2", &serde_json::json!(2))?;
            Err::<(), _>(ServiceError::validation("no"))
        });
        assert_eq!(store.documents("s", "k").unwrap().len(), 1, "rolled back");
        store
            .write(|tx| tx.delete("s", "k", "1").map(|_| ()))
            .unwrap();
        store
            .write(|tx| tx.put("s", "k", "3", &serde_json::json!(3)))
            .unwrap();
        let docs = store.documents("s", "k").unwrap();
        assert_eq!(docs.keys().collect::<Vec<_>>(), ["3"]);
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let store = Store::in_memory().unwrap();
        let r: Result<(), _> = store.write(|tx| {
            tx.put("s", "k", "1", &serde_json::json!(1))?;
            Err(ServiceError::validation("no"))
        });
        assert!(r.is_err());
        assert_eq!(store.read(|tx| tx.get("s", "k", "1")).unwrap(), None);
    }
}

//! Persistence of jobs in a redb database under the data directory (`<data-dir>/harmony.redb`).
//!
//! Owns the on-disk format only: one table from job ID to the job record as JSON, one counter table.
//! Knows nothing of HTTP or of the job state machine.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::engine::JobRecord;

const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("job store {what}: {source}")]
    Database {
        /// Which operation.
        what: &'static str,
        /// redb's error, kept as the cause.
        #[source]
        source: redb::Error,
    },
    /// The server is shutting down and the database is closed.
    #[error("job store is closed: the server is shutting down")]
    Closed,
    /// A stored record is not valid JSON for this version.
    #[error("job store holds an unreadable record for job {job_id}: {source}")]
    Corrupt {
        /// Which job.
        job_id: String,
        /// Why the record does not read, kept as the cause.
        #[source]
        source: serde_json::Error,
    },
}

fn db_error<E: Into<redb::Error>>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |error| StoreError::Database { what, source: error.into() }
}

/// The job database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(db_error("open"))?;
        let store = Store { db };
        // Create the tables so that readers never meet a missing table.
        let txn = store.db.begin_write().map_err(db_error("begin write"))?;
        txn.open_table(JOBS).map_err(db_error("create table"))?;
        txn.open_table(COUNTERS).map_err(db_error("create table"))?;
        txn.commit().map_err(db_error("commit"))?;
        Ok(store)
    }

    /// Writes (inserts or replaces) one job record.
    pub fn put(&self, job: &JobRecord) -> Result<(), StoreError> {
        let bytes =
            serde_json::to_vec(job).map_err(|e| StoreError::Corrupt { job_id: job.job_id.clone(), source: e })?;
        let txn = self.db.begin_write().map_err(db_error("begin write"))?;
        {
            let mut table = txn.open_table(JOBS).map_err(db_error("open table"))?;
            table.insert(job.job_id.as_str(), bytes.as_slice()).map_err(db_error("insert"))?;
        }
        txn.commit().map_err(db_error("commit"))
    }

    /// Reads every job record.
    pub fn load_all(&self) -> Result<Vec<JobRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error("begin read"))?;
        let table = txn.open_table(JOBS).map_err(db_error("open table"))?;
        let mut jobs = Vec::new();
        for entry in table.iter().map_err(db_error("iterate"))? {
            let (key, value) = entry.map_err(db_error("read"))?;
            let job = serde_json::from_slice(value.value())
                .map_err(|e| StoreError::Corrupt { job_id: key.value().to_string(), source: e })?;
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// Reserves `count` consecutive values of counter `name` (the first ever is `first`) in one durable
    /// transaction and returns the first of them.
    pub fn reserve(&self, name: &str, first: u64, count: u64) -> Result<u64, StoreError> {
        let txn = self.db.begin_write().map_err(db_error("begin write"))?;
        let value = {
            let mut table = txn.open_table(COUNTERS).map_err(db_error("open table"))?;
            let current = table.get(name).map_err(db_error("read"))?.map(|v| v.value());
            let value = current.map_or(first, |v| v + 1);
            // The counter holds the last value handed out.
            let last = value.saturating_add(count.max(1) - 1);
            table.insert(name, last).map_err(db_error("insert"))?;
            value
        };
        txn.commit().map_err(db_error("commit"))?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ranges_never_overlap_even_after_reopening() {
        let dir = std::env::temp_dir().join(format!("hq-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.redb");
        let cases = [(3, 1), (1, 4), (0, 5), (2, 6)];
        {
            let store = Store::open(&path).unwrap();
            for (count, first) in &cases[..2] {
                assert_eq!(store.reserve("w", 1, *count).unwrap(), *first, "count {count}");
            }
        }
        let store = Store::open(&path).unwrap();
        for (count, first) in &cases[2..] {
            assert_eq!(store.reserve("w", 1, *count).unwrap(), *first, "count {count}");
        }
        assert_eq!(store.reserve("other", 10, 1).unwrap(), 10);
        assert!(store.load_all().unwrap().is_empty());
    }
}

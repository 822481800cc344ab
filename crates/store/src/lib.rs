//! Storage for Aftercare: one [`Db`] over embedded SQLite or PostgreSQL, both migration
//! folders, and one module per business area. Only this crate holds SQL.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod analysis;
pub mod appraisals;
pub mod articles;
pub mod assessments;
pub mod attachments;
pub mod audit;
pub mod contacts;
pub mod customers;
pub mod db;
pub mod defective;
pub mod durable;
pub mod equipment;
pub mod fault_months;
pub mod import;
pub mod inspections;
pub mod jobs;
pub mod mail;
pub mod meetings;
pub mod notifications;
pub mod parts;
pub mod phrases;
pub mod requisitions;
pub mod robots;
pub mod roster;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod shortages;
pub mod sla;
pub mod stock_reports;
pub mod suggestions;
pub mod taxonomy;
pub mod throttle;
pub mod tickets;
pub mod trainings;
pub mod trips;
pub mod users;
pub mod visits;
pub mod work_plan;

use chrono::{DateTime, Utc};
pub use db::{Backend, Db, DbOptions, Page, Paged, SqliteSync};

/// What can go wrong in the store, in terms the services can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique value is taken; `field` names it (`serial_no`, `code`, `username`).
    #[error("duplicate {field}")]
    Duplicate { field: &'static str },
    /// The record changed since the caller read it.
    #[error("stale version")]
    Stale,
    /// A referenced record does not exist (foreign key); `field` names the reference.
    #[error("missing {field}")]
    MissingReference { field: &'static str },
    /// Not enough usable stock of a part in a warehouse: `on_hand` is what is left.
    #[error("not enough stock of part {part_id} in warehouse {warehouse_id}: {on_hand} left")]
    Insufficient { part_id: i64, warehouse_id: i64, on_hand: i64 },
    /// A person (`user_id`) or the vehicle (`None`) is on another live trip, `trip`, whose
    /// planned window overlaps.
    #[error("on trip {trip} at that time")]
    Overlap { trip: String, user_id: Option<i64> },
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The commit itself failed: the write may or may not have happened, so it must not
    /// be retried blindly.
    #[error("commit: {0}")]
    Commit(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url: {0}")]
    BadUrl(String),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who writes, for the audit trail written inside the same transaction as the change, and
/// the department's time zone they work in: record numbers carry its calendar day.
#[derive(Debug, Clone)]
pub struct Writer {
    pub user_id: Option<i64>,
    pub name: String,
    pub tz: chrono_tz::Tz,
}

/// The time zone a department is in unless configured otherwise (`[web] tz`).
pub const DEFAULT_TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

impl Writer {
    pub fn system() -> Writer {
        Writer { user_id: None, name: "system".into(), tz: DEFAULT_TZ }
    }

    /// The calendar day of `t` in the writer's zone, as record numbers carry it
    /// (`GD20261128-0001`): a ticket opened at 07:30 in Shanghai is that day's, not the
    /// previous one's as its UTC date would say.
    pub fn number_day(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%Y%m%d").to_string()
    }
}

/// Maps a unique or foreign-key violation to a typed error naming the field. `fields` are
/// the unique columns and the references (`…_id`) the statement can violate: the one the
/// database names in its message or constraint is the field. SQLite does not say which
/// foreign key failed, so there the statement's only reference is named; callers with
/// several check them first.
pub(crate) fn map_write_err(e: sqlx::Error, fields: &[&'static str]) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        let msg = format!("{} {}", d.message(), d.constraint().unwrap_or_default());
        let named = fields.iter().find(|f| msg.contains(*f)).copied();
        if d.is_unique_violation() {
            return StoreError::Duplicate { field: named.unwrap_or("id") };
        }
        if d.is_foreign_key_violation() {
            let mut refs = fields.iter().filter(|f| f.ends_with("_id"));
            let only = match (refs.next(), refs.next()) {
                (Some(f), None) => Some(*f),
                _ => None,
            };
            return StoreError::MissingReference { field: named.or(only).unwrap_or("id") };
        }
    }
    StoreError::Db(e)
}

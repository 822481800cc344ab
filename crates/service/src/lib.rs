//! Services: each business area's rules and permission checks, between the handlers
//! (pages, API, CLI) and the store. Every function takes the acting user.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub use aftercare_store::{Page, Paged};

pub mod analysis;
pub mod appraisals;
pub mod articles;
pub mod assessments;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod batch;
mod cache;
pub mod consultations;
pub mod contacts;
pub mod customers;
pub mod daily;
pub mod defective;
pub mod dispatch;
pub mod equipment;
pub mod excel;
pub mod home;
pub mod inspections;
pub mod mail;
pub mod mail_text;
pub mod meetings;
pub mod paperwork;
pub mod parts;
pub mod phrases;
mod pick;
pub mod portal;
pub mod rate;
pub mod requisitions;
pub mod robots;
pub mod roster;
pub mod search;
pub mod seed;
pub mod settings;
pub mod shortages;
pub mod stock_reports;
pub mod suggestions;
pub mod taxonomy;
pub mod tickets;
pub mod trainings;
pub mod trips;
pub mod users;
pub mod work_plan;

use aftercare_domain::FieldErrors;
pub use aftercare_domain::users::Actor;
use aftercare_store::{Db, StoreError, Writer};

/// Everything a service call can answer besides success. The web layer maps each to a
/// status and a sentence in the user's language.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("not signed in")]
    Unauthorized,
    #[error("too many failed sign-ins")]
    Throttled,
    /// Over the user's writes per minute; a write is back in `retry_after` seconds.
    #[error("too many writes")]
    RateLimited { retry_after: u64 },
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    #[error("changed by someone else")]
    Stale,
    /// An action not possible now: from this status, or a condition unmet.
    #[error("cannot {action} from {status}")]
    Transition { action: &'static str, status: &'static str, reason: Option<&'static str> },
    /// Not enough usable stock: `part` is its code and name, `on_hand` what is left.
    #[error("not enough stock of {part} in {warehouse}: {on_hand} left")]
    Insufficient { part: String, warehouse: String, on_hand: i64 },
    /// A person or a vehicle (`who`) is on another trip (`trip`) at that time.
    #[error("{who} is on trip {trip} at that time")]
    Overlap { who: String, trip: String },
    #[error("import rejected")]
    Import(Vec<excel::RowError>),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Duplicate { field } => ServiceError::Duplicate(field),
            StoreError::Stale => ServiceError::Stale,
            StoreError::MissingReference { field } => ServiceError::Invalid(FieldErrors::single(field, "not_found")),
            StoreError::Insufficient { part_id, warehouse_id, on_hand } => ServiceError::Insufficient {
                part: format!("#{part_id}"),
                warehouse: format!("#{warehouse_id}"),
                on_hand,
            },
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The services of one node: a handle on the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Services {
    /// Private: pages and the API reach the database only through the services' rules.
    db: Db,
    /// Group commit for new tickets, shared by every clone of these services.
    tickets: batch::Batcher<batch::Tickets>,
    /// Group commit for contact records (every call a PBX reports).
    contacts: batch::Batcher<batch::Contacts>,
    /// Group commit for stock movements.
    movements: batch::Batcher<batch::Movements>,
    /// Sessions and SLA policies read in the last few seconds (see `cache.rs`).
    caches: cache::Caches,
    /// Writes per user per minute on this node (`rate.rs`).
    limiter: std::sync::Arc<rate::Limiter>,
    /// Serialises technicians' bounded movements (check, then write) on this node.
    technician_moves: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Mail in and out (`[mail]`); empty: no mail is sent or fetched.
    mail: std::sync::Arc<mail::MailConfig>,
    /// The department's local time zone: working hours and days are reckoned in it.
    pub tz: chrono_tz::Tz,
    /// The words of notifications for robot messages (`robots::Words`), given at start.
    words: Option<robots::Words>,
    /// Workbooks being parsed: a parse is CPU and memory bound, so only a few at once,
    /// off the async workers (see `excel::parse_upload`).
    imports: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Services {
    /// The database, for the background jobs, the command line and the tests, which run
    /// below the rules (migrations, sweeps, backups); the web layer never asks for it.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Is the database answering? (`/healthz`)
    pub async fn ping(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }

    pub fn new(db: Db) -> Services {
        Services {
            db,
            tickets: batch::Batcher::default(),
            contacts: batch::Batcher::default(),
            movements: batch::Batcher::default(),
            caches: cache::Caches::default(),
            technician_moves: Default::default(),
            limiter: Default::default(),
            mail: Default::default(),
            tz: aftercare_store::DEFAULT_TZ,
            words: None,
            imports: std::sync::Arc::new(tokio::sync::Semaphore::new(excel::PARALLEL_IMPORTS)),
        }
    }

    /// Turns mail on: outgoing mail is queued when `smtp` is set, the mailbox polled when `imap` is.
    pub fn with_mail(mut self, mail: mail::MailConfig) -> Services {
        self.mail = std::sync::Arc::new(mail);
        self
    }

    pub fn with_tz(mut self, tz: chrono_tz::Tz) -> Services {
        self.tz = tz;
        self
    }
}

impl Services {
    /// The acting user as the store records them, working in the department's zone.
    pub(crate) fn writer(&self, a: &Actor) -> Writer {
        Writer { user_id: Some(a.id.0), name: a.display_name.clone(), tz: self.tz }
    }

    /// A write nobody signed in made (mail in, the demo, the command line, jobs).
    pub(crate) fn writer_named(&self, name: &str) -> Writer {
        Writer { user_id: None, name: name.into(), tz: self.tz }
    }
}

pub(crate) fn require(ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(ServiceError::Forbidden) }
}

//! Background jobs: a worker that claims due jobs from the `jobs` table (so any number of
//! nodes can run one) and the periodic housekeeping that keeps the tables small.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aftercare_store::{Db, jobs, sessions, throttle};
use chrono::{Duration, Utc};
use std::time::Duration as StdDuration;

/// Removes expired sessions and old sign-in failures; runs every hour.
pub const HOUSEKEEPING: &str = "housekeeping";
/// Flags SLA clocks that ran out and notifies; runs every minute.
pub const SLA_CHECK: &str = "sla_check";

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] aftercare_store::StoreError),
    #[error(transparent)]
    Service(#[from] aftercare_service::ServiceError),
    #[error("unknown job kind {0}")]
    UnknownKind(String),
}

/// Runs one job by its kind.
pub async fn run_job(svc: &aftercare_service::Services, job: &jobs::JobRow) -> Result<(), JobError> {
    let db = &svc.db;
    match job.kind.as_str() {
        SLA_CHECK => {
            let now = Utc::now();
            let n = svc.check_sla(now).await?;
            if n > 0 {
                tracing::info!(tickets = n, "SLA breaches flagged");
            }
            jobs::enqueue(db, SLA_CHECK, "{}", now + Duration::minutes(1)).await?;
            Ok(())
        }
        HOUSEKEEPING => {
            let now = Utc::now();
            let s = sessions::purge_expired(db, now).await?;
            let f = throttle::purge_before(db, now - Duration::days(1)).await?;
            db.optimize().await?;
            tracing::info!(sessions = s, login_failures = f, "housekeeping");
            jobs::enqueue(db, HOUSEKEEPING, "{}", now + Duration::hours(1)).await?;
            Ok(())
        }
        other => Err(JobError::UnknownKind(other.to_owned())),
    }
}

/// Claims and runs due jobs until `stop` fires; a failed job is retried with back-off.
pub async fn work(db: Db, mut stop: tokio::sync::watch::Receiver<bool>) {
    let svc = aftercare_service::Services::new(db.clone());
    for kind in [HOUSEKEEPING, SLA_CHECK] {
        if let Err(e) = jobs::ensure_pending(&db, kind, Utc::now()).await {
            tracing::warn!(error = %e, kind, "could not schedule a periodic job");
        }
    }
    loop {
        let claimed = jobs::claim(&db, Utc::now(), Duration::minutes(5)).await;
        let idle = match claimed {
            Ok(Some(job)) => {
                let result = run_job(&svc, &job).await;
                let done = match result {
                    Ok(()) => jobs::finish(&db, job.id, Utc::now()).await,
                    Err(e) => {
                        tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job failed");
                        let backoff = Duration::seconds(30 * i64::from(job.attempts.clamp(1, 60)));
                        jobs::fail(&db, job.id, &e.to_string(), Utc::now() + backoff).await
                    }
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e, "could not record job result");
                }
                false
            }
            Ok(None) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim a job");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(StdDuration::from_secs(5)) => {}
                _ = stop.changed() => return,
            }
        } else if *stop.borrow() {
            return;
        }
    }
}

//! Background jobs: a worker that claims due jobs from the `jobs` table (so any number of
//! nodes can run one) and the periodic housekeeping that keeps the tables small.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod mail;
pub mod robot;

use aftercare_store::{Db, jobs, sessions, throttle};
use chrono::{Duration, Utc};
use std::time::Duration as StdDuration;

/// Removes expired sessions and old sign-in failures; runs every hour.
pub const HOUSEKEEPING: &str = "housekeeping";
/// Flags SLA clocks that ran out and notifies; runs every minute.
pub const SLA_CHECK: &str = "sla_check";
/// Fetches and processes new mail from the IMAP mailbox; runs every `mail.imap.poll_seconds`.
pub const MAIL_POLL: &str = "mail_poll";
/// Sends one queued mail by SMTP.
pub use aftercare_service::mail::SEND_MAIL;
/// Posts one queued message to a group robot.
pub use aftercare_service::robots::SEND_ROBOT;
/// Turns new notifications into robot messages; runs every few seconds.
pub const ROBOT_FORWARD: &str = "robot_forward";
/// How often the forwarder looks for new notifications.
const ROBOT_FORWARD_SECONDS: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] aftercare_store::StoreError),
    #[error(transparent)]
    Service(#[from] aftercare_service::ServiceError),
    #[error("unknown job kind {0}")]
    UnknownKind(String),
    /// Failed for now: retried later with back-off.
    #[error("{0}")]
    Retry(String),
    /// Cannot succeed: the job is ended with this reason kept.
    #[error("{0}")]
    GiveUp(String),
}

/// Runs one job by its kind.
pub async fn run_job(svc: &aftercare_service::Services, job: &jobs::JobRow) -> Result<(), JobError> {
    let db = svc.db();
    match job.kind.as_str() {
        SLA_CHECK => {
            let now = Utc::now();
            let n = svc.check_sla(now).await?;
            if n > 0 {
                tracing::info!(tickets = n, "SLA breaches flagged");
            }
            let m = svc.check_missed_calls(now).await?;
            if m > 0 {
                tracing::info!(calls = m, "missed calls not called back in time");
            }
            let sh = svc.check_shortages(now).await?;
            if sh.raised + sh.proposed > 0 {
                tracing::info!(raised = sh.raised, penalties = sh.proposed, "spare-part shortages");
            }
            jobs::enqueue(db, SLA_CHECK, "{}", now + Duration::minutes(1)).await?;
            Ok(())
        }
        HOUSEKEEPING => {
            let now = Utc::now();
            let s = sessions::purge_expired(db, now).await?;
            let f = throttle::purge_before(db, now - Duration::days(1)).await?;
            let j = jobs::purge_done(db, now - Duration::days(7)).await?;
            db.optimize().await?;
            // A failed count is counted on the next read; it never stops the housekeeping.
            if let Err(e) = svc.keep_fault_months().await {
                tracing::warn!(error = %e, "could not keep the months' fault counts");
            }
            tracing::info!(sessions = s, login_failures = f, jobs = j, "housekeeping");
            jobs::enqueue(db, HOUSEKEEPING, "{}", now + Duration::hours(1)).await?;
            Ok(())
        }
        MAIL_POLL => {
            let now = Utc::now();
            // Mail in was switched off since this job was queued: it is not queued again.
            let Some(imap) = svc.mail().imap.clone() else { return Ok(()) };
            // The next poll is queued first, so a failing mailbox never stops the polling
            // (and this job is not retried on top of it); when this job runs again after a
            // crash, the poll it had already queued is not queued twice.
            let next = now + Duration::seconds(i64::try_from(imap.poll_seconds).unwrap_or(60).max(1));
            if aftercare_store::mail::other_pending_jobs(db, MAIL_POLL, job.id).await? == 0 {
                jobs::enqueue(db, MAIL_POLL, "{}", next).await?;
            }
            match mail::poll(svc, &imap, now).await {
                Ok(r) => {
                    if let Some(e) = &r.fetch_error {
                        tracing::warn!(error = %e, "could not read the mailbox");
                    }
                    if r.fetched + r.run.processed + r.run.errors + r.run.retry > 0 {
                        tracing::info!(
                            fetched = r.fetched,
                            processed = r.run.processed,
                            errors = r.run.errors,
                            retry = r.run.retry,
                            "mail in"
                        );
                    }
                }
                Err(e) => tracing::warn!(error = %e, "mail poll failed"),
            }
            Ok(())
        }
        SEND_MAIL => {
            let Some(smtp) = svc.mail().smtp.clone() else {
                return Err(JobError::Retry("mail out is not configured on this node".into()));
            };
            match mail::send(&smtp, &job.payload).await {
                Ok(()) => Ok(()),
                Err(mail::SendError::GiveUp(e)) => Err(JobError::GiveUp(e)),
                Err(mail::SendError::Retry(e)) if job.attempts >= mail::MAX_SEND_ATTEMPTS => {
                    Err(JobError::GiveUp(format!("gave up after {} tries: {e}", job.attempts)))
                }
                Err(mail::SendError::Retry(e)) => Err(JobError::Retry(e)),
            }
        }
        ROBOT_FORWARD => {
            let now = Utc::now();
            // The next run first: a failing forward never stops the forwarding.
            if aftercare_store::mail::other_pending_jobs(db, ROBOT_FORWARD, job.id).await? == 0 {
                jobs::enqueue(db, ROBOT_FORWARD, "{}", now + Duration::seconds(ROBOT_FORWARD_SECONDS)).await?;
            }
            match svc.forward_to_robots(now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "notifications queued for the group robots"),
                Err(e) => tracing::warn!(error = %e, "could not forward notifications to the robots"),
            }
            Ok(())
        }
        SEND_ROBOT => match robot::send(&job.payload).await {
            Ok(()) => Ok(()),
            Err(robot::SendError::GiveUp(e)) => Err(JobError::GiveUp(e)),
            Err(robot::SendError::Retry(e)) if job.attempts >= robot::MAX_SEND_ATTEMPTS => {
                Err(JobError::GiveUp(format!("gave up after {} tries: {e}", job.attempts)))
            }
            Err(robot::SendError::Retry(e)) => Err(JobError::Retry(e)),
        },
        other => Err(JobError::UnknownKind(other.to_owned())),
    }
}

/// Claims one job due at `now`, runs it and records the result: done, retried with
/// back-off, or given up. `None` when nothing is due. (The worker's step; tests drive it with
/// their own `now`.)
pub async fn run_next(
    svc: &aftercare_service::Services,
    now: chrono::DateTime<Utc>,
) -> Result<Option<jobs::JobRow>, aftercare_store::StoreError> {
    let db = svc.db();
    let Some(job) = jobs::claim(db, now, Duration::minutes(5)).await? else { return Ok(None) };
    let result = run_job(svc, &job).await;
    let done = match result {
        Ok(()) => jobs::finish(db, job.id, now).await,
        Err(JobError::GiveUp(e)) => {
            tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job given up");
            aftercare_store::mail::give_up_job(db, job.id, &e, now).await
        }
        Err(e) => {
            tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job failed");
            let backoff = Duration::seconds(30 * i64::from(job.attempts.clamp(1, 60)));
            jobs::fail(db, job.id, &e.to_string(), now + backoff).await
        }
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "could not record job result");
    }
    Ok(Some(job))
}

/// Claims and runs due jobs until `stop` fires; a failed job is retried with back-off.
/// `svc` carries the time zone and the mail settings (`Services::with_mail`).
pub async fn work(svc: aftercare_service::Services, mut stop: tokio::sync::watch::Receiver<bool>) {
    let db: Db = svc.db().clone();
    let mut periodic = vec![HOUSEKEEPING, SLA_CHECK, ROBOT_FORWARD];
    if svc.mail().imap.is_some() {
        periodic.push(MAIL_POLL);
    }
    for kind in periodic {
        if let Err(e) = jobs::ensure_pending(&db, kind, Utc::now()).await {
            tracing::warn!(error = %e, kind, "could not schedule a periodic job");
        }
    }
    loop {
        let claimed = run_next(&svc, Utc::now()).await;
        let idle = match claimed {
            Ok(Some(_)) => false,
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

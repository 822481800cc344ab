//! Mail jobs: polling the IMAP mailbox (`mail_poll`, every `poll_seconds`) and sending one
//! queued mail by SMTP (`send_mail`). The mailbox is opened read-only (EXAMINE, BODY.PEEK):
//! nothing is marked, moved or deleted there; what was taken is known by UID.

use aftercare_service::Services;
use aftercare_service::mail::{FetchedMail, ImapConfig, MailRun, OutgoingMail, SmtpConfig, SmtpTls};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Messages fetched per poll: a first poll of a full mailbox works through it in steps.
const FETCH_BATCH: usize = 200;
/// One poll of the mailbox may take this long (the job's lease is five minutes).
const POLL_TIMEOUT: Duration = Duration::from_secs(240);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// A mail still not sent after this many tries (about ten hours with the worker's back-off)
/// is given up: news that late would mislead.
pub const MAX_SEND_ATTEMPTS: i32 = 50;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("imap: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("imap connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("imap: {0}")]
    Protocol(String),
    #[error("timed out")]
    Timeout,
    #[error(transparent)]
    Service(#[from] aftercare_service::ServiceError),
    #[error(transparent)]
    Store(#[from] aftercare_store::StoreError),
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// New messages kept from the mailbox.
    pub fetched: usize,
    /// The mailbox could not be read (the kept messages were processed anyway).
    pub fetch_error: Option<String>,
    pub run: MailRun,
}

/// Fetches new messages and keeps them raw, then processes every kept message not
/// processed yet — also when the mailbox cannot be reached, and also those a dead process
/// left behind.
pub async fn poll(svc: &Services, imap: &ImapConfig, now: DateTime<Utc>) -> Result<PollReport, MailError> {
    let mut report = PollReport::default();
    match tokio::time::timeout(POLL_TIMEOUT, fetch_new(svc, imap)).await {
        Ok(Ok(n)) => report.fetched = n,
        Ok(Err(e)) => report.fetch_error = Some(e.to_string()),
        Err(_) => report.fetch_error = Some(MailError::Timeout.to_string()),
    }
    report.run = svc.process_pending_mail(now).await?;
    Ok(report)
}

/// Keeps every message of the mailbox with a UID above the highest kept one (raw, not yet
/// processed); returns how many were new.
pub async fn fetch_new(svc: &Services, imap: &ImapConfig) -> Result<usize, MailError> {
    let addr = (imap.host.as_str(), imap.port());
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| MailError::Timeout)??;
    if imap.tls {
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(imap.host.clone())
            .map_err(|e| MailError::Protocol(format!("server name {:?}: {e}", imap.host)))?;
        let tls = tls_connector()?.connect(name, tcp).await?;
        fetch_over(svc, imap, tls).await
    } else {
        fetch_over(svc, imap, tcp).await
    }
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, MailError> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // The provider is named: more than one may be compiled in, and then none is the default.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| MailError::Protocol(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

async fn fetch_over<S>(svc: &Services, imap: &ImapConfig, stream: S) -> Result<usize, MailError>
where
    S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = async_imap::Client::new(stream);
    if client.read_response().await?.is_none() {
        return Err(MailError::Protocol("no greeting from the server".into()));
    }
    let mut session = client.login(&imap.user, &imap.password).await.map_err(|(e, _)| e)?;
    let mailbox = session.examine(&imap.mailbox).await?;
    let validity = mailbox.uid_validity.unwrap_or(0);
    let mut kept = 0;
    if mailbox.exists > 0 {
        let last = svc.last_mail_uid(&imap.mailbox, validity).await?;
        let sizes: Vec<(u32, u64)> = {
            let fetches: Vec<_> = session
                .uid_fetch(format!("{}:*", u64::from(last) + 1), "(UID RFC822.SIZE)")
                .await?
                .try_collect()
                .await?;
            // `n:*` also answers the highest message when n is above it: keep only new UIDs.
            let mut v: Vec<(u32, u64)> = fetches
                .iter()
                .filter_map(|f| Some((f.uid?, u64::from(f.size.unwrap_or(0)))))
                .filter(|(uid, _)| *uid > last)
                .collect();
            v.sort_unstable();
            v.dedup();
            v.truncate(FETCH_BATCH);
            v
        };
        for (uid, size) in sizes {
            let too_large = size > imap.max_message_bytes;
            let query = if too_large { "(UID BODY.PEEK[HEADER])" } else { "(UID BODY.PEEK[])" };
            let fetches: Vec<_> = session.uid_fetch(uid.to_string(), query).await?.try_collect().await?;
            let Some(f) = fetches.iter().find(|f| f.uid == Some(uid)) else {
                // Expunged meanwhile: nothing to keep.
                continue;
            };
            let raw = if too_large { f.header() } else { f.body() }.unwrap_or_default();
            let m = FetchedMail {
                mailbox: &imap.mailbox,
                uidvalidity: validity,
                uid,
                raw,
                too_large: too_large.then_some(size),
            };
            if svc.keep_fetched_mail(m, Utc::now()).await?.is_some() {
                kept += 1;
            }
        }
    }
    // The messages are kept; a failed goodbye changes nothing.
    if let Err(e) = session.logout().await {
        tracing::debug!(error = %e, "imap logout");
    }
    Ok(kept)
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Try again later (server down, busy, a temporary refusal).
    #[error("{0}")]
    Retry(String),
    /// It will never go (a bad address, a permanent refusal, a broken job).
    #[error("{0}")]
    GiveUp(String),
}

/// Sends the mail of one `send_mail` job.
pub async fn send(smtp: &SmtpConfig, payload: &str) -> Result<(), SendError> {
    let m: OutgoingMail =
        serde_json::from_str(payload).map_err(|e| SendError::GiveUp(format!("not a mail job: {e}")))?;
    let from: Mailbox = smtp.from.parse().map_err(|e| SendError::GiveUp(format!("from {:?}: {e}", smtp.from)))?;
    let to_addr: Address = m.to.trim().parse().map_err(|e| SendError::GiveUp(format!("to {:?}: {e}", m.to)))?;
    let to = Mailbox::new(m.to_name.clone().filter(|n| !n.trim().is_empty()), to_addr);
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(m.body)
        .map_err(|e| SendError::GiveUp(format!("building the mail: {e}")))?;
    let builder = match smtp.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str()),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| SendError::GiveUp(format!("smtp {}: {e}", smtp.host)))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| SendError::GiveUp(format!("smtp {}: {e}", smtp.host)))?,
    };
    let mut builder = builder.port(smtp.port()).timeout(Some(SMTP_TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    let transport = builder.build();
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SendError::GiveUp(format!("refused: {e}"))),
        Err(e) => Err(SendError::Retry(e.to_string())),
    }
}

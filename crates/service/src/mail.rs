//! Mail in and out for the service desk.
//!
//! In: the jobs worker fetches new messages from the IMAP mailbox and hands each one here
//! raw ([`Services::keep_fetched_mail`]); it is kept before anything else happens, then
//! processed ([`Services::process_pending_mail`]): parsed, matched to a school by the sender
//! address, recorded as an `email` contact, threaded onto a ticket named in the subject,
//! attachments kept. A message that cannot be read stays kept with an error note.
//!
//! Out: business events enqueue a `send_mail` job ([`Services::enqueue_mail`]) that the
//! worker delivers by SMTP and retries on failure; a request never waits for a mail server,
//! and a failure to enqueue is logged, never failing the change that caused it.
//! With no `[mail.smtp]` configured nothing is enqueued; with no `[mail.imap]` nothing is polled.

use crate::mail_text::{self, Lang, TicketFacts};
use crate::{Result, ServiceError, Services};
use aftercare_domain::Role;
use aftercare_domain::contacts::{Category, Channel, Direction, Urgency};
use aftercare_domain::mail::MailStatus;
pub use aftercare_store::Page;
use aftercare_store::StoreError;
use aftercare_store::contacts::{self, ContactRow, ContactWrite};
use aftercare_store::mail::{self as store, NewAttachment, Processed, RawMail, TicketEmail};
pub use aftercare_store::mail::{AttachmentRow, MailRow};
use aftercare_store::tickets::{self, TicketRow};
use chrono::{DateTime, Duration, Utc};
use mail_parser::{MessageParser, MimeHeaders};
use serde::{Deserialize, Serialize};

/// The job kind that sends one mail.
pub const SEND_MAIL: &str = "send_mail";

/// `[mail]` in the configuration: either half may be left out.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MailConfig {
    /// Mail in: the mailbox polled for messages from schools.
    #[serde(default)]
    pub imap: Option<ImapConfig>,
    /// Mail out: the server our notifications are sent through.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
}

impl MailConfig {
    /// A sentence naming what is wrong, for the start-up error.
    pub fn check(&self) -> std::result::Result<(), String> {
        if let Some(i) = &self.imap {
            if i.host.trim().is_empty() || i.user.trim().is_empty() {
                return Err("mail.imap needs host and user".into());
            }
            if i.poll_seconds == 0 {
                return Err("mail.imap.poll_seconds must be at least 1".into());
            }
        }
        if let Some(s) = &self.smtp {
            if s.host.trim().is_empty() {
                return Err("mail.smtp needs host".into());
            }
            if !s.from.contains('@') {
                return Err(format!("mail.smtp.from {:?} is not an address", s.from));
            }
            if s.user.is_some() != s.password.is_some() {
                return Err("mail.smtp needs both user and password, or neither".into());
            }
        }
        Ok(())
    }
}

fn yes() -> bool {
    true
}
fn inbox() -> String {
    "INBOX".into()
}
fn sixty() -> u64 {
    60
}
fn twenty_mb() -> u64 {
    20 * 1024 * 1024
}

/// `[mail.imap]`.
#[derive(Clone, Serialize, Deserialize)]
pub struct ImapConfig {
    pub host: String,
    /// 993 with TLS, 143 without.
    #[serde(default)]
    pub port: Option<u16>,
    /// Implicit TLS (IMAPS). Plain IMAP only for a server on the same host or network.
    #[serde(default = "yes")]
    pub tls: bool,
    pub user: String,
    #[serde(default)]
    pub password: String,
    #[serde(default = "inbox")]
    pub mailbox: String,
    #[serde(default = "sixty")]
    pub poll_seconds: u64,
    /// Larger messages are kept as their header only, with an error note; the message itself
    /// stays in the mailbox.
    #[serde(default = "twenty_mb")]
    pub max_message_bytes: u64,
}

impl ImapConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.tls { 993 } else { 143 })
    }
}

// Passwords stay out of logs.
impl std::fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port())
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .field("poll_seconds", &self.poll_seconds)
            .finish_non_exhaustive()
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host or a closed network.
    None,
    /// STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// Implicit TLS (SMTPS, port 465).
    Tls,
}

/// `[mail.smtp]`.
#[derive(Clone, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    /// 25 with `none`, 587 with `starttls`, 465 with `tls`.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, `service@example.com` or `售后服务中心 <service@example.com>`.
    pub from: String,
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        })
    }
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port())
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// The payload of a `send_mail` job: the rendered mail and what it was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub to: String,
    #[serde(default)]
    pub to_name: Option<String>,
    pub subject: String,
    pub body: String,
    /// `ticket_opened`, `ticket_scheduled`, `ticket_resolved`, `ticket_closed`, `sla_breach`, `complaint`.
    pub kind: String,
    /// The ticket number, when it is about one.
    #[serde(default)]
    pub ticket: Option<String>,
    /// The contact record number, when it is about one.
    #[serde(default)]
    pub contact: Option<String>,
    pub lang: String,
}

/// What a run over the kept messages did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailRun {
    pub processed: usize,
    pub errors: usize,
    /// Left for the next run (the database failed).
    pub retry: usize,
}

/// Why one message could not become a contact.
enum Unusable {
    /// The message itself: kept with status `error` and this note.
    Message(String),
    /// Our side (the database): kept `new`, tried again next run.
    Store(StoreError),
}

impl From<StoreError> for Unusable {
    fn from(e: StoreError) -> Self {
        Unusable::Store(e)
    }
}

/// Longest contact text, as for a contact typed on the desk; the whole message stays kept.
const MAX_CONTENT: usize = 4000;
/// Messages processed per run, so a first poll of a full mailbox works through it in steps.
const BATCH: i64 = 200;

/// Text the databases accept: PostgreSQL refuses NUL in TEXT.
fn clean(s: &str) -> String {
    s.replace('\0', "")
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(clean)
}

/// Ticket numbers (`GD` + 8 digits + `-` + 4 or more digits) in a subject, in order.
pub fn ticket_numbers(subject: &str) -> Vec<String> {
    let b = subject.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 15 <= b.len() {
        let starts = b[i].eq_ignore_ascii_case(&b'G') && b[i + 1].eq_ignore_ascii_case(&b'D');
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if starts && boundary && b[i + 2..i + 10].iter().all(u8::is_ascii_digit) && b[i + 10] == b'-' {
            let tail = b[i + 11..].iter().take_while(|c| c.is_ascii_digit()).count();
            let end = i + 11 + tail;
            if tail >= 4 && b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                found.push(format!("GD{}", &subject[i + 2..end]));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// A message's Message-ID as the contact's `source_ref`: in angle brackets, as written in
/// mail, so it cannot collide with a PBX call id.
fn source_ref(message_id: Option<&str>, mailbox: &str, uidvalidity: i64, uid: i64) -> String {
    match message_id.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => cut(&clean(&format!("<{}>", m.trim_matches(['<', '>']))), 250),
        None => format!("imap:{mailbox}:{uidvalidity}:{uid}"),
    }
}

/// One message as fetched from the mailbox.
#[derive(Debug, Clone, Copy)]
pub struct FetchedMail<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: u32,
    pub uid: u32,
    /// The whole message, or only its header when it is too large.
    pub raw: &'a [u8],
    /// Its size, when it was too large to fetch whole.
    pub too_large: Option<u64>,
}

impl Services {
    /// The mail settings this node runs with.
    pub fn mail(&self) -> &MailConfig {
        &self.mail
    }

    /// The highest UID already kept from this mailbox (0: none).
    pub async fn last_mail_uid(&self, mailbox: &str, uidvalidity: u32) -> Result<u32> {
        let n = store::last_uid(&self.db, mailbox, i64::from(uidvalidity)).await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Keeps a fetched message raw, before anything else is done with it; `None` when it
    /// was kept before. A message too large to fetch is kept as its header, with the reason.
    pub async fn keep_fetched_mail(&self, m: FetchedMail<'_>, now: DateTime<Utc>) -> Result<Option<i64>> {
        let parsed = MessageParser::default().parse(m.raw);
        let from = parsed.as_ref().and_then(|p| p.from()).and_then(|a| a.first()).and_then(|a| a.address.as_deref());
        let (status, error) = match m.too_large {
            Some(size) => (
                MailStatus::Error,
                Some(format!(
                    "too large: {size} bytes (limit {}); only the header is kept, the message stays in the mailbox",
                    self.mail.imap.as_ref().map(|i| i.max_message_bytes).unwrap_or_default()
                )),
            ),
            None => (MailStatus::New, None),
        };
        let raw = RawMail {
            mailbox: m.mailbox,
            uidvalidity: i64::from(m.uidvalidity),
            uid: i64::from(m.uid),
            message_id: non_empty(parsed.as_ref().and_then(|p| p.message_id())).map(|s| cut(&s, 250)),
            from_addr: non_empty(from).map(|s| cut(&s, 254)),
            subject: non_empty(parsed.as_ref().and_then(|p| p.subject())).map(|s| cut(&s, 500)),
            raw: m.raw,
            status,
            error,
            now,
        };
        Ok(store::store_raw(&self.db, &raw).await?)
    }

    /// Processes every kept message not processed yet (also what a dead process left).
    /// One bad message never stops the others.
    pub async fn process_pending_mail(&self, now: DateTime<Utc>) -> Result<MailRun> {
        let mut run = MailRun::default();
        let mut seen = std::collections::HashSet::new();
        loop {
            let ids = store::pending(&self.db, BATCH).await?;
            // Ids that stay `new` (the database failed on them) are not tried twice in a run.
            let fresh: Vec<i64> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
            if fresh.is_empty() {
                return Ok(run);
            }
            for id in fresh {
                match self.process_mail(id, now).await {
                    Ok(()) => run.processed += 1,
                    Err(Unusable::Message(note)) => {
                        tracing::warn!(mail = id, error = %note, "mail kept with an error");
                        store::mark_error(&self.db, id, &note, now).await?;
                        run.errors += 1;
                    }
                    Err(Unusable::Store(e)) => {
                        tracing::warn!(mail = id, error = %e, "mail not processed; tried again next run");
                        if let Err(e) = store::note_retry(&self.db, id, &e.to_string()).await {
                            tracing::warn!(mail = id, error = %e, "could not note the mail's error");
                        }
                        run.retry += 1;
                    }
                }
            }
        }
    }

    async fn process_mail(&self, id: i64, now: DateTime<Utc>) -> std::result::Result<(), Unusable> {
        let m = store::get(&self.db, id).await?;
        if m.raw.is_empty() {
            return Err(Unusable::Message("empty message".into()));
        }
        let Some(msg) = MessageParser::default().parse(&m.raw) else {
            return Err(Unusable::Message("not a mail message: it cannot be parsed".into()));
        };
        let Some(sender) = msg.from().and_then(|a| a.first()) else {
            return Err(Unusable::Message("no sender (From) in the message".into()));
        };
        let Some(address) = non_empty(sender.address.as_deref()).filter(|a| a.contains('@')) else {
            return Err(Unusable::Message("no sender address in the message".into()));
        };
        let address = cut(&address, 254);
        let name = non_empty(sender.name.as_deref()).map(|n| cut(&n, 50));
        let subject = non_empty(msg.subject()).unwrap_or_default();
        let body = msg.body_text(0).map(|b| clean(b.trim())).unwrap_or_default();
        let content = match (subject.is_empty(), body.is_empty()) {
            (false, false) => format!("{subject}\n\n{body}"),
            (false, true) => subject.clone(),
            (true, false) => body,
            (true, true) => "(empty mail)".to_owned(),
        };
        let content = cut(&content, MAX_CONTENT);
        // The Date header, unless it is missing or in the future (a wrong clock).
        let received_at = msg
            .date()
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0))
            .filter(|d| *d <= now && *d > now - Duration::days(3650))
            .unwrap_or(now);
        let schools = store::schools_of_sender(&self.db, &address).await?;
        // Two schools share the address: the desk decides (it lands in the triage list).
        let customer_id = match schools.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        let mut ticket = None;
        for number in ticket_numbers(&subject) {
            if let Some(tid) = tickets::by_number(&self.db, &number).await? {
                let t = tickets::get(&self.db, tid).await?;
                // A known sender of another school does not write on this school's ticket.
                if customer_id.is_none_or(|c| c == t.customer_id) {
                    ticket = Some(t);
                    break;
                }
            }
        }
        let sref = source_ref(msg.message_id(), &m.mailbox, m.uidvalidity, m.uid);
        let writer = self.writer_named("mail");
        let write = ContactWrite {
            channel: Channel::Email,
            direction: Direction::Inbound,
            category: Category::Other,
            customer_id,
            caller_name: name.clone(),
            caller_email: Some(address.clone()),
            urgency: Urgency::Normal,
            content: content.clone(),
            received_at,
            answered: true,
            ticket_id: ticket.as_ref().map(|t| t.id),
            source_ref: Some(sref.clone()),
            now,
            ..Default::default()
        };
        let made = contacts::create_many(&self.db, &[(writer, write)]).await?;
        let Some(&contact_id) = made.first() else {
            return Err(Unusable::Store(StoreError::Other("no contact written".into())));
        };
        // The same message delivered twice (or copied in the mailbox) is one contact.
        if let Some(other) = store::contact_taken(&self.db, contact_id, id).await? {
            let note = format!("same Message-ID {sref} as mail {other}: recorded once");
            store::finish_duplicate(&self.db, id, contact_id, &note, now).await?;
            return Ok(());
        }
        let attachments = msg
            .attachments()
            .enumerate()
            .map(|(i, part)| {
                let ctype = part
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{}", c.ctype(), sub),
                        None => c.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".into());
                let filename = non_empty(part.attachment_name())
                    .map(|f| cut(&f.replace(['/', '\\'], "_"), 200))
                    .unwrap_or_else(|| format!("attachment-{}", i + 1));
                NewAttachment {
                    filename,
                    content_type: clean(&ctype).to_ascii_lowercase(),
                    data: part.contents().to_vec(),
                }
            })
            .collect::<Vec<_>>();
        let record_no = contacts::get(&self.db, contact_id).await.map(|c| c.record_no).unwrap_or_default();
        let ticket = ticket.map(|t| TicketEmail {
            ticket_id: t.id,
            actor_name: match &name {
                Some(n) => format!("{n} <{address}>"),
                None => address.clone(),
            },
            note: content.clone(),
            data: serde_json::json!({
                "contact_id": contact_id, "record_no": record_no, "mail_id": id, "from": address,
                "subject": subject, "attachments": attachments.len(),
            }),
        });
        let done = Processed { mail_id: id, contact_id, ticket, attachments, now };
        store::finish(&self.db, &done).await?;
        Ok(())
    }

    /// Queues one mail for the jobs worker; `false` when mail out is not configured.
    pub async fn enqueue_mail(&self, m: &OutgoingMail) -> Result<bool> {
        if self.mail.smtp.is_none() {
            return Ok(false);
        }
        let payload = serde_json::to_string(m).map_err(|e| ServiceError::Internal(e.to_string()))?;
        aftercare_store::jobs::enqueue(&self.db, SEND_MAIL, &payload, Utc::now()).await?;
        Ok(true)
    }

    fn mail_local_time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }

    /// Tells the school's contact people about their ticket; `event` is `opened`,
    /// `scheduled`, `resolved` or `closed`. Never fails the caller: a problem is logged.
    pub async fn mail_school(&self, t: &TicketRow, event: &str, technician_ids: &[i64]) {
        if self.mail.smtp.is_none() {
            return;
        }
        if let Err(e) = self.try_mail_school(t, event, technician_ids).await {
            tracing::warn!(ticket = %t.number, event, error = %e, "could not queue the school's mail");
        }
    }

    async fn try_mail_school(&self, t: &TicketRow, event: &str, technician_ids: &[i64]) -> Result<()> {
        let to = store::school_addresses(&self.db, t.customer_id).await?;
        if to.is_empty() {
            return Ok(());
        }
        let lang = Lang::of(store::school_locale(&self.db, t.customer_id).await?.as_deref());
        let company = self.company_name().await;
        let facts = TicketFacts { ticket: t, school: &t.customer_name, company: &company };
        let text = match event {
            "opened" => mail_text::ticket_opened(lang, &facts),
            "scheduled" => {
                let at = t.scheduled_at.map(|a| self.mail_local_time(a)).unwrap_or_default();
                let names = store::user_names(&self.db, technician_ids).await?;
                mail_text::ticket_scheduled(lang, &facts, &at, &names)
            }
            "resolved" => mail_text::ticket_resolved(lang, &facts),
            "closed" => mail_text::ticket_closed(lang, &facts),
            _ => return Ok(()),
        };
        for (addr, name) in to {
            let m = OutgoingMail {
                to: addr,
                to_name: Some(name),
                subject: text.subject.clone(),
                body: text.body.clone(),
                kind: format!("ticket_{event}"),
                ticket: Some(t.number.clone()),
                contact: None,
                lang: lang.as_str().into(),
            };
            self.enqueue_mail(&m).await?;
        }
        Ok(())
    }

    /// After a ticket action: the school hears of a scheduled visit, a resolution and the close.
    pub(crate) async fn mail_after_action(&self, d: &crate::tickets::TicketDetail, action: &str) {
        let event = match (action, d.ticket.status.as_str()) {
            ("schedule", _) => "scheduled",
            ("resolve", _) => "resolved",
            ("callback" | "close", "closed") => "closed",
            _ => return,
        };
        self.mail_school(&d.ticket, event, &d.technician_ids).await;
    }

    /// The managers with an address, and the language each reads.
    async fn managers_to_mail(&self) -> Result<Vec<(String, String, Lang)>> {
        let users = aftercare_store::users::with_role(&self.db, Role::Manager.as_str()).await?;
        Ok(users
            .into_iter()
            .filter_map(|u| {
                let email = u.email.as_deref().map(str::trim).filter(|e| e.contains('@'))?.to_owned();
                Some((email, u.display_name, Lang::of(Some(&u.locale))))
            })
            .collect())
    }

    /// Tells the managers that clocks of a ticket ran out. Never fails the caller.
    pub async fn mail_sla_breach(&self, t: &TicketRow, clocks: &[&str]) {
        if self.mail.smtp.is_none() {
            return;
        }
        if let Err(e) = self.try_mail_sla_breach(t, clocks).await {
            tracing::warn!(ticket = %t.number, error = %e, "could not queue the SLA mail");
        }
    }

    async fn try_mail_sla_breach(&self, t: &TicketRow, clocks: &[&str]) -> Result<()> {
        let company = self.company_name().await;
        let dues: Vec<(&str, String)> = clocks
            .iter()
            .map(|c| {
                let due = match *c {
                    "respond" => t.respond_due,
                    "arrive" => t.arrive_due,
                    _ => t.resolve_due,
                };
                (*c, due.map(|d| self.mail_local_time(d)).unwrap_or_default())
            })
            .collect();
        for (to, name, lang) in self.managers_to_mail().await? {
            let text = mail_text::sla_breach(lang, &name, t, &dues, &company);
            let m = OutgoingMail {
                to,
                to_name: Some(name),
                subject: text.subject,
                body: text.body,
                kind: "sla_breach".into(),
                ticket: Some(t.number.clone()),
                contact: None,
                lang: lang.as_str().into(),
            };
            self.enqueue_mail(&m).await?;
        }
        Ok(())
    }

    /// Tells the managers (those with an address) of a complaint to review, each in their
    /// language. It never fails the caller's write: a problem is logged and `Ok` returned.
    pub async fn mail_complaint(&self, contact: &ContactRow) -> Result<()> {
        if self.mail.smtp.is_none() {
            return Ok(());
        }
        if let Err(e) = self.try_mail_complaint(contact).await {
            tracing::warn!(contact = %contact.record_no, error = %e, "could not queue the complaint mail");
        }
        Ok(())
    }

    async fn try_mail_complaint(&self, c: &ContactRow) -> Result<()> {
        let company = self.company_name().await;
        let at = self.mail_local_time(c.received_at);
        for (to, name, lang) in self.managers_to_mail().await? {
            let text = mail_text::complaint(lang, &name, c, &at, &company);
            let m = OutgoingMail {
                to,
                to_name: Some(name),
                subject: text.subject,
                body: text.body,
                kind: "complaint".into(),
                ticket: c.ticket_number.clone(),
                contact: Some(c.record_no.clone()),
                lang: lang.as_str().into(),
            };
            self.enqueue_mail(&m).await?;
        }
        Ok(())
    }

    /// Kept messages, newest first, optionally of one status (`error`: the ones to look at).
    /// For the desk (agents) and managers.
    pub async fn list_mail(
        &self,
        by: &crate::Actor,
        status: Option<&str>,
        page: aftercare_store::Page,
    ) -> Result<aftercare_store::Paged<aftercare_store::mail::MailRow>> {
        crate::require(by.has_any(&[Role::Agent]))?;
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                MailStatus::parse(s).ok_or_else(|| aftercare_domain::FieldErrors::single("status", "unknown_value"))?,
            ),
        };
        Ok(store::list(&self.db, status, page).await?)
    }

    /// One kept message as it came (RFC 5322 bytes), for the desk and managers.
    pub async fn mail_raw(&self, by: &crate::Actor, id: aftercare_domain::MailId) -> Result<MailRow> {
        crate::require(by.has_any(&[Role::Agent]))?;
        Ok(store::get(&self.db, id.0).await?)
    }

    /// The files that came with a contact's email (staff only).
    pub async fn mail_attachments(
        &self,
        by: &crate::Actor,
        contact: aftercare_domain::ContactId,
    ) -> Result<Vec<AttachmentRow>> {
        crate::require(by.is_staff())?;
        Ok(store::attachments_of_contact(&self.db, contact.0).await?)
    }

    /// One attachment with its bytes (staff only).
    pub async fn mail_attachment(
        &self,
        by: &crate::Actor,
        id: aftercare_domain::AttachmentId,
    ) -> Result<(aftercare_store::mail::AttachmentRow, Vec<u8>)> {
        let id = id.0;
        crate::require(by.is_staff())?;
        store::attachment(&self.db, id).await?.ok_or(ServiceError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_are_found_in_subjects() {
        assert_eq!(ticket_numbers("Re: [GD20261127-0042] 报修已受理"), vec!["GD20261127-0042"]);
        assert_eq!(ticket_numbers("回复：GD20261127-12345 还是不亮"), vec!["GD20261127-12345"]);
        assert_eq!(ticket_numbers("gd20261127-0042 and GD20261128-0001"), vec!["GD20261127-0042", "GD20261128-0001"]);
        assert!(ticket_numbers("GD20261127-004 too short").is_empty());
        assert!(ticket_numbers("XGD20261127-0042 glued").is_empty());
        assert!(ticket_numbers("GD2026112-0042").is_empty());
        assert!(ticket_numbers("").is_empty());
        assert!(ticket_numbers("投影仪GD").is_empty());
    }

    #[test]
    fn source_refs_are_bracketed_message_ids() {
        assert_eq!(source_ref(Some("abc@x"), "INBOX", 1, 2), "<abc@x>");
        assert_eq!(source_ref(Some("<abc@x>"), "INBOX", 1, 2), "<abc@x>");
        assert_eq!(source_ref(None, "INBOX", 1, 2), "imap:INBOX:1:2");
    }

    #[test]
    fn text_is_cut_and_cleaned() {
        assert_eq!(cut("你好世界", 2), "你好…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(clean("a\0b"), "ab");
    }

    #[test]
    fn config_is_checked() {
        let smtp = SmtpConfig {
            host: "h".into(),
            port: None,
            tls: SmtpTls::None,
            user: None,
            password: None,
            from: "x".into(),
        };
        assert!(MailConfig { imap: None, smtp: Some(smtp.clone()) }.check().is_err());
        let ok = SmtpConfig { from: "desk@example.com".into(), ..smtp };
        assert_eq!(ok.port(), 25);
        assert!(MailConfig { imap: None, smtp: Some(ok) }.check().is_ok());
        assert!(
            !format!(
                "{:?}",
                ImapConfig {
                    host: "h".into(),
                    port: None,
                    tls: true,
                    user: "u".into(),
                    password: "secret".into(),
                    mailbox: inbox(),
                    poll_seconds: 60,
                    max_message_bytes: 1
                }
            )
            .contains("secret")
        );
    }
}

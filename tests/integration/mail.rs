//! Mail in and out against real servers on loopback, started by each test: Dovecot (IMAP,
//! Debian's `dovecot-imapd`) with a generated configuration in a temporary folder, and
//! Python's `aiosmtpd` (SMTP) writing what it receives into a Maildir. Messages go into the
//! mailbox with IMAP APPEND, so nothing bypasses the server.
//!
//! Ignored by default (they need the two servers installed). Run them with
//! `cargo test --test integration -- --ignored mail::` after
//! `apt-get install dovecot-imapd` and `pip install aiosmtpd==1.4.6`; `.ci/run` does all three.
//! A missing server fails the test with a message saying what to install.

use crate::common::{self, Backend, TestApp};
use aftercare_service::Services;
use aftercare_service::mail::{ImapConfig, MailConfig, SmtpConfig, SmtpTls};
use aftercare_store::contacts::{ContactQuery, ContactRow};
use aftercare_store::{Db, Page};
use base64::Engine;
use chrono::{Duration, SubsecRound, Utc};
use mail_parser::MessageParser;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const MAILBOX_USER: &str = "desk@aftercare.test";
const MAILBOX_PASSWORD: &str = "mailbox-secret";

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aftercare_{tag}_{}_{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something listens on `port`; on failure shows the server's log.
async fn wait_listening(port: u16, what: &str, log: &Path, child: &mut tokio::process::Child) {
    for _ in 0..150 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}): {}", std::fs::read_to_string(log).unwrap_or_default());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} does not listen on {port}: {}", std::fs::read_to_string(log).unwrap_or_default());
}

/// A real Dovecot IMAP server on 127.0.0.1, one mailbox user, Maildir in a temporary folder.
struct Dovecot {
    child: tokio::process::Child,
    dir: PathBuf,
    port: u16,
}

impl Dovecot {
    async fn start() -> Dovecot {
        let bin = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!(
                    "Dovecot is not installed: `apt-get install dovecot-imapd` (the mail tests need a real IMAP server)"
                )
            });
        let dir = scratch("dovecot");
        let port = free_port();
        let mail = dir.join("mail");
        std::fs::create_dir_all(&mail).unwrap();
        // Mail is stored as `nobody` (Dovecot refuses root as a mail user).
        std::fs::set_permissions(&mail, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        std::fs::write(dir.join("passwd"), format!("{MAILBOX_USER}:{{PLAIN}}{MAILBOX_PASSWORD}::::::\n")).unwrap();
        let d = dir.display();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = no\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             default_internal_user = dovecot\ndefault_internal_group = dovecot\ndefault_login_user = dovenull\n\
             first_valid_uid = 1\nmail_location = maildir:{d}/mail/%n\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}/mail/%n\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
        );
        std::fs::write(dir.join("dovecot.conf"), conf).unwrap();
        let log = dir.join("dovecot.log");
        let mut child = tokio::process::Command::new(bin)
            .arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        wait_listening(port, "dovecot", &log, &mut child).await;
        Dovecot { child, dir, port }
    }

    fn config(&self) -> ImapConfig {
        ImapConfig {
            host: "127.0.0.1".into(),
            port: Some(self.port),
            tls: false,
            user: MAILBOX_USER.into(),
            password: MAILBOX_PASSWORD.into(),
            mailbox: "INBOX".into(),
            poll_seconds: 60,
            max_message_bytes: 64 * 1024,
        }
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        client.login(MAILBOX_USER, MAILBOX_PASSWORD).await.map_err(|(e, _)| e).unwrap()
    }

    /// Puts messages into the INBOX the way a mail server delivers them.
    async fn append(&self, messages: &[&[u8]]) {
        let mut s = self.session().await;
        for m in messages {
            s.append("INBOX", None, None, m).await.unwrap();
        }
        s.logout().await.unwrap();
    }

    /// The flags of every message: fetching must not mark anything in the mailbox.
    async fn seen_count(&self) -> usize {
        let mut s = self.session().await;
        s.examine("INBOX").await.unwrap();
        let n = s.search("SEEN").await.unwrap().len();
        s.logout().await.unwrap();
        n
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives in a Maildir.
struct Smtp {
    child: tokio::process::Child,
    dir: PathBuf,
}

impl Smtp {
    async fn start(port: u16) -> Smtp {
        let ok = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "aiosmtpd is not installed: `pip install aiosmtpd==1.4.6` (the mail tests need a real SMTP server)"
        );
        let dir = scratch("smtp");
        let log = dir.join("smtp.log");
        let mut child = tokio::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.join("maildir"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        wait_listening(port, "aiosmtpd", &log, &mut child).await;
        Smtp { child, dir }
    }

    /// Every message received so far.
    fn received(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("maildir/new")) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        // Python's Maildir names files `secs.M<usec>P<pid>Q<n>.host`; `n` counts deliveries.
        let order = |p: &PathBuf| -> u64 {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let q = name.split('Q').nth(1).unwrap_or_default();
            q.split('.').next().unwrap_or_default().parse().unwrap_or(u64::MAX)
        };
        files.sort_by_key(order);
        files.into_iter().map(|f| std::fs::read(f).unwrap()).collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn smtp_config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        user: None,
        password: None,
        from: "售后服务中心 <service@aftercare.test>".into(),
    }
}

/// Services with mail on, like `serve` builds them from `[mail]`.
fn mail_services(app: &TestApp, imap: Option<ImapConfig>, smtp: Option<SmtpConfig>) -> Services {
    Services::new(app.db.clone()).with_mail(MailConfig { imap, smtp })
}

/// Another node on the same database whose services send mail; `app` pointed at it.
async fn mail_node(app: &TestApp, svc: Services) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = aftercare_web::router(svc, aftercare_web::WebConfig::default());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    let mut node = app.clone();
    node.base = format!("http://{addr}");
    node
}

async fn exec(db: &Db, sql: &str, text: &str, id: i64) {
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(text).bind(id).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(text).bind(id).execute(p).await.unwrap();
        }
    }
}

/// Gives the school's first contact person an address.
async fn school_email(app: &TestApp, school: i64, email: &str) {
    exec(&app.db, "UPDATE customer_contacts SET email = $1 WHERE customer_id = $2", email, school).await;
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let sql = "SELECT id FROM users WHERE username = $1";
    match &app.db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).bind(username).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(username).fetch_one(p).await.unwrap(),
    }
}

async fn email_contacts(db: &Db, q: ContactQuery) -> Vec<ContactRow> {
    let q = ContactQuery { channel: Some("email".into()), ..q };
    aftercare_store::contacts::list(db, &q, Page::all()).await.unwrap().items
}

async fn kept(db: &Db) -> Vec<aftercare_store::mail::MailRow> {
    let mut rows = aftercare_store::mail::list(db, None, Page::all()).await.unwrap().items;
    rows.reverse();
    let mut full = Vec::new();
    for r in rows {
        full.push(aftercare_store::mail::get(db, r.id).await.unwrap());
    }
    full
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A plain message; `subject` may be Chinese (sent as an encoded word, as clients do).
fn message(from: &str, subject: &str, id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {MAILBOX_USER}\r\nSubject: =?UTF-8?B?{}?=\r\nMessage-ID: <{id}>\r\n\
         Date: Tue, 24 Nov 2026 09:30:00 +0800\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(subject),
        b64(body)
    )
    .into_bytes()
}

async fn open_ticket(app: &TestApp, token: &str, school: i64, title: &str) -> Value {
    let (s, t) = app
        .post_json(token, "/api/v1/tickets", &json!({"customer_id": school, "title": title, "system": "classroom"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t
}

/// Runs every due job (as the worker would at `now`).
async fn run_jobs(svc: &Services, now: chrono::DateTime<Utc>) -> usize {
    let mut n = 0;
    while aftercare_jobs::run_next(svc, now).await.unwrap().is_some() {
        n += 1;
        assert!(n < 100, "jobs keep coming");
    }
    n
}

fn parse(raw: &[u8]) -> (String, String, String) {
    let m = MessageParser::default().parse(raw).unwrap();
    let to = m.to().and_then(|a| a.first()).and_then(|a| a.address.clone()).unwrap_or_default().to_string();
    (to, m.subject().unwrap_or_default().to_owned(), m.body_text(0).unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_in_known_sender_matched_to_the_school_unknown_sender_unmatched() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let imap = Dovecot::start().await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, Some(imap.config()), None);
        // The school writes in GBK, as many Chinese mail clients still do; the address case differs.
        let mut gbk = format!(
            "From: =?UTF-8?B?{}?= <Wang@School1.TEST>\r\nTo: {MAILBOX_USER}\r\nSubject: =?UTF-8?B?{}?=\r\n\
             Message-ID: <known-1@school1.test>\r\nDate: Tue, 24 Nov 2026 09:30:00 +0800\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
            b64("王老师"),
            b64("三楼教室投影仪不亮")
        )
        .into_bytes();
        gbk.extend_from_slice(b"\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7\r\n");
        let stranger =
            message("someone@elsewhere.test", "请问你们的服务范围", "stranger-1@elsewhere.test", "你们负责哪些学校？");
        imap.append(&[&gbk, &stranger]).await;

        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!((r.fetched, r.run.processed, r.run.errors), (2, 2, 0), "{r:?}");
        assert_eq!(r.fetch_error, None);

        let all = email_contacts(&app.db, ContactQuery::default()).await;
        assert_eq!(all.len(), 2);
        let known = all.iter().find(|c| c.source_ref.as_deref() == Some("<known-1@school1.test>")).unwrap();
        assert_eq!(known.customer_id, Some(app.school1));
        assert_eq!(known.caller_name.as_deref(), Some("王老师"));
        assert_eq!(known.caller_email.as_deref(), Some("Wang@School1.TEST"));
        assert_eq!(
            (known.channel.as_str(), known.category.as_str(), known.direction.as_str()),
            ("email", "other", "inbound")
        );
        assert!(known.answered);
        assert!(known.content.starts_with("三楼教室投影仪不亮"), "{}", known.content);
        assert!(known.content.contains("你好，世界"), "GBK body decoded: {}", known.content);
        assert_eq!(known.received_at, chrono::DateTime::parse_from_rfc3339("2026-11-24T01:30:00Z").unwrap());
        assert_eq!(known.handler_id, None);

        // The unknown sender waits in the triage list (contacts without a school).
        let unmatched = email_contacts(&app.db, ContactQuery { unmatched: true, ..Default::default() }).await;
        assert_eq!(unmatched.len(), 1);
        assert_eq!(unmatched[0].caller_email.as_deref(), Some("someone@elsewhere.test"));
        assert_eq!(unmatched[0].customer_id, None);
        assert!(unmatched[0].content.contains("你们负责哪些学校"));

        for m in kept(&app.db).await {
            assert_eq!(m.status.as_str(), "processed", "{m:?}");
            assert!(m.contact_id.is_some());
        }
        // The mailbox was only read: nothing marked seen there.
        assert_eq!(imap.seen_count().await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_in_reply_with_a_ticket_number_threads_onto_the_ticket() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let imap = Dovecot::start().await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, Some(imap.config()), None);
        let agent = app.token("agent").await;
        let t = open_ticket(&app, &agent, app.school1, "一体机黑屏").await;
        let number = t["number"].as_str().unwrap().to_owned();
        let id = t["id"].as_i64().unwrap();
        let reply = message(
            "王老师 <wang@school1.test>",
            &format!("回复：[{number}] 报修已受理：一体机黑屏"),
            "reply-1@school1.test",
            "还是黑屏，下午有人在。",
        );
        // Another school's contact naming this ticket does not write on it.
        school_email(&app, app.school2, "li@school2.test").await;
        let foreign = message("li@school2.test", &format!("Re: {number}"), "foreign-1@school2.test", "写错了工单号");
        imap.append(&[&reply, &foreign]).await;
        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!(r.run.processed, 2, "{r:?}");

        let on_ticket = email_contacts(&app.db, ContactQuery { ticket_id: Some(id), ..Default::default() }).await;
        assert_eq!(on_ticket.len(), 1);
        assert_eq!(on_ticket[0].customer_id, Some(app.school1));
        assert_eq!(on_ticket[0].ticket_number.as_deref(), Some(number.as_str()));
        let (s, timeline) = app.get_json(&agent, &format!("/api/v1/tickets/{id}/timeline")).await;
        assert_eq!(s, StatusCode::OK);
        let items = timeline["items"].as_array().or(timeline.as_array()).unwrap().clone();
        let email: Vec<&Value> = items.iter().filter(|e| e["kind"] == "email").collect();
        assert_eq!(email.len(), 1, "{timeline}");
        assert!(email[0]["note"].as_str().unwrap().contains("还是黑屏"));
        assert!(email[0]["actor"].as_str().unwrap().contains("wang@school1.test"));
        let foreign =
            email_contacts(&app.db, ContactQuery { customer_id: Some(app.school2), ..Default::default() }).await;
        assert_eq!(foreign.len(), 1);
        assert_eq!(foreign[0].ticket_id, None);
        // The ticket page names the entry in both languages.
        let (c, _) = app.browser("agent").await;
        let page = c.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("收到邮件") && page.contains("还是黑屏"), "timeline on the page");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_in_attachments_are_kept_with_the_contact() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let imap = Dovecot::start().await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, Some(imap.config()), None);
        // A JPEG's first bytes: stored files are served by what their bytes are.
        let photo: Vec<u8> = b"\xff\xd8\xff\xe0".iter().copied().chain((0..=255u8).cycle()).take(3000).collect();
        let raw = format!(
            "From: wang@school1.test\r\nTo: {MAILBOX_USER}\r\nSubject: photos\r\nMessage-ID: <att-1@school1.test>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n\
             --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the photo of the screen.\r\n\
             --XYZ\r\nContent-Type: image/jpeg; name=\"screen.jpg\"\r\nContent-Disposition: attachment; filename=\"screen.jpg\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n\
             --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E4%BF%AE%E5%8D%95.txt\r\n\r\n报修单内容\r\n\
             --XYZ--\r\n",
            base64::engine::general_purpose::STANDARD.encode(&photo)
        );
        imap.append(&[raw.as_bytes()]).await;
        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!(r.run.processed, 1, "{r:?}");
        let c = &email_contacts(&app.db, ContactQuery::default()).await[0];
        assert!(c.content.contains("See the photo"));
        let files = aftercare_store::mail::attachments_of_contact(&app.db, c.id).await.unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        assert_eq!((files[0].filename.as_str(), files[0].content_type.as_str(), files[0].size), ("screen.jpg", "image/jpeg", 3000));
        assert_eq!(files[1].filename, "报修单.txt");
        let (_, bytes) = aftercare_store::mail::attachment(&app.db, files[0].id).await.unwrap().unwrap();
        assert_eq!(bytes, photo);
        let (_, text) = aftercare_store::mail::attachment(&app.db, files[1].id).await.unwrap().unwrap();
        assert_eq!(String::from_utf8(text).unwrap().trim(), "报修单内容");

        // The desk reads them through the API: images inline, anything else as a download.
        let agent = app.token("agent").await;
        let (s, list) = app.get_json(&agent, &format!("/api/v1/contacts/{}/mail-attachments", c.id)).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["total"], 2, "{list}");
        let r = app.get(&agent, &format!("/api/v1/mail/attachments/{}", files[0].id)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
        assert_eq!(r.bytes().await.unwrap().to_vec(), photo);
        let r = app.get(&agent, &format!("/api/v1/mail/attachments/{}", files[1].id)).await;
        assert_eq!(r.headers()["content-type"], "application/octet-stream");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let school = app.token("school1").await;
        let r = app.get(&school, &format!("/api/v1/mail/attachments/{}", files[0].id)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.get(&agent, "/api/v1/mail/attachments/999999").await.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_in_polling_twice_or_a_repeated_message_records_nothing_twice() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let imap = Dovecot::start().await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, Some(imap.config()), None);
        let agent = app.token("agent").await;
        let t = open_ticket(&app, &agent, app.school1, "广播没声音").await;
        let number = t["number"].as_str().unwrap().to_owned();
        let first = message("wang@school1.test", &format!("Re: [{number}]"), "twice-1@school1.test", "第一封");
        imap.append(&[&first]).await;
        // Through the jobs table, as the worker runs it.
        aftercare_store::jobs::enqueue(&app.db, aftercare_jobs::MAIL_POLL, "{}", Utc::now()).await.unwrap();
        let now = Utc::now();
        assert_eq!(run_jobs(&svc, now).await, 1);
        // The next poll is queued once, `poll_seconds` later.
        let polls = aftercare_store::mail::mail_jobs(&app.db, aftercare_jobs::MAIL_POLL).await.unwrap();
        let waiting: Vec<_> = polls.iter().filter(|j| j.done_at.is_none()).collect();
        assert_eq!(waiting.len(), 1, "{polls:?}");
        assert!(waiting[0].run_at >= now + Duration::seconds(59));
        // Again (one job: the poll it queues is due a minute after the real clock), and again
        // with the same message delivered a second time.
        let next = aftercare_jobs::run_next(&svc, now + Duration::seconds(61)).await.unwrap().unwrap();
        assert_eq!(next.kind, aftercare_jobs::MAIL_POLL);
        imap.append(&[&first]).await;
        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!((r.fetched, r.run.processed), (1, 1), "{r:?}");
        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!((r.fetched, r.run.processed), (0, 0), "{r:?}");

        assert_eq!(email_contacts(&app.db, ContactQuery::default()).await.len(), 1);
        let rows = kept(&app.db).await;
        assert_eq!(rows.len(), 2, "each UID kept once");
        assert!(rows.iter().all(|m| m.status.as_str() == "processed" && m.contact_id == rows[0].contact_id));
        assert!(rows[1].error.as_deref().unwrap_or_default().contains("recorded once"), "{:?}", rows[1].error);
        let events = aftercare_store::tickets::events(&app.db, t["id"].as_i64().unwrap()).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.kind.as_str() == "email").count(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_in_malformed_and_huge_messages_are_kept_with_an_error_and_the_poller_carries_on() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let imap = Dovecot::start().await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, Some(imap.config()), None);
        let garbage: &[u8] = b"\x00\xff\xfe\x01 garbage \x02\x03 not a mail at all \xc3\x28";
        let no_sender = b"Subject: who am I\r\n\r\nno From header here\r\n".to_vec();
        let mut huge = message("wang@school1.test", "很大的附件", "huge-1@school1.test", "x");
        huge.extend(std::iter::repeat_n(b'A', 100 * 1024));
        huge.extend_from_slice(b"\r\n");
        let good = message("wang@school1.test", "正常的邮件", "good-1@school1.test", "在后面的正常邮件");
        imap.append(&[garbage, &no_sender, &huge, &good]).await;

        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!((r.fetched, r.run.processed, r.run.errors), (4, 1, 2), "{r:?}");
        let rows = kept(&app.db).await;
        assert_eq!(rows.len(), 4, "nothing dropped");
        assert_eq!(rows[0].status.as_str(), "error");
        assert!(rows[0].raw.windows(7).any(|w| w == b"garbage"), "kept raw");
        assert!(!rows[0].error.as_deref().unwrap_or_default().is_empty());
        assert_eq!(rows[1].status.as_str(), "error");
        assert!(rows[1].error.as_deref().unwrap().contains("sender"), "{:?}", rows[1].error);
        assert_eq!(rows[2].status.as_str(), "error");
        assert!(rows[2].error.as_deref().unwrap().contains("too large"), "{:?}", rows[2].error);
        assert!(rows[2].raw.len() < 4096 && rows[2].raw.windows(10).any(|w| w == b"Message-ID"), "header kept");
        assert_eq!(rows[2].message_id.as_deref(), Some("huge-1@school1.test"));
        assert_eq!(rows[3].status.as_str(), "processed");
        let contacts = email_contacts(&app.db, ContactQuery::default()).await;
        assert_eq!(contacts.len(), 1);
        assert!(contacts[0].content.contains("在后面的正常邮件"));
        // The desk lists what could not be read and can download it as it came.
        let agent = app.token("agent").await;
        let (s, errors) = app.get_json(&agent, "/api/v1/mail/messages?status=error").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(errors["total"], 3, "{errors}");
        assert!(errors["items"][0]["error"].as_str().unwrap().contains("too large"));
        assert!(errors["items"][0].get("raw").is_none());
        let (s, bad) = app.get_json(&agent, "/api/v1/mail/messages?status=lost").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(bad.to_string().contains("status"), "{bad}");
        let r = app.get(&agent, &format!("/api/v1/mail/messages/{}/raw", rows[0].id)).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "message/rfc822");
        assert!(r.bytes().await.unwrap().windows(7).any(|w| w == b"garbage"));
        for who in ["school1", "tech"] {
            let t = app.token(who).await;
            assert_eq!(app.get(&t, "/api/v1/mail/messages").await.status(), StatusCode::FORBIDDEN, "{who}");
        }
        // Errors are not retried as if new.
        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!((r.fetched, r.run.processed, r.run.errors), (0, 0, 0));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_in_message_kept_before_a_crash_is_processed_on_the_next_run() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let imap = Dovecot::start().await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, Some(imap.config()), None);
        let a = message("wang@school1.test", "第一封", "crash-1@school1.test", "一");
        let b = message("wang@school1.test", "第二封", "crash-2@school1.test", "二");
        imap.append(&[&a, &b]).await;
        // The process dies after keeping the messages, before processing them …
        assert_eq!(aftercare_jobs::mail::fetch_new(&svc, &imap.config()).await.unwrap(), 2);
        assert!(kept(&app.db).await.iter().all(|m| m.status.as_str() == "new"));
        assert!(email_contacts(&app.db, ContactQuery::default()).await.is_empty());
        // … and, for the second one, even after its contact was written.
        let w = aftercare_store::contacts::ContactWrite {
            channel: aftercare_domain::contacts::Channel::Email,
            direction: aftercare_domain::contacts::Direction::Inbound,
            category: aftercare_domain::contacts::Category::Other,
            urgency: aftercare_domain::contacts::Urgency::Normal,
            content: "第二封".into(),
            received_at: Utc::now().trunc_subsecs(0),
            answered: true,
            source_ref: Some("<crash-2@school1.test>".into()),
            now: Utc::now(),
            ..Default::default()
        };
        let made =
            aftercare_store::contacts::create_many(&app.db, &[(aftercare_store::Writer::system(), w)]).await.unwrap();

        let r = aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        assert_eq!((r.fetched, r.run.processed), (0, 2), "{r:?}");
        let contacts = email_contacts(&app.db, ContactQuery::default()).await;
        assert_eq!(contacts.len(), 2, "one contact per message");
        let rows = kept(&app.db).await;
        assert!(rows.iter().all(|m| m.status.as_str() == "processed"));
        assert_eq!(rows[1].contact_id, Some(made[0]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_out_the_school_hears_its_ticket_opened_scheduled_resolved_and_closed() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let port = free_port();
        let smtp = Smtp::start(port).await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, None, Some(smtp_config(port)));
        let node = mail_node(&app, svc.clone()).await;
        let agent = app.token("agent").await;
        let engineer = app.token("engineer").await;
        let t = open_ticket(&node, &agent, app.school1, "机房空调报警").await;
        let (id, number) = (t["id"].as_i64().unwrap(), t["number"].as_str().unwrap().to_owned());
        // The request did not wait for the mail: it is a job.
        assert_eq!(smtp.received().len(), 0);
        assert_eq!(run_jobs(&svc, Utc::now()).await, 1);
        let got = smtp.received();
        assert_eq!(got.len(), 1);
        let (to, subject, body) = parse(&got[0]);
        assert_eq!(to, "wang@school1.test");
        assert!(subject.contains(&format!("[{number}]")) && subject.contains("报修已受理"), "{subject}");
        assert!(body.contains("机房空调报警") && body.contains("城关镇中心小学"), "{body}");
        // A school without an address gets nothing; the ticket is opened all the same.
        open_ticket(&node, &agent, app.school2, "没有邮箱的学校").await;
        assert_eq!(run_jobs(&svc, Utc::now()).await, 0);

        let tech = user_id(&app, "tech").await;
        let at = (Utc::now() + Duration::days(1)).trunc_subsecs(0);
        let path = |a: &str| format!("/api/v1/tickets/{id}/actions/{a}");
        let (s, v) = node.post_json(&engineer, &path("accept"), &json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = node
            .post_json(
                &engineer,
                &path("diagnose"),
                &json!({"fault_type": "hardware", "diagnosis": "压缩机", "plan": "上门更换"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) =
            node.post_json(&engineer, &path("schedule"), &json!({"technician_ids": [tech], "scheduled_at": at})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(run_jobs(&svc, Utc::now()).await, 1, "accept and diagnose send nothing");
        let (_, subject, body) = parse(&smtp.received()[1]);
        let local = at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string();
        assert!(subject.contains(&number) && subject.contains(&local), "{subject} / {local}");
        assert!(body.contains("tech 测试"), "technician named: {body}");

        // Repaired on site and signed, then closed by the agent's callback.
        let tech_token = app.token("tech").await;
        let (s, v) = node.post_json(&tech_token, &path("start"), &json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = node
            .post_json(
                &tech_token,
                &format!("/api/v1/tickets/{id}/visits"),
                &json!({
                "technician_ids": [tech], "arrived_at": Utc::now() - Duration::hours(1), "finished_at": Utc::now(),
                "work_done": "更换压缩机", "result": "fixed",
                "signature": {"signer_name": "王老师", "image_png_base64": "iVBORw0KGgo="}}),
            )
            .await;
        assert!(s.is_success(), "{s} {v}");
        let (s, v) = node.post_json(&tech_token, &path("resolve"), &json!({"resolution": "更换压缩机，已恢复"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = node.post_json(&agent, &path("callback"), &json!({"satisfaction": 5, "resolved": true})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(run_jobs(&svc, Utc::now()).await, 2);
        let got = smtp.received();
        assert_eq!(got.len(), 4);
        let subjects: Vec<String> = got.iter().map(|m| parse(m).1).collect();
        assert!(subjects[2].contains("已处理完毕") && subjects[2].contains(&number), "{subjects:?}");
        assert!(subjects[3].contains("工单已关闭") && subjects[3].contains(&number), "{subjects:?}");
        assert!(parse(&got[2]).2.contains("更换压缩机，已恢复"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_out_is_retried_while_the_smtp_server_is_down_and_delivered_when_it_is_up() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let port = free_port();
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, None, Some(smtp_config(port)));
        let node = mail_node(&app, svc.clone()).await;
        let agent = app.token("agent").await;
        // The server is down: opening the ticket still works at once.
        let t = open_ticket(&node, &agent, app.school1, "监控断线").await;
        let number = t["number"].as_str().unwrap().to_owned();
        let t0 = Utc::now();
        assert_eq!(run_jobs(&svc, t0).await, 1);
        let jobs = aftercare_store::mail::mail_jobs(&app.db, "send_mail").await.unwrap();
        assert_eq!(jobs.len(), 1);
        let j = &jobs[0];
        assert_eq!(j.attempts, 1);
        assert!(j.done_at.is_none());
        assert!(j.run_at > t0, "moved to later: {:?}", j.run_at);
        assert!(!j.last_error.as_deref().unwrap_or_default().is_empty());
        // Not before its time; again later, still down.
        assert_eq!(run_jobs(&svc, t0).await, 0);
        assert_eq!(run_jobs(&svc, j.run_at + Duration::seconds(1)).await, 1);
        let j2 = aftercare_store::mail::mail_jobs(&app.db, "send_mail").await.unwrap().remove(0);
        assert_eq!(j2.attempts, 2);
        assert!(j2.run_at > j.run_at + Duration::seconds(30), "backs off: {:?} then {:?}", j.run_at, j2.run_at);

        let smtp = Smtp::start(port).await;
        assert_eq!(run_jobs(&svc, j2.run_at + Duration::seconds(1)).await, 1);
        let done = aftercare_store::mail::mail_jobs(&app.db, "send_mail").await.unwrap().remove(0);
        assert!(done.done_at.is_some(), "{done:?}");
        assert_eq!(done.attempts, 3);
        let got = smtp.received();
        assert_eq!(got.len(), 1);
        assert!(parse(&got[0]).1.contains(&number));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and aiosmtpd: cargo test --test integration -- --ignored mail::"]
async fn mail_out_managers_hear_of_sla_breaches_and_complaints_in_their_language() {
    common::run(Backend::Sqlite, |app: TestApp| async move {
        let port = free_port();
        let smtp = Smtp::start(port).await;
        let manager = user_id(&app, "manager").await;
        exec(&app.db, "UPDATE users SET email = $1 WHERE id = $2", "boss@aftercare.test", manager).await;
        exec(&app.db, "UPDATE users SET locale = $1 WHERE id = $2", "en", manager).await;
        let svc = mail_services(&app, None, Some(smtp_config(port)));
        let agent = app.token("agent").await;
        let t = open_ticket(&app, &agent, app.school1, "交换机掉线").await;
        let number = t["number"].as_str().unwrap().to_owned();
        assert!(svc.check_sla(Utc::now() + Duration::days(30)).await.unwrap() >= 1);
        assert_eq!(run_jobs(&svc, Utc::now()).await, 1);
        let (to, subject, body) = parse(&smtp.received()[0]);
        assert_eq!(to, "boss@aftercare.test");
        assert!(subject.contains(&number) && subject.contains("SLA breached"), "{subject}");
        assert!(body.contains("交换机掉线") && body.contains("response"), "{body}");

        let w = aftercare_store::contacts::ContactWrite {
            channel: aftercare_domain::contacts::Channel::Phone,
            direction: aftercare_domain::contacts::Direction::Inbound,
            category: aftercare_domain::contacts::Category::Complaint,
            customer_id: Some(app.school1),
            caller_name: Some("王老师".into()),
            urgency: aftercare_domain::contacts::Urgency::Normal,
            content: "维修人员迟到两个小时".into(),
            received_at: Utc::now().trunc_subsecs(0),
            answered: true,
            now: Utc::now(),
            ..Default::default()
        };
        let id = aftercare_store::contacts::create_many(&app.db, &[(aftercare_store::Writer::system(), w)])
            .await
            .unwrap()[0];
        let c = aftercare_store::contacts::get(&app.db, id).await.unwrap();
        svc.mail_complaint(&c).await.unwrap();
        // The same in Chinese for a manager who reads Chinese.
        exec(&app.db, "UPDATE users SET locale = $1 WHERE id = $2", "zh-CN", manager).await;
        svc.mail_complaint(&c).await.unwrap();
        assert_eq!(run_jobs(&svc, Utc::now()).await, 2);
        let got = smtp.received();
        let (_, en, en_body) = parse(&got[1]);
        let (_, zh, _) = parse(&got[2]);
        assert!(en.contains("Complaint") && en.contains(&c.record_no), "{en}");
        assert!(en_body.contains("维修人员迟到两个小时"));
        assert!(zh.contains("投诉") && zh.contains("城关镇中心小学"), "{zh}");

        // A complaint logged on the desk mails the manager by itself.
        let agent_row = aftercare_store::users::by_username(&app.db, "agent").await.unwrap().unwrap();
        let by = aftercare_service::auth::actor_from_row(&agent_row);
        let input = aftercare_domain::contacts::ContactInput {
            channel: Some("phone".into()),
            category: Some("complaint".into()),
            customer_id: Some(aftercare_domain::CustomerId(app.school1)),
            content: Some("电话一直占线".into()),
            promised_at: Some(Utc::now() + Duration::hours(12)),
            ..Default::default()
        };
        let logged = svc.create_contact(&by, &input, None, Utc::now()).await.unwrap();
        assert_eq!(run_jobs(&svc, Utc::now()).await, 1);
        let (_, desk_subject, _) = parse(&smtp.received()[3]);
        assert!(desk_subject.contains(&logged.record_no), "{desk_subject}");

        // Without [mail.smtp] nothing is queued at all.
        let off = Services::new(app.db.clone());
        off.mail_complaint(&c).await.unwrap();
        open_ticket(&app, &agent, app.school1, "不发邮件").await;
        assert_eq!(aftercare_store::mail::mail_jobs(&app.db, "send_mail").await.unwrap().len(), 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dovecot-imapd and PostgreSQL (AFTERCARE_TEST_POSTGRES_URL): cargo test --test integration -- --ignored mail::"]
async fn mail_in_on_postgres() {
    common::run(Backend::Postgres, |app: TestApp| async move {
        let imap = Dovecot::start().await;
        school_email(&app, app.school1, "wang@school1.test").await;
        let svc = mail_services(&app, Some(imap.config()), None);
        let agent = app.token("agent").await;
        let t = open_ticket(&app, &agent, app.school1, "云终端无法登录").await;
        let number = t["number"].as_str().unwrap().to_owned();
        let reply = format!(
            "From: wang@school1.test\r\nTo: {MAILBOX_USER}\r\nSubject: Re: [{number}]\r\nMessage-ID: <pg-1@school1.test>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n还是登录不了\r\n\
             --B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"log.bin\"\r\n\r\nabc\r\n--B--\r\n"
        );
        let garbage: &[u8] = b"\x00\x01 nothing readable \x00";
        let stranger = message("nobody@elsewhere.test", "hello", "pg-2@elsewhere.test", "who?");
        imap.append(&[reply.as_bytes(), garbage, &stranger]).await;
        for _ in 0..2 {
            aftercare_jobs::mail::poll(&svc, &imap.config(), Utc::now()).await.unwrap();
        }
        let contacts = email_contacts(&app.db, ContactQuery::default()).await;
        assert_eq!(contacts.len(), 2);
        let threaded = contacts.iter().find(|c| c.ticket_id == t["id"].as_i64()).unwrap();
        assert_eq!(threaded.customer_id, Some(app.school1));
        assert_eq!(aftercare_store::mail::attachments_of_contact(&app.db, threaded.id).await.unwrap().len(), 1);
        assert_eq!(email_contacts(&app.db, ContactQuery { unmatched: true, ..Default::default() }).await.len(), 1);
        let rows = kept(&app.db).await;
        assert_eq!(rows.iter().map(|m| m.status.as_str()).collect::<Vec<_>>(), ["processed", "error", "processed"]);
        let events = aftercare_store::tickets::events(&app.db, t["id"].as_i64().unwrap()).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.kind.as_str() == "email").count(), 1);
    })
    .await;
}

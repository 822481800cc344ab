//! The ticket page's database statements do not grow with what the ticket holds, and a
//! group of new tickets is written in a fixed number of trips to the database.
//!
//! Its own binary because it counts every statement the process runs (sqlx reports each
//! one as a `sqlx::query` event; SQLite's run on its worker threads), which only works
//! with no other test running beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "integration/common.rs"]
mod common;

use common::{Backend, TestApp};
use serde_json::json;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing_subscriber::layer::SubscriberExt;

static STATEMENTS: AtomicU64 = AtomicU64::new(0);
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Counts sqlx's statement events (and keeps their text to show on failure).
struct CountStatements;

struct Text(String);

impl tracing::field::Visit for Text {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "db.statement" || (field.name() == "summary" && self.0.is_empty()) {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "db.statement" || (field.name() == "summary" && self.0.is_empty()) {
            self.0 = value.to_owned();
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut t = Text(String::new());
            event.record(&mut t);
            // Who is signed in is cached for a few seconds (service::cache::TTL), so on a
            // slow machine a request may read it again: that is sign-in, not the page. And
            // the pool may open a connection meanwhile, which sets itself up first.
            let s = t.0.trim_start();
            if s.contains("FROM sessions") || s.contains("FROM users WHERE id = ") || s.starts_with("PRAGMA") {
                return;
            }
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
            LOG.lock().unwrap().push(t.0);
        }
    }
}

/// The statements one `GET path` runs, the second time (so caches are as warm as they get).
async fn statements_of(app: &TestApp, c: &reqwest::Client, path: &str, shows: &str) -> u64 {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap();
    let before = STATEMENTS.load(Ordering::SeqCst);
    LOG.lock().unwrap().clear();
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let page = r.text().await.unwrap();
    assert!(page.contains(shows), "{path} shows {shows}");
    let n = STATEMENTS.load(Ordering::SeqCst) - before;
    println!("{path}: {n} statements\n{}", LOG.lock().unwrap().join("\n"));
    n
}

/// A ticket on `n` pieces of equipment, with `n` comments; returns its id.
async fn ticket_with(app: &TestApp, token: &str, n: usize, tag: &str) -> i64 {
    let mut ids = Vec::new();
    for i in 0..n {
        let e = app.equipment(token, app.school1, "network", "接入交换机", &format!("QC-{tag}-{i}")).await;
        ids.push(e["id"].as_i64().unwrap());
    }
    let (s, t) = app
        .post_json(
            token,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "equipment_ids": ids, "title": format!("{tag} 网络中断"), "reporter_name": "王老师", "reporter_phone": "13905661111"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    for i in 0..n {
        let (s, v) = app
            .post_json(token, &format!("/api/v1/tickets/{id}/comments"), &json!({"body": format!("第 {i} 次备注")}))
            .await;
        assert!(s.is_success(), "{v}");
    }
    id
}

async fn ticket_page_is_flat(backend: Backend) {
    let (url, pg) = common::fresh_database(backend).await;
    let app = TestApp::boot(backend, &url).await;
    let agent = app.token("agent").await;
    let small = ticket_with(&app, &agent, 1, "ONE").await;
    let big = ticket_with(&app, &agent, 8, "EIGHT").await;
    for user in ["agent", "engineer", "school1"] {
        let (c, _) = app.browser(user).await;
        let one = statements_of(&app, &c, &format!("/tickets/{small}"), "QC-ONE-0").await;
        let eight = statements_of(&app, &c, &format!("/tickets/{big}"), "QC-EIGHT-7").await;
        assert!(one > 0, "statements are being counted");
        // 12, and one for the know-how on the ticket's models and fault (issue 16).
        assert!(one <= 13, "{backend:?}, {user}: {one} statements for one ticket page");
        assert_eq!(
            one, eight,
            "{backend:?}, {user}: the page of a ticket with 8 pieces of equipment and 8 comments runs as many statements as one with 1 ({one})"
        );
        println!("{backend:?} {user}: {one} statements per ticket page");
    }
    app.db.close().await;
    if let Some((admin, name)) = pg {
        common::drop_database(&admin, &name).await;
    }
}

/// An inspection of `n` cameras at school 1, planned for the technician; its id and number.
async fn round_with(app: &TestApp, n: usize, tag: &str) -> (i64, String) {
    let agent = app.token("agent").await;
    for i in 0..n {
        app.equipment(&agent, app.school1, "surveillance", "网络摄像机", &format!("QC-{tag}-{i}")).await;
    }
    let tech = aftercare_store::users::by_username(&app.db, "tech").await.unwrap().unwrap().id;
    let (s, v) = app
        .post_json(
            &app.token("engineer").await,
            "/api/v1/inspections",
            &json!({"customer_id": app.school1, "phase": "late", "systems": ["surveillance"], "planned_on": "2030-03-04",
                "technician_ids": [tech]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    (v["id"].as_i64().unwrap(), v["number"].as_str().unwrap().to_owned())
}

async fn inspection_page_is_flat(backend: Backend) {
    let (url, pg) = common::fresh_database(backend).await;
    let app = TestApp::boot(backend, &url).await;
    let (small, small_no) = round_with(&app, 1, "R1").await;
    let (big, big_no) = round_with(&app, 8, "R8").await;
    for user in ["engineer", "tech", "school1"] {
        let (c, _) = app.browser(user).await;
        let one = statements_of(&app, &c, &format!("/inspections/{small}"), &small_no).await;
        let eight = statements_of(&app, &c, &format!("/inspections/{big}"), &big_no).await;
        assert!(one > 0 && one <= 12, "{backend:?}, {user}: {one} statements for one inspection page");
        assert_eq!(one, eight, "{backend:?}, {user}: a round of 9 cameras runs as many statements as one of 1 ({one})");
        println!("{backend:?} {user}: {one} statements per inspection page");
    }
    app.db.close().await;
    if let Some((admin, name)) = pg {
        common::drop_database(&admin, &name).await;
    }
}

/// A trip of the technician to `n` schools (each a new one), with its id and number.
async fn trip_with(app: &TestApp, n: usize, tag: &str) -> (i64, String) {
    let w = aftercare_store::Writer::system();
    let mut stops = Vec::new();
    for i in 0..n {
        let c = aftercare_domain::customers::CustomerInput {
            name: Some(format!("{tag} 第{i}小学")),
            code: Some(format!("QC-{tag}-{i}")),
            county: Some("青阳县".into()),
            town: Some(format!("第{i}镇")),
            ..Default::default()
        };
        let id = aftercare_store::customers::create(&app.db, &w, &c.validate().unwrap()).await.unwrap();
        stops.push(json!({"customer_id": id}));
    }
    let tech = aftercare_store::users::by_username(&app.db, "tech").await.unwrap().unwrap().id;
    let day = if n == 1 { "2030-03-04" } else { "2030-03-05" };
    let (s, v) = app
        .post_json(
            &app.token("engineer").await,
            "/api/v1/trips",
            &json!({"trip_date": day, "staff_ids": [tech], "stops": stops}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    (v["id"].as_i64().unwrap(), v["number"].as_str().unwrap().to_owned())
}

async fn trip_page_is_flat(backend: Backend) {
    let (url, pg) = common::fresh_database(backend).await;
    let app = TestApp::boot(backend, &url).await;
    let (small, small_no) = trip_with(&app, 1, "W1").await;
    let (big, big_no) = trip_with(&app, 8, "W8").await;
    for user in ["engineer", "tech", "agent"] {
        let (c, _) = app.browser(user).await;
        let one = statements_of(&app, &c, &format!("/trips/{small}"), &small_no).await;
        let eight = statements_of(&app, &c, &format!("/trips/{big}"), &big_no).await;
        assert!(one > 0 && one <= 12, "{backend:?}, {user}: {one} statements for one trip page");
        assert_eq!(one, eight, "{backend:?}, {user}: a trip of 8 stops runs as many statements as one of 1 ({one})");
        println!("{backend:?} {user}: {one} statements per trip page");
    }
    app.db.close().await;
    if let Some((admin, name)) = pg {
        common::drop_database(&admin, &name).await;
    }
}

/// A group of new tickets (group commit) goes to the database in a fixed number of trips,
/// whatever it holds: each is a hand-off between the async side and the database (SQLite's
/// thread, PostgreSQL's socket) in the one serial chain every create waits on.
async fn group_create_is_few_trips(backend: Backend) {
    let (url, pg) = common::fresh_database(backend).await;
    let app = TestApp::boot(backend, &url).await;
    let school = aftercare_store::customers::get(&app.db, app.school1).await.unwrap();
    let now = chrono::Utc::now();
    let items: Vec<_> = (0..5)
        .map(|i| {
            let t = aftercare_store::tickets::TicketWrite {
                description: "三楼办公室全部断网".into(),
                reporter_name: Some("王老师".into()),
                ..common::ticket_write(school.id, (&school.name, &school.town), &format!("第 {i} 台交换机断网"), now)
            };
            (aftercare_store::Writer::system(), t)
        })
        .collect();
    // The first group prepares its statements; the second is the one that repeats.
    aftercare_store::tickets::create_many(&app.db, &items[..2]).await.unwrap();
    let before = STATEMENTS.load(Ordering::SeqCst);
    LOG.lock().unwrap().clear();
    let made = aftercare_store::tickets::create_many(&app.db, &items).await.unwrap();
    assert_eq!(made.len(), 5);
    let n = STATEMENTS.load(Ordering::SeqCst) - before;
    let log = LOG.lock().unwrap().join("\n");
    // SQLite: the counter (with the next id), then the rows; PostgreSQL: one statement.
    let most = if backend == Backend::Sqlite { 2 } else { 1 };
    assert!(n <= most, "{backend:?}: a group of 5 new tickets took {n} statements:\n{log}");
    println!("{backend:?}: {n} statements per group of new tickets\n{log}");
    app.db.close().await;
    if let Some((admin, name)) = pg {
        common::drop_database(&admin, &name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_page_statements_do_not_grow_with_its_equipment() {
    let subscriber = tracing_subscriber::registry().with(CountStatements);
    tracing::subscriber::set_global_default(subscriber).unwrap();
    ticket_page_is_flat(Backend::Sqlite).await;
    inspection_page_is_flat(Backend::Sqlite).await;
    trip_page_is_flat(Backend::Sqlite).await;
    group_create_is_few_trips(Backend::Sqlite).await;
    // On PostgreSQL too when a server is given (CI sets it; see common::PG_HINT).
    if std::env::var("AFTERCARE_TEST_POSTGRES_URL").is_ok() {
        ticket_page_is_flat(Backend::Postgres).await;
        inspection_page_is_flat(Backend::Postgres).await;
        trip_page_is_flat(Backend::Postgres).await;
        group_create_is_few_trips(Backend::Postgres).await;
    }
}

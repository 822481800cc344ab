//! `cargo bench --bench tickets`: work orders at scale. Ticket creation through the HTTP API
//! (tickets/s and p99 at concurrency 1, 16 and 200, the server's resident memory idle and
//! under that load, then a kill -9 to check every answered write survived), the filtered
//! ticket list and a ticket page with a 200-event timeline, with 1,000,000 tickets — on
//! SQLite, and on PostgreSQL when AFTERCARE_BENCH_POSTGRES_URL names a database server
//! (`postgres://postgres@127.0.0.1:5432/postgres`; the bench creates and keeps its own
//! database `aftercare_bench_tickets` there).
//!
//! Sizes: AFTERCARE_BENCH_TICKETS (1,000,000), AFTERCARE_BENCH_CREATES (4,000 per run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{concurrently, count, env_usize, exec, pct, post_concurrently, ready, rss_kib, rss_peak, serve, token};

use aftercare_domain::users::UserInput;
use aftercare_store::Db;
use chrono::{Duration as CDuration, SecondsFormat, Utc};
use serde_json::json;
use std::time::Instant;

const SCHOOLS: usize = 500;
const TOWNS: [&str; 8] = ["城关镇", "蓉城镇", "新河镇", "木镇镇", "庙前镇", "杨田镇", "陵阳镇", "酉华镇"];
const SYSTEMS: [&str; 6] = ["network", "server_room", "surveillance", "classroom", "cloud", "broadcast"];
/// A department with years of history: almost everything is closed; 2% is still open.
const OPEN: [&str; 5] = ["new", "triage", "scheduled", "in_progress", "resolved"];

/// The URL of the i-th request of a scenario.
type UrlOf<'a> = Box<dyn Fn(usize) -> String + 'a>;

/// Schools, users and `n` tickets written in bulk (generated values only, so literal SQL),
/// plus one ticket with a 200-event timeline. Returns that ticket's id.
async fn build(db: &Db, n: usize) -> i64 {
    // The bench is one user writing thousands a second: lift the write limit (also on a
    // database built by an earlier run).
    for key in [aftercare_service::rate::STAFF_KEY, aftercare_service::rate::SCHOOL_KEY] {
        aftercare_store::settings::set_setting(db, &aftercare_store::Writer::system(), key, "0").await.unwrap();
    }
    let svc = aftercare_service::Services::new(db.clone());
    if count(db, "SELECT COUNT(*) FROM customers").await == 0 {
        let w = aftercare_store::Writer::system();
        let customers: Vec<_> = (0..SCHOOLS)
            .map(|i| aftercare_domain::customers::NewCustomer {
                name: format!("{}第{i}小学", TOWNS[i % 8]),
                code: format!("T-{i:04}"),
                county: "青阳县".into(),
                town: TOWNS[i % 8].into(),
                address: None,
                travel_minutes: Some(30),
                contacts: Vec::new(),
            })
            .collect();
        aftercare_store::customers::create_many(db, &w, &customers).await.unwrap();
        for (name, role) in [("agent", "agent"), ("engineer", "engineer"), ("tech", "technician")] {
            let input = UserInput {
                username: Some(name.into()),
                password: Some(format!("{name}-password")),
                roles: Some(vec![role.into()]),
                ..Default::default()
            };
            svc.create_user(None, &input).await.unwrap();
        }
    }
    let have = count(db, "SELECT COUNT(*) FROM tickets").await as usize;
    if have < n {
        let started = Instant::now();
        let base = Utc::now() - CDuration::days(400);
        let ts = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
        let ids: Vec<i64> = match db {
            Db::Sqlite(p) => sqlx::query_scalar("SELECT id FROM customers ORDER BY id").fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar("SELECT id FROM customers ORDER BY id").fetch_all(p).await.unwrap(),
        };
        for chunk_start in (have..n).step_by(1000) {
            let rows: Vec<String> = (chunk_start..(chunk_start + 1000).min(n))
                .map(|i| {
                    let created = base + CDuration::seconds(i as i64 * 30);
                    let status = if i % 50 == 0 { OPEN[(i / 50) % OPEN.len()] } else { "closed" };
                    format!(
                        "('GDB{i:08}', {}, '{}', '第 {i} 号故障', '', 'phone', 'normal', '{status}', '{}', '{}', '{}', '{}', '{}', 1)",
                        ids[i % ids.len()],
                        SYSTEMS[i % 6],
                        ts(created + CDuration::hours(2)),
                        ts(created + CDuration::hours(48)),
                        ts(created + CDuration::hours(72)),
                        ts(created),
                        ts(created),
                    )
                })
                .collect();
            exec(
                db,
                format!(
                    "INSERT INTO tickets (number, customer_id, system, title, description, source, priority, status, respond_due, arrive_due, resolve_due, created_at, updated_at, version) VALUES {}",
                    rows.join(",")
                ),
            )
            .await;
        }
        // A department with years of history flagged its late tickets as each fell due: the
        // SLA sweep does that here, before the server starts, so that its first minute is
        // not a backlog of 20,000 breaches holding the writer while the creates are timed
        // (p99 208 ms at concurrency 16), nor leaves the visibility map torn on PostgreSQL.
        let flagged = svc.check_sla(Utc::now()).await.unwrap();
        println!("the SLA sweep flagged {flagged} late tickets of the history");
        // What autovacuum would do on a live database: statistics and the visibility map.
        if let Db::Postgres(_) = db {
            exec(db, "VACUUM ANALYZE").await;
        }
        println!("generated {} tickets in {:.1}s", n - have, started.elapsed().as_secs_f64());
    }
    // The ticket with a long timeline: 200 comments through the store's own path.
    let hot: Option<i64> = match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT id FROM tickets WHERE number = 'GDBHOT'").fetch_optional(p).await.unwrap()
        }
        Db::Postgres(p) => {
            sqlx::query_scalar("SELECT id FROM tickets WHERE number = 'GDBHOT'").fetch_optional(p).await.unwrap()
        }
    };
    if let Some(id) = hot {
        return id;
    }
    exec(db, "UPDATE tickets SET number = 'GDBHOT' WHERE id = (SELECT MAX(id) FROM tickets)").await;
    let id: i64 = match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT id FROM tickets WHERE number = 'GDBHOT'").fetch_one(p).await.unwrap()
        }
        Db::Postgres(p) => {
            sqlx::query_scalar("SELECT id FROM tickets WHERE number = 'GDBHOT'").fetch_one(p).await.unwrap()
        }
    };
    let w = aftercare_store::Writer { user_id: None, name: "bench".into(), tz: aftercare_store::DEFAULT_TZ };
    for k in 0..200 {
        let t = aftercare_store::tickets::get(db, id).await.unwrap();
        let change = aftercare_store::tickets::TicketChange {
            events: vec![aftercare_store::tickets::NewEvent {
                note: Some(format!("第 {k} 条备注：学校来电催单")),
                ..aftercare_store::tickets::NewEvent::new(aftercare_domain::tickets::EventKind::Comment)
            }],
            ..Default::default()
        };
        aftercare_store::tickets::update(db, &w, id, t.version, &change, Utc::now()).await.unwrap();
    }
    id
}

/// The i-th ticket of a task.
fn ticket_body(customer: i64, t: usize, i: usize) -> serde_json::Value {
    json!({"customer_id": customer, "system": "network", "title": format!("压测工单 {t}-{i}"), "description": "交换机端口不通"})
}

async fn latency(client: &reqwest::Client, urls: impl Fn(usize) -> String, n: usize, auth: Option<&str>) -> (f64, f64) {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let s = Instant::now();
        let mut req = client.get(urls(i));
        if let Some(t) = auth {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        assert!(r.status().is_success(), "{}", urls(i));
        let _ = r.bytes().await;
        lat.push(s.elapsed());
    }
    lat.sort();
    (pct(&lat, 0.5), pct(&lat, 0.99))
}

/// Waits (at most two minutes) until PostgreSQL's autovacuum has taken in the tickets just
/// created, as it would long before a department's next list after such a burst (after the
/// table's thresholds, migration 0029's 1,000 + 0.2% new rows): the lists are then measured on a table whose
/// visibility map is kept, not on the pages 13,000 inserts have just marked. A server run
/// with `autovacuum = off` (some CI machines) gets that vacuum from here instead, and the
/// answer says so.
async fn autovacuum_caught_up(url: &str) -> String {
    let db = Db::connect(url).await.unwrap();
    exec(&db, "CREATE EXTENSION IF NOT EXISTS pg_visibility").await;
    let marked = "SELECT COUNT(*) FROM pg_visibility_map('tickets') WHERE NOT all_visible";
    let before = count(&db, marked).await;
    let started = Instant::now();
    let on = count(&db, "SELECT COUNT(*) FROM pg_settings WHERE name = 'autovacuum' AND setting = 'on'").await == 1;
    // The table's own thresholds (migration 0029), else the server's.
    let setting = |name: &str| {
        format!(
            "COALESCE((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions) \
             WHERE option_name = '{name}'), current_setting('{name}')::float8)"
        )
    };
    let pending = format!(
        "SELECT COALESCE((SELECT s.n_ins_since_vacuum FROM pg_stat_user_tables s \
         JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'tickets' \
         AND s.n_ins_since_vacuum > {} + {} * c.reltuples), 0)",
        setting("autovacuum_vacuum_insert_threshold"),
        setting("autovacuum_vacuum_insert_scale_factor")
    );
    let how = if on {
        while count(&db, &pending).await > 0 && started.elapsed() < std::time::Duration::from_secs(120) {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        if count(&db, &pending).await == 0 { "autovacuum caught up" } else { "autovacuum still behind" }
    } else {
        exec(&db, "VACUUM tickets").await;
        "autovacuum is off on this server: the bench ran `VACUUM tickets` as autovacuum would"
    };
    let after = count(&db, marked).await;
    db.close().await;
    format!(
        "PostgreSQL: {how} after {:.0} s; tickets' pages not marked all-visible: {before} before, {after} after",
        started.elapsed().as_secs_f64()
    )
}

async fn run(label: &str, url: &str, n: usize, creates_n: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let hot = build(&db, n).await;
    let customer: i64 = count(&db, "SELECT MIN(id) FROM customers").await;
    db.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(32)
        .build()
        .unwrap();
    let mut server = serve(url, port);
    ready(&client, &base).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let rss_idle = rss_kib(server.id());
    let t = token(&client, &base, "agent").await;

    println!("\n## {label}: {n} tickets\n");
    let before = {
        let db = Db::connect(url).await.unwrap();
        let c = count(&db, "SELECT COUNT(*) FROM tickets").await;
        db.close().await;
        c
    };
    let create_url = format!("{base}/api/v1/tickets");
    let body = move |t, i| ticket_body(customer, t, i);
    let (rate1, p99_1, ok1) = post_concurrently(&client, &create_url, &t, 1, creates_n / 4, body).await;
    let last_before_16 = {
        let db = Db::connect(url).await.unwrap();
        let c = count(&db, "SELECT MAX(id) FROM tickets").await;
        db.close().await;
        c
    };
    let (rate16, p99_16, ok16) = post_concurrently(&client, &create_url, &t, 16, creates_n / 16, body).await;
    // Each group commit writes its audit entries with one timestamp: counting those counts
    // the commits; with WAL + synchronous=FULL each waits for an fsync of the WAL, which
    // commits waiting together share (store::durable).
    let groups = {
        let db = Db::connect(url).await.unwrap();
        let c = count(
            &db,
            &format!("SELECT COUNT(DISTINCT at) FROM audit_log WHERE entity = 'ticket' AND action = 'create' AND entity_id > {last_before_16}"),
        )
        .await;
        db.close().await;
        c
    };
    let durability = if url.starts_with("postgres") {
        "PostgreSQL".to_owned()
    } else {
        format!(
            "SQLite synchronous={}",
            std::env::var("AFTERCARE_SQLITE_SYNCHRONOUS").unwrap_or_else(|_| "full".into())
        )
    };
    println!("| ticket creation through the API ({durability}) | tickets/s | p99 ms |\n|---|---|---|");
    println!("| concurrency 1 ({ok1} tickets) | {rate1:.0} | {p99_1:.2} |");
    println!("| concurrency 16 ({ok16} tickets) | {rate16:.0} | {p99_16:.2} |");
    println!(
        "\nconcurrency 16: {groups} group commits ({:.1} tickets per commit, {:.0} commits/s{})",
        ok16 as f64 / groups.max(1) as f64,
        groups as f64 * rate16 / ok16.max(1) as f64,
        if durability.starts_with("SQLite synchronous=full") { "; at most one WAL fsync each" } else { "" }
    );

    // Memory under load: 200 connections creating at once, the server's resident size
    // sampled every 50 ms.
    let rss_before_200 = rss_kib(server.id());
    let (stop, peak) = rss_peak(server.id());
    let (rate200, p99_200, ok200) = post_concurrently(&client, &create_url, &t, 200, creates_n / 100, body).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = peak.await.unwrap();
    println!("| concurrency 200 ({ok200} tickets) | {rate200:.0} | {p99_200:.2} |");
    println!(
        "\nserver RSS: {:.1} MB idle after start, {:.1} MB after the creates at 1 and 16, peak {:.1} MB during 200 connections of creates, {:.1} MB after",
        rss_idle as f64 / 1024.0,
        rss_before_200 as f64 / 1024.0,
        peak as f64 / 1024.0,
        rss_kib(server.id()) as f64 / 1024.0
    );

    // kill -9 the instant after the last answer, then count.
    server.kill().unwrap();
    server.wait().unwrap();
    let after = {
        let db = Db::connect(url).await.unwrap();
        let c = count(&db, "SELECT COUNT(*) FROM tickets").await;
        db.close().await;
        c
    };
    println!(
        "\nkill -9 after the last answer: {} of {} answered creates found after restart",
        after - before,
        ok1 + ok16 + ok200
    );
    assert_eq!((after - before) as usize, ok1 + ok16 + ok200, "every answered write survives");

    let mut server = serve(url, port);
    ready(&client, &base).await;
    let page = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", "agent"), ("password", "agent-password"), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    println!("\n| with {n} tickets | p50 ms | p99 ms |\n|---|---|---|");
    let lists: [(&str, UrlOf); 5] = [
        (
            "ticket list page, status filter",
            Box::new(|i| {
                format!(
                    "{base}/tickets?status={}&page={}",
                    ["in_progress", "scheduled", "new", "resolved"][i % 4],
                    1 + i % 20
                )
            }),
        ),
        (
            "ticket list page, town + system",
            Box::new(|i| format!("{base}/tickets?town={}&system={}", TOWNS[i % 8], SYSTEMS[i % 6])),
        ),
        // The history gives a town's schools the systems of one parity only (school k is in
        // town k % 8 and its tickets' systems follow k % 2): these pairs match nothing.
        (
            "ticket list page, town + a system it never had",
            Box::new(|i| format!("{base}/tickets?town={}&system={}", TOWNS[i % 8], SYSTEMS[(i + 1) % 6])),
        ),
        ("ticket list page, overdue view", Box::new(|_| format!("{base}/tickets?view=overdue"))),
        ("ticket page with a 200-event timeline", Box::new(|_| format!("{base}/tickets/{hot}"))),
    ];
    for (name, url) in lists {
        let (p50, p99) = latency(&client, url, 500, None).await;
        println!("| {name} | {p50:.2} | {p99:.2} |");
    }
    let (p50, p99) = latency(
        &client,
        |i| format!("{base}/api/v1/tickets?status=closed&town={}&per_page=25", TOWNS[i % 8]),
        500,
        Some(&t),
    )
    .await;
    println!("| API list, status + town | {p50:.2} | {p99:.2} |");
    let at_once = |when: &'static str| {
        let (client, list_base, token) = (client.clone(), base.clone(), t.clone());
        async move {
            let (rate, lat) = concurrently(&client, 16, 100, reqwest::StatusCode::OK, move |c, k, i| {
                let town = TOWNS[(k + i) % 8];
                c.get(format!("{list_base}/api/v1/tickets?status=closed&town={town}&per_page=25")).bearer_auth(&token)
            })
            .await;
            let (p50, p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
            println!("| API list, status + town, 16 at once{when} ({rate:.0} lists/s) | {p50:.2} | {p99:.2} |");
        }
    };
    if url.starts_with("postgres") {
        at_once(", right after the creates").await;
        let vacuum = autovacuum_caught_up(url).await;
        at_once(", after the vacuum").await;
        println!("\n{vacuum}");
    } else {
        at_once("").await;
    }
    println!("\nserver RSS after the list runs: {:.1} MB", rss_kib(server.id()) as f64 / 1024.0);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::main]
async fn main() {
    let n = env_usize("AFTERCARE_BENCH_TICKETS", 1_000_000);
    let creates_n = env_usize("AFTERCARE_BENCH_CREATES", 4000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    run("SQLite", &format!("sqlite://{}/tickets-{n}.db", dir.display()), n, creates_n).await;
    if let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL") {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let _ = sqlx::query("CREATE DATABASE aftercare_bench_tickets").execute(&pool).await;
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_tickets"), n, creates_n).await;
    }
}

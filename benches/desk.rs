//! `cargo bench --bench desk`: the service desk at county scale. The screen pop (who is
//! calling: school, person, equipment, open tickets, recent contacts) looked up by phone
//! number through the HTTP API with 5,000 schools and 50,000 contact records, and PBX call
//! events through `POST /api/v1/telephony/calls` at concurrency 16 — events/s, p99, and a
//! kill -9 right after the last answer to count that every answered event was kept. On
//! SQLite, and on PostgreSQL when AFTERCARE_BENCH_POSTGRES_URL names a server (the bench
//! creates and keeps its own database `aftercare_bench_desk` there).
//!
//! Sizes: AFTERCARE_BENCH_SCHOOLS (5,000), AFTERCARE_BENCH_CONTACTS (50,000),
//! AFTERCARE_BENCH_CALLS (8,000 per run), AFTERCARE_BENCH_REQUESTS (1,000 lookups).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{count, env_usize, pct, post_concurrently, ready, serve, token};

use aftercare_domain::users::UserInput;
use aftercare_store::Db;
use aftercare_store::contacts::ContactWrite;
use chrono::{Duration as CDuration, Utc};
use serde_json::{Value, json};
use std::time::Instant;

const TOWNS: [&str; 8] = ["城关镇", "蓉城镇", "新河镇", "木镇镇", "庙前镇", "杨田镇", "陵阳镇", "酉华镇"];
const CATEGORIES: [&str; 5] = ["consultation", "repair", "repair", "other", "suggestion"];

/// The school contact person's number of school `i`.
fn phone(i: usize) -> String {
    format!("139{:08}", i * 7 + 1)
}

/// Schools with a contact person each, 8 pieces of equipment each, users, and `contacts`
/// contact records spread over the schools' numbers, all through the store's own paths.
async fn build(db: &Db, schools: usize, contacts: usize) {
    // The bench is one PBX posting thousands of calls a second: lift the write limit
    // (also on a database built by an earlier run), as the other benches do.
    for key in [aftercare_service::rate::STAFF_KEY, aftercare_service::rate::SCHOOL_KEY] {
        aftercare_store::settings::set_setting(db, &aftercare_store::Writer::system(), key, "0").await.unwrap();
    }
    let svc = aftercare_service::Services::new(db.clone());
    let w = aftercare_store::Writer::system();
    if count(db, "SELECT COUNT(*) FROM customers").await == 0 {
        let started = Instant::now();
        for chunk in (0..schools).collect::<Vec<_>>().chunks(500) {
            let customers: Vec<_> = chunk
                .iter()
                .map(|&i| aftercare_domain::customers::NewCustomer {
                    name: format!("{}第{i}小学", TOWNS[i % 8]),
                    code: format!("D-{i:05}"),
                    county: "青阳县".into(),
                    town: TOWNS[i % 8].into(),
                    address: None,
                    travel_minutes: Some(30),
                    contacts: vec![aftercare_domain::customers::NewContact {
                        name: format!("王老师{i}"),
                        title: Some("电教管理员".into()),
                        phone: Some(phone(i)),
                        email: None,
                        im: None,
                    }],
                })
                .collect();
            let ids = aftercare_store::customers::create_many(db, &w, &customers).await.unwrap();
            let equipment: Vec<_> = ids
                .iter()
                .flat_map(|&c| {
                    (0..8).map(move |k| aftercare_domain::equipment::NewEquipment {
                        customer_id: aftercare_domain::CustomerId(c),
                        system: aftercare_domain::System::ALL[k % 6],
                        kind: "交换机".into(),
                        brand: None,
                        model: None,
                        serial_no: format!("DSK-{c}-{k}"),
                        location: Some(format!("{k} 号教室")),
                        installed_on: None,
                        warranty_until: None,
                        critical: k == 0,
                        status: aftercare_domain::equipment::EquipmentStatus::InService,
                    })
                })
                .collect();
            aftercare_store::equipment::create_many(db, &w, &equipment).await.unwrap();
        }
        for (name, role) in [("agent", "agent"), ("pbx", "agent"), ("manager", "manager")] {
            let input = UserInput {
                username: Some(name.into()),
                password: Some(format!("{name}-password")),
                roles: Some(vec![role.into()]),
                ..Default::default()
            };
            svc.create_user(None, &input).await.unwrap();
        }
        println!("generated {schools} schools in {:.1}s", started.elapsed().as_secs_f64());
    }
    let have = count(db, "SELECT COUNT(*) FROM contacts").await as usize;
    if have < contacts {
        let started = Instant::now();
        let ids: Vec<i64> = match db {
            Db::Sqlite(p) => sqlx::query_scalar("SELECT id FROM customers ORDER BY id").fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar("SELECT id FROM customers ORDER BY id").fetch_all(p).await.unwrap(),
        };
        let base = Utc::now() - CDuration::days(365);
        for chunk in (have..contacts).collect::<Vec<_>>().chunks(1000) {
            let items: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let school = i % ids.len();
                    let at = base + CDuration::seconds(i as i64 * 600);
                    let k = ContactWrite {
                        channel: aftercare_domain::contacts::Channel::Phone,
                        direction: aftercare_domain::contacts::Direction::Inbound,
                        category: aftercare_domain::contacts::Category::parse(CATEGORIES[i % 5]).unwrap_or_default(),
                        customer_id: Some(ids[school]),
                        caller_name: Some(format!("王老师{school}")),
                        caller_phone: Some(phone(school)),
                        urgency: aftercare_domain::contacts::Urgency::Normal,
                        content: format!("第 {i} 次来电：班班通投影机无信号"),
                        received_at: at,
                        answered: true,
                        answered_at: Some(at),
                        now: at,
                        ..Default::default()
                    };
                    (w.clone(), k)
                })
                .collect();
            aftercare_store::contacts::create_many(db, &items).await.unwrap();
        }
        db.optimize().await.unwrap();
        println!("generated {} contacts in {:.1}s", contacts - have, started.elapsed().as_secs_f64());
    }
}

/// The i-th of a task's call events in run `run`; a third of them missed.
fn call_event(schools: usize, run: i64, t: usize, i: usize) -> serde_json::Value {
    let n = t * 1_000_000 + i;
    let at = Utc::now() - CDuration::seconds(60);
    let mut ev = json!({"caller": phone((n * 13) % schools), "callee": "0566-5550000", "started_at": at,
        "ended_at": at + CDuration::seconds(45), "call_id": format!("bench-{run}-{n}")});
    if !n.is_multiple_of(3) {
        ev["answered_at"] = json!(at + CDuration::seconds(6));
        ev["agent_username"] = json!("agent");
    }
    ev
}

async fn run(label: &str, url: &str, schools: usize, contacts: usize, calls_n: usize, requests: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    build(&db, schools, contacts).await;
    let port = 20000 + (std::process::id() % 20000) as u16;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = serve(url, port);
    ready(&client, &base).await;
    let agent = token(&client, &base, "agent").await;
    println!(
        "\n## {label}: {schools} schools, {} contact records\n",
        count(&db, "SELECT COUNT(*) FROM contacts").await
    );

    // Screen pop: random known numbers, one at a time, as an agent's desk asks.
    let mut lat = Vec::with_capacity(requests);
    for i in 0..requests {
        let number = phone((i * 7919) % schools);
        let s = Instant::now();
        let r =
            client.get(format!("{base}/api/v1/desk/lookup?phone={number}")).bearer_auth(&agent).send().await.unwrap();
        assert!(r.status().is_success());
        let v: Value = r.json().await.unwrap();
        assert!(v["customer"]["id"].is_i64(), "{number} popped nobody");
        lat.push(s.elapsed());
    }
    lat.sort();
    println!("| measure | p50 ms | p99 ms |\n|---|---|---|");
    println!(
        "| screen pop by phone number (API, {requests} lookups) | {:.2} | {:.2} |",
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );

    // Telephony: 16 concurrent PBX connections, then kill -9 the instant the last answer is in.
    let pbx = token(&client, &base, "pbx").await;
    let before = count(&db, "SELECT COUNT(*) FROM contacts").await;
    // Each run's call ids differ: they carry the number of records the run started with.
    let calls_url = format!("{base}/api/v1/telephony/calls");
    let events = move |t, i| call_event(schools, before, t, i);
    let (rate, p99, answered) = post_concurrently(&client, &calls_url, &pbx, 16, calls_n / 16, events).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let db2 = Db::connect(url).await.unwrap();
    let after = count(&db2, "SELECT COUNT(*) FROM contacts").await;
    println!("\n| telephony events through the API | events/s | p99 ms |\n|---|---|---|");
    println!("| concurrency 16 ({answered} events, a third missed) | {rate:.0} | {p99:.2} |");
    println!("\nkill -9 after the last answer: {} of {answered} answered events found after restart", after - before);
}

#[tokio::main]
async fn main() {
    let schools = env_usize("AFTERCARE_BENCH_SCHOOLS", 5000);
    let contacts = env_usize("AFTERCARE_BENCH_CONTACTS", 50_000);
    let calls_n = env_usize("AFTERCARE_BENCH_CALLS", 8000);
    let requests = env_usize("AFTERCARE_BENCH_REQUESTS", 1000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    run(
        "SQLite",
        &format!("sqlite://{}/desk-{schools}-{contacts}.db", dir.display()),
        schools,
        contacts,
        calls_n,
        requests,
    )
    .await;
    if let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL") {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let _ = sqlx::query("CREATE DATABASE aftercare_bench_desk").execute(&pool).await;
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_desk"), schools, contacts, calls_n, requests).await;
    }
}

//! `cargo bench --bench sla`: 100,000 tickets opened within one minute breach their response
//! clock together; one SLA sweep (`Services::check_sla`, as the jobs worker runs it) flags
//! them all, writes a timeline entry each and tells each manager and engineer once per wave.
//! On SQLite, and on PostgreSQL when AFTERCARE_BENCH_POSTGRES_URL names a server (the bench
//! recreates its own database `aftercare_bench_sla` there each run).
//!
//! Size: AFTERCARE_BENCH_SLA_TICKETS (100,000).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aftercare_domain::users::UserInput;
use aftercare_store::Db;
use chrono::{Duration as CDuration, SecondsFormat, Utc};
use common::{count, env_usize, exec};
use std::time::Instant;

async fn run(label: &str, url: &str, n: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let svc = aftercare_service::Services::new(db.clone());
    let w = aftercare_store::Writer::system();
    let schools: Vec<_> = (0..50)
        .map(|i| aftercare_domain::customers::NewCustomer {
            name: format!("第{i}小学"),
            code: format!("S-{i:03}"),
            county: "青阳县".into(),
            town: "城关镇".into(),
            address: None,
            travel_minutes: Some(30),
            contacts: Vec::new(),
        })
        .collect();
    aftercare_store::customers::create_many(&db, &w, &schools).await.unwrap();
    for (name, role) in [("m1", "manager"), ("m2", "manager"), ("m3", "manager"), ("eng", "engineer")] {
        let input = UserInput {
            username: Some(name.into()),
            password: Some(format!("{name}-password")),
            roles: Some(vec![role.into()]),
            ..Default::default()
        };
        svc.create_user(None, &input).await.unwrap();
    }
    let eng = count(&db, "SELECT id FROM users WHERE username = 'eng'").await;
    let first = count(&db, "SELECT MIN(id) FROM customers").await;
    // Opened within one minute, three hours ago: the 2-hour response clock of every one ran out.
    let now = Utc::now();
    let opened = now - CDuration::hours(3);
    let ts = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
    let started = Instant::now();
    for chunk in (0..n).step_by(1000) {
        let rows: Vec<String> = (chunk..(chunk + 1000).min(n))
            .map(|i| {
                let at = opened + CDuration::milliseconds((i as i64 * 60_000) / n as i64);
                let engineer = if i % 3 == 0 { eng.to_string() } else { "NULL".into() };
                format!(
                    "('SLA{i:08}', {}, 'network', '断网 {i}', '', 'phone', 'normal', 'new', {engineer}, '{}', '{}', '{}', '{}', '{}', 1)",
                    first + (i % 50) as i64,
                    ts(at + CDuration::hours(2)),
                    ts(at + CDuration::hours(48)),
                    ts(at + CDuration::hours(72)),
                    ts(at),
                    ts(at),
                )
            })
            .collect();
        exec(
            &db,
            format!(
                "INSERT INTO tickets (number, customer_id, system, title, description, source, priority, status, engineer_id, respond_due, arrive_due, resolve_due, created_at, updated_at, version) VALUES {}",
                rows.join(",")
            ),
        )
        .await;
    }
    db.optimize().await.unwrap();
    if let Db::Postgres(_) = db {
        exec(&db, "VACUUM ANALYZE").await;
    }
    println!(
        "\n## {label}: {n} tickets opened within one minute (generated in {:.1}s)\n",
        started.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let flagged = svc.check_sla(now).await.unwrap();
    let sweep = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let again = svc.check_sla(now + CDuration::minutes(1)).await.unwrap();
    let idle = t.elapsed().as_secs_f64();
    let events = count(&db, "SELECT COUNT(*) FROM ticket_events WHERE kind = 'sla_breach'").await;
    let notes = count(&db, "SELECT COUNT(*) FROM notifications").await;
    let waves = n.div_ceil(aftercare_service::tickets::SLA_WAVE as usize);
    println!("| SLA sweep | result |\n|---|---|");
    println!("| tickets flagged by one sweep | {flagged} of {n} |");
    println!("| time of that sweep | {sweep:.2} s ({:.0} tickets/s) |", flagged as f64 / sweep);
    println!("| timeline entries written | {events} |");
    println!("| notifications written (3 managers + 1 engineer, {waves} waves) | {notes} |");
    println!("| the next sweep, nothing late | {:.1} ms ({again} flagged) |", idle * 1000.0);
    assert_eq!(flagged, n);
    assert_eq!(events as usize, n);
    db.close().await;
}

#[tokio::main]
async fn main() {
    let n = env_usize("AFTERCARE_BENCH_SLA_TICKETS", 100_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("sla-{n}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    run("SQLite", &format!("sqlite://{}", file.display()), n).await;
    if let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL") {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let _ = sqlx::query("DROP DATABASE IF EXISTS aftercare_bench_sla").execute(&pool).await;
        sqlx::query("CREATE DATABASE aftercare_bench_sla").execute(&pool).await.unwrap();
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_sla"), n).await;
    }
}

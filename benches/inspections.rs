//! `cargo bench --bench inspections`: planning a term for a county at once and the completion
//! report over a year of rounds. 5,000 schools in 40 towns, each with equipment in three
//! systems (network, surveillance, classroom); 40 technicians. Through the HTTP API on the
//! release server: `POST /api/v1/inspections/plan` for all 5,000 schools and 3 systems over
//! a term (every line generated from the checklist templates and the schools' equipment),
//! three terms in a year; then every round completed (a line in 20 a fault, one in 31 a
//! hazard) and `GET /api/v1/inspections/report` by town, by school and by phase timed.
//! On SQLite, and on PostgreSQL when AFTERCARE_BENCH_POSTGRES_URL names a server (the bench
//! drops and recreates its own database `aftercare_bench_inspections` there).
//!
//! Sizes: AFTERCARE_BENCH_SCHOOLS (5,000), AFTERCARE_BENCH_REQUESTS (200 per report).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aftercare_domain::customers::NewCustomer;
use aftercare_domain::equipment::{EquipmentStatus, NewEquipment};
use aftercare_domain::users::UserInput;
use aftercare_domain::{CustomerId, System};
use aftercare_store::{Db, Writer};
use common::{count, env_usize, exec, pct, ready, serve, token};
use serde_json::json;
use std::time::Instant;

const TOWNS: usize = 40;
const TECHNICIANS: usize = 40;
/// Per school: (system, kind, how many).
const KINDS: [(System, &str, usize); 5] = [
    (System::Network, "接入交换机", 3),
    (System::Network, "无线AP", 2),
    (System::Surveillance, "网络摄像机", 4),
    (System::Surveillance, "NVR", 1),
    (System::Classroom, "交互式一体机", 3),
];

async fn build(db: &Db, schools: usize) -> Vec<i64> {
    for key in [aftercare_service::rate::STAFF_KEY, aftercare_service::rate::SCHOOL_KEY] {
        aftercare_store::settings::set_setting(db, &Writer::system(), key, "0").await.unwrap();
    }
    let w = Writer::system();
    let customers: Vec<NewCustomer> = (0..schools)
        .map(|i| NewCustomer {
            name: format!("第{}镇第{i}小学", i % TOWNS),
            code: format!("S-{i:05}"),
            county: "青阳县".into(),
            town: format!("第{}镇", i % TOWNS),
            address: None,
            travel_minutes: Some(30),
            contacts: Vec::new(),
        })
        .collect();
    let mut ids = Vec::new();
    for chunk in customers.chunks(1000) {
        ids.extend(aftercare_store::customers::create_many(db, &w, chunk).await.unwrap());
    }
    let rows: Vec<NewEquipment> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            KINDS.iter().flat_map(move |(system, kind, n)| {
                (0..*n).map(move |j| NewEquipment {
                    customer_id: CustomerId(*id),
                    system: *system,
                    kind: (*kind).into(),
                    brand: None,
                    model: None,
                    serial_no: format!("IB{i:05}-{}-{kind}-{j}", system.as_str()),
                    location: Some(format!("教学楼 {} 楼", 1 + j)),
                    installed_on: chrono::NaiveDate::from_ymd_opt(2019 + (i % 6) as i32, 9, 1),
                    warranty_until: None,
                    critical: j == 0 && *kind == "NVR",
                    status: EquipmentStatus::InService,
                })
            })
        })
        .collect();
    for chunk in rows.chunks(2000) {
        aftercare_store::equipment::create_many(db, &w, chunk).await.unwrap();
    }
    let svc = aftercare_service::Services::new(db.clone());
    let mut people: Vec<(String, &str)> = vec![("engineer".into(), "engineer")];
    people.extend((0..TECHNICIANS).map(|t| (format!("tech{t}"), "technician")));
    for (name, role) in people {
        let input = UserInput {
            username: Some(name.clone()),
            password: Some(format!("{name}-password")),
            roles: Some(vec![role.into()]),
            ..Default::default()
        };
        svc.create_user(None, &input).await.unwrap();
    }
    ids
}

async fn run(label: &str, url: &str, schools: usize, requests: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let ids = build(&db, schools).await;
    let port = 20000 + (std::process::id() % 20000) as u16 + 11;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(600)).build().unwrap();
    let mut server = serve(url, port);
    ready(&client, &base).await;
    let eng = token(&client, &base, "engineer").await;
    println!("\n## {label}: {schools} schools in {TOWNS} towns, {TECHNICIANS} technicians\n");
    println!("| step | seconds | rounds | lines |\n|---|---|---|---|");
    // Three terms of 2026: spring, autumn, and a winter term (each ≥ 60 working days, room
    // for 40 × 3 × 60 = 7,200 rounds).
    for (from, until) in [("2026-02-23", "2026-06-26"), ("2026-09-01", "2026-11-27"), ("2026-11-30", "2027-02-26")] {
        let lines_before = count(&db, "SELECT COUNT(*) FROM inspection_items").await;
        let s = Instant::now();
        let r = client
            .post(format!("{base}/api/v1/inspections/plan"))
            .bearer_auth(&eng)
            .json(&json!({"customer_ids": ids, "systems": ["network", "surveillance", "classroom"],
                "planned_from": from, "planned_until": until}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        let took = s.elapsed().as_secs_f64();
        assert!(status.is_success(), "plan: {status} {body}");
        let lines = count(&db, "SELECT COUNT(*) FROM inspection_items").await - lines_before;
        println!(
            "| plan a term {from}…{until} (5,000 schools × 3 systems) | {took:.2} | {} | {lines} |",
            body["total"]
        );
    }
    // The year's rounds done: every line judged, a fault in 20, a hazard in 31.
    let s = Instant::now();
    exec(
        &db,
        "UPDATE inspection_items SET result = CASE WHEN id % 20 = 0 THEN 'fault' WHEN id % 31 = 0 THEN 'hazard' \
        ELSE 'ok' END",
    )
    .await;
    exec(
        &db,
        "UPDATE inspections SET status = 'completed', started_at = created_at, completed_at = created_at \
        WHERE planned_on < '2027-01-01'",
    )
    .await;
    exec(
        &db,
        "UPDATE inspection_items SET hazard_resolved_at = created_at FROM inspections i \
        WHERE i.id = inspection_items.inspection_id AND inspection_items.id % 62 = 0",
    )
    .await;
    // What each completion counts for the figures, through the same function.
    let rounds: Vec<i64> = match &db {
        Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT id FROM inspections WHERE status = 'completed'").fetch_all(p).await.unwrap()
        }
        Db::Postgres(p) => {
            sqlx::query_scalar("SELECT id FROM inspections WHERE status = 'completed'").fetch_all(p).await.unwrap()
        }
    };
    match &db {
        Db::Sqlite(p) => {
            let mut tx = p.begin().await.unwrap();
            for id in &rounds {
                aftercare_store::inspections::count_round(&mut *tx, *id).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        Db::Postgres(p) => {
            let mut tx = p.begin().await.unwrap();
            for id in &rounds {
                aftercare_store::inspections::count_round(&mut *tx, *id).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
    exec(
        &db,
        "UPDATE inspections SET hazards_resolved = (SELECT COUNT(*) FROM inspection_items x \
        WHERE x.inspection_id = inspections.id AND x.result = 'hazard' AND x.hazard_resolved_at IS NOT NULL)",
    )
    .await;
    if let Db::Postgres(p) = &db {
        sqlx::query("VACUUM ANALYZE").execute(p).await.unwrap();
    } else {
        exec(&db, "ANALYZE").await;
    }
    println!("\n(rounds marked completed in {:.1} s)\n", s.elapsed().as_secs_f64());
    let mut rows = Vec::new();
    for (name, path) in [
        ("completion by town, a year", "/api/v1/inspections/report?from=2026-01-01&until=2026-12-31&by=town"),
        ("completion by school, a year", "/api/v1/inspections/report?from=2026-01-01&until=2026-12-31&by=customer"),
        ("completion by phase, a year", "/api/v1/inspections/report?from=2026-01-01&until=2026-12-31&by=phase"),
        ("the overdue rounds (list, first page)", "/api/v1/inspections?scope=overdue"),
    ] {
        let mut lat = Vec::with_capacity(requests);
        for _ in 0..requests {
            let s = Instant::now();
            let r = client.get(format!("{base}{path}")).bearer_auth(&eng).send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let _ = r.bytes().await;
            lat.push(s.elapsed());
        }
        lat.sort();
        rows.push(format!("| {name} | {:.2} | {:.2} |", pct(&lat, 0.5), pct(&lat, 0.99)));
    }
    println!(
        "{} rounds, {} lines\n\n| report | p50 ms | p99 ms |\n|---|---|---|\n{}",
        count(&db, "SELECT COUNT(*) FROM inspections").await,
        count(&db, "SELECT COUNT(*) FROM inspection_items").await,
        rows.join("\n")
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::main]
async fn main() {
    let schools = env_usize("AFTERCARE_BENCH_SCHOOLS", 5000);
    let requests = env_usize("AFTERCARE_BENCH_REQUESTS", 200);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("inspections-{schools}.db"));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
    }
    run("SQLite", &format!("sqlite://{}", file.display()), schools, requests).await;
    if let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL") {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let _ = sqlx::query("DROP DATABASE IF EXISTS aftercare_bench_inspections WITH (FORCE)").execute(&pool).await;
        sqlx::query("CREATE DATABASE aftercare_bench_inspections").execute(&pool).await.unwrap();
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_inspections"), schools, requests).await;
    }
}

//! `cargo bench --bench trips`: the day's proposal and a month's form 6 in Excel.
//!
//! A county of 25 towns, 4 schools each, 10 to 95 minutes from the depot; 10 technicians
//! and one vehicle. 60 repairs scheduled on one day, filed in random order, each assigned
//! to one technician (a random one, as the phones rang); `GET /api/v1/trips/proposal` is
//! timed, and its road minutes are compared with the same jobs in ticket order and with
//! one trip per job. Then a month of trips for the 10 technicians (one a working day each,
//! three stops, departed, arrived and left, returned with odometer and costs, verified,
//! approved), and `/trips/export.xlsx?month=` (the month's sheet, per person and vehicle)
//! timed through the page as the manager. On SQLite, and on PostgreSQL when
//! AFTERCARE_BENCH_POSTGRES_URL names a server (the bench drops and recreates its own
//! database `aftercare_bench_trips` there).
//!
//! Sizes: AFTERCARE_BENCH_JOBS (60), AFTERCARE_BENCH_REQUESTS (200).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aftercare_domain::customers::NewCustomer;
use aftercare_domain::trips::{LeaveInput, StopAction, StopInput, TripAction, TripInput, VerifyInput};
use aftercare_domain::users::UserInput;
use aftercare_domain::{TripId, TripStopId};
use aftercare_service::Services;
use aftercare_service::trips::TripActionInput;
use aftercare_store::{Db, Writer};
use common::{env_usize, pct, ready, serve, token};
use serde_json::json;
use std::time::Instant;

const TOWNS: usize = 25;
const PER_TOWN: usize = 4;
const TECHNICIANS: usize = 10;
const DAY: &str = "2026-12-09";

/// A small deterministic generator (the same county every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

async fn build(db: &Db) -> (Services, Vec<i64>, Vec<i64>) {
    for key in [aftercare_service::rate::STAFF_KEY, aftercare_service::rate::SCHOOL_KEY] {
        aftercare_store::settings::set_setting(db, &Writer::system(), key, "0").await.unwrap();
    }
    let customers: Vec<NewCustomer> = (0..TOWNS * PER_TOWN)
        .map(|i| {
            let town = i / PER_TOWN;
            NewCustomer {
                name: format!("第{town}镇第{i}小学"),
                code: format!("S-{i:05}"),
                county: "青阳县".into(),
                town: format!("第{town:02}镇"),
                address: None,
                // Towns spread from 10 to 95 minutes out, schools a few minutes apart.
                travel_minutes: Some(10 + (town as i32 * 37) % 86 + (i % PER_TOWN) as i32 * 3),
                contacts: Vec::new(),
            }
        })
        .collect();
    let schools = aftercare_store::customers::create_many(db, &Writer::system(), &customers).await.unwrap();
    let svc = Services::new(db.clone());
    let mut people: Vec<(String, &str)> =
        vec![("engineer".into(), "engineer"), ("manager".into(), "manager"), ("agent".into(), "agent")];
    people.extend((0..TECHNICIANS).map(|t| (format!("tech{t}"), "technician")));
    let mut techs = Vec::new();
    for (name, role) in people {
        let input = UserInput {
            username: Some(name.clone()),
            password: Some(format!("{name}-password")),
            display_name: Some(name.clone()),
            roles: Some(vec![role.into()]),
            ..Default::default()
        };
        let u = svc.create_user(None, &input).await.unwrap();
        if role == "technician" {
            techs.push(u.id);
        }
    }
    (svc, schools, techs)
}

/// The day's jobs: `jobs` repairs scheduled through the API, in random order.
async fn schedule(client: &reqwest::Client, base: &str, schools: &[i64], techs: &[i64], jobs: usize) {
    let agent = token(client, base, "agent").await;
    let eng = token(client, base, "engineer").await;
    let mut rng = Lcg(7);
    for n in 0..jobs {
        let school = schools[rng.next(schools.len())];
        let tech = techs[rng.next(techs.len())];
        let t: serde_json::Value = client
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&agent)
            .json(&json!({"customer_id": school, "system": "network", "title": format!("断网 {n}"), "reporter_name": "老师"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = t["id"].as_i64().unwrap();
        for (action, body) in [
            ("accept", json!({})),
            ("diagnose", json!({"fault_type": "hardware", "diagnosis": "交换机端口故障", "plan": "更换交换机"})),
            ("schedule", json!({"technician_ids": [tech], "scheduled_at": format!("{DAY}T01:30:00Z")})),
        ] {
            let r = client
                .post(format!("{base}/api/v1/tickets/{id}/actions/{action}"))
                .bearer_auth(&eng)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{action}: {}", r.status());
        }
    }
}

/// A month of trips: each technician out every working day of November 2026 to three
/// schools, back with the odometer and costs, verified and approved.
async fn month(svc: &Services, schools: &[i64], techs: &[i64]) -> usize {
    let actor = |name: &str| {
        let name = name.to_owned();
        async move { svc.actor_by_username(&name).await.unwrap().unwrap() }
    };
    let (eng, mgr, agent) = (actor("engineer").await, actor("manager").await, actor("agent").await);
    let van = aftercare_domain::trips::VehicleInput {
        plate: Some("皖L·6F218".into()),
        name: Some("售后工程车".into()),
        ..Default::default()
    };
    let van = svc.save_vehicle(&mgr, None, &van, chrono::Utc::now()).await.unwrap().id;
    let mut rng = Lcg(11);
    let mut odometer = 40_000;
    let mut made = 0;
    for day in 2..=30 {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        if chrono::Datelike::weekday(&date).number_from_monday() > 5 {
            continue;
        }
        for (k, tech) in techs.iter().enumerate() {
            let me = actor(&format!("tech{k}")).await;
            let stops = (0..3)
                .map(|_| StopInput { customer_id: Some(schools[rng.next(schools.len())]), ..Default::default() })
                .fold(Vec::<StopInput>::new(), |mut v, s| {
                    if !v.iter().any(|x| x.customer_id == s.customer_id) {
                        v.push(s);
                    }
                    v
                });
            let input = TripInput {
                trip_date: Some(date.to_string()),
                staff_ids: Some(vec![*tech]),
                vehicle_id: (k == 0).then_some(van),
                transport: (k != 0).then(|| "private_car".into()),
                stops: Some(stops),
                ..Default::default()
            };
            let now = chrono::Utc::now();
            let t = svc.plan_trip(&eng, &input, now).await.unwrap();
            let id = TripId(t.trip.id);
            let go =
                TripActionInput { odometer: Some(odometer), reason: Some("均已带齐".into()), ..Default::default() };
            svc.trip_action(&me, id, TripAction::Depart, &go, now).await.unwrap();
            for s in &t.stops {
                let stop = TripStopId(s.id);
                svc.stop_action(&me, id, stop, StopAction::Arrive, &LeaveInput::default(), now).await.unwrap();
                let leave = LeaveInput { confirmed_by: Some("电教老师".into()), note: None };
                svc.stop_action(&me, id, stop, StopAction::Leave, &leave, now).await.unwrap();
                let call = VerifyInput { confirmed: Some(true), contact: Some("电教老师".into()), note: None };
                svc.verify_stop(&agent, id, stop, &call, now).await.unwrap();
            }
            odometer += 40 + rng.next(120) as i64;
            let back = TripActionInput {
                odometer: Some(odometer),
                costs: Some(vec![
                    aftercare_domain::trips::CostInput { kind: Some("fuel".into()), amount: Some(60.0) },
                    aftercare_domain::trips::CostInput { kind: Some("toll".into()), amount: Some(15.5) },
                ]),
                summary: Some("按计划完成".into()),
                ..Default::default()
            };
            svc.trip_action(&me, id, TripAction::Return, &back, now).await.unwrap();
            svc.trip_action(&mgr, id, TripAction::Approve, &TripActionInput::default(), now).await.unwrap();
            made += 1;
        }
    }
    made
}

/// A client signed in through the login form (the export is a page).
async fn page_client(base: &str, user: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let page = c.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let needle = "name=\"_csrf\" value=\"";
    let at = page.find(needle).unwrap() + needle.len();
    let csrf = page[at..].split('"').next().unwrap().to_owned();
    let password = format!("{user}-password");
    let form = [("username", user), ("password", password.as_str()), ("_csrf", csrf.as_str()), ("next", "/")];
    let r = c.post(format!("{base}/login")).form(&form).send().await.unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "login {}", r.status());
    c
}

async fn run(label: &str, url: &str, jobs: usize, requests: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let (svc, schools, techs) = build(&db).await;
    let s = Instant::now();
    let trips = month(&svc, &schools, &techs).await;
    let month_secs = s.elapsed().as_secs_f64();
    let port = 20000 + (std::process::id() % 20000) as u16 + 13;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(600)).build().unwrap();
    let mut server = serve(url, port);
    ready(&client, &base).await;
    schedule(&client, &base, &schools, &techs, jobs).await;
    let eng = token(&client, &base, "engineer").await;
    println!("\n## {label}: {TOWNS} towns × {PER_TOWN} schools, {TECHNICIANS} technicians, {jobs} jobs on {DAY}\n");
    let path = format!("{base}/api/v1/trips/proposal?date={DAY}");
    let mut lat = Vec::with_capacity(requests);
    let mut last = serde_json::Value::Null;
    for _ in 0..requests {
        let s = Instant::now();
        let r = client.get(&path).bearer_auth(&eng).send().await.unwrap();
        assert!(r.status().is_success(), "proposal: {}", r.status());
        last = r.json().await.unwrap();
        lat.push(s.elapsed());
    }
    lat.sort();
    let placed: usize = last["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["stops"].as_array().unwrap().iter().map(|s| s["jobs"].as_array().unwrap().len()).sum::<usize>())
        .sum();
    println!(
        "| proposal | p50 ms | p99 ms | trips | jobs placed | road min | ticket order min | one trip per job min |\n\
         |---|---|---|---|---|---|---|---|\n| {DAY} | {:.2} | {:.2} | {} | {placed}/{} | {} | {} | {} |",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        last["trips"].as_array().unwrap().len(),
        last["jobs"],
        last["road_minutes"],
        last["ticket_order_minutes"],
        last["one_trip_per_job_minutes"],
    );
    let mgr = page_client(&base, "manager").await;
    let mut lat = Vec::new();
    let mut size = 0;
    for _ in 0..requests.min(50) {
        let s = Instant::now();
        let r = mgr.get(format!("{base}/trips/export.xlsx?month=2026-11")).send().await.unwrap();
        assert!(r.status().is_success(), "export: {}", r.status());
        let b = r.bytes().await.unwrap();
        assert!(b.starts_with(b"PK"));
        size = b.len();
        lat.push(s.elapsed());
    }
    lat.sort();
    println!(
        "\n({trips} trips for the month written through the services in {month_secs:.1} s)\n\n\
         | month's Excel (form 6, per person, per vehicle) | p50 ms | p99 ms | bytes |\n|---|---|---|---|\n\
         | 2026-11, {TECHNICIANS} people, {trips} trips | {:.1} | {:.1} | {size} |",
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::main]
async fn main() {
    let jobs = env_usize("AFTERCARE_BENCH_JOBS", 60);
    let requests = env_usize("AFTERCARE_BENCH_REQUESTS", 200);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trips.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
    }
    run("SQLite", &format!("sqlite://{}", file.display()), jobs, requests).await;
    if let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL") {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let _ = sqlx::query("DROP DATABASE IF EXISTS aftercare_bench_trips WITH (FORCE)").execute(&pool).await;
        sqlx::query("CREATE DATABASE aftercare_bench_trips").execute(&pool).await.unwrap();
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_trips"), jobs, requests).await;
    }
}

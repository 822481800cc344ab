//! `cargo bench --bench soak`: tickets created continuously through the HTTP API at
//! concurrency 16 with realistic bodies (a school, one of its pieces of equipment, a fault
//! title, a description of a few sentences, a reporter and a phone number), for minutes,
//! from an empty database up to a large one. Every 10 seconds it prints one row: tickets so
//! far, tickets/s, p50, p99 and the slowest create of the window, the server's resident
//! memory, and on SQLite the size of the WAL. The question it answers: does the tail grow
//! with the data?
//!
//! SQLite always; PostgreSQL too when AFTERCARE_BENCH_POSTGRES_URL names a database server
//! (`postgres://postgres@127.0.0.1:5432/postgres`; the bench drops and recreates its own
//! database `aftercare_bench_soak` there). Each run starts from an empty database, unless
//! AFTERCARE_BENCH_SOAK_RESUME=1.
//!
//! Sizes: AFTERCARE_BENCH_SOAK_ROWS (stop after this many tickets; 1,000,000),
//! AFTERCARE_BENCH_SOAK_SECS (or after this many seconds; 900),
//! AFTERCARE_BENCH_SOAK_CONCURRENCY (16), AFTERCARE_BENCH_SOAK_ONLY (`sqlite` or `postgres`),
//! AFTERCARE_BENCH_SOAK_RESUME=1 (go on in the last run's database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{count, env_usize, pct, ready, rss_kib, serve, token};

use aftercare_domain::customers::NewCustomer;
use aftercare_domain::equipment::{EquipmentStatus, NewEquipment};
use aftercare_domain::users::UserInput;
use aftercare_domain::{CustomerId, System};
use aftercare_store::{Db, Writer};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SCHOOLS: usize = 500;
const PER_SCHOOL: usize = 8;
const TOWNS: [&str; 8] = ["城关镇", "蓉城镇", "新河镇", "木镇镇", "庙前镇", "杨田镇", "陵阳镇", "酉华镇"];
const KINDS: [(System, &str, &str, &str); 8] = [
    (System::Network, "接入交换机", "S5735-L24T4S-A", "交换机端口指示灯不亮，三楼办公室全部断网"),
    (System::Network, "无线AP", "AirEngine5761-11", "教学楼无线信号时有时无，学生平板频繁掉线"),
    (System::ServerRoom, "UPS", "C10KS", "机房 UPS 告警蜂鸣，面板显示电池故障"),
    (System::Surveillance, "网络摄像机", "DS-2CD3T46WDV3-I3", "校门口摄像机画面黑屏，录像中断"),
    (System::Surveillance, "NVR", "DS-7932N-R4", "硬盘录像机提示硬盘错误，回放失败"),
    (System::Classroom, "交互式一体机", "SEEWO-F86EA", "一体机开机后触摸失灵，无法上课"),
    (System::Cloud, "云终端", "RG-CT7800", "机房云终端批量无法连接桌面"),
    (System::Broadcast, "IP网络广播终端", "MAG6182", "课间铃声不响，广播终端离线"),
];
/// A create this slow is printed as it happens (to stderr, beside the server's own warnings
/// of slow write transactions), with when it began.
const SLOW: Duration = Duration::from_millis(200);
const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵"];

/// Schools with equipment, the users, and the write limits lifted (one user writes
/// thousands a second here). Returns each school's id with its equipment ids.
async fn build(db: &Db) -> Vec<(i64, Vec<i64>)> {
    for key in [aftercare_service::rate::STAFF_KEY, aftercare_service::rate::SCHOOL_KEY] {
        aftercare_store::settings::set_setting(db, &Writer::system(), key, "0").await.unwrap();
    }
    let w = Writer::system();
    let customers: Vec<NewCustomer> = (0..SCHOOLS)
        .map(|i| NewCustomer {
            name: format!("{}第{i}小学", TOWNS[i % 8]),
            code: format!("S-{i:04}"),
            county: "青阳县".into(),
            town: TOWNS[i % 8].into(),
            address: Some(format!("{}人民路 {} 号", TOWNS[i % 8], i % 300)),
            travel_minutes: Some(30),
            contacts: Vec::new(),
        })
        .collect();
    let ids = aftercare_store::customers::create_many(db, &w, &customers).await.unwrap();
    let rows: Vec<NewEquipment> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            (0..PER_SCHOOL).map(move |j| {
                let (system, kind, model, _) = KINDS[j];
                NewEquipment {
                    customer_id: CustomerId(*id),
                    system,
                    kind: kind.into(),
                    brand: Some("品牌".into()),
                    model: Some(model.into()),
                    serial_no: format!("SK{i:04}{j:02}"),
                    location: Some(format!("教学楼 {} 楼 {} 教室", 1 + j % 4, 100 + j)),
                    installed_on: None,
                    warranty_until: None,
                    critical: false,
                    status: EquipmentStatus::InService,
                }
            })
        })
        .collect();
    aftercare_store::equipment::create_many(db, &w, &rows).await.unwrap();
    let svc = aftercare_service::Services::new(db.clone());
    let input = UserInput {
        username: Some("agent".into()),
        password: Some("agent-password".into()),
        roles: Some(vec!["agent".into()]),
        ..Default::default()
    };
    svc.create_user(None, &input).await.unwrap();
    load(db).await
}

/// The schools `build` made, each with its equipment ids (also when resuming).
async fn load(db: &Db) -> Vec<(i64, Vec<i64>)> {
    let sql = "SELECT id FROM customers WHERE code LIKE 'S-%' ORDER BY id";
    let ids: Vec<i64> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    };
    let mut schools = Vec::with_capacity(ids.len());
    for id in ids {
        let sql = format!("SELECT id FROM equipment WHERE customer_id = {id} ORDER BY id");
        let equipment: Vec<i64> = match db {
            Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(p).await.unwrap(),
        };
        schools.push((id, equipment));
    }
    schools
}

/// The n-th ticket: what a school's caller reports, in a few sentences.
fn body(schools: &[(i64, Vec<i64>)], n: usize) -> serde_json::Value {
    let (school, equipment) = &schools[(n * 7919) % schools.len()];
    let j = (n / 3) % PER_SCHOOL;
    let (system, kind, _, fault) = KINDS[j];
    json!({
        "customer_id": school,
        "equipment_ids": [equipment[j]],
        "system": system.as_str(),
        "title": format!("{kind}故障：{}", &fault[..fault.char_indices().nth(12).map_or(fault.len(), |(i, _)| i)]),
        "description": format!(
            "{fault}。今天上午第{}节课开始出现，老师已重启设备两次仍未恢复。位置：教学楼 {} 楼 {} 教室。\
             请尽快安排技术员上门，联系人下午都在学校。来电编号 {n}。",
            1 + n % 7, 1 + j % 4, 100 + j
        ),
        "source": "phone",
        "reporter_name": format!("{}老师", SURNAMES[n % 8]),
        "reporter_phone": format!("139{:08}", (n * 104_729) % 100_000_000),
    })
}

fn wal_mib(url: &str) -> Option<f64> {
    let path = url.strip_prefix("sqlite://")?;
    std::fs::metadata(format!("{path}-wal")).ok().map(|m| m.len() as f64 / 1048576.0)
}

async fn run(label: &str, url: &str) {
    let rows_target = env_usize("AFTERCARE_BENCH_SOAK_ROWS", 1_000_000);
    let secs = env_usize("AFTERCARE_BENCH_SOAK_SECS", 900);
    let concurrency = env_usize("AFTERCARE_BENCH_SOAK_CONCURRENCY", 16);
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let resume = resuming();
    let (schools, before) = if resume {
        (load(&db).await, count(&db, "SELECT COUNT(*) FROM tickets").await as usize)
    } else {
        (build(&db).await, 0)
    };
    let schools = Arc::new(schools);
    db.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency * 2).build().unwrap();
    let mut server = serve(url, port);
    ready(&client, &base).await;
    let t = token(&client, &base, "agent").await;
    let pid = server.id();
    println!("\n## {label}: creates at concurrency {concurrency} until {rows_target} tickets or {secs} s\n");
    if resume {
        println!("resumed on the database of the last run: {before} tickets\n");
    }
    println!("idle RSS after start: {:.1} MB\n", rss_kib(pid) as f64 / 1024.0);
    println!(
        "| s | tickets | tickets/s | p50 ms | p99 ms | max ms | RSS MB | WAL MB |\n|---|---|---|---|---|---|---|---|"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(before));
    let done = Arc::new(AtomicUsize::new(before));
    let window = Arc::new(std::sync::Mutex::new(Vec::<Duration>::new()));
    let url_create = format!("{base}/api/v1/tickets");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url_create, t, stop, next, done, window, schools) = (
            client.clone(),
            url_create.clone(),
            t.clone(),
            stop.clone(),
            next.clone(),
            done.clone(),
            window.clone(),
            schools.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= before + rows_target {
                    break;
                }
                let b = body(&schools, n);
                let s = Instant::now();
                let r = client.post(&url_create).bearer_auth(&t).json(&b).send().await.unwrap();
                assert_eq!(r.status(), reqwest::StatusCode::CREATED);
                let _ = r.bytes().await;
                let took = s.elapsed();
                if took >= SLOW {
                    eprintln!(
                        "slow create: {:.0} ms, begun {:.1} s into the run",
                        took.as_secs_f64() * 1000.0,
                        (s - started).as_secs_f64()
                    );
                }
                window.lock().unwrap().push(took);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut all_p99 = Vec::new();
    let mut peak_rss = 0u64;
    let mut last = Instant::now();
    loop {
        let finished = tasks.iter().all(|h| h.is_finished());
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak_rss = peak_rss.max(rss_kib(pid));
        if last.elapsed() < Duration::from_secs(10) && !finished {
            continue;
        }
        let span = last.elapsed().as_secs_f64();
        last = Instant::now();
        let mut lat = std::mem::take(&mut *window.lock().unwrap());
        if !lat.is_empty() {
            lat.sort();
            let p99 = pct(&lat, 0.99);
            all_p99.push(p99);
            println!(
                "| {:.0} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.1} | {} |",
                started.elapsed().as_secs_f64(),
                done.load(Ordering::Relaxed),
                lat.len() as f64 / span,
                pct(&lat, 0.5),
                p99,
                pct(&lat, 1.0),
                rss_kib(pid) as f64 / 1024.0,
                wal_mib(url).map_or("–".into(), |m| format!("{m:.1}")),
            );
        }
        if finished {
            break;
        }
        if started.elapsed() >= Duration::from_secs(secs as u64) {
            stop.store(true, Ordering::Relaxed);
        }
    }
    for h in tasks {
        h.await.unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    let worst = all_p99.iter().cloned().fold(0.0, f64::max);
    println!(
        "\n{n} tickets ({} in this run) in {:.0} s ({:.0}/s); worst window p99 {worst:.2} ms; peak RSS {:.1} MB",
        n - before,
        started.elapsed().as_secs_f64(),
        (n - before) as f64 / started.elapsed().as_secs_f64(),
        peak_rss as f64 / 1024.0
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("RSS 2 s after the last create: {:.1} MB", rss_kib(pid) as f64 / 1024.0);
    server.kill().unwrap();
    server.wait().unwrap();
    let db = Db::connect(url).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM tickets").await as usize, n, "every answered create is there");
    db.close().await;
}

/// AFTERCARE_BENCH_SOAK_RESUME=1 goes on creating in the last run's database instead of an
/// empty one: after a rest, does a large database alone make the tail longer, or did
/// minutes of continuous writes?
fn resuming() -> bool {
    std::env::var("AFTERCARE_BENCH_SOAK_RESUME").is_ok_and(|v| v == "1")
}

#[tokio::main]
async fn main() {
    let only = std::env::var("AFTERCARE_BENCH_SOAK_ONLY").unwrap_or_default();
    if only != "postgres" {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("soak.db");
        if !resuming() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        run("SQLite", &format!("sqlite://{}", path.display())).await;
    }
    if only != "sqlite"
        && let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL")
    {
        if !resuming() {
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            sqlx::query("DROP DATABASE IF EXISTS aftercare_bench_soak WITH (FORCE)").execute(&pool).await.unwrap();
            sqlx::query("CREATE DATABASE aftercare_bench_soak").execute(&pool).await.unwrap();
            pool.close().await;
        }
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_soak")).await;
    }
}

//! `cargo bench --bench baseline`: start-up time on an existing database, idle memory,
//! and the equipment list page's latency with 5,000 schools and 200,000 pieces of
//! equipment on SQLite. Results go to docs/BENCHMARKS.md by hand.
//!
//! The generated database is kept in `target/bench/` and reused; delete it to rebuild.
//! Sizes can be changed with AFTERCARE_BENCH_SCHOOLS and AFTERCARE_BENCH_PER_SCHOOL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aftercare_domain::customers::NewCustomer;
use aftercare_domain::equipment::{EquipmentStatus, NewEquipment};
use aftercare_domain::{CustomerId, System};
use aftercare_store::{Db, Writer};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_aftercare");
const TOWNS: [&str; 8] = ["城关镇", "蓉城镇", "新河镇", "木镇镇", "庙前镇", "杨田镇", "陵阳镇", "酉华镇"];
const KINDS: [(System, &str, &str); 8] = [
    (System::Network, "接入交换机", "S5735-L24T4S-A"),
    (System::Network, "无线AP", "AirEngine5761-11"),
    (System::ServerRoom, "UPS", "C10KS"),
    (System::Surveillance, "网络摄像机", "DS-2CD3T46WDV3-I3"),
    (System::Surveillance, "NVR", "DS-7932N-R4"),
    (System::Classroom, "交互式一体机", "SEEWO-F86EA"),
    (System::Cloud, "云终端", "RG-CT7800"),
    (System::Broadcast, "IP网络广播终端", "MAG6182"),
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn build(url: &str, schools: usize, per_school: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    if aftercare_store::customers::count(&db).await.unwrap() as usize == schools {
        return;
    }
    let start = Instant::now();
    let w = Writer::system();
    let customers: Vec<NewCustomer> = (0..schools)
        .map(|i| NewCustomer {
            name: format!("{}第{}小学", TOWNS[i % 8], i),
            code: format!("B-{i:05}"),
            county: "青阳县".into(),
            town: TOWNS[i % 8].into(),
            address: Some(format!("{}人民路 {} 号", TOWNS[i % 8], i % 300)),
            travel_minutes: Some(10 + (i % 8) as i32 * 10),
            contacts: Vec::new(),
        })
        .collect();
    let ids = aftercare_store::customers::create_many(&db, &w, &customers).await.unwrap();
    for (chunk_no, chunk) in ids.chunks(250).enumerate() {
        let mut rows = Vec::with_capacity(chunk.len() * per_school);
        for (k, id) in chunk.iter().enumerate() {
            let i = chunk_no * 250 + k;
            for j in 0..per_school {
                let (system, kind, model) = KINDS[j % KINDS.len()];
                let year = 2016 + ((i + j) % 10) as i32;
                let installed =
                    chrono::NaiveDate::from_ymd_opt(year, 1 + (j % 12) as u32, 1 + (i % 28) as u32).unwrap();
                rows.push(NewEquipment {
                    customer_id: CustomerId(*id),
                    system,
                    kind: kind.into(),
                    brand: Some("品牌".into()),
                    model: Some(model.into()),
                    serial_no: format!("BN{i:05}{j:03}"),
                    location: Some(format!("教学楼 {} 楼 {} 教室", 1 + j % 4, 100 + j)),
                    installed_on: Some(installed),
                    warranty_until: Some(installed + chrono::Duration::days(365 * 3)),
                    critical: j % 10 == 0,
                    status: if j % 17 == 0 { EquipmentStatus::Faulty } else { EquipmentStatus::InService },
                });
            }
        }
        aftercare_store::equipment::create_many(&db, &w, &rows).await.unwrap();
    }
    let users = aftercare_service::Services::new(db.clone());
    let input = aftercare_domain::users::UserInput {
        username: Some("bench".into()),
        password: Some("bench-password".into()),
        roles: Some(vec!["agent".into()]),
        ..Default::default()
    };
    users.create_user(None, &input).await.unwrap();
    db.close().await;
    println!("generated {schools} schools × {per_school} pieces in {:.1}s", start.elapsed().as_secs_f64());
}

fn serve(url: &str, port: u16) -> Child {
    Command::new(BIN)
        .env("AFTERCARE_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let schools = env_usize("AFTERCARE_BENCH_SCHOOLS", 5000);
    let per_school = env_usize("AFTERCARE_BENCH_PER_SCHOOL", 40);
    let requests = env_usize("AFTERCARE_BENCH_REQUESTS", 1000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/bench-{schools}-{per_school}.db", dir.display());
    build(&url, schools, per_school).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // Start to ready: spawn, poll /healthz every millisecond; five runs, median.
    let mut ready = Vec::new();
    let mut server = None;
    for run in 0..5 {
        let t = Instant::now();
        let mut child = serve(&url, port);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        ready.push(t.elapsed());
        if run < 4 {
            child.kill().unwrap();
            child.wait().unwrap();
        } else {
            server = Some(child);
        }
    }
    ready.sort();
    let mut server = server.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(server.id());

    // Sign in through the login form like a person.
    let page = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", "bench"), ("password", "bench-password"), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);

    let scenarios: [(&str, &dyn Fn(usize) -> String); 7] = [
        ("unfiltered, page 1", &|_| "/equipment".to_owned()),
        ("system filter, deep pages", &|i| {
            format!("/equipment?system={}&page={}", KINDS[i % 8].0.as_str(), 1 + i % 200)
        }),
        ("town + status", &|i| format!("/equipment?town={}&status=in_service&page={}", TOWNS[i % 8], 1 + i % 50)),
        ("warranty expiring + sort", &|i| {
            format!("/equipment?warranty={}&sort=warranty", ["expiring", "expired", "valid"][i % 3])
        }),
        ("search 监控 + town (a quarter of all equipment matches)", &|i| {
            format!("/equipment?q=%E7%9B%91%E6%8E%A7&town={}", TOWNS[i % 8])
        }),
        ("search a school's serial prefix", &|i| format!("/equipment?q=BN{:05}", (i * 37) % 5000)),
        ("search 小学 (every piece of equipment matches; counted up to 1,000+)", &|i| {
            format!("/equipment?q=%E5%B0%8F%E5%AD%A6&page={}", 1 + i % 20)
        }),
    ];
    println!(
        "\n{schools} schools, {} pieces of equipment, SQLite, {requests} requests per scenario",
        schools * per_school
    );
    println!(
        "start to ready: median {:.0} ms (min {:.0}, max {:.0})",
        pct(&ready, 0.5),
        pct(&ready, 0.0),
        pct(&ready, 1.0)
    );
    println!("idle RSS after start: {:.1} MB", idle as f64 / 1024.0);
    println!("\n| equipment list page (25 rows) | p50 ms | p99 ms |\n|---|---|---|");
    for (name, path) in scenarios {
        let mut lat = Vec::with_capacity(requests);
        for i in 0..requests {
            let t = Instant::now();
            let r = client.get(format!("{base}{}", path(i))).send().await.unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::OK, "{}", path(i));
            let body = r.text().await.unwrap();
            lat.push(t.elapsed());
            assert!(body.contains("equipment-list") || body.contains("没有符合条件"));
        }
        lat.sort();
        println!("| {name} | {:.2} | {:.2} |", pct(&lat, 0.5), pct(&lat, 0.99));
    }
    println!("\nRSS after the runs: {:.1} MB", rss_kib(server.id()) as f64 / 1024.0);

    // The global search, then again after a restart with statistics refreshed (a full
    // ANALYZE, as the first start or `PRAGMA optimize` after much change does): the plan
    // once depended on them and a search went from 2 ms to 1 s.
    // Words (监控 小学 BN00042 教学楼), then single characters apart: 小 (in every school's
    // name) and 王 are prefix queries, which read every matching term's entries before the cap.
    const WORDS: &[&str] = &["%E7%9B%91%E6%8E%A7", "%E5%B0%8F%E5%AD%A6", "BN00042", "%E6%95%99%E5%AD%A6%E6%A5%BC"];
    const SINGLE: &[&str] = &["%E5%B0%8F", "%E7%8E%8B"];
    let search = |client: reqwest::Client, base: String, queries: &'static [&'static str]| async move {
        let mut lat = Vec::with_capacity(requests);
        for i in 0..requests {
            let t = Instant::now();
            let r = client.get(format!("{base}/search?q={}", queries[i % queries.len()])).send().await.unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::OK);
            let _ = r.bytes().await;
            lat.push(t.elapsed());
        }
        lat.sort();
        (pct(&lat, 0.5), pct(&lat, 0.99))
    };
    println!(
        "\n| global search page | words p50 ms | words p99 ms | 小 or 王 p50 ms | 小 or 王 p99 ms |\n|---|---|---|---|---|"
    );
    let (p50, p99) = search(client.clone(), base.clone(), WORDS).await;
    let (s50, s99) = search(client.clone(), base.clone(), SINGLE).await;
    println!("| server up since the runs above | {p50:.2} | {p99:.2} | {s50:.2} | {s99:.2} |");
    server.kill().unwrap();
    server.wait().unwrap();
    {
        let db = Db::connect(&url).await.unwrap();
        if let Db::Sqlite(p) = &db {
            sqlx::query("ANALYZE").execute(p).await.unwrap();
        }
        db.close().await;
    }
    let mut server = serve(&url, port);
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let page = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", "bench"), ("password", "bench-password"), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let (p50, p99) = search(client.clone(), base.clone(), WORDS).await;
    let (s50, s99) = search(client.clone(), base.clone(), SINGLE).await;
    println!("| after ANALYZE and a restart | {p50:.2} | {p99:.2} | {s50:.2} | {s99:.2} |");
    server.kill().unwrap();
    server.wait().unwrap();
}

//! `cargo bench --bench analysis`: data analysis (issue 15) at a county's scale. 5,000
//! schools in 20 towns with four devices each (30 models), 3 engineers and 20 technicians,
//! 1,000,000 tickets over two years (each with its device, technician, a visit, a fault
//! subcategory; 3% repeat repairs), and a year of contacts (300,000 calls and messages),
//! ledger movements (100,000), requisitions (20,000 with two lines each), inspection rounds
//! (20,000) and penalty events. Through the HTTP API on the release server, timed:
//! `GET /api/v1/analysis/faults?by=` for each grouping over the last 365 days, the hot spots
//! over a year, last month's KPI table, and last month's analysis-meeting pack as the A4 page
//! and as the workbook. On SQLite, and on PostgreSQL when AFTERCARE_BENCH_POSTGRES_URL names
//! a server (the bench keeps its database `aftercare_bench_analysis` there, and the SQLite
//! file in `target/bench/`; delete either to regenerate).
//!
//! Sizes: AFTERCARE_BENCH_TICKETS (1,000,000), AFTERCARE_BENCH_REQUESTS (20 per request kind).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aftercare_domain::customers::NewCustomer;
use aftercare_domain::users::UserInput;
use aftercare_store::{Db, Writer};
use chrono::{DateTime, Datelike, Duration as CDuration, SecondsFormat, Utc};
use common::{count, env_usize, exec, ids, pct, ready, serve, token};
use std::time::Instant;

const SCHOOLS: usize = 5000;
const TOWNS: usize = 20;
const DEVICES: usize = 4;
const TECHNICIANS: usize = 20;
const ENGINEERS: usize = 3;
/// (system, kind) of a school's four devices.
const KINDS: [(&str, &str); DEVICES] =
    [("network", "接入交换机"), ("surveillance", "网络摄像机"), ("classroom", "交互式一体机"), ("broadcast", "功放")];
const BRANDS: [&str; 6] = ["华为", "海康威视", "希沃", "锐捷", "大华", "鸿合"];
const DAYS: i64 = 730;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Inserts `n` rows made by `row(i)` into `head`, 1,000 rows per statement.
async fn bulk(db: &Db, head: &str, n: usize, row: impl Fn(usize) -> String) {
    for start in (0..n).step_by(1000) {
        let rows: Vec<String> = (start..(start + 1000).min(n)).map(&row).collect();
        exec(db, format!("{head} VALUES {}", rows.join(","))).await;
    }
}

async fn build(db: &Db, n: usize) {
    for key in [aftercare_service::rate::STAFF_KEY, aftercare_service::rate::SCHOOL_KEY] {
        aftercare_store::settings::set_setting(db, &Writer::system(), key, "0").await.unwrap();
    }
    // Penalty events are written last: with them, the database is whole.
    if count(db, "SELECT COUNT(*) FROM penalty_events").await > 0 {
        return;
    }
    let started = Instant::now();
    let w = Writer::system();
    let customers: Vec<NewCustomer> = (0..SCHOOLS)
        .map(|i| NewCustomer {
            name: format!("第{}镇第{i}小学", i % TOWNS),
            code: format!("A-{i:05}"),
            county: "青阳县".into(),
            town: format!("第{}镇", i % TOWNS),
            address: None,
            travel_minutes: Some(30),
            contacts: Vec::new(),
        })
        .collect();
    for chunk in customers.chunks(1000) {
        aftercare_store::customers::create_many(db, &w, chunk).await.unwrap();
    }
    let svc = aftercare_service::Services::new(db.clone());
    let mut people: Vec<(String, &str)> = vec![("manager".into(), "manager"), ("agent".into(), "agent")];
    people.extend((0..ENGINEERS).map(|t| (format!("eng{t}"), "engineer")));
    people.extend((0..TECHNICIANS).map(|t| (format!("tech{t}"), "technician")));
    for (name, role) in people {
        let input = UserInput {
            username: Some(name.clone()),
            password: Some(format!("{name}-password")),
            display_name: Some(name.clone()),
            roles: Some(vec![role.into()]),
            ..Default::default()
        };
        svc.create_user(None, &input).await.unwrap();
    }
    let schools = ids(db, "SELECT id FROM customers ORDER BY id").await;
    let engineers = ids(db, "SELECT id FROM users WHERE username LIKE 'eng%' ORDER BY id").await;
    let techs = ids(db, "SELECT id FROM users WHERE username LIKE 'tech%' ORDER BY id").await;
    let agent = ids(db, "SELECT id FROM users WHERE username = 'agent'").await[0];
    // Each system's subcategories (code, fault type), as seeded by the migrations.
    let subcats: Vec<Vec<(String, String)>> = {
        let all: Vec<(String, String, String)> = match db {
            Db::Sqlite(p) => sqlx::query_as("SELECT system, code, fault_type FROM fault_subcategories ORDER BY code")
                .fetch_all(p)
                .await
                .unwrap(),
            Db::Postgres(p) => sqlx::query_as("SELECT system, code, fault_type FROM fault_subcategories ORDER BY code")
                .fetch_all(p)
                .await
                .unwrap(),
        };
        KINDS
            .iter()
            .map(|(s, _)| all.iter().filter(|a| a.0 == *s).map(|a| (a.1.clone(), a.2.clone())).collect())
            .collect()
    };
    let now = Utc::now();
    let t0 = now - CDuration::days(DAYS);
    let when = |i: usize| t0 + CDuration::seconds((i as i64) * DAYS * 86_400 / n as i64);

    // Equipment: id = school index × 4 + device + 1.
    bulk(
        db,
        "INSERT INTO equipment (id, customer_id, system, kind, brand, model, serial_no, status, created_at, updated_at)",
        SCHOOLS * DEVICES,
        |e| {
            let (system, kind) = KINDS[e % DEVICES];
            let brand = BRANDS[(e / DEVICES) % BRANDS.len()];
            format!(
                "({}, {}, '{system}', '{kind}', '{brand}', 'M-{}', 'AB{e:06}', 'in_service', '{t}', '{t}')",
                e + 1,
                schools[e / DEVICES],
                (e / DEVICES) % 5 + 10 * (e % DEVICES),
                t = ts(t0)
            )
        },
    )
    .await;
    // Ticket i: school i % 5,000, its device (i / 5,000) % 4, so ticket i − 20,000 is the
    // same device (the repeat repair it points to).
    let device = |i: usize| (i % SCHOOLS) * DEVICES + (i / SCHOOLS) % DEVICES;
    bulk(
        db,
        "INSERT INTO tickets (id, number, customer_id, system, title, description, source, priority, status, \
         fault_type, fault_subcategory, engineer_id, repeat_of, satisfaction, respond_due, arrive_due, resolve_due, \
         responded_at, arrived_at, resolved_at, closed_at, respond_breached_at, arrive_breached_at, \
         resolve_breached_at, created_at, updated_at, version)",
        n,
        |i| {
            let c = when(i);
            let d = device(i);
            let subs = &subcats[d % DEVICES];
            let (code, ftype) = &subs[i % subs.len()];
            let open = i % 50 == 0;
            let resolved = c + CDuration::hours(4 + (i % 70) as i64);
            let late = |k: usize| if i % k == 0 { format!("'{}'", ts(c + CDuration::hours(3))) } else { "NULL".into() };
            format!(
                "({id}, 'AN{i:08}', {cust}, '{sys}', '第 {i} 号故障', '', 'phone', 'normal', '{status}', '{ftype}', \
                 '{code}', {eng}, {repeat}, {sat}, '{rd}', '{ad}', '{sd}', '{ra}', '{aa}', {res}, {res}, {l1}, {l2}, \
                 {l3}, '{c}', '{c}', 1)",
                id = i + 1,
                cust = schools[i % SCHOOLS],
                sys = KINDS[d % DEVICES].0,
                status = if open { "in_progress" } else { "closed" },
                eng = engineers[i % ENGINEERS],
                repeat = if i % 33 == 0 && i >= SCHOOLS * DEVICES {
                    (i - SCHOOLS * DEVICES + 1).to_string()
                } else {
                    "NULL".into()
                },
                sat = if i % 5 < 3 { (3 + i % 3).to_string() } else { "NULL".into() },
                rd = ts(c + CDuration::minutes(30)),
                ad = ts(c + CDuration::hours(4)),
                sd = ts(c + CDuration::hours(48)),
                ra = ts(c + CDuration::minutes(10)),
                aa = ts(c + CDuration::hours(2)),
                res = if open { "NULL".into() } else { format!("'{}'", ts(resolved)) },
                l1 = late(40),
                l2 = late(15),
                l3 = late(30),
                c = ts(c),
            )
        },
    )
    .await;
    bulk(db, "INSERT INTO ticket_equipment (ticket_id, equipment_id)", n, |i| {
        format!("({}, {})", i + 1, device(i) + 1)
    })
    .await;
    bulk(db, "INSERT INTO ticket_technicians (ticket_id, user_id)", n, |i| {
        format!("({}, {})", i + 1, techs[(i * 7) % TECHNICIANS])
    })
    .await;
    bulk(
        db,
        "INSERT INTO visits (id, ticket_id, arrived_at, finished_at, work_done, result, created_by, created_at)",
        n,
        |i| {
            let c = when(i);
            format!(
                "({id}, {id}, '{a}', '{f}', '更换故障部件', '{r}', {u}, '{f}')",
                id = i + 1,
                a = ts(c + CDuration::hours(2)),
                f = ts(c + CDuration::hours(3)),
                r = if i % 10 == 0 { "not_fixed" } else { "fixed" },
                u = techs[(i * 7) % TECHNICIANS],
            )
        },
    )
    .await;
    bulk(db, "INSERT INTO visit_technicians (visit_id, user_id)", n, |i| {
        format!("({}, {})", i + 1, techs[(i * 7) % TECHNICIANS])
    })
    .await;
    // A year of contacts: four in five inbound calls, 3% of them missed.
    let year = now - CDuration::days(365);
    let contacts = 300_000;
    const CATEGORIES: [&str; 5] = ["repair", "repair", "consultation", "complaint", "suggestion"];
    bulk(
        db,
        "INSERT INTO contacts (record_no, channel, direction, received_at, answered, wait_seconds, customer_id, \
         category, content, handling, handler_id, callback_owner_id, called_back_at, created_at)",
        contacts,
        |i| {
            let at = year + CDuration::seconds(i as i64 * 365 * 86_400 / contacts as i64);
            let phone = i % 5 != 0;
            let missed = phone && i % 33 == 0;
            format!(
                "('AC{i:07}', '{ch}', 'inbound', '{at}', {ans}, {wait}, {cust}, '{cat}', '报修', '{h}', {u}, {u}, {cb}, '{at}')",
                ch = if phone { "phone" } else { "web" },
                at = ts(at),
                ans = if missed { "FALSE" } else { "TRUE" },
                wait = i % 40,
                cust = schools[(i * 13) % SCHOOLS],
                cat = CATEGORIES[i % 5],
                h = if i % 3 == 0 { "answered" } else { "ticket" },
                u = agent,
                cb = if missed && i % 2 == 0 { format!("'{}'", ts(at + CDuration::minutes(20))) } else { "NULL".into() },
            )
        },
    )
    .await;
    // The warehouse: 200 parts, one store, a year of issues to tickets and broken parts back.
    exec(
        db,
        format!(
            "INSERT INTO warehouses (id, code, name, kind, created_at, updated_at) VALUES (1, 'AW1', '总仓', 'depot', '{t}', '{t}')",
            t = ts(t0)
        ),
    )
    .await;
    bulk(db, "INSERT INTO parts (id, code, name, unit, unit_cost_fen, created_at, updated_at)", 200, |p| {
        format!("({}, 'AP{p:04}', '备件{p}', '个', {}, '{t}', '{t}')", p + 1, 5_000 + p * 100, t = ts(t0))
    })
    .await;
    bulk(db, "INSERT INTO stock (part_id, warehouse_id, on_hand, avg_cost_fen)", 200, |p| {
        format!("({}, 1, {}, {})", p + 1, 50 + p % 30, 5_000 + p * 100)
    })
    .await;
    let movements = 100_000;
    bulk(
        db,
        "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, qty, unit_cost_fen, ticket_id, at, \
         balance_after)",
        movements,
        |m| {
            let at = year + CDuration::seconds(m as i64 * 365 * 86_400 / movements as i64);
            let kind = match m % 10 {
                0 => "receipt",
                1..=3 => "defective_return",
                _ => "issue",
            };
            // The ticket of that day (ticket i was created at when(i)).
            let t = n - n / 2 + m * (n / 2) / movements;
            format!(
                "('AM{m:07}', '{kind}', {p}, 1, {q}, {c}, {t}, '{at}', 10)",
                p = m % 200 + 1,
                q = if kind == "receipt" { 20 } else { 1 },
                c = 5_000 + (m % 200) * 100,
                t = if kind == "receipt" { "NULL".into() } else { (t.min(n - 1) + 1).to_string() },
                at = ts(at)
            )
        },
    )
    .await;
    let reqs = 20_000;
    bulk(
        db,
        "INSERT INTO requisitions (id, requisition_no, requester_id, warehouse_id, issue_type, status, requested_at, \
         issued_at, updated_at)",
        reqs,
        |r| {
            let at = year + CDuration::seconds(r as i64 * 365 * 86_400 / reqs as i64);
            format!(
                "({}, 'AR{r:06}', {}, 1, 'issue', 'issued', '{at}', '{at}', '{at}')",
                r + 1,
                techs[r % TECHNICIANS],
                at = ts(at)
            )
        },
    )
    .await;
    bulk(
        db,
        "INSERT INTO requisition_lines (requisition_id, line_no, part_id, qty_requested, qty_issued)",
        reqs * 2,
        |l| format!("({}, {}, {}, 2, {})", l / 2 + 1, l % 2 + 1, l % 200 + 1, if l % 25 == 0 { 1 } else { 2 }),
    )
    .await;
    // A year of inspection rounds: each school four times.
    let rounds = SCHOOLS * 4;
    bulk(
        db,
        "INSERT INTO inspections (id, number, customer_id, phase, systems, status, planned_on, completed_at, \
         created_at, updated_at)",
        rounds,
        |r| {
            let day = (year + CDuration::days((r * 365 / rounds) as i64)).date_naive();
            let done = r % 12 != 0;
            format!(
                "({}, 'AX{r:06}', {}, 'mid', 'network,surveillance', '{}', '{day}', {}, '{t}', '{t}')",
                r + 1,
                schools[r % SCHOOLS],
                if done { "completed" } else { "planned" },
                if done {
                    format!("'{}'", ts(year + CDuration::days((r * 365 / rounds) as i64)))
                } else {
                    "NULL".into()
                },
                t = ts(year)
            )
        },
    )
    .await;
    bulk(db, "INSERT INTO inspection_systems (inspection_id, system, devices, devices_ok)", rounds, |r| {
        format!("({}, 'network', 12, {})", r + 1, 12 - r % 3)
    })
    .await;
    bulk(db, "INSERT INTO penalty_events (kind, user_id, ticket_id, at, status, reason)", 10_000, |k| {
        let t = n - n / 2 + k * 50;
        format!(
            "('{}', {}, {}, '{}', '{}', '复核')",
            if k % 2 == 0 { "repeat_repair" } else { "misdiagnosis" },
            techs[k % TECHNICIANS],
            t.min(n - 1) + 1,
            ts(when(t.min(n - 1))),
            if k % 4 == 0 { "dismissed" } else { "confirmed" }
        )
    })
    .await;
    match db {
        Db::Postgres(_) => {
            for t in ["tickets", "visits", "equipment", "requisitions", "inspections"] {
                exec(db, format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"))
                    .await;
            }
            exec(db, "VACUUM ANALYZE").await;
        }
        Db::Sqlite(_) => exec(db, "ANALYZE").await,
    }
    println!("generated in {:.0} s", started.elapsed().as_secs_f64());
}

async fn run(label: &str, url: &str, n: usize, requests: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    build(&db, n).await;
    let tickets = count(&db, "SELECT COUNT(*) FROM tickets").await;
    // What the server's hourly housekeeping does (here in-process, timed): count and keep the
    // past 24 months of every grouping, so that the requests are timed as in daily use.
    // The SLA sweep flags the generated open tickets once (in a live department it flags
    // each as it runs late): the events it writes are not part of what is timed.
    let svc = aftercare_service::Services::new(db.clone());
    while svc.check_sla(Utc::now()).await.unwrap() > 0 {}
    // From nothing kept (an earlier run's months would make it look cheaper).
    exec(&db, "DELETE FROM fault_months").await;
    exec(&db, "DELETE FROM fault_month_counts").await;
    let s = Instant::now();
    svc.keep_fault_months().await.unwrap();
    let housekeeping = s.elapsed().as_secs_f64();
    let kept = count(&db, "SELECT COUNT(*) FROM fault_month_counts").await;
    db.close().await;
    let port = 20000 + (std::process::id() % 20000) as u16 + 17;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .unwrap();
    let mut server = serve(url, port);
    ready(&client, &base).await;
    let t = token(&client, &base, "manager").await;
    let page = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", "manager"), ("password", "manager-password"), ("_csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let today = Utc::now().date_naive();
    let (from, to) = (today - CDuration::days(364), today);
    let first = today.with_day(1).unwrap();
    let last_month = (first - CDuration::days(1)).format("%Y-%m").to_string();
    println!("\n## {label}: {tickets} tickets over {DAYS} days, {SCHOOLS} schools\n");
    println!("housekeeping: {kept} months × groupings kept, {housekeeping:.1} s\n");
    println!("| request ({requests} each) | p50 ms | p99 ms | rows |\n|---|---|---|---|");
    let mut paths: Vec<(String, String, bool)> =
        ["system", "fault_type", "subcategory", "town", "customer", "model", "technician", "engineer"]
            .iter()
            .map(|by| {
                (
                    format!("faults by {by}, a year"),
                    format!("/api/v1/analysis/faults?by={by}&from={from}&to={to}"),
                    true,
                )
            })
            .collect();
    paths.push((
        "faults by system, two years".into(),
        format!("/api/v1/analysis/faults?by=system&from={}&to={to}", today - CDuration::days(DAYS)),
        true,
    ));
    paths.push(("hot spots, a year".into(), format!("/api/v1/analysis/hotspots?from={from}&to={to}"), true));
    paths.push(("KPI table, last month".into(), format!("/api/v1/analysis/kpis?month={last_month}"), true));
    paths.push(("the pack, A4 page, last month".into(), format!("/analysis/pack?month={last_month}"), false));
    paths.push(("the pack, workbook, last month".into(), format!("/analysis/pack.xlsx?month={last_month}"), false));
    for (name, path, api) in paths {
        let mut lat = Vec::with_capacity(requests);
        let mut rows = String::new();
        for _ in 0..requests {
            let s = Instant::now();
            let req = client.get(format!("{base}{path}"));
            let r = if api { req.bearer_auth(&t) } else { req }.send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let body = r.bytes().await.unwrap();
            lat.push(s.elapsed());
            if api && rows.is_empty() {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                rows = v["items"]
                    .as_array()
                    .or(v["rows"].as_array())
                    .map(|a| a.len().to_string())
                    .unwrap_or_else(|| "—".into());
            } else if rows.is_empty() {
                rows = format!("{} KB", body.len() / 1024);
            }
        }
        lat.sort();
        println!("| {name} | {:.1} | {:.1} | {rows} |", pct(&lat, 0.5), pct(&lat, 0.99));
    }
    // A ticket of a year ago changes: the next request counts its month again.
    println!("\n| after a change to a ticket of a year ago | ms |\n|---|---|");
    for by in ["system", "customer", "model"] {
        let old = tickets - tickets / 2 + 100;
        let r = client
            .post(format!("{base}/api/v1/tickets/{old}/comments"))
            .bearer_auth(&t)
            .json(&serde_json::json!({"body": "复核：旧工单补充说明"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "comment: {}", r.status());
        let s = Instant::now();
        let r = client
            .get(format!("{base}/api/v1/analysis/faults?by={by}&from={from}&to={to}"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let _ = r.bytes().await;
        println!("| faults by {by}, a year, its month counted again | {:.0} |", s.elapsed().as_secs_f64() * 1000.0);
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::main]
async fn main() {
    let n = env_usize("AFTERCARE_BENCH_TICKETS", 1_000_000);
    let requests = env_usize("AFTERCARE_BENCH_REQUESTS", 20);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("analysis-{n}.db"));
    if std::env::var("AFTERCARE_BENCH_ONLY").as_deref() != Ok("postgres") {
        run("SQLite", &format!("sqlite://{}", file.display()), n, requests).await;
    }
    if let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL") {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = 'aftercare_bench_analysis'")
                .fetch_optional(&pool)
                .await
                .unwrap();
        if exists.is_none() {
            sqlx::query("CREATE DATABASE aftercare_bench_analysis").execute(&pool).await.unwrap();
        }
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_analysis"), n, requests).await;
    }
}

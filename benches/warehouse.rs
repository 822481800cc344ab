//! `cargo bench --bench warehouse`: the spare-parts warehouse at scale. Stock movements
//! through the HTTP API (`POST /api/v1/stock/movements`, receipts and issues, concurrency 16)
//! with a `kill -9` the instant the last answer arrives, then a check that every answered
//! movement is in the ledger and that on-hand equals the ledger's sum for every part and
//! warehouse; and the stock report and the valuation report over 1,000,000 movements. On
//! SQLite, and on PostgreSQL when AFTERCARE_BENCH_POSTGRES_URL names a server (the bench
//! creates and keeps its own database `aftercare_bench_warehouse` there).
//!
//! Sizes: AFTERCARE_BENCH_MOVEMENTS (1,000,000), AFTERCARE_BENCH_POSTS (8,000 per run),
//! AFTERCARE_BENCH_REQUESTS (200 per report).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aftercare_domain::users::UserInput;
use aftercare_store::Db;
use chrono::{Duration as CDuration, SecondsFormat, Utc};
use common::{count, env_usize, exec, ids, pct, post_concurrently, ready, serve, token};
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;

const PARTS: usize = 500;
const WAREHOUSES: usize = 9;

/// A catalogue of 500 parts, 9 warehouses and `n` movements (receipts of 5 and issues of 3,
/// so stock never goes below zero), written in bulk with their balances, and the stock rows
/// that match them.
async fn build(db: &Db, n: usize) {
    // The bench is one user writing thousands a second: lift the write limit (also on a
    // database built by an earlier run).
    for key in [aftercare_service::rate::STAFF_KEY, aftercare_service::rate::SCHOOL_KEY] {
        aftercare_store::settings::set_setting(db, &aftercare_store::Writer::system(), key, "0").await.unwrap();
    }
    let ts = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
    let now = Utc::now();
    if count(db, "SELECT COUNT(*) FROM parts").await == 0 {
        let svc = aftercare_service::Services::new(db.clone());
        for (name, role) in [("store", "storekeeper"), ("manager", "manager")] {
            let input = UserInput {
                username: Some(name.into()),
                password: Some(format!("{name}-password")),
                roles: Some(vec![role.into()]),
                ..Default::default()
            };
            svc.create_user(None, &input).await.unwrap();
        }
        let categories = ["网络", "监控", "班班通", "云终端", "广播", "机房", "线材", "耗材"];
        let rows: Vec<String> = (0..PARTS)
            .map(|i| {
                format!(
                    "('P-{i:04}', '备件 {i}', '规格 {i}', '个', '{}', {}, '供应商 {}', {}, 15, '{}', '{}')",
                    categories[i % 8],
                    i % 10 == 0,
                    i % 7,
                    1000 + (i as i64 % 50) * 100,
                    ts(now),
                    ts(now)
                )
            })
            .collect();
        exec(db, format!("INSERT INTO parts (code, name, spec, unit, category, critical, supplier, unit_cost_fen, lead_time_days, created_at, updated_at) VALUES {}", rows.join(","))).await;
        let rows: Vec<String> =
            (0..WAREHOUSES).map(|i| format!("('W-{i}', '仓库 {i}', 'depot', '{}', '{}')", ts(now), ts(now))).collect();
        exec(
            db,
            format!("INSERT INTO warehouses (code, name, kind, created_at, updated_at) VALUES {}", rows.join(",")),
        )
        .await;
    }
    let have = count(db, "SELECT COUNT(*) FROM stock_movements").await as usize;
    if have >= n {
        return;
    }
    let started = Instant::now();
    let parts = ids(db, "SELECT id FROM parts ORDER BY id").await;
    let whs = ids(db, "SELECT id FROM warehouses ORDER BY id").await;
    let base = now - CDuration::days(400);
    let mut on_hand: HashMap<(i64, i64), i64> = HashMap::new();
    for chunk in (have..n).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let (p, w) = (parts[i % PARTS], whs[(i / PARTS) % WAREHOUSES]);
                let round = i / (PARTS * WAREHOUSES);
                let (kind, qty) = if round.is_multiple_of(2) { ("receipt", 5) } else { ("issue", 3) };
                let b = on_hand.entry((p, w)).or_default();
                *b += if kind == "receipt" { qty } else { -qty };
                let at = base + CDuration::seconds(i as i64 * 30);
                format!("('KB{i:08}', '{kind}', {p}, {w}, {qty}, 1200, '{}', {b})", ts(at))
            })
            .collect();
        exec(db, format!("INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, qty, unit_cost_fen, at, balance_after) VALUES {}", rows.join(","))).await;
    }
    let rows: Vec<String> = on_hand.iter().map(|((p, w), q)| format!("({p}, {w}, {q}, 1200)")).collect();
    for chunk in rows.chunks(1000) {
        exec(db, format!("INSERT INTO stock (part_id, warehouse_id, on_hand, avg_cost_fen) VALUES {} ON CONFLICT (part_id, warehouse_id) DO UPDATE SET on_hand = excluded.on_hand", chunk.join(","))).await;
    }
    if let Db::Postgres(_) = db {
        exec(db, "VACUUM ANALYZE").await;
    }
    db.optimize().await.unwrap();
    println!("generated {} movements in {:.1}s", n - have, started.elapsed().as_secs_f64());
}

/// Parts × warehouses whose on-hand differs from the ledger's sum of receipts and issues.
async fn drift(db: &Db) -> i64 {
    count(
        db,
        "SELECT COUNT(*) FROM stock s WHERE s.on_hand <> (SELECT COALESCE(SUM(CASE m.kind WHEN 'receipt' THEN m.qty WHEN 'issue' THEN -m.qty ELSE 0 END), 0) \
         FROM stock_movements m WHERE m.part_id = s.part_id AND m.warehouse_id = s.warehouse_id)",
    )
    .await
}

async fn run(label: &str, url: &str, n: usize, posts: usize, requests: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    build(&db, n).await;
    let port = 20000 + (std::process::id() % 20000) as u16 + 7;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = serve(url, port);
    ready(&client, &base).await;
    let store = token(&client, &base, "store").await;
    println!("\n## {label}: {} movements\n", count(&db, "SELECT COUNT(*) FROM stock_movements").await);

    // Reports first, on the generated ledger.
    let mut rows = Vec::new();
    for (name, path) in [
        ("stock report, one warehouse (all its parts)", "/api/v1/stock?warehouse_id=1&per_page=500"),
        ("stock report, one part across warehouses", "/api/v1/stock?part_id=7"),
        ("valuation report (capital by warehouse and category, turnover, slow movers)", "/api/v1/stock/valuation"),
    ] {
        let probe = client.get(format!("{base}{path}")).bearer_auth(&store).send().await.unwrap();
        if !probe.status().is_success() {
            println!("(skipped {name}: {} on {path})", probe.status());
            continue;
        }
        let mut lat = Vec::with_capacity(requests);
        for _ in 0..requests {
            let s = Instant::now();
            let r = client.get(format!("{base}{path}")).bearer_auth(&store).send().await.unwrap();
            assert!(r.status().is_success());
            let _ = r.bytes().await;
            lat.push(s.elapsed());
        }
        lat.sort();
        rows.push(format!("| {name} | {:.2} | {:.2} |", pct(&lat, 0.5), pct(&lat, 0.99)));
    }
    println!("| report | p50 ms | p99 ms |\n|---|---|---|\n{}", rows.join("\n"));

    // Movements: receipts of 2 and issues of 1, spread over the parts and warehouses.
    let before = count(&db, "SELECT COUNT(*) FROM stock_movements").await;
    let parts = ids(&db, "SELECT id FROM parts ORDER BY id").await;
    let whs = ids(&db, "SELECT id FROM warehouses ORDER BY id").await;
    let body = move |t: usize, i: usize| {
        let k = t * 100_003 + i * 7;
        let (kind, qty) = if i.is_multiple_of(2) { ("receipt", 2) } else { ("issue", 1) };
        json!({"kind": kind, "part_id": parts[k % parts.len()], "warehouse_id": whs[(k / 13) % whs.len()], "qty": qty, "unit_cost": 12.5})
    };
    let url_m = format!("{base}/api/v1/stock/movements");
    let (rate, p99, answered) = post_concurrently(&client, &url_m, &store, 16, posts / 16, body).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let db2 = Db::connect(url).await.unwrap();
    let after = count(&db2, "SELECT COUNT(*) FROM stock_movements").await;
    println!("\n| stock movements through the API | movements/s | p99 ms |\n|---|---|---|");
    println!("| concurrency 16 ({answered} movements, receipts and issues) | {rate:.0} | {p99:.2} |");
    println!(
        "\nkill -9 after the last answer: {} of {answered} answered movements in the ledger; parts × warehouses whose on-hand differs from the ledger: {}",
        after - before,
        drift(&db2).await
    );
}

#[tokio::main]
async fn main() {
    let n = env_usize("AFTERCARE_BENCH_MOVEMENTS", 1_000_000);
    let posts = env_usize("AFTERCARE_BENCH_POSTS", 8000);
    let requests = env_usize("AFTERCARE_BENCH_REQUESTS", 200);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    run("SQLite", &format!("sqlite://{}/warehouse-{n}.db", dir.display()), n, posts, requests).await;
    if let Ok(admin) = std::env::var("AFTERCARE_BENCH_POSTGRES_URL") {
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        let _ = sqlx::query("CREATE DATABASE aftercare_bench_warehouse").execute(&pool).await;
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        run("PostgreSQL", &format!("{base}/aftercare_bench_warehouse"), n, posts, requests).await;
    }
}

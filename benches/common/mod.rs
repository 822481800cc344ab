//! What the benchmarks share: sizes from the environment, the release server as a child
//! process, readiness, percentiles, counting rows.
// Each benchmark uses a part of this.
#![allow(dead_code)]

use aftercare_store::Db;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_aftercare");

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(p).await.unwrap(),
    }
}

/// The release server on `url`, listening on `port`.
pub fn serve(url: &str, port: u16) -> Child {
    Command::new(BIN)
        .env("AFTERCARE_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

pub async fn ready(client: &reqwest::Client, base: &str) {
    for _ in 0..2000 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("server never became ready");
}

/// The p-th percentile of sorted durations, in milliseconds.
pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

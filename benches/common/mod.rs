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

/// Runs a statement of generated values (literal SQL, written by the bench itself).
pub async fn exec(db: &Db, sql: impl AsRef<str>) {
    let sql = sql.as_ref().to_owned();
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap();
        }
    }
}

/// The ids a query answers, in its order.
pub async fn ids(db: &Db, sql: &str) -> Vec<i64> {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(p).await.unwrap(),
    }
}

/// The release server on `url`, listening on `port`; AFTERCARE_BENCH_BIN runs another build
/// of it instead (an older one kept aside, to compare before and after a change).
pub fn serve(url: &str, port: u16) -> Child {
    let mut cmd = Command::new(std::env::var("AFTERCARE_BENCH_BIN").unwrap_or_else(|_| BIN.to_owned()));
    // A bench stopped from outside (a time limit's SIGKILL) cannot kill its server itself,
    // and a server left running skews every later measurement: the kernel kills it when
    // the thread that started it, the bench's main thread, ends.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec, only prctl, which is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    cmd.env("AFTERCARE_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        // The server logs to standard output: its warnings (a slow write transaction, with
        // where it began) print beside the bench's own lines.
        .stdout(Stdio::inherit())
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

/// A bearer token for `user` (its password is `<user>-password` in the bench databases).
pub async fn token(client: &reqwest::Client, base: &str, user: &str) -> String {
    let v: serde_json::Value = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": user, "password": format!("{user}-password")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// `tasks` clients at once, each sending `per_task` requests (`request(client, task, i)`)
/// and expecting `expect` of each; returns (requests/s, every latency, sorted).
pub async fn concurrently(
    client: &reqwest::Client,
    tasks: usize,
    per_task: usize,
    expect: reqwest::StatusCode,
    request: impl Fn(&reqwest::Client, usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> (f64, Vec<Duration>) {
    let request = std::sync::Arc::new(request);
    let started = std::time::Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (client, request) = (client.clone(), request.clone());
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::with_capacity(per_task);
            for i in 0..per_task {
                let req = request(&client, t, i);
                let s = std::time::Instant::now();
                let r = req.send().await.unwrap();
                assert_eq!(r.status(), expect);
                let _ = r.bytes().await;
                mine.push(s.elapsed());
            }
            mine
        }));
    }
    let mut lat = Vec::with_capacity(tasks * per_task);
    for h in handles {
        lat.extend(h.await.unwrap());
    }
    let rate = lat.len() as f64 / started.elapsed().as_secs_f64();
    lat.sort();
    (rate, lat)
}

/// `tasks` connections each POSTing `per_task` bodies (`body(task, i)`) to `url`, each
/// expecting 201; returns (requests/s, p99 ms, how many were answered 201).
pub async fn post_concurrently(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    tasks: usize,
    per_task: usize,
    body: impl Fn(usize, usize) -> serde_json::Value + Send + Sync + 'static,
) -> (f64, f64, usize) {
    let (url, token) = (url.to_owned(), token.to_owned());
    let (rate, lat) = concurrently(client, tasks, per_task, reqwest::StatusCode::CREATED, move |c, t, i| {
        c.post(&url).bearer_auth(&token).json(&body(t, i))
    })
    .await;
    (rate, pct(&lat, 0.99), lat.len())
}

/// The resident memory of process `pid` in KiB (0 when it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Samples the resident memory of `pid` every 50 ms until the returned flag is set; the
/// handle answers the highest seen, in KiB.
pub fn rss_peak(pid: u32) -> (std::sync::Arc<std::sync::atomic::AtomicBool>, tokio::task::JoinHandle<u64>) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let handle = tokio::spawn(async move {
        let mut peak = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            peak = rss_kib(pid).max(peak);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    });
    (stop, handle)
}

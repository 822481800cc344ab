//! The binary itself: `user add` on an empty folder, durability of an answered write
//! under `kill -9`, online backup, import and export from the command line.

use crate::common::{Backend, PG_HINT, drop_database, fresh_database};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_aftercare");

fn aftercare(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env("AFTERCARE_DATABASE_URL", url).env("RUST_LOG", "warn").args(args);
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(base: &str) {
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} never became ready");
}

/// Runs `user add`, the password on standard input.
fn user_add_output(url: &str, name: &str, password: &str, role: &str) -> std::process::Output {
    let mut child = aftercare(url, &["user", "add", "--username", name, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn user_add(url: &str, name: &str, password: &str, role: &str) {
    let out = user_add_output(url, name, password, role);
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
}

/// Signs in through the API; returns the token.
async fn login(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "agent", "password": "password-agent"}))
        .send()
        .await
        .unwrap();
    r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

fn serve(url: &str, port: u16) -> Child {
    aftercare(url, &["serve", "--listen", &format!("127.0.0.1:{port}")]).stdout(Stdio::null()).spawn().unwrap()
}

/// Writes answered with success survive `kill -9` of the server the next instant.
async fn durability(backend: Backend) {
    let (url, pg) = fresh_database(backend).await;
    user_add(&url, "agent", "password-agent", "agent");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&url, port);
    wait_ready(&base).await;
    let client = reqwest::Client::new();
    let token = login(&client, &base).await;
    let mut codes = Vec::new();
    for i in 0..20 {
        let r = client
            .post(format!("{base}/api/v1/customers"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": format!("学校{i}"), "code": format!("K9-{i}"), "county": "青阳县", "town": "城关镇"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        codes.push(format!("K9-{i}"));
    }
    // SIGKILL: no shutdown, no flush.
    server.kill().unwrap();
    server.wait().unwrap();
    let mut again = serve(&url, port);
    wait_ready(&base).await;
    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/customers?per_page=100"))
        .bearer_auth(login(&client, &base).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 20, "every answered write survived");
    again.kill().unwrap();
    again.wait().unwrap();
    if let Some((a, n)) = pg {
        drop_database(&a, &n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_writes_survive_kill_9_sqlite() {
    durability(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set AFTERCARE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres and run `cargo test --test integration -- --ignored`"]
async fn answered_writes_survive_kill_9_postgres() {
    let _ = PG_HINT;
    durability(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_import_and_export_from_the_command_line() {
    let (url, _) = fresh_database(Backend::Sqlite).await;
    let dir = std::path::PathBuf::from(url.trim_start_matches("sqlite://")).parent().unwrap().to_owned();
    // Import a workbook, export it back, back up the live database.
    let book = crate::excel::workbook(&[
        ("学校", vec![vec!["学校编码", "学校名称", "县", "乡镇"], vec!["CLI-01", "命令行小学", "青阳县", "城关镇"]]),
        ("设备", vec![vec!["学校编码", "系统", "类别", "序列号"], vec!["CLI-01", "broadcast", "功放", "CLI-AMP-1"]]),
    ]);
    let file = dir.join("in.xlsx");
    std::fs::write(&file, book).unwrap();
    let out = aftercare(&url, &["import", file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1 schools and 1 pieces"));
    // Importing the same again is refused with the reason, in Chinese.
    let out = aftercare(&url, &["import", file.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("第 2 行：编码：已存在"));
    let csv = dir.join("out.csv");
    let out = aftercare(&url, &["export", "equipment", "--out", csv.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&csv).unwrap().contains("CLI-01,校园广播,功放,,,CLI-AMP-1"));
    let port = free_port();
    let mut server = serve(&url, port);
    wait_ready(&format!("http://127.0.0.1:{port}")).await;
    let copy = dir.join("copy.db");
    let out = aftercare(&url, &["backup", "--out", copy.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    server.kill().unwrap();
    server.wait().unwrap();
    let copy_url = format!("sqlite://{}", copy.display());
    let out =
        aftercare(&copy_url, &["export", "customers", "--out", dir.join("c.csv").to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    assert!(std::fs::read_to_string(dir.join("c.csv")).unwrap().contains("CLI-01,命令行小学"));
    // A bad user is refused with the field named.
    let out = user_add_output(&url, "x", "password-long", "boss");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("角色：不是可选的值"));
    let _ = std::fs::remove_dir_all(dir);
}

/// SQLite waits for the disk before a commit is answered (FULL), unless told NORMAL: the
/// readers' connections say FULL, and the writer's commits wait for the WAL's fsync
/// (`store::durable`, which `durability()` reports).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_are_durable_against_power_loss_by_default() {
    let (url, _) = fresh_database(Backend::Sqlite).await;
    let level = |db: aftercare_store::Db| async move {
        let aftercare_store::Db::Sqlite(p) = &db else { unreachable!() };
        let n: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(p).await.unwrap();
        if n == 2 {
            assert!(db.durability().is_some(), "FULL: the writer's commits wait for their fsync");
        }
        db.close().await;
        n
    };
    assert_eq!(level(aftercare_store::Db::connect(&url).await.unwrap()).await, 2, "FULL");
    let normal = aftercare_store::DbOptions { sqlite_synchronous: aftercare_store::SqliteSync::Normal };
    assert_eq!(level(aftercare_store::Db::connect_with(&url, normal).await.unwrap()).await, 1, "NORMAL");
    let _ = std::fs::remove_dir_all(std::path::Path::new(url.trim_start_matches("sqlite://")).parent().unwrap());
}

/// `aftercare backup` of a database being written: the copy opens, passes SQLite's
/// integrity check, holds every write answered before the backup began, and serves once
/// restored in place of the original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_write_load_restores_every_answered_write() {
    let (url, _) = fresh_database(Backend::Sqlite).await;
    let dir = std::path::PathBuf::from(url.trim_start_matches("sqlite://")).parent().unwrap().to_owned();
    user_add(&url, "agent", "password-agent", "agent");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&url, port);
    wait_ready(&base).await;
    let client = reqwest::Client::new();
    let token = login(&client, &base).await;
    let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, base, token, answered, stop) =
            (client.clone(), base.clone(), token.clone(), answered.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let code = format!("BK-{w}-{i}");
                let r = client
                    .post(format!("{base}/api/v1/customers"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"name": format!("备份小学{w}-{i}"), "code": code, "county": "青阳县", "town": "城关镇"}))
                    .send()
                    .await
                    .unwrap();
                // Over the user's writes per minute (a slow backup lets the writers run
                // long): refused, not answered; wait as told and go on.
                if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    let wait = r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(wait.min(1))).await;
                    continue;
                }
                assert_eq!(r.status(), reqwest::StatusCode::CREATED);
                answered.lock().unwrap().push(code);
                i += 1;
            }
        }));
    }
    // Let the load build up, note what was answered, then back up while it goes on.
    while answered.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = answered.lock().unwrap().clone();
    let copy = dir.join("copy.db");
    let backup = aftercare(&url, &["backup", "--out", copy.to_str().unwrap()]).output().unwrap();
    let during = answered.lock().unwrap().len() - before.len();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    assert!(during > 0, "the writers went on while the backup ran");

    // Restore: the copy replaces a lost database file.
    let restored = dir.join("restored.db");
    std::fs::copy(&copy, &restored).unwrap();
    let restored_url = format!("sqlite://{}", restored.display());
    {
        let pool = sqlx::SqlitePool::connect(&restored_url).await.unwrap();
        let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
        assert_eq!(check, "ok");
        let codes: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT code FROM customers").fetch_all(&pool).await.unwrap().into_iter().collect();
        let missing: Vec<&String> = before.iter().filter(|c| !codes.contains(*c)).collect();
        assert!(missing.is_empty(), "{} answered writes missing from the backup: {missing:?}", missing.len());
        pool.close().await;
    }
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut again = serve(&restored_url, port);
    wait_ready(&base).await;
    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/customers?q=BK-0-0"))
        .bearer_auth(login(&client, &base).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["code"], "BK-0-0", "{list}");
    again.kill().unwrap();
    again.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// The backup command copies SQLite files; on PostgreSQL it says to use pg_dump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set AFTERCARE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres and run `cargo test --test integration -- --ignored`"]
async fn backup_on_postgres_points_to_pg_dump() {
    let (url, pg) = fresh_database(Backend::Postgres).await;
    let out = std::env::temp_dir().join(format!("aftercare-pg-backup-{}.db", std::process::id()));
    let r = aftercare(&url, &["backup", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("pg_dump"), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!out.exists());
    if let Some((a, n)) = pg {
        drop_database(&a, &n).await;
    }
}

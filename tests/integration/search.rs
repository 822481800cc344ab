//! Chinese search on both databases: 2-character words, serials and models by prefix,
//! contacts, every word must match, nothing unrelated.

use crate::both;
use crate::common::TestApp;
use serde_json::{Value, json};

/// Search hits name their serial as `number`; list rows as `serial_no`.
fn numbers(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["number"].as_str().or(h["serial_no"].as_str()).unwrap_or_default().to_owned())
        .collect();
    n.sort();
    n
}

both!(search_finds_chinese_words_serials_and_contacts, |app: TestApp| async move {
    let t = app.token("agent").await;
    for (sys, kind, serial, model, loc) in [
        ("surveillance", "网络摄像机", "DS2CD-0001", "DS-2CD3T46WDV3-I3", "校门口监控立杆"),
        ("network", "无线AP", "HW-AP-0002", "AirEngine5761", "教学楼 3 楼走廊"),
        ("broadcast", "IP广播主机", "DSP-0003", "MAG6182", "行政楼广播室"),
    ] {
        let (s, v) = app.post_json(&t, "/api/v1/equipment", &json!({"customer_id": app.school1, "system": sys, "kind": kind, "serial_no": serial, "model": model, "location": loc})).await;
        assert_eq!(s, reqwest::StatusCode::CREATED, "{v}");
    }
    let q = |q: &str| {
        let app = app.clone();
        let t = t.clone();
        let q = q.to_owned();
        async move { app.get_json(&t, &format!("/api/v1/search?q={}", aftercare_web_encode(&q))).await.1 }
    };
    // A 2-character word finds what contains it…
    assert_eq!(numbers(&q("立杆").await), ["DS2CD-0001"]);
    assert_eq!(numbers(&q("广播").await), ["DSP-0003"]);
    // …the system's Chinese name finds its equipment…
    assert_eq!(numbers(&q("监控").await), ["DS2CD-0001"]);
    // …but characters that are not contiguous do not: 网监 is not in 网络监控.
    assert!(numbers(&q("网监").await).is_empty());
    assert!(numbers(&q("机房").await).is_empty());
    // Serial numbers and model codes, whole or by prefix, any case.
    assert_eq!(numbers(&q("ds2cd-0001").await), ["DS2CD-0001"]);
    assert_eq!(numbers(&q("AirEngine").await), ["HW-AP-0002"]);
    assert_eq!(numbers(&q("mag61").await), ["DSP-0003"]);
    // Every word must match.
    assert_eq!(numbers(&q("监控 立杆").await), ["DS2CD-0001"]);
    assert!(numbers(&q("监控 广播室").await).is_empty());
    // Schools by name and by a contact's name or phone; kind tells what a hit is.
    let v = q("王老师 蓉城镇").await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["kind"], "customer");
    assert_eq!(v["items"][0]["id"], app.school2);
    let v = q("1390566111").await;
    assert_eq!(v["items"][0]["id"], app.school1);
    // Punctuation and operators are just characters.
    assert!(numbers(&q("\" OR * NEAR(").await).is_empty());
    assert_eq!(q("").await["total"], 0);
    // The equipment list's search box uses the same index.
    let (_, v) = app.get_json(&t, &format!("/api/v1/equipment?q={}", aftercare_web_encode("教学楼 走廊"))).await;
    assert_eq!(numbers(&v), ["HW-AP-0002"]);
    // Renaming a school re-indexes its equipment under the new name.
    let body = json!({"name": "城关镇实验小学", "code": "T-CG-01", "county": "青阳县", "town": "城关镇"});
    let (s, _) = app.send_json(reqwest::Method::PUT, &t, &format!("/api/v1/customers/{}", app.school1), &body).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let (_, v) = app.get_json(&t, &format!("/api/v1/equipment?q={}", aftercare_web_encode("实验小学 立杆"))).await;
    assert_eq!(numbers(&v), ["DS2CD-0001"]);
});

/// The tokens documents were written with before session 13: every CJK character alone
/// as well as in its bigrams.
fn tokens_before_session_13(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let cs: Vec<char> = word.chars().collect();
        if cs.first().is_some_and(|c| c.is_ascii_alphanumeric()) {
            out.push(word.to_lowercase());
            continue;
        }
        for (i, c) in cs.iter().enumerate() {
            out.push(c.to_string());
            if let Some(n) = cs.get(i + 1) {
                out.push(format!("{c}{n}"));
            }
        }
    }
    out.dedup();
    out.join(" ")
}

both!(single_characters_and_documents_indexed_before_still_match, |app: TestApp| async move {
    let t = app.token("agent").await;
    let mut ids = Vec::new();
    for (sys, kind, serial, loc) in [
        ("surveillance", "网络摄像机", "DS2CD-0101", "校门口监控立杆"),
        ("broadcast", "IP广播主机", "DSP-0103", "行政楼广播室"),
    ] {
        let body =
            json!({"customer_id": app.school1, "system": sys, "kind": kind, "serial_no": serial, "location": loc});
        let (s, v) = app.post_json(&t, "/api/v1/equipment", &body).await;
        assert_eq!(s, reqwest::StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    let q = |q: &str| {
        let app = app.clone();
        let t = t.clone();
        let q = q.to_owned();
        async move { numbers(&app.get_json(&t, &format!("/api/v1/search?q={}", aftercare_web_encode(&q))).await.1) }
    };
    // One character finds every record holding it: at the start, inside, or ending a run
    // (documents keep bigrams and a run's last character, not every character alone).
    assert_eq!(q("摄").await, ["DS2CD-0101"]);
    assert_eq!(q("杆").await, ["DS2CD-0101"]);
    assert_eq!(q("室").await, ["DSP-0103"]);
    assert_eq!(q("播").await, ["DSP-0103"]);
    assert!(q("鑫").await.is_empty());
    // A document written before, with every character as a token of its own, still
    // matches words and single characters.
    let old = tokens_before_session_13("网络摄像机 ds2cd 0101 校门口监控立杆");
    let sql = match &app.db {
        aftercare_store::Db::Sqlite(_) => {
            format!("UPDATE search_docs SET body = '{old}' WHERE kind = 'equipment' AND ref_id = {}", ids[0])
        }
        aftercare_store::Db::Postgres(_) => format!(
            "UPDATE search_docs SET tsv = array_to_tsvector(string_to_array('{old}', ' ')) \
             WHERE kind = 'equipment' AND ref_id = {}",
            ids[0]
        ),
    };
    crate::shortages::exec(&app.db, &sql).await;
    for word in ["立", "杆", "立杆", "监控", "摄像", "ds2cd"] {
        assert_eq!(q(word).await, ["DS2CD-0101"], "{word}");
    }
    assert!(q("网监").await.is_empty());
});

fn aftercare_web_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The global search's plan on SQLite, one line per step.
async fn search_plan(c: &mut sqlx::SqliteConnection, sql: &str) -> Vec<String> {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
        .bind(r#"[" 监控 "]"#)
        .bind(-1_i64)
        .bind(50_i64)
        .fetch_all(&mut *c)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.3).collect()
}

/// The statistics refreshed at start-up once made the planner scan the schools and their
/// equipment and probe the hits (1.9 ms → 1 s per search after a restart): the plan must be
/// the same with and without them, driven by the full-text hits, each record found by key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_plan_does_not_depend_on_statistics_sqlite() {
    crate::common::run(crate::common::Backend::Sqlite, |app: TestApp| async move {
        let aftercare_store::Db::Sqlite(pool) = &app.db else { unreachable!() };
        let sql = aftercare_store::search::search_sql(&app.db);
        let mut c = pool.acquire().await.unwrap();
        sqlx::query("DELETE FROM sqlite_stat1").execute(&mut *c).await.unwrap();
        sqlx::query("ANALYZE sqlite_schema").execute(&mut *c).await.unwrap();
        let without = search_plan(&mut c, &sql).await;
        // A county's proportions: 5,000 schools, 200,000 pieces of equipment, a million
        // tickets; the index averages as ANALYZE found them on the seeded rows.
        let t = app.token("agent").await;
        for i in 0..20 {
            let body = json!({"customer_id": app.school1, "system": "surveillance", "kind": "网络摄像机", "serial_no": format!("PL-{i}"), "location": "校门口监控"});
            app.post_json(&t, "/api/v1/equipment", &body).await;
        }
        sqlx::query("ANALYZE").execute(&mut *c).await.unwrap();
        for (table, rows) in [("customers", 5_000), ("equipment", 200_000), ("tickets", 1_000_000), ("contacts", 50_000)] {
            sqlx::query(
                "UPDATE sqlite_stat1 SET stat = $2 || CASE WHEN instr(stat, ' ') > 0 THEN substr(stat, instr(stat, ' ')) ELSE '' END WHERE tbl = $1",
            )
            .bind(table)
            .bind(rows.to_string())
            .execute(&mut *c)
            .await
            .unwrap();
        }
        sqlx::query("ANALYZE sqlite_schema").execute(&mut *c).await.unwrap();
        let with = search_plan(&mut c, &sql).await;
        assert_eq!(without, with, "the plan changed with the statistics");
        for step in with.iter().filter(|s| s.starts_with("SCAN ")) {
            let what = step.split_whitespace().nth(1).unwrap_or_default();
            // The parts catalogue is read whole: it is small, and matched by code or name.
            // …and the window that ranks each kind's hits reads subqueries of them; the terms
            // are a JSON list, and the documents waiting for the index (`sp`) are a few.
            let derived = ["m", "search_fts", "hits", "ranked", "p", "json_each", "sp"].contains(&what)
                || what.starts_with("(subquery");
            assert!(derived, "a record table is scanned: {step}\n{with:#?}");
        }
    })
    .await;
}

/// How SQLite plans the statement FTS5 removes a merged segment with, on `c`.
async fn segment_delete_plan(c: &mut sqlx::SqliteConnection) -> String {
    let rows: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("EXPLAIN QUERY PLAN DELETE FROM search_fts_data WHERE id >= $1 AND id <= $2")
            .bind(1_i64)
            .bind(9_i64)
            .fetch_all(&mut *c)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
}

/// Analyzed while nearly empty, the index's data table was recorded as two rows, and the
/// planner then scanned the whole index for every merged segment FTS5 removed: a new
/// database's create p99 went from 10 to 140 ms in two minutes. After `Db::optimize` every
/// connection — the one that ran it and any opened later — seeks the segment's range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_text_index_plans_do_not_depend_on_statistics_sqlite() {
    crate::common::run(crate::common::Backend::Sqlite, |app: TestApp| async move {
        use sqlx::ConnectOptions;
        let aftercare_store::Db::Sqlite(pool) = &app.db else { unreachable!() };
        let seeks =
            |plan: &str| plan.contains("SEARCH search_fts_data USING INTEGER PRIMARY KEY") && !plan.contains("SCAN");
        // What a plain ANALYZE of the near-empty index leaves: the scan this guards against.
        let mut c = pool.connect_options().connect().await.unwrap();
        sqlx::query("ANALYZE").execute(&mut c).await.unwrap();
        let small: String = sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'search_fts_data'")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert!(small.parse::<i64>().unwrap() < 10, "{small}");
        let plan = segment_delete_plan(&mut c).await;
        assert!(!seeks(&plan), "premise: with {small} rows recorded the planner scans: {plan}");
        app.db.optimize().await.unwrap();
        let mut pooled = pool.acquire().await.unwrap();
        let mut fresh = pool.connect_options().connect().await.unwrap();
        for plan in [segment_delete_plan(&mut pooled).await, segment_delete_plan(&mut fresh).await] {
            assert!(seeks(&plan), "{plan}");
        }
        // And again once the statistics exist and `PRAGMA optimize` re-analyzes the table.
        let t = app.token("agent").await;
        for i in 0..80 {
            let body = json!({"customer_id": app.school1, "system": "surveillance", "title": format!("监控黑屏 {i}")});
            assert_eq!(app.post_json(&t, "/api/v1/tickets", &body).await.0, reqwest::StatusCode::CREATED);
        }
        app.db.optimize().await.unwrap();
        let mut fresh = pool.connect_options().connect().await.unwrap();
        let plan = segment_delete_plan(&mut fresh).await;
        assert!(seeks(&plan), "{plan}");
        let idx: Vec<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl IN ('search_fts_data', 'search_fts_idx') ORDER BY tbl",
        )
        .fetch_all(&mut fresh)
        .await
        .unwrap();
        let pinned: Vec<(String, Option<String>, String)> = aftercare_store::db::FTS_TABLE_STATS
            .iter()
            .map(|(t, i, s)| (t.to_string(), i.map(str::to_owned), s.to_string()))
            .collect();
        assert_eq!(idx, pinned);
    })
    .await;
}

both!(search_groups_hits_by_kind_with_totals, |app: TestApp| async move {
    let t = app.token("agent").await;
    for i in 0..12 {
        let body = json!({"customer_id": app.school1, "system": "surveillance", "kind": "网络摄像机", "serial_no": format!("GRP-{i:02}"), "location": "操场监控"});
        assert_eq!(app.post_json(&t, "/api/v1/equipment", &body).await.0, reqwest::StatusCode::CREATED);
    }
    for title in ["监控录像丢失", "校门口监控黑屏", "监控硬盘报警"] {
        let body = json!({"customer_id": app.school1, "system": "surveillance", "title": title});
        assert_eq!(app.post_json(&t, "/api/v1/tickets", &body).await.0, reqwest::StatusCode::CREATED);
    }
    let store = app.token("store").await;
    let part = json!({"code": "HDD-4T-JK", "name": "监控硬盘 4TB", "unit": "块", "unit_cost": 480});
    assert_eq!(app.post_json(&store, "/api/v1/parts", &part).await.0, reqwest::StatusCode::CREATED);

    let (s, v) = app.get_json(&t, &format!("/api/v1/search?q={}", aftercare_web_encode("监控"))).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");
    let groups: Vec<(String, i64)> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["kind"].as_str().unwrap().to_owned(), g["total"].as_i64().unwrap()))
        .collect();
    // Tickets first (the flat list used to cut them off behind 100 equipment), then
    // equipment, then parts; each with its own total.
    assert_eq!(groups, [("ticket".into(), 3), ("equipment".into(), 12), ("part".into(), 1)], "{v}");
    assert_eq!(v["total"], 16);
    let kinds: Vec<&str> = v["items"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "equipment").count(), 10, "the best 10 of each kind");
    assert_eq!(v["groups"][1]["list"], "/equipment?q=%E7%9B%91%E6%8E%A7");
    // A school finds its own tickets and equipment, never the parts catalogue.
    let (_, v) =
        app.get_json(&app.token("school1").await, &format!("/api/v1/search?q={}", aftercare_web_encode("监控"))).await;
    assert!(v["groups"].as_array().unwrap().iter().all(|g| g["kind"] != "part"), "{v}");
    // The page: a group per kind with its total, and "all 12" opening the equipment list.
    let (c, _) = app.browser("agent").await;
    let page = c.get(app.url("/search?q=%E7%9B%91%E6%8E%A7")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"kind-ticket\"") && page.contains("id=\"kind-part\""), "{page}");
    assert!(page.contains("href=\"/equipment?q=%E7%9B%91%E6%8E%A7\"") && page.contains("全部 12 条"));
    let list = c.get(app.url("/equipment?q=%E7%9B%91%E6%8E%A7")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("GRP-00") && list.contains("GRP-11"));
});

/// How many documents wait for SQLite's full-text index (none on PostgreSQL).
async fn pending(app: &TestApp) -> i64 {
    match &app.db {
        aftercare_store::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM search_pending").fetch_one(p).await.unwrap()
        }
        aftercare_store::Db::Postgres(_) => 0,
    }
}

/// SQLite: FTS5's own check that its index holds exactly the tokens of the documents it
/// was given (rank 1: compared with the content table, so nothing may be pending).
async fn fts_matches_documents(app: &TestApp) {
    if let aftercare_store::Db::Sqlite(p) = &app.db {
        assert_eq!(pending(app).await, 0);
        sqlx::query("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)")
            .execute(p)
            .await
            .expect("the full-text index matches search_docs");
    }
}

// SQLite puts new search documents into the full-text index in batches
// (`search::FLUSH_AT`): a record is found while its document waits, after a group of
// creates indexes it, after the upkeep does, after an edit either side, and not after its
// document is removed; the index then holds exactly its documents, across a restart too.
both!(records_are_found_while_waiting_for_the_index_and_after, |app: TestApp| async move {
    use aftercare_store::search::{FLUSH_AT, index_pending};
    use std::time::Duration;
    let t = app.token("agent").await;
    let tickets = |q: &str| {
        let (app, t, q) = (app.clone(), t.clone(), q.to_owned());
        async move {
            let (s, v) = app.get_json(&t, &format!("/api/v1/tickets?q={}", aftercare_web_encode(&q))).await;
            assert_eq!(s, reqwest::StatusCode::OK, "{v}");
            v["total"].as_i64().unwrap()
        }
    };
    let search = |q: &str| {
        let (app, t, q) = (app.clone(), t.clone(), q.to_owned());
        async move { numbers(&app.get_json(&t, &format!("/api/v1/search?q={}", aftercare_web_encode(&q))).await.1) }
    };
    // One waiting: found by the list's search box and by the global search, by a whole
    // word and by a prefix.
    let before = pending(&app).await;
    let body = json!({"customer_id": app.school1, "system": "network", "title": "机房交换机掉线 批次k000"});
    let (s, first) = app.post_json(&t, "/api/v1/tickets", &body).await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{first}");
    let first_no = first["number"].as_str().unwrap().to_owned();
    if app.backend == crate::common::Backend::Sqlite {
        assert_eq!(pending(&app).await, before + 1, "a new document waits");
    }
    assert_eq!(tickets("交换机").await, 1);
    assert_eq!(search("交换 批次k0").await, [first_no.as_str()]);
    assert!(search("交换 批次k1").await.is_empty());
    // More than a batch, one group each: a group that finds FLUSH_AT waiting indexes them.
    let more = FLUSH_AT as usize + 5;
    for i in 1..=more {
        let body =
            json!({"customer_id": app.school1, "system": "network", "title": format!("机房交换机掉线 批次k{i:03}")});
        assert_eq!(app.post_json(&t, "/api/v1/tickets", &body).await.0, reqwest::StatusCode::CREATED);
    }
    assert!(pending(&app).await < FLUSH_AT, "the groups indexed what waited");
    assert_eq!(tickets("交换机").await, more as i64 + 1, "indexed and waiting, each once");
    assert_eq!(search("交换 批次k000").await, [first_no.as_str()]);
    // An indexed document rewritten waits again with its new words, its old ones gone.
    let e = app.equipment(&t, app.school1, "network", "核心交换机", "BATCH-01").await;
    let id = e["id"].as_i64().unwrap();
    index_pending(&app.db, Duration::ZERO).await.unwrap();
    fts_matches_documents(&app).await;
    assert_eq!(search("核心交换").await, ["BATCH-01"]);
    let put = |loc: &str| json!({"customer_id": app.school1, "system": "network", "kind": "核心交换机", "serial_no": "BATCH-01", "location": loc});
    let (s, v) = app.send_json(reqwest::Method::PUT, &t, &format!("/api/v1/equipment/{id}"), &put("中心机房")).await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");
    assert_eq!(search("中心机房 核心").await, ["BATCH-01"]);
    // …and rewritten again while waiting: only the newest words count.
    app.send_json(reqwest::Method::PUT, &t, &format!("/api/v1/equipment/{id}"), &put("广播室")).await;
    assert!(search("中心机房 核心").await.is_empty());
    assert_eq!(search("广播室").await, ["BATCH-01"]);
    // A removed document is found neither waiting nor indexed.
    let remove = |number: &str| {
        format!(
            "DELETE FROM search_docs WHERE kind = 'ticket' AND ref_id = (SELECT id FROM tickets WHERE number = '{number}')"
        )
    };
    let (_, last) = app
        .post_json(
            &t,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "system": "network", "title": "机房交换机掉线 批次k999"}),
        )
        .await;
    crate::shortages::exec(&app.db, &remove(last["number"].as_str().unwrap())).await;
    crate::shortages::exec(&app.db, &remove(&first_no)).await;
    assert!(search("批次k999").await.is_empty());
    assert!(search("批次k000").await.is_empty());
    assert_eq!(tickets("交换机").await, more as i64);
    index_pending(&app.db, Duration::ZERO).await.unwrap();
    fts_matches_documents(&app).await;
    assert_eq!(search("广播室").await, ["BATCH-01"]);
    // Waiting documents are rows like any other: a restart finds them, and the upkeep
    // indexes them once they have waited a second.
    app.send_json(reqwest::Method::PUT, &t, &format!("/api/v1/equipment/{id}"), &put("图书馆")).await;
    let db = aftercare_store::Db::connect(&app.url).await.unwrap();
    let found = aftercare_store::search::search(&db, "图书馆", None, 10).await.unwrap();
    assert_eq!(found.iter().map(|g| g.hits.len()).sum::<usize>(), 1, "{found:?}");
    let waited = pending(&app).await;
    index_pending(&db, Duration::from_secs(60)).await.unwrap();
    assert_eq!(pending(&app).await, waited, "nothing has waited a minute");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    db.upkeep().await.unwrap();
    db.close().await;
    fts_matches_documents(&app).await;
    assert_eq!(search("图书馆").await, ["BATCH-01"]);
    assert_eq!(tickets("交换机").await, more as i64);
});

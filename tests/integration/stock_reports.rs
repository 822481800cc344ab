//! Stock reports and the stocktake (issue 5, §2.5(3)(4)): capital tied up per warehouse
//! and category, turnover and slow movers, failure counts and rates from defective
//! returns, a stocktake posting exactly its variances, and the catalogue's Excel round trip.

use crate::both;
use crate::common::{TestApp, hidden};
use crate::excel::{far_corner, workbook, zip_bomb};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn part(app: &TestApp, t: &str, code: &str, category: &str, supplier: &str) -> i64 {
    let body =
        json!({"code": code, "name": format!("{code} 备件"), "unit": "个", "category": category, "supplier": supplier});
    let (s, v) = app.post_json(t, "/api/v1/parts", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn warehouse(app: &TestApp, t: &str, code: &str) -> i64 {
    let (s, v) = app.post_json(t, "/api/v1/warehouses", &json!({"code": code, "name": format!("{code} 仓库")})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn post(app: &TestApp, t: &str, body: Value) {
    let (s, v) = app.post_json(t, "/api/v1/stock/movements", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

fn today() -> chrono::NaiveDate {
    // The reports work in the service's local zone (Asia/Shanghai by default); a day
    // either side does not change these figures.
    Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

both!(valuation_counts_capital_turnover_and_slow_movers, |app: TestApp| async move {
    let t = app.token("store").await;
    let (a, b) = (warehouse(&app, &t, "DEPOT").await, warehouse(&app, &t, "EAST").await);
    let p1 = part(&app, &t, "SW-24", "网络", "华为").await;
    let p2 = part(&app, &t, "CAM-4", "监控", "海康威视").await;
    // Two receipts at ¥100 and ¥120: the moving average is ¥110.
    for cost in [100.0, 120.0] {
        post(&app, &t, json!({"kind": "receipt", "part_id": p1, "warehouse_id": a, "qty": 10, "unit_cost": cost}))
            .await;
    }
    post(&app, &t, json!({"kind": "issue", "part_id": p1, "warehouse_id": a, "qty": 5})).await;
    post(&app, &t, json!({"kind": "receipt", "part_id": p2, "warehouse_id": b, "qty": 4, "unit_cost": 50})).await;

    let (s, v) = app.get_json(&t, "/api/v1/stock/valuation").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total_fen"], 185_000, "{v}");
    assert_eq!(v["total_units"], 19);
    let wh = |id: i64| v["by_warehouse"].as_array().unwrap().iter().find(|g| g["id"] == id).unwrap().clone();
    assert_eq!(wh(a)["value_fen"], 165_000);
    assert_eq!(wh(a)["units"], 15);
    assert_eq!(wh(b)["value_fen"], 20_000);
    let cat =
        |n: &str| v["by_category"].as_array().unwrap().iter().find(|g| g["name"] == n).unwrap()["value_fen"].clone();
    assert_eq!(cat("网络"), 165_000);
    assert_eq!(cat("监控"), 20_000);
    // Issued 5 × ¥110; the stock grew from 0 to ¥1,850 in the period: average ¥925.
    assert_eq!(v["issued_fen"], 55_000);
    assert_eq!(v["issued_units"], 5);
    assert_eq!(v["opening_fen"], 0);
    assert_eq!(v["closing_fen"], 185_000);
    assert_eq!(v["average_fen"], 92_500);
    let turnover = v["turnover"].as_f64().unwrap();
    assert!((turnover - 55_000.0 / 92_500.0).abs() < 1e-9, "{turnover}");
    assert!(v["turnover_days"].as_f64().unwrap() > 365.0);
    // Slow movers: the camera was never issued; the switch was, today.
    let slow = v["slow_movers"].as_array().unwrap();
    assert_eq!(slow.len(), 1, "{v}");
    assert_eq!(slow[0]["part_id"], p2);
    assert_eq!(slow[0]["warehouse_id"], b);
    assert_eq!(slow[0]["value_fen"], 20_000);
    assert_eq!(v["slow_fen"], 20_000);
    // 200 days on, nothing has been issued for 180 days: both are slow.
    let later = today() + Duration::days(200);
    let (s, v) = app.get_json(&t, &format!("/api/v1/stock/valuation?to={later}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["slow_movers"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["slow_fen"], 185_000);
    // A period ending before it starts is refused; a school user sees nothing.
    let (s, v) = app.get_json(&t, "/api/v1/stock/valuation?from=2026-05-01&to=2026-04-01").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = app.get_json(&app.token("school1").await, "/api/v1/stock/valuation").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The page shows the figures.
    let (c, _) = app.browser("manager").await;
    let html = c.get(app.url("/stock/valuation")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("1,850.00") && html.contains("CAM-4"), "{html}");
});

both!(quality_counts_failures_per_part_model_and_supplier, |app: TestApp| async move {
    let t = app.token("store").await;
    let a = warehouse(&app, &t, "DEPOT").await;
    let p1 = part(&app, &t, "SW-24", "网络", "华为").await;
    let p3 = part(&app, &t, "AP-5", "网络", "TP-LINK").await;
    // Another part of the same supplier that never failed still counts in its rate.
    let p4 = part(&app, &t, "SW-8", "网络", "华为").await;
    let agent = app.token("agent").await;
    let eq = app.equipment(&agent, app.school1, "surveillance", "camera", "SN-Q-1").await["id"].as_i64().unwrap();
    post(&app, &t, json!({"kind": "receipt", "part_id": p1, "warehouse_id": a, "qty": 10, "unit_cost": 100})).await;
    post(&app, &t, json!({"kind": "issue", "part_id": p1, "warehouse_id": a, "qty": 4})).await;
    post(&app, &t, json!({"kind": "receipt", "part_id": p4, "warehouse_id": a, "qty": 4, "unit_cost": 50})).await;
    post(&app, &t, json!({"kind": "issue", "part_id": p4, "warehouse_id": a, "qty": 4})).await;
    post(&app, &t, json!({"kind": "defective_return", "part_id": p1, "warehouse_id": a, "qty": 1, "equipment_id": eq}))
        .await;
    post(&app, &t, json!({"kind": "defective_return", "part_id": p1, "warehouse_id": a, "qty": 1})).await;
    post(&app, &t, json!({"kind": "defective_return", "part_id": p3, "warehouse_id": a, "qty": 2})).await;

    let (s, v) = app.get_json(&t, "/api/v1/stock/quality").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total_failures"], 4);
    let find = |list: &str, key: &str| {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("{list} {key}: {v}"))
            .clone()
    };
    let sw = find("by_part", "SW-24");
    assert_eq!((sw["failures"].clone(), sw["issued"].clone(), sw["rate"].clone()), (json!(2), json!(4), json!(0.5)));
    let ap = find("by_part", "AP-5");
    assert_eq!((ap["failures"].clone(), ap["rate"].clone()), (json!(2), Value::Null));
    assert_eq!(find("by_model", "DS-2CD3T46")["failures"], 1);
    assert_eq!(find("by_model", "")["failures"], 3);
    assert_eq!(find("by_supplier", "华为")["rate"], 0.25);
    assert_eq!(v["by_part"].as_array().unwrap().len(), 2, "only parts that failed: {v}");
    assert_eq!(find("by_supplier", "TP-LINK")["failures"], 2);
    // Nothing in a period before today.
    let (s, v) = app.get_json(&t, "/api/v1/stock/quality?from=2020-01-01&to=2020-12-31").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total_failures"], 0);
});

both!(stocktake_posts_exactly_the_variances, |app: TestApp| async move {
    let t = app.token("store").await;
    let a = warehouse(&app, &t, "DEPOT").await;
    let mut ids = Vec::new();
    for (code, qty) in [("P-1", 10), ("P-2", 5), ("P-3", 3)] {
        let p = part(&app, &t, code, "耗材", "").await;
        post(&app, &t, json!({"kind": "receipt", "part_id": p, "warehouse_id": a, "qty": qty, "unit_cost": 10})).await;
        ids.push(p);
    }
    let lines = json!([{"part_id": ids[0], "counted": 8}, {"part_id": ids[1], "counted": 5}, {"part_id": ids[2], "counted": 6}]);
    let before = app.count("stock_movements").await;
    // No reason: 422 naming it, nothing posted.
    let (s, v) = app.post_json(&t, "/api/v1/stock/counts", &json!({"warehouse_id": a, "lines": lines})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "reason", "{v}");
    assert_eq!(app.count("stock_movements").await, before);
    // A negative count is refused too; a technician may not post a stocktake.
    let bad = json!({"warehouse_id": a, "reason": "月末盘点", "lines": [{"part_id": ids[0], "counted": -1}]});
    let (s, v) = app.post_json(&t, "/api/v1/stock/counts", &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "lines[0].counted");
    let body = json!({"warehouse_id": a, "reason": "2026年11月月末盘点", "lines": lines});
    let (s, _) = app.post_json(&app.token("tech").await, "/api/v1/stock/counts", &body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("stock_movements").await, before);

    let (s, v) = app.post_json(&t, "/api/v1/stock/counts", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["unchanged"], 1);
    let adj = v["adjustments"].as_array().unwrap();
    assert_eq!(adj.len(), 2, "{v}");
    assert_eq!(
        (adj[0]["part_id"].clone(), adj[0]["direction"].clone(), adj[0]["qty"].clone()),
        (json!(ids[0]), json!("decrease"), json!(2))
    );
    assert_eq!(
        (adj[1]["part_id"].clone(), adj[1]["direction"].clone(), adj[1]["qty"].clone()),
        (json!(ids[2]), json!("increase"), json!(3))
    );
    assert!(adj.iter().all(|m| m["kind"] == "adjustment" && m["note"] == "2026年11月月末盘点"));
    assert_eq!(app.count("stock_movements").await, before + 2);
    let (_, stock) = app.get_json(&t, &format!("/api/v1/stock?warehouse_id={a}")).await;
    let on_hand: Vec<i64> = ids
        .iter()
        .map(|p| {
            stock["items"].as_array().unwrap().iter().find(|r| r["part_id"] == *p).unwrap()["on_hand"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(on_hand, vec![8, 5, 6]);

    // The count sheet, and the same stocktake from the phone form: only the variance posts.
    let (c, _) = app.browser("store").await;
    let html = c.get(app.url(&format!("/stock/count?warehouse={a}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("P-1") && html.contains("P-3") && html.contains("name=\"counted_"), "{html}");
    let csrf = hidden(&html, "_csrf");
    let form = [
        ("_csrf", csrf.clone()),
        ("warehouse_id", a.to_string()),
        ("reason", "抽盘".to_string()),
        (&*format!("counted_{}", ids[0]), "8".to_string()),
        (&*format!("counted_{}", ids[1]), "4".to_string()),
        (&*format!("counted_{}", ids[2]), String::new()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect::<Vec<_>>();
    let r = c.post(app.url("/stock/count")).form(&form).send().await.unwrap();
    assert!(r.status().is_success() || r.status() == StatusCode::SEE_OTHER, "{}", r.status());
    assert_eq!(app.count("stock_movements").await, before + 3);
    // Without a reason the page says so and posts nothing.
    let form: Vec<(String, String)> = vec![
        ("_csrf".into(), csrf),
        ("warehouse_id".into(), a.to_string()),
        ("reason".into(), String::new()),
        (format!("counted_{}", ids[0]), "1".into()),
    ];
    let r = c.post(app.url("/stock/count")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("stock_movements").await, before + 3);
});

async fn import(app: &TestApp, t: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = app.client.post(app.url("/api/v1/parts/import")).bearer_auth(t).body(bytes).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

both!(catalogue_export_imports_again_and_bad_rows_write_nothing, |app: TestApp| async move {
    let t = app.token("store").await;
    let body = json!({"code": "SW-24", "name": "交换机", "spec": "S1720-28GWR", "unit": "台", "category": "网络",
        "critical": true, "supplier": "华为", "unit_cost": 1280.5, "lead_time_days": 7, "min_qty": 2, "max_qty": 6});
    let (s, v) = app.post_json(&t, "/api/v1/parts", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    part(&app, &t, "CAB-5E", "线材", "").await;
    let r = app.get(&t, "/api/v1/parts/export").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    // Prices and quotas are numbers in the workbook (a SUM works); codes stay text.
    {
        use calamine::{Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
        let sheet = wb.worksheet_range_at(0).unwrap().unwrap();
        let sw = sheet.rows().find(|r| r[0] == "SW-24").unwrap().to_vec();
        assert_eq!(sw[9], Data::Float(1280.5), "{sw:?}");
        assert_eq!(sw[11], Data::Float(2.0), "{sw:?}");
        assert!(matches!(sw[0], Data::String(_)), "{sw:?}");
    }
    // Round trip: the same file updates both parts and changes nothing else.
    let (s, v) = import(&app, &t, bytes).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["created"].clone(), v["updated"].clone()), (json!(0), json!(2)));
    let (_, list) = app.get_json(&t, "/api/v1/parts?q=SW-24").await;
    let sw = &list["items"][0];
    assert_eq!(
        (sw["unit_cost"].clone(), sw["critical"].clone(), sw["max_qty"].clone()),
        (json!(1280.5), json!(true), json!(6))
    );
    assert_eq!(sw["spec"], "S1720-28GWR");
    assert_eq!(sw["version"], 2);

    // A new part and two bad rows: every bad row reported, nothing written.
    let head = vec!["备件编码", "名称", "单位", "单价(元)", "关键备件"];
    let bad = workbook(&[(
        "备件",
        vec![
            head.clone(),
            vec!["NEW-1", "新备件", "个", "5", "是"],
            vec!["NEW-2", "无单位", "", "abc", ""],
            vec!["NEW-1", "重复", "个", "1", "也许"],
        ],
    )]);
    let parts_before = app.count("parts").await;
    let (s, v) = import(&app, &t, bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let rows: Vec<(i64, String)> = v["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_i64().unwrap(), r["field"].as_str().unwrap().to_owned()))
        .collect();
    for want in [(3, "unit_cost"), (3, "unit"), (4, "critical"), (4, "code")] {
        assert!(rows.contains(&(want.0, want.1.to_owned())), "{want:?} in {v}");
    }
    assert_eq!(app.count("parts").await, parts_before);
    // The good row alone imports; a technician may not import.
    let good = workbook(&[("备件", vec![head.clone(), vec!["NEW-1", "新备件", "个", "5", "是"]])]);
    let (s, _) = import(&app, &app.token("tech").await, good.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = import(&app, &t, good).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["created"], 1);
    assert_eq!(app.count("parts").await, parts_before + 1);
    // The catalogue page links both.
    let (c, _) = app.browser("store").await;
    let html = c.get(app.url("/parts")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("/parts/export.xlsx") && html.contains("/parts/import"), "{html}");
});

both!(a_hostile_catalogue_is_refused_and_the_server_lives, |app: TestApp| async move {
    let t = app.token("store").await;
    let (c, csrf) = app.browser("store").await;
    let before = (app.count("parts").await, app.count("audit_log").await);
    for (bytes, code) in
        [(far_corner("备件", "备件编码"), "too_many_rows"), (zip_bomb("备件", "备件编码", b" ", 110), "too_much_data")]
    {
        let (s, v) = import(&app, &t, bytes).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(
            (v["error"]["fields"][0]["field"].as_str(), v["error"]["fields"][0]["code"].as_str()),
            (Some("file"), Some(code)),
            "{v}"
        );
    }
    // Through the page too, in the reader's language.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .part("file", reqwest::multipart::Part::bytes(far_corner("备件", "备件编码")).file_name("parts.xlsx"));
    let r = c.post(app.url("/parts/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("行数超过上限"));
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(before, (app.count("parts").await, app.count("audit_log").await));
});

/// Appends one ledger row at `at` directly (only the reports' columns matter here).
async fn ledger_row(app: &TestApp, part: i64, wh: i64, row: (&str, &str, i64, i64, &str, &str)) {
    let (no, kind, qty, cost, at, extra) = row;
    let (dir, outcome) = match extra {
        "increase" | "decrease" => (Some(extra), None),
        "" => (None, None),
        o => (None, Some(o)),
    };
    let sql = "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, qty, direction, unit_cost_fen, at, \
               balance_after, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)";
    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc);
    let n = match &app.db {
        aftercare_store::Db::Sqlite(p) => sqlx::query(sql)
            .bind(no)
            .bind(kind)
            .bind(part)
            .bind(wh)
            .bind(qty)
            .bind(dir)
            .bind(cost)
            .bind(at)
            .bind(outcome)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
        aftercare_store::Db::Postgres(p) => sqlx::query(sql)
            .bind(no)
            .bind(kind)
            .bind(part)
            .bind(wh)
            .bind(qty)
            .bind(dir)
            .bind(cost)
            .bind(at)
            .bind(outcome)
            .execute(p)
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(n, 1);
}

both!(value_flows_by_the_hour_equal_the_ledger_at_any_bounds, |app: TestApp| async move {
    use aftercare_store::stock_reports::flows;
    let t = app.token("store").await;
    let p = part(&app, &t, "FL-1", "耗材", "").await;
    let w = warehouse(&app, &t, "FL").await;
    // Rows in three hours of one day; every kind the flows count, and those they do not.
    let rows = [
        ("FL-01", "receipt", 10, 500, "2026-03-02T10:05:00Z", ""),
        ("FL-02", "issue", 3, 500, "2026-03-02T10:40:00Z", ""),
        ("FL-03", "adjustment", 1, 500, "2026-03-02T11:00:00Z", "increase"),
        ("FL-04", "scrap", 2, 500, "2026-03-02T11:20:00Z", ""),
        ("FL-05", "return", 1, 500, "2026-03-02T11:59:59Z", ""),
        ("FL-06", "return", 2, 400, "2026-03-02T12:10:00Z", "repaired"),
        ("FL-07", "scrap", 4, 0, "2026-03-02T12:15:00Z", "rma"),
        ("FL-08", "adjustment", 2, 500, "2026-03-02T12:30:00Z", "decrease"),
        ("FL-09", "issue", 1, 500, "2026-03-02T12:45:00Z", ""),
        ("FL-10", "defective_return", 5, 0, "2026-03-02T12:50:00Z", ""),
    ];
    for row in rows {
        ledger_row(&app, p, w, row).await;
    }
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    // Whole day: issued 4 × 500; net = +5000 − 1500 + 500 − 1000 + 500 + 800 − 1000 − 500.
    let day = flows(&app.db, at("2026-03-02T00:00:00Z"), at("2026-03-03T00:00:00Z")).await.unwrap();
    assert_eq!((day.issued_fen, day.issued_units, day.net_change_fen), (2000, 4, 2800));
    // Bounds inside hours: whole hours from the sums, the ends from the ledger.
    let mid = flows(&app.db, at("2026-03-02T10:30:00Z"), at("2026-03-02T12:40:00Z")).await.unwrap();
    assert_eq!(
        (mid.issued_fen, mid.issued_units, mid.net_change_fen),
        (1500, 3, -1500 + 500 - 1000 + 500 + 800 - 1000)
    );
    // Within one hour: the ledger alone; an empty or reversed period is nothing.
    let one = flows(&app.db, at("2026-03-02T12:12:00Z"), at("2026-03-02T12:46:00Z")).await.unwrap();
    assert_eq!((one.issued_fen, one.net_change_fen), (500, -1000 - 500));
    let none = flows(&app.db, at("2026-03-02T12:00:00Z"), at("2026-03-02T12:00:00Z")).await.unwrap();
    assert_eq!((none.issued_units, none.net_change_fen), (0, 0));
    // Exactly one hour, boundary rows included at the start and excluded at the end.
    let h11 = flows(&app.db, at("2026-03-02T11:00:00Z"), at("2026-03-02T12:00:00Z")).await.unwrap();
    assert_eq!(h11.net_change_fen, 500 - 1000 + 500);
});

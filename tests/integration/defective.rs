//! Defective parts after they come back: repaired into usable stock, returned to the
//! vendor (RMA) or scrapped; each appends a ledger row; never below zero; roles.

use crate::both;
use crate::common::{TestApp, hidden};
use aftercare_domain::defective::Outcome;
use aftercare_domain::parts::{AdjustDirection, LedgerEntry, MovementKind, ledger_defective, ledger_on_hand};
use aftercare_store::Db;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DISPOSE: &str = "/api/v1/stock/defective/dispose";

/// A part at ¥100 with 10 usable units and 6 defective ones in a new depot.
async fn setup(app: &TestApp, t: &str) -> (i64, i64) {
    let (s, p) = app
        .post_json(t, "/api/v1/parts", &json!({"code": "ap-1", "name": "无线AP", "unit": "台", "unit_cost": 100}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, w) = app.post_json(t, "/api/v1/warehouses", &json!({"code": "dep-1", "name": "县仓"})).await;
    assert_eq!(s, StatusCode::CREATED, "{w}");
    let (part, wh) = (p["id"].as_i64().unwrap(), w["id"].as_i64().unwrap());
    let (s, v) = app
        .post_json(
            t,
            "/api/v1/stock/movements",
            &json!({"kind": "receipt", "part_id": part, "warehouse_id": wh, "qty": 10, "unit_cost": 100}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .post_json(
            t,
            "/api/v1/stock/movements",
            &json!({"kind": "defective_return", "part_id": part, "warehouse_id": wh, "qty": 6}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (part, wh)
}

async fn buckets(app: &TestApp, t: &str, part: i64, wh: i64) -> (i64, i64, f64) {
    let (s, v) = app.get_json(t, &format!("/api/v1/stock?part_id={part}&warehouse_id={wh}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r = &v["items"][0];
    (r["on_hand"].as_i64().unwrap(), r["defective"].as_i64().unwrap(), r["avg_cost"].as_f64().unwrap())
}

async fn movement_count(app: &TestApp, t: &str, part: i64) -> usize {
    let (_, v) = app.get_json(t, &format!("/api/v1/stock/movements?part_id={part}&per_page=100")).await;
    v["items"].as_array().unwrap().len()
}

async fn dispose(app: &TestApp, t: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(t, DISPOSE, &body).await
}

both!(defective_each_outcome_moves_the_right_bucket, |app: TestApp| async move {
    let t = app.token("store").await;
    let (part, wh) = setup(&app, &t).await;
    assert_eq!(buckets(&app, &t, part, wh).await, (10, 6, 100.0));

    let (s, m) = dispose(
        &app,
        &t,
        json!({"part_id": part, "warehouse_id": wh, "qty": 2, "outcome": "repaired", "note": "换电容"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!((m["kind"].as_str(), m["outcome"].as_str()), (Some("return"), Some("repaired")));
    assert_eq!(m["balance_after"], 4, "the defective count after");
    assert_eq!(m["note"], "Repaired: 换电容");
    assert_eq!(buckets(&app, &t, part, wh).await, (12, 4, 100.0), "back into usable stock at the average");

    let (s, m) =
        dispose(&app, &t, json!({"part_id": part, "warehouse_id": wh, "qty": 1, "outcome": "rma", "note": "寄回厂家"}))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!((m["kind"].as_str(), m["outcome"].as_str()), (Some("scrap"), Some("rma")));
    assert_eq!((m["balance_after"].as_i64(), m["note"].as_str()), (Some(3), Some("RMA: 寄回厂家")));
    assert_eq!(buckets(&app, &t, part, wh).await, (12, 3, 100.0), "usable stock untouched");

    let manager = app.token("manager").await;
    let (s, m) =
        dispose(&app, &manager, json!({"part_id": part, "warehouse_id": wh, "qty": 3, "outcome": "scrap"})).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!((m["kind"].as_str(), m["outcome"].as_str()), (Some("scrap"), Some("scrap")));
    assert_eq!(m["balance_after"], 0);
    assert_eq!(m["unit_cost"], 0.0, "a defective part is not in the stock's value");
    assert_eq!(buckets(&app, &t, part, wh).await, (12, 0, 100.0));
    // receipt + defective return + three disposals.
    assert_eq!(movement_count(&app, &t, part).await, 5);
});

both!(defective_dispose_more_than_there_is_is_409, |app: TestApp| async move {
    let t = app.token("store").await;
    let (part, wh) = setup(&app, &t).await;
    let before = app.count("stock_movements").await;
    let (s, e) = dispose(&app, &t, json!({"part_id": part, "warehouse_id": wh, "qty": 7, "outcome": "scrap"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "insufficient_stock");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("AP-1") && msg.contains('6'), "names the part and the defective count left: {msg}");
    assert_eq!(buckets(&app, &t, part, wh).await, (10, 6, 100.0), "nothing changed");
    assert_eq!(app.count("stock_movements").await, before);
});

both!(defective_dispose_bad_input_and_roles, |app: TestApp| async move {
    let t = app.token("store").await;
    let (part, wh) = setup(&app, &t).await;
    let before = app.count("stock_movements").await;
    for (body, field) in [
        (json!({"part_id": part, "warehouse_id": wh, "qty": 0, "outcome": "scrap"}), "qty"),
        (json!({"part_id": part, "warehouse_id": wh, "qty": -2, "outcome": "scrap"}), "qty"),
        (json!({"part_id": part, "warehouse_id": wh, "qty": 1, "outcome": "lost"}), "outcome"),
        (json!({"part_id": part, "warehouse_id": wh, "qty": 1}), "outcome"),
        (json!({"part_id": 99_999, "warehouse_id": wh, "qty": 1, "outcome": "scrap"}), "part_id"),
        (json!({"part_id": part, "warehouse_id": 99_999, "qty": 1, "outcome": "scrap"}), "warehouse_id"),
    ] {
        let (s, e) = dispose(&app, &t, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {e}");
        let fields: Vec<&str> =
            e["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{body} → {e}");
    }
    let tech = app.token("tech").await;
    let (s, e) = dispose(&app, &tech, json!({"part_id": part, "warehouse_id": wh, "qty": 1, "outcome": "scrap"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(buckets(&app, &t, part, wh).await, (10, 6, 100.0), "nothing changed");
    assert_eq!(app.count("stock_movements").await, before);
});

both!(defective_stock_page_form, |app: TestApp| async move {
    let t = app.token("store").await;
    let (part, wh) = setup(&app, &t).await;
    let (c, _) = app.browser("store").await;
    let page = c.get(app.url("/stock")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("id=\"defective-{part}-{wh}\"")), "the defective row is listed");
    let csrf = hidden(&page, "_csrf");
    let form = |qty: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("part_id", part.to_string()),
            ("warehouse_id", wh.to_string()),
            ("qty", qty.to_string()),
            ("outcome", "repaired".to_string()),
            ("note", "".to_string()),
        ]
    };
    let r = c.post(app.url("/stock/defective/dispose")).form(&form("9")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("flash-error"));
    let r = c.post(app.url("/stock/defective/dispose")).form(&form("1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(buckets(&app, &t, part, wh).await, (11, 5, 100.0));
    // A technician sees the list but no form.
    let (c, _) = app.browser("tech").await;
    let page = c.get(app.url("/stock")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("id=\"defective-{part}-{wh}\"")));
    assert!(!page.contains("action=\"/stock/defective/dispose\""));
});

/// Sets a user's language before their token is taken (the session carries it).
pub(crate) async fn speak(app: &TestApp, user: &str, locale: &str) {
    let sql = "UPDATE users SET locale = $1 WHERE username = $2";
    match &app.db {
        Db::Sqlite(p) => {
            sqlx::query(sql).bind(locale).bind(user).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).bind(locale).bind(user).execute(p).await.unwrap();
        }
    }
}

async fn mv(app: &TestApp, t: &str, body: Value) -> Value {
    let (s, v) = app.post_json(t, "/api/v1/stock/movements", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{body} → {v}");
    v
}

both!(defective_disposals_add_up_in_the_ledger, |app: TestApp| async move {
    let t = app.token("store").await;
    let (s, p) = app
        .post_json(&t, "/api/v1/parts", &json!({"code": "cam-1", "name": "枪机", "unit": "台", "unit_cost": 300}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let part = p["id"].as_i64().unwrap();
    let mut whs = Vec::new();
    for (code, name) in [("dep-a", "县仓"), ("dep-b", "片区仓")] {
        let (s, w) = app.post_json(&t, "/api/v1/warehouses", &json!({"code": code, "name": name})).await;
        assert_eq!(s, StatusCode::CREATED, "{w}");
        whs.push(w["id"].as_i64().unwrap());
    }
    let (a, b) = (whs[0], whs[1]);
    mv(&app, &t, json!({"kind": "receipt", "part_id": part, "warehouse_id": a, "qty": 20, "unit_cost": 300})).await;
    mv(&app, &t, json!({"kind": "issue", "part_id": part, "warehouse_id": a, "qty": 6})).await;
    mv(&app, &t, json!({"kind": "transfer", "part_id": part, "warehouse_id": a, "to_warehouse_id": b, "qty": 5})).await;
    mv(&app, &t, json!({"kind": "issue", "part_id": part, "warehouse_id": b, "qty": 2})).await;
    mv(&app, &t, json!({"kind": "return", "part_id": part, "warehouse_id": a, "qty": 1})).await;
    mv(&app, &t, json!({"kind": "defective_return", "part_id": part, "warehouse_id": a, "qty": 5})).await;
    mv(&app, &t, json!({"kind": "defective_return", "part_id": part, "warehouse_id": b, "qty": 2})).await;
    mv(&app, &t, json!({"kind": "scrap", "part_id": part, "warehouse_id": a, "qty": 1, "note": "受潮"})).await;
    for (wh, qty, outcome) in [(a, 2, "repaired"), (a, 1, "rma"), (a, 1, "scrap"), (b, 2, "rma")] {
        let (s, m) =
            dispose(&app, &t, json!({"part_id": part, "warehouse_id": wh, "qty": qty, "outcome": outcome})).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
    }

    let (s, v_moves) = app.get_json(&t, &format!("/api/v1/stock/movements?part_id={part}&per_page=100")).await;
    assert_eq!(s, StatusCode::OK, "{v_moves}");
    let rows: Vec<LedgerEntry> = v_moves["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| LedgerEntry {
            kind: MovementKind::parse(m["kind"].as_str().unwrap()).unwrap(),
            direction: m["direction"].as_str().and_then(AdjustDirection::parse),
            outcome: m["outcome"].as_str().map(|o| Outcome::parse(o).unwrap()),
            qty: m["qty"].as_i64().unwrap(),
            warehouse_id: m["warehouse_id"].as_i64().unwrap(),
            to_warehouse_id: m["to_warehouse_id"].as_i64(),
        })
        .collect();
    assert_eq!(rows.len(), 12);
    assert_eq!(rows.iter().filter(|r| r.outcome.is_some()).count(), 4, "the list says which rows are disposals");
    assert!(rows.iter().any(|r| r.kind == MovementKind::Scrap && r.outcome.is_none()), "an ordinary scrap has none");

    let (s, v) = app.get_json(&t, &format!("/api/v1/stock?part_id={part}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let stock = v["items"].as_array().unwrap();
    assert_eq!(stock.len(), 2);
    for r in stock {
        let wh = r["warehouse_id"].as_i64().unwrap();
        let (on_hand, defective) = (r["on_hand"].as_i64().unwrap(), r["defective"].as_i64().unwrap());
        assert_eq!(ledger_on_hand(rows.clone(), wh), on_hand, "usable on-hand at {wh}");
        assert_eq!(ledger_defective(rows.clone(), wh), defective, "defective count at {wh}");
    }
    // The figures themselves: A 20 − 6 − 5 + 1 − 1 + 2 repaired = 11, defective 5 − 4 = 1;
    // B 5 − 2 = 3, defective 2 − 2 = 0.
    assert_eq!(buckets(&app, &t, part, a).await.0, 11);
    assert_eq!(buckets(&app, &t, part, a).await.1, 1);
    assert_eq!(buckets(&app, &t, part, b).await.0, 3);
    assert_eq!(buckets(&app, &t, part, b).await.1, 0);

    // Everything happened today, so the period's opening value is nothing: the flows count
    // the repaired units as value in and the RMA and scrapped defective ones not at all.
    let (s, v) = app.get_json(&t, "/api/v1/stock/valuation").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["total_units"].as_i64(), v["opening_fen"].as_i64()), (Some(14), Some(0)), "{v}");

    // The issue ledger (领用记录表) lists issues and the unused part handed back, not the
    // repaired one.
    let no = |kind: &str, outcome: Option<&str>| {
        v_moves["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == kind && m["outcome"].as_str() == outcome)
            .map(|m| m["movement_no"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (unused, repaired) = (no("return", None), no("return", Some("repaired")));
    let (c, _) = app.browser("store").await;
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let html = c
        .get(app.url(&format!("/stock/ledger?from={today}&to={today}&warehouse={a}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&unused), "the unused part handed back is listed");
    assert!(!html.contains(&repaired), "a repaired defective part is no return of an unused one");
});

both!(defective_too_few_speaks_the_users_language, |app: TestApp| async move {
    let t = app.token("store").await;
    let (part, wh) = setup(&app, &t).await;
    let (s, e) = dispose(&app, &t, json!({"part_id": part, "warehouse_id": wh, "qty": 7, "outcome": "rma"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("坏件不足") && msg.contains("县仓") && msg.contains('6'), "{msg}");
    speak(&app, "manager", "en").await;
    let en = app.token("manager").await;
    let (s, e) = dispose(&app, &en, json!({"part_id": part, "warehouse_id": wh, "qty": 7, "outcome": "rma"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("defective") && msg.contains("AP-1") && msg.contains('6'), "{msg}");
    assert!(!msg.contains('坏'), "no Chinese in an English message: {msg}");
});

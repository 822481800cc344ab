//! Reserve quotas (储备定额) and shortage alerts (§2.5(1), §3.2.9): quota validation and
//! roles, one alert per shortage raised by a movement or by the sweep, closing by itself,
//! acknowledgement stopping the escalation, the penalty proposed once with an injected
//! clock, and the purchase suggestion.

use crate::both;
use crate::common::TestApp;
use aftercare_store::Db;
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn part(app: &TestApp, t: &str, body: Value) -> i64 {
    let (s, v) = app.post_json(t, "/api/v1/parts", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn warehouse(app: &TestApp, t: &str, code: &str) -> i64 {
    let (s, v) = app.post_json(t, "/api/v1/warehouses", &json!({"code": code, "name": format!("{code} 仓库")})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn quota(app: &TestApp, t: &str, part: i64, wh: i64, min: i64, max: Option<i64>) -> (StatusCode, Value) {
    app.send_json(
        Method::PUT,
        t,
        "/api/v1/stock/quotas",
        &json!({"part_id": part, "warehouse_id": wh, "min_qty": min, "max_qty": max}),
    )
    .await
}

async fn move_(app: &TestApp, t: &str, kind: &str, part: i64, wh: i64, qty: i64) {
    let (s, v) = app
        .post_json(
            t,
            "/api/v1/stock/movements",
            &json!({"kind": kind, "part_id": part, "warehouse_id": wh, "qty": qty}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

async fn alerts(app: &TestApp, t: &str, query: &str) -> Vec<Value> {
    let (s, v) = app.get_json(t, &format!("/api/v1/stock/shortages{query}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

async fn notifications(app: &TestApp, t: &str, kind: &str) -> Vec<Value> {
    let (s, v) = app.get_json(t, "/api/v1/notifications").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().iter().filter(|n| n["kind"] == kind).cloned().collect()
}

pub(crate) async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(p).await.unwrap(),
    }
}

pub(crate) async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(p).await.unwrap();
        }
    }
}

both!(shortage_quota_validation_and_permissions, |app: TestApp| async move {
    let store = app.token("store").await;
    let manager = app.token("manager").await;
    let tech = app.token("tech").await;
    let p = part(&app, &store, json!({"code": "Q-1", "name": "网线钳", "unit": "把"})).await;
    let w = warehouse(&app, &store, "QD").await;

    let (s, e) = quota(&app, &tech, p, w, 1, Some(3)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, e) = quota(&app, &store, p, w, 5, Some(2)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "max_qty");
    let (s, e) = quota(&app, &store, p, w, -1, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "min_qty");
    let (s, e) = quota(&app, &store, p + 100, w, 1, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "part_id");
    let (s, e) = quota(&app, &store, p, w + 100, 1, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "warehouse_id");
    // Nothing was written by the refusals.
    assert_eq!(app.count("stock").await, 0);
    assert_eq!(app.count("shortage_alerts").await, 0);

    // The storekeeper and the manager may; a quota with no stock yet is a shortage of 0.
    let (s, v) = quota(&app, &manager, p, w, 0, Some(4)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["min_qty"].as_i64(), v["max_qty"].as_i64(), v["on_hand"].as_i64()), (Some(0), Some(4), Some(0)));
    assert_eq!(app.count("shortage_alerts").await, 0, "min 0 is no quota");
    let (s, v) = quota(&app, &store, p, w, 2, Some(6)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["min_qty"].as_i64(), v["max_qty"].as_i64()), (Some(2), Some(6)));
    let (_, st) = app.get_json(&tech, &format!("/api/v1/stock?part_id={p}&warehouse_id={w}")).await;
    assert_eq!(st["items"][0]["min_qty"], 2);
    assert_eq!(st["items"][0]["max_qty"], 6);
    assert_eq!(alerts(&app, &tech, "").await.len(), 1, "setting a min above on-hand raises the alert");
    // Nobody but the storekeeper or manager acknowledges.
    let id = alerts(&app, &tech, "").await[0]["id"].as_i64().unwrap();
    let (s, _) = app.post_json(&tech, &format!("/api/v1/stock/shortages/{id}/acknowledge"), &json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post_json(&store, "/api/v1/stock/shortages/99999/acknowledge", &json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
});

both!(shortage_issue_below_min_raises_one_alert_and_receipt_closes_it, |app: TestApp| async move {
    let store = app.token("store").await;
    let manager = app.token("manager").await;
    let p = part(&app, &store, json!({"code": "SW-8", "name": "8口交换机", "unit": "台", "critical": true})).await;
    let w = warehouse(&app, &store, "DEPOT").await;
    let (s, v) = quota(&app, &store, p, w, 3, Some(10)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Setting the quota on an empty row raised one; the receipt closes it.
    move_(&app, &store, "receipt", p, w, 5).await;
    assert!(alerts(&app, &store, "").await.is_empty());
    let before = notifications(&app, &manager, "shortage").await.len();
    let store_before = notifications(&app, &store, "shortage").await.len();

    move_(&app, &store, "issue", p, w, 2).await; // 3: at min, not short
    assert!(alerts(&app, &store, "").await.is_empty());
    move_(&app, &store, "issue", p, w, 1).await; // 2 < 3
    move_(&app, &store, "issue", p, w, 1).await; // 1: still the same shortage
    let open = alerts(&app, &store, "").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["on_hand"], 2);
    assert_eq!(open[0]["min_qty"], 3);
    assert_eq!(open[0]["current_on_hand"], 1);
    assert!(open[0]["acknowledged_at"].is_null());
    let n = notifications(&app, &manager, "shortage").await;
    assert_eq!(n.len(), before + 1, "{n:?}");
    assert!(
        n[0]["text"].as_str().unwrap_or_default().contains("SW-8") || n[0]["args_json"].to_string().contains("SW-8")
    );
    // The storekeeper, who must reorder, is told as well (issue 12: the role that acts).
    assert_eq!(notifications(&app, &store, "shortage").await.len(), store_before + 1, "the storekeeper is told too");
    // The sweep finds nothing more to raise.
    let svc = aftercare_service::Services::new(app.db.clone());
    let run = svc.check_shortages(Utc::now()).await.unwrap();
    assert_eq!((run.raised, run.closed), (0, 0));
    // No SMTP configured: no mail queued.
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'send_mail'").await, 0);

    // Back at min: closed by itself; a new fall raises a new one.
    move_(&app, &store, "receipt", p, w, 2).await;
    assert!(alerts(&app, &store, "").await.is_empty());
    let all = alerts(&app, &store, "?open=false").await;
    assert_eq!(all.len(), 2, "the quota's and the issue's");
    assert!(all.iter().all(|a| !a["closed_at"].is_null()));
    move_(&app, &store, "issue", p, w, 1).await;
    assert_eq!(alerts(&app, &store, "").await.len(), 1);
    assert_eq!(app.count("shortage_alerts").await, 3);
});

both!(shortage_sweep_catches_a_catalogue_min_and_mails_managers, |app: TestApp| async move {
    let store = app.token("store").await;
    let p = part(&app, &store, json!({"code": "CAM-1", "name": "半球摄像机", "unit": "台"})).await;
    let w = warehouse(&app, &store, "SW").await;
    move_(&app, &store, "receipt", p, w, 1).await;
    // The catalogue's min changes without any movement: only the sweep sees it.
    let (s, v) = app.send_json(Method::PATCH, &store, &format!("/api/v1/parts/{p}"), &json!({"min_qty": 2})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(app.count("shortage_alerts").await, 0);
    exec(&app.db, "UPDATE users SET email = 'manager@example.com' WHERE username = 'manager'").await;
    let mail: aftercare_service::mail::MailConfig =
        serde_json::from_value(json!({"smtp": {"host": "127.0.0.1", "from": "service@example.com"}})).unwrap();
    let svc = aftercare_service::Services::new(app.db.clone()).with_mail(mail);
    let run = svc.check_shortages(Utc::now()).await.unwrap();
    assert_eq!(run.raised, 1);
    assert_eq!(svc.check_shortages(Utc::now()).await.unwrap().raised, 0, "once per shortage");
    assert_eq!(app.count("shortage_alerts").await, 1);
    assert_eq!(scalar(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'send_mail'").await, 1);
    // The min lowered again: the sweep closes it.
    let (s, _) = app.send_json(Method::PATCH, &store, &format!("/api/v1/parts/{p}"), &json!({"min_qty": 1})).await;
    assert_eq!(s, StatusCode::OK);
    let run = svc.check_shortages(Utc::now()).await.unwrap();
    assert_eq!((run.raised, run.closed), (0, 1));
});

both!(shortage_unacknowledged_proposes_one_penalty_acknowledged_none, |app: TestApp| async move {
    let store = app.token("store").await;
    let manager = app.token("manager").await;
    let p = part(&app, &store, json!({"code": "UPS-1", "name": "UPS电源", "unit": "台"})).await;
    let a = warehouse(&app, &store, "WA").await;
    let b = warehouse(&app, &store, "WB").await;
    for w in [a, b] {
        move_(&app, &store, "receipt", p, w, 3).await;
        quota(&app, &store, p, w, 2, Some(5)).await;
        move_(&app, &store, "issue", p, w, 2).await;
    }
    let open = alerts(&app, &store, "").await;
    assert_eq!(open.len(), 2, "{open:?}");
    let in_b = open.iter().find(|x| x["warehouse_id"] == b).unwrap()["id"].as_i64().unwrap();
    let (s, v) = app.post_json(&store, &format!("/api/v1/stock/shortages/{in_b}/acknowledge"), &json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!v["acknowledged_at"].is_null());
    assert!(v["acknowledged_by_name"].as_str().is_some());
    // Acknowledging again changes nothing.
    let (s, again) = app.post_json(&manager, &format!("/api/v1/stock/shortages/{in_b}/acknowledge"), &json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["acknowledged_at"], v["acknowledged_at"]);

    let svc = aftercare_service::Services::new(app.db.clone());
    let now = Utc::now();
    assert_eq!(svc.check_shortages(now + Duration::hours(23)).await.unwrap().proposed, 0, "not yet due");
    assert_eq!(
        svc.check_shortages(now + Duration::hours(25)).await.unwrap().proposed,
        1,
        "only the unacknowledged one"
    );
    assert_eq!(svc.check_shortages(now + Duration::hours(49)).await.unwrap().proposed, 0, "not twice");

    let (_, pe) = app.get_json(&manager, "/api/v1/penalties?status=proposed").await;
    let items: Vec<Value> =
        pe["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "unreported_shortage").cloned().collect();
    assert_eq!(items.len(), 1, "{pe}");
    let keeper = scalar(&app.db, "SELECT id FROM users WHERE username = 'store'").await;
    assert_eq!(items[0]["user_id"], keeper);
    assert!(items[0]["reason"].as_str().unwrap().contains("UPS-1"));
    let open = alerts(&app, &store, &format!("?warehouse_id={a}")).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["penalty_event_id"], items[0]["id"]);
    assert!(!open[0]["penalty_proposed_at"].is_null());
    assert_eq!(notifications(&app, &store, "shortage_overdue").await.len(), 1);
    // The manager reviews it on the usual page.
    let (client, _) = app.browser("manager").await;
    let html = client.get(app.url("/reviews")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("UPS-1"), "the proposal is on /reviews");
});

both!(shortage_purchase_suggestion_orders_up_to_max_critical_first, |app: TestApp| async move {
    let store = app.token("store").await;
    let tech = app.token("tech").await;
    let w = warehouse(&app, &store, "PD").await;
    let other = warehouse(&app, &store, "PO").await;
    let plain = part(
        &app,
        &store,
        json!({"code": "A-PLAIN", "name": "水晶头", "unit": "盒", "lead_time_days": 30, "unit_cost": 12.5}),
    )
    .await;
    let crit =
        part(&app, &store, json!({"code": "Z-CRIT", "name": "核心交换机", "unit": "台", "critical": true})).await;
    let fine = part(&app, &store, json!({"code": "M-FINE", "name": "跳线", "unit": "根"})).await;
    // plain: 10 in, 9 issued → 1 on hand, min 4 max 10.
    move_(&app, &store, "receipt", plain, w, 10).await;
    quota(&app, &store, plain, w, 4, Some(10)).await;
    move_(&app, &store, "issue", plain, w, 9).await;
    // crit: 1 on hand, min 2 max 6 (less short than plain, but critical).
    move_(&app, &store, "receipt", crit, w, 1).await;
    quota(&app, &store, crit, w, 2, Some(6)).await;
    // fine: above min.
    move_(&app, &store, "receipt", fine, w, 5).await;
    quota(&app, &store, fine, w, 1, None).await;
    // Another warehouse short of fine: not in this warehouse's list.
    quota(&app, &store, fine, other, 3, None).await;

    let (s, v) = app.get_json(&tech, &format!("/api/v1/stock/purchase-suggestions?warehouse_id={w}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["items"].as_array().unwrap();
    let codes: Vec<_> = items.iter().map(|i| i["part_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["Z-CRIT", "A-PLAIN"], "{v}");
    assert_eq!(items[0]["order_qty"], 5);
    assert!(items[0]["proposed_min"].is_null(), "no lead time, no proposal");
    assert_eq!(items[1]["order_qty"], 9);
    assert_eq!(items[1]["consumed"], 9);
    // ceil(9 / 182 × 30 × 1.5) = ceil(2.23) = 3.
    assert_eq!(items[1]["proposed_min"], 3);
    assert_eq!(items[1]["value"], 112.5);
    let (_, all) = app.get_json(&tech, "/api/v1/stock/purchase-suggestions").await;
    assert_eq!(all["total"], 3, "{all}");
    let empty = all["items"].as_array().unwrap().iter().find(|i| i["part_code"] == "M-FINE").unwrap();
    assert_eq!(empty["order_qty"], 3, "no max: fill to min");
    // After the critical part, the emptiest comes first.
    let codes: Vec<_> = all["items"].as_array().unwrap().iter().map(|i| i["part_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["Z-CRIT", "M-FINE", "A-PLAIN"]);
});

both!(shortage_page_quota_form_acknowledge_and_suggestion, |app: TestApp| async move {
    let store = app.token("store").await;
    let p = part(&app, &store, json!({"code": "PG-1", "name": "光模块", "unit": "个", "critical": true})).await;
    let w = warehouse(&app, &store, "PGW").await;
    move_(&app, &store, "receipt", p, w, 2).await;
    // The stock page links each row to its quota form.
    let (c, csrf) = app.browser("store").await;
    let html = c.get(app.url("/stock")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("/stock/shortages?part_id={p}&amp;warehouse_id={w}#quota")), "{html}");
    let r = c.get(app.url(&format!("/stock/shortages?part_id={p}&warehouse_id={w}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("id=\"quota-form\""));
    // Min above max: 422 on the page, nothing saved.
    let form = |min: &str, max: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("part_id", p.to_string()),
            ("warehouse_id", w.to_string()),
            ("min_qty", min.to_owned()),
            ("max_qty", max.to_owned()),
        ]
    };
    let r = c.post(app.url("/stock/quotas")).form(&form("5", "2")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("field-error"));
    assert_eq!(app.count("shortage_alerts").await, 0);
    let r = c.post(app.url("/stock/quotas")).form(&form("3", "8")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Short now: the alert and the suggestion to order 6.
    let html = c.get(app.url("/stock/shortages")).send().await.unwrap().text().await.unwrap();
    let id = alerts(&app, &store, "").await[0]["id"].as_i64().unwrap();
    assert!(html.contains(&format!("id=\"ack-{id}\"")), "{html}");
    assert!(html.contains(&format!("id=\"suggest-{p}-{w}\"")));
    assert!(html.contains("<strong>6</strong>"));
    // A technician sees it but can neither acknowledge nor set quotas.
    let (tc, tcsrf) = app.browser("tech").await;
    let html = tc
        .get(app.url(&format!("/stock/shortages?part_id={p}&warehouse_id={w}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("id=\"quota-form\"") && !html.contains(&format!("id=\"ack-{id}\"")));
    let r =
        tc.post(app.url(&format!("/stock/shortages/{id}/acknowledge"))).form(&[("_csrf", tcsrf)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url(&format!("/stock/shortages/{id}/acknowledge")))
        .form(&[("_csrf", csrf.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!alerts(&app, &store, "").await[0]["acknowledged_at"].is_null());
});

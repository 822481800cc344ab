//! Defective parts after they come back: repaired into usable stock, returned to the
//! vendor (RMA) or scrapped; each appends a ledger row; never below zero; roles.

use crate::both;
use crate::common::{TestApp, hidden};
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
    let tech = app.token("tech").await;
    let (s, v) = app
        .post_json(
            &tech,
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

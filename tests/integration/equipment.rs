//! Equipment: create, validation, unique serials, updates with versions, history, lists.

use crate::both;
use crate::common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(equipment_rules, |app: TestApp| async move {
    let t = app.token("engineer").await;
    let (s, e) = app
        .post_json(&t, "/api/v1/equipment", &json!({
            "customer_id": app.school1, "system": "network", "kind": "核心交换机", "brand": "华为", "model": "S5735-L24T4S-A",
            "serial_no": "hw-0001", "location": "行政楼 1 楼 中心机房", "installed_on": "2022-08-20", "warranty_until": "2025-08-19", "critical": true
        }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(e["serial_no"], "HW-0001");
    assert_eq!(e["status"], "in_service");
    assert_eq!(e["critical"], true);
    assert_eq!(e["installed_on"], "2022-08-20");
    let id = e["id"].as_i64().unwrap();

    // Unknown enum, bad date, date order, missing school: 422 naming each field; nothing written.
    let (s, err) = app.post_json(&t, "/api/v1/equipment", &json!({"customer_id": app.school1, "system": "lighting", "kind": "灯", "serial_no": "L1", "status": "lost"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> =
        err["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["system", "status"]);
    let (s, err) = app.post_json(&t, "/api/v1/equipment", &json!({"customer_id": app.school1, "system": "network", "kind": "AP", "serial_no": "D1", "installed_on": "2023-02-30"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"][0]["field"], "installed_on");
    let (s, err) = app.post_json(&t, "/api/v1/equipment", &json!({"customer_id": app.school1, "system": "network", "kind": "AP", "serial_no": "D2", "installed_on": "2023-02-01", "warranty_until": "2022-01-01"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"][0]["code"], "date_order");
    let (s, err) = app
        .post_json(
            &t,
            "/api/v1/equipment",
            &json!({"customer_id": 987654, "system": "network", "kind": "AP", "serial_no": "D3"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "customer_id");
    // A serial number is unique across the whole system, whatever its case.
    let (s, err) = app
        .post_json(
            &t,
            "/api/v1/equipment",
            &json!({"customer_id": app.school2, "system": "network", "kind": "AP", "serial_no": "HW-0001"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(err["error"]["fields"][0]["field"], "serial_no");
    assert_eq!(app.count("equipment").await, 1);

    // Update with the current version; a stale one is 409.
    let body = json!({"customer_id": app.school1, "system": "network", "kind": "核心交换机", "serial_no": "HW-0001", "status": "faulty", "version": 1});
    let (s, upd) = app.send_json(Method::PUT, &t, &format!("/api/v1/equipment/{id}"), &body).await;
    assert_eq!(s, StatusCode::OK, "{upd}");
    assert_eq!(upd["status"], "faulty");
    assert_eq!(upd["version"], 2);
    let (s, _) = app.send_json(Method::PUT, &t, &format!("/api/v1/equipment/{id}"), &body).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // History: create, then the update with what changed.
    let (s, h) = app.get_json(&t, &format!("/api/v1/equipment/{id}/history")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["total"], 2);
    assert_eq!(h["items"][0]["action"], "update");
    assert!(h["items"][0]["before_json"].as_str().unwrap().contains("in_service"));
    assert!(h["items"][0]["after_json"].as_str().unwrap().contains("faulty"));
    let (c, _) = app.browser("engineer").await;
    let page = c.get(app.url(&format!("/equipment/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<del>在用</del> → <ins>故障</ins>"), "history on the page");
});

both!(equipment_lists_filter_sort_and_page, |app: TestApp| async move {
    let t = app.token("agent").await;
    let today = chrono::Utc::now().date_naive();
    let d = |days: i64| (today + chrono::Duration::days(days)).to_string();
    let rows = [
        (app.school1, "surveillance", "EQ-A", Some(d(-10)), "faulty", true),
        (app.school1, "network", "EQ-B", Some(d(30)), "in_service", false),
        (app.school2, "surveillance", "EQ-C", Some(d(400)), "in_service", false),
        (app.school2, "broadcast", "EQ-D", None, "retired", false),
    ];
    for (c, sys, serial, w, status, critical) in rows {
        let (s, v) = app
            .post_json(&t, "/api/v1/equipment", &json!({"customer_id": c, "system": sys, "kind": "设备", "serial_no": serial, "warranty_until": w, "status": status, "critical": critical, "installed_on": d(-2000)}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let serials = |v: &serde_json::Value| {
        v["items"].as_array().unwrap().iter().map(|e| e["serial_no"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let (_, v) = app.get_json(&t, "/api/v1/equipment?system=surveillance&sort=serial").await;
    assert_eq!(serials(&v), ["EQ-A", "EQ-C"]);
    let (_, v) = app.get_json(&t, "/api/v1/equipment?warranty=expired").await;
    assert_eq!(serials(&v), ["EQ-A"]);
    let (_, v) = app.get_json(&t, "/api/v1/equipment?warranty=expiring").await;
    assert_eq!(serials(&v), ["EQ-B"]);
    let (_, v) = app.get_json(&t, "/api/v1/equipment?warranty=unknown").await;
    assert_eq!(serials(&v), ["EQ-D"]);
    let (_, v) = app.get_json(&t, "/api/v1/equipment?town=蓉城镇&sort=serial&desc=true").await;
    assert_eq!(serials(&v), ["EQ-D", "EQ-C"]);
    let (_, v) = app.get_json(&t, "/api/v1/equipment?critical=true").await;
    assert_eq!(serials(&v), ["EQ-A"]);
    let (_, v) = app.get_json(&t, "/api/v1/equipment?status=retired").await;
    assert_eq!(serials(&v), ["EQ-D"]);
    let (_, v) =
        app.get_json(&t, &format!("/api/v1/equipment?customer_id={}&sort=serial&per_page=1&page=2", app.school1)).await;
    assert_eq!(v["total"], 2);
    assert_eq!(serials(&v), ["EQ-B"]);
    // per_page is capped at 500.
    let (s, _) = app.get_json(&t, "/api/v1/equipment?per_page=100000").await;
    assert_eq!(s, StatusCode::OK);
    // The page shows the same filter.
    let (c, _) = app.browser("agent").await;
    let page =
        c.get(app.url("/equipment?system=surveillance&warranty=expired")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("EQ-A") && !page.contains("EQ-C") && !page.contains("EQ-B"));
});

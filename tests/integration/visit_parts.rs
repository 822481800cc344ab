//! Parts on visits (issue 5): a visit posts the parts used as `issue` movements from the
//! technician's vehicle stock and the defective parts brought back as `defective_return`,
//! both linked to the ticket and its equipment, in the visit's own transaction; the
//! equipment page lists the parts over its life.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{in_progress, user_id, visit};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Stock {
    ticket: i64,
    equipment: i64,
    /// A 4TB surveillance disk: 3 in the technician's vehicle, 5 in the depot.
    hdd: i64,
    /// An 8-port PoE switch: 1 in the vehicle.
    switch: i64,
    vehicle: i64,
    depot: i64,
}

async fn setup(app: &TestApp, serial: &str) -> Stock {
    let st = app.token("store").await;
    let mut ids = Vec::new();
    for (code, name) in [("HDD-4T", "监控硬盘 4TB"), ("POE-SW-8", "8口PoE交换机")] {
        let (s, v) = app
            .post_json(&st, "/api/v1/parts", &json!({"code": code, "name": name, "unit": "个", "unit_cost": 520.0}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    let tech = user_id(app, "tech").await;
    let (s, d) = app.post_json(&st, "/api/v1/warehouses", &json!({"code": "DEP", "name": "县城仓库"})).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let (s, v) = app
        .post_json(
            &st,
            "/api/v1/warehouses",
            &json!({"code": "VAN-1", "name": "张师傅随车", "kind": "vehicle", "holder_user_id": tech}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (depot, vehicle) = (d["id"].as_i64().unwrap(), v["id"].as_i64().unwrap());
    for (part, wh, qty) in [(ids[0], vehicle, 3), (ids[0], depot, 5), (ids[1], vehicle, 1)] {
        let (s, m) = app
            .post_json(
                &st,
                "/api/v1/stock/movements",
                &json!({"kind": "receipt", "part_id": part, "warehouse_id": wh, "qty": qty}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
    }
    let (ticket, equipment) = in_progress(app, serial).await;
    Stock { ticket, equipment, hdd: ids[0], switch: ids[1], vehicle, depot }
}

/// (on_hand, defective) of a part in a warehouse.
async fn level(app: &TestApp, part: i64, wh: i64) -> (i64, i64) {
    let t = app.token("store").await;
    let (s, v) = app.get_json(&t, &format!("/api/v1/stock?part_id={part}&warehouse_id={wh}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    match v["items"].as_array().unwrap().first() {
        Some(r) => (r["on_hand"].as_i64().unwrap(), r["defective"].as_i64().unwrap()),
        None => (0, 0),
    }
}

async fn ticket_movements(app: &TestApp, ticket: i64) -> Vec<Value> {
    let t = app.token("store").await;
    let (s, v) = app.get_json(&t, &format!("/api/v1/stock/movements?ticket_id={ticket}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

async fn post_visit(app: &TestApp, ticket: i64, extra: Value) -> (StatusCode, Value) {
    let mut body = visit("fixed", false);
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post_json(&app.token("tech").await, &format!("/api/v1/tickets/{ticket}/visits"), &body).await
}

async fn visit_count(app: &TestApp, ticket: i64) -> usize {
    let (s, v) = app.get_json(&app.token("engineer").await, &format!("/api/v1/tickets/{ticket}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["visits"].as_array().unwrap().len()
}

both!(visit_parts_used_leave_the_vehicle_stock_linked_to_ticket_and_equipment, |app: TestApp| async move {
    let k = setup(&app, "VP-NVR-1").await;
    let (s, v) = post_visit(
        &app,
        k.ticket,
        json!({"parts_used": [
            {"part_id": k.hdd, "warehouse_id": k.vehicle, "qty": 2, "serial_no": "wx-new-1"},
            {"part_id": k.switch, "warehouse_id": k.vehicle, "qty": 1}
        ]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["parts_used"], "监控硬盘 4TB × 1", "the free text stays for what is not in the catalogue");
    assert_eq!(level(&app, k.hdd, k.vehicle).await, (1, 0));
    assert_eq!(level(&app, k.switch, k.vehicle).await, (0, 0));
    assert_eq!(level(&app, k.hdd, k.depot).await, (5, 0), "the depot is untouched");
    let ms = ticket_movements(&app, k.ticket).await;
    assert_eq!(ms.len(), 2, "{ms:?}");
    for m in &ms {
        assert_eq!(m["kind"], "issue");
        assert_eq!(m["ticket_id"], k.ticket);
        assert_eq!(m["equipment_id"], k.equipment);
        assert_eq!(m["warehouse_id"], k.vehicle);
        assert!(m["by_name"].is_string());
    }
    let hdd = ms.iter().find(|m| m["part_id"] == k.hdd).unwrap();
    assert_eq!(
        (hdd["qty"].as_i64(), hdd["serial_no"].as_str(), hdd["balance_after"].as_i64()),
        (Some(2), Some("WX-NEW-1"), Some(1))
    );
    // The ledger still sums to on-hand.
    let t = app.token("store").await;
    let (_, all) =
        app.get_json(&t, &format!("/api/v1/stock/movements?part_id={}&warehouse_id={}", k.hdd, k.vehicle)).await;
    let sum: i64 = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| if m["kind"] == "receipt" { m["qty"].as_i64().unwrap() } else { -m["qty"].as_i64().unwrap() })
        .sum();
    assert_eq!(sum, 1);
});

both!(visit_defective_parts_go_to_the_defective_bucket_with_serials, |app: TestApp| async move {
    let k = setup(&app, "VP-NVR-2").await;
    let (s, v) = post_visit(
        &app,
        k.ticket,
        json!({
            "parts_used": [{"part_id": k.hdd, "warehouse_id": k.vehicle, "qty": 1, "serial_no": "wx-new-9"}],
            "defective_parts": [{"part_id": k.hdd, "qty": 1, "serial_no": "wx-old-7", "new_serial_no": "wx-new-9"}]
        }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // No warehouse named: the broken disk travels in the technician's vehicle.
    assert_eq!(level(&app, k.hdd, k.vehicle).await, (2, 1), "usable on-hand is not increased by a broken part");
    let ms = ticket_movements(&app, k.ticket).await;
    let d = ms.iter().find(|m| m["kind"] == "defective_return").expect("a defective return");
    assert_eq!(d["old_serial_no"], "WX-OLD-7");
    assert_eq!(d["serial_no"], "WX-NEW-9");
    assert_eq!(d["equipment_id"], k.equipment);
    assert_eq!(d["warehouse_id"], k.vehicle);
    assert_eq!(d["balance_after"], 1, "the defective count after");
    // Named explicitly: the depot's defective bucket.
    let (s, v) = post_visit(
        &app,
        k.ticket,
        json!({"defective_parts": [{"part_id": k.switch, "qty": 1, "serial_no": "sw-1", "warehouse_id": k.depot}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(level(&app, k.switch, k.depot).await, (0, 1));
    assert_eq!(ticket_movements(&app, k.ticket).await.len(), 3);
});

both!(visit_asking_more_than_the_stock_is_409_and_writes_nothing, |app: TestApp| async move {
    let k = setup(&app, "VP-NVR-3").await;
    let (s, v) = post_visit(
        &app,
        k.ticket,
        json!({
            "parts_used": [
                {"part_id": k.switch, "warehouse_id": k.vehicle, "qty": 1},
                {"part_id": k.hdd, "warehouse_id": k.vehicle, "qty": 4}
            ],
            "defective_parts": [{"part_id": k.hdd, "qty": 1, "serial_no": "old-1"}]
        }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "insufficient_stock");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("HDD-4T") && msg.contains('3') && msg.contains("张师傅随车"), "{msg}");
    assert_eq!(visit_count(&app, k.ticket).await, 0, "no visit");
    assert!(ticket_movements(&app, k.ticket).await.is_empty(), "no movement");
    assert_eq!(level(&app, k.switch, k.vehicle).await, (1, 0), "the first line was undone");
    assert_eq!(level(&app, k.hdd, k.vehicle).await, (3, 0));
    // The ticket did not move on either: the same version still records a visit.
    let (s, v) =
        post_visit(&app, k.ticket, json!({"parts_used": [{"part_id": k.hdd, "warehouse_id": k.vehicle, "qty": 3}]}))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(level(&app, k.hdd, k.vehicle).await, (0, 0));
});

both!(visit_bad_part_lines_are_422_naming_the_line, |app: TestApp| async move {
    let k = setup(&app, "VP-NVR-4").await;
    let fields = |v: &Value| -> Vec<(String, String)> {
        v["error"]["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| (f["field"].as_str().unwrap().to_owned(), f["code"].as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let f = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    let cases = [
        (
            json!({"parts_used": [{"part_id": 999_999, "warehouse_id": k.vehicle, "qty": 1}]}),
            vec![f("parts_used[0].part_id", "not_found")],
        ),
        (
            json!({"parts_used": [{"part_id": k.hdd, "warehouse_id": k.vehicle, "qty": 1}, {"part_id": k.hdd, "warehouse_id": 999_999, "qty": 1}]}),
            vec![f("parts_used[1].warehouse_id", "not_found")],
        ),
        (
            json!({"parts_used": [{"part_id": k.hdd, "warehouse_id": k.vehicle, "qty": 0}]}),
            vec![f("parts_used[0].qty", "out_of_range")],
        ),
        (
            json!({"parts_used": [{"qty": 1}]}),
            vec![f("parts_used[0].part_id", "required"), f("parts_used[0].warehouse_id", "required")],
        ),
        (
            json!({"defective_parts": [{"part_id": 999_999, "qty": 1}]}),
            vec![f("defective_parts[0].part_id", "not_found")],
        ),
        (
            json!({"defective_parts": [{"part_id": k.hdd, "qty": -2}]}),
            vec![f("defective_parts[0].qty", "out_of_range")],
        ),
        // A technician takes only from a vehicle stock he holds, not from the depot.
        (
            json!({"parts_used": [{"part_id": k.hdd, "warehouse_id": k.depot, "qty": 1}]}),
            vec![f("parts_used[0].warehouse_id", "not_your_stock")],
        ),
    ];
    for (body, want) in cases {
        let (s, v) = post_visit(&app, k.ticket, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {v}");
        assert_eq!(fields(&v), want, "{body}");
    }
    assert_eq!(visit_count(&app, k.ticket).await, 0);
    assert!(ticket_movements(&app, k.ticket).await.is_empty());
    assert_eq!(level(&app, k.hdd, k.vehicle).await, (3, 0));
    assert_eq!(level(&app, k.hdd, k.depot).await, (5, 0));
});

both!(visit_form_picks_vehicle_stock_and_equipment_page_lists_parts, |app: TestApp| async move {
    let k = setup(&app, "VP-NVR-5").await;
    let (c, csrf) = app.browser("tech").await;
    let form = c.get(app.url(&format!("/tickets/{}/visit", k.ticket))).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    let field = format!("use_{}_{}", k.hdd, k.vehicle);
    assert!(html.contains(&field) && html.contains("监控硬盘 4TB") && html.contains("使用备件"), "the picker");
    assert!(html.contains("def_part_0") && html.contains("旧件序列号"), "the defective lines");
    let version = crate::common::hidden(&html, "version");
    let mp = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .text("version", version)
        .text("arrived_at", "2026-12-01T09:10")
        .text("finished_at", "2026-12-01T10:00")
        .text("work_done", "更换监控硬盘")
        .text("result", "fixed")
        .text(field.clone(), "1")
        .text(format!("useserial_{}_{}", k.hdd, k.vehicle), "wx-page-new")
        .text("def_part_0", "HDD-4T 监控硬盘 4TB")
        .text("def_qty_0", "1")
        .text("def_old_0", "wx-page-old")
        .text("def_new_0", "wx-page-new");
    let r = c.post(app.url(&format!("/tickets/{}/visit", k.ticket))).multipart(mp).send().await.unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    assert_eq!(level(&app, k.hdd, k.vehicle).await, (2, 1));
    // Too many from the form: a 409 page naming the part, nothing written.
    let html = c.get(app.url(&format!("/tickets/{}/visit", k.ticket))).send().await.unwrap().text().await.unwrap();
    let mp = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("version", crate::common::hidden(&html, "version"))
        .text("arrived_at", "2026-12-02T09:10")
        .text("finished_at", "2026-12-02T10:00")
        .text("work_done", "再次更换")
        .text("result", "fixed")
        .text(field, "5");
    let r = c.post(app.url(&format!("/tickets/{}/visit", k.ticket))).multipart(mp).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("HDD-4T"));
    assert_eq!(level(&app, k.hdd, k.vehicle).await, (2, 1));
    assert_eq!(visit_count(&app, k.ticket).await, 1);
    // The equipment page: date, ticket number, part, quantity, serials.
    let (e, _) = app.browser("engineer").await;
    let page = e.get(app.url(&format!("/equipment/{}", k.equipment))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let (_, t) = app.get_json(&app.token("engineer").await, &format!("/api/v1/tickets/{}", k.ticket)).await;
    let number = t["number"].as_str().unwrap();
    assert!(html.contains("equipment-parts") && html.contains("备件更换记录"), "the section");
    assert!(html.contains(number) && html.contains("HDD-4T"), "ticket and part");
    assert!(html.contains("WX-PAGE-OLD") && html.contains("WX-PAGE-NEW"), "serials");
    assert!(html.contains("换下（坏件）") && html.contains("换上"));
});

//! Requisitions (领用单/领条): request → approve → issue posts the movements (linked to
//! the ticket) in one transaction; who may do what; bad input and short stock change
//! nothing; the printable slip and the ledger report with its Excel export.

use crate::both;
use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Setup {
    depot: i64,
    switch: i64,
    cable: i64,
    ticket: i64,
}

/// A depot with 5 switches at ¥100 and 20 cables at ¥2.50, and a ticket of school 1.
async fn setup(app: &TestApp) -> Setup {
    let store = app.token("store").await;
    let mk = |code: &'static str, name: &'static str, cost: f64| {
        let store = store.clone();
        async move {
            let (s, v) = app
                .post_json(
                    &store,
                    "/api/v1/parts",
                    &json!({"code": code, "name": name, "unit": "台", "unit_cost": cost}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            v["id"].as_i64().unwrap()
        }
    };
    let switch = mk("SW-8", "8口交换机", 100.0).await;
    let cable = mk("CAT6", "六类网线", 2.5).await;
    let (s, v) = app.post_json(&store, "/api/v1/warehouses", &json!({"code": "DEPOT", "name": "县城备件库"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let depot = v["id"].as_i64().unwrap();
    for (part, qty) in [(switch, 5), (cable, 20)] {
        let (s, v) = app
            .post_json(
                &store,
                "/api/v1/stock/movements",
                &json!({"kind": "receipt", "part_id": part, "warehouse_id": depot, "qty": qty}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let agent = app.token("agent").await;
    let (s, t) = app
        .post_json(
            &agent,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "title": "机房交换机坏", "system": "network"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    Setup { depot, switch, cable, ticket: t["id"].as_i64().unwrap() }
}

async fn on_hand(app: &TestApp, part: i64, wh: i64) -> i64 {
    let t = app.token("store").await;
    let (s, v) = app.get_json(&t, &format!("/api/v1/stock?part_id={part}&warehouse_id={wh}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"][0]["on_hand"].as_i64().unwrap_or(0)
}

async fn request(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(token, "/api/v1/requisitions", &body).await
}

async fn act(app: &TestApp, token: &str, id: i64, action: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(token, &format!("/api/v1/requisitions/{id}/actions/{action}"), &body).await
}

both!(requisition_request_approve_issue, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let tech = app.token("tech").await;
    let store = app.token("store").await;
    let manager = app.token("manager").await;
    let (s, r) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "ticket_id": s0.ticket, "purpose": "维修",
               "lines": [{"part_id": s0.switch, "qty": 2, "serial_no": "SN-001"}, {"part_id": s0.cable, "qty": 10}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    let no = r["requisition_no"].as_str().unwrap().to_string();
    assert!(no.starts_with("LY") && no.len() == "LY20261127-0001".len(), "{no}");
    assert_eq!(r["status"], "requested");
    assert_eq!(r["issue_type"], "issue");
    assert_eq!(r["lines"].as_array().unwrap().len(), 2);
    assert_eq!(r["actions"], json!(["cancel"]));

    // The technician sees it among his own; the storekeeper among those to approve.
    let (_, mine) = app.get_json(&tech, "/api/v1/requisitions").await;
    assert_eq!(mine["total"], 1);
    let (_, todo) = app.get_json(&store, "/api/v1/requisitions?scope=to_approve").await;
    assert_eq!(todo["items"][0]["id"], id);

    let (s, a) = act(&app, &manager, id, "approve", json!({"note": "同意"})).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["status"], "approved");
    assert_eq!(a["approver_name"], "manager 测试");
    // The storekeeper, who must issue it, is told, and the note leads to the requisition.
    let (_, notes) = app.get_json(&store, "/api/v1/notifications").await;
    let note = notes["items"].as_array().unwrap().iter().find(|n| n["kind"] == "requisition_approved").cloned();
    assert!(
        note.is_some_and(|n| n["args_json"].as_str().unwrap().contains(&format!("\"requisition_id\":{id}"))),
        "{notes}"
    );
    let (sc, _) = app.browser("store").await;
    let page = sc.get(app.url("/notifications")).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains(&format!("name=\"go\" value=\"/requisitions/{id}\"")) && page.contains("已审批，请发料"),
        "{page}"
    );
    assert_eq!(a["approval_note"], "同意");
    // Approving twice: 409 naming the status.
    let (s, e) = act(&app, &manager, id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");

    // The storekeeper issues one switch less than asked for.
    let line1 = a["lines"][0]["id"].as_i64().unwrap();
    let (s, e) = act(&app, &store, id, "issue", json!({"lines": [{"line_id": line1, "qty": 3}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "more than asked: {e}");
    let (s, i) =
        act(&app, &store, id, "issue", json!({"lines": [{"line_id": line1, "qty": 1}], "note": "先发一台"})).await;
    assert_eq!(s, StatusCode::OK, "{i}");
    assert_eq!(i["status"], "issued");
    assert_eq!(i["issuer_name"], "store 测试");
    assert_eq!(i["lines"][0]["qty_issued"], 1);
    assert_eq!(i["lines"][0]["unit_cost"], 100.0);
    assert_eq!(i["lines"][1]["qty_issued"], 10);
    assert_eq!(i["lines"][1]["amount"], 25.0);
    assert_eq!(on_hand(&app, s0.switch, s0.depot).await, 4);
    assert_eq!(on_hand(&app, s0.cable, s0.depot).await, 10);

    // He holds no vehicle stock: the movements are issues linked to the ticket, one per line.
    let (_, mv) = app.get_json(&store, &format!("/api/v1/stock/movements?ticket_id={}", s0.ticket)).await;
    assert_eq!(mv["total"], 2, "{mv}");
    for m in mv["items"].as_array().unwrap() {
        assert_eq!(m["kind"], "issue");
        assert!(m["note"].as_str().unwrap().contains(&no), "{m}");
    }
    let sw = mv["items"].as_array().unwrap().iter().find(|m| m["part_id"] == s0.switch).unwrap();
    assert_eq!(sw["serial_no"], "SN-001");
    assert_eq!(sw["qty"], 1);
    assert_eq!(sw["balance_after"], 4);
    assert_eq!(i["lines"][0]["movement_id"], sw["id"]);

    // Issued is final.
    let (s, e) = act(&app, &store, id, "issue", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = act(&app, &tech, id, "cancel", json!({"reason": "不要了"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");

    // Reject and cancel need a reason and end the requisition.
    let (_, r2) =
        request(&app, &tech, json!({"warehouse_id": s0.depot, "lines": [{"part_id": s0.cable, "qty": 1}]})).await;
    let id2 = r2["id"].as_i64().unwrap();
    let (s, e) = act(&app, &store, id2, "reject", json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "reason");
    let (s, r2) = act(&app, &store, id2, "reject", json!({"reason": "车载库存够用"})).await;
    assert_eq!(s, StatusCode::OK, "{r2}");
    assert_eq!(r2["status"], "rejected");
    assert_eq!(r2["approval_note"], "车载库存够用");
    let (_, r3) =
        request(&app, &tech, json!({"warehouse_id": s0.depot, "lines": [{"part_id": s0.cable, "qty": 1}]})).await;
    let id3 = r3["id"].as_i64().unwrap();
    let (s, r3) = act(&app, &tech, id3, "cancel", json!({"reason": "填错了"})).await;
    assert_eq!(s, StatusCode::OK, "{r3}");
    assert_eq!(r3["status"], "cancelled");
    let (s, e) = act(&app, &store, id3, "approve", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    // Numbers count up within the day.
    assert_ne!(r3["requisition_no"], no);
    assert_eq!(on_hand(&app, s0.cable, s0.depot).await, 10);
});

both!(requisition_to_a_vehicle_holder_transfers_into_his_vehicle, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let store = app.token("store").await;
    let tech = app.token("tech").await;
    let tech_id = crate::tickets::user_id(&app, "tech").await;
    let engineer_id = crate::tickets::user_id(&app, "engineer").await;
    // Someone else's vehicle and an inactive one of his own are not where his parts go.
    let mut vans = Vec::new();
    for (code, holder, active) in [("VAN-E", engineer_id, true), ("VAN-OLD", tech_id, false), ("VAN-T", tech_id, true)]
    {
        let (s, v) = app
            .post_json(
                &store,
                "/api/v1/warehouses",
                &json!({"code": code, "name": code, "kind": "vehicle", "holder_user_id": holder, "active": active}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        vans.push(v["id"].as_i64().unwrap());
    }
    let van = vans[2];
    let (_, r) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "ticket_id": s0.ticket,
               "lines": [{"part_id": s0.switch, "qty": 2, "serial_no": "SN-9"}, {"part_id": s0.cable, "qty": 4}]}),
    )
    .await;
    let id = r["id"].as_i64().unwrap();
    let no = r["requisition_no"].as_str().unwrap().to_string();
    let (s, _) = act(&app, &store, id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, i) = act(&app, &store, id, "issue", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{i}");
    assert_eq!(i["lines"][0]["qty_issued"], 2);
    assert_eq!(i["lines"][0]["unit_cost"], 100.0);
    // The parts leave the depot into his vehicle, from where the visit then takes them.
    assert_eq!(on_hand(&app, s0.switch, s0.depot).await, 3);
    assert_eq!(on_hand(&app, s0.switch, van).await, 2);
    assert_eq!(on_hand(&app, s0.cable, van).await, 4);
    assert_eq!(on_hand(&app, s0.switch, vans[0]).await, 0);
    assert_eq!(on_hand(&app, s0.switch, vans[1]).await, 0);
    let (_, mv) = app.get_json(&store, &format!("/api/v1/stock/movements?ticket_id={}", s0.ticket)).await;
    assert_eq!(mv["total"], 2, "{mv}");
    for m in mv["items"].as_array().unwrap() {
        assert_eq!(m["kind"], "transfer", "{m}");
        assert_eq!(m["warehouse_id"], s0.depot);
        assert_eq!(m["to_warehouse_id"], van);
        assert!(m["note"].as_str().unwrap().contains(&no), "{m}");
    }
    let sw = mv["items"].as_array().unwrap().iter().find(|m| m["part_id"] == s0.switch).unwrap();
    assert_eq!((sw["qty"].as_i64(), sw["balance_after"].as_i64()), (Some(2), Some(3)));
    assert_eq!(i["lines"][0]["movement_id"], sw["id"]);
    // The vehicle's stock carries the depot's cost.
    let (_, st) = app.get_json(&store, &format!("/api/v1/stock?part_id={}&warehouse_id={van}", s0.switch)).await;
    assert_eq!(st["items"][0]["avg_cost"], 100.0, "{st}");

    // Short stock is the same 409 naming the part, and nothing moves.
    let (_, r) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "ticket_id": s0.ticket,
               "lines": [{"part_id": s0.cable, "qty": 1}, {"part_id": s0.switch, "qty": 4}]}),
    )
    .await;
    let id = r["id"].as_i64().unwrap();
    act(&app, &store, id, "approve", json!({})).await;
    let (s, e) = act(&app, &store, id, "issue", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e.to_string().contains("SW-8"), "{e}");
    assert_eq!(on_hand(&app, s0.cable, van).await, 4);
    assert_eq!(on_hand(&app, s0.cable, s0.depot).await, 16);
    assert_eq!(on_hand(&app, s0.switch, s0.depot).await, 3);
});

both!(requisition_permissions, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let tech = app.token("tech").await;
    let store = app.token("store").await;
    let agent = app.token("agent").await;
    let school = app.token("school1").await;
    let body = json!({"warehouse_id": s0.depot, "ticket_id": s0.ticket, "lines": [{"part_id": s0.switch, "qty": 1}]});
    let (s, r) = request(&app, &tech, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();

    // A technician cannot approve or issue; an agent and a school cannot request.
    assert_eq!(act(&app, &tech, id, "approve", json!({})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(request(&app, &agent, body.clone()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(request(&app, &school, body.clone()).await.0, StatusCode::FORBIDDEN);
    // A school sees no requisition.
    assert_eq!(app.get_json(&school, "/api/v1/requisitions").await.0, StatusCode::FORBIDDEN);
    let (s, _) = app.get_json(&school, &format!("/api/v1/requisitions/{id}")).await;
    assert!(s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND, "{s}");
    assert_eq!(act(&app, &school, id, "approve", json!({})).await.0, StatusCode::FORBIDDEN);
    // Another technician's requisition is not the agent's business.
    assert_eq!(app.get_json(&agent, &format!("/api/v1/requisitions/{id}")).await.0, StatusCode::NOT_FOUND);

    // Issuing before approval: 409 naming the status.
    let (s, e) = act(&app, &store, id, "issue", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("待审批"), "{e}");
    assert_eq!(on_hand(&app, s0.switch, s0.depot).await, 5);

    // The storekeeper cannot approve his own requisition: 409 with the reason.
    let (_, own) = request(&app, &store, body.clone()).await;
    let own_id = own["id"].as_i64().unwrap();
    assert_eq!(own["actions"], json!(["cancel"]));
    let (s, e) = act(&app, &store, own_id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "precondition");
    assert!(e["error"]["message"].as_str().unwrap().contains("本人"), "{e}");
    let (_, still) = app.get_json(&store, &format!("/api/v1/requisitions/{own_id}")).await;
    assert_eq!(still["status"], "requested");
    // ... but the manager can.
    let manager = app.token("manager").await;
    assert_eq!(act(&app, &manager, own_id, "approve", json!({})).await.0, StatusCode::OK);
    // The technician may not cancel the storekeeper's requisition, and cannot see it.
    assert_eq!(act(&app, &tech, own_id, "cancel", json!({"reason": "x"})).await.0, StatusCode::NOT_FOUND);
});

both!(requisition_short_stock_changes_nothing, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let tech = app.token("tech").await;
    let store = app.token("store").await;
    // Cables are plenty, switches are not: nothing is issued, not even the cables.
    let (_, r) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "ticket_id": s0.ticket,
               "lines": [{"part_id": s0.cable, "qty": 5}, {"part_id": s0.switch, "qty": 6}]}),
    )
    .await;
    let id = r["id"].as_i64().unwrap();
    assert_eq!(act(&app, &store, id, "approve", json!({})).await.0, StatusCode::OK);
    let movements = app.count("stock_movements").await;
    let (s, e) = act(&app, &store, id, "issue", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "insufficient_stock");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("SW-8") && msg.contains('5'), "{msg}");
    assert_eq!(app.count("stock_movements").await, movements);
    assert_eq!(on_hand(&app, s0.cable, s0.depot).await, 20);
    assert_eq!(on_hand(&app, s0.switch, s0.depot).await, 5);
    let (_, still) = app.get_json(&store, &format!("/api/v1/requisitions/{id}")).await;
    assert_eq!(still["status"], "approved");
    assert!(still["lines"][0]["qty_issued"].is_null());
    // Issuing what there is works.
    let line = still["lines"].as_array().unwrap().iter().find(|l| l["part_id"] == s0.switch).unwrap()["id"].clone();
    let (s, i) = act(&app, &store, id, "issue", json!({"lines": [{"line_id": line, "qty": 5}]})).await;
    assert_eq!(s, StatusCode::OK, "{i}");
    assert_eq!(on_hand(&app, s0.switch, s0.depot).await, 0);
    assert_eq!(on_hand(&app, s0.cable, s0.depot).await, 15);
});

both!(requisition_bad_input_is_422, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let tech = app.token("tech").await;
    let fields = |e: &Value| -> Vec<String> {
        e["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
    };
    for (body, field) in [
        (json!({"warehouse_id": s0.depot, "lines": [{"part_id": s0.switch, "qty": 0}]}), "lines[0].qty"),
        (json!({"warehouse_id": s0.depot, "lines": [{"part_id": s0.switch, "qty": -3}]}), "lines[0].qty"),
        (json!({"warehouse_id": s0.depot, "lines": [{"part_id": 987654, "qty": 1}]}), "lines[0].part_id"),
        (json!({"warehouse_id": s0.depot, "lines": []}), "lines"),
        (json!({"warehouse_id": 987654, "lines": [{"part_id": s0.switch, "qty": 1}]}), "warehouse_id"),
        (
            json!({"warehouse_id": s0.depot, "ticket_id": 987654, "lines": [{"part_id": s0.switch, "qty": 1}]}),
            "ticket_id",
        ),
        (
            json!({"warehouse_id": s0.depot, "issue_type": "steal", "lines": [{"part_id": s0.switch, "qty": 1}]}),
            "issue_type",
        ),
    ] {
        let (s, e) = request(&app, &tech, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} {e}");
        assert!(fields(&e).contains(&field.to_string()), "{body} {e}");
    }
    assert_eq!(app.count("requisitions").await, 0);
    assert_eq!(app.count("requisition_lines").await, 0);
    let (s, _) = app.get_json(&tech, "/api/v1/requisitions?scope=nonsense").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The API document names the paths.
    let doc: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    for p in ["/api/v1/requisitions", "/api/v1/requisitions/{id}", "/api/v1/requisitions/{id}/actions/{action}"] {
        assert!(doc["paths"].get(p).is_some(), "{p} in the OpenAPI document");
    }
});

both!(requisition_pages_slip_and_ledger, |app: TestApp| async move {
    let s0 = setup(&app).await;
    // The technician fills the form in his browser (the second row left empty).
    let (tc, csrf) = app.browser("tech").await;
    let page = tc.get(app.url(&format!("/requisitions/new?ticket_id={}", s0.ticket))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("SW-8") && html.contains("新建领用单"), "catalogue on the form");
    // The ticket is named by its number, as a person knows it; an id is no ticket number.
    let (_, t) = app.get_json(&app.token("tech").await, &format!("/api/v1/tickets/{}", s0.ticket)).await;
    let number = t["number"].as_str().unwrap().to_owned();
    assert!(html.contains(&format!("name=\"ticket_id\" value=\"{number}\"")), "the form shows the number");
    let ticket = number.to_lowercase();
    let depot = s0.depot.to_string();
    // Parts as people know them: the picker's "code name" label, or the code in any case.
    let switch = "SW-8 8口交换机".to_owned();
    let cable = "cat6".to_owned();
    // A zero quantity: 422 and the form again, nothing stored.
    let bad = [
        ("_csrf", csrf.as_str()),
        ("warehouse_id", depot.as_str()),
        ("ticket_id", ticket.as_str()),
        ("part_0", switch.as_str()),
        ("qty_0", "0"),
    ];
    let r = tc.post(app.url("/requisitions/new")).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("第 1 行"));
    assert_eq!(app.count("requisitions").await, 0);
    let by_id = s0.ticket.to_string();
    let wrong = [
        ("_csrf", csrf.as_str()),
        ("warehouse_id", depot.as_str()),
        ("ticket_id", by_id.as_str()),
        ("part_0", switch.as_str()),
        ("qty_0", "1"),
    ];
    let r = tc.post(app.url("/requisitions/new")).form(&wrong).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("没有匹配的记录"), "an internal id is not a ticket number");
    assert_eq!(app.count("requisitions").await, 0);
    // A part that matches nothing is an error at its line, and what was typed is kept.
    let unknown = [
        ("_csrf", csrf.as_str()),
        ("warehouse_id", depot.as_str()),
        ("ticket_id", ticket.as_str()),
        ("part_0", "火星配件"),
        ("qty_0", "1"),
    ];
    let r = tc.post(app.url("/requisitions/new")).form(&unknown).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("没有匹配的记录") && html.contains("value=\"火星配件\""), "named and kept");
    assert_eq!(app.count("requisitions").await, 0);
    let good = [
        ("_csrf", csrf.as_str()),
        ("warehouse_id", depot.as_str()),
        ("ticket_id", ticket.as_str()),
        ("purpose", "维修"),
        ("issue_type", "issue"),
        ("part_0", switch.as_str()),
        ("qty_0", "1"),
        ("serial_0", "SN-9"),
        ("part_1", ""),
        ("qty_1", ""),
        ("part_2", cable.as_str()),
        ("qty_2", "4"),
    ];
    let r = tc.post(app.url("/requisitions/new")).form(&good).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = loc.trim_start_matches("/requisitions/").split('?').next().unwrap().parse().unwrap();
    let html = tc.get(app.url(&loc)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("待审批") && html.contains("cancel-form") && !html.contains("approve-form"));

    // The storekeeper approves and issues from the page.
    let (sc, scsrf) = app.browser("store").await;
    let list = sc.get(app.url("/requisitions?scope=to_approve")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("requisition-{id}")));
    let html = sc.get(app.url(&format!("/requisitions/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("approve-form") && !html.contains("act-issue"));
    // Issuing before approval: the page says why, with 409.
    let r = sc
        .post(app.url(&format!("/requisitions/{id}/act/issue")))
        .form(&[("_csrf", scsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("待审批"));
    let r = sc
        .post(app.url(&format!("/requisitions/{id}/act/approve")))
        .form(&[("_csrf", scsrf.as_str()), ("note", "同意")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = sc
        .post(app.url(&format!("/requisitions/{id}/act/issue")))
        .form(&[("_csrf", scsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(on_hand(&app, s0.switch, s0.depot).await, 4);
    assert_eq!(on_hand(&app, s0.cable, s0.depot).await, 16);

    // The 领条: requested and issued quantities, the people, the signature lines.
    let store = app.token("store").await;
    let (_, r) = app.get_json(&store, &format!("/api/v1/requisitions/{id}")).await;
    let no = r["requisition_no"].as_str().unwrap().to_string();
    let slip = tc.get(app.url(&format!("/requisitions/{id}/print"))).send().await.unwrap();
    assert_eq!(slip.status(), StatusCode::OK);
    let slip = slip.text().await.unwrap();
    for s in [no.as_str(), "领条", "请领数量", "实发数量", "tech 测试", "store 测试", "领料人签字", "SN-9", "六类网线"]
    {
        assert!(slip.contains(s), "{s} on the slip");
    }
    // A school cannot open it.
    let (kc, _) = app.browser("school1").await;
    let r = kc.get(app.url(&format!("/requisitions/{id}/print"))).send().await.unwrap();
    assert!(r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::NOT_FOUND, "{}", r.status());

    // The ledger report of this month, print-ready and as Excel.
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let q = format!("from={today}&to={today}&warehouse={}", s0.depot);
    let html = sc.get(app.url(&format!("/stock/ledger?{q}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("备件仓库领用记录表") && html.contains(&no) && html.contains("出库"), "ledger page");
    // In English the kinds read in English too.
    crate::defective::speak(&app, "manager", "en").await;
    let (mc, _) = app.browser("manager").await;
    let en = mc.get(app.url(&format!("/stock/ledger?{q}"))).send().await.unwrap().text().await.unwrap();
    assert!(en.contains(">Issue<") && !en.contains("出库"), "{en}");
    let r = sc.get(app.url(&format!("/stock/ledger.xlsx?{q}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range("领用记录表").unwrap();
    let cells: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.contains(&no), "{cells:?}");
    assert!(cells.iter().any(|c| c == "领用单号"), "{cells:?}");
    // 数量 and 金额 are numbers, so the sheet adds them up.
    let line = sheet.rows().find(|r| r[1] != "单据号").unwrap().to_vec();
    assert!(matches!(line[8], calamine::Data::Float(_)) && matches!(line[10], calamine::Data::Float(_)), "{line:?}");
    // A bad date is 422; a school may not read the ledger.
    let r = sc.get(app.url("/stock/ledger?from=2026-13-40")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = kc.get(app.url(&format!("/stock/ledger.xlsx?{q}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
});

both!(a_borrowed_tool_goes_out_and_comes_back_where_it_was_issued_from, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let (store, tech, manager) = (app.token("store").await, app.token("tech").await, app.token("manager").await);
    let tech_id = crate::tickets::user_id(&app, "tech").await;
    let (s, v) = app
        .post_json(
            &store,
            "/api/v1/warehouses",
            &json!({"code": "VAN-T", "name": "张师傅随车库", "kind": "vehicle", "holder_user_id": tech_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let van = v["id"].as_i64().unwrap();
    // A consumed requisition, issued, cannot be "returned" through the slip.
    let (_, used) =
        request(&app, &tech, json!({"warehouse_id": s0.depot, "lines": [{"part_id": s0.cable, "qty": 2}]})).await;
    let used = used["id"].as_i64().unwrap();
    act(&app, &manager, used, "approve", json!({})).await;
    let (s, v) = act(&app, &store, used, "issue", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["actions"], json!([]), "nothing more to do with a consumed one");
    let (s, e) = act(&app, &store, used, "return", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("只有借用的工具可归还"), "{e}");

    // The borrow: out to his vehicle, listed as not back, then taken back.
    let (s, r) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "issue_type": "borrow", "purpose": "借用工具",
               "lines": [{"part_id": s0.switch, "qty": 1}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    act(&app, &manager, id, "approve", json!({})).await;
    let (s, v) = act(&app, &store, id, "issue", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["actions"], json!(["return"]), "the storekeeper may take it back");
    assert_eq!((on_hand(&app, s0.switch, s0.depot).await, on_hand(&app, s0.switch, van).await), (4, 1));
    for t in [&store, &tech] {
        let (_, out) = app.get_json(t, "/api/v1/requisitions?scope=borrowed").await;
        assert_eq!(out["total"], 1, "{out}");
        assert_eq!(out["items"][0]["id"], id);
    }
    // The borrower cannot sign it back in himself.
    let (s, _) = act(&app, &tech, id, "return", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let movements = app.count("stock_movements").await;
    let (s, v) = act(&app, &store, id, "return", json!({"note": "完好"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["status"].as_str(), v["return_note"].as_str()), (Some("returned"), Some("完好")));
    assert!(v["returned_at"].is_string());
    assert_eq!((on_hand(&app, s0.switch, s0.depot).await, on_hand(&app, s0.switch, van).await), (5, 0));
    assert_eq!(app.count("stock_movements").await, movements + 1);
    assert_eq!(
        app.count(&format!(
            "stock_movements WHERE kind = 'transfer' AND warehouse_id = {van} AND to_warehouse_id = {} AND qty = 1",
            s0.depot
        ))
        .await,
        1,
        "back out of the vehicle into the depot"
    );
    let (_, out) = app.get_json(&store, "/api/v1/requisitions?scope=borrowed").await;
    assert_eq!(out["total"], 0);
    // The depot's issue ledger shows the tool going out and coming back, both on the slip.
    let day = chrono::Duration::days(1);
    let rows = aftercare_store::requisitions::ledger(
        &app.db,
        chrono::Utc::now() - day,
        chrono::Utc::now() + day,
        Some(s0.depot),
        100,
    )
    .await
    .unwrap();
    let borrow_no = v["requisition_no"].as_str().unwrap();
    let halves: Vec<&str> =
        rows.iter().filter(|r| r.requisition_no.as_deref() == Some(borrow_no)).map(|r| r.kind.as_str()).collect();
    assert_eq!(halves, ["transfer", "transfer"], "out and back: {rows:?}");
    // Twice is a 409 naming the status; nothing moves.
    let (s, _) = act(&app, &store, id, "return", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(app.count("stock_movements").await, movements + 1);

    // A borrow whose tool has left the vehicle meanwhile cannot come back: 409, nothing moves.
    let (_, r) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "issue_type": "borrow", "lines": [{"part_id": s0.switch, "qty": 2}]}),
    )
    .await;
    let id = r["id"].as_i64().unwrap();
    act(&app, &manager, id, "approve", json!({})).await;
    act(&app, &store, id, "issue", json!({})).await;
    let (s, v) = app
        .post_json(
            &store,
            "/api/v1/stock/movements",
            &json!({"kind": "issue", "part_id": s0.switch, "warehouse_id": van, "qty": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let movements = app.count("stock_movements").await;
    let (s, e) = act(&app, &store, id, "return", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("张师傅随车库"), "names the vehicle: {e}");
    assert_eq!(app.count("stock_movements").await, movements);
    let (_, d) = app.get_json(&store, &format!("/api/v1/requisitions/{id}")).await;
    assert_eq!(d["status"], "issued", "still out");
});

both!(a_borrow_out_too_long_is_shown_overdue, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let (store, tech, manager) = (app.token("store").await, app.token("tech").await, app.token("manager").await);
    let (_, r) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "issue_type": "borrow", "lines": [{"part_id": s0.cable, "qty": 1}]}),
    )
    .await;
    let id = r["id"].as_i64().unwrap();
    act(&app, &manager, id, "approve", json!({})).await;
    act(&app, &store, id, "issue", json!({})).await;
    let (c, _) = app.browser("store").await;
    let page = |c: reqwest::Client, url: String| async move { c.get(url).send().await.unwrap().text().await.unwrap() };
    let html = page(c.clone(), app.url("/requisitions?scope=borrowed")).await;
    assert!(html.contains("借用未还") && html.contains(&format!("requisition-{id}")), "{html}");
    assert!(html.contains("已借出"), "an issued borrow reads as lent out: {html}");
    assert!(!html.contains("tag-critical overdue"), "not yet overdue");
    // Ten days out: three past the seven allowed.
    let ten_days_ago = (chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339();
    let sql = format!("UPDATE requisitions SET issued_at = '{ten_days_ago}' WHERE id = {id}");
    match &app.db {
        aftercare_store::Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()).unwrap(),
        aftercare_store::Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()).unwrap(),
    }
    let html = page(c.clone(), app.url("/requisitions?scope=borrowed")).await;
    assert!(html.contains("逾期 3 天"), "{html}");
    // A newer borrow comes after it: the list is the order to chase them in.
    let (_, r2) = request(
        &app,
        &tech,
        json!({"warehouse_id": s0.depot, "issue_type": "borrow", "lines": [{"part_id": s0.cable, "qty": 1}]}),
    )
    .await;
    let id2 = r2["id"].as_i64().unwrap();
    act(&app, &manager, id2, "approve", json!({})).await;
    act(&app, &store, id2, "issue", json!({})).await;
    let (_, out) = app.get_json(&store, "/api/v1/requisitions?scope=borrowed").await;
    let order: Vec<i64> = out["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(order, [id, id2], "oldest first");
    let html = page(c.clone(), app.url(&format!("/requisitions/{id}"))).await;
    assert!(html.contains("id=\"borrow-overdue\"") && html.contains("id=\"return-form\""), "{html}");
});

both!(an_issue_below_the_reserve_quota_raises_the_alert_at_once, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let (store, tech, manager) = (app.token("store").await, app.token("tech").await, app.token("manager").await);
    let q = json!({"part_id": s0.switch, "warehouse_id": s0.depot, "min_qty": 4, "max_qty": 8});
    let (s, v) = app.send_json(reqwest::Method::PUT, &store, "/api/v1/stock/quotas", &q).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, r) =
        request(&app, &tech, json!({"warehouse_id": s0.depot, "lines": [{"part_id": s0.switch, "qty": 2}]})).await;
    let id = r["id"].as_i64().unwrap();
    act(&app, &manager, id, "approve", json!({})).await;
    assert_eq!(app.count("shortage_alerts").await, 0);
    let (s, v) = act(&app, &store, id, "issue", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // 5 − 2 = 3 < 4: the manager and the storekeeper hear of it now, not at the next sweep.
    assert_eq!(app.count("shortage_alerts WHERE closed_at IS NULL").await, 1);
    assert_eq!(app.count("notifications WHERE kind = 'shortage'").await, 2);
});

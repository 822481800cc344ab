//! Outings (外出): a trip from plan through depart, the stops and the visit there, return
//! with the odometer and the costs, the desk's verification and the manager's approval;
//! overlaps; the day board; the day's proposal; vehicles and town minutes; the pages and
//! form 6; every bad input and every role.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{act, in_progress, user_id};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn fields(v: &Value) -> Vec<String> {
    v["error"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn vehicle(app: &TestApp, plate: &str) -> i64 {
    let (s, v) = app
        .post_json(
            &app.token("manager").await,
            "/api/v1/vehicles",
            &json!({"plate": plate, "name": "售后工程车", "seats": 7}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn trip(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.post_json(&app.token("engineer").await, "/api/v1/trips", &body).await
}

async fn action(app: &TestApp, who: &str, id: i64, a: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(&app.token(who).await, &format!("/api/v1/trips/{id}/actions/{a}"), &body).await
}

async fn stop(app: &TestApp, who: &str, id: i64, stop: i64, a: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(&app.token(who).await, &format!("/api/v1/trips/{id}/stops/{stop}/{a}"), &body).await
}

both!(a_trip_runs_from_plan_through_the_stop_and_the_visit_to_approval, |app: TestApp| async move {
    let (ticket, _) = in_progress(&app, "TRIP-NVR-1").await;
    let tech = user_id(&app, "tech").await;
    let van = vehicle(&app, "皖L·6F218").await;
    // The engineer may not keep the vehicles.
    let (s, _) =
        app.post_json(&app.token("engineer").await, "/api/v1/vehicles", &json!({"plate": "皖L·X", "name": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A stop without ids takes the school's work for these people.
    let (s, t) = trip(
        &app,
        json!({"trip_date": "2030-03-04", "staff_ids": [tech], "vehicle_id": van, "stops": [{"customer_id": app.school1}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id = t["id"].as_i64().unwrap();
    assert!(t["number"].as_str().unwrap().starts_with("WC"), "{t}");
    assert_eq!((t["status"].as_str(), t["transport"].as_str()), (Some("planned"), Some("company_vehicle")));
    assert_eq!(t["purpose"], "repair");
    let stop_id = t["stops"][0]["id"].as_i64().unwrap();
    // One key per name: the stops' rows and their count are two fields (the fuzzer found the
    // row's count and the view's list both answered as `stops`).
    let raw = app.get(&app.token("engineer").await, &format!("/api/v1/trips/{id}")).await.text().await.unwrap();
    assert_eq!(raw.matches("\"stops\":").count(), 1, "{raw}");
    assert_eq!(t["stop_count"], 1);
    assert!(t["jobs"].as_array().unwrap().iter().any(|j| j["kind"] == "ticket" && j["id"] == ticket), "{t}");
    // What to bring: the tools for the ticket's system.
    let items = t["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|i| i["kind"] == "tool" && i["text"].as_str().unwrap().contains("工程宝")), "{items:?}");
    // Leaving with lines unticked asks why; nothing changes.
    let (s, e) = action(&app, "tech", id, "depart", json!({"odometer": 1200})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["reason"]);
    assert!(e["error"]["message"].as_str().unwrap().contains("未勾选"), "{e}");
    // The storekeeper reads it (the parts to prepare); the school sees none of it.
    for (who, status) in [("store", StatusCode::OK), ("school1", StatusCode::FORBIDDEN)] {
        let (s, _) = app.get_json(&app.token(who).await, &format!("/api/v1/trips/{id}")).await;
        assert_eq!(s, status, "{who}");
    }
    assert_eq!(app.get_json(&app.token("school1").await, "/api/v1/trips").await.0, StatusCode::FORBIDDEN);
    // Leaving a stop before reaching it: the trip is not out.
    let (s, _) = stop(&app, "tech", id, stop_id, "arrive", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    for i in &items {
        let path = format!("/api/v1/trips/{id}/items/{}", i["id"]);
        let (s, v) = app.post_json(&app.token("tech").await, &path, &json!({"checked": true})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, v) = action(&app, "tech", id, "depart", json!({"odometer": 1200})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "out");
    let departed = v["departed_at"].as_str().unwrap().to_owned();
    // Ticking after departure is refused.
    let path = format!("/api/v1/trips/{id}/items/{}", items[0]["id"]);
    assert_eq!(
        app.post_json(&app.token("tech").await, &path, &json!({"checked": false})).await.0,
        StatusCode::CONFLICT
    );
    // The day board: out, heading to the school, back by the end of the working day.
    let (_, board) = app.get_json(&app.token("agent").await, "/api/v1/attendance?date=2030-03-04").await;
    let me = board["items"].as_array().unwrap().iter().find(|p| p["user_id"] == tech).cloned().unwrap();
    assert_eq!((me["state"].as_str(), me["trip_id"].as_i64()), (Some("out"), Some(id)), "{me}");
    assert_eq!((me["stop"].as_str(), me["at_stop"].as_bool()), (Some("城关镇中心小学"), Some(false)));
    assert!(me["expected_back"].as_str().unwrap().starts_with("2030-03-04T09:30"), "17:30 in Shanghai: {me}");
    // Leave before arrive: 409 naming why.
    let (s, e) = stop(&app, "tech", id, stop_id, "leave", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("尚未到达"), "{e}");
    let (s, v) = stop(&app, "tech", id, stop_id, "arrive", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let arrived = v["stops"][0]["arrived_at"].as_str().unwrap().to_owned();
    assert_eq!(stop(&app, "tech", id, stop_id, "arrive", json!({})).await.0, StatusCode::CONFLICT, "once");
    // The visit at the stop takes the trip's times: only the finish is typed.
    let finished = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let (s, visit) = app
        .post_json(
            &app.token("tech").await,
            &format!("/api/v1/tickets/{ticket}/visits"),
            &json!({"finished_at": finished, "work_done": "更换硬盘", "result": "partial"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{visit}");
    let same = |a: &Value, b: &str| {
        let a = chrono::DateTime::parse_from_rfc3339(a.as_str().unwrap()).unwrap();
        let b = chrono::DateTime::parse_from_rfc3339(b).unwrap();
        (a - b).num_milliseconds().abs() < 1
    };
    assert!(same(&visit["departed_at"], &departed) && same(&visit["arrived_at"], &arrived), "{visit}");
    assert!(visit["returned_at"].is_null());
    let (s, v) = stop(&app, "tech", id, stop_id, "leave", json!({"confirmed_by": "王老师"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["stops"][0]["confirmed_by"], "王老师");
    // A return reading below departure: 422 on the odometer, still out, no cost written.
    let (s, e) =
        action(&app, "tech", id, "return", json!({"odometer": 1100, "costs": [{"kind": "toll", "amount": 12.5}]}))
            .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["odometer"]);
    assert!(e["error"]["message"].as_str().unwrap().contains("低于出车里程"), "{e}");
    assert_eq!(app.count("trip_costs").await, 0);
    let (s, v) = action(
        &app,
        "tech",
        id,
        "return",
        json!({"odometer": 1263, "costs": [{"kind": "toll", "amount": 12.5}, {"kind": "fuel", "amount": 60}], "summary": "硬盘已换"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["distance_km"].as_i64(), v["cost_cents"].as_i64()),
        (Some("returned"), Some(63), Some(7250))
    );
    // The visit took the return time too.
    let (_, tv) = app.get_json(&app.token("tech").await, &format!("/api/v1/tickets/{ticket}")).await;
    let visits = tv["visits"].as_array().cloned().unwrap_or_default();
    assert!(visits.iter().all(|x| x["returned_at"].is_string()), "{tv}");
    // The desk verifies by phone; a technician may not.
    let (s, _) = stop(&app, "tech", id, stop_id, "verify", json!({"confirmed": true})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = stop(&app, "agent", id, stop_id, "verify", json!({"confirmed": false})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["note".to_owned()]), "not confirmed: say what");
    let (s, v) = stop(&app, "agent", id, stop_id, "verify", json!({"confirmed": true, "contact": "王老师"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["stops_verified"].as_i64(), v["stops"][0]["verified_ok"].as_bool()), (Some(1), Some(true)));
    // Approval is the manager's, once.
    assert_eq!(action(&app, "tech", id, "approve", json!({})).await.0, StatusCode::FORBIDDEN);
    let (s, v) = action(&app, "manager", id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["approved_by_name"].is_string());
    assert_eq!(action(&app, "manager", id, "approve", json!({})).await.0, StatusCode::CONFLICT);
    // The numbers: kilometres, costs, verified stops and the visit, per person and vehicle.
    let (s, r) =
        app.get_json(&app.token("manager").await, "/api/v1/trips/report?from=2030-03-01&until=2030-03-31").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let p = r["people"].as_array().unwrap().iter().find(|p| p["key"] == tech).cloned().unwrap();
    assert_eq!(
        (p["km"].as_i64(), p["cost_cents"].as_i64(), p["stops_verified"].as_i64(), p["visits"].as_i64()),
        (Some(63), Some(7250), Some(1), Some(1)),
        "{p}"
    );
    assert_eq!(r["vehicles"][0]["km"], 63);
    // The lists' queues.
    let (_, l) = app.get_json(&app.token("agent").await, "/api/v1/trips?scope=to_verify").await;
    assert_eq!(l["total"], 0);
    let (_, l) = app.get_json(&app.token("tech").await, "/api/v1/trips?scope=mine").await;
    assert_eq!(l["total"], 1);
    // A receipt: only checked raster images.
    let (s, _) = app
        .post_json(
            &app.token("tech").await,
            &format!("/api/v1/trips/{id}/photos"),
            &json!({"data_base64": crate::tickets::PNG}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "approved: no more receipts");
});

both!(a_person_or_the_vehicle_on_two_trips_at_once_is_a_409_naming_the_other, |app: TestApp| async move {
    let tech = user_id(&app, "tech").await;
    let eng = user_id(&app, "engineer").await;
    let van = vehicle(&app, "皖L·11111").await;
    let (s, first) = trip(
        &app,
        json!({"trip_date": "2030-03-05", "staff_ids": [tech], "vehicle_id": van, "planned_start": "08:30", "planned_end": "12:00",
            "stops": [{"customer_id": app.school1, "ticket_ids": []}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let number = first["number"].as_str().unwrap().to_owned();
    // The same person in the morning again.
    let (s, e) = trip(
        &app,
        json!({"trip_date": "2030-03-05", "staff_ids": [tech], "planned_start": "11:00", "planned_end": "15:00",
            "stops": [{"customer_id": app.school2}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "overlap");
    assert!(e["error"]["message"].as_str().unwrap().contains(&number), "names the other trip: {e}");
    // The vehicle with someone else, all day (no times: the working day).
    let (s, e) = trip(
        &app,
        json!({"trip_date": "2030-03-05", "staff_ids": [eng], "vehicle_id": van, "stops": [{"customer_id": app.school2}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("皖L·11111"), "names the vehicle: {e}");
    assert_eq!(app.count("trips").await, 1, "nothing written");
    // Back at noon, out again at noon: no overlap.
    let (s, second) = trip(
        &app,
        json!({"trip_date": "2030-03-05", "staff_ids": [tech], "vehicle_id": van, "planned_start": "12:00", "planned_end": "17:00",
            "stops": [{"customer_id": app.school2}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    // A cancelled trip frees the window, and cannot depart.
    let id = first["id"].as_i64().unwrap();
    let (s, e) = action(&app, "engineer", id, "cancel", json!({})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_owned()]));
    assert_eq!(action(&app, "tech", id, "cancel", json!({"reason": "x"})).await.0, StatusCode::FORBIDDEN);
    let (s, _) = action(&app, "agent", id, "cancel", json!({"reason": "学校临时考试"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = action(&app, "tech", id, "depart", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = trip(
        &app,
        json!({"trip_date": "2030-03-05", "staff_ids": [eng], "vehicle_id": van, "planned_start": "08:00", "planned_end": "11:30",
            "stops": [{"customer_id": app.school1}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    // Two plans at once for one person: one wins.
    let a =
        trip(&app, json!({"trip_date": "2030-03-06", "staff_ids": [tech], "stops": [{"customer_id": app.school1}]}));
    let b =
        trip(&app, json!({"trip_date": "2030-03-06", "staff_ids": [tech], "stops": [{"customer_id": app.school2}]}));
    let (a, b) = tokio::join!(a, b);
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::CREATED, StatusCode::CONFLICT], "{a:?} {b:?}");
});

both!(bad_trip_input_is_named_and_writes_nothing, |app: TestApp| async move {
    let tech = user_id(&app, "tech").await;
    let store = user_id(&app, "store").await;
    let (other_ticket, _) = in_progress(&app, "TRIP-BAD-1").await;
    for (body, want) in [
        (json!({}), vec!["trip_date", "staff_ids", "stops"]),
        (
            json!({"trip_date": "2030-02-30", "staff_ids": [tech], "stops": [{}]}),
            vec!["trip_date", "stops[0].customer_id"],
        ),
        (
            json!({"trip_date": "2030-03-04", "staff_ids": [tech], "planned_start": "15:00", "planned_end": "09:00",
            "stops": [{"customer_id": app.school1}]}),
            vec!["planned_end"],
        ),
        (
            json!({"trip_date": "2030-03-04", "staff_ids": [tech], "transport": "company_vehicle",
            "stops": [{"customer_id": app.school1}, {"customer_id": app.school1}]}),
            vec!["vehicle_id", "stops[1].customer_id"],
        ),
        (
            json!({"trip_date": "2030-03-04", "staff_ids": [store], "vehicle_id": 999,
            "stops": [{"customer_id": app.school2, "ticket_ids": [other_ticket], "training_ids": [1]}]}),
            vec!["stops[0].training_ids"],
        ),
        (
            json!({"trip_date": "2030-03-04", "staff_ids": [store], "vehicle_id": 999,
            "stops": [{"customer_id": app.school2, "ticket_ids": [other_ticket]}]}),
            vec!["staff_ids[0]", "vehicle_id", "stops[0].ticket_ids[0]"],
        ),
        (
            json!({"trip_date": "2030-03-04", "staff_ids": [tech], "stops": [{"customer_id": 99999}]}),
            vec!["customer_id"],
        ),
    ] {
        let (s, e) = trip(&app, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        let mut got = fields(&e);
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{body}: {e}");
    }
    // The messages name the fields in the user's language.
    let (_, e) = trip(&app, json!({"trip_date": "2030-03-04", "staff_ids": [tech], "stops": [{}]})).await;
    assert!(e["error"]["message"].as_str().unwrap().contains("第 1 站"), "{e}");
    assert_eq!(app.count("trips").await, 0);
    assert_eq!(app.count("trip_stops").await, 0);
    // A technician plans nothing; a school sees nothing.
    let (s, _) = app
        .post_json(
            &app.token("tech").await,
            "/api/v1/trips",
            &json!({"trip_date": "2030-03-04", "staff_ids": [tech], "stops": [{"customer_id": app.school1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.get_json(&app.token("school1").await, "/api/v1/attendance").await.0, StatusCode::FORBIDDEN);
    // Vehicles: a plate taken is a 409, a bad seat count a 422.
    vehicle(&app, "皖L·22222").await;
    let mgr = app.token("manager").await;
    let (s, e) = app.post_json(&mgr, "/api/v1/vehicles", &json!({"plate": "皖l·22222", "name": "另一辆"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "the plate, whatever its case: {e}");
    let (s, e) = app.post_json(&mgr, "/api/v1/vehicles", &json!({"plate": "皖L·3", "name": "x", "seats": 0})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["seats".to_owned()]));
    // The town matrix: an unknown town is named; a pair set, then back to the estimate.
    let put = |body: Value| {
        let mgr = mgr.clone();
        let app = &app;
        async move { app.send_json(reqwest::Method::PUT, &mgr, "/api/v1/vehicles/towns", &body).await }
    };
    let (s, e) = put(json!({"from_town": "城关镇", "to_town": "火星镇", "minutes": 30})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["to_town".to_owned()]));
    let (s, e) = put(json!({"from_town": "蓉城镇", "to_town": "城关镇", "minutes": 5000})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["minutes".to_owned()]));
    assert_eq!(put(json!({"from_town": "蓉城镇", "to_town": "城关镇", "minutes": 27})).await.0, StatusCode::NO_CONTENT);
    let (_, m) = app.get_json(&mgr, "/api/v1/vehicles/towns").await;
    assert_eq!(m["pairs"][0], json!({"from_town": "城关镇", "to_town": "蓉城镇", "minutes": 27, "set": true}));
    assert_eq!(put(json!({"from_town": "城关镇", "to_town": "蓉城镇"})).await.0, StatusCode::NO_CONTENT);
    let (_, m) = app.get_json(&mgr, "/api/v1/vehicles/towns").await;
    assert_eq!(m["pairs"][0]["set"], false);
    let (s, _) = app
        .send_json(
            reqwest::Method::PUT,
            &app.token("engineer").await,
            "/api/v1/vehicles/towns",
            &json!({"from_town": "城关镇", "to_town": "蓉城镇", "minutes": 3}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

both!(the_day_board_and_the_proposal_follow_the_days_work, |app: TestApp| async move {
    let tech = user_id(&app, "tech").await;
    let eng = app.token("engineer").await;
    // Two scheduled repairs for the technician on one day, in two towns, filed far-near-far.
    let mut tickets = Vec::new();
    for (n, school) in [(1, app.school2), (2, app.school1), (3, app.school2)] {
        let (s, t) = app
            .post_json(&app.token("agent").await, "/api/v1/tickets", &json!({"customer_id": school, "system": "network", "title": format!("断网 {n}"), "reporter_name": "老师"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let id = t["id"].as_i64().unwrap();
        assert_eq!(act(&app, &eng, id, "accept", json!({})).await.0, StatusCode::OK);
        let (s, v) =
            act(&app, &eng, id, "diagnose", json!({"fault_type": "hardware", "diagnosis": "交换机", "plan": "更换"}))
                .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) =
            act(&app, &eng, id, "schedule", json!({"technician_ids": [tech], "scheduled_at": "2030-04-02T02:00:00Z"}))
                .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        tickets.push(id);
    }
    // 蓉城镇 is far, 城关镇 near.
    let set_minutes = |m: i64, id: i64| format!("UPDATE customers SET travel_minutes = {m} WHERE id = {id}");
    for sql in [set_minutes(60, app.school2), set_minutes(10, app.school1)] {
        match &app.db {
            aftercare_store::Db::Sqlite(p) => {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()).unwrap()
            }
            aftercare_store::Db::Postgres(p) => {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()).unwrap()
            }
        }
    }
    let (s, p) = app.get_json(&eng, "/api/v1/trips/proposal?date=2030-04-02").await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["jobs"], 3);
    assert_eq!(p["trips"].as_array().unwrap().len(), 1, "one person, one trip: {p}");
    let t = &p["trips"][0];
    let towns: Vec<&str> = t["stops"].as_array().unwrap().iter().map(|s| s["town"].as_str().unwrap()).collect();
    assert_eq!(towns, ["蓉城镇", "城关镇"], "the far town first, each once: {p}");
    assert!(p["road_minutes"].as_i64() < p["ticket_order_minutes"].as_i64(), "{p}");
    assert!(p["road_minutes"].as_i64() < p["one_trip_per_job_minutes"].as_i64(), "{p}");
    // Accepting it is posting the body it carries.
    let (s, made) = app.post_json(&eng, "/api/v1/trips", &t["input"]).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(made["stops"][0]["customer_id"], app.school2);
    let (_, p) = app.get_json(&eng, "/api/v1/trips/proposal?date=2030-04-02").await;
    assert_eq!(p["jobs"], 0, "work on a trip is not proposed again: {p}");
    // A school's user and a technician get no proposal.
    assert_eq!(app.get_json(&app.token("tech").await, "/api/v1/trips/proposal").await.0, StatusCode::FORBIDDEN);
    // The day board: the engineer away, the technician planned (at the depot), then out.
    let (s, _) = app
        .post_json(
            &app.token("manager").await,
            "/api/v1/attendance/absences",
            &json!({"user_id": user_id(&app, "engineer").await, "day": "2030-04-02", "reason": "年假"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = app
        .post_json(
            &app.token("manager").await,
            "/api/v1/attendance/absences",
            &json!({"user_id": user_id(&app, "agent").await, "day": "2030-04-02", "reason": "年假"}),
        )
        .await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["user_id".to_owned()]), "not field staff");
    let b = board(&app, "2030-04-02").await;
    let state = |b: &[Value], name: &str| {
        b.iter()
            .find(|p| p["name"].as_str().unwrap().starts_with(name))
            .map(|p| p["state"].as_str().unwrap().to_owned())
    };
    assert_eq!(state(&b, "engineer").as_deref(), Some("absent"));
    assert_eq!(state(&b, "tech").as_deref(), Some("depot"));
    let id = made["id"].as_i64().unwrap();
    let reason = json!({"reason": "都带了"});
    assert_eq!(action(&app, "tech", id, "depart", reason).await.0, StatusCode::OK);
    let b = board(&app, "2030-04-02").await;
    assert_eq!(state(&b, "tech").as_deref(), Some("out"));
    // Clearing the absence: at the depot again.
    let (s, _) = app
        .post_json(
            &app.token("engineer").await,
            "/api/v1/attendance/absences",
            &json!({"user_id": user_id(&app, "engineer").await, "day": "2030-04-02", "reason": ""}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(state(&board(&app, "2030-04-02").await, "engineer").as_deref(), Some("depot"));
});

both!(the_pages_carry_a_trip_and_print_form_6, |app: TestApp| async move {
    let (ticket, _) = in_progress(&app, "TRIP-PAGE-1").await;
    let tech = user_id(&app, "tech").await.to_string();
    let van = vehicle(&app, "皖L·55555").await.to_string();
    let (eng, csrf) = app.browser("engineer").await;
    let page = eng.get(app.url("/trips/new")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"trip-form\""));
    // A bad form: the page again with the fields named, nothing written.
    let r = eng
        .post(app.url("/trips/new"))
        .form(&[("_csrf", csrf.as_str()), ("trip_date", "2030-05-06"), ("school_0", "火星小学")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("外出人员") && html.contains("第 1 站"), "the fields named");
    assert_eq!(app.count("trips").await, 0);
    let school = app.school1.to_string();
    let r = eng
        .post(app.url("/trips/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("trip_date", "2030-05-06"),
            ("staff_ids", tech.as_str()),
            ("vehicle_id", van.as_str()),
            ("stop_0", school.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = to.trim_start_matches("/trips/").split('?').next().unwrap().parse().unwrap();
    let (tp, tcsrf) = app.browser("tech").await;
    let html = tp.get(app.url(&format!("/trips/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"bring\"") && html.contains("id=\"depart-form\""), "the checklist and depart");
    // Departing with lines unticked and no reason: the form again, the reason named.
    let r = tp
        .post(app.url(&format!("/trips/{id}/act/depart")))
        .form(&[("_csrf", tcsrf.as_str()), ("odometer", "500")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("未勾选"));
    let r = tp
        .post(app.url(&format!("/trips/{id}/act/depart")))
        .form(&[("_csrf", tcsrf.as_str()), ("odometer", "500"), ("reason", "测线仪在车上")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, v) = app.get_json(&app.token("tech").await, &format!("/api/v1/trips/{id}")).await;
    let stop = v["stops"][0]["id"].as_i64().unwrap();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let tp = tp.clone();
        let url = app.url(&path);
        let mut form = form;
        form.push(("_csrf", tcsrf.clone()));
        async move { tp.post(url).form(&form).send().await.unwrap() }
    };
    assert_eq!(post(format!("/trips/{id}/stops/{stop}/arrive"), vec![]).await.status(), StatusCode::SEE_OTHER);
    let html = tp.get(app.url(&format!("/trips/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("id=\"visit-{ticket}\"")), "record the visit from the stop");
    let visit = tp.get(app.url(&format!("/tickets/{ticket}/visit"))).send().await.unwrap().text().await.unwrap();
    let departed = v["departed_at"].as_str().unwrap();
    let local = chrono::DateTime::parse_from_rfc3339(departed)
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    assert!(visit.contains(&format!("name=\"departed_at\" value=\"{local}\"")), "the trip's departure filled in");
    let r = post(format!("/trips/{id}/stops/{stop}/leave"), vec![("confirmed_by", "王老师".into())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post(format!("/trips/{id}/act/return"), vec![("odometer", "400".into()), ("cost_toll", "15".into())]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "below departure");
    let r = post(format!("/trips/{id}/act/return"), vec![("odometer", "548".into()), ("cost_toll", "15".into())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Form 6 shows it all; the manager approves from the page.
    let (mgr, mcsrf) = app.browser("manager").await;
    let r =
        mgr.post(app.url(&format!("/trips/{id}/act/approve"))).form(&[("_csrf", mcsrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let print = mgr.get(app.url(&format!("/trips/{id}/print"))).send().await.unwrap().text().await.unwrap();
    assert!(print.contains("外出工作记录表") && print.contains("48 km") && print.contains("¥15.00"), "form 6");
    assert!(print.contains("王老师") && print.contains("manager 测试"), "confirming person and approver");
    let r = mgr.get(app.url("/trips/export.xlsx?month=2030-05")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"), "a workbook");
    // Every page of the area opens, in Chinese and in English.
    for lang in ["zh-CN", "en"] {
        crate::defective::speak(&app, "manager", lang).await;
        let (mgr, _) = app.browser("manager").await;
        for path in [
            "/trips".to_owned(),
            "/trips?view=to_approve".into(),
            "/trips/new".into(),
            "/trips/proposal?date=2030-05-06".into(),
            format!("/trips/{id}"),
            format!("/trips/{id}/print"),
            "/trips/report?month=2030-05".into(),
            "/attendance?date=2030-05-06".into(),
            "/vehicles".into(),
        ] {
            let r = mgr.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let html = r.text().await.unwrap();
            for key in [
                "trip.",
                "trips.",
                "trip_status.",
                "trip_purpose.",
                "trip_transport.",
                "trip_cost.",
                "trip_item.",
                "attendance.",
                "attendance_state.",
                "vehicles.",
                "vehicle_status.",
                "field.",
            ] {
                assert!(
                    !html.contains(&format!(">{key}")) && !html.contains(&format!("\"{key}")),
                    "{path}: untranslated {key}"
                );
            }
            if lang == "en" {
                assert!(!html.contains("外出人员"), "{path}: Chinese left in the English page");
            }
        }
    }
    // The school's user gets no trip page.
    let (school, _) = app.browser("school1").await;
    assert_eq!(school.get(app.url(&format!("/trips/{id}"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
});

async fn board(app: &TestApp, date: &str) -> Vec<Value> {
    let (_, b) = app.get_json(&app.token("agent").await, &format!("/api/v1/attendance?date={date}")).await;
    b["items"].as_array().unwrap().clone()
}

//! Periodic inspections (巡检): planning one school and a town's term, the round line by
//! line, completion with the school's signature and the findings it opens as tickets, the
//! hazard list, the callback, the templates, photos, scoping and every bad input.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{PNG, user_id};
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

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn signature() -> Value {
    json!({"signer_name": "王老师", "image_png_base64": format!("data:image/png;base64,{PNG}")})
}

/// School 1 with two cameras (one critical) and a UPS; a round of both systems planned
/// for the technician. Returns the inspection.
async fn planned(app: &TestApp) -> Value {
    let agent = app.token("agent").await;
    for (system, kind, serial, critical) in [
        ("surveillance", "网络摄像机", "XJ-CAM-1", false),
        ("surveillance", "NVR", "XJ-NVR-1", true),
        ("server_room", "UPS", "XJ-UPS-1", false),
    ] {
        let (s, v) = app
            .post_json(
                &agent,
                "/api/v1/equipment",
                &json!({"customer_id": app.school1, "system": system, "kind": kind, "serial_no": serial,
                    "location": "主楼机房", "critical": critical, "installed_on": "2024-09-01"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let tech = user_id(app, "tech").await;
    let (s, v) = app
        .post_json(
            &app.token("engineer").await,
            "/api/v1/inspections",
            &json!({"customer_id": app.school1, "phase": "mid", "systems": ["surveillance", "server_room"],
                "planned_on": "2030-03-04", "technician_ids": [tech]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

both!(a_round_runs_from_plan_through_findings_to_the_callback, |app: TestApp| async move {
    let insp = planned(&app).await;
    let id = insp["id"].as_i64().unwrap();
    assert!(insp["number"].as_str().unwrap().starts_with("XJ"), "{insp}");
    assert_eq!(insp["status"], "planned");
    let lines = items(&json!({"items": insp["items"]}));
    // Per-device items once per device of the system, per-system items once.
    let nvr_disk: Vec<&Value> = lines.iter().filter(|l| l["code"] == "nvr_disk_status").collect();
    assert_eq!(nvr_disk.len(), 2, "a line per surveillance device: {lines:?}");
    assert!(lines.iter().any(|l| l["system"] == "server_room" && l["code"] == "room_temp_c"));
    assert!(lines.iter().all(|l| l["result"].is_null()));
    let path = format!("/api/v1/inspections/{id}");
    let tech = app.token("tech").await;
    // The school reads its own, read-only; another school does not see it.
    let (s, v) = app.get_json(&app.token("school1").await, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["actions"], json!([]));
    assert_eq!(v["can_record"], false);
    assert_eq!(app.get_json(&app.token("school2").await, &path).await.0, StatusCode::NOT_FOUND);
    // Nothing is recorded before the round starts; only its technician starts it.
    let first = lines[0]["id"].as_i64().unwrap();
    let (s, _) =
        app.post_json(&tech, &format!("{path}/results"), &json!({"items": [{"item_id": first, "result": "ok"}]})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        app.post_json(&app.token("agent").await, &format!("{path}/actions/start"), &json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = app.post_json(&tech, &format!("{path}/actions/start"), &json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "in_progress");
    assert_eq!(v["can_record"], true);
    // Bad results: all named at once, nothing written.
    let (s, v) = app
        .post_json(
            &tech,
            &format!("{path}/results"),
            &json!({"items": [{"item_id": first, "result": "broken"}, {"item_id": 999999, "result": "ok"}, {"result": "ok"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["items[0].result", "items[2].item_id"]);
    let (s, v) = app
        .post_json(&tech, &format!("{path}/results"), &json!({"items": [{"item_id": 999999, "result": "ok"}]}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["items[0].item_id"], "a line of no (or another) inspection");
    let (_, v) = app.get_json(&tech, &path).await;
    assert!(items(&json!({"items": v["items"]})).iter().all(|l| l["result"].is_null()), "nothing written");
    // The round, line by line: the critical NVR's disk fails, the room is too hot (a fault
    // by its measured value), a camera is a hazard and should be replaced; the rest is fine.
    let nvr = nvr_disk.iter().find(|l| l["equipment_label"].as_str().unwrap_or("").starts_with("NVR")).unwrap();
    let cam_disk = nvr_disk.iter().find(|l| l["id"] != nvr["id"]).unwrap();
    let temp = lines.iter().find(|l| l["code"] == "room_temp_c").unwrap();
    let mut results = vec![
        json!({"item_id": nvr["id"], "result": "fault", "note": "2 号盘 SMART 告警"}),
        json!({"item_id": temp["id"], "result": "fault", "value": 31.5}),
        json!({"item_id": cam_disk["id"], "result": "hazard", "note": "立杆锈蚀", "suggest_replace": true}),
    ];
    let last = lines.iter().rev().find(|l| ![&nvr["id"], &temp["id"], &cam_disk["id"]].contains(&&l["id"])).unwrap();
    for l in &lines {
        if ![&nvr["id"], &temp["id"], &cam_disk["id"], &last["id"]].contains(&&l["id"]) {
            results.push(json!({"item_id": l["id"], "result": "ok"}));
        }
    }
    // Saved a few lines at a time, as the phone does.
    for chunk in results.chunks(4) {
        let (s, v) = app.post_json(&tech, &format!("{path}/results"), &json!({"items": chunk})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["items"].as_array().unwrap().len(), chunk.len());
    }
    // A line is still open: no completion, even signed.
    let (s, v) = app.post_json(&tech, &format!("{path}/actions/complete"), &json!({"signature": signature()})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = app
        .post_json(&tech, &format!("{path}/results"), &json!({"items": [{"item_id": last["id"], "result": "na"}]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    // The school's question and the answer given.
    let (s, v) = app
        .post_json(&tech, &format!("{path}/questions"), &json!({"question": "录像能保存多久？", "answer": "30 天以上"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        app.post_json(&tech, &format!("{path}/questions"), &json!({"answer": "x"})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Without the school's signature: refused at the field.
    let (s, v) = app.post_json(&tech, &format!("{path}/actions/complete"), &json!({"summary": "正常"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["signature.signer_name"]);
    let tickets_before = app.count("tickets").await;
    let (s, v) = app
        .post_json(
            &tech,
            &format!("{path}/actions/complete"),
            &json!({"signature": signature(), "summary": "机房温度偏高", "handled_on_site": "机柜除尘，紧固 NVR 电源线"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["signed"], true);
    assert_eq!(v["faults"], 2);
    assert_eq!(v["hazards"], 1);
    assert_eq!(app.count("tickets").await, tickets_before + 2, "a ticket per fault line");
    // Each fault line points to its ticket; the ticket is the inspection's, on the engineer's queue.
    let done = items(&json!({"items": v["items"]}));
    let eng = app.token("engineer").await;
    for l in done.iter().filter(|l| l["result"] == "fault") {
        let t = l["ticket_id"].as_i64().expect("a fault line has its ticket");
        let (_, tk) = app.get_json(&eng, &format!("/api/v1/tickets/{t}")).await;
        assert_eq!(tk["source"], "inspection", "{tk}");
        assert_eq!(tk["status"], "new");
        assert_eq!(tk["customer_id"], app.school1);
        if l["id"] == nvr["id"] {
            assert_eq!(tk["priority"], "high", "a critical device's finding is raised: {tk}");
            assert_eq!(tk["equipment_ids"], json!([nvr["equipment_id"]]));
        } else {
            assert_eq!(tk["priority"], "normal", "{tk}");
        }
    }
    let (_, queue) = app.get_json(&eng, "/api/v1/tickets?status=new").await;
    assert!(items(&queue).iter().any(|t| t["id"] == done.iter().find(|l| l["id"] == nvr["id"]).unwrap()["ticket_id"]));
    // Nothing is recorded on a completed round.
    let (s, _) =
        app.post_json(&tech, &format!("{path}/results"), &json!({"items": [{"item_id": first, "result": "ok"}]})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The replacement suggestion reaches the managers' list.
    let (_, sug) = app.get_json(&app.token("manager").await, "/api/v1/suggestions").await;
    assert!(items(&sug).iter().any(|s| s["equipment_id"] == cam_disk["equipment_id"]), "{sug}");
    // The hazard list: the school sees its own; another school nothing.
    let (_, hz) = app.get_json(&eng, "/api/v1/hazards").await;
    assert_eq!(hz["total"], 1, "{hz}");
    assert_eq!(hz["items"][0]["id"], cam_disk["id"]);
    assert_eq!(app.get_json(&app.token("school1").await, "/api/v1/hazards").await.1["total"], 1);
    assert_eq!(app.get_json(&app.token("school2").await, "/api/v1/hazards").await.1["total"], 0);
    let resolve = format!("/api/v1/hazards/{}/resolve", cam_disk["id"]);
    assert_eq!(app.post_json(&eng, &resolve, &json!({})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post_json(&app.token("agent").await, &resolve, &json!({"resolution": "x"})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.post_json(&eng, &resolve, &json!({"resolution": "立杆除锈加固"})).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.post_json(&eng, &resolve, &json!({"resolution": "again"})).await.0, StatusCode::CONFLICT);
    assert_eq!(app.get_json(&eng, "/api/v1/hazards").await.1["total"], 0);
    // The agent's callback: the queue holds it; "did not come" needs what the school said and
    // alerts the managers; once only.
    let agent = app.token("agent").await;
    let (_, q) = app.get_json(&agent, "/api/v1/inspections?scope=to_call").await;
    assert!(items(&q).iter().any(|i| i["id"] == id), "{q}");
    let cb = format!("{path}/callback");
    assert_eq!(app.post_json(&tech, &cb, &json!({"attended": true, "satisfaction": 5})).await.0, StatusCode::FORBIDDEN);
    let (s, v) = app.post_json(&agent, &cb, &json!({"attended": false, "satisfaction": 9})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&v), ["satisfaction", "note"]);
    let (s, v) = app.post_json(&agent, &cb, &json!({"attended": false, "note": "学校说当天没见到人"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["callback_attended"], false);
    assert_eq!(app.post_json(&agent, &cb, &json!({"attended": true, "satisfaction": 5})).await.0, StatusCode::CONFLICT);
    let (_, n) = app.get_json(&app.token("manager").await, "/api/v1/notifications").await;
    assert!(items(&n).iter().any(|x| x["kind"] == "inspection_missed"), "{n}");
    let (_, q) = app.get_json(&agent, "/api/v1/inspections?scope=to_call").await;
    assert!(!items(&q).iter().any(|i| i["id"] == id));
    // The numbers: planned 1, done 1, one hazard found and resolved; availability by system.
    let (s, r) = app.get_json(&eng, "/api/v1/inspections/report?from=2030-01-01&until=2030-12-31").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let town = r["rows"].as_array().unwrap().iter().find(|x| x["key"] == "城关镇").cloned().unwrap();
    assert_eq!((town["planned"].as_i64(), town["completed"].as_i64()), (Some(1), Some(1)));
    assert_eq!((town["hazards_found"].as_i64(), town["hazards_resolved"].as_i64()), (Some(1), Some(1)));
    assert_eq!((r["totals"]["planned"].as_i64(), r["totals"]["completed"].as_i64()), (Some(1), Some(1)), "{r}");
    assert_eq!(r["total"], 1, "one town");
    let sv = r["availability"].as_array().unwrap().iter().find(|x| x["system"] == "surveillance").cloned().unwrap();
    assert_eq!((sv["devices"].as_i64(), sv["ok"].as_i64()), (Some(2), Some(0)), "both cameras had a finding: {r}");
    assert_eq!(app.get_json(&app.token("school1").await, "/api/v1/inspections/report").await.0, StatusCode::FORBIDDEN);
    // The signature is the school's to see, not another's.
    assert_eq!(app.get(&app.token("school1").await, &format!("{path}/signature.png")).await.status(), StatusCode::OK);
    assert_eq!(
        app.get(&app.token("school2").await, &format!("{path}/signature.png")).await.status(),
        StatusCode::NOT_FOUND
    );
});

both!(planning_a_town_keeps_its_schools_together_and_nobody_over_the_daily_limit, |app: TestApp| async move {
    let admin = app.token("admin").await;
    let (s, v) = app
        .post_json(
            &admin,
            "/api/v1/users",
            &json!({"username": "tech2", "password": "password-tech2",
            "display_name": "李师傅", "roles": ["technician"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let agent = app.token("agent").await;
    for i in 2..=6 {
        let (s, v) = app
            .post_json(
                &agent,
                "/api/v1/customers",
                &json!({"name": format!("城关镇第{i}小学"), "code": format!("T-CG-0{i}"),
                "county": "青阳县", "town": "城关镇"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let eng = app.token("engineer").await;
    let techs = [user_id(&app, "tech").await, user_id(&app, "tech2").await];
    // Monday and Tuesday.
    let body = json!({"town": "城关镇", "phase": "early", "systems": ["network"], "planned_from": "2030-03-04",
        "planned_until": "2030-03-05", "technician_ids": techs});
    let (s, v) = app.post_json(&eng, "/api/v1/inspections/plan", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let made = items(&v);
    assert_eq!(made.len(), 6);
    assert!(made.iter().all(|r| r["planned_on"] == made[0]["planned_on"]), "one town, one day: {v}");
    for t in techs {
        let n = made.iter().filter(|r| r["technician_ids"] == json!([t])).count();
        assert!(n <= 3, "technician {t} has {n} rounds on one day");
    }
    // Again: the first day is full, so the second.
    let (s, v) = app.post_json(&eng, "/api/v1/inspections/plan", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(items(&v).iter().all(|r| r["planned_on"] == "2030-03-05"), "{v}");
    // A third time there is no room: refused, nothing written.
    let before = app.count("inspections").await;
    let (s, v) = app.post_json(&eng, "/api/v1/inspections/plan", &body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["planned_until"]);
    assert_eq!(app.count("inspections").await, before);
    // The technician's own list, soonest first; the calendar's range.
    let (_, mine) = app.get_json(&app.token("tech").await, "/api/v1/inspections?scope=mine&per_page=50").await;
    assert_eq!(mine["total"], 6, "{mine}");
    let (_, cal) = app.get_json(&eng, "/api/v1/inspections?from=2030-03-01&until=2030-03-31&per_page=50").await;
    assert_eq!(cal["total"], 12);
    // Bad input, every field named at once.
    let agent_id = user_id(&app, "agent").await;
    let (s, v) = app
        .post_json(
            &eng,
            "/api/v1/inspections/plan",
            &json!({"phase": "winter", "systems": ["lights"],
            "planned_from": "2030-03-05", "planned_until": "2030-03-04", "technician_ids": [agent_id]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["phase", "systems[0]", "planned_until", "customer_ids"]);
    let (s, v) = app
        .post_json(
            &eng,
            "/api/v1/inspections/plan",
            &json!({"customer_ids": [app.school2, 987654],
            "planned_from": "2030-03-04", "planned_until": "2030-03-04", "technician_ids": [agent_id]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["technician_ids[0]"]);
    let (s, v) = app
        .post_json(
            &eng,
            "/api/v1/inspections/plan",
            &json!({"customer_ids": [app.school2, 987654],
            "planned_from": "2030-03-04", "planned_until": "2030-03-04"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["customer_ids[1]"]);
    let (s, v) = app
        .post_json(
            &eng,
            "/api/v1/inspections/plan",
            &json!({"customer_ids": [app.school2],
            "planned_from": "2030-03-09", "planned_until": "2030-03-10"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["planned_until"], "a weekend has no working day");
    // Only the engineer and the manager plan.
    for who in ["agent", "tech", "school1"] {
        let (s, _) = app.post_json(&app.token(who).await, "/api/v1/inspections/plan", &body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(app.count("inspections").await, before);
    // Cancel needs a reason and the engineer.
    let one = made[0]["id"].as_i64().unwrap();
    let cancel = format!("/api/v1/inspections/{one}/actions/cancel");
    assert_eq!(
        app.post_json(&app.token("tech").await, &cancel, &json!({"reason": "x"})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.post_json(&eng, &cancel, &json!({})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = app.post_json(&eng, &cancel, &json!({"reason": "学校考试周"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "cancelled");
    assert_eq!(app.post_json(&eng, &cancel, &json!({"reason": "again"})).await.0, StatusCode::CONFLICT);
});

both!(a_template_edit_applies_to_rounds_planned_afterwards, |app: TestApp| async move {
    let eng = app.token("engineer").await;
    let (s, list) = app.get_json(&eng, "/api/v1/inspections/checklist").await;
    assert_eq!(s, StatusCode::OK);
    let rows = items(&list);
    assert!(rows.len() >= 60, "seeded from DOMAIN.md §2: {}", rows.len());
    let temp = rows.iter().find(|r| r["code"] == "room_temp_c").cloned().unwrap();
    assert_eq!((temp["min_value"].as_f64(), temp["max_value"].as_f64()), (Some(18.0), Some(27.0)));
    let tech = user_id(&app, "tech").await;
    let plan = json!({"customer_id": app.school1, "phase": "mid", "systems": ["server_room"], "planned_on": "2030-03-04",
        "technician_ids": [tech]});
    let (_, old) = app.post_json(&eng, "/api/v1/inspections", &plan).await;
    let path = format!("/api/v1/inspections/checklist/{}", temp["id"]);
    let edit = json!({"system": "server_room", "code": "room_temp_c", "text": "机房温度（新）", "standard": "18–26 ℃",
        "frequency": "every_visit", "min": 18.0, "max": 26.0, "unit": "℃"});
    assert_eq!(
        app.send_json(reqwest::Method::PUT, &app.token("tech").await, &path, &edit).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            &eng,
            &path,
            &json!({"system": "server_room", "code": "room_rh_pct",
            "text": "x", "min": 5, "max": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["max"]);
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            &eng,
            &path,
            &json!({"system": "server_room", "code": "room_rh_pct",
        "text": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["code"], "the code is taken in its system");
    let (s, v) = app.send_json(reqwest::Method::PUT, &eng, &path, &edit).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A new version: the old one is superseded and can no longer be edited.
    let current = v["id"].as_i64().unwrap();
    assert_ne!(current, temp["id"].as_i64().unwrap());
    assert_eq!(app.send_json(reqwest::Method::PUT, &eng, &path, &edit).await.0, StatusCode::NOT_FOUND);
    let path = format!("/api/v1/inspections/checklist/{current}");
    let (_, list) = app.get_json(&eng, "/api/v1/inspections/checklist").await;
    assert_eq!(items(&list).iter().filter(|r| r["code"] == "room_temp_c").count(), 1, "one current version");
    let (_, new) = app.post_json(&eng, "/api/v1/inspections", &plan).await;
    let line =
        |v: &Value| items(&json!({"items": v["items"]})).into_iter().find(|l| l["code"] == "room_temp_c").unwrap();
    assert_eq!(line(&new)["text"], "机房温度（新）");
    assert_eq!(line(&new)["max_value"], 26.0);
    let (_, old_again) = app.get_json(&eng, &format!("/api/v1/inspections/{}", old["id"])).await;
    assert_eq!(line(&old_again)["text"], temp["text"], "a planned round keeps its line as it was");
    // Retired: not on rounds planned from now on.
    let mut retire = edit.clone();
    retire["active"] = json!(false);
    let (s, v) = app.send_json(reqwest::Method::PUT, &eng, &path, &retire).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["id"].as_i64(), Some(current), "retiring alone is made in place");
    let (_, newer) = app.post_json(&eng, "/api/v1/inspections", &plan).await;
    assert!(!items(&json!({"items": newer["items"]})).iter().any(|l| l["code"] == "room_temp_c"));
    // A new item goes last.
    let (s, v) = app
        .post_json(
            &eng,
            "/api/v1/inspections/checklist",
            &json!({"system": "broadcast", "code": "bc_amp_temp",
            "text": "功放温度", "min": 0, "max": 60, "unit": "℃", "phases": ["late"], "per_device": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Bad single-inspection input, all at once.
    let (s, v) = app
        .post_json(
            &eng,
            "/api/v1/inspections",
            &json!({"phase": "x", "planned_on": "2030-02-30", "systems": ["lights"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["customer_id", "phase", "systems[0]", "planned_on", "technician_ids"]);
});

both!(photos_of_a_round_are_checked_images_seen_by_its_school_only, |app: TestApp| async move {
    let insp = planned(&app).await;
    let id = insp["id"].as_i64().unwrap();
    let tech = app.token("tech").await;
    let path = format!("/api/v1/inspections/{id}");
    assert_eq!(app.post_json(&tech, &format!("{path}/actions/start"), &json!({})).await.0, StatusCode::OK);
    let line = insp["items"][0]["id"].as_i64().unwrap();
    let svg = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "<svg onload=alert(1)></svg>");
    let (s, v) = app.post_json(&tech, &format!("{path}/photos"), &json!({"item_id": line, "data_base64": svg})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = app.post_json(&tech, &format!("{path}/photos"), &json!({"item_id": 99999, "data_base64": PNG})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["item_id"]);
    let (s, v) = app.post_json(&tech, &format!("{path}/photos"), &json!({"item_id": line, "data_base64": PNG})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let photo = v["id"].as_i64().unwrap();
    let (_, v) = app.get_json(&tech, &path).await;
    assert_eq!(v["photos"], json!([{"id": photo, "item_id": line}]));
    let url = format!("/api/v1/inspections/photos/{photo}");
    let r = app.get(&app.token("school1").await, &url).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(app.get(&app.token("school2").await, &url).await.status(), StatusCode::NOT_FOUND);
    // Someone else's technician does not add photos.
    let (s, _) =
        app.post_json(&app.token("agent").await, &format!("{path}/photos"), &json!({"data_base64": PNG})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

// The pages: plan through the form, the round line by line without script, complete with
// the pad's PNG, the callback; the list, the calendar, the print form, the workbooks, the
// hazards, the templates and the figures, in both languages.
both!(the_pages_carry_a_round_from_plan_to_callback, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let cam = app.equipment(&agent, app.school1, "surveillance", "网络摄像机", "PG-CAM-1").await;
    let tech_id = user_id(&app, "tech").await;
    let (eng, csrf) = app.browser("engineer").await;
    let page = eng.get(app.url("/inspections/new")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"plan-many\"") && page.contains("id=\"plan-one\""), "both plan forms");
    // A bad plan: the page again with the field named, nothing written.
    let r = eng
        .post(app.url("/inspections/new"))
        .form(&[("_csrf", csrf.as_str()), ("customer", "城关镇中心小学"), ("planned_on", "2030-02-30")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("计划日期") && html.contains("维护人员"), "the fields named");
    assert_eq!(app.count("inspections").await, 0);
    let tech_s = tech_id.to_string();
    let r = eng
        .post(app.url("/inspections/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("customer", "城关镇中心小学"),
            ("planned_on", "2030-03-04"),
            ("phase", "late"),
            ("systems", "surveillance"),
            ("technician_ids", tech_s.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = to.trim_start_matches("/inspections/").split('?').next().unwrap().parse().unwrap();
    let (tech, tcsrf) = app.browser("tech").await;
    let page = tech.get(app.url(&format!("/inspections/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"inspection-start\""), "the technician starts it");
    let r = tech
        .post(app.url(&format!("/inspections/{id}/act/start")))
        .form(&[("_csrf", tcsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, v) = app.get_json(&app.token("tech").await, &format!("/api/v1/inspections/{id}")).await;
    let lines = items(&json!({"items": v["items"]}));
    // The late phase shows each device's faults over its life.
    let page = tech.get(app.url(&format!("/inspections/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("累计故障 0 次"), "late phase: fault count on the device's lines");
    assert!(page.contains("data-autosave"), "each line saves itself");
    // A bad line (a value that is not a number) is refused on the page; nothing written.
    let first = lines[0]["id"].as_i64().unwrap().to_string();
    let r = tech
        .post(app.url(&format!("/inspections/{id}/line")))
        .form(&[("_csrf", tcsrf.as_str()), ("item_id", first.as_str()), ("result", "ok"), ("value", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for (n, l) in lines.iter().enumerate() {
        let lid = l["id"].as_i64().unwrap().to_string();
        let result = if n == 0 { "fault" } else { "ok" };
        let r = tech
            .post(app.url(&format!("/inspections/{id}/line")))
            // As the phone sends it: the value box empty.
            .form(&[
                ("_csrf", tcsrf.as_str()),
                ("item_id", lid.as_str()),
                ("result", result),
                ("value", ""),
                ("note", "检查"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "line {n}");
    }
    // Completing without drawing a signature: the page again, the pad named.
    let r = tech
        .post(app.url(&format!("/inspections/{id}/complete")))
        .form(&[("_csrf", tcsrf.as_str()), ("summary", "正常"), ("signer_name", ""), ("signature_png", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let png = format!("data:image/png;base64,{PNG}");
    let r = tech
        .post(app.url(&format!("/inspections/{id}/complete")))
        .form(&[
            ("_csrf", tcsrf.as_str()),
            ("summary", "一处异常"),
            ("handled_on_site", "除尘"),
            ("signer_name", "王老师"),
            ("signature_png", png.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = tech.get(app.url(&format!("/inspections/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"signed\"") && page.contains("href=\"/tickets/"), "signed, the fault's ticket linked");
    // The agent's callback through the page.
    let (ag, acsrf) = app.browser("agent").await;
    let list = ag.get(app.url("/inspections?view=to_call")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("id=\"inspection-{id}\"")), "on the callback queue");
    let r = ag
        .post(app.url(&format!("/inspections/{id}/callback")))
        .form(&[("_csrf", acsrf.as_str()), ("attended", "yes"), ("on_time", "yes"), ("satisfaction", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Every page of the area opens, in Chinese and in English, for the engineer.
    for path in [
        "/inspections".to_owned(),
        "/inspections/calendar?month=2030-03".into(),
        format!("/inspections/{id}"),
        format!("/inspections/{id}/print"),
        "/hazards".into(),
        "/inspections/checklist".into(),
        "/inspections/checklist?system=network".into(),
        "/inspections/report?from=2030-01-01&until=2030-12-31".into(),
        "/inspections/report?by=phase&from=2030-01-01&until=2030-12-31".into(),
    ] {
        let r = eng.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let html = r.text().await.unwrap();
        assert!(!html.contains("inspection."), "{path}: an untranslated key");
    }
    let print = eng.get(app.url(&format!("/inspections/{id}/print"))).send().await.unwrap().text().await.unwrap();
    assert!(print.contains("巡检记录表") && print.contains("异常 1 项"), "form 2 with its counts");
    assert!(print.contains(&format!("/inspections/{id}/signature.png")), "the signature printed");
    let cal = eng.get(app.url("/inspections/calendar?month=2030-03")).send().await.unwrap().text().await.unwrap();
    assert!(cal.contains("id=\"day-2030-03-04\"") && cal.contains(&format!("/inspections/{id}")), "on its day");
    for path in
        [format!("/inspections/{id}/print.xlsx"), "/inspections/export.xlsx?from=2030-01-01&until=2030-12-31".into()]
    {
        let r = eng.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{path}: a workbook");
    }
    // The device's page lists the lines that looked at it; the school's page its rounds;
    // the search finds the round by number and by school.
    let number = v["number"].as_str().unwrap().to_owned();
    let html = eng.get(app.url(&format!("/equipment/{}", cam["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"inspection-lines\"") && html.contains(&number), "the device's inspection lines");
    let html = eng.get(app.url(&format!("/customers/{}", app.school1))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"inspections\"") && html.contains(&number), "the school's rounds");
    let eng_token = app.token("engineer").await;
    let (_, found) = app.get_json(&eng_token, &format!("/api/v1/search?q={}", number.to_lowercase())).await;
    let kinds: Vec<&str> = found["items"].as_array().unwrap().iter().filter_map(|h| h["kind"].as_str()).collect();
    assert!(kinds.contains(&"inspection"), "by number: {found}");
    let (_, found) = app.get_json(&eng_token, &format!("/api/v1/search?q={}", crate::common::enc("城关镇中心"))).await;
    assert!(
        found["items"].as_array().unwrap().iter().any(|h| h["kind"] == "inspection" && h["id"] == id),
        "by school: {found}"
    );
    let (_, found) =
        app.get_json(&app.token("school2").await, &format!("/api/v1/search?q={}", number.to_lowercase())).await;
    assert!(!found["items"].as_array().unwrap().iter().any(|h| h["kind"] == "inspection"), "not another school's");
    let (school, _) = app.browser("school1").await;
    let r = school.get(app.url(&format!("/inspections/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(!html.contains("data-autosave") && !html.contains("id=\"callback-form\""), "read-only for the school");
    let (other, _) = app.browser("school2").await;
    assert_eq!(other.get(app.url(&format!("/inspections/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // In English, every word of the area is there.
    crate::defective::speak(&app, "engineer", "en").await;
    let (eng, _) = app.browser("engineer").await;
    for path in [
        "/inspections".to_owned(),
        "/inspections/new".into(),
        "/inspections/calendar?month=2030-03".into(),
        format!("/inspections/{id}"),
        format!("/inspections/{id}/print"),
        "/hazards".into(),
        "/inspections/checklist".into(),
        "/inspections/report?from=2030-01-01&until=2030-12-31".into(),
    ] {
        let html = eng.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
        for key in
            ["inspection.", "inspections.", "inspection_", "hazards.", "checklist.", "field.", "frequency.", "weekday."]
        {
            assert!(
                !html.contains(&format!(">{key}")) && !html.contains(&format!("\"{key}")),
                "{path}: untranslated {key}"
            );
        }
        assert!(!html.contains("巡检单号"), "{path}: Chinese left in the English page");
    }
    let print = eng.get(app.url(&format!("/inspections/{id}/print"))).send().await.unwrap().text().await.unwrap();
    assert!(print.contains("Inspection record") && print.contains("巡检记录表"), "the paper keeps its Chinese title");
});

//! Trainings: a customer training planned by the engineer for a school's early phase, its
//! attendance from the school's people, completion with feedback, the coverage showing the
//! school trained; a vendor training for staff; materials; who may do what, a school's
//! scope, and bad input that changes nothing.

use crate::both;
use crate::common::TestApp;
use crate::tickets::user_id;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn fields(v: &Value) -> Vec<String> {
    let mut f: Vec<String> = v["error"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["field"].as_str().unwrap_or("").to_owned())
        .collect();
    f.sort();
    f
}

fn cell<'a>(cov: &'a Value, school: i64, phase: &str, system: &str) -> &'a Value {
    cov["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == school && c["phase"] == phase && c["system"] == system)
        .unwrap_or_else(|| panic!("no cell {school} {phase} {system}: {cov}"))
}

both!(a_schools_early_training_from_plan_to_coverage, |app: TestApp| async move {
    let agent = app.token("agent").await;
    app.equipment(&agent, app.school1, "classroom", "交互式一体机", "TR-001").await;
    app.equipment(&agent, app.school1, "network", "接入交换机", "TR-002").await;
    app.equipment(&agent, app.school2, "surveillance", "网络摄像机", "TR-003").await;
    let eng = app.token("engineer").await;
    let engineer = user_id(&app, "engineer").await;

    // Before any training: every cell untrained, both schools' administrators never trained.
    let (s, cov) = app.get_json(&eng, "/api/v1/trainings/coverage").await;
    assert_eq!(s, StatusCode::OK, "{cov}");
    assert_eq!(cov["items"].as_array().unwrap().len(), 3 * 2 + 3, "three phases × each school's systems");
    assert_eq!(cell(&cov, app.school1, "early", "classroom")["trained"], false);

    // Only the manager or the engineer plans; bad input is named and writes nothing.
    let body = json!({"kind": "customer", "title": "前期：班班通使用与日常维护", "phase": "early",
        "systems": ["classroom", "network"], "customer_ids": [app.school1], "planned_on": "2030-03-12",
        "place": "第一小学多媒体教室", "trainer_ids": [engineer], "topics": "一体机开关机\n信号源切换"});
    let (s, _) = app.post_json(&app.token("tech").await, "/api/v1/trainings", &body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post_json(&app.token("school1").await, "/api/v1/trainings", &body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = app
        .post_json(
            &eng,
            "/api/v1/trainings",
            &json!({"kind": "customer", "title": "x", "phase": "middle", "systems": ["lasers"],
                "customer_ids": [app.school1], "planned_on": "2030-02-30"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["phase", "planned_on", "systems[0]"]);
    let (s, e) = app.post_json(&eng, "/api/v1/trainings", &json!({"kind": "seminar", "title": "x"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&e), ["kind", "planned_on"]);
    let (s, e) = app
        .post_json(
            &eng,
            "/api/v1/trainings",
            &json!({"kind": "customer", "title": "x", "phase": "early",
            "systems": ["network"], "customer_ids": [999_999], "planned_on": "2030-03-12"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["customer_ids[0]"]);
    assert_eq!(app.count("trainings").await, 0, "nothing written");

    let (s, t) = app.post_json(&eng, "/api/v1/trainings", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id = t["training"]["id"].as_i64().unwrap();
    assert!(t["training"]["number"].as_str().unwrap().starts_with("PX"), "{t}");
    assert_eq!(t["training"]["status"], "planned");
    assert_eq!(t["trainer_ids"], json!([engineer]));
    assert_eq!(t["actions"], json!(["complete", "cancel"]));

    // Completing with nobody present is refused.
    let (s, e) = app.post_json(&eng, &format!("/api/v1/trainings/{id}/actions/complete"), &json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");

    // Attendance: people of the training's schools only; the engineer records it.
    let (s, e) = app
        .post_json(
            &eng,
            &format!("/api/v1/trainings/{id}/attendance"),
            &json!({"attendees": [{"name": "王老师", "customer_id": app.school2}, {"customer_id": app.school1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["attendees[0].customer_id", "attendees[1].name"]);
    let (s, _) = app
        .post_json(
            &app.token("tech").await,
            &format!("/api/v1/trainings/{id}/attendance"),
            &json!({"attendees": [{"name": "王老师", "customer_id": app.school1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, t) = app
        .post_json(
            &eng,
            &format!("/api/v1/trainings/{id}/attendance"),
            &json!({"attendees": [
                {"name": "王老师", "customer_id": app.school1, "administrator": true},
                {"name": "李老师", "customer_id": app.school1},
                {"name": "张老师", "customer_id": app.school1, "present": false}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["training"]["present"], 2);

    // Feedback out of range is refused; then the training completes.
    let (s, e) =
        app.post_json(&eng, &format!("/api/v1/trainings/{id}/actions/complete"), &json!({"feedback_score": 6})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["feedback_score".to_owned()]));
    let (s, t) = app
        .post_json(
            &eng,
            &format!("/api/v1/trainings/{id}/actions/complete"),
            &json!({"feedback_score": 5, "feedback_note": "老师们都会切换信号源了"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        (t["training"]["status"].as_str(), t["training"]["feedback_score"].as_i64()),
        (Some("completed"), Some(5))
    );
    assert_eq!(t["actions"], json!([]));
    let (s, _) = app.post_json(&eng, &format!("/api/v1/trainings/{id}/actions/cancel"), &json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "a completed training is not cancelled");

    // The coverage: school 1's early classroom and network cells trained by two people on
    // 2030-03-12, its administrator trained; school 2 untrained and listed first.
    let (_, cov) = app.get_json(&eng, "/api/v1/trainings/coverage").await;
    let c = cell(&cov, app.school1, "early", "classroom");
    assert_eq!(
        (c["trained"].as_bool(), c["people"].as_i64(), c["last_on"].as_str()),
        (Some(true), Some(2), Some("2030-03-12"))
    );
    assert_eq!(cell(&cov, app.school1, "mid", "classroom")["trained"], false);
    assert_eq!(cov["schools"][0]["customer_id"], app.school2, "{cov}");
    let one = cov["schools"].as_array().unwrap().iter().find(|s| s["customer_id"] == app.school1).unwrap();
    assert_eq!((one["administrator_trained"].as_bool(), one["trained"].as_i64()), (Some(true), Some(2)));
    assert_eq!(one["sessions"][0], json!({"phase": "early", "held": 1, "proposed": 6}));
    let (_, early) = app.get_json(&eng, "/api/v1/trainings/coverage?phase=early").await;
    assert_eq!(early["items"].as_array().unwrap().len(), 3);
    let (s, _) = app.get_json(&eng, "/api/v1/trainings/coverage?phase=middle").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // A school reads its own trainings, its own coverage and nobody else's.
    let s1 = app.token("school1").await;
    let (_, list) = app.get_json(&s1, "/api/v1/trainings").await;
    assert_eq!(list["total"], 1);
    let (s, t) = app.get_json(&s1, &format!("/api/v1/trainings/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t["attendees"].as_array().unwrap().len(), 3);
    let s2 = app.token("school2").await;
    let (s, _) = app.get_json(&s2, &format!("/api/v1/trainings/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = app.get_json(&s2, "/api/v1/trainings").await;
    assert_eq!(list["total"], 0);
    let (_, cov) = app.get_json(&s2, "/api/v1/trainings/coverage").await;
    assert!(cov["items"].as_array().unwrap().iter().all(|c| c["customer_id"] == app.school2), "{cov}");
});

both!(staff_trainings_materials_and_cancelled_ones, |app: TestApp| async move {
    let manager = app.token("manager").await;
    let tech = user_id(&app, "tech").await;
    // A vendor training names its vendor and takes staff, not schools.
    let (s, e) = app
        .post_json(&manager, "/api/v1/trainings", &json!({"kind": "vendor", "title": "海康 NVR 认证", "planned_on": "2030-04-02", "customer_ids": [app.school1]}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["customer_ids", "provider"]);
    let (s, t) = app
        .post_json(
            &manager,
            "/api/v1/trainings",
            &json!({"kind": "vendor", "title": "海康 NVR 认证", "planned_on": "2030-04-02", "provider": "海康威视"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id = t["training"]["id"].as_i64().unwrap();
    let school1 = user_id(&app, "school1").await;
    let (s, e) = app
        .post_json(
            &manager,
            &format!("/api/v1/trainings/{id}/attendance"),
            &json!({"attendees": [{"name": "刘工"}, {"name": "学校", "user_id": school1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["attendees[0].user_id", "attendees[1].user_id"]);
    let (s, t) = app
        .post_json(
            &manager,
            &format!("/api/v1/trainings/{id}/attendance"),
            &json!({"attendees": [{"name": "技术员", "user_id": tech, "result": "合格 NVR-2030-017"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["attendees"][0]["result"], "合格 NVR-2030-017");
    // The technician sees the training on his record; a school never sees a staff training.
    let (_, mine) = app.get_json(&app.token("tech").await, "/api/v1/trainings").await;
    assert_eq!(mine["total"], 1);
    let (s, _) = app.get_json(&app.token("school1").await, &format!("/api/v1/trainings/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Materials: a PDF is kept and sent back as a download that runs nothing; an SVG or
    // random bytes are refused.
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let (s, m) = app
        .post_json(
            &manager,
            &format!("/api/v1/trainings/{id}/materials"),
            &json!({"filename": "NVR 手册.pdf", "data_base64": b64(pdf)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["content_type"], "application/pdf");
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    let (s, e) = app
        .post_json(
            &manager,
            &format!("/api/v1/trainings/{id}/materials"),
            &json!({"filename": "x.svg", "data_base64": b64(svg)}),
        )
        .await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["file".to_owned()]));
    // Larger than 10 MiB: refused before it is decoded, and the body still fits the limit.
    let big = "A".repeat((10 * 1024 * 1024 + 3) / 3 * 4 + 8);
    let (s, e) = app
        .post_json(
            &manager,
            &format!("/api/v1/trainings/{id}/materials"),
            &json!({"filename": "x.pdf", "data_base64": big}),
        )
        .await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["data_base64".to_owned()]));
    let r = app.get(&manager, &format!("/api/v1/trainings/materials/{}", m["id"])).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf);

    // Cancelled: no attendance, no completion, nothing changes.
    let (s, t) = app.post_json(&manager, &format!("/api/v1/trainings/{id}/actions/cancel"), &json!({})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (s, e) =
        app.post_json(&manager, &format!("/api/v1/trainings/{id}/attendance"), &json!({"attendees": []})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (_, t) = app.get_json(&manager, &format!("/api/v1/trainings/{id}")).await;
    assert_eq!(t["attendees"].as_array().unwrap().len(), 1, "attendance kept: {t}");
    let (s, _) = app.post_json(&manager, &format!("/api/v1/trainings/{id}/actions/dance"), &json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
});

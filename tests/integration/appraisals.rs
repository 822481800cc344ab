//! Study and appraisal: the manager appraises a technician for a quarter on the exam and the
//! quarter's work (a first-time fix, a training attended, a confirmed repeat repair) with
//! his own weights, decides the outcome (never his own), and the figures freeze; the
//! technician reads his own and nobody else's; the comparison; the study plan; bad input.

use crate::both;
use crate::common::TestApp;
use crate::tickets::user_id;
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

both!(a_technicians_quarter_appraised_decided_and_compared, |app: TestApp| async move {
    let manager = app.token("manager").await;
    let tech = user_id(&app, "tech").await;
    let me = user_id(&app, "manager").await;

    // Only the manager appraises; bad input is named and writes nothing.
    let (s, _) = app
        .post_json(&app.token("engineer").await, "/api/v1/appraisals", &json!({"user_id": tech, "period": "2030-Q1"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = app.post_json(&manager, "/api/v1/appraisals", &json!({"period": "2030-Q5", "exam_score": 101})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["exam_score", "period", "user_id"]);
    let school = user_id(&app, "school1").await;
    let (s, e) = app.post_json(&manager, "/api/v1/appraisals", &json!({"user_id": school, "period": "2030-Q1"})).await;
    assert_eq!(
        (s, fields(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["user_id".to_owned()]),
        "a school is not staff"
    );
    assert_eq!(app.count("appraisals").await, 0);

    // A training the technician attended in the quarter.
    let (_, t) = app
        .post_json(
            &manager,
            "/api/v1/trainings",
            &json!({"kind": "internal", "title": "交换机环路排查", "planned_on": "2030-02-10"}),
        )
        .await;
    let training = t["training"]["id"].as_i64().unwrap();
    app.post_json(
        &manager,
        &format!("/api/v1/trainings/{training}/attendance"),
        &json!({"attendees": [{"name": "技术员", "user_id": tech}]}),
    )
    .await;
    let (s, _) = app.post_json(&manager, &format!("/api/v1/trainings/{training}/actions/complete"), &json!({})).await;
    assert_eq!(s, StatusCode::OK);

    // The manager's weights: the exam and trainings only, 10 points per penalty event.
    let (s, e) = app
        .send_json(reqwest::Method::PUT, &manager, "/api/v1/appraisals/weights", &json!({"exam": 150, "first_time_fix": 0, "satisfaction": 0, "sla": 0, "trainings": 0, "penalty_points": 0}))
        .await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["exam".to_owned()]));
    let (s, w) = app
        .send_json(reqwest::Method::PUT, &manager, "/api/v1/appraisals/weights", &json!({"exam": 60, "first_time_fix": 0, "satisfaction": 0, "sla": 0, "trainings": 40, "penalty_points": 10}))
        .await;
    assert_eq!(s, StatusCode::OK, "{w}");

    let (s, a) = app
        .post_json(&manager, "/api/v1/appraisals", &json!({"user_id": tech, "period": "2030-Q1", "exam_score": 85}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let id = a["id"].as_i64().unwrap();
    assert_eq!(a["period"], "2030-Q1");
    assert_eq!(a["parts"]["trainings_attended"], 1);
    // (85·60 + 25·40) / 100 = 61.
    assert_eq!(a["total"], 61.0, "{a}");
    let (s, _) = app.post_json(&manager, "/api/v1/appraisals", &json!({"user_id": tech, "period": "2030-Q1"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "one per person and period");

    // The technician reads his own, not others'; nobody decides his own.
    let (_, own) = app.post_json(&manager, "/api/v1/appraisals", &json!({"user_id": me, "period": "2030-Q1"})).await;
    let own_id = own["id"].as_i64().unwrap();
    let (s, _) =
        app.post_json(&manager, &format!("/api/v1/appraisals/{own_id}/decide"), &json!({"outcome": "raise"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let t_token = app.token("tech").await;
    let (s, _) = app.get_json(&t_token, &format!("/api/v1/appraisals/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get_json(&t_token, &format!("/api/v1/appraisals/{own_id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, mine) = app.get_json(&t_token, "/api/v1/appraisals?periods=2030-Q1").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let (s, _) =
        app.post_json(&t_token, &format!("/api/v1/appraisals/{id}/decide"), &json!({"outcome": "raise"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.get_json(&t_token, "/api/v1/appraisals?periods=2030-13").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Deciding: an unknown outcome is refused; the decision freezes the figures.
    let (s, e) = app.post_json(&manager, &format!("/api/v1/appraisals/{id}/decide"), &json!({"outcome": "fire"})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["outcome".to_owned()]));
    let (s, d) = app
        .post_json(
            &manager,
            &format!("/api/v1/appraisals/{id}/decide"),
            &json!({"outcome": "keep", "note": "继续保持，加强监控系统学习"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!((d["outcome"].as_str(), d["total"].as_f64()), (Some("keep"), Some(61.0)));
    let (s, _) =
        app.post_json(&manager, &format!("/api/v1/appraisals/{id}/decide"), &json!({"outcome": "raise"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // New weights do not move a decided appraisal.
    app.send_json(
        reqwest::Method::PUT,
        &manager,
        "/api/v1/appraisals/weights",
        &json!({"exam": 100, "first_time_fix": 0, "satisfaction": 0, "sla": 0, "trainings": 0, "penalty_points": 0}),
    )
    .await;
    let (_, d) = app.get_json(&manager, &format!("/api/v1/appraisals/{id}")).await;
    assert_eq!((d["total"].as_f64(), d["weights"]["exam"].as_f64()), (Some(61.0), Some(60.0)), "{d}");

    // The comparison across periods, on the page and on A4.
    let (b, _) = app.browser("manager").await;
    let page =
        b.get(app.url("/appraisals/compare?periods=2029-Q4,2030-Q1")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("61.0"), "the quarter's total beside the empty one");
    let sheet = b.get(app.url("/appraisals/print?periods=2030-Q1")).send().await.unwrap().text().await.unwrap();
    assert!(sheet.contains("class=\"paper\"") && sheet.contains("61.0"));

    // The quarter's study plan.
    let (s, e) = app.post_json(&t_token, "/api/v1/study-plans", &json!({"period": "2030-Q1", "title": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, p) = app
        .post_json(
            &manager,
            "/api/v1/study-plans",
            &json!({"period": "2030-Q1", "title": "NVR 硬盘更换与录像恢复", "content": "第一周：硬盘 SMART 检查"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (_, plans) = app.get_json(&t_token, "/api/v1/study-plans?period=2030-Q1").await;
    assert_eq!(plans[0]["title"], "NVR 硬盘更换与录像恢复");
});

//! The week's work plan: scheduled repairs, planned rounds, trips and the engineer's own
//! items per person and day; done or not; publishing; roles and bad input; the pages.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{act, user_id};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn day_of(plan: &Value, user: i64, day: usize) -> &Vec<Value> {
    let p = plan["people"].as_array().unwrap().iter().find(|p| p["user_id"] == user).unwrap();
    p["days"][day].as_array().unwrap()
}

both!(the_week_shows_each_persons_work_by_day_and_what_was_done, |app: TestApp| async move {
    let eng = app.token("engineer").await;
    let tech = user_id(&app, "tech").await;
    // A repair on Tuesday 2030-03-05 (10:00 in Shanghai), a round on Wednesday, a trip on Thursday.
    let (_, t) = app
        .post_json(
            &app.token("agent").await,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "system": "network", "title": "断网", "reporter_name": "王老师"}),
        )
        .await;
    let ticket = t["id"].as_i64().unwrap();
    assert_eq!(act(&app, &eng, ticket, "accept", json!({})).await.0, StatusCode::OK);
    let (s, _) =
        act(&app, &eng, ticket, "diagnose", json!({"fault_type": "hardware", "diagnosis": "交换机", "plan": "更换"}))
            .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) =
        act(&app, &eng, ticket, "schedule", json!({"technician_ids": [tech], "scheduled_at": "2030-03-05T02:00:00Z"}))
            .await;
    assert_eq!(s, StatusCode::OK);
    let (s, r) = app
        .post_json(&eng, "/api/v1/inspections", &json!({"customer_id": app.school2, "phase": "mid", "systems": ["network"], "planned_on": "2030-03-06", "technician_ids": [tech]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, tr) = app
        .post_json(
            &eng,
            "/api/v1/trips",
            &json!({"trip_date": "2030-03-07", "staff_ids": [tech], "stops": [{"customer_id": app.school1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{tr}");
    // An item by hand on Friday; bad ones are named.
    let (s, e) = app.post_json(&eng, "/api/v1/work-plan/items", &json!({"day": "2030-03-08"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = app
        .post_json(
            &eng,
            "/api/v1/work-plan/items",
            &json!({"user_id": user_id(&app, "store").await, "day": "2030-03-08", "title": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not field staff: {e}");
    assert_eq!(
        app.post_json(
            &app.token("tech").await,
            "/api/v1/work-plan/items",
            &json!({"user_id": tech, "day": "2030-03-08", "title": "x"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, item) = app
        .post_json(
            &eng,
            "/api/v1/work-plan/items",
            &json!({"user_id": tech, "day": "2030-03-08", "kind": "maintenance", "title": "城关片区交换机除尘"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{item}");
    let (s, plan) = app.get_json(&eng, "/api/v1/work-plan?week=2030-W10").await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(plan["monday"], "2030-03-04");
    assert_eq!(day_of(&plan, tech, 1)[0]["kind"], "repair");
    assert_eq!(day_of(&plan, tech, 1)[0]["time"], "10:00");
    assert_eq!(day_of(&plan, tech, 2)[0]["kind"], "inspection");
    assert_eq!(day_of(&plan, tech, 3)[0]["kind"], "trip");
    assert_eq!(day_of(&plan, tech, 4)[0]["label"], "城关片区交换机除尘");
    let me = plan["people"].as_array().unwrap().iter().find(|p| p["user_id"] == tech).unwrap();
    assert_eq!((me["planned"].as_i64(), me["done"].as_i64()), (Some(4), Some(0)));
    // The item done, the trip cancelled with its reason: planned against done.
    let path = format!("/api/v1/work-plan/items/{}", item["id"]);
    assert_eq!(app.post_json(&eng, &path, &json!({"done": true})).await.0, StatusCode::NO_CONTENT);
    let trip = tr["id"].as_i64().unwrap();
    let (s, _) =
        app.post_json(&eng, &format!("/api/v1/trips/{trip}/actions/cancel"), &json!({"reason": "学校考试"})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, plan) = app.get_json(&eng, "/api/v1/work-plan?week=2030-W10").await;
    assert_eq!(day_of(&plan, tech, 3)[0]["slipped_reason"], "学校考试");
    assert_eq!(day_of(&plan, tech, 4)[0]["done"], true);
    // Publishing; a bad week is named; a school sees none of it.
    assert_eq!(
        app.post_json(&eng, "/api/v1/work-plan/publish", &json!({"week": "2030-W10"})).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, plan) = app.get_json(&eng, "/api/v1/work-plan?week=2030-W10").await;
    assert!(plan["published_at"].is_string());
    let (s, e) = app.get_json(&eng, "/api/v1/work-plan?week=2030-W99").await;
    assert_eq!((s, e["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("week")));
    assert_eq!(app.get_json(&app.token("school1").await, "/api/v1/work-plan").await.0, StatusCode::FORBIDDEN);
    // The pages.
    for lang in ["zh-CN", "en"] {
        crate::defective::speak(&app, "engineer", lang).await;
        let (c, _) = app.browser("engineer").await;
        for path in ["/plan?week=2030-W10", "/plan/print?week=2030-W10", "/plan"] {
            let r = c.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let html = r.text().await.unwrap();
            for key in ["plan.", "plan_kind.", "plan_entry.", "weekday.", "field."] {
                assert!(
                    !html.contains(&format!(">{key}")) && !html.contains(&format!("\"{key}")),
                    "{path}: untranslated {key}"
                );
            }
            if path.starts_with("/plan?") {
                assert!(html.contains("城关片区交换机除尘") && html.contains(&format!("/tickets/{ticket}")), "{path}");
            }
        }
    }
});

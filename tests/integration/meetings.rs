//! The weekly technical meeting: scheduled by the engineer, points proposed by anyone and
//! ordered by the engineer, the material gathered by itself, a rectification from the
//! meeting, minutes with decisions and attendance, the printed minutes; roles and bad input.

use crate::both;
use crate::common::TestApp;
use crate::tickets::user_id;
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

both!(a_weekly_meeting_from_agenda_to_minutes, |app: TestApp| async move {
    let eng = app.token("engineer").await;
    let tech = user_id(&app, "tech").await;
    let engineer = user_id(&app, "engineer").await;
    // Only the engineer (or the manager) schedules; a bad day is named.
    let (s, _) = app.post_json(&app.token("tech").await, "/api/v1/meetings", &json!({"held_on": "2030-03-08"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = app
        .post_json(&eng, "/api/v1/meetings", &json!({"held_on": "2030-02-30", "attendee_ids": [99999], "agenda": [{}]}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let mut f = fields(&e);
    f.sort();
    assert_eq!(f, ["agenda[0].title", "held_on"]);
    let (s, m) = app
        .post_json(
            &eng,
            "/api/v1/meetings",
            &json!({"held_on": "2030-03-08", "agenda": [{"title": "监控掉线统计", "presenter_id": engineer}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let id = m["id"].as_i64().unwrap();
    assert_eq!((m["kind"].as_str(), m["status"].as_str()), (Some("weekly"), Some("planned")));
    assert_eq!(m["title"], "2030 年第 10 周技术研讨会");
    assert_eq!(
        (m["material"]["from"].as_str(), m["material"]["to"].as_str()),
        (Some("2030-03-01"), Some("2030-03-07"))
    );
    // Anyone on staff proposes a point; a school cannot.
    let (s, m) = app
        .post_json(
            &app.token("tech").await,
            &format!("/api/v1/meetings/{id}/agenda"),
            &json!({"title": "城关片区交换机频繁重启"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["agenda"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.post_json(&app.token("school1").await, &format!("/api/v1/meetings/{id}/agenda"), &json!({"title": "x"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // The engineer orders every point, each once.
    let ids: Vec<i64> = m["agenda"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    let (s, e) = app.post_json(&eng, &format!("/api/v1/meetings/{id}/agenda/order"), &json!({"ids": [ids[1]]})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["ids".to_owned()]));
    let (s, m) =
        app.post_json(&eng, &format!("/api/v1/meetings/{id}/agenda/order"), &json!({"ids": [ids[1], ids[0]]})).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["agenda"][0]["title"], "城关片区交换机频繁重启");
    // A rectification from the meeting carries its id.
    let (s, r) = app
        .post_json(
            &eng,
            "/api/v1/rectifications",
            &json!({"title": "城关片区交换机更换", "source": "meeting", "meeting_id": id, "system": "network"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, e) = app
        .post_json(
            &eng,
            "/api/v1/rectifications",
            &json!({"title": "x", "source": "meeting", "meeting_id": 99999, "system": "network"}),
        )
        .await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["meeting_id".to_owned()]));
    // The minutes need text and who came; then the meeting is held and closed to changes.
    let hold = format!("/api/v1/meetings/{id}/actions/hold");
    let (s, e) = app.post_json(&eng, &hold, &json!({})).await;
    let mut f = fields(&e);
    f.sort();
    assert_eq!((s, f), (StatusCode::UNPROCESSABLE_ENTITY, vec!["attendee_ids".to_owned(), "minutes".to_owned()]));
    let (s, m) = app
        .post_json(&eng, &hold, &json!({"minutes": "讨论交换机重启原因：电源老化", "decisions": "提出整改，更换电源", "attendee_ids": [engineer, tech]}))
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["status"], "held");
    assert_eq!(m["rectifications"].as_array().unwrap().len(), 1);
    assert!(m["attendee_names"].as_str().unwrap().contains("tech 测试"), "{m}");
    assert_eq!(
        app.post_json(&eng, &hold, &json!({"minutes": "x", "attendee_ids": [tech]})).await.0,
        StatusCode::CONFLICT
    );
    let (s, _) = app.post_json(&eng, &format!("/api/v1/meetings/{id}/agenda"), &json!({"title": "迟到的议题"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "held: no more points");
    // The pages: list, meeting, printed minutes, in both languages.
    for lang in ["zh-CN", "en"] {
        crate::defective::speak(&app, "engineer", lang).await;
        let (c, _) = app.browser("engineer").await;
        for path in ["/meetings".to_owned(), format!("/meetings/{id}"), format!("/meetings/{id}/print")] {
            let r = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let html = r.text().await.unwrap();
            for key in ["meetings.", "meeting_kind.", "meeting_status.", "analysis.", "field."] {
                assert!(
                    !html.contains(&format!(">{key}")) && !html.contains(&format!("\"{key}")),
                    "{path}: untranslated {key}"
                );
            }
            if lang == "zh-CN" && path.ends_with("/print") {
                assert!(html.contains("技术会议纪要") && html.contains("电源老化"), "the minutes printed");
            }
        }
    }
    let (school, _) = app.browser("school1").await;
    assert_eq!(school.get(app.url(&format!("/meetings/{id}"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
});

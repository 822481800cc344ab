//! Know-how: a technician writes down a fix, the engineer sends it back then publishes it;
//! the search finds it (Chinese words too), tickets of the same model or fault suggest it,
//! and a resolved ticket nothing covers offers "write it down". Who reads what, and bad
//! input that changes nothing.

use crate::both;
use crate::common::TestApp;
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

both!(know_how_from_the_technician_to_every_ticket_of_the_model, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let tech = app.token("tech").await;
    let eng = app.token("engineer").await;
    let nvr = app.equipment(&agent, app.school1, "surveillance", "NVR", "KH-NVR-1").await;
    let model = nvr["model"].as_str().unwrap().to_owned();

    // Bad input is named and writes nothing; a school writes none.
    let (s, e) = app
        .post_json(
            &tech,
            "/api/v1/articles",
            &json!({"title": "", "body": "坏了", "system": "lasers", "fault_type": "magic"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(fields(&e), ["fault_type", "fix", "system", "title"]);
    let (s, _) = app
        .post_json(&app.token("school1").await, "/api/v1/articles", &json!({"title": "x", "body": "y", "fix": "z"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("articles").await, 0);

    let body = json!({"title": "硬盘录像机提示硬盘错误", "body": "NVR 面板报警，回放失败，硬盘状态显示异常",
        "cause": "硬盘坏道，录像写入失败", "fix": "更换 4TB 监控硬盘后重新初始化，恢复录像计划",
        "prevention": "每学期巡检查看硬盘 SMART 状态", "system": "surveillance", "fault_type": "hardware",
        "subcategory": "CCTV_HDD", "model": model});
    let (s, a) = app.post_json(&tech, "/api/v1/articles", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let id = a["article"]["id"].as_i64().unwrap();
    assert_eq!(a["article"]["status"], "submitted");
    assert_eq!(a["actions"], json!([]), "the author does not review his own");

    // Not yet published: the agent does not see it, the search does not find it.
    let (s, _) = app.get_json(&agent, &format!("/api/v1/articles/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, found) = app.get_json(&eng, &format!("/api/v1/search?q={}", crate::common::enc("硬盘坏道"))).await;
    assert!(!found.to_string().contains("\"article\""), "{found}");

    // Sent back needs a reason; only a reviewer sends back.
    let (s, _) = app.post_json(&agent, &format!("/api/v1/articles/{id}/actions/publish"), &json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "the agent cannot see the draft");
    let (s, e) = app.post_json(&eng, &format!("/api/v1/articles/{id}/actions/reject"), &json!({})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_owned()]));
    let (s, a) = app
        .post_json(&eng, &format!("/api/v1/articles/{id}/actions/reject"), &json!({"reason": "请写明硬盘型号"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        (a["article"]["status"].as_str(), a["article"]["review_note"].as_str()),
        (Some("rejected"), Some("请写明硬盘型号"))
    );
    // The author edits it (back to review), at the version he read.
    let version = a["article"]["version"].as_i64().unwrap();
    let mut edit = body.clone();
    edit["fix"] = json!("更换希捷 ST4000VX 4TB 监控硬盘后重新初始化，恢复录像计划");
    edit["version"] = json!(version - 1);
    let (s, _) = app.send_json(reqwest::Method::PUT, &tech, &format!("/api/v1/articles/{id}"), &edit).await;
    assert_eq!(s, StatusCode::CONFLICT, "a stale version");
    edit["version"] = json!(version);
    let (s, a) = app.send_json(reqwest::Method::PUT, &tech, &format!("/api/v1/articles/{id}"), &edit).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["article"]["status"], "submitted");
    let (s, a) = app.post_json(&eng, &format!("/api/v1/articles/{id}/actions/publish"), &json!({})).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["article"]["status"], "published");
    let (s, _) = app.post_json(&eng, &format!("/api/v1/articles/{id}/actions/publish"), &json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "published already");

    // Everyone on staff reads it and finds it, by Chinese words and by model; a school does not.
    let (s, _) = app.get_json(&agent, &format!("/api/v1/articles/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    for q in ["硬盘坏道", "ST4000VX"] {
        let (_, found) = app.get_json(&agent, &format!("/api/v1/search?q={}", crate::common::enc(q))).await;
        let hit = found["items"].as_array().unwrap().iter().find(|h| h["kind"] == "article");
        assert!(hit.is_some_and(|h| h["id"] == id), "{q}: {found}");
    }
    let (_, found) = app
        .get_json(&app.token("school1").await, &format!("/api/v1/search?q={}", crate::common::enc("硬盘坏道")))
        .await;
    assert!(!found.to_string().contains("\"article\""), "{found}");
    let (s, _) = app.get_json(&app.token("school1").await, &format!("/api/v1/articles/{id}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A new ticket on an NVR of the same model is offered the article.
    let (s, t) = app
        .post_json(
            &agent,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "system": "surveillance",
            "title": "录像机报警", "reporter_name": "王老师", "equipment_ids": [nvr["id"]]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let ticket = t["id"].as_i64().unwrap();
    let (s, k) = app.get_json(&eng, &format!("/api/v1/tickets/{ticket}/articles")).await;
    assert_eq!(s, StatusCode::OK, "{k}");
    assert_eq!(k["suggested"][0]["id"], id, "{k}");
    assert_eq!(k["worth_writing"], false);
    let (engineer_browser, _) = app.browser("engineer").await;
    let page = engineer_browser.get(app.url(&format!("/tickets/{ticket}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"know-how\"") && page.contains("硬盘录像机提示硬盘错误"), "the triage page suggests it");
    // A ticket on another system, resolved remotely, with nothing covering it offers "write it down".
    let (_, t) = app
        .post_json(
            &agent,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "system": "broadcast",
            "title": "课间铃声不响", "reporter_name": "李老师"}),
        )
        .await;
    let other = t["id"].as_i64().unwrap();
    for (who, action, body) in [
        (&eng, "accept", json!({})),
        (&eng, "resolve", json!({"remote": true, "resolution": "远程重启广播服务器后恢复打铃"})),
    ] {
        let (s, r) = app.post_json(who, &format!("/api/v1/tickets/{other}/actions/{action}"), &body).await;
        assert_eq!(s, StatusCode::OK, "{action}: {r}");
    }
    let (_, k) = app.get_json(&eng, &format!("/api/v1/tickets/{other}/articles")).await;
    assert_eq!((k["suggested"].as_array().map(Vec::len), k["worth_writing"].as_bool()), (Some(0), Some(true)), "{k}");
    let (tech_browser, _) = app.browser("tech").await;
    let form = tech_browser
        .get(app.url(&format!("/articles/new?ticket_id={other}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("远程重启广播服务器后恢复打铃"), "the form starts from the ticket's fix");
});

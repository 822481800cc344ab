//! The hand-offs the manual asks for between roles: the visit time agreed with the school,
//! the engineer's check of each visit, consultations handed to the engineers and answered
//! back, upgrade or replacement suggestions for the manager, complaints naming a person —
//! and the printed forms complete from the record, in the reader's language and as Excel.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{act, in_progress, new_ticket, user_id, visit};
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

async fn notifications_of(app: &TestApp, user: &str) -> Vec<Value> {
    let (s, v) = app.get_json(&app.token(user).await, "/api/v1/notifications").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().cloned().unwrap_or_default()
}

/// A ticket scheduled for `tech` (not yet started); its id.
async fn scheduled(app: &TestApp, serial: &str) -> i64 {
    let (t, _) = new_ticket(app, serial, false).await;
    let id = t["id"].as_i64().unwrap();
    let eng = app.token("engineer").await;
    assert_eq!(act(app, &eng, id, "accept", json!({})).await.0, StatusCode::OK);
    let (s, v) =
        act(app, &eng, id, "diagnose", json!({"fault_type": "hardware", "diagnosis": "硬盘坏道", "plan": "换盘"}))
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let tech = user_id(app, "tech").await;
    let (s, v) =
        act(app, &eng, id, "schedule", json!({"technician_ids": [tech], "scheduled_at": "2030-12-01T01:00:00Z"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    id
}

both!(the_desk_records_the_visit_time_agreed_with_the_school, |app: TestApp| async move {
    let id = scheduled(&app, "AGR-1").await;
    let agent = app.token("agent").await;
    let path = format!("/api/v1/tickets/{id}/agreed-visit");
    // A time in the past, and no time at all, are refused at the field.
    let (s, v) = app.post_json(&agent, &path, &json!({"agreed_at": "2020-01-01T01:00:00Z"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["agreed_at"]);
    let (s, v) = app.post_json(&agent, &path, &json!({"note": "王老师"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // The technician does not record it, a school does not either.
    let (s, _) = app.post_json(&app.token("tech").await, &path, &json!({"agreed_at": "2030-12-02T01:30:00Z"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post_json(&app.token("school1").await, &path, &json!({"agreed_at": "2030-12-02T01:30:00Z"})).await;
    assert!(s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND, "{s}");
    let (s, v) =
        app.post_json(&agent, &path, &json!({"agreed_at": "2030-12-02T01:30:00Z", "note": "信息中心王老师确认"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["agreed_visit_at"], "2030-12-02T01:30:00Z");
    assert_eq!(v["agreed_by"], user_id(&app, "agent").await);
    // The technician is told, and sees it on the ticket page.
    let told = notifications_of(&app, "tech").await;
    assert!(told.iter().any(|n| n["kind"] == "visit_agreed" && n["ticket_id"] == id), "{told:?}");
    let (c, _) = app.browser("tech").await;
    let html = c.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"agreed-visit\"") && html.contains("2030-12-02 09:30"), "agreed time on the page");
    // The school sees it on its timeline.
    let (_, tl) = app.get_json(&app.token("school1").await, &format!("/api/v1/tickets/{id}/timeline")).await;
    assert!(tl["items"].as_array().unwrap().iter().any(|e| e["kind"] == "visit_agreed"), "{tl}");
    // Planned again for another day, the agreed time goes: it must be agreed anew.
    let eng = app.token("engineer").await;
    let tech_id = user_id(&app, "tech").await;
    let (s, v) =
        act(&app, &eng, id, "schedule", json!({"technician_ids": [tech_id], "scheduled_at": "2030-12-05T01:00:00Z"}))
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["agreed_visit_at"].is_null(), "{v}");
    let (s, _) = app.post_json(&agent, &path, &json!({"agreed_at": "2030-12-05T01:30:00Z"})).await;
    assert_eq!(s, StatusCode::OK);
    // Once the visit has begun there is nothing left to agree.
    assert_eq!(act(&app, &app.token("tech").await, id, "start", json!({})).await.0, StatusCode::OK);
    let (s, v) = app.post_json(&agent, &path, &json!({"agreed_at": "2030-12-03T01:30:00Z"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
});

both!(the_engineer_checks_each_visit_once_and_the_scorecards_count_it, |app: TestApp| async move {
    let (id, _) = in_progress(&app, "REVW-1").await;
    let tech = app.token("tech").await;
    let (s, v) = app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &visit("partial", false)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let first = v["id"].as_i64().unwrap();
    assert!(v["review_verdict"].is_null());
    // Labour defaults to time on site × people: 50 minutes, one technician.
    assert_eq!(v["labor_minutes"], 50);
    let eng = app.token("engineer").await;
    // The engineer's queue counts the ticket.
    let (_, list) = app.get_json(&eng, "/api/v1/tickets?view=to_review").await;
    assert!(list["items"].as_array().unwrap().iter().any(|t| t["id"] == id), "{list}");
    let path = format!("/api/v1/visits/{first}/review");
    // The technician does not check his own work; returning needs a note; a verdict is known.
    assert_eq!(app.post_json(&tech, &path, &json!({"verdict": "accepted"})).await.0, StatusCode::FORBIDDEN);
    let (s, v) = app.post_json(&eng, &path, &json!({"verdict": "returned"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["note"]);
    let (s, v) = app.post_json(&eng, &path, &json!({"verdict": "maybe"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = app.post_json(&eng, &path, &json!({"verdict": "returned", "note": "未写明旧件序列号"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["review_verdict"], "returned");
    assert_eq!(v["reviewer_name"], "engineer 测试");
    // Checked once: a second verdict is a conflict.
    let (s, _) = app.post_json(&eng, &path, &json!({"verdict": "accepted"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The technician hears of it with the note.
    let told = notifications_of(&app, "tech").await;
    assert!(told.iter().any(|n| n["kind"] == "visit_returned" && n["args_json"].as_str().unwrap().contains("序列号")));
    // A second visit, accepted from the page.
    let mut second = visit("fixed", true);
    second["labor_hours"] = json!(1.5);
    second["advice"] = json!("雷雨季节前检查接地");
    let (s, v) = app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &second).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let second = v["id"].as_i64().unwrap();
    assert_eq!(v["labor_minutes"], 90);
    let (c, csrf) = app.browser("engineer").await;
    let r = c
        .post(app.url(&format!("/visits/{second}/review")))
        .form(&[("_csrf", csrf.as_str()), ("verdict", "accepted")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = c.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("已复核：通过") && html.contains("已复核：退回") && html.contains("雷雨季节前检查接地"));
    let (_, list) = app.get_json(&eng, "/api/v1/tickets?view=to_review").await;
    assert!(!list["items"].as_array().unwrap().iter().any(|t| t["id"] == id), "nothing left to check");
    // Bad labour is refused at the field.
    let mut bad = visit("fixed", false);
    bad["labor_hours"] = json!(-2);
    let (s, v) = app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["labor_hours"]);
    // The scorecards: the technician's visits accepted and returned, the engineer's checks.
    let (_, cards) = app
        .get_json(&app.token("manager").await, "/api/v1/scorecards?from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z")
        .await;
    let card = |who: i64| cards["items"].as_array().unwrap().iter().find(|c| c["user_id"] == who).cloned().unwrap();
    let t = card(user_id(&app, "tech").await);
    assert_eq!((t["visits_accepted"].as_i64(), t["visits_returned"].as_i64()), (Some(1), Some(1)), "{t}");
    assert_eq!(card(user_id(&app, "engineer").await)["visits_reviewed"], 2);
});

both!(a_consultation_for_the_engineers_is_answered_back_to_the_school, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let (s, k) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "consultation", "customer_id": app.school1,
                "content": "录像只能保存7天，能否延长到30天？", "handling": "to_engineer",
                "received_at": "2026-11-24T02:00:00Z"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let id = k["id"].as_i64().unwrap();
    // The engineers are told; it waits in their queue.
    let told = notifications_of(&app, "engineer").await;
    assert!(told.iter().any(|n| n["kind"] == "consultation_to_engineer"), "{told:?}");
    let eng = app.token("engineer").await;
    let (_, queue) = app.get_json(&eng, "/api/v1/contacts?view=to_engineer").await;
    assert_eq!(queue["total"], 1, "{queue}");
    // Nothing to call back yet; the agent does not answer for the engineer.
    let path = format!("/api/v1/contacts/{id}/engineer-reply");
    assert_eq!(app.post_json(&agent, &path, &json!({"reply": "x"})).await.0, StatusCode::FORBIDDEN);
    let (s, v) = app.post_json(&eng, &path, &json!({"reply": "  "})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["reply"]);
    let (s, v) = app.post_json(&eng, &path, &json!({"reply": "加装一块 4TB 硬盘并调整录像计划即可保存 30 天"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["engineer_replied_at"].is_string());
    assert_eq!(v["callback_owner_id"], user_id(&app, "agent").await);
    // Answered once; the queue is empty, the agent's list of answers to pass on has it.
    assert_eq!(app.post_json(&eng, &path, &json!({"reply": "again"})).await.0, StatusCode::CONFLICT);
    let (_, queue) = app.get_json(&eng, "/api/v1/contacts?view=to_engineer").await;
    assert_eq!(queue["total"], 0);
    let told = notifications_of(&app, "agent").await;
    assert!(told.iter().any(|n| n["kind"] == "consultation_answered"), "{told:?}");
    let (_, pass) = app.get_json(&agent, "/api/v1/contacts?view=pass_on").await;
    assert_eq!(pass["total"], 1, "{pass}");
    // The agent calls the school back with the answer: that closes it.
    let (s, v) = app
        .post_json(&agent, &format!("/api/v1/contacts/{id}/callback"), &json!({"content": "已转告工程师答复"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["category"], "consultation");
    let (_, k) = app.get_json(&agent, &format!("/api/v1/contacts/{id}")).await;
    assert!(k["closed_at"].is_string(), "{k}");
    let (_, pass) = app.get_json(&agent, "/api/v1/contacts?view=pass_on").await;
    assert_eq!(pass["total"], 0);
    // A contact not handed to the engineers takes no answer.
    let (_, other) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "consultation", "content": "x",
            "received_at": "2026-11-24T02:00:00Z"}),
        )
        .await;
    let (s, _) =
        app.post_json(&eng, &format!("/api/v1/contacts/{}/engineer-reply", other["id"]), &json!({"reply": "y"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
});

both!(suggestions_for_the_installed_base_reach_the_managers_list, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let e = app.equipment(&agent, app.school1, "surveillance", "硬盘录像机", "SUG-NVR-1").await;
    let eid = e["id"].as_i64().unwrap();
    let tech = app.token("tech").await;
    let path = format!("/api/v1/equipment/{eid}/suggestions");
    // Every mistake at once: kind, reason and an unknown ticket number.
    let (s, v) = app.post_json(&tech, &path, &json!({"ticket": "GD20000101-0001"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let mut f = fields(&v);
    f.sort();
    assert_eq!(f, ["kind", "reason", "ticket"]);
    // The desk does not propose, a school does not either.
    let body = json!({"kind": "replace", "reason": "使用 7 年，硬盘位不足"});
    assert_eq!(app.post_json(&agent, &path, &body).await.0, StatusCode::FORBIDDEN);
    assert!(app.post_json(&app.token("school1").await, &path, &body).await.0.is_client_error());
    let (s, v) = app.post_json(&tech, &path, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_i64().unwrap();
    assert_eq!(v["status"], "open");
    assert_eq!(v["customer_name"], "城关镇中心小学");
    let told = notifications_of(&app, "manager").await;
    assert!(told.iter().any(|n| n["kind"] == "equipment_suggested"), "{told:?}");
    let mgr = app.token("manager").await;
    let (_, list) = app.get_json(&mgr, "/api/v1/suggestions?status=open").await;
    assert_eq!(list["total"], 1);
    assert_eq!(app.get_json(&app.token("school1").await, "/api/v1/suggestions").await.0, StatusCode::FORBIDDEN);
    // The manager decides once; a technician cannot.
    let dpath = format!("/api/v1/suggestions/{sid}/decision");
    assert_eq!(app.post_json(&tech, &dpath, &json!({"status": "accepted"})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.post_json(&mgr, &dpath, &json!({"status": "open"})).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = app.post_json(&mgr, &dpath, &json!({"status": "accepted", "note": "列入明年采购计划"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["decided_by_name"], "manager 测试");
    assert_eq!(app.post_json(&mgr, &dpath, &json!({"status": "declined"})).await.0, StatusCode::CONFLICT);
    // The equipment page and the manager's page show it.
    let (c, _) = app.browser("manager").await;
    let html = c.get(app.url(&format!("/equipment/{eid}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("使用 7 年，硬盘位不足") && html.contains("已采纳"));
    let html = c.get(app.url("/suggestions?status=accepted")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("列入明年采购计划") && html.contains(&format!("id=\"suggestion-{sid}\"")));
});

both!(a_complaint_names_the_person_and_a_valid_one_counts_on_the_scorecard, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let tech_id = user_id(&app, "tech").await;
    let body = |about: i64| {
        json!({"channel": "phone", "category": "complaint", "customer_id": app.school1, "content": "技术员迟到两小时",
            "about_user_id": about, "received_at": "2026-11-24T02:00:00Z"})
    };
    // Nobody, or a school's login, is no one to complain about.
    let (s, v) = app.post_json(&agent, "/api/v1/contacts", &body(999_999)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["about_user_id"]);
    let school_login = user_id(&app, "school1").await;
    assert_eq!(
        app.post_json(&agent, "/api/v1/contacts", &body(school_login)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (s, k) = app.post_json(&agent, "/api/v1/contacts", &body(tech_id)).await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    assert_eq!(k["about_user_id"], tech_id);
    let mgr = app.token("manager").await;
    let (s, _) = app
        .post_json(&mgr, &format!("/api/v1/contacts/{}/review", k["id"]), &json!({"verdict": "valid", "note": "属实"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, about) = app.get_json(&mgr, &format!("/api/v1/contacts/{}", k["id"])).await;
    assert_eq!(about["about_user_name"], "tech 测试");
    let (_, cards) = app.get_json(&mgr, "/api/v1/scorecards?from=2026-11-01T00:00:00Z&to=2026-12-31T00:00:00Z").await;
    let t = cards["items"].as_array().unwrap().iter().find(|c| c["user_id"] == tech_id).cloned().unwrap();
    assert_eq!(t["complaints_valid"], 1, "{t}");
});

both!(the_printed_repair_record_is_filled_from_the_record_and_comes_as_excel, |app: TestApp| async move {
    let (id, _) = in_progress(&app, "PRX-1").await;
    let tech = app.token("tech").await;
    let mut v = visit("fixed", true);
    v["advice"] = json!("雷雨季节前检查接地");
    v["labor_hours"] = json!(1.5);
    let (s, made) = app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &v).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let eng = app.token("engineer").await;
    let (s, _) =
        app.post_json(&eng, &format!("/api/v1/visits/{}/review", made["id"]), &json!({"verdict": "accepted"})).await;
    assert_eq!(s, StatusCode::OK);
    let (c, _) = app.browser("manager").await;
    let html = c.get(app.url(&format!("/tickets/{id}/print/repair"))).send().await.unwrap().text().await.unwrap();
    for want in ["雷雨季节前检查接地", "1.5 小时", "engineer 测试", "id=\"verified-by\">engineer 测试"] {
        assert!(html.contains(want), "repair record lacks {want}");
    }
    // The analysis shows whether the diagnosis held once resolved; open, neither box is ticked.
    let html = c.get(app.url(&format!("/tickets/{id}/print/analysis"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"diagnosis-held\"><span>☐ 正确</span><span>☐ 有误"), "open: nothing ticked");
    for (path, sheet_title) in [("repair", "上门维修记录表"), ("analysis", "故障分析表")] {
        let r = c.get(app.url(&format!("/tickets/{id}/print/{path}.xlsx"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.contains("spreadsheetml"), "{ct}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        use calamine::Reader;
        let range = book.worksheet_range(sheet_title).unwrap();
        let text: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
        assert!(text.iter().any(|c| c.contains("硬盘坏道") || c.contains("更换 4TB 监控硬盘")), "{path}: {text:?}");
    }
    // Staff only.
    let (s1, _) = app.browser("school1").await;
    let r = s1.get(app.url(&format!("/tickets/{id}/print/repair.xlsx"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
});

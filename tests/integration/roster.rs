//! The desk's administration: the on-duty roster (24 小时值班) with overlap checks and "who is
//! on duty at t", the working-hours setting, the courteous phrase library with its seed,
//! and the agent's daily call record (《客服代表电话接听记录表》) as JSON, A4 page and Excel.

use crate::both;
use crate::common::{TestApp, enc};
use aftercare_service::Services;
use aftercare_store::contacts::ContactWrite;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// A local (Asia/Shanghai) time as UTC.
fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().with_timezone(&Utc)
}

async fn user_id(app: &TestApp, user: &str) -> i64 {
    let t = app.token(user).await;
    let (s, v) = app.get_json(&t, "/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);
    v["id"].as_i64().unwrap()
}

fn field_codes(v: &Value) -> Vec<(String, String)> {
    v["error"]["fields"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_owned(), f["code"].as_str().unwrap().to_owned()))
        .collect()
}

fn one_error(v: &Value, field: &str, code: &str) {
    assert_eq!(field_codes(v), [(field.to_owned(), code.to_owned())], "{v}");
}

async fn shift(app: &TestApp, token: &str, user: i64, start: &str, end: &str) -> (StatusCode, Value) {
    app.post_json(token, "/api/v1/roster", &json!({"user_id": user, "starts_at": start, "ends_at": end})).await
}

async fn page(c: &Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn post(c: &Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let r = c.post(app.url(path)).form(form).send().await.unwrap();
    let s = r.status();
    let loc = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (s, loc, r.text().await.unwrap())
}

both!(roster_plans_nights_rejects_overlaps_and_knows_who_is_on_duty, |app: TestApp| async move {
    let m = app.token("manager").await;
    let agent = user_id(&app, "agent").await;
    let engineer = user_id(&app, "engineer").await;
    let tech = user_id(&app, "tech").await;
    let manager = user_id(&app, "manager").await;

    // Who may be planned: agents, engineers, technicians — not the manager or the storekeeper.
    let (s, v) = app.get_json(&m, "/api/v1/roster/people").await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&agent) && ids.contains(&engineer) && ids.contains(&tech), "{v}");
    assert!(!ids.contains(&manager));

    // A Monday in 2030: the agent's day, the engineer's night across midnight.
    let (s, day) = shift(&app, &m, agent, "2030-01-07T08:00", "2030-01-07T17:30").await;
    assert_eq!(s, StatusCode::CREATED, "{day}");
    assert_eq!(day["user_name"], "agent 测试");
    assert_eq!(day["starts_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), local(2030, 1, 7, 8, 0));
    let (s, night) = shift(&app, &m, engineer, "2030-01-07T17:30:00+08:00", "2030-01-08T08:00:00+08:00").await;
    assert_eq!(s, StatusCode::CREATED, "{night}");
    // The same person at an overlapping time: 422 naming starts_at.
    let (s, v) = shift(&app, &m, agent, "2030-01-07T12:00", "2030-01-07T20:00").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "starts_at", "overlap");
    assert!(v["error"]["message"].as_str().unwrap().contains("重叠"), "{v}");
    // Touching is no overlap: the evening right after the day.
    let (s, evening) = shift(&app, &m, agent, "2030-01-07T17:30", "2030-01-07T20:00").await;
    assert_eq!(s, StatusCode::CREATED, "{evening}");
    // Someone else may overlap.
    let (s, _) = shift(&app, &m, tech, "2030-01-07T12:00", "2030-01-07T14:00").await;
    assert_eq!(s, StatusCode::CREATED);

    // Bad shifts change nothing and name their field.
    let before = app.count("duty_shifts").await;
    let (s, v) = shift(&app, &m, agent, "2030-01-08T17:30", "2030-01-08T08:00").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "ends_at", "date_order");
    let (s, v) = shift(&app, &m, agent, "next monday", "2030-01-08T08:00").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "starts_at", "invalid_date");
    let (s, v) = shift(&app, &m, manager, "2030-01-09T08:00", "2030-01-09T17:00").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "user_id", "not_on_desk");
    let (s, v) = shift(&app, &m, 999_999, "2030-01-09T08:00", "2030-01-09T17:00").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "user_id", "not_found");
    let (s, v) = shift(&app, &m, agent, "2030-01-01T08:00", "2030-01-09T08:01").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "ends_at", "out_of_range");
    let (s, v) = app.post_json(&m, "/api/v1/roster", &json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&v).len(), 3, "{v}");
    assert_eq!(app.count("duty_shifts").await, before);

    // The week's roster: a night shift shows on both days it touches.
    let (s, v) = app.get_json(&m, "/api/v1/roster?from=2030-01-07&to=2030-01-07").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 4, "{v}");
    let (_, v) = app.get_json(&m, "/api/v1/roster?from=2030-01-08&to=2030-01-08").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["user_id"], engineer);
    let (s, v) = app.get_json(&m, "/api/v1/roster?from=2030-01-08&to=tomorrow").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "to", "invalid_date");
    let (s, v) = app.get_json(&m, "/api/v1/roster?from=2030-01-01&to=2030-06-01").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "to", "out_of_range");

    // Who is on duty at a given moment (the time is the caller's).
    let svc = Services::new(app.db.clone());
    let who = |t: DateTime<Utc>| {
        let svc = svc.clone();
        async move {
            let mut ids: Vec<i64> = svc.on_duty(t).await.unwrap().iter().map(|s| s.user_id).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(who(local(2030, 1, 7, 10, 0)).await, [agent]);
    let mut both = vec![agent, tech];
    both.sort();
    assert_eq!(who(local(2030, 1, 7, 13, 0)).await, both);
    assert_eq!(who(local(2030, 1, 7, 18, 0)).await, {
        let mut v = vec![agent, engineer];
        v.sort();
        v
    });
    assert_eq!(who(local(2030, 1, 8, 3, 0)).await, [engineer], "the night shift runs past midnight");
    assert_eq!(who(local(2030, 1, 8, 7, 59)).await, [engineer]);
    assert!(who(local(2030, 1, 8, 8, 0)).await.is_empty(), "the end is exclusive");
    let row = &svc.on_duty(local(2030, 1, 8, 3, 0)).await.unwrap()[0];
    assert_eq!((row.user_name.as_str(), row.user_roles.as_str()), ("engineer 测试", "engineer"));

    // "Now" on the API: a shift around the real clock.
    let now = Utc::now();
    let (s, cur) =
        shift(&app, &m, tech, &(now - Duration::hours(1)).to_rfc3339(), &(now + Duration::hours(1)).to_rfc3339()).await;
    assert_eq!(s, StatusCode::CREATED, "{cur}");
    let a = app.token("agent").await;
    let (s, v) = app.get_json(&a, "/api/v1/roster/now").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["items"].as_array().unwrap().iter().any(|x| x["id"] == cur["id"]), "{v}");

    // Copy last week into the next: same hours, a week later; a second copy skips them all.
    let (s, v) = app.post_json(&m, "/api/v1/roster/copy", &json!({"week": "2030-01-16"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["copied"].as_u64(), v["skipped"].as_u64()), (Some(4), Some(0)));
    assert_eq!(who(local(2030, 1, 15, 3, 0)).await, [engineer]);
    let (_, v) = app.post_json(&m, "/api/v1/roster/copy", &json!({"week": "2030-01-14"})).await;
    assert_eq!((v["copied"].as_u64(), v["skipped"].as_u64()), (Some(0), Some(4)));
    let (s, v) = app.post_json(&m, "/api/v1/roster/copy", &json!({"week": "14/01/2030"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "week", "invalid_date");

    // Remove; a second time it is gone. Both are in the audit trail.
    let id = evening["id"].as_i64().unwrap();
    let r = app.client.delete(app.url(&format!("/api/v1/roster/{id}"))).bearer_auth(&m).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.client.delete(app.url(&format!("/api/v1/roster/{id}"))).bearer_auth(&m).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(who(local(2030, 1, 7, 19, 0)).await, [engineer]);
    let (_, audit) = app.get_json(&app.token("admin").await, "/api/v1/audit?entity=duty_shift&per_page=100").await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"create") && actions.contains(&"delete"), "{audit}");
});

both!(roster_pages_plan_a_week_and_only_managers_write, |app: TestApp| async move {
    let agent = user_id(&app, "agent").await;
    let engineer = user_id(&app, "engineer").await;
    let (c, csrf) = app.browser("manager").await;

    // A night shift from the page: the end before the start ends the next morning.
    let form = [
        ("_csrf", csrf.as_str()),
        ("week", "2030-01-07"),
        ("user_id", &engineer.to_string()),
        ("day", "2030-01-09"),
        ("start", "17:30"),
        ("end", "08:00"),
        ("note", "夜班"),
    ];
    let (s, loc, _) = post(&c, &app, "/roster", &form).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/roster?week=2030-01-07&ok=shift_added"), "{loc}");
    let svc = Services::new(app.db.clone());
    assert_eq!(svc.on_duty(local(2030, 1, 10, 2, 0)).await.unwrap()[0].user_id, engineer);

    let (s, html) = page(&c, &app, &loc).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("已排班"), "flash");
    assert!(html.contains("id=\"day-2030-01-09\"") && html.contains("17:30–24:00"), "night starts on Wednesday");
    assert!(html.contains("00:00–08:00"), "and goes on into Thursday");
    assert!(html.contains("无人值班 16 小时"), "Thursday is covered 8 hours of 24: {html}");
    assert!(html.contains("id=\"shift-form\"") && html.contains("id=\"copy-week\""));

    // The same person overlapping: the form comes back with the message, nothing written.
    let before = app.count("duty_shifts").await;
    let form2 = [
        ("_csrf", csrf.as_str()),
        ("week", "2030-01-07"),
        ("user_id", &engineer.to_string()),
        ("day", "2030-01-09"),
        ("start", "20:00"),
        ("end", "22:00"),
    ];
    let (s, _, html) = post(&c, &app, "/roster", &form2).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("与此人的其他班次时间重叠"), "{html}");
    assert!(html.contains("value=\"20:00\""), "the form keeps what was typed");
    assert_eq!(app.count("duty_shifts").await, before);
    let (s, _, html) = post(&c, &app, "/roster", &[("_csrf", csrf.as_str()), ("week", "2030-01-07")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("值班人员：必填") || html.contains("值班人员：不能为空"), "{html}");

    // Remove from the page.
    let id = svc.on_duty(local(2030, 1, 10, 2, 0)).await.unwrap()[0].id;
    let (s, loc, _) = post(&c, &app, &format!("/roster/{id}/delete"), &[("_csrf", csrf.as_str())]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.contains("ok=shift_removed"));
    assert!(svc.on_duty(local(2030, 1, 10, 2, 0)).await.unwrap().is_empty());

    // The agent reads the roster but cannot plan it.
    let (ac, acsrf) = app.browser("agent").await;
    let (s, html) = page(&ac, &app, "/roster?week=2030-01-07").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("id=\"shift-form\"") && !html.contains("id=\"copy-week\""));
    assert!(html.contains("href=\"/roster\"") && html.contains("href=\"/phrases\""), "nav links");
    let agent_form = [
        ("_csrf", acsrf.as_str()),
        ("user_id", &agent.to_string()),
        ("day", "2030-01-09"),
        ("start", "08:00"),
        ("end", "17:00"),
    ];
    let (s, _, _) = post(&ac, &app, "/roster", &agent_form).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = post(&ac, &app, "/roster/copy", &[("_csrf", acsrf.as_str()), ("week", "2030-01-14")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let a = app.token("agent").await;
    let (s, _) = shift(&app, &a, agent, "2030-01-09T08:00", "2030-01-09T17:00").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post_json(&a, "/api/v1/roster/copy", &json!({"week": "2030-01-14"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = app.client.delete(app.url("/api/v1/roster/1")).bearer_auth(&a).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("duty_shifts").await, before - 1);
    let (s, _) = app.get_json(&app.token("engineer").await, "/api/v1/roster/now").await;
    assert_eq!(s, StatusCode::OK);

    // A school sees none of it.
    let sch = app.token("school1").await;
    for path in ["/api/v1/roster", "/api/v1/roster/now", "/api/v1/roster/people", "/api/v1/settings/working-hours"] {
        let (s, _) = app.get_json(&sch, path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (s, _) = app.get_json(&sch, "/api/v1/roster?from=bad").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "refused before the input is looked at");
    let (sc, _) = app.browser("school1").await;
    let (s, _) = page(&sc, &app, "/roster").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = app.client.get(app.url("/api/v1/roster")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
});

both!(working_hours_are_validated_by_field_and_used_by_the_desk, |app: TestApp| async move {
    let m = app.token("manager").await;
    let a = app.token("agent").await;
    let (s, v) = app.get_json(&a, "/api/v1/settings/working-hours").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"working_hours": "08:00-17:30", "working_days": [1, 2, 3, 4, 5], "missed_callback_minutes": 30})
    );

    let ok = json!({"working_hours": "08:30-18:00", "working_days": [6, 1, 2, 3, 4, 5], "missed_callback_minutes": 20});
    let put = |body: Value| {
        let app = app.clone();
        let m = m.clone();
        async move { app.send_json(Method::PUT, &m, "/api/v1/settings/working-hours", &body).await }
    };
    for (body, field, code) in [
        (
            json!({"working_hours": "8h-17h", "working_days": [1], "missed_callback_minutes": 30}),
            "working_hours",
            "invalid",
        ),
        (
            json!({"working_hours": "18:00-08:00", "working_days": [1], "missed_callback_minutes": 30}),
            "working_hours",
            "time_order",
        ),
        (
            json!({"working_hours": "08:00-17:00", "working_days": [0, 1], "missed_callback_minutes": 30}),
            "working_days",
            "out_of_range",
        ),
        (
            json!({"working_hours": "08:00-17:00", "working_days": [], "missed_callback_minutes": 30}),
            "working_days",
            "required",
        ),
        (
            json!({"working_hours": "08:00-17:00", "working_days": [1], "missed_callback_minutes": 0}),
            "missed_callback_minutes",
            "out_of_range",
        ),
        (json!({"working_hours": "08:00-17:00", "working_days": [1]}), "missed_callback_minutes", "required"),
    ] {
        let (s, v) = put(body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        one_error(&v, field, code);
    }
    let (s, _) = put(json!({"working_hours": 8})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "not the right shape");
    let (s, _) = app.send_json(Method::PUT, &a, "/api/v1/settings/working-hours", &ok).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, v) = app.get_json(&a, "/api/v1/settings/working-hours").await;
    assert_eq!(v["working_hours"], "08:00-17:30", "nothing changed");

    let (s, v) = put(ok.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"working_hours": "08:30-18:00", "working_days": [1, 2, 3, 4, 5, 6], "missed_callback_minutes": 20})
    );
    let svc = Services::new(app.db.clone());
    let w = svc.working_hours().await;
    assert_eq!(w.to_settings(), ("08:30-18:00".to_string(), "1,2,3,4,5,6".to_string()));
    assert_eq!(svc.missed_callback_minutes().await, 20);

    // The section on the service-levels page.
    let (c, csrf) = app.browser("manager").await;
    let (s, html) = page(&c, &app, "/settings/sla").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"working-hours\"") && html.contains("value=\"08:30\"") && html.contains("value=\"18:00\"")
    );
    let (s, _, html) = post(
        &c,
        &app,
        "/settings/working-hours",
        &[
            ("_csrf", csrf.as_str()),
            ("hours_start", "18:00"),
            ("hours_end", "08:00"),
            ("working_days", "1"),
            ("missed_callback_minutes", "30"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("工作时间：时间先后不对"), "{html}");
    let (s, loc, _) = post(
        &c,
        &app,
        "/settings/working-hours",
        &[
            ("_csrf", csrf.as_str()),
            ("hours_start", "08:00"),
            ("hours_end", "17:00"),
            ("working_days", "1"),
            ("working_days", "2"),
            ("working_days", "3"),
            ("working_days", "4"),
            ("working_days", "5"),
            ("missed_callback_minutes", "45"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.contains("ok=hours_saved"));
    // Read as another node would after its short cache: a fresh set of services.
    let fresh = aftercare_service::Services::new(app.db.clone());
    assert_eq!(fresh.working_hours().await.to_settings().0, "08:00-17:00");
    assert_eq!(fresh.missed_callback_minutes().await, 45);
    let (ac, acsrf) = app.browser("agent").await;
    let (s, html) = page(&ac, &app, "/settings/sla").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"working-hours\"") && !html.contains("id=\"save-hours\""), "agents read it");
    let (s, _, _) =
        post(&ac, &app, "/settings/working-hours", &[("_csrf", acsrf.as_str()), ("hours_start", "07:00")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

both!(phrases_are_seeded_managed_and_read_by_staff, |app: TestApp| async move {
    let a = app.token("agent").await;
    let m = app.token("manager").await;

    // The 20 phrases of the department's standard, {公司} filled in when shown.
    let (s, v) = app.get_json(&a, "/api/v1/phrases").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 20);
    assert_eq!(v["forbidden"].as_array().unwrap().len(), 7);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[0]["scene"], "greeting");
    assert_eq!(items[0]["title"], "接听");
    assert!(items[0]["text"].as_str().unwrap().contains("{公司}"), "stored with the placeholder");
    assert!(items[0]["display"].as_str().unwrap().starts_with("您好，县教育信息化售后服务中心，工号"), "{}", items[0]);
    assert_eq!(items.last().unwrap()["scene"], "visit");
    let scenes: Vec<&str> = items.iter().map(|p| p["scene"].as_str().unwrap()).collect();
    let pos = |s: &str| scenes.iter().position(|x| *x == s).unwrap();
    assert!(pos("greeting") < pos("wait") && pos("wait") < pos("follow_up") && pos("follow_up") < pos("closing"));
    let svc = Services::new(app.db.clone());
    let agent_actor = svc.authenticate(&a, aftercare_service::auth::SessionKind::Api).await.unwrap().0;
    assert_eq!(svc.phrases(&agent_actor).await.unwrap().len(), 20);

    // Agents and schools do not manage it; schools do not even read it.
    let new = json!({"scene": "wait", "text": "请稍候，{公司}正在为您查询。"});
    let (s, _) = app.post_json(&a, "/api/v1/phrases", &new).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.get_json(&a, "/api/v1/phrases?all=true").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let sch = app.token("school1").await;
    let (s, _) = app.get_json(&sch, "/api/v1/phrases").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The manager adds, deactivates, edits.
    let (s, p) = app.post_json(&m, "/api/v1/phrases", &new).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(
        (p["title"].as_str(), p["active"].as_bool(), p["position"].as_i64()),
        (Some("请稍候"), Some(true), Some(21))
    );
    assert_eq!(p["display"], "请稍候，县教育信息化售后服务中心正在为您查询。");
    let id = p["id"].as_i64().unwrap();
    let (s, v) = app.post_json(&m, "/api/v1/phrases", &json!({"scene": "smalltalk", "text": "天气不错"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "scene", "unknown_value");
    let (s, v) = app.post_json(&m, "/api/v1/phrases", &json!({"scene": "wait", "text": "  "})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "text", "required");
    let patch = |id: i64, body: Value| {
        let app = app.clone();
        let m = m.clone();
        async move { app.send_json(Method::PATCH, &m, &format!("/api/v1/phrases/{id}"), &body).await }
    };
    let (s, v) = patch(id, json!({"active": false})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["active"], false);
    let (_, v) = app.get_json(&a, "/api/v1/phrases").await;
    assert_eq!(v["total"], 20, "deactivated phrases are not offered");
    let (_, v) = app.get_json(&m, "/api/v1/phrases?all=true").await;
    assert_eq!(v["total"], 21);
    let (s, v) = patch(id, json!({"text": "请您稍候片刻。", "title": "稍候", "active": true})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["text"].as_str(), v["title"].as_str(), v["scene"].as_str()),
        (Some("请您稍候片刻。"), Some("稍候"), Some("wait"))
    );
    let (s, v) = patch(id, json!({"text": ""})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "text", "required");
    let (s, v) = patch(id, json!({"position": -3})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "position", "out_of_range");
    let (s, _) = patch(999_999, json!({"active": false})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.send_json(Method::PATCH, &a, &format!("/api/v1/phrases/{id}"), &json!({"active": false})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Reorder on the page: the new phrase moves up above 需要时间 within 请客户稍候.
    let wait_ids = |v: &Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["scene"] == "wait")
            .map(|p| p["id"].as_i64().unwrap())
            .collect()
    };
    let (_, v) = app.get_json(&m, "/api/v1/phrases?all=true").await;
    let before = wait_ids(&v);
    assert_eq!(*before.last().unwrap(), id);
    let (c, csrf) = app.browser("manager").await;
    let (s, loc, _) = post(&c, &app, &format!("/phrases/{id}/move"), &[("_csrf", csrf.as_str()), ("to", "up")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.contains(&format!("#phrase-{id}")));
    let (_, v) = app.get_json(&m, "/api/v1/phrases?all=true").await;
    let after = wait_ids(&v);
    assert_eq!(after[after.len() - 2], id, "{after:?}");
    assert_eq!(after[after.len() - 1], before[before.len() - 2]);

    // The page: the library by scene, the forbidden phrases, the company name; tools for the manager.
    let (s, html) = page(&c, &app, "/phrases").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"phrase-form\"") && html.contains(&format!("id=\"up-{id}\"")));
    let (s, _, html) = post(&c, &app, "/phrases", &[("_csrf", csrf.as_str()), ("scene", "wait"), ("text", "")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("用语内容："), "{html}");
    let (s, loc, _) = post(
        &c,
        &app,
        "/phrases",
        &[("_csrf", csrf.as_str()), ("scene", "closing"), ("title", "祝福"), ("text", "祝您工作顺利！")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc}");
    let new_id: i64 = loc.rsplit("phrase-").next().unwrap().parse().unwrap();
    let (s, _, _) =
        post(&c, &app, &format!("/phrases/{new_id}/active"), &[("_csrf", csrf.as_str()), ("active", "0")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (ac, acsrf) = app.browser("agent").await;
    let (s, html) = page(&ac, &app, "/phrases").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("禁用语") && html.contains("这不归我管"));
    assert!(html.contains("您好，县教育信息化售后服务中心，工号"), "the company's name is filled in");
    assert!(!html.contains("祝您工作顺利"), "a deactivated phrase is not shown to agents");
    assert!(!html.contains("id=\"phrase-form\""));
    let (s, _, _) =
        post(&ac, &app, &format!("/phrases/{id}/active"), &[("_csrf", acsrf.as_str()), ("active", "0")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

/// A contact written straight into the store (the contacts API is built elsewhere).
fn contact(
    handler: Option<i64>,
    owner: Option<i64>,
    at: DateTime<Utc>,
    f: impl FnOnce(&mut ContactWrite),
) -> ContactWrite {
    let mut k = ContactWrite {
        channel: aftercare_domain::contacts::Channel::Phone,
        direction: aftercare_domain::contacts::Direction::Inbound,
        category: aftercare_domain::contacts::Category::Repair,
        urgency: aftercare_domain::contacts::Urgency::Normal,
        content: "三楼录播教室投影机不亮".into(),
        caller_name: Some("王老师".into()),
        caller_title: Some("电教管理员".into()),
        caller_phone: Some("13905661111".into()),
        system: Some(aftercare_domain::System::Classroom),
        handling: Some(aftercare_domain::contacts::Handling::Ticket),
        result: Some("dispatched".into()),
        received_at: at,
        answered: true,
        talk_seconds: Some(185),
        handler_id: handler,
        callback_owner_id: owner,
        now: at,
        ..Default::default()
    };
    f(&mut k);
    k
}

both!(daily_call_record_lists_the_agents_day_with_totals_page_and_excel, |app: TestApp| async move {
    let agent = user_id(&app, "agent").await;
    let engineer = user_id(&app, "engineer").await;
    let w = aftercare_store::Writer::system();
    let school = app.school1;
    let ids = aftercare_store::contacts::create_many(
        &app.db,
        &[
            (w.clone(), contact(Some(agent), None, local(2026, 11, 23, 9, 5), |k| k.customer_id = Some(school))),
            (
                w.clone(),
                contact(None, Some(agent), local(2026, 11, 23, 10, 0), |k| {
                    k.answered = false;
                    k.talk_seconds = None;
                    k.content = String::new();
                    k.handling = None;
                    k.result = None;
                    k.caller_phone = Some("13905662222".into());
                }),
            ),
            (
                w.clone(),
                contact(None, Some(agent), local(2026, 11, 23, 19, 30), |k| {
                    k.answered = false;
                    k.talk_seconds = None;
                    k.after_hours = true;
                    k.caller_phone = Some("13905663333".into());
                }),
            ),
            (
                w.clone(),
                contact(Some(agent), None, local(2026, 11, 23, 11, 0), |k| {
                    k.channel = aftercare_domain::contacts::Channel::Email;
                    k.category = aftercare_domain::contacts::Category::Consultation;
                    k.talk_seconds = None;
                    k.caller_email = Some("wang@school.cn".into());
                    k.caller_phone = None;
                }),
            ),
            // Someone else's call, and the agent's call of the day before: not on the record.
            (w.clone(), contact(Some(engineer), None, local(2026, 11, 23, 9, 30), |_| {})),
            (w.clone(), contact(Some(agent), None, local(2026, 11, 22, 23, 59), |_| {})),
        ],
    )
    .await
    .unwrap();
    // The first missed call is called back (an outbound call from the agent).
    let back = aftercare_store::contacts::create_many(
        &app.db,
        &[(
            w.clone(),
            contact(Some(agent), None, local(2026, 11, 23, 10, 12), |k| {
                k.direction = aftercare_domain::contacts::Direction::Outbound;
                k.category = aftercare_domain::contacts::Category::Other;
                k.caller_phone = Some("13905662222".into());
                k.talk_seconds = Some(60);
                k.callback_of = Some(ids[1]);
            }),
        )],
    )
    .await
    .unwrap();
    let first = aftercare_store::contacts::get(&app.db, ids[0]).await.unwrap();

    // JSON: the agent's own day.
    let a = app.token("agent").await;
    let (s, v) = app.get_json(&a, &format!("/api/v1/contacts/daily?agent_id={agent}&date=2026-11-23")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got: Vec<i64> = v["items"].as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect();
    assert_eq!(got, [ids[0], ids[1], back[0], ids[3], ids[2]], "in the order they came");
    let t = &v["totals"];
    assert_eq!(
        (t["records"].as_i64(), t["inbound_calls"].as_i64(), t["answered"].as_i64(), t["missed"].as_i64()),
        (Some(5), Some(3), Some(1), Some(2))
    );
    assert_eq!(
        (t["called_back"].as_i64(), t["outbound_calls"].as_i64(), t["other_channels"].as_i64()),
        (Some(1), Some(1), Some(1))
    );
    assert!((t["missed_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(t["talk_seconds"], 245);
    assert_eq!(v["agent_name"], "agent 测试");
    // Defaults: me, today (nothing today).
    let (s, v) = app.get_json(&a, "/api/v1/contacts/daily").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["agent_id"], agent);
    let (s, v) = app.get_json(&a, "/api/v1/contacts/daily?date=23-11-2026").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    one_error(&v, "date", "invalid_date");

    // Permissions: someone else's record is the manager's business only.
    let (s, _) = app
        .get_json(&app.token("engineer").await, &format!("/api/v1/contacts/daily?agent_id={agent}&date=2026-11-23"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .get_json(&app.token("manager").await, &format!("/api/v1/contacts/daily?agent_id={agent}&date=2026-11-23"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"].as_array().unwrap().len(), 5);
    // The manager takes no calls: his record opens on the agents, not on himself.
    let (_, v) = app.get_json(&app.token("manager").await, "/api/v1/contacts/daily").await;
    assert_eq!(v["agent_id"], agent);
    let (s, _) =
        app.get_json(&app.token("manager").await, "/api/v1/contacts/daily?agent_id=999999&date=2026-11-23").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get_json(&app.token("school1").await, &format!("/api/v1/contacts/daily?agent_id={agent}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The A4 sheet.
    let (c, _) = app.browser("agent").await;
    let path = format!("/contacts/daily?agent={agent}&date=2026-11-23");
    let (s, html) = page(&c, &app, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("客服代表电话接听记录表") && html.contains("2026-11-23") && html.contains("星期一"));
    assert!(
        html.contains(&first.record_no) && html.contains("城关镇中心小学") && html.contains("王老师（电教管理员）")
    );
    assert!(html.contains("班班通") && html.contains("生成工单") && html.contains("已派单") && html.contains("3:05"));
    assert!(html.contains("已回拨 10:12") && html.contains("未回拨"));
    assert_eq!(html.matches("class=\"daily-line").count(), 5);
    assert!(
        html.contains("id=\"t-inbound\">3<")
            && html.contains("id=\"t-missed\">2<")
            && html.contains("id=\"t-rate\">66.7%<")
    );
    assert!(html.contains("id=\"t-called-back\">1<") && html.contains("id=\"t-talk\">4:05<"));
    assert!(html.contains("填表人") && html.contains("审核人"));
    let (ec, _) = app.browser("engineer").await;
    let (s, _) = page(&ec, &app, &path).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (mc, _) = app.browser("manager").await;
    let (s, html) = page(&mc, &app, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<select name=\"agent\""), "the manager picks whose record");

    // The same as Excel.
    let r = c.get(app.url(&format!("/contacts/daily.xlsx?agent={agent}&date=2026-11-23"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains(".xlsx") && disposition.contains(&enc("接听记录表")), "{disposition}");
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range("接听记录").unwrap();
    let cells: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.iter().any(|c| c == "客服代表电话接听记录表"));
    assert!(cells.contains(&first.record_no), "{cells:?}");
    assert!(cells.iter().any(|c| c.contains("漏接 2 次，漏接率 66.7%")), "{cells:?}");
    let r = ec.get(app.url(&format!("/contacts/daily.xlsx?agent={agent}&date=2026-11-23"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // An English reader gets the record in English: the sheet under its Chinese title, and
    // the workbook all in English.
    let (c, csrf) = app.browser("agent").await;
    let r = c.post(app.url("/lang")).form(&[("_csrf", csrf.as_str()), ("lang", "en"), ("next", "/")]).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::SEE_OTHER);
    let (s, html) = page(&c, &app, &path).await;
    assert_eq!(s, StatusCode::OK);
    for want in [
        "<html lang=\"en\">",
        "<h1>客服代表电话接听记录表</h1>",
        "daily call record",
        "2026-11-23 (Monday)",
        "王老师 (电教管理员)",
        "Classroom multimedia",
        "Ticket opened",
        "Dispatched",
        "called back 10:12",
        "not called back",
        "Filled in by",
    ] {
        assert!(html.contains(want), "English record lacks {want}");
    }
    for zh in ["星期一", "班班通", "生成工单", "已派单", "已回拨", "未回拨", "填表人", "（"] {
        assert!(!html.contains(zh), "English record still says {zh}");
    }
    let r = c.get(app.url(&format!("/contacts/daily.xlsx?agent={agent}&date=2026-11-23"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains(&enc("Daily call record")), "{disposition}");
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), ["Call record"]);
    let sheet = wb.worksheet_range("Call record").unwrap();
    let cells: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.iter().any(|c| c == "Agent's daily call record"), "{cells:?}");
    assert!(cells.iter().any(|c| c == "Talk time") && cells.iter().any(|c| c == "Ticket opened"), "{cells:?}");
    assert!(cells.iter().any(|c| c.contains("missed 2, missed rate 66.7%")), "{cells:?}");
    assert!(cells.iter().any(|c| c == "Date: 2026-11-23 (Monday)"), "{cells:?}");
    assert!(!cells.iter().any(|c| c.contains("漏接") || c.contains("客服代表")), "{cells:?}");
});

//! Work orders through the pages: the agent's entry, the engineer's triage and dispatch,
//! the technician's day and visit form with a signature, the callback — and what a user
//! sees when someone else got there first.

use crate::both;
use crate::common::{TestApp, hidden};
use crate::tickets::user_id;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

/// A 1×1 PNG as the signature pad's data URL.
const SIGNATURE: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

both!(one_ticket_through_every_page, |app: TestApp| async move {
    let agent_t = app.token("agent").await;
    let eq = app.equipment(&agent_t, app.school1, "classroom", "交互式一体机", "PAGE-PANEL-1").await;
    let eid = eq["id"].as_i64().unwrap().to_string();
    let school = app.school1.to_string();

    // The agent picks the school, sees its equipment, opens the ticket.
    let (agent, csrf) = app.browser("agent").await;
    let page = post(&agent, &app, "/tickets/new", &[("_csrf", &csrf), ("customer_id", &school), ("pick_school", "1")])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("PAGE-PANEL-1"), "the school's equipment is listed");
    // Named as people know it, without the internal id; a name that matches nothing is an
    // error at the field, with what was typed kept.
    let r =
        post(&agent, &app, "/tickets/new", &[("_csrf", &csrf), ("customer", "城关镇中心小学"), ("pick_school", "1")])
            .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("PAGE-PANEL-1") && page.contains(&format!("id=\"ticket-customer\" value=\"{school}\"")));
    let r = post(&agent, &app, "/tickets/new", &[("_csrf", &csrf), ("customer", "火星小学"), ("title", "x")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("没有匹配的记录") && page.contains("value=\"火星小学\""), "kept and named");
    let r = post(&agent, &app, "/tickets/new", &[("_csrf", &csrf), ("customer_id", &school), ("title", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("标题：必填"));
    let r = post(
        &agent,
        &app,
        "/tickets/new",
        &[
            ("_csrf", &csrf),
            ("customer_id", &school),
            ("equipment_ids", &eid),
            ("title", "302 教室一体机黑屏"),
            ("reporter_name", "王老师"),
            ("reporter_phone", "13905661111"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let id = loc.trim_start_matches("/tickets/").split('?').next().unwrap().to_owned();
    let page = agent.get(app.url(&loc)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("302 教室一体机黑屏") && page.contains("待受理") && page.contains("已创建"));

    // The engineer accepts, diagnoses and schedules through the ticket page.
    let (eng, ecsrf) = app.browser("engineer").await;
    let page = eng.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"action-accept\""));
    let v = |p: &str| hidden(p, "version");
    let r = post(&eng, &app, &format!("/tickets/{id}/act/accept"), &[("_csrf", &ecsrf), ("version", &v(&page))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = eng.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    let r = post(
        &eng,
        &app,
        &format!("/tickets/{id}/act/diagnose"),
        &[("_csrf", &ecsrf), ("version", &v(&page)), ("fault_type", "hardware"), ("diagnosis", ""), ("plan", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("诊断：必填") && body.contains("解决方案：必填"));
    let r = post(
        &eng,
        &app,
        &format!("/tickets/{id}/act/diagnose"),
        &[
            ("_csrf", &ecsrf),
            ("version", &v(&page)),
            ("fault_type", "hardware"),
            ("fault_subcategory", "BBT_PANEL"),
            ("diagnosis", "电源板故障"),
            ("plan", "更换电源板"),
            ("parts_to_bring", "电源板 × 1"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = eng.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    // The proposed visit time falls on a quarter hour, as people agree on the phone.
    let proposed = hidden(&page, "scheduled_at");
    assert!(["00", "15", "30", "45"].iter().any(|m| proposed.ends_with(m)), "{proposed}");
    let tech = user_id(&app, "tech").await.to_string();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%dT09:30")
        .to_string();
    let r = post(
        &eng,
        &app,
        &format!("/tickets/{id}/act/schedule"),
        &[("_csrf", &ecsrf), ("version", &v(&page)), ("technician_ids", &tech), ("scheduled_at", &tomorrow)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A second schedule with the old version: 409, and the page says what changed.
    let r = post(
        &eng,
        &app,
        &format!("/tickets/{id}/act/schedule"),
        &[
            ("_csrf", &ecsrf),
            ("version", &v(&page)),
            ("read_at", &hidden(&page, "read_at")),
            ("technician_ids", &tech),
            ("scheduled_at", &tomorrow),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains("该记录已被其他人修改") && body.contains("派工 · 待派单 → 已派工"), "{body}");

    // The technician: the bell, tomorrow's list, start, the visit form with a signature.
    let (tc, tcsrf) = app.browser("tech").await;
    let home = tc.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("class=\"bell-n\">1<"), "one unread notification");
    let day = (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    let today = tc.get(app.url(&format!("/today?day={day}"))).send().await.unwrap().text().await.unwrap();
    assert!(today.contains("302 教室一体机黑屏") && today.contains("09:30"));
    let page = tc.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    let r = post(&tc, &app, &format!("/tickets/{id}/act/start"), &[("_csrf", &tcsrf), ("version", &v(&page))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let form = |finished: &str| {
        Form::new()
            .text("_csrf", tcsrf.clone())
            .text("arrived_at", "2026-12-01T10:00")
            .text("finished_at", finished.to_owned())
            .text("work_done", "更换电源板，开机正常")
            .text("result", "fixed")
            .text("signer_name", "王老师")
            .text("signature_png", SIGNATURE)
            .part(
                "photos",
                Part::bytes(b"\xff\xd8\xff\xe0 jpeg".to_vec()).file_name("after.jpg").mime_str("image/jpeg").unwrap(),
            )
    };
    let r = tc.post(app.url(&format!("/tickets/{id}/visit"))).multipart(form("2026-12-01T09:00")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("完成时间：时间先后不对"));
    assert_eq!(app.count("visits").await, 0);
    let r = tc.post(app.url(&format!("/tickets/{id}/visit"))).multipart(form("2026-12-01T11:00")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("visit_photos").await, 1);
    let page = tc.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/signature.png") && page.contains("王老师"));
    // The visit's photo is on the ticket, resolving is now the primary step, and the
    // resolution starts from the work done.
    assert!(page.contains("<img src=\"/photos/"), "the visit's photo is shown");
    assert!(page.contains("class=\"btn btn-primary\" id=\"action-resolve\""), "resolve is the primary button");
    assert!(page.contains(">更换电源板，开机正常</textarea>"), "the resolution is prefilled");
    let (school, _) = app.browser("school1").await;
    let mine = school.get(app.url(&format!("/portal/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(mine.contains("<img src=\"/photos/"), "the school sees the visit's photo on its ticket");
    let paper = tc.get(app.url(&format!("/tickets/{id}/print/repair"))).send().await.unwrap().text().await.unwrap();
    assert!(paper.contains("class=\"paper-photos\"><img src=\"/photos/"), "the printed record shows the photo");
    let r = post(
        &tc,
        &app,
        &format!("/tickets/{id}/act/resolve"),
        &[("_csrf", &tcsrf), ("version", &v(&page)), ("resolution", "已修复")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The agent's callback queue and the callback.
    let queue = agent.get(app.url("/callbacks")).send().await.unwrap().text().await.unwrap();
    assert!(queue.contains("302 教室一体机黑屏"));
    let page = agent.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    let r = post(
        &agent,
        &app,
        &format!("/tickets/{id}/act/callback"),
        &[
            ("_csrf", &csrf),
            ("version", &v(&page)),
            ("satisfaction", "5"),
            ("resolved", "true"),
            ("note", "老师说修得很快，一体机已正常使用"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = agent.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已关闭") && page.contains("★★★★★"));
    let paper = agent.get(app.url(&format!("/tickets/{id}/print/repair"))).send().await.unwrap().text().await.unwrap();
    assert!(paper.contains("老师说修得很快，一体机已正常使用"), "客户意见 comes from the callback");
    // The list shows it under its status and exports it.
    let list = agent.get(app.url("/tickets?status=closed")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("302 教室一体机黑屏"));
    let csv = agent.get(app.url("/tickets?status=closed&format=csv")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("302 教室一体机黑屏") && csv.contains("已关闭"));
    // The equipment's page shows its ticket and the visit.
    let page = agent.get(app.url(&format!("/equipment/{eid}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("302 教室一体机黑屏") && page.contains("更换电源板，开机正常"));
    // The school sees its ticket, without the action forms.
    let (sc, _) = app.browser("school1").await;
    let page = sc.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("302 教室一体机黑屏") && !page.contains("id=\"action-"));
});

both!(saved_filters_and_views, |app: TestApp| async move {
    let (c, csrf) = app.browser("engineer").await;
    let r = post(
        &c,
        &app,
        "/tickets/filters",
        &[("_csrf", &csrf), ("name", "城关监控"), ("query", "system=surveillance&town=城关镇")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = c.get(app.url("/tickets")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("☆ 城关监控"));
    let r = post(&c, &app, "/tickets/filters", &[("_csrf", &csrf), ("name", " "), ("query", "x=1")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for view in ["unassigned", "overdue", "callback", "mine_engineer"] {
        assert_eq!(
            c.get(app.url(&format!("/tickets?view={view}"))).send().await.unwrap().status(),
            StatusCode::OK,
            "{view}"
        );
    }
});

both!(the_technician_on_site_asks_the_engineer_to_escalate, |app: TestApp| async move {
    let (id, _) = crate::tickets::in_progress(&app, "ESC-REQ-1").await;
    let (tc, csrf) = app.browser("tech").await;
    let page = tc.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"request-escalation\""), "the technician on site may ask");
    // Without a reason: the field is named and nothing happens.
    let r = post(&tc, &app, &format!("/tickets/{id}/escalation-request"), &[("_csrf", &csrf), ("note", " ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(
        &tc,
        &app,
        &format!("/tickets/{id}/escalation-request"),
        &[("_csrf", &csrf), ("note", "主板烧毁，需厂家返修")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The engineer is told at once, and the request is on the timeline.
    let eng = app.token("engineer").await;
    let (_, notes) = app.get_json(&eng, "/api/v1/notifications").await;
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "escalation_requested"), "{notes}");
    let (_, tl) = app.get_json(&eng, &format!("/api/v1/tickets/{id}/timeline")).await;
    assert!(tl.to_string().contains("主板烧毁，需厂家返修"), "{tl}");
    // Only the technician on site asks: the agent may not, through the API either.
    let (s, _) = app
        .post_json(
            &app.token("agent").await,
            &format!("/api/v1/tickets/{id}/escalation-request"),
            &serde_json::json!({"note": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .post_json(
            &app.token("tech").await,
            &format!("/api/v1/tickets/{id}/escalation-request"),
            &serde_json::json!({"note": "再次请求"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
});

both!(the_primary_button_is_the_likely_next_step, |app: TestApp| async move {
    // In triage the engineer's next step is the diagnosis; resolving remotely is offered but
    // is not the primary button (it is only once someone is on site).
    let (t, _) = crate::tickets::new_ticket(&app, "PRIMARY-1", false).await;
    let id = t["id"].as_i64().unwrap();
    let eng = app.token("engineer").await;
    assert_eq!(crate::tickets::act(&app, &eng, id, "accept", serde_json::json!({})).await.0, StatusCode::OK);
    let (c, _) = app.browser("engineer").await;
    let html = c.get(app.url(&format!("/tickets/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"class="btn btn-primary" id="action-diagnose""#), "diagnose leads");
    assert!(html.contains(r#"class="btn" id="action-resolve""#), "remote resolve is offered, not primary");
});

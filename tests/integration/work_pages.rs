//! The work-order pages around the ticket: the dispatch board, the printable forms, the
//! manager's reviews with the scorecards, and the service levels — each for the roles that
//! may use it, and refused to the others.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{act, in_progress, new_ticket, user_id, visit};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

async fn page(c: &Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// The inner HTML of the element with this id, up to the end of its `td`/`li` (enough for a cell).
fn element<'a>(html: &'a str, id: &str, end: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in page"));
    let rest = &html[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The text of a `<td id=…>n</td>` cell.
fn cell_text(html: &str, id: &str) -> String {
    let e = element(html, id, "</td>");
    e[e.find('>').unwrap() + 1..].trim().to_owned()
}

/// A fresh ticket taken as far as `to_dispatch`; returns its JSON.
async fn diagnosed(app: &TestApp, serial: &str) -> Value {
    let (t, _) = new_ticket(app, serial, false).await;
    let id = t["id"].as_i64().unwrap();
    let eng = app.token("engineer").await;
    assert_eq!(act(app, &eng, id, "accept", json!({})).await.0, StatusCode::OK);
    let (s, v) = act(
        app,
        &eng,
        id,
        "diagnose",
        json!({"fault_type": "hardware", "diagnosis": "硬盘坏道", "plan": "更换监控硬盘", "parts_to_bring": "4TB 监控硬盘"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

both!(the_dispatch_board_shows_each_visit_in_its_technicians_row_and_day, |app: TestApp| async move {
    let svc = aftercare_service::Services::new(app.db.clone());
    crate::common::user(&svc, "tech2", &["technician"], None).await;
    let tech = user_id(&app, "tech").await;
    let tech2 = user_id(&app, "tech2").await;
    // Scheduled for tech on 1 December, 09:00 in Shanghai.
    let t = diagnosed(&app, "DSP-1").await;
    let id = t["id"].as_i64().unwrap();
    let number = t["number"].as_str().unwrap().to_owned();
    let eng = app.token("engineer").await;
    let (s, v) =
        act(&app, &eng, id, "schedule", json!({"technician_ids": [tech], "scheduled_at": "2026-12-01T01:00:00Z"}))
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // One waiting for dispatch, one not yet diagnosed.
    let waiting = diagnosed(&app, "DSP-2").await;
    let (fresh, _) = new_ticket(&app, "DSP-3", false).await;

    for who in ["engineer", "agent", "manager"] {
        let (c, _) = app.browser(who).await;
        let (s, html) = page(&c, &app, "/dispatch?from=2026-11-30").await;
        assert_eq!(s, StatusCode::OK, "{who}");
        let cell = element(&html, &format!("cell-{tech}-2026-12-01"), "</td>");
        assert!(cell.contains(&number) && cell.contains("09:00"), "{cell}");
        assert!(cell.contains(&format!("href=\"/tickets/{id}\"")), "{cell}");
        assert!(cell.contains("城关镇中心小学") && cell.contains("城关镇"), "school and town: {cell}");
        assert!(cell.contains("class=\"load-n\""), "the cell's load");
        for other in
            [format!("cell-{tech2}-2026-12-01"), format!("cell-{tech}-2026-11-30"), format!("cell-{tech}-2026-12-02")]
        {
            assert!(!element(&html, &other, "</td>").contains(&number), "{other}");
        }
        // The queue links to the schedule form of each waiting ticket.
        assert!(html.contains(&format!("href=\"/tickets/{}#actions\"", waiting["id"])));
        assert!(html.contains(&format!("href=\"/tickets/{}#actions\"", fresh["id"])));
        assert!(!html.contains(&format!("href=\"/tickets/{id}#actions\"")), "a scheduled ticket is not waiting");
        assert!(html.contains("待派单") && html.contains("周二"));
    }
    // The next week is empty for it; a bad date falls back to today.
    let (c, _) = app.browser("engineer").await;
    let (_, html) = page(&c, &app, "/dispatch?from=2026-12-02").await;
    assert!(!html.contains(&number));
    let (s, _) = page(&c, &app, "/dispatch?from=yesterday").await;
    assert_eq!(s, StatusCode::OK);
    // Technicians, the storekeeper and schools may not use the board.
    for who in ["tech", "store", "school1"] {
        let (c, _) = app.browser(who).await;
        assert_eq!(page(&c, &app, "/dispatch").await.0, StatusCode::FORBIDDEN, "{who}");
    }
});

both!(printable_forms_are_chinese_a4_with_the_signature, |app: TestApp| async move {
    let (id, _) = in_progress(&app, "PRN-1").await;
    let tech = app.token("tech").await;
    let (s, v) = app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &visit("fixed", true)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let visit_id = v["id"].as_i64().unwrap();
    let (_, t) = app.get_json(&tech, &format!("/api/v1/tickets/{id}")).await;
    let number = t["number"].as_str().unwrap().to_owned();

    // A Chinese reader gets the Chinese form.
    let (c, _) = app.browser("manager").await;
    let (s, html) = page(&c, &app, &format!("/tickets/{id}/print/analysis")).await;
    assert_eq!(s, StatusCode::OK);
    for want in
        ["故障分析表", number.as_str(), "分析单号", "硬盘坏道", "更换监控硬盘", "☑ 硬件", "engineer 测试", "审核人"]
    {
        assert!(html.contains(want), "analysis form lacks {want}");
    }
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("data-print"));
    assert!(!html.contains("class=\"sidebar\""), "no navigation on paper");
    let (s, html) = page(&c, &app, &format!("/tickets/{id}/print/repair")).await;
    assert_eq!(s, StatusCode::OK);
    for want in [
        "上门维修记录表",
        number.as_str(),
        &format!("<img class=\"sig-img\" src=\"/visits/{visit_id}/signature.png\""),
        "王老师",
        "城关镇王老师",
        "13905661111",
        "监控硬盘 4TB × 1",
        "旧硬盘 WD40PURX",
        "☑ 上门维修",
        "☑ 已修复",
        "tech 测试",
        "客户负责人签字",
    ] {
        assert!(html.contains(want), "repair record lacks {want}");
    }
    // An English reader gets the same forms in English; the paper keeps its Chinese title.
    let (c, csrf) = app.browser("engineer").await;
    let r =
        c.post(app.url("/lang")).form(&[("_csrf", csrf.as_str()), ("lang", "en"), ("next", "/")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, html) = page(&c, &app, &format!("/tickets/{id}/print/analysis")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<html lang=\"en\">"));
    for want in ["<h1>故障分析表</h1>", "Fault analysis form", "Analysis no.", "☑ Hardware", "Reviewed by", "Print"]
    {
        assert!(html.contains(want), "English analysis form lacks {want}");
    }
    for zh in ["分析单号", "审核人", "打印", "硬件"] {
        assert!(!html.contains(zh), "English analysis form still says {zh}");
    }
    let (_, html) = page(&c, &app, &format!("/tickets/{id}/print/repair")).await;
    for want in ["<h1>上门维修记录表</h1>", "On-site repair record", "☑ Fixed", "Signed by the school"] {
        assert!(html.contains(want), "English repair record lacks {want}");
    }
    for zh in ["客户负责人签字", "已修复", "上门维修<"] {
        assert!(!html.contains(zh), "English repair record still says {zh}");
    }
    // The stylesheet makes it A4.
    let css = c.get(app.url("/assets/app.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.contains("@page { size: A4; margin: 15mm; }"));

    // Staff only: a school gets 403 on its own ticket and 404 on another school's.
    let (s1, _) = app.browser("school1").await;
    assert_eq!(page(&s1, &app, &format!("/tickets/{id}/print/analysis")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(page(&s1, &app, &format!("/tickets/{id}/print/repair")).await.0, StatusCode::FORBIDDEN);
    let (s2, _) = app.browser("school2").await;
    assert_eq!(page(&s2, &app, &format!("/tickets/{id}/print/repair")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(&c, &app, "/tickets/999999/print/analysis").await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(&c, &app, "/tickets/abc/print/repair").await.0, StatusCode::NOT_FOUND);
});

both!(the_manager_confirms_a_proposal_and_the_scorecard_counts_it, |app: TestApp| async move {
    let tech = app.token("tech").await;
    let tech_id = user_id(&app, "tech").await;
    // Fixed, then the school says at the callback it is not: a repeat repair is proposed.
    let (id, _) = in_progress(&app, "REV-1").await;
    app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &visit("fixed", true)).await;
    act(&app, &tech, id, "resolve", json!({"resolution": "已修好"})).await;
    let (s, v) =
        act(&app, &app.token("agent").await, id, "callback", json!({"satisfaction": 2, "resolved": false})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("triage")));
    let manager = app.token("manager").await;
    let (_, p) = app.get_json(&manager, "/api/v1/penalties?status=proposed").await;
    let pid = p["items"][0]["id"].as_i64().unwrap();

    let (c, csrf) = app.browser("manager").await;
    let (s, html) = page(&c, &app, "/reviews").await;
    assert_eq!(s, StatusCode::OK);
    let proposal = element(&html, &format!("proposal-{pid}"), "</li>");
    assert!(proposal.contains("返修") && proposal.contains("tech 测试") && proposal.contains("回访时学校反映未修好"));
    assert!(proposal.contains(&format!("href=\"/tickets/{id}\"")));
    assert!(proposal.contains(&format!("action=\"/reviews/{pid}\"")));
    assert_eq!(cell_text(&html, &format!("score-{tech_id}-repeat")), "0");

    // Only the manager (and the administrator) reviews.
    let (e, ecsrf) = app.browser("engineer").await;
    assert_eq!(page(&e, &app, "/reviews").await.0, StatusCode::FORBIDDEN);
    let r = e
        .post(app.url(&format!("/reviews/{pid}")))
        .form(&[("_csrf", ecsrf.as_str()), ("verdict", "confirm")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A missing CSRF token or an unknown verdict changes nothing.
    let r = c.post(app.url(&format!("/reviews/{pid}"))).form(&[("verdict", "confirm")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url(&format!("/reviews/{pid}")))
        .form(&[("_csrf", csrf.as_str()), ("verdict", "maybe")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("审核结果：不是可选的值"));
    assert_eq!(app.get_json(&manager, "/api/v1/penalties?status=proposed").await.1["total"], 1);

    // Confirmed with a note: it leaves the queue, shows as reviewed and counts on the scorecard.
    let r = c
        .post(app.url(&format!("/reviews/{pid}")))
        .form(&[("_csrf", csrf.as_str()), ("verdict", "confirm"), ("note", "同一硬盘返修")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = page(&c, &app, &loc).await;
    assert!(html.contains("已确认，已计入个人考核"));
    assert!(!html.contains(&format!("action=\"/reviews/{pid}\"")));
    let reviewed = element(&html, &format!("reviewed-{pid}"), "</tr>");
    assert!(reviewed.contains("已确认") && reviewed.contains("同一硬盘返修") && reviewed.contains("manager 测试"));
    assert_eq!(cell_text(&html, &format!("score-{tech_id}-repeat")), "1");
    let (_, p) = app.get_json(&manager, "/api/v1/penalties?status=confirmed").await;
    assert_eq!((p["total"].as_i64(), p["items"][0]["review_note"].as_str()), (Some(1), Some("同一硬盘返修")));
    // A review is final.
    let r = c
        .post(app.url(&format!("/reviews/{pid}")))
        .form(&[("_csrf", csrf.as_str()), ("verdict", "dismiss")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("该考核事件已审核"));
    // A period before the event counts nothing.
    let (_, html) = page(&c, &app, "/reviews?from=2020-01-01&to=2020-01-31").await;
    assert_eq!(cell_text(&html, &format!("score-{tech_id}-repeat")), "0");
    assert!(html.contains("value=\"2020-01-01\""));
});

both!(service_levels_are_edited_by_the_manager_with_field_messages, |app: TestApp| async move {
    let manager = app.token("manager").await;
    let policies = || async { app.get_json(&manager, "/api/v1/sla-policies").await.1["items"][0].clone() };
    let before = policies().await;
    assert_eq!(before["priority"], "urgent");
    let (c, csrf) = app.browser("manager").await;
    let (s, html) = page(&c, &app, "/settings/sla").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("action=\"/settings/sla/urgent\"") && html.contains("action=\"/settings/sla/low\""));
    assert!(html.contains("小时"), "minutes are shown as hours too");
    let post = |prio: &'static str, r: &'static str, a: &'static str, z: &'static str| {
        let c = c.clone();
        let csrf = csrf.clone();
        let url = app.url(&format!("/settings/sla/{prio}"));
        async move {
            let r = c
                .post(url)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("respond_minutes", r),
                    ("arrive_minutes", a),
                    ("resolve_minutes", z),
                ])
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.text().await.unwrap())
        }
    };
    // Bad values: the field's message in Chinese, the typed value kept, nothing changed.
    let (s, html) = post("urgent", "0", "120", "720").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("响应时限：超出范围"), "{html}");
    assert!(html.contains("class=\"field-error\">超出范围</span>"));
    assert!(html.contains("name=\"respond_minutes\" value=\"0\""));
    let (s, html) = post("urgent", "半小时", "120", "720").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("响应时限：格式不正确"));
    let (_, html) = post("urgent", "60", "120", "30").await;
    assert!(html.contains("修复时限：超出范围"));
    let (_, html) = post("urgent", "60", "", "720").await;
    assert!(html.contains("到场时限：必填"));
    assert_eq!(policies().await, before);
    assert_eq!(post("someday", "20", "120", "720").await.0, StatusCode::NOT_FOUND);
    // A good one is saved.
    let (s, _) = post("urgent", "20", "120", "720").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let after = policies().await;
    assert_eq!((after["respond_minutes"].as_i64(), after["resolve_minutes"].as_i64()), (Some(20), Some(720)));

    // The repeat-repair window: 1..=365 days.
    let window = |days: &'static str| {
        let c = c.clone();
        let csrf = csrf.clone();
        let url = app.url("/settings/repeat-window");
        async move {
            let r = c.post(url).form(&[("_csrf", csrf.as_str()), ("repeat_window_days", days)]).send().await.unwrap();
            let s = r.status();
            (s, r.text().await.unwrap())
        }
    };
    let svc = aftercare_service::Services::new(app.db.clone());
    let (s, html) = window("400").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("返修判定天数：超出范围"));
    assert_eq!(window("两周").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(svc.repeat_window_days().await.unwrap(), 30);
    assert_eq!(window("45").await.0, StatusCode::SEE_OTHER);
    assert_eq!(svc.repeat_window_days().await.unwrap(), 45);
    assert!(page(&c, &app, "/settings/sla").await.1.contains("name=\"repeat_window_days\" value=\"45\""));

    // Other staff read them and may not change them; schools do not see them.
    let (a, acsrf) = app.browser("agent").await;
    let (s, html) = page(&a, &app, "/settings/sla").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"read-only\"") && html.contains(" disabled"));
    assert!(!html.contains("id=\"save-urgent\""));
    let r = a
        .post(app.url("/settings/sla/urgent"))
        .form(&[("_csrf", acsrf.as_str()), ("respond_minutes", "5"), ("arrive_minutes", "5"), ("resolve_minutes", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = a
        .post(app.url("/settings/repeat-window"))
        .form(&[("_csrf", acsrf.as_str()), ("repeat_window_days", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(policies().await, after);
    let (s1, _) = app.browser("school1").await;
    assert_eq!(page(&s1, &app, "/settings/sla").await.0, StatusCode::FORBIDDEN);
});

both!(the_dispatch_board_warns_past_the_daily_limit, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let eng = app.token("engineer").await;
    let tech = crate::tickets::user_id(&app, "tech").await;
    // Five visits for one technician tomorrow: one more than a day holds.
    let day = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + chrono::Duration::days(1);
    for i in 0..=aftercare_domain::tickets::DAILY_VISIT_LIMIT {
        let body =
            serde_json::json!({"customer_id": app.school1, "system": "network", "title": format!("第 {i} 间教室断网")});
        let (s, t) = app.post_json(&agent, "/api/v1/tickets", &body).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let id = t["id"].as_i64().unwrap();
        let act = |a: &'static str, b: serde_json::Value| crate::tickets::act(&app, &eng, id, a, b);
        assert_eq!(act("accept", serde_json::json!({})).await.0, StatusCode::OK);
        let dg = serde_json::json!({"fault_type": "cabling", "diagnosis": "网线松动", "plan": "重新压接"});
        assert_eq!(act("diagnose", dg).await.0, StatusCode::OK);
        let at = format!("{day}T0{}:00:00+08:00", i + 1);
        let (s, v) = act("schedule", serde_json::json!({"technician_ids": [tech], "scheduled_at": at})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (c, _) = app.browser("engineer").await;
    let page = c.get(app.url(&format!("/dispatch?from={day}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"over-limit\""), "the board warns");
    assert!(page.contains("排了 5 单，超过每日 4 单上限"), "naming who, when and how many");
    assert!(page.contains("over-limit\">"), "the cell is marked");
    assert!(page.contains("卡片左边框：优先级"), "the legend explains the marks");
});

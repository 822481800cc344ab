//! The service desk: contact records on every channel, the screen pop, telephony events,
//! missed calls with their owner, due time and penalty, complaint reviews, suggestions.

use crate::both;
use crate::common::{TestApp, enc};
use crate::tickets::user_id;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A Tuesday 10:00 in Shanghai, inside the default working hours.
fn in_hours() -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap().with_timezone(&Utc)
}

/// The same Tuesday at 21:00: after hours.
fn after_hours() -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 11, 24, 21, 0, 0).unwrap().with_timezone(&Utc)
}

async fn contacts_count(app: &TestApp) -> i64 {
    app.count("contacts").await
}

both!(contacts_are_recorded_on_every_channel_and_bad_input_changes_nothing, |app: TestApp| async move {
    let agent = app.token("agent").await;
    for channel in ["phone", "email", "fax", "im", "web", "walk_in", "other"] {
        let (s, v) = app
            .post_json(
                &agent,
                "/api/v1/contacts",
                &json!({"channel": channel, "category": "consultation", "customer_id": app.school1,
                "content": "班班通怎么切换信号源", "received_at": in_hours()}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{channel}: {v}");
        assert_eq!(v["channel"], channel);
        assert!(v["record_no"].as_str().unwrap().starts_with("KF20261124-"), "{v}");
        assert_eq!(v["answered"], true);
        assert_eq!(v["after_hours"], false);
        assert_eq!(v["handler_id"], user_id(&app, "agent").await);
    }
    assert_eq!(contacts_count(&app).await, 7);
    // Unknown channel and category: 422 naming both, nothing written.
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "pigeon", "category": "praise", "content": "x", "received_at": in_hours()}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("渠道") && msg.contains("问题类型"), "{msg}");
    // An unknown school is named too.
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "other", "content": "x", "customer_id": 999999, "received_at": in_hours()}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("学校"), "{v}");
    assert_eq!(contacts_count(&app).await, 7);
    // A school user may not record contacts; the list is staff-only too.
    let school = app.token("school1").await;
    let (s, _) = app
        .post_json(
            &school,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "other", "content": "x", "received_at": in_hours()}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.get_json(&school, "/api/v1/contacts").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, list) = app.get_json(&agent, "/api/v1/contacts?channel=fax").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 1);
});

both!(after_hours_calls_must_carry_a_promised_time, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let body = json!({"channel": "phone", "category": "repair", "customer_id": app.school1, "content": "机房空调报警", "received_at": after_hours()});
    let (s, v) = app.post_json(&agent, "/api/v1/contacts", &body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("等待时间"), "{v}");
    assert_eq!(contacts_count(&app).await, 0);
    let mut ok = body.clone();
    ok["promised_at"] = json!(after_hours() + Duration::hours(12));
    let (s, v) = app.post_json(&agent, "/api/v1/contacts", &ok).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["after_hours"], true);
});

both!(a_repair_call_opens_its_ticket_and_an_urge_is_logged_on_it, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "repair", "customer_id": app.school1,
            "caller_name": "王老师", "caller_phone": "13905661111", "system": "surveillance", "urgency": "urgent",
            "content": "校门口监控黑屏", "received_at": in_hours(), "open_ticket": {}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ticket = v["ticket_id"].as_i64().expect("the contact is linked to its ticket");
    assert_eq!(v["handling"], "ticket");
    assert!(v["ticket_number"].as_str().unwrap().starts_with("GD"));
    let (_, t) = app.get_json(&agent, &format!("/api/v1/tickets/{ticket}")).await;
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "high", "an urgent call proposes a high priority");
    assert_eq!(t["reporter_phone"], "13905661111");
    assert_eq!(t["source"], "phone");
    // A consultation cannot open a ticket; nothing is written.
    let tickets_before = app.count("tickets").await;
    let (s, _) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "consultation", "customer_id": app.school1,
            "content": "x", "open_ticket": {}, "received_at": in_hours()}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("tickets").await, tickets_before);
    // The school calls again to urge: the call is on the ticket's timeline, no new ticket.
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "repair", "handling": "urge", "ticket_id": ticket,
            "content": "催一下，下午要用监控", "received_at": in_hours()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["customer_id"], app.school1, "an urge takes the ticket's school");
    assert_eq!(app.count("tickets").await, tickets_before);
    let (_, tl) = app.get_json(&agent, &format!("/api/v1/tickets/{ticket}/timeline")).await;
    let items = tl.as_array().cloned().unwrap_or_else(|| tl["items"].as_array().cloned().unwrap_or_default());
    assert!(items.iter().any(|e| e["kind"] == "urge"), "{tl}");
    // An urge without a ticket names the field.
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "repair", "handling": "urge", "content": "快点", "received_at": in_hours()}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["message"].as_str().unwrap().contains("关联工单"), "{v}");
});

both!(the_screen_pop_finds_the_school_its_equipment_tickets_and_contacts, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let (_, e) = app
        .post_json(
            &agent,
            "/api/v1/equipment",
            &json!({"customer_id": app.school1, "system": "network", "kind": "核心交换机", "serial_no": "SN-POP-1"}),
        )
        .await;
    let (_, t) = app
        .post_json(
            &agent,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "equipment_ids": [e["id"]], "title": "断网"}),
        )
        .await;
    app.post_json(&agent, "/api/v1/contacts", &json!({"channel": "phone", "category": "consultation", "caller_phone": "139-0566-1111", "customer_id": app.school1, "content": "问网速", "received_at": in_hours()})).await;
    // The number typed with other separators still matches the contact person.
    let (s, pop) = app.get_json(&agent, "/api/v1/desk/lookup?phone=13905661111").await;
    assert_eq!(s, StatusCode::OK, "{pop}");
    assert_eq!(pop["customer"]["id"], app.school1);
    assert!(pop["matches"][0]["person_name"].as_str().unwrap().contains("王老师"), "{pop}");
    assert!(pop["equipment"].as_array().unwrap().iter().any(|x| x["serial_no"] == "SN-POP-1"));
    assert!(pop["open_tickets"].as_array().unwrap().iter().any(|x| x["id"] == t["id"]));
    assert_eq!(pop["recent"].as_array().unwrap().len(), 1);
    // Unknown numbers pop nothing; a non-number is a 422.
    let (s, pop) = app.get_json(&agent, "/api/v1/desk/lookup?phone=010-88886666").await;
    assert_eq!(s, StatusCode::OK);
    assert!(pop["customer"].is_null() && pop["matches"].as_array().unwrap().is_empty());
    let (s, _) = app.get_json(&agent, "/api/v1/desk/lookup?phone=x").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A caller from an unknown number is found by the school's name.
    let (_, school) = app.get_json(&agent, &format!("/api/v1/customers/{}", app.school1)).await;
    let name = school["name"].as_str().unwrap();
    let (s, pop) = app.get_json(&agent, &format!("/api/v1/desk/lookup?phone={}", enc(name))).await;
    assert_eq!(s, StatusCode::OK, "{pop}");
    assert_eq!(pop["customer"]["id"], app.school1);
    assert!(pop["open_tickets"].as_array().unwrap().iter().any(|x| x["id"] == t["id"]));
});

both!(telephony_events_become_contacts_and_missed_calls_with_an_owner, |app: TestApp| async move {
    let pbx = app.token("agent").await;
    let start = in_hours();
    let answered = json!({"caller": "13905661111", "callee": "0566-5550000", "started_at": start,
        "answered_at": start + Duration::seconds(8), "ended_at": start + Duration::seconds(128), "agent_username": "agent", "call_id": "c-1"});
    let (s, v) = app.post_json(&pbx, "/api/v1/telephony/calls", &answered).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["answered"], true);
    assert_eq!(v["talk_seconds"], 120);
    assert_eq!(v["wait_seconds"], 8);
    assert_eq!(v["customer_id"], app.school1, "the caller's number matched the school");
    assert_eq!(v["handler_id"], user_id(&app, "agent").await);
    // The answer is built from what was written: it must be what a read returns.
    let (_, read) = app.get_json(&pbx, &format!("/api/v1/contacts/{}", v["id"])).await;
    assert_eq!(v, read);
    // The PBX repeats an event: recorded once.
    let (s, again) = app.post_json(&pbx, "/api/v1/telephony/calls", &answered).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(again["id"], v["id"]);
    assert_eq!(contacts_count(&app).await, 1);
    // Unanswered: a missed call, owned and due 30 minutes later (in working hours).
    let missed = json!({"caller": "13905662222", "callee": "0566-5550000", "started_at": start, "ended_at": start + Duration::seconds(40)});
    let (s, m) = app.post_json(&pbx, "/api/v1/telephony/calls", &missed).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["answered"], false);
    assert_eq!(m["customer_id"], app.school2);
    assert!(m["callback_owner_id"].as_i64().is_some());
    let (_, read) = app.get_json(&pbx, &format!("/api/v1/contacts/{}", m["id"])).await;
    assert_eq!(m, read);
    let due: DateTime<Utc> = serde_json::from_value(m["callback_due"].clone()).unwrap();
    assert_eq!(due, start + Duration::minutes(30));
    let (_, q) = app.get_json(&pbx, "/api/v1/contacts?view=missed").await;
    assert_eq!(q["total"], 1);
    // No token: 401 and nothing written; a token without the agent role: 403.
    let r = app.client.post(app.url("/api/v1/telephony/calls")).json(&missed).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .post(app.url("/api/v1/telephony/calls"))
        .bearer_auth("not-a-token")
        .json(&missed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = app.post_json(&app.token("engineer").await, "/api/v1/telephony/calls", &missed).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Bad events name the field.
    let (s, v) =
        app.post_json(&pbx, "/api/v1/telephony/calls", &json!({"caller": "1390566", "started_at": start})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = app
        .post_json(&pbx, "/api/v1/telephony/calls", &json!({"caller": "13905662222", "callee": "1", "started_at": start, "ended_at": start, "agent_username": "nobody"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(contacts_count(&app).await, 2);
    // An outbound call to the number closes the missed call.
    let back = json!({"caller": "0566-5550000", "callee": "13905662222", "direction": "outbound", "started_at": start + Duration::minutes(10),
        "answered_at": start + Duration::minutes(10), "ended_at": start + Duration::minutes(12), "agent_username": "agent"});
    let (s, b) = app.post_json(&pbx, "/api/v1/telephony/calls", &back).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, m2) = app.get_json(&pbx, &format!("/api/v1/contacts/{}", m["id"])).await;
    assert_eq!(m2["callback_contact_id"], b["id"]);
    let (_, q) = app.get_json(&pbx, "/api/v1/contacts?view=missed").await;
    assert_eq!(q["total"], 0);
});

both!(missed_calls_not_called_back_in_time_propose_a_penalty, |app: TestApp| async move {
    let pbx = app.token("agent").await;
    let agent_id = user_id(&app, "agent").await;
    let svc = aftercare_service::Services::new(app.db.clone());
    let start = in_hours();
    let call = |caller: &str, at: DateTime<Utc>| json!({"caller": caller, "callee": "0566-5550000", "started_at": at, "ended_at": at + Duration::seconds(30)});
    let (_, late) = app.post_json(&pbx, "/api/v1/telephony/calls", &call("13905662222", start)).await;
    let (_, kept) = app.post_json(&pbx, "/api/v1/telephony/calls", &call("13905661111", start)).await;
    let (_, night) = app.post_json(&pbx, "/api/v1/telephony/calls", &call("13700000000", after_hours())).await;
    assert_eq!(night["after_hours"], true);
    // Called back in time: no penalty for that one.
    let (s, v) = app
        .post_json(
            &pbx,
            &format!("/api/v1/contacts/{}/callback", kept["id"]),
            &json!({"answered": true, "content": "已回拨，问题已解答"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["direction"], "outbound");
    // Before the due time nothing is proposed; after it, exactly one, once.
    assert_eq!(svc.check_missed_calls(start + Duration::minutes(29)).await.unwrap(), 0);
    assert_eq!(svc.check_missed_calls(start + Duration::minutes(31)).await.unwrap(), 1);
    assert_eq!(svc.check_missed_calls(start + Duration::minutes(90)).await.unwrap(), 0);
    let manager = app.token("manager").await;
    let (_, p) = app.get_json(&manager, "/api/v1/penalties?status=proposed").await;
    let items: Vec<Value> =
        p["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "missed_call").cloned().collect();
    assert_eq!(items.len(), 1, "{p}");
    assert_eq!(items[0]["user_id"], agent_id);
    assert!(items[0]["reason"].as_str().unwrap().contains(late["record_no"].as_str().unwrap()));
    // Calling back the already-called-back one is a 409 naming why.
    let (s, v) =
        app.post_json(&pbx, &format!("/api/v1/contacts/{}/callback", kept["id"]), &json!({"content": "x"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // The manager confirms it: it counts on the scorecard.
    let id = items[0]["id"].as_i64().unwrap();
    let (s, v) =
        app.post_json(&manager, &format!("/api/v1/penalties/{id}/review"), &json!({"verdict": "confirm"})).await;
    assert!(s.is_success(), "{v}");
    // The day's scorecard: one confirmed missed call; two of the agent's three calls missed
    // (the night call too: it is missed, only not penalised).
    let (from, to) = (start - Duration::hours(12), start + Duration::hours(13));
    let url = format!("/api/v1/scorecards?from={}&to={}", enc(&from.to_rfc3339()), enc(&to.to_rfc3339()));
    let (s, cards) = app.get_json(&manager, &url).await;
    assert_eq!(s, StatusCode::OK, "{cards}");
    let me = cards["items"].as_array().unwrap().iter().find(|c| c["user_id"] == agent_id).cloned().unwrap();
    assert_eq!(me["missed_calls"], 1, "{me}");
    assert_eq!(me["calls_in"], 3, "{me}");
    assert_eq!(me["calls_missed"], 3, "{me}");
    assert_eq!(me["missed_call_rate"], 1.0, "{me}");
});

both!(complaints_are_reviewed_by_the_manager_and_called_back, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let manager = app.token("manager").await;
    let (s, c) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "complaint", "customer_id": app.school1,
            "caller_name": "李校长", "content": "维修人员迟到两小时", "mood": "不满", "received_at": in_hours()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_i64().unwrap();
    // The manager is told.
    let (_, n) = app.get_json(&manager, "/api/v1/notifications").await;
    assert!(n["items"].as_array().unwrap().iter().any(|x| x["kind"] == "complaint"), "{n}");
    let (_, q) = app.get_json(&manager, "/api/v1/contacts?view=complaints").await;
    assert_eq!(q["total"], 1);
    // Calling back before the review is refused.
    let (s, _) = app.post_json(&agent, &format!("/api/v1/contacts/{id}/callback"), &json!({"content": "x"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Only the manager reviews; a bad verdict is a 422; nothing changes either way.
    for who in ["agent", "engineer", "admin"] {
        let (s, _) = app
            .post_json(&app.token(who).await, &format!("/api/v1/contacts/{id}/review"), &json!({"verdict": "valid"}))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
    let (s, v) = app.post_json(&manager, &format!("/api/v1/contacts/{id}/review"), &json!({"verdict": "maybe"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, still) = app.get_json(&agent, &format!("/api/v1/contacts/{id}")).await;
    assert!(still["review_verdict"].is_null());
    let (s, v) = app
        .post_json(
            &manager,
            &format!("/api/v1/contacts/{id}/review"),
            &json!({"verdict": "valid", "action": "对维修人员进行提醒并调整排班", "note": "属实"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["review_verdict"], "valid");
    assert_eq!(v["reviewed_by"], user_id(&app, "manager").await);
    // Reviewing a consultation is a 409.
    let (_, other) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "consultation", "content": "问密码", "received_at": in_hours()}),
        )
        .await;
    let (s, _) = app
        .post_json(&manager, &format!("/api/v1/contacts/{}/review", other["id"]), &json!({"verdict": "valid"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The school is called back: the complaint is closed.
    let (s, cb) = app
        .post_json(
            &agent,
            &format!("/api/v1/contacts/{id}/callback"),
            &json!({"answered": true, "content": "已向李校长说明处理结果"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{cb}");
    let (_, done) = app.get_json(&agent, &format!("/api/v1/contacts/{id}")).await;
    assert!(done["closed_at"].is_string(), "{done}");
    assert_eq!(done["callback_contact_id"], cb["id"]);
});

both!(suggestions_reach_leadership_with_read_receipts, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let manager = app.token("manager").await;
    let (_, s1) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "email", "category": "suggestion", "customer_id": app.school2,
            "content": "建议寒假前统一巡检班班通", "received_at": in_hours()}),
        )
        .await;
    let id = s1["id"].as_i64().unwrap();
    let (_, n) = app.get_json(&manager, "/api/v1/notifications").await;
    assert!(n["items"].as_array().unwrap().iter().any(|x| x["kind"] == "suggestion"), "{n}");
    // Leadership sees it as unread on the suggestions tab until opened.
    let (mc, _) = app.browser("manager").await;
    let html = mc.get(app.url("/contacts?view=suggestions")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"unread-suggestions\">1<"), "{html}");
    // An agent opening it leaves no receipt; the manager's reading does, once.
    let (s, r) = app.post_json(&agent, &format!("/api/v1/contacts/{id}/read"), &json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r.as_array().unwrap().len(), 0);
    for _ in 0..2 {
        let (s, r) = app.post_json(&manager, &format!("/api/v1/contacts/{id}/read"), &json!({})).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(r.as_array().unwrap().len(), 1, "{r}");
        assert_eq!(r[0]["user_id"], user_id(&app, "manager").await);
    }
    // The read receipt shows on the contact's page.
    let (c, _) = app.browser("manager").await;
    let html = c.get(app.url(&format!("/contacts/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"reads\"") && html.contains("manager 测试"), "{html}");
});

both!(contacts_are_found_by_search_and_stay_hidden_from_schools, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let (_, c) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "consultation", "customer_id": app.school1,
            "content": "询问云桌面密码重置流程", "received_at": in_hours()}),
        )
        .await;
    let (_, hits) = app.get_json(&agent, "/api/v1/search?q=云桌面").await;
    let items = hits.as_array().cloned().unwrap_or_else(|| hits["items"].as_array().cloned().unwrap_or_default());
    assert!(items.iter().any(|h| h["kind"] == "contact" && h["id"] == c["id"]), "{hits}");
    let (_, hits) = app.get_json(&app.token("school1").await, "/api/v1/search?q=云桌面").await;
    let items = hits.as_array().cloned().unwrap_or_else(|| hits["items"].as_array().cloned().unwrap_or_default());
    assert!(items.iter().all(|h| h["kind"] != "contact"), "{hits}");
    let (_, list) = app.get_json(&agent, "/api/v1/contacts?q=密码重置").await;
    assert_eq!(list["total"], 1);
});

both!(the_desk_page_pops_the_caller_and_logs_a_repair_as_a_ticket, |app: TestApp| async move {
    let (c, csrf) = app.browser("agent").await;
    let html = c.get(app.url("/desk?phone=13905661111")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"pop-who\"") && html.contains("王老师"), "{html}");
    assert!(
        html.contains("class=\"phrase\"") && html.contains("请问有什么可以帮您"),
        "the courteous phrases are prompted"
    );
    let pop = c.get(app.url("/desk/pop?phone=13905662222")).send().await.unwrap().text().await.unwrap();
    assert!(pop.contains(&format!("data-customer=\"{}\"", app.school2)), "{pop}");
    let school = app.school1.to_string();
    // Whenever the test runs, promise a time after it (required after hours).
    let promise =
        (Utc::now() + Duration::days(1)).with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%dT%H:%M").to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("category", "repair"),
        ("channel", "phone"),
        ("direction", "inbound"),
        ("urgency", "normal"),
        ("customer_id", school.as_str()),
        ("caller_name", "王老师"),
        ("caller_phone", "13905661111"),
        ("system", "classroom"),
        ("content", "三年级二班投影机不亮"),
        ("promised_at", promise.as_str()),
        ("open_ticket", "1"),
    ];
    let r = c.post(app.url("/desk")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/desk?ok=contact_ticket&last="), "{to}");
    let html = c.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"last-ticket\""), "{html}");
    assert_eq!(app.count("tickets WHERE title LIKE '%投影机%'").await, 1);
    // The school is picked the way the agent knows it: by name, by phone or by code; a
    // text that names none is an error at the field, with every other mistake at once.
    let picker = c.get(app.url("/pick/schools?q=%E8%93%89%E5%9F%8E")).send().await.unwrap();
    let hits: serde_json::Value = picker.json().await.unwrap();
    assert_eq!(hits[0]["id"], app.school2, "{hits}");
    for (typed, want) in [("蓉城镇初级中学", app.school2), ("13905661111", app.school1), ("t-rc-01", app.school2)]
    {
        let mut f: Vec<(&str, &str)> =
            form.iter().filter(|(k, _)| *k != "customer_id" && *k != "open_ticket").copied().collect();
        f.push(("customer", typed));
        let r = c.post(app.url("/desk")).form(&f).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{typed}");
        let last = r.headers()["location"].to_str().unwrap().rsplit('=').next().unwrap().to_owned();
        let (_, k) = app.get_json(&app.token("agent").await, &format!("/api/v1/contacts/{last}")).await;
        assert_eq!(k["customer_id"], want, "{typed} names its school");
    }
    let before = contacts_count(&app).await;
    let f = [
        ("_csrf", csrf.as_str()),
        ("channel", "phone"),
        ("content", "x"),
        ("customer", "不存在的学校"),
        ("promised_at", promise.as_str()),
    ];
    let r = c.post(app.url("/desk")).form(&f).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("没有匹配的记录") && html.contains("问题类型：必填"), "the school and the category at once");
    assert!(html.contains("value=\"不存在的学校\""), "what was typed is kept");
    assert_eq!(contacts_count(&app).await, before);
    // A missing category comes back on the page with the field named, nothing written.
    let before = contacts_count(&app).await;
    let bad = [("_csrf", csrf.as_str()), ("channel", "phone"), ("content", "x"), ("promised_at", promise.as_str())];
    let r = c.post(app.url("/desk")).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("问题类型"));
    assert_eq!(contacts_count(&app).await, before);
});

both!(a_call_event_sent_many_times_at_once_is_recorded_once, |app: TestApp| async move {
    // Concurrent events share a group commit; repeats inside one group must still collapse.
    let pbx = app.token("agent").await;
    let at = in_hours();
    let ev = json!({"caller": "13905661111", "callee": "0566-5550000", "started_at": at, "ended_at": at + Duration::seconds(20), "call_id": "dup-7"});
    let mut handles = Vec::new();
    for _ in 0..12 {
        let (client, url, pbx, ev) = (app.client.clone(), app.url("/api/v1/telephony/calls"), pbx.clone(), ev.clone());
        handles.push(tokio::spawn(async move {
            let r = client.post(url).bearer_auth(pbx).json(&ev).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(contacts_count(&app).await, 1);
    // And numbers stay unique and gapless when many distinct calls share commits.
    let mut handles = Vec::new();
    for i in 0..20 {
        let (client, url, pbx) = (app.client.clone(), app.url("/api/v1/telephony/calls"), pbx.clone());
        let ev = json!({"caller": "13905662222", "callee": "0566-5550000", "started_at": at, "ended_at": at, "call_id": format!("many-{i}")});
        handles.push(tokio::spawn(async move {
            client.post(url).bearer_auth(pbx).json(&ev).send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for h in handles {
        numbers.push(h.await.unwrap()["record_no"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 20);
    assert_eq!(numbers.last().unwrap(), "KF20261124-0021");
});

both!(an_unmatched_contact_gets_its_school_on_its_page, |app: TestApp| async move {
    // Mail from an unknown address lands without a school; the agent names it.
    let w = aftercare_store::contacts::ContactWrite {
        channel: aftercare_domain::contacts::Channel::Email,
        direction: aftercare_domain::contacts::Direction::Inbound,
        category: aftercare_domain::contacts::Category::Other,
        caller_email: Some("someone@unknown.test".into()),
        urgency: aftercare_domain::contacts::Urgency::Normal,
        content: "我们学校的广播不响了".into(),
        received_at: in_hours(),
        answered: true,
        now: in_hours(),
        ..Default::default()
    };
    let id =
        aftercare_store::contacts::create_many(&app.db, &[(aftercare_store::Writer::system(), w)]).await.unwrap()[0];
    let agent = app.token("agent").await;
    let (_, q) = app.get_json(&agent, "/api/v1/contacts?view=unmatched").await;
    assert_eq!(q["total"], 1);
    let (c, csrf) = app.browser("agent").await;
    let html = c.get(app.url(&format!("/contacts/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"school-form\""), "{html}");
    // A name that matches no school is named on the page and nothing changes.
    let r = c
        .post(app.url(&format!("/contacts/{id}/school")))
        .form(&[("_csrf", csrf.as_str()), ("customer", "火星小学")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("没有匹配的记录"));
    // A school that does not exist is named on the page and nothing changes.
    let r = c
        .post(app.url(&format!("/contacts/{id}/school")))
        .form(&[("_csrf", csrf.as_str()), ("customer_id", "99999")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("学校"));
    let school = app.school2.to_string();
    let r = c
        .post(app.url(&format!("/contacts/{id}/school")))
        .form(&[("_csrf", csrf.as_str()), ("customer_id", school.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, k) = app.get_json(&agent, &format!("/api/v1/contacts/{id}")).await;
    assert_eq!(k["customer_id"], app.school2);
    assert_eq!(k["caller_email"], "someone@unknown.test", "what the form left out is kept");
    assert_eq!(k["content"], "我们学校的广播不响了");
    let (_, q) = app.get_json(&agent, "/api/v1/contacts?view=unmatched").await;
    assert_eq!(q["total"], 0);
});

both!(record_numbers_carry_the_departments_day_not_the_utc_date, |app: TestApp| async move {
    // 23:30 UTC on the 24th is 07:30 on the 25th in Shanghai, the department's zone.
    let early = Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap();
    let agent = app.token("agent").await;
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "consultation", "customer_id": app.school1,
            "content": "早上七点半来电", "received_at": early, "promised_at": early + Duration::hours(2)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["record_no"].as_str().unwrap().starts_with("KF20261125-"), "{v}");
    // A ticket opened at that moment is numbered for the same day.
    let svc = aftercare_service::Services::new(app.db.clone());
    let (actor, _) = svc.authenticate(&agent, aftercare_service::auth::SessionKind::Api).await.unwrap();
    let input = aftercare_domain::tickets::TicketInput {
        customer_id: Some(aftercare_domain::ids::CustomerId(app.school1)),
        system: Some("network".into()),
        title: Some("办公室断网".into()),
        ..Default::default()
    };
    let t = svc.create_ticket(&actor, &input, early).await.unwrap();
    assert!(t.ticket.number.starts_with("GD20261125-"), "{}", t.ticket.number);
    // In a department configured for UTC the same moment is still the 24th.
    let utc = aftercare_service::Services::new(app.db.clone()).with_tz(chrono_tz::UTC);
    let t = utc.create_ticket(&actor, &input, early).await.unwrap();
    assert!(t.ticket.number.starts_with("GD20261124-"), "{}", t.ticket.number);
});

both!(every_mistake_of_a_contact_comes_in_one_answer, |app: TestApp| async move {
    // After hours, with an unknown school, no category and no waiting time told: all four
    // are named at once, and nothing is written.
    let agent = app.token("agent").await;
    let before = contacts_count(&app).await;
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "customer_id": 999_999, "content": "x", "received_at": after_hours(),
                "caller_phone": "not a phone"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let mut fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["caller_phone", "category", "customer_id", "promised_at"], "{v}");
    assert_eq!(contacts_count(&app).await, before);
});

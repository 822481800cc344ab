//! Each role's start page: the counts it starts its day with, each opening its list; the
//! technician's stops with tap-to-call and the map; the manager's workload and month chart.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{act, user_id};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn card<'a>(home: &'a Value, key: &str) -> &'a Value {
    home["cards"].as_array().unwrap().iter().find(|c| c["key"] == key).unwrap_or_else(|| panic!("no {key} in {home}"))
}

both!(every_role_lands_on_its_own_start_page, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let eng = app.token("engineer").await;
    // Two new tickets; one goes through to a visit scheduled today for the technician.
    let mut ids = Vec::new();
    for title in ["机房交换机掉线", "班班通无信号"] {
        let body = json!({"customer_id": app.school1, "system": "network", "title": title, "reporter_name": "王老师", "reporter_phone": "139-0566-1111"});
        let (s, t) = app.post_json(&agent, "/api/v1/tickets", &body).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        ids.push(t["id"].as_i64().unwrap());
    }
    let (_, home) = app.get_json(&eng, "/api/v1/home").await;
    assert_eq!(card(&home, "triage")["count"], 2, "{home}");
    assert_eq!(card(&home, "triage")["href"], "/tickets?status=new,triage&sort=oldest");
    assert!(
        home["cards"].as_array().unwrap().iter().all(|c| c["key"] != "requisitions_to_issue"),
        "not a storekeeper's"
    );
    assert_eq!(act(&app, &eng, ids[0], "accept", json!({})).await.0, StatusCode::OK);
    let dg = json!({"fault_type": "hardware", "diagnosis": "交换机电源坏", "plan": "更换电源"});
    assert_eq!(act(&app, &eng, ids[0], "diagnose", dg).await.0, StatusCode::OK);
    let tech = user_id(&app, "tech").await;
    // Within the department's today (Asia/Shanghai), even in its last half hour: at 15:30
    // UTC half an hour on was already tomorrow there, and the card was empty.
    let now = chrono::Utc::now();
    let tz = chrono_tz::Asia::Shanghai;
    let (_, midnight) = aftercare_domain::clock::day_bounds(now.with_timezone(&tz).date_naive(), tz);
    let at = (now + chrono::Duration::minutes(30)).min(midnight - chrono::Duration::seconds(1));
    let (s, v) = act(&app, &eng, ids[0], "schedule", json!({"technician_ids": [tech], "scheduled_at": at})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // The technician: today's visit with the school's phone to tap and its address to open.
    let (c, _) = app.browser("tech").await;
    let page = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"card-my_day\""), "{page}");
    assert!(page.contains(&format!("href=\"/tickets/{}\"", ids[0])) && page.contains("机房交换机掉线"));
    assert!(page.contains("href=\"tel:13905661111\""), "tap to call the reporter");
    assert!(page.contains("https://uri.amap.com/search?keyword="), "tap to open the map");
    assert!(!page.contains("id=\"month\""), "no manager's chart on a technician's phone");
    let (_, home) = app.get_json(&app.token("tech").await, "/api/v1/home").await;
    assert_eq!(card(&home, "my_day")["count"], 1);
    assert_eq!(home["stops"][0]["site"]["town"], "城关镇");

    // The agent: a missed call to return and a complaint open, each opening its list.
    let missed = json!({"caller": "13905662222", "callee": "0566-5550000", "started_at": chrono::Utc::now() - chrono::Duration::hours(3), "ended_at": chrono::Utc::now() - chrono::Duration::hours(3)});
    assert_eq!(app.post_json(&agent, "/api/v1/telephony/calls", &missed).await.0, StatusCode::CREATED);
    let complaint = json!({"channel": "phone", "category": "complaint", "customer_id": app.school1, "content": "维修人员迟到两小时", "received_at": "2026-11-24T02:00:00Z"});
    let (s, v) = app.post_json(&agent, "/api/v1/contacts", &complaint).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, home) = app.get_json(&agent, "/api/v1/home").await;
    assert_eq!(card(&home, "calls_to_return")["count"], 1, "{home}");
    assert_eq!(card(&home, "complaints_open")["count"], 1);
    let (c, _) = app.browser("agent").await;
    let page = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("href=\"/contacts?view=missed\"") && page.contains("待回拨未接来电"), "{page}");
    let list = c.get(app.url("/contacts?view=missed")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("13905662222") || list.contains("1390566"), "the card opens the missed calls");

    // The storekeeper: requisitions, shortages and defective parts.
    let (_, home) = app.get_json(&app.token("store").await, "/api/v1/home").await;
    for key in ["requisitions_to_issue", "shortages", "defective_waiting"] {
        card(&home, key);
    }

    // The manager: breaches, reviews, the technicians' workload and this month as a chart.
    let (c, _) = app.browser("manager").await;
    let page = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    for id in ["card-sla_breached", "card-penalties_to_review", "workload", "month"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} on the manager's page");
    }
    assert!(page.contains("本月工单：2 张") && page.contains("<svg viewBox=\"0 0 480"), "the month chart");
    assert!(page.contains("href=\"/tickets?status=new\"") && page.contains("href=\"/tickets?status=scheduled\""));
    let (_, home) = app.get_json(&app.token("manager").await, "/api/v1/home").await;
    let load = home["workload"].as_array().unwrap().iter().find(|l| l["user_id"] == tech).cloned().unwrap();
    assert_eq!((load["today"].as_i64(), load["open"].as_i64()), (Some(1), Some(1)), "{home}");

    // The audit trail names the ticket by its number and says where it went, in words.
    let number =
        app.get_json(&agent, &format!("/api/v1/tickets/{}", ids[0])).await.1["number"].as_str().unwrap().to_owned();
    let audit = c.get(app.url("/admin/audit?entity=ticket")).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains(&format!("href=\"/tickets/{}\">{number} → 已派工", ids[0])), "{audit}");
    // A school lands on its portal, and has no start page in the API.
    let (c, _) = app.browser("school1").await;
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/portal");
    assert_eq!(app.get_json(&app.token("school1").await, "/api/v1/home").await.0, StatusCode::FORBIDDEN);
});

both!(every_card_on_every_start_page_opens_a_page, |app: TestApp| async move {
    // A card that leads nowhere is worse than none: each role's cards all answer 200.
    for who in ["admin", "manager", "agent", "engineer", "tech", "store"] {
        let (s, home) = app.get_json(&app.token(who).await, "/api/v1/home").await;
        assert_eq!(s, StatusCode::OK, "{who}: {home}");
        let (c, _) = app.browser(who).await;
        for card in home["cards"].as_array().unwrap() {
            let href = card["href"].as_str().unwrap();
            let r = c.get(app.url(href)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{who}: card {} leads to {href}", card["key"]);
        }
    }
});

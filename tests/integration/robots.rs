//! Group robots (企业微信 / 钉钉): notifications of a role or a person reach the group's
//! webhook — here a local HTTP server standing in for the platform — once per event, with
//! the record's link, retried when the group cannot be reached.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{act, new_ticket, user_id};
use axum::extract::{Path, State};
use axum::http::StatusCode as AxStatus;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the stand-in platform received, per hook name, and how many requests to refuse.
#[derive(Clone, Default)]
struct Platform {
    got: Arc<Mutex<Vec<(String, Value)>>>,
    refuse: Arc<AtomicUsize>,
}

impl Platform {
    fn of(&self, hook: &str) -> Vec<Value> {
        self.got.lock().unwrap().iter().filter(|(h, _)| h == hook).map(|(_, v)| v.clone()).collect()
    }
}

async fn hook(State(p): State<Platform>, Path(name): Path<String>, body: String) -> (AxStatus, String) {
    if p.refuse.load(Ordering::SeqCst) > 0 {
        p.refuse.fetch_sub(1, Ordering::SeqCst);
        return (AxStatus::INTERNAL_SERVER_ERROR, "busy".into());
    }
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    p.got.lock().unwrap().push((name, v));
    (AxStatus::OK, json!({"errcode": 0, "errmsg": "ok"}).to_string())
}

async fn platform() -> (String, Platform) {
    let p = Platform::default();
    let app = axum::Router::new().route("/hook/{name}", axum::routing::post(hook)).with_state(p.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), p)
}

/// Forwards what is new and runs every send due at `now`.
async fn deliver(svc: &aftercare_service::Services, now: chrono::DateTime<Utc>) -> usize {
    let n = svc.forward_to_robots(now).await.unwrap();
    while aftercare_jobs::run_next(svc, now).await.unwrap().is_some() {}
    n
}

both!(notifications_reach_the_group_robots_once_with_a_link_and_are_retried, |app: TestApp| async move {
    let (base, platform) = platform().await;
    let svc = aftercare_service::Services::new(app.db.clone())
        .with_words(aftercare_web::robot_words(chrono_tz::Asia::Shanghai));
    crate::common::user(&svc, "eng2", &["engineer"], None).await;
    let mgr = app.token("manager").await;
    // Who may set them, and what a robot must be.
    let good = json!({"name": "技术工程师群", "platform": "wecom", "url": format!("{base}/hook/eng?key=k1"), "role": "engineer"});
    assert_eq!(app.post_json(&app.token("agent").await, "/api/v1/robots", &good).await.0, StatusCode::FORBIDDEN);
    let (s, v) = app
        .post_json(
            &mgr,
            "/api/v1/robots",
            &json!({"name": "x", "platform": "wecom", "url": "ftp://nope", "role": "engineer", "user_id": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"url") && fields.contains(&"user_id"), "{v}");
    let (s, eng_robot) = app.post_json(&mgr, "/api/v1/robots", &good).await;
    assert_eq!(s, StatusCode::CREATED, "{eng_robot}");
    let tech = user_id(&app, "tech").await;
    let (s, v) = app
        .post_json(
            &mgr,
            "/api/v1/robots",
            &json!({"name": "技术员个人", "platform": "dingtalk", "url": format!("{base}/hook/tech"), "user_id": tech}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .send_json(
            reqwest::Method::PUT,
            &mgr,
            "/api/v1/settings/public-url",
            &json!({"public_url": "http://aftercare.test:8080/"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let now = Utc::now();

    // A consultation for the engineers: both engineers are told, their group hears it once.
    let agent = app.token("agent").await;
    let (_, k) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "consultation", "customer_id": app.school1,
            "content": "录像能否保存30天", "handling": "to_engineer", "received_at": "2026-11-24T02:00:00Z"}),
        )
        .await;
    let told = app.count("notifications").await;
    let n = deliver(&svc, now).await;
    assert!(n >= 1, "{n} sent of {told} notifications; contact {k}");
    let eng = platform.of("eng");
    assert_eq!(eng.len(), 1, "once per event: {eng:?}");
    let text = eng[0]["markdown"]["content"].as_str().unwrap();
    assert_eq!(eng[0]["msgtype"], "markdown");
    assert!(text.contains(k["record_no"].as_str().unwrap()) && text.contains("转工程师咨询"), "{text}");
    assert!(text.contains(&format!("http://aftercare.test:8080/contacts/{}", k["id"])), "links to the record: {text}");
    assert!(platform.of("tech").is_empty(), "the technician's robot hears only the technician");

    // The technician is scheduled: his DingTalk robot hears it, with the ticket's link.
    let (t, _) = new_ticket(&app, "ROBOT-1", false).await;
    let id = t["id"].as_i64().unwrap();
    let e = app.token("engineer").await;
    act(&app, &e, id, "accept", json!({})).await;
    act(&app, &e, id, "diagnose", json!({"fault_type": "hardware", "diagnosis": "坏盘", "plan": "换盘"})).await;
    let (s, _) =
        act(&app, &e, id, "schedule", json!({"technician_ids": [tech], "scheduled_at": "2030-12-01T01:00:00Z"})).await;
    assert_eq!(s, StatusCode::OK);
    deliver(&svc, now).await;
    let got = platform.of("tech");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["markdown"]["title"], "售后服务通知");
    let text = got[0]["markdown"]["text"].as_str().unwrap();
    assert!(text.contains(t["number"].as_str().unwrap()) && text.contains(&format!("/tickets/{id}")), "{text}");

    // The group cannot be reached: the message waits and goes on the retry.
    platform.refuse.store(1, Ordering::SeqCst);
    let (s, _) = app
        .post_json(&agent, &format!("/api/v1/tickets/{id}/agreed-visit"), &json!({"agreed_at": "2030-12-02T01:30:00Z"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    deliver(&svc, now).await;
    assert_eq!(platform.of("tech").len(), 1, "refused the first time");
    while aftercare_jobs::run_next(&svc, now + Duration::seconds(31)).await.unwrap().is_some() {}
    let got = platform.of("tech");
    assert_eq!(got.len(), 2, "delivered on the retry");
    assert!(got[1]["markdown"]["text"].as_str().unwrap().contains("2030-12-02 09:30"), "{got:?}");
    // Nothing is sent twice.
    assert_eq!(deliver(&svc, now + Duration::seconds(60)).await, 0);

    // A robot switched off hears nothing more.
    let (s, _) =
        app.send_json(reqwest::Method::DELETE, &mgr, &format!("/api/v1/robots/{}", eng_robot["id"]), &json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    app.post_json(&agent, "/api/v1/contacts", &json!({"channel": "phone", "category": "consultation", "content": "再问一次", "received_at": "2026-11-24T02:00:00Z",
        "handling": "to_engineer"}))
        .await;
    deliver(&svc, now + Duration::seconds(90)).await;
    assert_eq!(platform.of("eng").len(), 1);
    // The settings page masks the group's key.
    let (c, _) = app.browser("manager").await;
    let html = c.get(app.url("/settings/robots")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("技术工程师群") && !html.contains("key=k1"), "the key stays hidden");
});

both!(housekeeping_removes_old_finished_jobs_but_keeps_the_given_up, |app: TestApp| async move {
    // The forwarder adds a finished job every few seconds; a week's worth is enough to keep.
    let db = &app.db;
    let now = Utc::now();
    let old = aftercare_store::jobs::enqueue(db, "robot_forward", "{}", now - Duration::days(9)).await.unwrap();
    aftercare_store::jobs::finish(db, old, now - Duration::days(8)).await.unwrap();
    let recent = aftercare_store::jobs::enqueue(db, "robot_forward", "{}", now - Duration::hours(1)).await.unwrap();
    aftercare_store::jobs::finish(db, recent, now - Duration::hours(1)).await.unwrap();
    let given_up = aftercare_store::jobs::enqueue(db, "send_robot", "{}", now - Duration::days(9)).await.unwrap();
    aftercare_store::mail::give_up_job(db, given_up, "robot refused", now - Duration::days(8)).await.unwrap();
    let waiting = aftercare_store::jobs::enqueue(db, "send_robot", "{}", now - Duration::days(9)).await.unwrap();
    let before = app.count("jobs").await;
    assert_eq!(aftercare_store::jobs::purge_done(db, now - Duration::days(7)).await.unwrap(), 1);
    assert_eq!(app.count("jobs").await, before - 1);
    let left: Vec<i64> = match db {
        aftercare_store::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT id FROM jobs ORDER BY id").fetch_all(p).await.unwrap()
        }
        aftercare_store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT id FROM jobs ORDER BY id").fetch_all(p).await.unwrap()
        }
    };
    assert!(!left.contains(&old) && [recent, given_up, waiting].iter().all(|j| left.contains(j)), "{left:?}");
});

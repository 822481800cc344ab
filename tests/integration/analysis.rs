//! Data analysis and rectifications: a period's faults by every grouping beside the period
//! before, the hot spots, rectifications from proposal to done with their effect, the
//! pages, every bad input and every role.

use crate::both;
use crate::common::TestApp;
use crate::tickets::user_id;
use aftercare_store::Db;
use chrono::{DateTime, Duration, Utc};
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

/// Moves a ticket's report (and resolution, `hours` later) to `at`; `repeat_of` marks it a
/// repeat repair.
async fn set_ticket(app: &TestApp, id: i64, at: DateTime<Utc>, hours: Option<i64>, repeat_of: Option<i64>) {
    let resolved = hours.map(|h| at + Duration::hours(h));
    let sql = "UPDATE tickets SET created_at = $1, resolved_at = $2, repeat_of = $3 WHERE id = $4";
    match &app.db {
        Db::Sqlite(p) => {
            sqlx::query(sql).bind(at).bind(resolved).bind(repeat_of).bind(id).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).bind(at).bind(resolved).bind(repeat_of).bind(id).execute(p).await.unwrap();
        }
    }
}

async fn ticket(app: &TestApp, school: i64, system: &str, equipment: Option<i64>) -> i64 {
    let mut body = json!({"customer_id": school, "system": system, "title": "故障", "reporter_name": "王老师"});
    if let Some(e) = equipment {
        body["equipment_ids"] = json!([e]);
    }
    let (s, t) = app.post_json(&app.token("agent").await, "/api/v1/tickets", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t["id"].as_i64().unwrap()
}

/// Five faults in March 2030 (school 1: three on one camera, one a repeat; school 2: a
/// network fault and a fault without a device), two in February.
async fn faults(app: &TestApp) -> (i64, Vec<i64>) {
    let agent = app.token("agent").await;
    let cam =
        app.equipment(&agent, app.school1, "surveillance", "网络摄像机", "AN-CAM-1").await["id"].as_i64().unwrap();
    let march = DateTime::parse_from_rfc3339("2030-03-10T02:00:00Z").unwrap().with_timezone(&Utc);
    let mut ids = Vec::new();
    for (n, (school, system, eq)) in [
        (app.school1, "surveillance", Some(cam)),
        (app.school1, "surveillance", Some(cam)),
        (app.school1, "surveillance", Some(cam)),
        (app.school2, "network", None),
        (app.school2, "broadcast", None),
    ]
    .into_iter()
    .enumerate()
    {
        let id = ticket(app, school, system, eq).await;
        let repeat = if n == 2 { Some(ids[0]) } else { None };
        set_ticket(app, id, march + Duration::days(n as i64), Some(4 + 2 * n as i64), repeat).await;
        ids.push(id);
    }
    for d in [3, 20] {
        let id = ticket(app, app.school2, "network", None).await;
        set_ticket(app, id, march - Duration::days(d + 10), None, None).await;
    }
    (cam, ids)
}

both!(a_periods_faults_are_grouped_every_way_beside_the_period_before, |app: TestApp| async move {
    let (cam, _) = faults(&app).await;
    let eng = app.token("engineer").await;
    let get = |q: &str| {
        let eng = eng.clone();
        let app = &app;
        let q = q.to_owned();
        async move { app.get_json(&eng, &format!("/api/v1/analysis/faults?from=2030-03-01&to=2030-03-31&{q}")).await }
    };
    let (s, v) = get("by=system").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["total"].as_i64(), v["repeat"].as_i64()), (Some(5), Some(1)), "{v}");
    assert_eq!(v["previous"]["tickets"], 2, "February: {v}");
    assert_eq!(v["previous"]["from"], "2030-01-29", "as long, just before");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows[0]["key"], "surveillance", "most first: {v}");
    assert_eq!((rows[0]["tickets"].as_i64(), rows[0]["repeat"].as_i64()), (Some(3), Some(1)));
    // Resolved after 4, 6 and 8 hours: a mean of 6.
    assert!((rows[0]["mean_hours_to_fix"].as_f64().unwrap() - 6.0).abs() < 0.01, "{v}");
    let (_, v) = get("by=town").await;
    let towns: Vec<(&str, i64)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["tickets"].as_i64().unwrap()))
        .collect();
    assert_eq!(towns, [("城关镇", 3), ("蓉城镇", 2)]);
    let (_, v) = get("by=customer").await;
    assert_eq!(v["rows"][0]["label"], "城关镇中心小学");
    assert_eq!(v["rows"][0]["key"], app.school1.to_string());
    let (_, v) = get("by=model").await;
    let models: Vec<i64> = v["rows"].as_array().unwrap().iter().map(|r| r["tickets"].as_i64().unwrap()).collect();
    assert_eq!(models, [3], "only tickets with a device have a model: {v}");
    for by in ["fault_type", "subcategory", "technician", "engineer"] {
        let (s, v) = get(&format!("by={by}")).await;
        assert_eq!(s, StatusCode::OK, "{by}: {v}");
        assert_eq!(v["total"], 5);
    }
    // The hot spots: the camera with three faults, the schools most first.
    let (s, h) = app.get_json(&eng, "/api/v1/analysis/hotspots?from=2030-03-01&to=2030-03-31").await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(
        (h["equipment"][0]["equipment_id"].as_i64(), h["equipment"][0]["tickets"].as_i64()),
        (Some(cam), Some(3))
    );
    assert_eq!(h["schools"][0]["key"], app.school1.to_string());
    // An empty period: no faults, no rate.
    let (_, v) = app.get_json(&eng, "/api/v1/analysis/faults?from=2031-01-01&to=2031-01-31").await;
    assert_eq!((v["total"].as_i64(), v["rows"].as_array().map(Vec::len)), (Some(0), Some(0)));
    assert!(v["mean_hours_to_fix"].is_null());
    // Bad input is named; a school sees none of it.
    let (s, e) = app.get_json(&eng, "/api/v1/analysis/faults?by=colour&from=2030-03-31&to=2030-03-01").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let mut f = fields(&e);
    f.sort();
    assert_eq!(f, ["by", "to"]);
    assert!(e["error"]["message"].as_str().unwrap().contains("不能早于开始日期"), "{e}");
    for path in ["/api/v1/analysis/faults", "/api/v1/analysis/hotspots", "/api/v1/rectifications"] {
        assert_eq!(app.get_json(&app.token("school1").await, path).await.0, StatusCode::FORBIDDEN, "{path}");
    }
});

both!(a_rectification_runs_from_a_hot_spot_to_done_with_its_effect, |app: TestApp| async move {
    let (cam, _) = faults(&app).await;
    let eng = app.token("engineer").await;
    let tech = user_id(&app, "tech").await;
    let body = json!({"title": "更换故障多发摄像机", "source": "hotspot", "equipment_id": cam, "owner_id": tech, "due_on": "2030-04-30"});
    // Only the engineer and the manager propose.
    assert_eq!(app.post_json(&app.token("tech").await, "/api/v1/rectifications", &body).await.0, StatusCode::FORBIDDEN);
    let (s, r) = app.post_json(&eng, "/api/v1/rectifications", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    assert_eq!(
        (r["status"].as_str(), r["customer_id"].as_i64()),
        (Some("proposed"), Some(app.school1)),
        "the device's school"
    );
    assert_eq!(r["actions"], json!([]), "the engineer does not decide");
    assert!(r["faults_after"].is_null());
    let act = |who: &'static str, a: &'static str, body: Value| {
        let app = &app;
        async move { app.post_json(&app.token(who).await, &format!("/api/v1/rectifications/{id}/actions/{a}"), &body).await }
    };
    assert_eq!(act("engineer", "accept", json!({})).await.0, StatusCode::FORBIDDEN);
    let (s, e) = act("manager", "reject", json!({})).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_owned()]), "a rejection says why");
    assert_eq!(act("tech", "done", json!({})).await.0, StatusCode::CONFLICT, "not accepted yet");
    let (s, r) = act("manager", "accept", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "open");
    assert_eq!(act("manager", "accept", json!({})).await.0, StatusCode::CONFLICT, "once");
    // The queues: open, the owner's, overdue once its day has passed (2030 is ahead).
    let (_, l) = app.get_json(&eng, "/api/v1/rectifications?scope=open").await;
    assert_eq!(l["total"], 1);
    let (_, l) = app.get_json(&app.token("tech").await, "/api/v1/rectifications?scope=mine").await;
    assert_eq!(l["total"], 1);
    let (_, l) = app.get_json(&eng, "/api/v1/rectifications?scope=overdue").await;
    assert_eq!(l["total"], 0);
    let (s, e) = app.get_json(&eng, "/api/v1/rectifications?scope=later").await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["scope".to_owned()]));
    // The owner finishes it; the effect counts the device's faults before and since.
    let (s, r) = act("tech", "done", json!({"reason": "已更换摄像机并加装防雷器"})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!((r["status"].as_str(), r["done_note"].as_str()), (Some("done"), Some("已更换摄像机并加装防雷器")));
    assert_eq!(r["faults_after"], 0);
    // Bad proposals are named and write nothing.
    let school_user = user_id(&app, "school1").await;
    let other = app.equipment(&app.token("agent").await, app.school2, "network", "交换机", "AN-SW-2").await["id"]
        .as_i64()
        .unwrap();
    for (body, want) in [
        (json!({"title": "无对象"}), vec!["customer_id"]),
        (json!({"title": "x", "customer_id": app.school1, "equipment_id": other}), vec!["equipment_id"]),
        (json!({"title": "x", "customer_id": app.school1, "owner_id": school_user}), vec!["owner_id"]),
        (json!({"title": "x", "customer_id": app.school1, "hazard_item_id": 1}), vec!["inspection_id"]),
        (json!({"title": "x", "customer_id": 99999}), vec!["customer_id"]),
        (json!({"title": "x", "system": "magic", "due_on": "2030-02-30"}), vec!["due_on", "system"]),
    ] {
        let (s, e) = app.post_json(&eng, "/api/v1/rectifications", &body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        let mut got = fields(&e);
        got.sort();
        assert_eq!(got, want, "{body}: {e}");
    }
    assert_eq!(app.count("rectifications").await, 1);
    // A rejection keeps its reason.
    let (_, r2) = app
        .post_json(&eng, "/api/v1/rectifications", &json!({"title": "广播系统统一升级", "system": "broadcast"}))
        .await;
    let id2 = r2["id"].as_i64().unwrap();
    let (s, r2) = app
        .post_json(
            &app.token("manager").await,
            &format!("/api/v1/rectifications/{id2}/actions/reject"),
            &json!({"reason": "预算不足，下学期再议"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r2}");
    assert_eq!((r2["status"].as_str(), r2["reject_reason"].as_str()), (Some("rejected"), Some("预算不足，下学期再议")));
});

both!(the_analysis_and_rectification_pages_work_in_both_languages, |app: TestApp| async move {
    let (cam, _) = faults(&app).await;
    let (eng, csrf) = app.browser("engineer").await;
    let html = eng.get(app.url("/analysis?from=2030-03-01&to=2030-03-31")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("id=\"faults-table\""), "a chart and its table");
    assert!(html.contains(&format!("id=\"rect-equipment-{cam}\"")), "one click from the hot device");
    let r = eng.get(app.url("/analysis/faults.xlsx?from=2030-03-01&to=2030-03-31&by=town")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = eng.get(app.url("/analysis?from=2030-03-31&to=2030-03-01")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The form from the hot spot, a bad post, then the proposal.
    let form_url = format!("/rectifications/new?source=hotspot&equipment_id={cam}&title=x");
    let html = eng.get(app.url(&form_url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("name=\"equipment_id\" value=\"{cam}\"")), "the device carried");
    let cam_s = cam.to_string();
    let r = eng
        .post(app.url("/rectifications/new"))
        .form(&[("_csrf", csrf.as_str()), ("source", "hotspot"), ("equipment_id", cam_s.as_str()), ("title", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = eng
        .post(app.url("/rectifications/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("source", "hotspot"),
            ("equipment_id", cam_s.as_str()),
            ("title", "摄像机加装防雷器"),
            ("due_on", "2030-04-30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = to.trim_start_matches("/rectifications/").split('?').next().unwrap().parse().unwrap();
    let (mgr, mcsrf) = app.browser("manager").await;
    let html = mgr.get(app.url(&format!("/rectifications/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"rect-accept\"") && html.contains("提出前 90 天故障"), "the decision and the effect");
    let r = mgr
        .post(app.url(&format!("/rectifications/{id}/act/accept")))
        .form(&[("_csrf", mcsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = mgr.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("id=\"card-rectifications_to_decide\""), "the manager's card");
    for lang in ["zh-CN", "en"] {
        crate::defective::speak(&app, "manager", lang).await;
        let (mgr, _) = app.browser("manager").await;
        for path in [
            "/analysis?from=2030-03-01&to=2030-03-31".to_owned(),
            "/analysis?from=2030-03-01&to=2030-03-31&by=subcategory".into(),
            "/analysis?from=2030-03-01&to=2030-03-31&by=model".into(),
            "/rectifications".into(),
            "/rectifications?view=open".into(),
            "/rectifications/new".into(),
            format!("/rectifications/{id}"),
            "/hazards".into(),
        ] {
            let r = mgr.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let html = r.text().await.unwrap();
            for key in ["analysis.", "rect.", "rect_status.", "rect_source.", "field."] {
                assert!(
                    !html.contains(&format!(">{key}")) && !html.contains(&format!("\"{key}")),
                    "{path}: untranslated {key}"
                );
            }
            if lang == "en" {
                assert!(
                    !html.contains("故障数") && !html.contains("整改项"),
                    "{path}: Chinese left in the English page"
                );
            }
        }
    }
    let (school, _) = app.browser("school1").await;
    assert_eq!(school.get(app.url("/analysis")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
});

both!(the_months_kpis_sit_beside_the_month_before, |app: TestApp| async move {
    faults(&app).await;
    let mgr = app.token("manager").await;
    let (s, k) = app.get_json(&mgr, "/api/v1/analysis/kpis?month=2030-03").await;
    assert_eq!(s, StatusCode::OK, "{k}");
    let row = |k: &Value, key: &str| k["rows"].as_array().unwrap().iter().find(|r| r["kpi"] == key).cloned().unwrap();
    assert_eq!(k["counts"]["tickets"], 5);
    assert_eq!(row(&k, "repeat_repair")["value"].as_f64(), Some(20.0), "1 of 5");
    assert_eq!(row(&k, "repeat_repair")["previous"].as_f64(), Some(0.0), "0 of February's 2");
    // Resolved after 4, 6, 8, 10 and 12 hours.
    assert_eq!(row(&k, "mean_hours_to_fix")["value"].as_f64(), Some(8.0));
    assert!(row(&k, "mean_hours_to_fix")["previous"].is_null(), "nothing resolved in February: no mean");
    assert!(row(&k, "missed_call")["value"].is_null(), "no calls: no rate");
    assert_eq!(row(&k, "mean_hours_to_fix")["unit"], "h");
    // The desk, the rounds and the warehouse of March 2030, written as they would be.
    let (s1, s2) = (app.school1, app.school2);
    let call = |n: &str, at: &str, answered: bool, wait: &str, school: i64, cat: &str, handling: &str, back: &str| {
        format!(
            "INSERT INTO contacts (record_no, channel, direction, received_at, answered, wait_seconds, customer_id, \
             category, content, handling, called_back_at, created_at) VALUES ('KPI-{n}', 'phone', 'inbound', \
             '{at}', {answered}, {wait}, {school}, '{cat}', '来电', {handling}, {back}, '{at}')"
        )
    };
    // a: a repair settled on the call, but the school calls again 3 days later (b);
    // c: a question settled, and the school not back for 9 days; d, e: missed, e called back.
    for sql in [
        call("a", "2030-03-05T02:00:00+00:00", true, "5", s1, "repair", "'answered'", "NULL"),
        call("b", "2030-03-08T02:00:00+00:00", true, "40", s1, "consultation", "'ticket'", "NULL"),
        call("c", "2030-03-20T02:00:00+00:00", true, "10", s2, "consultation", "'answered'", "NULL"),
        call("d", "2030-03-29T02:00:00+00:00", false, "NULL", s2, "other", "NULL", "NULL"),
        call("e", "2030-03-30T02:00:00+00:00", false, "NULL", s2, "other", "NULL", "'2030-03-30T02:10:00+00:00'"),
    ] {
        crate::shortages::exec(&app.db, &sql).await;
    }
    crate::shortages::exec(
        &app.db,
        &format!(
            "INSERT INTO inspections (number, customer_id, phase, systems, status, planned_on, completed_at, \
         hazards_found, hazards_resolved, created_at, updated_at) VALUES ('XJ-KPI-1', {s1}, 'mid', 'network', \
         'completed', '2030-03-12', '2030-03-12T08:00:00+00:00', 4, 1, '2030-03-01T00:00:00+00:00', \
         '2030-03-12T08:00:00+00:00')"
        ),
    )
    .await;
    crate::shortages::exec(
        &app.db,
        "INSERT INTO inspection_systems (inspection_id, system, devices, devices_ok, latest) \
         SELECT id, 'network', 10, 9, TRUE FROM inspections WHERE number = 'XJ-KPI-1'",
    )
    .await;
    let (s, k) = app.get_json(&mgr, "/api/v1/analysis/kpis?month=2030-03").await;
    assert_eq!(s, StatusCode::OK, "{k}");
    assert_eq!(row(&k, "calls_answered_fast")["value"].as_f64(), Some(40.0), "a and c of five within 20 s");
    assert_eq!(row(&k, "missed_call")["value"].as_f64(), Some(40.0));
    assert_eq!(row(&k, "missed_called_back")["value"].as_f64(), Some(50.0), "e of d and e");
    assert_eq!(row(&k, "first_contact_resolution")["value"].as_f64(), Some(33.3), "c of a, b and c");
    assert_eq!(row(&k, "device_availability")["value"].as_f64(), Some(90.0));
    assert_eq!(row(&k, "hazards_resolved")["value"].as_f64(), Some(25.0));
    assert!(row(&k, "tickets_per_technician")["value"].is_null(), "no visits: nobody to divide by");
    assert!(row(&k, "defective_return")["value"].is_null(), "no parts fitted");
    assert_eq!(row(&k, "parts_turnover")["unit"], "×");
    let (s, e) = app.get_json(&mgr, "/api/v1/analysis/kpis?month=2030-13").await;
    assert_eq!((s, e["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("month")));
    assert_eq!(app.get_json(&app.token("tech").await, "/api/v1/analysis/kpis").await.0, StatusCode::FORBIDDEN);
    for lang in ["zh-CN", "en"] {
        crate::defective::speak(&app, "manager", lang).await;
        let (c, _) = app.browser("manager").await;
        let r = c.get(app.url("/analysis/kpis?month=2030-03")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"kpi-first_time_fix\"") && html.contains("20%"), "the table");
        assert!(!html.contains(">kpi.") && !html.contains("\"kpi."), "untranslated");
        // The month's pack: KPIs, charts, hot spots, open rectifications; on A4 and in Excel.
        let html = c.get(app.url("/analysis/pack?month=2030-03")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"pack-kpis\"") && html.contains("<svg") && html.contains("AN-CAM-1"), "the pack");
        assert!(!html.contains(">pack.") && !html.contains(">kpi."), "untranslated");
        let r = c.get(app.url("/analysis/pack.xlsx?month=2030-03")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
    // The data-analysis meeting carries the month's pack.
    let (s, m) = app
        .post_json(
            &app.token("engineer").await,
            "/api/v1/meetings",
            &json!({"kind": "analysis", "held_on": "2030-04-03"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(
        (m["material"]["from"].as_str(), m["material"]["to"].as_str()),
        (Some("2030-03-01"), Some("2030-03-31"))
    );
    assert_eq!(m["material"]["faults"], 5);
    let (c, _) = app.browser("engineer").await;
    let html = c.get(app.url(&format!("/meetings/{}", m["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("/analysis/pack?month=2030-03"), "the pack attached");
});

both!(a_past_month_is_kept_and_counted_again_when_its_tickets_change, |app: TestApp| async move {
    use chrono::Datelike;
    let mgr = app.token("manager").await;
    // The month before last: whole, and past.
    let first_this = Utc::now().date_naive().with_day(1).unwrap();
    let last = first_this.pred_opt().unwrap().with_day(1).unwrap().pred_opt().unwrap();
    let first = last.with_day(1).unwrap();
    let at = first.and_hms_opt(4, 0, 0).unwrap().and_utc() + Duration::days(9);
    let t1 = ticket(&app, app.school1, "network", None).await;
    set_ticket(&app, t1, at, Some(5), None).await;
    let path = format!("/api/v1/analysis/faults?by=system&from={first}&to={last}");
    let (s, v) = app.get_json(&mgr, &path).await;
    assert_eq!((s, v["total"].as_i64(), v["mean_hours_to_fix"].as_f64()), (StatusCode::OK, Some(1), Some(5.0)), "{v}");
    let kept = format!("SELECT COUNT(*) FROM fault_months WHERE grouped_by = 'system' AND month = '{first}'");
    assert_eq!(crate::shortages::scalar(&app.db, &kept).await, 1, "the whole past month is kept, its one group");
    // A kept month is read, not counted again: a change behind the application's back is
    // not seen...
    set_ticket(&app, t1, at, Some(7), None).await;
    let (_, v) = app.get_json(&mgr, &path).await;
    assert_eq!(v["mean_hours_to_fix"].as_f64(), Some(5.0), "read from the kept month: {v}");
    // ...but a ticket's change through the application drops the month: a new ticket
    // (its creation is an event) moved into it.
    let t2 = ticket(&app, app.school2, "broadcast", None).await;
    set_ticket(&app, t2, at + Duration::days(1), Some(9), None).await;
    let (_, v) = app.get_json(&mgr, &path).await;
    assert_eq!((v["total"].as_i64(), v["mean_hours_to_fix"].as_f64()), (Some(2), Some(8.0)), "counted again: {v}");
    // The kept month and the live days around it add up like one count: a period from
    // mid-month before it to today, every grouping.
    let from = first - Duration::days(15);
    let today = Utc::now().date_naive();
    for by in ["system", "fault_type", "subcategory", "town", "customer", "model", "technician", "engineer"] {
        let (s, v) = app.get_json(&mgr, &format!("/api/v1/analysis/faults?by={by}&from={from}&to={today}")).await;
        assert_eq!(s, StatusCode::OK, "{by}: {v}");
        let sum: i64 = v["rows"].as_array().unwrap().iter().map(|r| r["tickets"].as_i64().unwrap()).sum();
        match by {
            "model" | "technician" => assert_eq!(sum, 0, "{by}: no devices or technicians on these tickets"),
            _ => assert_eq!((by, v["total"].as_i64(), sum), (by, Some(2), 2), "{v}"),
        }
    }
    assert!(
        crate::shortages::scalar(&app.db, "SELECT COUNT(*) FROM fault_month_counts").await >= 8,
        "each grouping's whole month is kept"
    );
});

both!(a_persons_scorecard_month_by_month, |app: TestApp| async move {
    let tech = user_id(&app, "tech").await;
    let mgr = app.token("manager").await;
    let path = format!("/api/v1/analysis/people/{tech}?month=2030-03&months=3");
    let (s, v) = app.get_json(&mgr, &path).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let months: Vec<&str> = v["months"].as_array().unwrap().iter().map(|m| m["month"].as_str().unwrap()).collect();
    assert_eq!(months, ["2030-01-01", "2030-02-01", "2030-03-01"], "oldest first, up to the month asked");
    assert_eq!(v["months"][2]["card"]["tickets_visited"], 0);
    // The engineer reads anyone's; a technician his own and nobody else's; a school none.
    assert_eq!(app.get_json(&app.token("engineer").await, &path).await.0, StatusCode::OK);
    assert_eq!(app.get_json(&app.token("tech").await, &path).await.0, StatusCode::OK);
    let other = format!("/api/v1/analysis/people/{}?month=2030-03", user_id(&app, "engineer").await);
    assert_eq!(app.get_json(&app.token("tech").await, &other).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get_json(&app.token("school1").await, &path).await.0, StatusCode::FORBIDDEN);
    // Bad input.
    let (s, e) = app.get_json(&mgr, &format!("/api/v1/analysis/people/{tech}?months=25")).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["months".to_owned()]));
    let (s, e) = app.get_json(&mgr, &format!("/api/v1/analysis/people/{tech}?month=2030-13")).await;
    assert_eq!((s, fields(&e)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["month".to_owned()]));
    assert_eq!(app.get_json(&mgr, "/api/v1/analysis/people/999999").await.0, StatusCode::NOT_FOUND);
    // The page, with its columns and table, in both languages, and its workbook.
    for lang in ["zh-CN", "en"] {
        crate::defective::speak(&app, "engineer", lang).await;
        let (c, _) = app.browser("engineer").await;
        let r = c.get(app.url(&format!("/analysis/people?user={tech}&month=2030-03"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"people-table\"") && html.contains("id=\"people-2030-03\""), "the table");
        assert_eq!(html.matches("<figure class=\"chart\">").count(), 3, "three trends");
        assert!(!html.contains(">people.") && !html.contains(">score."), "untranslated");
        let r = c.get(app.url(&format!("/analysis/people.xlsx?user={tech}&month=2030-03"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    }
});

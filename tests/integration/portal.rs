//! The school portal: a school user sees and touches only its own school (pages and API),
//! reports a fault with photos that staff see too, and confirms and rates the repair —
//! which is the ticket's callback when it comes before the agent's call.

use crate::both;
use crate::common::{TestApp, hidden};
use crate::tickets::{act, user_id, visit};
use base64::Engine;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00 a tiny jpeg";

fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(PNG).unwrap()
}

/// The report form as a browser sends it.
fn report(csrf: &str, fields: &[(&str, &str)], photos: Vec<(&str, &str, Vec<u8>)>) -> Form {
    let mut f = Form::new().text("_csrf", csrf.to_owned());
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    for (name, mime, bytes) in photos {
        f = f.part("photos", Part::bytes(bytes).file_name(name.to_owned()).mime_str(mime).unwrap());
    }
    f
}

async fn text(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Takes a ticket from new to resolved as staff: accepted, diagnosed, scheduled with
/// `tech`, visited with the school's signature, resolved.
async fn to_resolved(app: &TestApp, id: i64) {
    let eng = app.token("engineer").await;
    let tech = app.token("tech").await;
    assert_eq!(act(app, &eng, id, "accept", json!({})).await.0, StatusCode::OK);
    let (s, v) = act(
        app,
        &eng,
        id,
        "diagnose",
        json!({"fault_type": "hardware", "diagnosis": "电源板损坏", "plan": "更换电源板"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let tech_id = user_id(app, "tech").await;
    let (s, v) =
        act(app, &eng, id, "schedule", json!({"technician_ids": [tech_id], "scheduled_at": "2026-12-01T01:00:00Z"}))
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(act(app, &tech, id, "start", json!({})).await.0, StatusCode::OK);
    let (s, v) = app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &visit("fixed", true)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = act(app, &tech, id, "resolve", json!({"resolution": "更换电源板，开机正常"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("resolved")), "{v}");
}

async fn school_ticket(app: &TestApp, title: &str) -> i64 {
    let school = app.token("school1").await;
    let (s, t) = app
        .post_json(
            &school,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "title": title, "system": "classroom"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    t["id"].as_i64().unwrap()
}

async fn ticket(app: &TestApp, id: i64) -> Value {
    app.get_json(&app.token("agent").await, &format!("/api/v1/tickets/{id}")).await.1
}

async fn callback_queue(app: &TestApp) -> Vec<i64> {
    let (_, q) = app.get_json(&app.token("agent").await, "/api/v1/tickets?view=callback").await;
    q["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

both!(the_portal_shows_a_school_only_its_own, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let mine = app.equipment(&agent, app.school1, "classroom", "交互式一体机", "PORTAL-S1-1").await;
    let theirs = app.equipment(&agent, app.school2, "classroom", "投影仪", "PORTAL-S2-1").await;
    let open = |school: i64, eq: &Value, title: &str| {
        let body = json!({"customer_id": school, "equipment_ids": [eq["id"]], "title": title});
        let app = app.clone();
        let agent = agent.clone();
        async move {
            let (s, t) = app.post_json(&agent, "/api/v1/tickets", &body).await;
            assert_eq!(s, StatusCode::CREATED, "{t}");
            t["id"].as_i64().unwrap()
        }
    };
    let t1 = open(app.school1, &mine, "一楼一体机黑屏").await;
    let t2 = open(app.school2, &theirs, "二中投影仪不亮").await;

    // Signing in lands on the portal, which lists the school's own tickets in words.
    let (c, csrf) = app.browser("school1").await;
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/portal");
    let (s, home) = text(&c, &app, "/portal").await;
    assert_eq!(s, StatusCode::OK);
    assert!(home.contains("城关镇中心小学") && home.contains("我要报修") && home.contains("id=\"report-fault\""));
    assert!(home.contains("一楼一体机黑屏") && home.contains("已提交，待受理"), "{home}");
    assert!(!home.contains("二中投影仪不亮"));
    // The report form offers only the school's equipment and knows who reports.
    let (_, form) = text(&c, &app, "/portal/report").await;
    assert!(form.contains("PORTAL-S1-1") && !form.contains("PORTAL-S2-1"));
    // The school's shared login has no phone: the school's contact person is prefilled.
    assert!(
        form.contains("value=\"城关镇王老师\"") && form.contains("value=\"13905661111\""),
        "the reporter is prefilled"
    );
    // Another school's ticket does not exist for this one, on pages and in the API.
    assert_eq!(text(&c, &app, &format!("/portal/tickets/{t2}")).await.0, StatusCode::NOT_FOUND);
    let (s, page) = text(&c, &app, &format!("/portal/tickets/{t1}")).await;
    assert!(s == StatusCode::OK && page.contains("一楼一体机黑屏"));
    let school = app.token("school1").await;
    for path in [format!("/api/v1/tickets/{t2}"), format!("/api/v1/tickets/{t2}/attachments")] {
        assert_eq!(app.get_json(&school, &path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = act(&app, &school, t2, "callback", json!({"satisfaction": 5, "resolved": true})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = c
        .post(app.url(&format!("/portal/tickets/{t2}/confirm")))
        .form(&[("_csrf", csrf.as_str()), ("resolved", "true"), ("satisfaction", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .post(app.url(&format!("/portal/tickets/{t2}/comment")))
        .form(&[("_csrf", csrf.as_str()), ("body", "看得到吗")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Another school's equipment cannot be picked: the report is refused naming the field,
    // and nothing is written.
    let before = app.count("tickets").await;
    let theirs_id = theirs["id"].to_string();
    let r = c
        .post(app.url("/portal/report"))
        .multipart(report(&csrf, &[("equipment_id", &theirs_id), ("title", "借用别校设备")], vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("设备：不存在"), "the field is named");
    assert!(page.contains("借用别校设备"), "what was typed is kept");
    let (s, e) = app
        .post_json(
            &school,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "equipment_ids": [theirs["id"]], "title": "借用别校设备"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"][0]["field"], "equipment_ids[0]");
    assert_eq!(app.count("tickets").await, before);

    // Staff have their own pages; the school's other pages keep their scope.
    let (ac, _) = app.browser("agent").await;
    assert_eq!(text(&ac, &app, "/portal").await.0, StatusCode::FORBIDDEN);
    assert_eq!(text(&ac, &app, "/portal/report").await.0, StatusCode::FORBIDDEN);
    assert_eq!(text(&c, &app, &format!("/customers/{}", app.school2)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(text(&c, &app, &format!("/tickets/{t2}")).await.0, StatusCode::NOT_FOUND);
    assert!(!text(&c, &app, "/callbacks").await.1.contains("二中投影仪不亮"));
});

both!(a_report_with_photos_reaches_staff_and_stays_with_the_school, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let cam = app.equipment(&agent, app.school1, "surveillance", "枪式摄像机", "PORTAL-CAM-1").await;
    let (c, csrf) = app.browser("school1").await;
    let cam_id = cam["id"].to_string();
    let fields = [
        ("equipment_id", cam_id.as_str()),
        ("system", ""),
        ("title", "校门口摄像头没有画面"),
        ("description", "昨天下雨后就黑屏了"),
        ("reporter_name", "李老师"),
        ("reporter_phone", "13905661111"),
    ];

    // A text file dressed as a photo is refused, naming the photo; nothing is written.
    let (tickets, files) = (app.count("tickets").await, app.count("ticket_attachments").await);
    let r = c
        .post(app.url("/portal/report"))
        .multipart(report(&csrf, &fields, vec![("门口.jpg", "image/jpeg", b"not a photo at all".to_vec())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("第 1 张照片：不是图片文件"));
    // So is a photo over 5 MB, and more than six photos at once.
    let mut big = JPEG.to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let r = c
        .post(app.url("/portal/report"))
        .multipart(report(&csrf, &fields, vec![("小.png", "image/png", png()), ("大.jpg", "image/jpeg", big)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("第 2 张照片：文件太大"), "{body}");
    let seven = (0..7).map(|_| ("p.png", "image/png", png())).collect();
    let r = c.post(app.url("/portal/report")).multipart(report(&csrf, &fields, seven)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("照片：文件数量过多"));
    assert_eq!((app.count("tickets").await, app.count("ticket_attachments").await), (tickets, files));

    // With two real photos the ticket is opened from the portal.
    let photos = vec![("门口.png", "image/png", png()), ("近景.jpg", "image/jpeg", JPEG.to_vec())];
    let r = c.post(app.url("/portal/report")).multipart(report(&csrf, &fields, photos)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("/portal/tickets/") && loc.ends_with("?ok=reported"), "{loc}");
    let id: i64 = loc.trim_start_matches("/portal/tickets/").split('?').next().unwrap().parse().unwrap();
    let (_, page) = text(&c, &app, &loc).await;
    assert!(page.contains("报修已提交") && page.contains("已提交，待受理") && page.contains("/attachments/"));
    let t = ticket(&app, id).await;
    assert_eq!(t["source"], "portal");
    assert_eq!(t["system"], "surveillance", "taken from the equipment");
    assert_eq!(t["equipment_ids"], json!([cam["id"]]));
    assert_eq!((t["reporter_name"].as_str(), t["reporter_phone"].as_str()), (Some("李老师"), Some("13905661111")));

    // Staff see the photos on the ticket and can open them.
    let (s, list) = app.get_json(&agent, &format!("/api/v1/tickets/{id}/attachments")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 2);
    let a = &list["items"][0];
    assert_eq!((a["filename"].as_str(), a["content_type"].as_str()), (Some("门口.png"), Some("image/png")));
    assert_eq!(a["size"], png().len());
    assert_eq!(list["items"][1]["content_type"], "image/jpeg");
    let aid = a["id"].as_i64().unwrap();
    let r = app.get(&agent, &format!("/api/v1/tickets/{id}/attachments/{aid}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    let (ac, _) = app.browser("agent").await;
    let (_, staff_page) = text(&ac, &app, &format!("/tickets/{id}")).await;
    assert!(staff_page.contains(&format!("/attachments/{aid}")), "thumbnails on the staff ticket page");
    let r = ac.get(app.url(&format!("/attachments/{aid}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    // The school can open them too; the other school cannot, by any road.
    assert_eq!(c.get(app.url(&format!("/attachments/{aid}"))).send().await.unwrap().status(), StatusCode::OK);
    let school = app.token("school1").await;
    assert_eq!(app.get(&school, &format!("/api/v1/tickets/{id}/attachments/{aid}")).await.status(), StatusCode::OK);
    let other = app.token("school2").await;
    assert_eq!(
        app.get(&other, &format!("/api/v1/tickets/{id}/attachments/{aid}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get_json(&other, &format!("/api/v1/tickets/{id}/attachments")).await.0, StatusCode::NOT_FOUND);
    let (oc, _) = app.browser("school2").await;
    assert_eq!(oc.get(app.url(&format!("/attachments/{aid}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // An attachment asked for under another ticket is not found either.
    let elsewhere = school_ticket(&app, "别的报修").await;
    assert_eq!(
        app.get(&school, &format!("/api/v1/tickets/{elsewhere}/attachments/{aid}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // The API takes one more photo as base64; a bad one is a 422 naming the field.
    let b64 = base64::engine::general_purpose::STANDARD.encode(JPEG);
    let path = format!("/api/v1/tickets/{id}/attachments");
    let (s, made) = app.post_json(&school, &path, &json!({"filename": "补拍.jpg", "data_base64": b64})).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!((made["content_type"].as_str(), made["filename"].as_str()), (Some("image/jpeg"), Some("补拍.jpg")));
    for (body, code) in [
        (json!({"data_base64": "@@not base64@@"}), "invalid"),
        (json!({"data_base64": base64::engine::general_purpose::STANDARD.encode("plain text")}), "not_image"),
        (json!({"filename": "x.png"}), "required"),
    ] {
        let (s, e) = app.post_json(&school, &path, &body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(
            (e["error"]["fields"][0]["field"].as_str(), e["error"]["fields"][0]["code"].as_str()),
            (Some("data_base64"), Some(code))
        );
    }
    assert_eq!(app.post_json(&other, &path, &json!({"data_base64": PNG})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get_json(&agent, &path).await.1["total"], 3);
    // The staff timeline records the photos.
    let (_, tl) = app.get_json(&agent, &format!("/api/v1/tickets/{id}/timeline")).await;
    assert!(tl["items"].as_array().unwrap().iter().any(|e| e["kind"] == "attachment"));
});

both!(the_schools_rating_before_the_call_is_the_callback, |app: TestApp| async move {
    let id = school_ticket(&app, "三楼教室一体机黑屏").await;
    to_resolved(&app, id).await;
    assert!(callback_queue(&app).await.contains(&id), "waiting for the callback");

    // The school follows the repair in its own words and is asked to confirm.
    let (c, csrf) = app.browser("school1").await;
    let (_, page) = text(&c, &app, &format!("/portal/tickets/{id}")).await;
    for words in [
        "已修复，待您确认",
        "确认修复并评价",
        "已安排上门：12月1日 09:00",
        "维修人员：tech 测试",
        "王老师 签字确认",
        "更换电源板，开机正常",
    ] {
        assert!(page.contains(words), "the page says {words}");
    }
    assert!(!page.contains("电源板损坏"), "the engineer's diagnosis stays internal");
    let version = hidden(&page, "version");
    let confirm = |fields: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = app.url(&format!("/portal/tickets/{id}/confirm"));
        let mut form = vec![("_csrf", csrf.clone()), ("version", version.clone())];
        form.extend(fields);
        async move { c.post(url).form(&form).send().await.unwrap() }
    };

    // A rating of 0 or 6, or no answer, is a clear error and changes nothing.
    for bad in ["0", "6"] {
        let r = confirm(vec![("resolved", "true".into()), ("satisfaction", bad.into())]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("满意度：超出范围"));
    }
    let r = confirm(vec![("satisfaction", "5".into())]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("是否真正修好：必填"));
    let school = app.token("school1").await;
    let (s, e) = act(&app, &school, id, "callback", json!({"satisfaction": 6, "resolved": true})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"][0]["field"], "satisfaction");
    let t = ticket(&app, id).await;
    assert_eq!((t["status"].as_str(), t["satisfaction"].clone()), (Some("resolved"), Value::Null));
    assert_eq!(t["version"].to_string(), version, "nothing was written");

    // Fixed, five stars: the ticket closes with the rating and leaves the callback queue.
    let r = confirm(vec![("resolved", "true".into()), ("satisfaction", "5".into()), ("note", "修得很快，谢谢".into())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().ends_with("?ok=confirmed"));
    let t = ticket(&app, id).await;
    assert_eq!((t["status"].as_str(), t["satisfaction"].as_i64()), (Some("closed"), Some(5)));
    assert!(t["closed_at"].is_string());
    assert!(!callback_queue(&app).await.contains(&id), "no call needed any more");
    let (s, e) =
        act(&app, &app.token("agent").await, id, "callback", json!({"satisfaction": 4, "resolved": true})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    // The timeline records that the school confirmed it on the portal.
    let (_, tl) = app.get_json(&app.token("agent").await, &format!("/api/v1/tickets/{id}/timeline")).await;
    let last = tl["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["to_status"].as_str()), (Some("action"), Some("closed")));
    let data: Value = serde_json::from_str(last["data_json"].as_str().unwrap()).unwrap();
    assert_eq!((data["action"].as_str(), data["by_school"].as_bool()), (Some("callback"), Some(true)));
    let (_, page) = text(&c, &app, &format!("/portal/tickets/{id}?ok=confirmed")).await;
    for words in ["感谢您的确认和评价", "已完成", "学校在报修平台确认已修复", "★★★★★", "修得很快，谢谢"]
    {
        assert!(page.contains(words), "the page says {words}");
    }
    assert!(!page.contains("id=\"confirm-form\""));
    let (_, home) = text(&c, &app, "/portal").await;
    assert!(home.contains("最近完成") && home.contains("三楼教室一体机黑屏"));
    let (ac, _) = app.browser("agent").await;
    assert!(text(&ac, &app, &format!("/tickets/{id}")).await.1.contains("学校在报修平台确认"));
});

both!(not_fixed_sends_it_back_to_the_engineer, |app: TestApp| async move {
    let a = school_ticket(&app, "广播没有声音").await;
    let b = school_ticket(&app, "机房空调报警").await;
    to_resolved(&app, a).await;
    to_resolved(&app, b).await;
    let school = app.token("school1").await;
    // The school may only call back: no other action, and only on its own tickets.
    for action in ["close", "accept", "reopen", "cancel"] {
        let (s, _) = act(&app, &school, a, action, json!({"note": "x", "reason": "x"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{action}");
    }
    let other = app.token("school2").await;
    assert_eq!(
        act(&app, &other, a, "callback", json!({"satisfaction": 1, "resolved": false})).await.0,
        StatusCode::NOT_FOUND
    );
    let penalties = app.count("penalty_events").await;

    // "Not fixed" on the portal reopens it to the engineer's triage.
    let (c, csrf) = app.browser("school1").await;
    let (_, page) = text(&c, &app, &format!("/portal/tickets/{a}")).await;
    let r = c
        .post(app.url(&format!("/portal/tickets/{a}/confirm")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("version", hidden(&page, "version").as_str()),
            ("resolved", "false"),
            ("satisfaction", "2"),
            ("note", "还是没有声音"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().ends_with("?ok=not_fixed"));
    let t = ticket(&app, a).await;
    assert_eq!((t["status"].as_str(), t["resolved_at"].clone()), (Some("triage"), Value::Null));
    assert!(!callback_queue(&app).await.contains(&a));
    assert!(app.count("penalty_events").await > penalties, "a repeat repair is proposed, as on the agent's call");
    let (_, page) = text(&c, &app, &format!("/portal/tickets/{a}?ok=not_fixed")).await;
    for words in ["工程师会重新处理", "已受理，工程师诊断中", "学校反馈尚未修好", "还是没有声音"]
    {
        assert!(page.contains(words), "the page says {words}");
    }
    // Now it is not resolved: confirming again is refused with the state named.
    let (s, e) = act(&app, &school, a, "callback", json!({"satisfaction": 5, "resolved": true})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "illegal_transition");

    // Through the API the school confirms its other ticket.
    let (s, v) = act(&app, &school, b, "callback", json!({"satisfaction": 4, "resolved": true})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["status"].as_str(), v["satisfaction"].as_i64()), (Some("closed"), Some(4)));
});

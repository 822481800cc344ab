//! The holes found by attacking the running product, each reproduced: hostile photos,
//! security headers, the signed-visit rule, sign-in races and timing, open redirects,
//! tokens used as what they are not, proxies, control characters, write limits, values
//! nobody means.

use crate::both;
use crate::common::{TestApp, hidden, password};
use crate::tickets::in_progress;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

const SVG: &[u8] = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>fetch('/me')</script></svg>"#;
const PNG_1X1: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn visit_form(csrf: &str, photo: (&[u8], &str, &str)) -> Form {
    Form::new()
        .text("_csrf", csrf.to_owned())
        .text("arrived_at", "2026-12-01T10:00")
        .text("finished_at", "2026-12-01T11:00")
        .text("work_done", "更换硬盘")
        .text("result", "fixed")
        .part("photos", Part::bytes(photo.0.to_vec()).file_name(photo.1.to_owned()).mime_str(photo.2).unwrap())
}

both!(a_script_dressed_as_a_photo_is_refused_and_stored_files_run_nothing, |app: TestApp| async move {
    let (id, _) = in_progress(&app, "HARD-SVG-1").await;
    let (tc, csrf) = app.browser("tech").await;
    // An SVG with a script, declared as an image, and the same bytes declared as a JPEG.
    for (name, ct) in [("x.svg", "image/svg+xml"), ("x.jpg", "image/jpeg")] {
        let r = tc.post(app.url(&format!("/tickets/{id}/visit"))).multipart(visit_form(&csrf, (SVG, name, ct))).send();
        let r = r.await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(app.count("visits").await, 0, "a refused photo saves nothing of the visit");
    }
    // A real PNG declared as anything is kept with the type its bytes are.
    let r =
        tc.post(app.url(&format!("/tickets/{id}/visit"))).multipart(visit_form(&csrf, (PNG_1X1, "p.gif", "image/gif")));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let (photo, ct): (i64, String) = match &app.db {
        aftercare_store::Db::Sqlite(p) => {
            sqlx::query_as("SELECT id, content_type FROM visit_photos").fetch_one(p).await.unwrap()
        }
        aftercare_store::Db::Postgres(p) => {
            sqlx::query_as("SELECT id, content_type FROM visit_photos").fetch_one(p).await.unwrap()
        }
    };
    assert_eq!(ct, "image/png");
    let (ac, _) = app.browser("admin").await;
    let r = ac.get(app.url(&format!("/photos/{photo}"))).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));

    // A script that reached the table some other way (an older version took any image/*)
    // is served as a download that runs nothing.
    let visit: i64 = match &app.db {
        aftercare_store::Db::Sqlite(p) => sqlx::query_scalar("SELECT id FROM visits").fetch_one(p).await.unwrap(),
        aftercare_store::Db::Postgres(p) => sqlx::query_scalar("SELECT id FROM visits").fetch_one(p).await.unwrap(),
    };
    let svc = aftercare_service::Services::new(app.db.clone());
    let tech = svc.login("tech", &password("tech"), "t", aftercare_service::auth::SessionKind::Api).await.unwrap();
    let refused = svc.add_visit_photo(&tech.actor, aftercare_domain::VisitId(visit), "image/svg+xml", SVG).await;
    assert!(matches!(refused, Err(aftercare_service::ServiceError::Invalid(_))), "the service refuses it too");
    let old =
        aftercare_store::visits::add_photo(&app.db, visit, "image/svg+xml", SVG, chrono::Utc::now()).await.unwrap();
    let r = ac.get(app.url(&format!("/photos/{old}"))).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
});

both!(every_page_carries_the_security_headers, |app: TestApp| async move {
    let (c, _) = app.browser("manager").await;
    for path in ["/", "/tickets", "/stock", "/settings/sla", "/login"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        // Nothing inline for the policy to block: every behaviour is in /assets/*.js.
        let body = r.text().await.unwrap();
        assert!(!body.contains("<script>") && !body.contains(" onclick=") && !body.contains(" style="), "{path}");
    }
    let r = app.client.get(app.url("/assets/app.js")).send().await.unwrap();
    assert!(r.headers()["cache-control"].to_str().unwrap().starts_with("public"), "assets may be cached");
    let r = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
});

both!(the_signed_visit_rule_cannot_be_skipped_by_calling_it_remote, |app: TestApp| async move {
    let (id, _) = in_progress(&app, "HARD-REMOTE-1").await;
    let tech = app.token("tech").await;
    let url = format!("/api/v1/tickets/{id}/actions/resolve");
    let (s, e) = app.post_json(&tech, &url, &json!({"resolution": "远程搞定", "remote": true})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, e) =
        app.post_json(&app.token("engineer").await, &url, &json!({"resolution": "远程", "remote": true})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = app.post_json(&tech, &url, &json!({"resolution": "修好了"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (_, t) = app.get_json(&tech, &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(t["status"], "in_progress");
});

both!(concurrent_wrong_passwords_cannot_slip_past_the_limit, |app: TestApp| async move {
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (c, url) = (app.client.clone(), app.url("/api/v1/session"));
        tasks.push(tokio::spawn(async move {
            c.post(url).json(&json!({"username": "agent", "password": "wrong"})).send().await.unwrap().status()
        }));
    }
    let mut checked = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    // Racing attempts may be refused a little early (their rows count until taken back),
    // never late: keep knocking one by one, and exactly the limit has been checked.
    assert!(checked <= 5, "{checked} passwords checked at once");
    loop {
        let r = app.client.post(app.url("/api/v1/session")).json(&json!({"username": "agent", "password": "wrong"}));
        match r.send().await.unwrap().status() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => break,
            other => panic!("{other}"),
        }
    }
    assert_eq!(checked, 5, "exactly the limit of passwords was checked");
    // Even the right password waits out the window now.
    let r =
        app.client.post(app.url("/api/v1/session")).json(&json!({"username": "agent", "password": password("agent")}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
});

both!(an_unknown_user_takes_as_long_as_a_real_one, |app: TestApp| async move {
    // Warm up (the dummy hash is made on first use), then time a handful of each.
    let attempt = |user: &'static str| {
        let (c, url) = (app.client.clone(), app.url("/api/v1/session"));
        async move {
            let t = std::time::Instant::now();
            let r = c.post(url).json(&json!({"username": user, "password": "wrong"})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            t.elapsed()
        }
    };
    attempt("nobody-0").await;
    let mut real = Vec::new();
    let mut ghost = Vec::new();
    for i in 0..4 {
        real.push(attempt(["engineer", "store", "manager", "admin"][i]).await);
        ghost.push(attempt(["nobody-1", "nobody-2", "nobody-3", "nobody-4"][i]).await);
    }
    real.sort();
    ghost.sort();
    // Medians: an unknown name used to answer 20× faster; now both run argon2.
    let (r, g) = (real[2].as_secs_f64(), ghost[2].as_secs_f64());
    assert!(g > r / 3.0, "unknown user answered in {g:.4}s against {r:.4}s for a real one");
});

both!(sign_in_and_language_go_only_to_a_path_of_this_site, |app: TestApp| async move {
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for next in
        ["/\t/evil.example/phish", "//evil.example", "/x\r\nSet-Cookie: a=b", "/x\u{7f}", "https://evil.example"]
    {
        let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let form = [
            ("username", "agent"),
            ("password", &password("agent")),
            ("_csrf", &hidden(&page, "_csrf")),
            ("next", next),
        ];
        // Home, or — for a control character — refused before anything happens.
        let r = c.post(app.url("/login")).form(&form).send().await.unwrap();
        let control = next.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
        if control {
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{next:?}");
        } else {
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
            assert_eq!(r.headers()["location"], "/", "{next:?}");
        }
        let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = anon.post(app.url("/lang")).form(&[("lang", "en"), ("next", next)]).send().await.unwrap();
        if control {
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{next:?}");
        } else {
            assert!(r.status().is_redirection(), "{next:?}: {}", r.status());
            assert_eq!(r.headers()["location"], "/", "{next:?}");
        }
    }
    // The login page itself, asked with such a next, still answers.
    let r = c.get(app.url("/login?next=/%09/evil.example/phish")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.text().await.unwrap().contains("evil.example"));
});

both!(a_token_works_only_as_what_it_was_issued_for, |app: TestApp| async move {
    let token = app.token("manager").await;
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = c.get(app.url("/tickets")).header("cookie", format!("ac_session={token}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "a bearer token is no page cookie");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
    // And the browser's cookie is no bearer token.
    let b = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = b.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let form = [("username", "manager"), ("password", &password("manager")), ("_csrf", &hidden(&page, "_csrf"))];
    let r = b.post(app.url("/login")).form(&form).send().await.unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("ac_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a session cookie");
    assert_eq!(b.get(app.url("/tickets")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.get(&cookie, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&token, "/api/v1/me").await.status(), StatusCode::OK);
});

both!(a_technician_brings_back_only_what_the_ledger_says_he_holds, |app: TestApp| async move {
    let store = app.token("store").await;
    let tech = app.token("tech").await;
    let tech_id = crate::tickets::user_id(&app, "tech").await;
    let (_, p) = app
        .post_json(
            &store,
            "/api/v1/parts",
            &json!({"code": "HDD", "name": "监控硬盘", "unit": "个", "unit_cost": 450.0}),
        )
        .await;
    let part = p["id"].as_i64().unwrap();
    let (_, d) = app.post_json(&store, "/api/v1/warehouses", &json!({"code": "DEP", "name": "县城仓库"})).await;
    let depot = d["id"].as_i64().unwrap();
    let (_, v) = app
        .post_json(
            &store,
            "/api/v1/warehouses",
            &json!({"code": "VAN", "name": "随车", "kind": "vehicle", "holder_user_id": tech_id}),
        )
        .await;
    let van = v["id"].as_i64().unwrap();
    let admin_id = crate::tickets::user_id(&app, "admin").await;
    let (s, o) = app
        .post_json(
            &store,
            "/api/v1/warehouses",
            &json!({"code": "VAN2", "name": "别人的车", "kind": "vehicle", "holder_user_id": admin_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let other_van = o["id"].as_i64().unwrap();
    for (wh, qty) in [(depot, 5), (van, 4), (other_van, 3)] {
        let (s, m) = app
            .post_json(
                &store,
                "/api/v1/stock/movements",
                &json!({"kind": "receipt", "part_id": part, "warehouse_id": wh, "qty": qty}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
    }
    let mv = |body: serde_json::Value| {
        let (app, tech) = (app.clone(), tech.clone());
        async move { app.post_json(&tech, "/api/v1/stock/movements", &body).await }
    };
    // Stock from nothing, as reported: a return of 100,000 and a defective return of 1,000,000.
    let (s, e) = mv(json!({"kind": "return", "part_id": part, "warehouse_id": depot, "qty": 100000})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "qty");
    let (s, e) = mv(json!({"kind": "defective_return", "part_id": part, "warehouse_id": depot, "qty": 1000000})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // Receipts, adjustments, scrap and depot transfers stay the storekeeper's.
    for body in [
        json!({"kind": "receipt", "part_id": part, "warehouse_id": depot, "qty": 1}),
        json!({"kind": "adjustment", "direction": "increase", "part_id": part, "warehouse_id": depot, "qty": 1, "note": "x"}),
        json!({"kind": "scrap", "part_id": part, "warehouse_id": depot, "qty": 1, "note": "x"}),
        json!({"kind": "transfer", "part_id": part, "warehouse_id": depot, "to_warehouse_id": van, "qty": 1}),
        json!({"kind": "transfer", "part_id": part, "warehouse_id": other_van, "to_warehouse_id": depot, "qty": 1}),
    ] {
        let (s, e) = mv(body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}: {e}");
    }
    // He fits two from his vehicle on a ticket he was sent to.
    let (ticket, _) = in_progress(&app, "HARD-RET-1").await;
    let mut visit = crate::tickets::visit("fixed", true);
    visit["parts_used"] = json!([{"part_id": part, "warehouse_id": van, "qty": 2}]);
    let (s, v) = app.post_json(&tech, &format!("/api/v1/tickets/{ticket}/visits"), &visit).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // His own vehicle's stock goes back to the depot, no more than it holds.
    let (s, e) =
        mv(json!({"kind": "transfer", "part_id": part, "warehouse_id": van, "to_warehouse_id": depot, "qty": 3})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) =
        mv(json!({"kind": "transfer", "part_id": part, "warehouse_id": van, "to_warehouse_id": depot, "qty": 2})).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    // Defective units come back only against that ticket, no more than were fitted there.
    let (s, e) =
        mv(json!({"kind": "defective_return", "part_id": part, "warehouse_id": depot, "qty": 3, "ticket_id": ticket}))
            .await;
    assert_eq!((s, e["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("qty")), "{e}");
    let (s, e) =
        mv(json!({"kind": "defective_return", "part_id": part, "warehouse_id": depot, "qty": 2, "ticket_id": ticket}))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (s, _) =
        mv(json!({"kind": "defective_return", "part_id": part, "warehouse_id": depot, "qty": 1, "ticket_id": ticket}))
            .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "the allowance is spent");
    // The depot: its 5, plus the 2 the vehicle had left; and the 2 broken ones.
    let (_, st) = app.get_json(&store, &format!("/api/v1/stock?part_id={part}&warehouse_id={depot}")).await;
    assert_eq!((st["items"][0]["on_hand"].as_i64(), st["items"][0]["defective"].as_i64()), (Some(7), Some(2)));
});

both!(control_characters_and_foreign_encodings_are_refused_everywhere, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let before = app.count("tickets").await;
    for title in ["坏了\u{0}", "bell\u{7}", "esc\u{1b}[2J", "c1\u{85}"] {
        let (s, e) = app
            .post_json(
                &agent,
                "/api/v1/tickets",
                &json!({"customer_id": app.school1, "system": "classroom", "title": title, "description": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{title:?}: {e}");
        assert_eq!(e["error"]["fields"][0]["field"], "title");
        assert!(e["error"]["message"].as_str().unwrap().contains("控制字符"), "{e}");
    }
    // Nested: the path names the contact.
    let (s, e) = app
        .post_json(
            &agent,
            "/api/v1/customers",
            &json!({"name": "某校", "code": "X-1", "county": "县", "town": "镇", "contacts": [{"name": "王\u{0}"}]}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("contacts[0].name"))
    );
    // Tab and line breaks in a long text are fine.
    let (s, e) = app
        .post_json(&agent, "/api/v1/tickets", &json!({"customer_id": app.school1, "system": "classroom", "title": "投影仪", "description": "一\r\n二\t三"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(app.count("tickets").await, before + 1);

    // A page form in GBK (你好) and one with NUL: refused with a page in the user's language.
    let (c, csrf) = app.browser("agent").await;
    for body in [format!("_csrf={csrf}&name=%C4%E3%BA%C3"), format!("_csrf={csrf}&name=a%00b")] {
        let r = c
            .post(app.url("/customers/new"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let page = r.text().await.unwrap();
        assert!(page.contains("UTF-8") || page.contains("控制字符"), "{page}");
    }
    assert_eq!(app.count("customers").await, 2);
});

both!(values_nobody_means_are_refused_in_the_users_language, |app: TestApp| async move {
    let agent = app.token("agent").await;
    for (year, date) in [("0", "0000-01-01"), ("10000", "10000-01-01"), ("1900", "1900-06-01")] {
        let (s, e) = app
            .post_json(&agent, "/api/v1/equipment", &json!({"customer_id": app.school1, "system": "network", "kind": "交换机", "serial_no": format!("Y-{year}"), "installed_on": date}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{date}: {e}");
        assert_eq!(e["error"]["fields"][0]["field"], "installed_on", "{e}");
    }
    let (s, e) = app
        .post_json(&agent, "/api/v1/contacts", &json!({"channel": "phone", "category": "consultation", "content": "问", "received_at": "1900-01-01T02:00:00Z"}))
        .await;
    assert_eq!(
        (s, e["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("received_at")),
        "{e}"
    );
    let (id, _) = in_progress(&app, "HARD-Y-1").await;
    let mut v = crate::tickets::visit("fixed", true);
    v["finished_at"] = json!("9999-12-31T10:00:00Z");
    let (s, e) = app.post_json(&app.token("tech").await, &format!("/api/v1/tickets/{id}/visits"), &v).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(app.count("visits").await, 0);

    // A body over the limit is 413, not 400.
    // (Raw HTTP: the server answers before reading a byte of it, so a client still
    // writing 20 MB would see its pipe closed.)
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {agent}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{",
        20 * 1024 * 1024
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = sock.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");

    // ?page=-1: a 422 naming the parameter on the API, a page in Chinese for people.
    let (s, e) = app.get_json(&agent, "/api/v1/tickets?page=-1").await;
    assert_eq!((s, e["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("page")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("页码"), "{e}");
    let (c, _) = app.browser("agent").await;
    let r = c.get(app.url("/tickets?page=-1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("页码"));
});

both!(smaller_holes_are_closed, |app: TestApp| async move {
    // An unknown API path is a JSON 404 in the error shape.
    let (s, e) = app.get_json(&app.token("agent").await, "/api/v1/no-such-thing").await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{e}");
    // A school's user has no staff work lists.
    let (c, _) = app.browser("school1").await;
    for path in ["/today", "/callbacks"] {
        assert_eq!(c.get(app.url(path)).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Changing one's own password asks for the current one; an admin resetting another's does not.
    let (c, csrf) = app.browser("agent").await;
    let new = "a-new-password-1";
    let form = [("_csrf", csrf.as_str()), ("current_password", "guess"), ("password", new), ("password_again", new)];
    let r = c.post(app.url("/me")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("当前密码"));
    let agent_id = crate::tickets::user_id(&app, "agent").await;
    let tok = app.token("agent").await;
    let (s, e) = app
        .send_json(reqwest::Method::PATCH, &tok, &format!("/api/v1/users/{agent_id}"), &json!({"password": new}))
        .await;
    assert_eq!(
        (s, e["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"))
    );
    let pass = password("agent");
    let (s, e) = app
        .send_json(
            reqwest::Method::PATCH,
            &tok,
            &format!("/api/v1/users/{agent_id}"),
            &json!({"password": new, "current_password": pass}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let admin = app.token("admin").await;
    let tech_id = crate::tickets::user_id(&app, "tech").await;
    let (s, e) = app
        .send_json(reqwest::Method::PATCH, &admin, &format!("/api/v1/users/{tech_id}"), &json!({"password": new}))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_trusted_proxy_names_the_client() {
    // Twenty failures through the proxy used to lock everyone out behind it; with the proxy
    // trusted, each client counts alone, and a client cannot forge its way around it.
    let (url, _) = crate::common::fresh_database(crate::common::Backend::Sqlite).await;
    let db = aftercare_store::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let svc = aftercare_service::Services::new(db.clone());
    crate::common::user(&svc, "agent", &["agent"], None).await;
    let cfg = aftercare_web::WebConfig { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = aftercare_web::router(svc, cfg);
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    let c = reqwest::Client::new();
    let login = |ip: &'static str, user: String, pass: String| {
        let c = c.clone();
        async move {
            c.post(format!("http://{addr}/api/v1/session"))
                .header("x-forwarded-for", ip)
                .json(&json!({"username": user, "password": pass}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for i in 0..20 {
        assert_eq!(login("203.0.113.7", format!("nobody{i}"), "x".into()).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login("203.0.113.7", "nobody-else".into(), "x".into()).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is counted"
    );
    assert_eq!(login("198.51.100.9", "agent".into(), password("agent")).await, StatusCode::OK, "another client is not");
    db.close().await;
}

both!(writes_are_limited_per_user_and_schools_far_lower, |app: TestApp| async move {
    let school = app.token("school1").await;
    let report =
        json!({"customer_id": app.school1, "system": "classroom", "title": "投影仪不亮", "description": "三年级"});
    let mut created = 0;
    let mut refused = None;
    for _ in 0..40 {
        let r = app.client.post(app.url("/api/v1/tickets")).bearer_auth(&school).json(&report).send().await.unwrap();
        match r.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused = Some(r);
                break;
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(created, 30, "a school's minute's worth");
    let r = refused.expect("the 31st is refused");
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "rate_limited");
    assert!(e["error"]["message"].as_str().unwrap().contains("秒后再试"));
    // Reading is never limited, nor is another user.
    assert_eq!(app.get(&school, "/api/v1/tickets").await.status(), StatusCode::OK);
    let agent = app.token("agent").await;
    let (s, _) = app.post_json(&agent, "/api/v1/tickets", &report).await;
    assert_eq!(s, StatusCode::CREATED);

    // The manager changes the limits on the settings page; 0 lifts them.
    let manager = app.token("manager").await;
    let (s, e) = app
        .send_json(
            reqwest::Method::PUT,
            &manager,
            "/api/v1/settings/write-limits",
            &json!({"school_per_minute": 2000000, "staff_per_minute": 10}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("school_per_minute"))
    );
    let (c, csrf) = app.browser("manager").await;
    let form = [("_csrf", csrf.as_str()), ("school_per_minute", "0"), ("staff_per_minute", "600")];
    let r = c.post(app.url("/settings/write-limits")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, l) = app.get_json(&manager, "/api/v1/settings/write-limits").await;
    assert_eq!(l, json!({"school_per_minute": 0, "staff_per_minute": 600}));
    let (s, e) = app.post_json(&school, "/api/v1/tickets", &report).await;
    assert_eq!(s, StatusCode::CREATED, "no limit now: {e}");
    // Only the manager and the admin set them.
    let (s, _) = app
        .send_json(
            reqwest::Method::PUT,
            &agent,
            "/api/v1/settings/write-limits",
            &json!({"school_per_minute": 0, "staff_per_minute": 0}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

// A write transaction that held SQLite's one writer long is logged with where it began
// (`db::SLOW_WRITE`): the place must be the code that began it, not the helper's own line.
both!(a_write_transaction_knows_who_began_it, |app: TestApp| async move {
    use aftercare_store::db::WritePool;
    let line = line!() + 3;
    let tx = match &app.db {
        aftercare_store::Db::Sqlite(p) => {
            let tx = p.begin_write().await.unwrap();
            let at = tx.begun_at();
            tx.commit().await.unwrap();
            at
        }
        aftercare_store::Db::Postgres(p) => {
            let tx = p.begin_write().await.unwrap();
            let at = tx.begun_at();
            tx.commit().await.unwrap();
            at
        }
    };
    assert!(tx.file().ends_with("hardening.rs"), "{tx}");
    assert!(tx.line() == line || tx.line() == line + 6, "{tx}, expected line {line} or {}", line + 6);
});

// A new ticket is answered only once its commit is on the disk, though on SQLite the
// commit now gives up the writer's turn before its fsync, and the group commit writes the
// next group meanwhile (aftercare_store::durable): each answer finds its commit flushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_ticket_is_answered_only_once_its_commit_is_on_the_disk_sqlite() {
    crate::common::run(crate::common::Backend::Sqlite, |app: TestApp| async move {
        let agent = app.token("agent").await;
        let body = |i: usize| {
            json!({"customer_id": app.school1, "system": "network", "title": format!("第 {i} 台交换机断网"),
                   "source": "phone"})
        };
        let first = app.db.durability().expect("SQLite commits are durable by default");
        for i in 0..5 {
            let before = app.db.durability().unwrap();
            let (s, v) = app.post_json(&agent, "/api/v1/tickets", &body(i)).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            let after = app.db.durability().unwrap();
            assert!(after.synced > before.committed, "answered before its fsync: {before:?} then {after:?}");
        }
        // Many at once: several groups, the later written while the earlier are flushed;
        // every answer still came after an fsync.
        let mut set = tokio::task::JoinSet::new();
        for i in 0..48 {
            let (client, url, agent, b) =
                (app.client.clone(), app.url("/api/v1/tickets"), agent.clone(), body(100 + i));
            set.spawn(async move { client.post(url).bearer_auth(agent).json(&b).send().await.unwrap().status() });
        }
        let before = app.db.durability().unwrap();
        while let Some(s) = set.join_next().await {
            assert_eq!(s.unwrap(), StatusCode::CREATED);
        }
        let after = app.db.durability().unwrap();
        assert!(after.synced > before.committed && after.syncs > first.syncs, "{first:?} {before:?} {after:?}");
        assert_eq!(app.count("tickets").await, 53);
    })
    .await;
}

// With `sqlite_synchronous = "normal"` nothing waits for an fsync (a documented setting).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_synchronous_normal_no_commit_waits_for_the_disk_sqlite() {
    let (url, _) = crate::common::fresh_database(crate::common::Backend::Sqlite).await;
    let normal = aftercare_store::DbOptions { sqlite_synchronous: aftercare_store::SqliteSync::Normal };
    let db = aftercare_store::Db::connect_with(&url, normal).await.unwrap();
    db.migrate().await.unwrap();
    assert_eq!(db.durability(), None);
    db.close().await;
    let _ = std::fs::remove_dir_all(std::path::Path::new(url.trim_start_matches("sqlite://")).parent().unwrap());
}

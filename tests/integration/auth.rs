//! Sign-in, tokens, sessions across nodes, throttling, CSRF, languages, and every role's
//! permission edges.

use crate::both;
use crate::common::{TestApp, hidden, password};
use reqwest::StatusCode;
use serde_json::json;

both!(api_session_and_me, |app: TestApp| async move {
    let (s, v) =
        app.post_json("", "/api/v1/session", &json!({"username": "engineer", "password": password("engineer")})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["user"]["roles"], json!(["engineer"]));
    let token = v["token"].as_str().unwrap().to_owned();
    let (s, me) = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["username"], "engineer");
    assert!(me.get("password_hash").is_none());
    // No token, a wrong token, and a signed-out token are all 401.
    assert_eq!(app.client.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("nope", "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    let r = app.client.delete(app.url("/api/v1/session")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, e) = app.get_json(&token, "/api/v1/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(e["error"]["code"], "unauthorized");
});

both!(wrong_password_is_401_and_malformed_body_400, |app: TestApp| async move {
    let (s, e) = app.post_json("", "/api/v1/session", &json!({"username": "agent", "password": "wrong"})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(e["error"]["code"], "unauthorized");
    let (s, e) = app.post_json("", "/api/v1/session", &json!({"username": "agent"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "bad_request");
    // Nobody by that name answers the same as a wrong password.
    let (s, _) = app.post_json("", "/api/v1/session", &json!({"username": "ghost", "password": "whatever1"})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
});

both!(failed_logins_are_throttled_per_username, |app: TestApp| async move {
    for _ in 0..5 {
        let (s, _) =
            app.post_json("", "/api/v1/session", &json!({"username": "agent", "password": "wrong-pass"})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused for a while…
    let (s, e) =
        app.post_json("", "/api/v1/session", &json!({"username": "agent", "password": password("agent")})).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(e["error"]["code"], "too_many_attempts");
    // …but only for that user name.
    app.token("engineer").await;
});

both!(failed_logins_are_throttled_per_address, |app: TestApp| async move {
    // Twenty failures spread over many names from one address block that address.
    for i in 0..20 {
        let (s, _) = app
            .post_json("", "/api/v1/session", &json!({"username": format!("guess{i}"), "password": "x-wrong-x"}))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, _) =
        app.post_json("", "/api/v1/session", &json!({"username": "manager", "password": password("manager")})).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
});

both!(a_session_cookie_works_on_a_second_node, |app: TestApp| async move {
    let (c, _) = app.browser("agent").await;
    let other = app.second_node().await;
    let r = c.get(format!("{other}/customers")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("城关镇中心小学"));
});

both!(forms_need_the_csrf_token_and_same_origin, |app: TestApp| async move {
    let (c, csrf) = app.browser("agent").await;
    let body = [("name", "新学校"), ("code", "NEW-1"), ("county", "青阳县"), ("town", "城关镇")];
    // Without the token: refused, nothing written.
    let r = c.post(app.url("/customers/new")).form(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the token but from another site: refused.
    let mut with = body.to_vec();
    with.push(("_csrf", &csrf));
    let r = c.post(app.url("/customers/new")).header("sec-fetch-site", "cross-site").form(&with).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c.post(app.url("/customers/new")).header("origin", "http://evil.example").form(&with).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("customers").await, 2);
    // With the token from our own page: accepted.
    let r = c.post(app.url("/customers/new")).header("origin", app.base.clone()).form(&with).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("customers").await, 3);
    // The login form also needs its token.
    let anon = reqwest::Client::new();
    let r = anon
        .post(app.url("/login"))
        .form(&[("username", "agent"), ("password", &password("agent"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
});

both!(logout_ends_the_web_session, |app: TestApp| async move {
    let (c, csrf) = app.browser("agent").await;
    let r = c.post(app.url("/logout")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c.get(app.url("/customers")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next=/customers"));
});

both!(login_page_speaks_the_browsers_language, |app: TestApp| async move {
    let zh = app.client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(zh.contains("登录") && zh.contains("lang=\"zh-CN\""));
    let en = app
        .client
        .get(app.url("/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Sign in") && en.contains("lang=\"en\""));
    // API errors follow the user's language setting.
    let (c, csrf) = app.browser("agent").await;
    let r = c
        .post(app.url("/lang"))
        .form(&[("lang", "en"), ("_csrf", csrf.as_str()), ("next", "/customers")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = c.get(app.url("/customers")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Schools") && page.contains("lang=\"en\""));
    let token = app.token("agent").await;
    let (s, e) = app.post_json(&token, "/api/v1/equipment", &json!({"customer_id": app.school1, "system": "x"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"]["message"].as_str().unwrap().contains("System: is not one of the allowed values"), "{e}");
});

both!(roles_decide_who_may_write, |app: TestApp| async move {
    let body = json!({"name": "新学校", "code": "NEW-2", "county": "青阳县", "town": "城关镇"});
    for user in ["tech", "store", "school1"] {
        let t = app.token(user).await;
        let (s, e) = app.post_json(&t, "/api/v1/customers", &body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        assert_eq!(e["error"]["code"], "forbidden");
        let (s, _) = app
            .post_json(
                &t,
                "/api/v1/equipment",
                &json!({"customer_id": app.school1, "system": "network", "kind": "AP", "serial_no": "X1"}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
    }
    for user in ["agent", "engineer", "manager", "admin"] {
        let t = app.token(user).await;
        let (s, _) = app
            .post_json(
                &t,
                "/api/v1/customers",
                &json!({"name": "新学校", "code": format!("NEW-{user}"), "county": "青阳县", "town": "城关镇"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{user}");
    }
    // Only the administrator manages users; the manager may read them.
    let new_user = json!({"username": "newbie", "password": "long-enough", "roles": ["agent"]});
    let (s, _) = app.post_json(&app.token("manager").await, "/api/v1/users", &new_user).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.get_json(&app.token("manager").await, "/api/v1/users").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get_json(&app.token("engineer").await, "/api/v1/users").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let admin = app.token("admin").await;
    let (s, u) = app.post_json(&admin, "/api/v1/users", &new_user).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(u["roles"], json!(["agent"]));
    let (s, _) = app.post_json(&admin, "/api/v1/users", &new_user).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, e) = app
        .post_json(
            &admin,
            "/api/v1/users",
            &json!({"username": "s3", "password": "long-enough", "roles": ["customer"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"][0]["field"], "customer_id");
    // The audit trail: manager and administrator only.
    assert_eq!(app.get_json(&app.token("engineer").await, "/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get_json(&app.token("manager").await, "/api/v1/audit").await.0, StatusCode::OK);
});

both!(deactivated_users_cannot_sign_in_and_lose_their_sessions, |app: TestApp| async move {
    let admin = app.token("admin").await;
    let tech = app.token("tech").await;
    let (_, users) = app.get_json(&admin, "/api/v1/users?per_page=100").await;
    let id =
        users["items"].as_array().unwrap().iter().find(|u| u["username"] == "tech").unwrap()["id"].as_i64().unwrap();
    let (s, _) =
        app.send_json(reqwest::Method::PATCH, &admin, &format!("/api/v1/users/{id}"), &json!({"active": false})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.get(&tech, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    let (s, _) = app.post_json("", "/api/v1/session", &json!({"username": "tech", "password": password("tech")})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The administrator cannot lock themself out.
    let (_, me) = app.get_json(&admin, "/api/v1/me").await;
    let (s, e) = app
        .send_json(reqwest::Method::PATCH, &admin, &format!("/api/v1/users/{}", me["id"]), &json!({"roles": ["agent"]}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
});

both!(a_school_user_sees_only_its_school, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let mine = app.equipment(&agent, app.school1, "surveillance", "网络摄像机", "SCH1-CAM-1").await;
    let theirs = app.equipment(&agent, app.school2, "surveillance", "网络摄像机", "SCH2-CAM-1").await;
    let t = app.token("school1").await;
    let (s, list) = app.get_json(&t, "/api/v1/customers").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], app.school1);
    assert_eq!(app.get_json(&t, &format!("/api/v1/customers/{}", app.school1)).await.0, StatusCode::OK);
    assert_eq!(app.get_json(&t, &format!("/api/v1/customers/{}", app.school2)).await.0, StatusCode::NOT_FOUND);
    let (_, eq) = app.get_json(&t, "/api/v1/equipment").await;
    assert_eq!(eq["total"], 1);
    assert_eq!(eq["items"][0]["id"], mine["id"]);
    // Asking for the other school's equipment by filter or id finds nothing.
    let (_, eq) = app.get_json(&t, &format!("/api/v1/equipment?customer_id={}", app.school2)).await;
    assert_eq!(eq["total"], 0);
    assert_eq!(app.get_json(&t, &format!("/api/v1/equipment/{}", theirs["id"])).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get_json(&t, &format!("/api/v1/equipment/{}/history", theirs["id"])).await.0, StatusCode::NOT_FOUND);
    let (_, hits) = app.get_json(&t, "/api/v1/search?q=网络摄像机").await;
    assert_eq!(hits["total"], 1);
    assert_eq!(hits["items"][0]["number"], "SCH1-CAM-1");
    let (_, hits) = app.get_json(&t, "/api/v1/search?q=蓉城镇").await;
    assert_eq!(hits["total"], 0);
    // Exports are scoped too.
    let csv = app.get(&t, "/api/v1/equipment/export?format=csv").await.text().await.unwrap();
    assert!(csv.contains("SCH1-CAM-1") && !csv.contains("SCH2-CAM-1"));
    // And the pages.
    let (c, _) = app.browser("school1").await;
    let r = c.get(app.url(&format!("/customers/{}", app.school2))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c.get(app.url(&format!("/equipment/{}", theirs["id"]))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let home = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.headers()["location"], "/portal", "a school starts on its portal");
    let page = c.get(app.url(&format!("/customers/{}", app.school1))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("SCH1-CAM-1"));
    assert_eq!(hidden(&page, "_csrf").len(), 64);
});

both!(a_users_email_and_phone_can_be_changed_after_creation, |app: TestApp| async move {
    // Mail to managers goes to their user e-mail: it must be settable later, not only at creation.
    let admin = app.token("admin").await;
    let manager_id = crate::tickets::user_id(&app, "manager").await;
    let path = format!("/api/v1/users/{manager_id}");
    let (s, v) = app.send_json(reqwest::Method::PATCH, &admin, &path, &json!({"email": "chen@aftercare.test"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["email"], "chen@aftercare.test");
    let (s, v) = app.send_json(reqwest::Method::PATCH, &admin, &path, &json!({"phone": "0566-5551234"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["email"], "chen@aftercare.test", "what the body leaves out stays");
    assert_eq!(v["phone"], "0566-5551234");
    let (s, v) = app.send_json(reqwest::Method::PATCH, &admin, &path, &json!({"email": "not-an-address"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, v) = app.get_json(&admin, &path).await;
    assert_eq!(v["email"], "chen@aftercare.test", "a refused change changes nothing");
    // Someone else's address is not an agent's to change; one's own is.
    let agent = app.token("agent").await;
    let (s, _) = app.send_json(reqwest::Method::PATCH, &agent, &path, &json!({"email": "x@y.test"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

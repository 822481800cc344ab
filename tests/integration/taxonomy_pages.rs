//! The fault taxonomy (故障子类) as a setting: every member of staff reads it grouped by
//! system and fault type; the manager and the administrator add, rename, deactivate and
//! reactivate subcategories by page and by API, with field messages in Chinese and an
//! audit entry per change; a deactivated code is neither offered nor accepted when diagnosing.

use crate::both;
use crate::common::{TestApp, hidden};
use crate::tickets::{act, new_ticket};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const SEEDED: i64 = 66;

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

/// The HTML of the table row `<tr id="sub-CODE">`.
fn row<'a>(html: &'a str, code: &str) -> &'a str {
    let start = html.find(&format!("<tr id=\"sub-{code}\"")).unwrap_or_else(|| panic!("no row {code}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// Every subcategory through the API, by code.
async fn listed(app: &TestApp, token: &str) -> Vec<Value> {
    let (s, v) = app.get_json(token, "/api/v1/fault-subcategories").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"].as_u64().unwrap() as usize, v["items"].as_array().unwrap().len());
    v["items"].as_array().unwrap().clone()
}

async fn one(app: &TestApp, token: &str, code: &str) -> Value {
    listed(app, token).await.into_iter().find(|s| s["code"] == code).unwrap_or_else(|| panic!("no {code}"))
}

/// The audit entries of the taxonomy, newest first: (action, summary, after).
async fn audit(app: &TestApp) -> Vec<(String, String, Value)> {
    let admin = app.token("admin").await;
    let (s, v) = app.get_json(&admin, "/api/v1/audit?entity=fault_subcategory&per_page=100").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let after = e["after_json"].as_str().map(|j| serde_json::from_str(j).unwrap()).unwrap_or(Value::Null);
            (e["action"].as_str().unwrap().to_owned(), e["summary"].as_str().unwrap().to_owned(), after)
        })
        .collect()
}

both!(staff_read_the_taxonomy_grouped_by_system_and_fault_type, |app: TestApp| async move {
    // The service-levels page leads to it.
    let (a, _) = app.browser("agent").await;
    let (_, sla) = page(&a, &app, "/settings/sla").await;
    assert!(sla.contains("href=\"/settings/taxonomy\"") && sla.contains("故障分类设置"));

    for who in ["agent", "engineer", "tech", "store", "manager"] {
        let (c, _) = app.browser(who).await;
        let (s, html) = page(&c, &app, "/settings/taxonomy").await;
        assert_eq!(s, StatusCode::OK, "{who}");
        assert!(html.contains(&format!("<span class=\"count\">{SEEDED}</span>")), "{who}: all 66 listed");
        let network = &html[html.find("id=\"sys-network\"").unwrap()..html.find("id=\"sys-server_room\"").unwrap()];
        for want in ["校园网络", "硬件", "线路", "软件", "id=\"type-network-hardware\"", "id=\"type-network-cabling\""]
        {
            assert!(network.contains(want), "{who}: network section lacks {want}");
        }
        let r = row(network, "NET_SW_DOWN");
        for want in ["交换机死机/重启", "Switch hangs or reboots", "电源模块坏", "启用"] {
            assert!(r.contains(want), "{who}: NET_SW_DOWN row lacks {want}: {r}");
        }
        // Hardware comes before cabling within a system.
        assert!(network.find("NET_SW_DOWN").unwrap() < network.find("NET_CABLE_BREAK").unwrap());
        assert!(html.contains("id=\"sys-surveillance\"") && html.contains("CCTV_NVR_DISK"));
        let can_edit = who == "manager";
        assert_eq!(html.contains("id=\"subcategory-form\""), can_edit, "{who}: the add form");
        assert_eq!(html.contains("id=\"toggle-NET_SW_DOWN\""), can_edit, "{who}: the deactivate button");
        assert_eq!(html.contains("id=\"read-only\""), !can_edit, "{who}: the read-only note");
    }
    // In English too.
    let (c, csrf) = app.browser("engineer").await;
    c.post(app.url("/lang")).form(&[("_csrf", csrf.as_str()), ("lang", "en"), ("next", "/")]).send().await.unwrap();
    let (_, html) = page(&c, &app, "/settings/taxonomy").await;
    assert!(html.contains("Fault taxonomy") && html.contains("Chinese name") && html.contains("Typical cause"));
    assert!(html.contains("Hardware") && html.contains("Cabling"));
    // Schools do not see it.
    let (s1, _) = app.browser("school1").await;
    assert_eq!(page(&s1, &app, "/settings/taxonomy").await.0, StatusCode::FORBIDDEN);
});

both!(the_manager_adds_subcategories_by_page_and_api_and_mistakes_are_field_errors, |app: TestApp| async move {
    let manager = app.token("manager").await;
    let (c, csrf) = app.browser("manager").await;
    let form = |code: &'static str, system: &'static str, zh: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("code", code.to_owned()),
            ("system", system.to_owned()),
            ("fault_type", "hardware".to_owned()),
            ("name_zh", zh.to_owned()),
            ("name_en", "PoE budget exceeded".to_owned()),
            ("typical_cause", "接入 AP 过多, 交换机 PoE 总功率不足".to_owned()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = app.url("/settings/taxonomy");
        async move {
            let r = c.post(url).form(&f).send().await.unwrap();
            let s = r.status();
            let loc = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
            (s, loc, r.text().await.unwrap())
        }
    };

    // Mistakes: each at its field, in Chinese, what was typed kept, nothing added.
    let (s, _, html) = send(form("NET_SW_DOWN", "network", "交换机死机")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("编码：已存在"), "duplicate code");
    assert!(html.contains("class=\"field-error\">已存在</span>"));
    assert!(html.contains("name=\"code\" value=\"NET_SW_DOWN\"") && html.contains("id=\"new-subcategory\" open"));
    for bad in ["NET-POE", "AB", "网络_POE", "NET POE"] {
        let (s, _, html) = send(vec![
            ("_csrf", csrf.clone()),
            ("code", bad.to_owned()),
            ("system", "network".to_owned()),
            ("fault_type", "hardware".to_owned()),
            ("name_zh", "PoE 功率不足".to_owned()),
            ("name_en", "PoE budget".to_owned()),
        ])
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(html.contains("编码：须为 3–40 位大写字母、数字或下划线"), "{bad}");
        assert!(html.contains("name=\"name_zh\" value=\"PoE 功率不足\""), "{bad}: typed values kept");
    }
    let (s, _, html) = send(vec![
        ("_csrf", csrf.clone()),
        ("code", "NET_X".to_owned()),
        ("system", "phones".to_owned()),
        ("fault_type", "weather".to_owned()),
        ("name_zh", String::new()),
        ("name_en", "x".repeat(61)),
        ("typical_cause", "因".repeat(201)),
    ])
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for want in ["系统：不是可选的值", "故障类型：不是可选的值", "中文名称：必填", "英文名称：太长", "典型原因：太长"]
    {
        assert!(html.contains(want), "lacks {want}");
    }
    assert_eq!(app.count("fault_subcategories").await, SEEDED);
    assert!(audit(&app).await.is_empty());

    // A good one (lower case is raised); it shows in its system and fault type.
    let (s, loc, _) = send(form("net_poe_budget", "network", "PoE 功率不足")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc, "/settings/taxonomy?ok=subcategory_created#sub-NET_POE_BUDGET");
    let (_, html) = page(&c, &app, &loc).await;
    assert!(html.contains("故障子类已添加"));
    let network =
        &html[html.find("id=\"type-network-hardware\"").unwrap()..html.find("id=\"sys-server_room\"").unwrap()];
    let r = row(network, "NET_POE_BUDGET");
    assert!(r.contains("PoE 功率不足") && r.contains("PoE budget exceeded") && r.contains("接入 AP 过多"));
    let v = one(&app, &manager, "NET_POE_BUDGET").await;
    assert_eq!(
        (v["system"].as_str(), v["fault_type"].as_str(), v["active"].as_bool()),
        (Some("network"), Some("hardware"), Some(true))
    );
    // The add form can be opened for one system.
    let (_, html) = page(&c, &app, "/settings/taxonomy?new=surveillance").await;
    assert!(html.contains("id=\"new-subcategory\" open") && html.contains("<option value=\"surveillance\" selected>"));

    // By API: created, then the same code again is a duplicate at the field `code`.
    let body = json!({"code": "CCTV_POE", "system": "surveillance", "fault_type": "cabling", "name_zh": "摄像机 PoE 线过长", "name_en": "Camera PoE run too long"});
    let (s, v) = app.post_json(&manager, "/api/v1/fault-subcategories", &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["code"].as_str(), v["typical_cause"].is_null(), v["active"].as_bool()),
        (Some("CCTV_POE"), true, Some(true))
    );
    let (s, v) = app.post_json(&manager, "/api/v1/fault-subcategories", &body).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        (v["error"]["code"].as_str(), v["error"]["fields"][0]["field"].as_str()),
        (Some("duplicate"), Some("code"))
    );
    assert_eq!(v["error"]["message"], "编码：已存在");
    let (s, v) = app
        .post_json(
            &manager,
            "/api/v1/fault-subcategories",
            &json!({"code": "cctv-poe", "system": "surveillance", "fault_type": "cabling", "name_zh": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<(&str, &str)> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("code", "code_format"), ("name_en", "required")]);
    assert!(v["error"]["message"].as_str().unwrap().contains("编码：须为 3–40 位大写字母、数字或下划线"));
    let (s, _) = app.post_json(&manager, "/api/v1/fault-subcategories", &json!({"code": 5})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(app.count("fault_subcategories").await, SEEDED + 2);
    assert_eq!(listed(&app, &manager).await.len() as i64, SEEDED + 2);

    // Each addition is audited with its code, by whom.
    let entries = audit(&app).await;
    let summaries: Vec<(&str, &str)> = entries.iter().map(|(a, s, _)| (a.as_str(), s.as_str())).collect();
    assert_eq!(summaries, [("create", "CCTV_POE"), ("create", "NET_POE_BUDGET")]);
    assert_eq!(entries[1].2["name_zh"], "PoE 功率不足");
    // The audit page names the record kind.
    let (admin, _) = app.browser("admin").await;
    let (_, html) = page(&admin, &app, "/admin/audit?entity=fault_subcategory").await;
    assert!(html.contains("故障子类") && html.contains("NET_POE_BUDGET"));
});

both!(only_the_manager_and_the_administrator_change_the_taxonomy, |app: TestApp| async move {
    let before = listed(&app, &app.token("manager").await).await;
    for who in ["agent", "engineer", "tech", "store"] {
        let (c, csrf) = app.browser(who).await;
        let good = [
            ("_csrf", csrf.as_str()),
            ("code", "NET_NEW"),
            ("system", "network"),
            ("fault_type", "hardware"),
            ("name_zh", "新故障"),
            ("name_en", "New fault"),
        ];
        assert_eq!(post(&c, &app, "/settings/taxonomy", &good).await.0, StatusCode::FORBIDDEN, "{who}");
        // Refused before the input is looked at.
        let bad = [("_csrf", csrf.as_str()), ("code", "x")];
        assert_eq!(post(&c, &app, "/settings/taxonomy", &bad).await.0, StatusCode::FORBIDDEN, "{who}");
        assert_eq!(page(&c, &app, "/settings/taxonomy/NET_SW_DOWN").await.0, StatusCode::FORBIDDEN, "{who}");
        let edit = [("_csrf", csrf.as_str()), ("name_zh", "改名"), ("name_en", "Renamed"), ("active", "1")];
        assert_eq!(post(&c, &app, "/settings/taxonomy/NET_SW_DOWN", &edit).await.0, StatusCode::FORBIDDEN, "{who}");
        let off = [("_csrf", csrf.as_str()), ("active", "0")];
        assert_eq!(
            post(&c, &app, "/settings/taxonomy/NET_SW_DOWN/active", &off).await.0,
            StatusCode::FORBIDDEN,
            "{who}"
        );
        let t = app.token(who).await;
        let (s, _) = app
            .post_json(&t, "/api/v1/fault-subcategories", &json!({"code": "NET_NEW", "system": "network", "fault_type": "hardware", "name_zh": "新故障", "name_en": "New fault"}))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
        let (s, _) = app
            .send_json(
                Method::PUT,
                &t,
                "/api/v1/fault-subcategories/NET_SW_DOWN",
                &json!({"name_zh": "改名", "name_en": "Renamed", "active": false}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
    // A school may not even read it; a form without the CSRF token is refused.
    let school = app.token("school1").await;
    assert_eq!(app.get_json(&school, "/api/v1/fault-subcategories").await.0, StatusCode::FORBIDDEN);
    let (s, _) = app.post_json(&school, "/api/v1/fault-subcategories", &json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (m, _) = app.browser("manager").await;
    let (s, _, _) = post(&m, &app, "/settings/taxonomy/NET_SW_DOWN/active", &[("active", "0")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Nothing changed.
    assert_eq!(listed(&app, &app.token("manager").await).await, before);
    assert!(audit(&app).await.is_empty());
});

both!(a_deactivated_subcategory_is_neither_offered_nor_accepted_when_diagnosing, |app: TestApp| async move {
    let manager = app.token("manager").await;
    let eng = app.token("engineer").await;
    let (m, mcsrf) = app.browser("manager").await;

    // The manager renames one on its page; an empty name is a field error.
    let (s, html) = page(&m, &app, "/settings/taxonomy/CCTV_NVR_DISK").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("name=\"name_zh\" value=\"录像丢失/保存天数不足\"") && html.contains("校园监控"));
    let (s, _, html) = post(
        &m,
        &app,
        "/settings/taxonomy/CCTV_NVR_DISK",
        &[("_csrf", &mcsrf), ("name_zh", " "), ("name_en", "Recordings lost"), ("active", "1")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("中文名称：必填") && html.contains("name=\"name_en\" value=\"Recordings lost\""));
    let (s, loc, _) = post(
        &m,
        &app,
        "/settings/taxonomy/CCTV_NVR_DISK",
        &[
            ("_csrf", &mcsrf),
            ("name_zh", "录像丢失"),
            ("name_en", "Recordings lost"),
            ("typical_cause", "硬盘坏道"),
            ("active", "1"),
        ],
    )
    .await;
    assert_eq!((s, loc.as_str()), (StatusCode::SEE_OTHER, "/settings/taxonomy?ok=subcategory_saved#sub-CCTV_NVR_DISK"));
    let v = one(&app, &manager, "CCTV_NVR_DISK").await;
    assert_eq!(
        (v["name_zh"].as_str(), v["typical_cause"].as_str(), v["active"].as_bool()),
        (Some("录像丢失"), Some("硬盘坏道"), Some(true))
    );
    assert_eq!(page(&m, &app, "/settings/taxonomy/NOPE").await.0, StatusCode::NOT_FOUND);

    // It is deactivated from the list.
    let (s, loc, _) =
        post(&m, &app, "/settings/taxonomy/CCTV_NVR_DISK/active", &[("_csrf", &mcsrf), ("active", "0")]).await;
    assert_eq!(
        (s, loc.as_str()),
        (StatusCode::SEE_OTHER, "/settings/taxonomy?ok=subcategory_deactivated#sub-CCTV_NVR_DISK")
    );
    let (_, html) = page(&m, &app, &loc).await;
    assert!(html.contains("已停用，诊断时不再可选"));
    let r = row(&html, "CCTV_NVR_DISK");
    assert!(r.contains("class=\"off\"") && r.contains("已停用") && r.contains("id=\"toggle-CCTV_NVR_DISK\""));
    assert_eq!(one(&app, &manager, "CCTV_NVR_DISK").await["active"], false);

    // A surveillance ticket: the diagnose form offers the active codes of its system only.
    let (t, _) = new_ticket(&app, "TAX-1", false).await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(act(&app, &eng, id, "accept", json!({})).await.0, StatusCode::OK);
    let (e, _) = app.browser("engineer").await;
    let (_, html) = page(&e, &app, &format!("/tickets/{id}")).await;
    assert!(html.contains("<option value=\"CCTV_NVR_DOWN\""), "an active code is offered");
    assert!(!html.contains("<option value=\"CCTV_NVR_DISK\""), "a deactivated code is not offered");
    assert!(!html.contains("<option value=\"NET_SW_DOWN\""), "another system's code is not offered");
    // … and refused when sent anyway.
    let diagnose = |code: &str| json!({"fault_type": "hardware", "fault_subcategory": code, "diagnosis": "硬盘坏道", "plan": "更换监控硬盘"});
    let (s, v) = act(&app, &eng, id, "diagnose", diagnose("CCTV_NVR_DISK")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "fault_subcategory");
    assert_eq!(v["error"]["message"], "故障子类：不是可选的值");
    let (_, t) = app.get_json(&eng, &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(t["status"], "triage", "nothing changed");
    let html = page(&e, &app, &format!("/tickets/{id}")).await.1;
    let version = hidden(&html, "version");
    let ecsrf = hidden(&html, "_csrf");
    let (s, _, html) = post(
        &e,
        &app,
        &format!("/tickets/{id}/act/diagnose"),
        &[
            ("_csrf", &ecsrf),
            ("version", &version),
            ("fault_type", "hardware"),
            ("fault_subcategory", "CCTV_NVR_DISK"),
            ("diagnosis", "硬盘坏道"),
            ("plan", "更换监控硬盘"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("故障子类：不是可选的值"));

    // Reactivated by API (code, system and fault type may be sent back, not changed): accepted again.
    let put = |body: Value| {
        let app = app.clone();
        let manager = manager.clone();
        async move { app.send_json(Method::PUT, &manager, "/api/v1/fault-subcategories/CCTV_NVR_DISK", &body).await }
    };
    let (s, v) = put(json!({"code": "CCTV_NVR_DISK", "system": "network", "fault_type": "software", "name_zh": "录像丢失", "name_en": "Recordings lost", "active": true})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        v["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["system", "fault_type"]);
    assert!(v["error"]["message"].as_str().unwrap().contains("系统：不可修改"));
    assert_eq!(one(&app, &manager, "CCTV_NVR_DISK").await["active"], false);
    let (s, v) = put(json!({"code": "CCTV_NVR_DISK", "system": "surveillance", "fault_type": "hardware", "name_zh": "录像丢失/保存天数不足", "name_en": "Recordings lost / too few days kept", "typical_cause": "硬盘坏 (7×24 写入)", "active": true})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["active"].as_bool(), v["name_zh"].as_str()), (Some(true), Some("录像丢失/保存天数不足")));
    let (s, _) = app
        .send_json(Method::PUT, &manager, "/api/v1/fault-subcategories/NOPE", &json!({"name_zh": "x", "name_en": "x"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, html) = page(&e, &app, &format!("/tickets/{id}")).await;
    assert!(html.contains("<option value=\"CCTV_NVR_DISK\""));
    let (s, v) = act(&app, &eng, id, "diagnose", diagnose("CCTV_NVR_DISK")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["fault_subcategory"], "CCTV_NVR_DISK");

    // Deactivating a code that tickets use keeps them as they are; the list counts them.
    let (s, v) = put(json!({"name_zh": "录像丢失/保存天数不足", "name_en": "Recordings lost / too few days kept", "typical_cause": "硬盘坏 (7×24 写入)", "active": false})).await;
    assert_eq!((s, v["active"].as_bool()), (StatusCode::OK, Some(false)), "{v}");
    let (_, t) = app.get_json(&eng, &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(t["fault_subcategory"], "CCTV_NVR_DISK");
    let (_, html) = page(&m, &app, "/settings/taxonomy").await;
    assert!(row(&html, "CCTV_NVR_DISK").contains("class=\"num\">1</td>"));

    // Every change is audited under its code with what it became.
    let entries = audit(&app).await;
    let actions: Vec<(&str, &str)> = entries.iter().map(|(a, s, _)| (a.as_str(), s.as_str())).collect();
    assert_eq!(actions, [("update", "CCTV_NVR_DISK"); 4]);
    let after: Vec<bool> = entries.iter().map(|(_, _, a)| a["active"].as_bool().unwrap()).collect();
    assert_eq!(after, [false, true, false, true]);
    assert_eq!(entries[3].2["name_zh"], "录像丢失");
});

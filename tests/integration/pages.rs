//! Pages through a browser-like client: forms, field messages, lists, paging, admin pages.

use crate::both;
use crate::common::TestApp;
use reqwest::StatusCode;

both!(school_and_equipment_forms_validate_and_save, |app: TestApp| async move {
    let (c, csrf) = app.browser("agent").await;
    // A bad school form: the page comes back with each field's message; nothing is written.
    let r = c
        .post(app.url("/customers/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", ""),
            ("code", "坏编码"),
            ("county", "青阳县"),
            ("town", "城关镇"),
            ("travel_minutes", "abc"),
            ("contacts[0].name", ""),
            ("contacts[0].phone", "138"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("路程（分钟）：格式不正确"), "{page}");
    let r = c
        .post(app.url("/customers/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", ""),
            ("code", "坏编码"),
            ("county", "青阳县"),
            ("town", "城关镇"),
            ("contacts[0].name", ""),
            ("contacts[0].phone", "138"),
        ])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    for m in ["名称：必填", "编码：格式不正确", "联系人 1 姓名：必填", "联系人 1 电话：格式不正确"]
    {
        assert!(page.contains(m), "{m} missing");
    }
    assert!(page.contains("value=\"坏编码\""), "the form keeps what was typed");
    assert_eq!(app.count("customers").await, 2);
    // A good one saves and goes to the school's page.
    let r = c
        .post(app.url("/customers/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "陵阳镇中心小学"),
            ("code", "QY-LY-01"),
            ("county", "青阳县"),
            ("town", "陵阳镇"),
            ("travel_minutes", "75"),
            ("contacts[0].name", "吴老师"),
            ("contacts[0].phone", "13905667777"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let page = c.get(app.url(&loc)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("陵阳镇中心小学") && page.contains("吴老师") && page.contains("已创建"));
    let id: i64 = loc.trim_start_matches("/customers/").split('?').next().unwrap().parse().unwrap();

    // Equipment: a duplicate serial shows at its field.
    let form = |serial: &str| {
        vec![
            ("_csrf".to_owned(), csrf.clone()),
            ("customer_id".into(), id.to_string()),
            ("system".into(), "classroom".into()),
            ("kind".into(), "交互式一体机".into()),
            ("brand".into(), "希沃".into()),
            ("serial_no".into(), serial.into()),
            ("installed_on".into(), "2023-09-01".into()),
            ("warranty_until".into(), "2026-08-31".into()),
            ("critical".into(), "true".into()),
        ]
    };
    let r = c.post(app.url("/equipment/new")).form(&form("SEEWO-001")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c.post(app.url("/equipment/new")).form(&form("seewo-001")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("序列号：已存在"));
    let page = c.get(app.url(&format!("/customers/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("SEEWO-001") && page.contains("班班通"));
    // Editing with a stale version says someone else changed it.
    let eq = app.get_json(&app.token("agent").await, "/api/v1/equipment?q=SEEWO-001").await.1;
    let eid = eq["items"][0]["id"].as_i64().unwrap();
    let mut f = form("SEEWO-001");
    f.push(("version".into(), "1".into()));
    f.push(("status".into(), "faulty".into()));
    assert_eq!(
        c.post(app.url(&format!("/equipment/{eid}/edit"))).form(&f).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let r = c.post(app.url(&format!("/equipment/{eid}/edit"))).form(&f).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("该记录已被其他人修改"));
});

both!(list_pages_search_filter_and_page, |app: TestApp| async move {
    let t = app.token("agent").await;
    for i in 0..30 {
        app.equipment(
            &t,
            app.school1,
            if i % 3 == 0 { "surveillance" } else { "network" },
            "设备",
            &format!("PG-{i:03}"),
        )
        .await;
    }
    let (c, _) = app.browser("agent").await;
    let page = c.get(app.url("/equipment")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("第 1 / 2 页，共 30 条"));
    let page2 = c.get(app.url("/equipment?page=2")).send().await.unwrap().text().await.unwrap();
    assert!(page2.contains("PG-000") && !page2.contains("PG-029"), "newest first, 25 a page");
    let page = c.get(app.url("/equipment?system=surveillance")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("PG-003") && !page.contains("PG-004"));
    let page = c.get(app.url("/customers?q=%E8%93%89%E5%9F%8E")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("蓉城镇初级中学") && !page.contains("城关镇中心小学"));
    let page = c.get(app.url("/search?q=PG-01")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("PG-010") && page.contains("PG-019"));
    // A ticket found by its title opens the ticket, not an equipment page of the same id.
    let (s, tk) = app
        .post_json(
            &t,
            "/api/v1/tickets",
            &serde_json::json!({"customer_id": app.school1, "title": "校门口监控黑屏", "system": "surveillance"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{tk}");
    let page =
        c.get(app.url("/search?q=%E7%9B%91%E6%8E%A7%E9%BB%91%E5%B1%8F")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("href=\"/tickets/{}\"", tk["id"])), "the hit links to its ticket");
    let x = c.get(app.url("/equipment/export?format=xlsx&system=network")).send().await.unwrap();
    assert_eq!(x.status(), StatusCode::OK);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
});

both!(admin_pages_manage_users_and_show_the_audit_trail, |app: TestApp| async move {
    let (c, csrf) = app.browser("admin").await;
    let r = c
        .post(app.url("/admin/users/new"))
        .form(&[("_csrf", csrf.as_str()), ("username", "xiaoli"), ("password", "short"), ("roles", "agent")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("密码：太短"));
    let r = c
        .post(app.url("/admin/users/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "xiaoli"),
            ("password", "long-enough-1"),
            ("display_name", "小李"),
            ("roles", "agent"),
            ("roles", "engineer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = c.get(app.url("/admin/users")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("xiaoli") && page.contains("客服人员 · 技术工程师"));
    let audit = c.get(app.url("/admin/audit?entity=user&action=create")).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("xiaoli"));
    let bad = c.get(app.url("/admin/audit?from=2026-13-01")).send().await.unwrap().text().await.unwrap();
    assert!(bad.contains("日期格式应为 YYYY-MM-DD"));
    // Others may not see these pages.
    let (t, _) = app.browser("tech").await;
    assert_eq!(t.get(app.url("/admin/audit")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(t.get(app.url("/admin/users/new")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(t.get(app.url("/customers/new")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
});

both!(import_page_reports_bad_rows, |app: TestApp| async move {
    let (c, csrf) = app.browser("agent").await;
    let bytes = crate::excel::workbook(&[(
        "设备",
        vec![
            vec!["学校编码", "系统", "类别", "序列号"],
            vec!["T-CG-01", "network", "AP", ""],
            vec!["T-CG-01", "network", "AP", "P-1"],
        ],
    )]);
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("设备.xlsx"));
    let r = c.post(app.url("/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("设备 第 2 行：序列号：必填"), "{page}");
    assert_eq!(app.count("equipment").await, 0);
    let bytes = crate::excel::workbook(&[(
        "设备",
        vec![vec!["学校编码", "系统", "类别", "序列号"], vec!["T-CG-01", "network", "AP", "P-1"]],
    )]);
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("a.xlsx"));
    let page = c.post(app.url("/import")).multipart(form).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("导入成功：学校 0 所，设备 1 台。"));
});

both!(unknown_pages_and_ids_are_a_404_page_in_the_users_language, |app: TestApp| async move {
    let (c, _) = app.browser("agent").await;
    for path in ["/no-such-page", "/customers/abc", "/equipment/99999", "/customers/99999/edit"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("lang=\"zh-CN\"") && (page.contains("没有这个页面") || page.contains("找不到该记录")),
            "{path}: {page}"
        );
    }
    let en = app.client.get(app.url("/nothing")).header("accept-language", "en").send().await.unwrap();
    assert_eq!(en.status(), StatusCode::NOT_FOUND);
    assert!(en.text().await.unwrap().contains("There is no such page"));
});

//! The storekeeper's movement forms on the stock page (receipt, transfer, adjustment,
//! return, scrap): each changes stock as the ledger says; refused forms say why on the page,
//! in Chinese, and change nothing; a technician gets no form. And the half-A4 领条.

use crate::both;
use crate::common::TestApp;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

struct Setup {
    part: i64,
    county: i64,
    town: i64,
}

/// An active part at ¥100 in the catalogue (and an inactive one), two depots, no stock.
async fn setup(app: &TestApp) -> Setup {
    let t = app.token("store").await;
    let (s, p) = app
        .post_json(&t, "/api/v1/parts", &json!({"code": "ap-1", "name": "无线AP", "unit": "台", "unit_cost": 100}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, v) = app
        .post_json(&t, "/api/v1/parts", &json!({"code": "old-1", "name": "停用网桥", "unit": "台", "active": false}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mut ids = Vec::new();
    for (code, name) in [("dep-1", "县仓"), ("dep-2", "乡镇仓")] {
        let (s, w) = app.post_json(&t, "/api/v1/warehouses", &json!({"code": code, "name": name})).await;
        assert_eq!(s, StatusCode::CREATED, "{w}");
        ids.push(w["id"].as_i64().unwrap());
    }
    Setup { part: p["id"].as_i64().unwrap(), county: ids[0], town: ids[1] }
}

/// (on hand, average cost in yuan) of a part in a warehouse, through the API.
async fn stock(app: &TestApp, part: i64, wh: i64) -> (i64, f64) {
    let t = app.token("store").await;
    let (s, v) = app.get_json(&t, &format!("/api/v1/stock?part_id={part}&warehouse_id={wh}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r = &v["items"][0];
    (r["on_hand"].as_i64().unwrap_or(0), r["avg_cost"].as_f64().unwrap_or(0.0))
}

/// One movement form as the page posts it.
fn form(csrf: &str, kind: &str, fields: &[(&str, String)]) -> Vec<(String, String)> {
    let mut f = vec![("_csrf".to_owned(), csrf.to_owned()), ("kind".to_owned(), kind.to_owned())];
    f.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    f
}

both!(stock_pages_each_kind_through_its_form, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let (part, county, town) = (s0.part, s0.county, s0.town);
    let (c, csrf) = app.browser("store").await;
    let page = c.get(app.url("/stock")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("action=\"/stock/movements\""), "the storekeeper sees the forms");
    for k in ["receipt", "transfer", "adjustment", "return", "scrap"] {
        assert!(page.contains(&format!("id=\"move-{k}-form\"")), "{k} form");
    }
    assert!(page.contains("出入库登记") && page.contains("采购入库") && page.contains("盘盈（增加）"));
    assert!(page.contains(&format!("<option value=\"{part}\">AP-1 · 无线AP</option>")), "the part picker");
    assert!(!page.contains("OLD-1"), "an inactive part is not offered");

    let before = app.count("stock_movements").await;
    let post = |f: Vec<(String, String)>| {
        let c = c.clone();
        let url = app.url("/stock/movements");
        async move { c.post(url).form(&f).send().await.unwrap() }
    };
    let ok = |r: reqwest::Response| {
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(to.contains("ok=movement_posted"), "{to}");
        to
    };

    // Receipt: 10 at ¥12.50 (typed in yuan), with the supplier.
    let r = post(form(
        &csrf,
        "receipt",
        &[
            ("part_id", part.to_string()),
            ("warehouse_id", county.to_string()),
            ("qty", "10".into()),
            ("unit_cost", "12.5".into()),
            ("note", "供应商：华为经销商".into()),
        ],
    ))
    .await;
    let to = ok(r);
    assert_eq!(stock(&app, part, county).await, (10, 12.5));
    let shown = c.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
    assert!(shown.contains("已登记"), "the flash after the redirect");
    assert!(shown.contains(&format!("id=\"stock-{part}-{county}\"")), "the row is on the page it lands on");

    // Transfer 4 to the town depot, at the same average cost.
    let r = post(form(
        &csrf,
        "transfer",
        &[
            ("part_id", part.to_string()),
            ("warehouse_id", county.to_string()),
            ("to_warehouse_id", town.to_string()),
            ("qty", "4".into()),
            ("note", "".into()),
        ],
    ))
    .await;
    ok(r);
    assert_eq!(stock(&app, part, county).await, (6, 12.5));
    assert_eq!(stock(&app, part, town).await, (4, 12.5));

    // Stocktake: one short in the county, two over in the town.
    for (wh, dir, qty, reason) in [(county, "decrease", "1", "盘亏 1 台"), (town, "increase", "2", "盘盈：找到 2 台")]
    {
        let r = post(form(
            &csrf,
            "adjustment",
            &[
                ("warehouse_id", wh.to_string()),
                ("part_id", part.to_string()),
                ("direction", dir.into()),
                ("qty", qty.into()),
                ("note", reason.into()),
            ],
        ))
        .await;
        ok(r);
    }
    assert_eq!(stock(&app, part, county).await.0, 5);
    assert_eq!(stock(&app, part, town).await.0, 6);

    // Two unused parts come back; one is scrapped in the town.
    let r = post(form(
        &csrf,
        "return",
        &[
            ("part_id", part.to_string()),
            ("warehouse_id", county.to_string()),
            ("qty", "2".into()),
            ("note", "未使用退回".into()),
        ],
    ))
    .await;
    ok(r);
    let r = post(form(
        &csrf,
        "scrap",
        &[("part_id", part.to_string()), ("warehouse_id", town.to_string()), ("qty", "1".into()), ("note", "".into())],
    ))
    .await;
    ok(r);
    assert_eq!(stock(&app, part, county).await.0, 7);
    assert_eq!(stock(&app, part, town).await.0, 5);
    assert_eq!(app.count("stock_movements").await, before + 6, "one ledger row per form");
    assert_eq!(
        app.count("stock_movements WHERE kind = 'adjustment' AND note IS NOT NULL").await,
        2,
        "the reasons are kept"
    );
    // The audit trail names every one of them in words, not as untranslated keys.
    let (admin, _) = app.browser("admin").await;
    let html = admin.get(app.url("/admin/audit?entity=stock_movement")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("库存变动") && html.contains("调拨") && html.contains("盘点调整"), "{html}");
    assert!(!html.contains("audit.action.") && !html.contains("audit.entity."), "{html}");
});

both!(stock_pages_refused_forms_change_nothing, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let (part, county) = (s0.part, s0.county);
    let t = app.token("store").await;
    let (s, v) = app
        .post_json(
            &t,
            "/api/v1/stock/movements",
            &json!({"kind": "receipt", "part_id": part, "warehouse_id": county, "qty": 3}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let before = app.count("stock_movements").await;
    let (c, csrf) = app.browser("store").await;
    let refused = |f: Vec<(String, String)>, open: &'static str, says: Vec<String>| {
        let c = c.clone();
        let url = app.url("/stock/movements");
        async move {
            let r = c.post(url).form(&f).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let html = r.text().await.unwrap();
            assert!(html.contains("flash-error"), "errors on the page");
            assert!(html.contains(&format!("id=\"move-{open}\" open")), "the refused form is open");
            for s in says {
                assert!(html.contains(&s), "{s:?} on the page");
            }
            html
        }
    };
    let base =
        |qty: &str| vec![("part_id", part.to_string()), ("warehouse_id", county.to_string()), ("qty", qty.into())];

    // A transfer to where it already is.
    let mut f = base("1");
    f.push(("to_warehouse_id", county.to_string()));
    refused(form(&csrf, "transfer", &f), "transfer", vec!["调入仓库：不能与出库仓库相同".into()]).await;
    // Nothing to receive.
    let html = refused(form(&csrf, "receipt", &base("0")), "receipt", vec!["数量：超出范围".into()]).await;
    assert!(html.contains("name=\"qty\" inputmode=\"numeric\" pattern=\"[0-9]*\" required value=\"0\""), "kept");
    // A price that is not a number.
    let mut f = base("1");
    f.push(("unit_cost", "十二元".into()));
    refused(form(&csrf, "receipt", &f), "receipt", vec!["单价（元）：格式不正确".into()]).await;
    // A stocktake variance without its reason.
    let mut f = base("1");
    f.extend([("direction", "decrease".to_string()), ("note", "  ".to_string())]);
    refused(form(&csrf, "adjustment", &f), "adjustment", vec!["原因：必填".into()]).await;
    // More than is on hand: the part and what is left.
    let says = vec!["库存不足".to_string(), "AP-1 无线AP".into(), "仅剩 3".into()];
    refused(form(&csrf, "scrap", &base("5")), "scrap", says.clone()).await;
    let mut f = base("4");
    f.push(("to_warehouse_id", s0.town.to_string()));
    refused(form(&csrf, "transfer", &f), "transfer", says.clone()).await;
    let mut f = base("9");
    f.extend([("direction", "decrease".to_string()), ("note", "盘亏".to_string())]);
    refused(form(&csrf, "adjustment", &f), "adjustment", says).await;

    assert_eq!(app.count("stock_movements").await, before, "nothing posted");
    assert_eq!(stock(&app, part, county).await.0, 3);
    assert_eq!(stock(&app, part, s0.town).await.0, 0);
    // Refused on a page filtered to one warehouse, it comes back filtered the same way.
    let mut f = base("0");
    f.push(("view_warehouse", county.to_string()));
    let html = refused(form(&csrf, "receipt", &f), "receipt", vec![]).await;
    assert!(html.contains(&format!("name=\"view_warehouse\" value=\"{county}\"")), "still filtered");
    // Without the session's token the post is refused before anything is read.
    let r = c.post(app.url("/stock/movements")).form(&form("forged", "receipt", &base("1"))).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(app.count("stock_movements").await, before);
});

both!(stock_pages_technician_gets_no_form, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let before = app.count("stock_movements").await;
    let (c, csrf) = app.browser("tech").await;
    let page = c.get(app.url("/stock")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"stock-filters\""), "he reads the stock page");
    assert!(!page.contains("action=\"/stock/movements\""), "but gets no movement form");
    for kind in ["receipt", "return"] {
        let f = form(
            &csrf,
            kind,
            &[("part_id", s0.part.to_string()), ("warehouse_id", s0.county.to_string()), ("qty", "1".into())],
        );
        let r = c.post(app.url("/stock/movements")).form(&f).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{kind}");
    }
    assert_eq!(app.count("stock_movements").await, before);
    assert_eq!(stock(&app, s0.part, s0.county).await.0, 0);
});

both!(stock_pages_half_a4_requisition_slip, |app: TestApp| async move {
    let s0 = setup(&app).await;
    let store = app.token("store").await;
    let (s, v) = app
        .post_json(
            &store,
            "/api/v1/stock/movements",
            &json!({"kind": "receipt", "part_id": s0.part, "warehouse_id": s0.county, "qty": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let agent = app.token("agent").await;
    let (s, t) = app
        .post_json(
            &agent,
            "/api/v1/tickets",
            &json!({"customer_id": app.school1, "title": "教室AP掉线", "system": "network"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let tech = app.token("tech").await;
    let (s, r) = app
        .post_json(
            &tech,
            "/api/v1/requisitions",
            &json!({"warehouse_id": s0.county, "ticket_id": t["id"], "purpose": "维修",
                    "lines": [{"part_id": s0.part, "qty": 2, "serial_no": "SN-A5"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    let no = r["requisition_no"].as_str().unwrap().to_owned();
    let manager = app.token("manager").await;
    let (s, a) = app.post_json(&manager, &format!("/api/v1/requisitions/{id}/actions/approve"), &json!({})).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let line = a["lines"][0]["id"].as_i64().unwrap();
    let (s, i) = app
        .post_json(
            &store,
            &format!("/api/v1/requisitions/{id}/actions/issue"),
            &json!({"lines": [{"line_id": line, "qty": 1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{i}");

    let (c, _) = app.browser("store").await;
    let get = |q: &'static str| {
        let c = c.clone();
        let url = app.url(&format!("/requisitions/{id}/print{q}"));
        async move {
            let r = c.get(url).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{q}");
            r.text().await.unwrap()
        }
    };
    let a5 = get("?size=a5").await;
    assert!(a5.contains("/assets/print_a5.css"), "the half-A4 page rule");
    assert!(a5.contains("class=\"paper paper-a5\""), "the compact layout");
    assert!(a5.contains("请使用 A5 纸横向打印"), "the tip says which paper");
    let ticket_no = t["number"].as_str().unwrap();
    for s in [
        no.as_str(),
        "领条",
        ticket_no,
        "请领数量",
        "实发数量",
        "tech 测试",
        "manager 测试",
        "store 测试",
        "领料人签字",
        "SN-A5",
    ] {
        assert!(a5.contains(s), "{s} on the half-A4 slip");
    }
    assert!(a5.contains(&format!("href=\"/requisitions/{id}/print?size=a4\"")), "the toggle back to A4");

    // A4 by default, and for a size it does not know (an old or mistyped link still prints).
    for q in ["", "?size=letter", "?size="] {
        let a4 = get(q).await;
        assert!(!a4.contains("print_a5.css") && !a4.contains("paper-a5"), "{q:?} is A4");
        assert!(a4.contains(&no) && a4.contains("领料人签字"), "{q:?}");
        assert!(a4.contains(&format!("href=\"/requisitions/{id}/print?size=a5\"")), "the toggle to half A4");
    }
});

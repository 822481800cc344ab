//! Field labels read in their area's sense: one API name (`category`, `direction`, `kind`)
//! means different things in different areas, and an error must name the field the user
//! filled in — in the API's message and on the page, in either language.

use crate::both;
use crate::common::TestApp;
use crate::defective::speak;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn message(e: &Value) -> &str {
    e["error"]["message"].as_str().unwrap()
}

both!(field_labels_in_the_warehouse_area, |app: TestApp| async move {
    speak(&app, "manager", "en").await;
    let zh = app.token("store").await;
    let en = app.token("manager").await;

    // A part's category is the catalogue's 分类, not a contact's 问题类型.
    let long = "分".repeat(31);
    let bad_part = json!({"code": "ap-9", "name": "无线AP", "unit": "台", "category": long});
    let (s, e) = app.post_json(&zh, "/api/v1/parts", &bad_part).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "category", "the API name stays as it is");
    assert!(message(&e).starts_with("分类"), "{e}");
    assert!(!message(&e).contains("问题类型"), "{e}");
    let (s, e) = app.post_json(&en, "/api/v1/parts", &bad_part).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(message(&e).starts_with("Category"), "{e}");

    let (s, p) = app.post_json(&zh, "/api/v1/parts", &json!({"code": "ap-9", "name": "无线AP", "unit": "台"})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, w) = app.post_json(&zh, "/api/v1/warehouses", &json!({"code": "dep-9", "name": "县仓"})).await;
    assert_eq!(s, StatusCode::CREATED, "{w}");

    // An adjustment's direction is 盘盈/盘亏, not a call's 呼入/呼出.
    let bad_move = json!({"kind": "adjustment", "part_id": p["id"], "warehouse_id": w["id"], "qty": 1,
        "direction": "sideways", "note": "盘点"});
    let (s, e) = app.post_json(&zh, "/api/v1/stock/movements", &bad_move).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "direction");
    assert!(message(&e).contains("调整方向"), "{e}");
    assert!(!message(&e).contains("呼入"), "{e}");
    let (s, e) = app.post_json(&en, "/api/v1/stock/movements", &bad_move).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(message(&e).contains("Adjustment direction"), "{e}");

    // A movement's kind is its type of movement; a warehouse's kind is depot or vehicle.
    let (s, e) = app
        .post_json(
            &zh,
            "/api/v1/stock/movements",
            &json!({"kind": "borrow", "part_id": p["id"], "warehouse_id": w["id"], "qty": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(message(&e).starts_with("变动类型"), "{e}");
    let (s, e) = app.post_json(&en, "/api/v1/warehouses", &json!({"code": "v-9", "name": "车", "kind": "truck"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(message(&e).starts_with("Warehouse type"), "{e}");

    // The contact's own meaning is unchanged.
    let agent = app.token("agent").await;
    let (s, e) = app.post_json(&agent, "/api/v1/contacts", &json!({"channel": "phone", "direction": "sideways"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["error"]["fields"].as_array().unwrap().iter().any(|f| f["field"] == "direction"), "{e}");
    assert!(message(&e).contains("呼入/呼出"), "{e}");

    // A requisition form on the page: the issuing warehouse and the line's quantity.
    let (c, csrf) = app.browser("tech").await;
    let part = p["code"].as_str().unwrap().to_owned();
    let form = [("_csrf", csrf.as_str()), ("warehouse_id", ""), ("part_0", part.as_str()), ("qty_0", "0")];
    let r = c.post(app.url("/requisitions/new")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("领用仓库") && html.contains("第 1 行领用数量"),
        "the page names the fields in the area's sense"
    );
});

//! Customers: create, read, update with versions, validation, duplicates, lists, audit.

use crate::both;
use crate::common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(create_read_update_with_contacts_and_audit, |app: TestApp| async move {
    let t = app.token("agent").await;
    let (s, c) = app
        .post_json(&t, "/api/v1/customers", &json!({
            "name": "木镇镇中心小学", "code": "qy-mz-01", "county": "青阳县", "town": "木镇镇", "address": "木镇镇老街 8 号",
            "travel_minutes": 45,
            "contacts": [{"name": "陈主任", "title": "信息中心主任", "phone": "139 0566 3333", "email": "chen@mz.edu.cn", "im": "12345"}]
        }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["code"], "QY-MZ-01");
    assert_eq!(c["version"], 1);
    assert_eq!(c["contacts"][0]["phone"], "139 0566 3333");
    let (s, got) = app.get_json(&t, &format!("/api/v1/customers/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["name"], "木镇镇中心小学");

    let mut body = json!({"name": "木镇镇中心学校", "code": "QY-MZ-01", "county": "青阳县", "town": "木镇镇", "contacts": [], "version": 1});
    let (s, upd) = app.send_json(Method::PUT, &t, &format!("/api/v1/customers/{id}"), &body).await;
    assert_eq!(s, StatusCode::OK, "{upd}");
    assert_eq!(upd["version"], 2);
    assert_eq!(upd["contacts"], json!([]));
    // The same stale version again is a conflict and changes nothing.
    body["name"] = json!("被覆盖");
    let (s, e) = app.send_json(Method::PUT, &t, &format!("/api/v1/customers/{id}"), &body).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "stale");
    assert_eq!(app.get_json(&t, &format!("/api/v1/customers/{id}")).await.1["name"], "木镇镇中心学校");

    // The trail has both writes, newest first, with before and after.
    let (_, log) =
        app.get_json(&app.token("manager").await, &format!("/api/v1/audit?entity=customer&entity_id={id}")).await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "update");
    assert!(items[0]["before_json"].as_str().unwrap().contains("木镇镇中心小学"));
    assert!(items[0]["after_json"].as_str().unwrap().contains("木镇镇中心学校"));
    assert_eq!(items[0]["actor_name"], "agent 测试");
    assert_eq!(items[1]["action"], "create");
});

both!(bad_customers_are_refused_with_the_field_named, |app: TestApp| async move {
    let t = app.token("agent").await;
    let (s, e) = app
        .post_json(
            &t,
            "/api/v1/customers",
            &json!({"name": " ", "code": "OK-1", "county": "青阳县", "town": "城关镇", "contacts": [{"phone": "12"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> =
        e["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["name", "contacts[0].name", "contacts[0].phone"]);
    assert!(e["error"]["message"].as_str().unwrap().contains("名称：必填"));
    let (s, e) = app
        .post_json(
            &t,
            "/api/v1/customers",
            &json!({"name": "重复", "code": "T-CG-01", "county": "青阳县", "town": "城关镇"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "duplicate");
    assert_eq!(e["error"]["fields"][0]["field"], "code");
    let (s, _) = app.post_json(&t, "/api/v1/customers", &json!({"name": 5})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(app.count("customers").await, 2);
    assert_eq!(app.get_json(&t, "/api/v1/customers/999999").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get_json(&t, "/api/v1/customers/abc").await.0, StatusCode::NOT_FOUND);
});

both!(customer_lists_filter_sort_and_page, |app: TestApp| async move {
    let t = app.token("agent").await;
    for i in 0..7 {
        let town = if i % 2 == 0 { "庙前镇" } else { "杨田镇" };
        let (s, _) = app.post_json(&t, "/api/v1/customers", &json!({"name": format!("{town}第{i}小学"), "code": format!("L-{i:02}"), "county": "青阳县", "town": town})).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (_, v) = app.get_json(&t, "/api/v1/customers?town=庙前镇").await;
    assert_eq!(v["total"], 4);
    let (_, v) = app.get_json(&t, "/api/v1/customers?sort=code&desc=true&per_page=3&page=2").await;
    assert_eq!(v["total"], 9);
    let codes: Vec<_> = v["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect();
    // T-RC-01, T-CG-01, L-06 fill page 1.
    assert_eq!(codes, ["L-05", "L-04", "L-03"]);
    let (s, e) = app.get_json(&t, "/api/v1/customers?page=x").await;
    assert_eq!((s, e["error"]["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("page")));
    // A contact's phone number finds the school.
    let (_, v) = app.get_json(&t, "/api/v1/customers?q=13905662222").await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["id"], app.school2);
});

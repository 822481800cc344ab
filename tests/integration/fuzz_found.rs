//! What the API fuzzer (`.ci/fuzz`, schemathesis against /api/v1/openapi.json) found: the
//! document must list every status code the API answers and describe every body it sends.

use crate::both;
use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The schema `s` with any `$ref` into `#/components/schemas` followed.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => resolve(doc, &doc["components"]["schemas"][name]),
        None => s,
    }
}

/// Checks `v` against `s` as far as the fuzzer's complaints went: every required property
/// present, all the way down through objects, arrays and `allOf`/`oneOf`/`anyOf`.
fn conforms(doc: &Value, s: &Value, v: &Value, at: &str) -> Result<(), String> {
    let s = resolve(doc, s);
    if let Some(all) = s["allOf"].as_array() {
        for sub in all {
            conforms(doc, sub, v, at)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s[key].as_array()
            && !alts.iter().any(|sub| conforms(doc, sub, v, at).is_ok())
        {
            return Err(format!("{at}: matches none of {key} {alts:?}: {v}"));
        }
    }
    // An enumerated value the document does not list: two enums of one name (contacts' and
    // stocktakes' `Direction`) became one schema and every contact broke it.
    if let (Some(allowed), Some(x)) = (s["enum"].as_array(), v.as_str())
        && !allowed.iter().any(|a| a.as_str() == Some(x))
    {
        return Err(format!("{at}: {x:?} is not one of {allowed:?}"));
    }
    if let (Some(obj), Some(required)) = (v.as_object(), s["required"].as_array()) {
        for r in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(r) {
                return Err(format!("{at}: required {r:?} missing from {v}"));
            }
        }
    }
    if let (Some(obj), Some(props)) = (v.as_object(), s["properties"].as_object()) {
        for (k, sub) in props {
            if let Some(x) = obj.get(k).filter(|x| !x.is_null()) {
                conforms(doc, sub, x, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Some(items), Some(sub)) = (v.as_array(), s.get("items")) {
        for (i, x) in items.iter().enumerate() {
            conforms(doc, sub, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The documented 200 body of `method path`.
fn ok_body<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &doc["paths"][path][method]["responses"];
    let r = if op["200"].is_object() { &op["200"] } else { &op["201"] };
    &r["content"]["application/json"]["schema"]
}

// The customer's contacts and the contact records were both `ContactRow`, so the document
// described a school's contact people as contact records (required `record_no`, ...): every
// customer the API sent broke its own schema.
both!(customer_contacts_and_contact_records_are_described_apart, |app: TestApp| async move {
    let t = app.token("agent").await;
    let (s, c) = app
        .post_json(
            &t,
            "/api/v1/customers",
            &json!({
                "name": "杨田中学", "code": "QY-YT-01", "county": "青阳县", "town": "杨田镇",
                "contacts": [{"name": "吴老师", "title": "网管", "phone": "13905661234"}]
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, rec) = app
        .post_json(&t, "/api/v1/contacts", &json!({
            "channel": "phone", "category": "consultation", "customer_id": c["id"], "content": "投影仪怎么切换信号源",
            // A Tuesday 10:00 in Shanghai: inside working hours, so no promise is asked for.
            "received_at": "2026-11-24T02:00:00Z",
        }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{rec}");
    let (_, doc) = app.get_json(&t, "/api/v1/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["CustomerContact"]["properties"]["position"].is_object(), "{}", schemas["CustomerContact"]);
    assert!(schemas["ContactRow"]["properties"]["record_no"].is_object(), "{}", schemas["ContactRow"]);
    // The same for what is sent: a school's contact people are not contact records.
    let body = resolve(
        &doc,
        &doc["paths"]["/api/v1/customers"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    );
    let person = resolve(&doc, &body["properties"]["contacts"]["items"]);
    assert!(person["properties"]["phone"].is_object() && person["properties"]["channel"].is_null(), "{person}");
    let record = resolve(
        &doc,
        &doc["paths"]["/api/v1/contacts"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    );
    // (a contact record's body is its input flattened with `open_ticket`: an `allOf`)
    assert!(resolve(&doc, &record["allOf"][0])["properties"]["channel"].is_object(), "{record}");

    for (path, at) in [
        ("/api/v1/customers/{id}", format!("/api/v1/customers/{}", c["id"])),
        ("/api/v1/customers", "/api/v1/customers".to_owned()),
        ("/api/v1/contacts/{id}", format!("/api/v1/contacts/{}", rec["id"])),
        ("/api/v1/contacts", "/api/v1/contacts".to_owned()),
    ] {
        let (s, body) = app.get_json(&t, &at).await;
        assert_eq!(s, StatusCode::OK, "{at}: {body}");
        conforms(&doc, ok_body(&doc, path, "get"), &body, &at).unwrap();
    }
});

// Most operations listed neither 401 nor the input check's 422, though every signed-in one
// answers 401 without a token and every one answers 422 to a control character (and every
// signed-in write a 429 over the write limit).
both!(every_operation_lists_the_shared_error_answers, |app: TestApp| async move {
    let (_, doc) = app.get_json("", "/api/v1/openapi.json").await;
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let anonymous = op["security"].as_array().is_some_and(|s| s.iter().any(|r| r == &json!({})));
            let params = op["parameters"].as_array().map(Vec::as_slice).unwrap_or_default();
            let mut want = vec!["422"];
            if !anonymous {
                want.push("401");
            }
            if params.iter().any(|p| p["in"] == "path") {
                want.push("404");
            }
            if op["requestBody"].is_object() {
                want.extend(["400", "413"]);
            }
            if !anonymous && method != "get" && path != "/api/v1/session" {
                want.push("429");
            }
            for code in want {
                if !op["responses"][code].is_object() {
                    missing.push(format!("{method} {path}: {code}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");

    // And the server does answer them: no token, a control character, an unknown id.
    let r = app.client.get(app.url("/api/v1/customers")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let t = app.token("agent").await;
    let (s, e) = app.get_json(&t, "/api/v1/customers?q=%07").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = app.get_json(&t, "/api/v1/customers/999999").await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (s, e) = app.get_json(&t, "/api/v1/tickets/999999/timeline").await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
});

/// Every `ToSchema` type's name in the document, from the source: `#[schema(as = X)]` or the
/// type's own name. utoipa keys schemas by that name, so two types sharing one silently
/// become one schema (the second replaces the first) and one of them is described wrongly.
#[test]
fn no_two_schema_types_share_a_name() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("crates"), &mut files);
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut pending: Option<Option<String>> = None;
        // `string_enum!(Name { … })` derives ToSchema inside the macro, named where it is called.
        let mut in_enum_macro = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("string_enum!(") {
                in_enum_macro = true;
                continue;
            }
            if in_enum_macro && !line.starts_with("//") && !line.starts_with("#[") {
                // The first item after the docs: `Name {` or `Name { A = "a", … }`.
                in_enum_macro = false;
                let name: String = line.chars().take_while(|c| c.is_alphanumeric()).collect();
                if !name.is_empty() && line[name.len()..].trim_start().starts_with('{') {
                    seen.entry(name).or_default().push(f.strip_prefix(root).unwrap().display().to_string());
                }
                continue;
            }
            if line.starts_with("#[derive(") && line.contains("ToSchema") {
                pending = Some(None);
            } else if let Some(alias) = line.strip_prefix("#[schema(as = ").and_then(|l| l.split(')').next()) {
                if let Some(p) = pending.as_mut() {
                    *p = Some(alias.rsplit("::").next().unwrap_or(alias).trim().to_owned());
                }
            } else if let Some(p) = pending.as_ref()
                && let Some(rest) = line.strip_prefix("pub struct ").or_else(|| line.strip_prefix("pub enum "))
            {
                let own: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let name = p.clone().unwrap_or(own);
                pending = None;
                // `pub struct $name` in a macro: named where it is called, out of reach here.
                if name.is_empty() {
                    continue;
                }
                seen.entry(name).or_default().push(f.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    assert!(seen.len() > 50, "found only {} schema types: is the scan still reading the source?", seen.len());
    let clashes: Vec<_> = seen.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(clashes.is_empty(), "schema names used by more than one type: {clashes:#?}");
}

// A school's user and an agent meet permission checks the document did not list: each of
// these answered 403 (and a ticket naming an unknown school 404) where the fuzzer was told
// only of other codes.
both!(refusals_the_fuzzer_met_are_documented, |app: TestApp| async move {
    let (_, doc) = app.get_json("", "/api/v1/openapi.json").await;
    let listed = |method: &str, path: &str, code: &str| doc["paths"][path][method]["responses"][code].is_object();
    let school = app.token("school1").await;
    for (path, at) in [
        ("/api/v1/sla-policies", "/api/v1/sla-policies".to_owned()),
        ("/api/v1/fault-subcategories", "/api/v1/fault-subcategories".to_owned()),
        ("/api/v1/parts/export", "/api/v1/parts/export".to_owned()),
    ] {
        let (s, e) = app.get_json(&school, &at).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{at}: {e}");
        assert!(listed("get", path, "403"), "GET {path} does not list 403");
    }
    let (s, e) = app
        .send_json(
            reqwest::Method::PUT,
            &school,
            &format!("/api/v1/customers/{}", app.school1),
            &json!({
                "name": "改名", "code": "X-1", "county": "青阳县", "town": "城关镇", "contacts": [], "version": 1
            }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(listed("put", "/api/v1/customers/{id}", "403"));
    for (method, path) in [
        ("patch", "/api/v1/parts/{id}"),
        ("patch", "/api/v1/warehouses/{id}"),
        ("get", "/api/v1/contacts/{id}"),
        ("patch", "/api/v1/contacts/{id}"),
        ("post", "/api/v1/contacts/{id}/callback"),
        ("post", "/api/v1/contacts/{id}/read"),
        ("get", "/api/v1/parts/{id}"),
        ("get", "/api/v1/warehouses/{id}"),
        ("put", "/api/v1/equipment/{id}"),
    ] {
        assert!(listed(method, path, "403"), "{method} {path} does not list 403");
    }
    // The fuzzer's own case: a school's user opening a ticket on no equipment.
    let (s, e) = app
        .post_json(
            &school,
            "/api/v1/tickets",
            &json!({
                "customer_id": null, "description": "", "equipment_ids": [], "priority": "", "reporter_name": "",
                "reporter_phone": "", "source": "", "system": "", "title": null
            }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    assert!(listed("post", "/api/v1/tickets", "404"));
});

//! Chinese search on both databases: 2-character words, serials and models by prefix,
//! contacts, every word must match, nothing unrelated.

use crate::both;
use crate::common::TestApp;
use serde_json::{Value, json};

/// Search hits name their serial as `number`; list rows as `serial_no`.
fn numbers(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["number"].as_str().or(h["serial_no"].as_str()).unwrap_or_default().to_owned())
        .collect();
    n.sort();
    n
}

both!(search_finds_chinese_words_serials_and_contacts, |app: TestApp| async move {
    let t = app.token("agent").await;
    for (sys, kind, serial, model, loc) in [
        ("surveillance", "网络摄像机", "DS2CD-0001", "DS-2CD3T46WDV3-I3", "校门口监控立杆"),
        ("network", "无线AP", "HW-AP-0002", "AirEngine5761", "教学楼 3 楼走廊"),
        ("broadcast", "IP广播主机", "DSP-0003", "MAG6182", "行政楼广播室"),
    ] {
        let (s, v) = app.post_json(&t, "/api/v1/equipment", &json!({"customer_id": app.school1, "system": sys, "kind": kind, "serial_no": serial, "model": model, "location": loc})).await;
        assert_eq!(s, reqwest::StatusCode::CREATED, "{v}");
    }
    let q = |q: &str| {
        let app = app.clone();
        let t = t.clone();
        let q = q.to_owned();
        async move { app.get_json(&t, &format!("/api/v1/search?q={}", aftercare_web_encode(&q))).await.1 }
    };
    // A 2-character word finds what contains it…
    assert_eq!(numbers(&q("立杆").await), ["DS2CD-0001"]);
    assert_eq!(numbers(&q("广播").await), ["DSP-0003"]);
    // …the system's Chinese name finds its equipment…
    assert_eq!(numbers(&q("监控").await), ["DS2CD-0001"]);
    // …but characters that are not contiguous do not: 网监 is not in 网络监控.
    assert!(numbers(&q("网监").await).is_empty());
    assert!(numbers(&q("机房").await).is_empty());
    // Serial numbers and model codes, whole or by prefix, any case.
    assert_eq!(numbers(&q("ds2cd-0001").await), ["DS2CD-0001"]);
    assert_eq!(numbers(&q("AirEngine").await), ["HW-AP-0002"]);
    assert_eq!(numbers(&q("mag61").await), ["DSP-0003"]);
    // Every word must match.
    assert_eq!(numbers(&q("监控 立杆").await), ["DS2CD-0001"]);
    assert!(numbers(&q("监控 广播室").await).is_empty());
    // Schools by name and by a contact's name or phone; kind tells what a hit is.
    let v = q("王老师 蓉城镇").await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["kind"], "customer");
    assert_eq!(v["items"][0]["id"], app.school2);
    let v = q("1390566111").await;
    assert_eq!(v["items"][0]["id"], app.school1);
    // Punctuation and operators are just characters.
    assert!(numbers(&q("\" OR * NEAR(").await).is_empty());
    assert_eq!(q("").await["total"], 0);
    // The equipment list's search box uses the same index.
    let (_, v) = app.get_json(&t, &format!("/api/v1/equipment?q={}", aftercare_web_encode("教学楼 走廊"))).await;
    assert_eq!(numbers(&v), ["HW-AP-0002"]);
    // Renaming a school re-indexes its equipment under the new name.
    let body = json!({"name": "城关镇实验小学", "code": "T-CG-01", "county": "青阳县", "town": "城关镇"});
    let (s, _) = app.send_json(reqwest::Method::PUT, &t, &format!("/api/v1/customers/{}", app.school1), &body).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let (_, v) = app.get_json(&t, &format!("/api/v1/equipment?q={}", aftercare_web_encode("实验小学 立杆"))).await;
    assert_eq!(numbers(&v), ["DS2CD-0001"]);
});

fn aftercare_web_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

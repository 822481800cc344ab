//! Excel: the template, all-or-nothing imports with a report of every bad row, exports.

use crate::both;
use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

/// A workbook with the given sheets, each a header row and data rows.
pub fn workbook(sheets: &[(&str, Vec<Vec<&str>>)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (i, r) in rows.iter().enumerate() {
            for (j, v) in r.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(i as u32, j as u16, *v).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

const SCHOOL_HEAD: [&str; 9] =
    ["学校编码", "学校名称", "县", "乡镇", "地址", "路程(分钟)", "联系人1", "职务1", "电话1"];
const EQUIP_HEAD: [&str; 11] =
    ["学校编码", "系统", "类别", "品牌", "型号", "序列号", "位置", "安装日期", "保修截止", "关键设备", "状态"];

async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = app.client.post(app.url("/api/v1/import")).bearer_auth(token).body(bytes).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

both!(a_good_workbook_imports_schools_and_their_equipment, |app: TestApp| async move {
    let t = app.token("agent").await;
    let bytes = workbook(&[
        (
            "学校",
            vec![
                SCHOOL_HEAD.to_vec(),
                vec![
                    "QY-YT-01",
                    "杨田镇中心小学",
                    "青阳县",
                    "杨田镇",
                    "杨田街 1 号",
                    "60",
                    "周老师",
                    "电教管理员",
                    "13905669999",
                ],
            ],
        ),
        (
            "设备",
            vec![
                EQUIP_HEAD.to_vec(),
                vec![
                    "QY-YT-01",
                    "校园监控",
                    "NVR",
                    "海康威视",
                    "DS-7932N-R4",
                    "IMP-0001",
                    "中心机房",
                    "2021-09-01",
                    "2024-08-31",
                    "是",
                    "在用",
                ],
                vec![
                    "T-CG-01",
                    "classroom",
                    "投影机",
                    "爱普生",
                    "CB-X50",
                    "IMP-0002",
                    "302 教室",
                    "2020-03-01",
                    "",
                    "否",
                    "",
                ],
            ],
        ),
    ]);
    let (s, v) = import(&app, &t, bytes).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["customers"], 1);
    assert_eq!(v["equipment"], 2);
    let (_, list) = app.get_json(&t, "/api/v1/equipment?sort=serial").await;
    assert_eq!(list["items"][0]["serial_no"], "IMP-0001");
    assert_eq!(list["items"][0]["system"], "surveillance");
    assert_eq!(list["items"][0]["critical"], true);
    assert_eq!(list["items"][0]["customer_name"], "杨田镇中心小学");
    assert_eq!(list["items"][1]["customer_id"], app.school1);
    let (_, c) = app.get_json(&t, "/api/v1/customers?q=周老师").await;
    assert_eq!(c["items"][0]["contacts"][0]["phone"], "13905669999");
});

both!(one_bad_row_rejects_the_whole_file_with_every_row_named, |app: TestApp| async move {
    let t = app.token("agent").await;
    app.equipment(&t, app.school1, "network", "AP", "TAKEN-1").await;
    let bytes = workbook(&[
        (
            "学校",
            vec![
                SCHOOL_HEAD.to_vec(),
                vec!["QY-NEW-01", "新学校", "青阳县", "新河镇", "", "abc", "", "", ""],
                vec!["T-CG-01", "重复编码", "青阳县", "城关镇", "", "", "", "", ""],
            ],
        ),
        (
            "设备",
            vec![
                EQUIP_HEAD.to_vec(),
                vec!["QY-NEW-01", "校园监控", "摄像机", "", "", "OK-1", "", "", "", "", ""],
                vec!["QY-NEW-01", "校园灯光", "灯", "", "", "OK-2", "", "2021-02-30", "", "也许", ""],
                vec!["NOPE", "network", "AP", "", "", "TAKEN-1", "", "", "", "", ""],
                vec!["T-CG-01", "network", "AP", "", "", "OK-1", "", "", "", "", ""],
            ],
        ),
    ]);
    let before = (app.count("customers").await, app.count("equipment").await, app.count("audit_log").await);
    let (s, v) = import(&app, &t, bytes).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["code"], "import_rejected");
    let messages: Vec<String> =
        v["error"]["rows"].as_array().unwrap().iter().map(|r| r["message"].as_str().unwrap().to_owned()).collect();
    let expect = [
        "学校 第 2 行：路程（分钟）：格式不正确",
        "学校 第 3 行：编码：已存在",
        "设备 第 3 行：系统：不是可选的值",
        "设备 第 3 行：安装日期：日期格式应为 YYYY-MM-DD",
        "设备 第 3 行：关键设备：格式不正确",
        "设备 第 4 行：学校编码：不存在",
        "设备 第 4 行：序列号：已存在",
        "设备 第 5 行：序列号：已存在",
    ];
    for e in expect {
        assert!(messages.iter().any(|m| m == e), "missing {e:?} in {messages:#?}");
    }
    assert_eq!(messages.len(), expect.len(), "{messages:#?}");
    assert_eq!(before, (app.count("customers").await, app.count("equipment").await, app.count("audit_log").await));
});

both!(broken_and_oversized_uploads_are_refused, |app: TestApp| async move {
    let t = app.token("agent").await;
    let (s, v) = import(&app, &t, b"PK\x03\x04 not really a workbook".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["fields"][0]["field"], "file");
    let (s, v) = import(&app, &t, workbook(&[("Sheet1", vec![vec!["x"]])])).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["fields"][0]["code"], "no_sheets");
    let huge = vec![0u8; aftercare_web::MAX_BODY_BYTES + 1024];
    let r = app.client.post(app.url("/api/v1/import")).bearer_auth(&t).body(huge).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("customers").await, 2);
    // A school user may not import.
    let (s, _) = import(&app, &app.token("school1").await, workbook(&[("学校", vec![SCHOOL_HEAD.to_vec()])])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

both!(exports_round_trip_through_the_template_format, |app: TestApp| async move {
    let t = app.token("agent").await;
    app.equipment(&t, app.school1, "surveillance", "网络摄像机", "EXP-0001").await;
    app.equipment(&t, app.school2, "network", "无线AP", "EXP-0002").await;
    // CSV of a filtered list, with a BOM for Excel and Chinese headers.
    let csv = app.get(&t, "/api/v1/equipment/export?format=csv&system=surveillance").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("\u{feff}学校编码,系统,类别"));
    assert!(text.contains("T-CG-01,校园监控,网络摄像机,海康威视,DS-2CD3T46,EXP-0001"));
    assert!(!text.contains("EXP-0002"));
    // The xlsx export of schools imports again into a fresh database as the same schools.
    let xlsx = app.get(&t, "/api/v1/customers/export").await;
    assert!(xlsx.headers()["content-disposition"].to_str().unwrap().contains(".xlsx"));
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let equip = app.get(&t, "/api/v1/equipment/export").await.bytes().await.unwrap().to_vec();
    let (url, pg) = crate::common::fresh_database(app.backend).await;
    let db = aftercare_store::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let svc = aftercare_service::Services::new(db.clone());
    let admin = aftercare_service::Actor {
        id: aftercare_domain::UserId(0),
        username: "t".into(),
        display_name: "t".into(),
        roles: vec![aftercare_domain::Role::Admin],
        customer_id: None,
        locale: "zh-CN".into(),
    };
    let s1 = svc.import_xlsx(&admin, &bytes).await.unwrap();
    let s2 = svc.import_xlsx(&admin, &equip).await.unwrap();
    assert_eq!((s1.customers, s2.equipment), (2, 2));
    db.close().await;
    if let Some((a, n)) = pg {
        crate::common::drop_database(&a, &n).await;
    }
    // The template downloads and has both sheets.
    let tpl = app.get(&t, "/api/v1/import/template").await;
    assert_eq!(tpl.status(), StatusCode::OK);
    assert!(tpl.bytes().await.unwrap().starts_with(b"PK"));
});

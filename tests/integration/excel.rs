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

/// A workbook of one sheet holding a header in A1 and a cell in XFD1048576, the last
/// cell Excel has: 6 KB, declaring a grid of 17 billion cells.
pub fn far_corner(sheet: &str, header: &str) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    ws.write_string(0, 0, header).unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

/// A workbook whose first sheet (named `sheet`, header `header`) expands to `mib` MiB of
/// `filler` yet zips to about a thousandth of that.
pub fn zip_bomb(sheet: &str, header: &str, filler: &[u8], mib: usize) -> Vec<u8> {
    use std::io::Write;
    let base = workbook(&[(sheet, vec![vec![header]])]);
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(base)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..src.len() {
        let f = src.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        if name != "xl/worksheets/sheet1.xml" {
            out.raw_copy_file(f).unwrap();
            continue;
        }
        out.start_file(name, deflated).unwrap();
        out.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#).unwrap();
        let chunk: Vec<u8> = filler.iter().copied().cycle().take((1 << 20) / filler.len() * filler.len()).collect();
        for _ in 0..mib {
            out.write_all(&chunk).unwrap();
        }
        out.write_all(b"</sheetData></worksheet>").unwrap();
    }
    out.finish().unwrap().into_inner()
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

both!(a_workbook_declaring_the_last_cell_is_refused_and_the_server_lives, |app: TestApp| async move {
    let t = app.token("agent").await;
    let before = (app.count("customers").await, app.count("equipment").await, app.count("audit_log").await);
    let bytes = far_corner("学校", "学校编码");
    assert!(bytes.len() < 10_000, "{}", bytes.len());
    let (s, v) = import(&app, &t, bytes).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "file", "{v}");
    assert_eq!(v["error"]["fields"][0]["code"], "too_many_rows", "{v}");
    assert_eq!(v["error"]["fields"][0]["message"], "文件：行数超过上限", "{v}");
    // A column past the limit, in English.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Equipment").unwrap();
    ws.write_string(0, 0, "Serial no.").unwrap();
    ws.write_string(1, 5000, "x").unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/import"))
        .bearer_auth(&t)
        .header("accept-language", "en")
        .body(wb.save_to_buffer().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["fields"][0]["code"], "too_many_columns", "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "file", "{v}");
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(before, (app.count("customers").await, app.count("equipment").await, app.count("audit_log").await));
});

both!(a_zip_bomb_is_refused_by_what_it_really_expands_to, |app: TestApp| async move {
    let t = app.token("agent").await;
    let before = (app.count("customers").await, app.count("equipment").await, app.count("audit_log").await);
    let bomb = zip_bomb("学校", "学校编码", b" ", 110);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let (s, v) = import(&app, &t, bomb).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "file", "{v}");
    assert_eq!(v["error"]["fields"][0]["code"], "too_much_data", "{v}");
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(before, (app.count("customers").await, app.count("equipment").await, app.count("audit_log").await));
});

both!(imports_at_once_do_not_stall_other_requests, |app: TestApp| async move {
    let t = app.token("agent").await;
    // Well under the size limit, yet seconds of parsing each (in a debug build): empty cells.
    let slow = zip_bomb("学校", "学校编码", br#"<c r="A1"></c>"#, 12);
    // The test server has two async workers. Sent one after another, each import is taken by
    // a free worker; parsed there, the first two would hold every other request until they ended.
    // Timed from the first: a stalled worker would delay the sleeps as much as the list.
    let started = std::time::Instant::now();
    let mut imports = Vec::new();
    for _ in 0..4 {
        let (client, url, t, slow) = (app.client.clone(), app.url("/api/v1/import"), t.clone(), slow.clone());
        imports.push(tokio::spawn(async move { client.post(url).bearer_auth(t).body(slow).send().await.unwrap() }));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (s, _) = app.get_json(&t, "/api/v1/customers").await;
    let took = started.elapsed();
    assert_eq!(s, StatusCode::OK);
    // 0.8 s of pauses, a list of milliseconds; the parses take seconds.
    assert!(took < std::time::Duration::from_millis(2800), "a list took {took:?} while imports ran");
    for i in imports {
        let r = i.await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["customers"], 0);
    }
});

both!(csv_exports_neutralise_formulas_and_import_again, |app: TestApp| async move {
    let t = app.token("agent").await;
    let (s, v) = app
        .post_json(
            &t,
            "/api/v1/equipment",
            &serde_json::json!({"customer_id": app.school1, "system": "network",
            "kind": "=HYPERLINK(\"http://x\",\"y\")", "serial_no": "-3", "location": "@SUM(A1)"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let text = app.get(&t, "/api/v1/equipment/export?format=csv").await.text().await.unwrap();
    assert!(text.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","), "{text}");
    assert!(text.contains(",'-3,'@SUM(A1),"), "{text}");
    assert!(!text.contains(",=") && !text.contains(",-") && !text.contains(",@"), "{text}");
    // Opened in a spreadsheet and saved, the cells keep their `'`; the import takes it off.
    let table: Vec<Vec<String>> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| {
            let l = l.replace("\"\"", "\u{1}");
            let mut cells = Vec::new();
            let mut quoted = false;
            let mut cell = String::new();
            for ch in l.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut cell)),
                    c => cell.push(c),
                }
            }
            cells.push(cell);
            cells.into_iter().map(|c| c.replace('\u{1}', "\"")).collect()
        })
        .collect();
    let rows: Vec<Vec<&str>> = table.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    // The same device again would be a duplicate serial: import it as a new one.
    let mut rows: Vec<Vec<&str>> =
        rows.into_iter().filter(|r| r[0] == "学校编码" || r[2].contains("HYPERLINK")).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    rows[1][5] = "'-4";
    let (s, v) = import(&app, &t, workbook(&[("设备", rows)])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, list) = app.get_json(&t, "/api/v1/equipment?sort=serial").await;
    let kinds: Vec<(&str, &str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["serial_no"].as_str().unwrap(), e["location"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("=HYPERLINK(\"http://x\",\"y\")", "-4", "@SUM(A1)")), "{kinds:?}");
});

both!(a_ticket_titled_as_a_formula_exports_as_text, |app: TestApp| async move {
    let agent = app.token("agent").await;
    let title = "=HYPERLINK(\"http://x\",\"y\")";
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/tickets",
            &serde_json::json!({"customer_id": app.school1, "system": "network", "title": title,
            "description": "点开看看", "reporter_name": "王老师", "reporter_phone": "+8613905661111"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (c, _) = app.browser("agent").await;
    let csv = c.get(app.url("/tickets?format=csv")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","), "{csv}");
    assert!(!csv.contains(",=") && !csv.contains(",\"="), "{csv}");
});

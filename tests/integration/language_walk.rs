//! Every page speaks the reader's language (issue 12, "Consistency"): a crawler signs in as
//! each role, follows the links it is shown from the start page, and reads every HTML page.
//! In English no CJK character may remain outside names and data (the paper forms keep
//! their Chinese titles in `<h1>`); in either language no catalogue key may show, which is
//! what rust-i18n renders for a key it does not know.
//!
//! All data the test writes is Chinese, so that a Chinese word on an English page is either
//! one of those strings (listed, and removed before the check) or a translation we lack.

use crate::both;
use crate::common::TestApp;
use crate::tickets::{act, in_progress, visit};
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::collections::{HashMap, HashSet, VecDeque};

/// Pages read per role at most; enough for every page kind the role is shown.
const MAX_PAGES: usize = 300;
/// Pages of one shape (path with the numbers taken out, and the query's names): the third
/// ticket or the third day back reads like the first two.
const MAX_PER_SHAPE: usize = 2;

/// Text the test wrote, or the seeding wrote: names and data, never UI.
const DATA: &[&str] = &[
    // Seeded by the harness (common.rs): schools, towns, county, contacts, user names.
    "城关镇中心小学",
    "蓉城镇初级中学",
    "城关镇王老师",
    "蓉城镇王老师",
    "城关镇",
    "蓉城镇",
    "青阳县",
    "测试",
    // tickets::new_ticket, in_progress and visit.
    "监控录像丢失",
    "NVR 录像只保存了 3 天",
    "王老师",
    "硬盘坏道",
    "更换监控硬盘",
    "更换 4TB 监控硬盘, 恢复录像计划",
    "监控硬盘 4TB × 1",
    "旧硬盘 WD40PURX 序列号 WX12345",
    // What this test adds.
    "海康威视",
    "校门口立杆",
    "八口交换机",
    "六类网线",
    "县城备件库",
    "台",
    "箱",
    "机房交换机坏",
    "网络时断时续",
    "电教管理员",
    "教室投影机不亮",
    "请尽快处理",
    "备件已领",
    "同意",
    "建议更换整机",
    "工程师回复：重启交换机",
    "复核通过",
];

/// Chinese that is right on an English page: the language switch names Chinese in Chinese,
/// and the phrase library's placeholder for the company is typed as it is.
const UI_CHINESE: &[&str] = &["中文", "{公司}"];

/// The paper forms keep their Chinese titles (in `<h1>`, and quoted in 《》).
const PAPER_TITLES: &[&str] = &[
    "故障分析表",
    "上门维修记录表",
    "客服代表电话接听记录表",
    "领用单",
    "外出工作记录表",
    "下周工作计划",
    "技术会议纪要",
    "月度数据分析",
    "考核对比表",
    "《",
    "》",
];

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x3000..=0x303F | 0xFF00..=0xFFEF)
}

/// One piece of what a reader sees: a text node, or an attribute that is read (title,
/// placeholder, aria-label …), with the element it is in.
struct Piece {
    text: String,
    in_h1: bool,
}

fn unescape(s: &str) -> String {
    let mut s = s.to_owned();
    // Numeric references (askama writes `"` as `&#34;`).
    while let Some(start) = s.find("&#") {
        let Some(len) = s[start..].find(';') else { break };
        let code = &s[start + 2..start + len];
        let c = match code.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => code.parse::<u32>().ok(),
        };
        let c = c.and_then(char::from_u32).unwrap_or('\u{FFFD}');
        s.replace_range(start..start + len + 1, &c.to_string());
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The attributes of a tag's source (`a href="/x" class=y`), names lower-cased.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = tag.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'>' {
            i += 1;
        }
        let name = tag[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = tag[vs..i].to_owned();
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = tag[vs..i].to_owned();
            }
        }
        if !name.is_empty() {
            out.push((name, unescape(&value)));
        }
        if i == start {
            i += 1;
        }
    }
    out
}

/// What a reader sees of a page: text outside `<script>`, `<style>` and `<textarea>`
/// (typed data), and the attributes that are read out or shown. Values of inputs are
/// data, but a button's value is its label, and so are a datalist's suggestions. An
/// element the page declares Chinese (`lang="zh-CN"`: a name in Chinese, what an agent says
/// on the phone) is data.
fn pieces(html: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = html;
    let mut in_h1 = false;
    let mut in_datalist = false;
    // Inside an element declared Chinese: its name and how deep in its own kind we are.
    let mut chinese: Option<(String, usize)> = None;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if chinese.is_none() {
                out.push(Piece { text: unescape(rest), in_h1 });
            }
            break;
        };
        if lt > 0 && chinese.is_none() {
            out.push(Piece { text: unescape(&rest[..lt]), in_h1 });
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map(|e| &after[e + 3..]).unwrap_or("");
            continue;
        }
        // The end of the tag, quotes respected.
        let mut quote = None;
        let mut end = rest.len();
        for (i, ch) in rest.char_indices().skip(1) {
            match (quote, ch) {
                (None, '"' | '\'') => quote = Some(ch),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let tag = &rest[1..end.min(rest.len())];
        rest = if end < rest.len() { &rest[end + 1..] } else { "" };
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!').collect();
        let name = name.to_ascii_lowercase();
        if let Some((el, depth)) = &mut chinese {
            if name == *el {
                *depth += 1;
            } else if name.strip_prefix('/') == Some(el.as_str()) {
                *depth -= 1;
                if *depth == 0 {
                    chinese = None;
                }
            }
            continue;
        }
        match name.as_str() {
            "h1" => in_h1 = true,
            "/h1" => in_h1 = false,
            "datalist" => in_datalist = true,
            "/datalist" => in_datalist = false,
            "script" | "style" | "textarea" => {
                let close = format!("</{name}");
                rest = rest.find(&close).map(|e| &rest[e..]).unwrap_or("");
                continue;
            }
            _ => {}
        }
        if name.starts_with('/') || name.starts_with('!') {
            continue;
        }
        let attrs = attributes(&tag[name.len()..]);
        let void = matches!(name.as_str(), "input" | "img" | "br" | "meta" | "link" | "option" | "hr");
        if name != "html" && !void && attrs.iter().any(|(n, v)| n == "lang" && v.starts_with("zh")) {
            chinese = Some((name.clone(), 1));
            continue;
        }
        let kind = attrs.iter().find(|(n, _)| n == "type").map(|(_, v)| v.as_str()).unwrap_or("");
        for (n, v) in &attrs {
            let shown = matches!(n.as_str(), "title" | "placeholder" | "aria-label" | "alt" | "data-label")
                || n.starts_with("data-confirm")
                || (n == "value" && name == "input" && matches!(kind, "submit" | "button" | "reset"))
                || (n == "value" && name == "option" && in_datalist);
            if shown && !v.is_empty() {
                out.push(Piece { text: v.clone(), in_h1 });
            }
        }
    }
    out
}

/// Words that look like a catalogue key (`tickets.view.to_review`, `field.xyz`): lower-case
/// words joined by dots, not part of an address, a file name or an e-mail.
fn key_like(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_lowercase() || c == b'_';
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !word(b[i]) || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b"@/.:-_%".contains(&b[i - 1]))) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (word(b[i]) || b[i] == b'.') {
            i += 1;
        }
        let mut tok = &text[start..i];
        tok = tok.trim_end_matches('.');
        let followed = b.get(start + tok.len()).copied();
        let in_word = followed.is_some_and(|c| c.is_ascii_alphanumeric() || b"@/(-".contains(&c));
        let parts: Vec<&str> = tok.split('.').collect();
        let looks = parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()) && parts.iter().all(|p| p.len() >= 2);
        // File names the pages show (`report.xlsx`) are not keys.
        let file = ["xlsx", "csv", "png", "jpg", "pdf", "zip", "cn", "com", "txt", "eml"]
            .contains(parts.last().unwrap_or(&""));
        if looks && !in_word && !file {
            found.push(tok.to_owned());
        }
        if i == start {
            i += 1;
        }
    }
    found
}

/// The CJK left in a piece once names, data and allowed words are taken out, with the
/// piece for context; `None` when nothing is left.
fn stray_cjk(p: &Piece, data: &[String]) -> Option<String> {
    let mut t = p.text.clone();
    // The titles first: a short datum (a phrase named 接听) would break one apart.
    if p.in_h1 {
        for title in PAPER_TITLES {
            t = t.replace(title, " ");
        }
    }
    for d in data {
        t = t.replace(d.as_str(), " ");
    }
    for u in UI_CHINESE {
        t = t.replace(u, " ");
    }
    // Full-width brackets around data (王老师（电教管理员）) are the data's own.
    let left: String = t.chars().filter(|c| is_cjk(*c)).collect();
    if left.is_empty() { None } else { Some(format!("{left:?} in {:?}", snippet(&p.text))) }
}

fn snippet(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 120 { s.chars().take(120).collect::<String>() + "…" } else { s }
}

/// Links worth following: same-origin pages and workbooks; no photos, signatures or
/// attachments, no signing out.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in html.split("href=\"").skip(1) {
        let Some(href) = part.split('"').next() else { continue };
        let href = unescape(href);
        let href = href.split('#').next().unwrap_or("").trim_end_matches(['&', '?']).to_owned();
        if !href.starts_with('/') || href.starts_with("//") {
            continue;
        }
        let path = href.split('?').next().unwrap_or("");
        let skip = path.starts_with("/assets/")
            || path == "/logout"
            || [".csv", ".png", ".jpg", ".svg", ".zip", ".eml"].iter().any(|e| path.ends_with(e))
            || ["/photos/", "/attachments/", "/files/", "/signature", "/raw"].iter().any(|s| path.contains(s));
        // Pagination beyond the second page adds nothing.
        let deep_page = href
            .split(['?', '&'])
            .any(|kv| kv.strip_prefix("page=").and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n > 2));
        if !skip && !deep_page {
            out.push(href);
        }
    }
    out
}

/// A page's shape: its path with numbers replaced, and the names in its query.
fn shape(href: &str) -> String {
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    // Ids and codes (`/tickets/12`, `/settings/taxonomy/NET_LOOP`) are one shape.
    let code = |s: &str| {
        s.chars().any(|c| c.is_ascii_digit())
            || (!s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c == '-'))
    };
    let path: String = path.split('/').map(|s| if code(s) { "N" } else { s }).collect::<Vec<_>>().join("/");
    let mut names: Vec<&str> = query.split('&').filter_map(|kv| kv.split('=').next()).collect();
    names.sort();
    format!("{path}?{}", names.join("&"))
}

/// Walks the pages `who` is shown, in `lang`, and returns what is wrong on them.
async fn walk(app: &TestApp, who: &str, lang: &str, data: &[String]) -> (Vec<String>, usize) {
    let (c, csrf) = app.browser(who).await;
    let r = c.post(app.url("/lang")).form(&[("_csrf", csrf.as_str()), ("lang", lang), ("next", "/")]).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::SEE_OTHER, "{who} switches to {lang}");
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    let mut shapes: HashMap<String, usize> = HashMap::new();
    // The start page, and pages only a form or a script leads to: a search, a page that is
    // not there, the caller pop-up.
    let mut queue =
        VecDeque::from(["/", "/search?q=WALK", "/tickets/999999", "/desk/pop?phone=13905661111"].map(str::to_owned));
    let mut read = 0;
    while let Some(href) = queue.pop_front() {
        if read >= MAX_PAGES {
            break;
        }
        if !seen.insert(href.clone()) {
            continue;
        }
        let n = shapes.entry(shape(&href)).or_default();
        *n += 1;
        if *n > MAX_PER_SHAPE {
            continue;
        }
        read += 1;
        if std::env::var_os("AFTERCARE_WALK_VERBOSE").is_some() {
            eprintln!("[{who}/{lang}] {href}");
        }
        let r = get(&c, app, &href).await;
        let status = r.status();
        if status.is_redirection() {
            if let Some(to) = r.headers().get("location").and_then(|l| l.to_str().ok()) {
                queue.push_back(to.to_owned());
            }
            continue;
        }
        if status.is_server_error() {
            failures.push(format!("[{who}/{lang}] {href}: {status}"));
            continue;
        }
        let content_type = r.headers().get("content-type").and_then(|t| t.to_str().ok()).unwrap_or("").to_owned();
        if content_type.contains("spreadsheetml") {
            if lang == "en" {
                let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                for s in dedup(workbook_pieces(&bytes).iter().filter_map(|p| stray_cjk(p, data)).collect()) {
                    failures.push(format!("[{who}/{lang}] {href}: Chinese in the workbook {s}"));
                }
            }
            continue;
        }
        if !content_type.starts_with("text/html") {
            continue;
        }
        let html = r.text().await.unwrap_or_default();
        let mut keys = Vec::new();
        let mut cjk = Vec::new();
        for p in pieces(&html) {
            keys.extend(key_like(&p.text).into_iter().map(|k| format!("{k:?} in {:?}", snippet(&p.text))));
            if lang == "en"
                && let Some(s) = stray_cjk(&p, data)
            {
                cjk.push(s);
            }
        }
        for k in dedup(keys) {
            failures.push(format!("[{who}/{lang}] {href}: untranslated key {k}"));
        }
        for s in dedup(cjk) {
            failures.push(format!("[{who}/{lang}] {href}: Chinese {s}"));
        }
        for l in links(&html) {
            if !seen.contains(&l) {
                queue.push_back(l);
            }
        }
    }
    (failures, read)
}

/// Every sheet's name and every cell of a workbook.
fn workbook_pieces(bytes: &[u8]) -> Vec<Piece> {
    use calamine::{Reader, Xlsx};
    let Ok(mut wb) = calamine::open_workbook_from_rs::<Xlsx<_>, _>(std::io::Cursor::new(bytes.to_vec())) else {
        return vec![Piece { text: "（not a workbook）".into(), in_h1: false }];
    };
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        if let Ok(range) = wb.worksheet_range(&name) {
            out.extend(range.rows().flat_map(|r| r.iter().map(|c| Piece { text: c.to_string(), in_h1: false })));
        }
        out.push(Piece { text: name, in_h1: false });
    }
    out
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|x| seen.insert(x.clone())).collect()
}

async fn get(c: &Client, app: &TestApp, path: &str) -> reqwest::Response {
    c.get(app.url(path)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// Fills the pages: a ticket through a visit with a review, a contact, parts in a depot, a
/// requisition and a suggestion — all in Chinese.
async fn some_data(app: &TestApp) {
    let agent = app.token("agent").await;
    let store = app.token("store").await;
    let eng = app.token("engineer").await;
    let tech = app.token("tech").await;
    let manager = app.token("manager").await;

    // A ticket visited and signed, and a fresh one on other equipment.
    let (id, _) = in_progress(app, "WALK-1").await;
    let (s, v) = app.post_json(&tech, &format!("/api/v1/tickets/{id}/visits"), &visit("fixed", true)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    app.equipment(&agent, app.school1, "surveillance", "IPC", "WALK-2").await;
    let (s, t) = app
        .post_json(
            &agent,
            "/api/v1/tickets",
            &json!({"customer_id": app.school2, "title": "机房交换机坏", "description": "网络时断时续", "system": "network"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let fresh = t["id"].as_i64().unwrap();
    let (s, v) = act(app, &eng, fresh, "accept", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A call to the desk and a missed one.
    let now = chrono::Utc::now();
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "repair", "customer_id": app.school1, "caller_name": "王老师",
                    "caller_title": "电教管理员", "caller_phone": "13905661111", "content": "教室投影机不亮",
                    "received_at": now, "handling": "to_engineer",
                    "promised_at": now + chrono::Duration::hours(2), "talk_seconds": 95}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .post_json(
            &agent,
            "/api/v1/contacts",
            &json!({"channel": "phone", "category": "complaint", "customer_id": app.school2, "caller_phone": "13905662222",
                    "content": "请尽快处理", "received_at": now, "answered": false}),
        )
        .await;
    assert!(s.is_success(), "{v}");

    // Parts in a depot, and a requisition for the visit.
    let mut parts = Vec::new();
    for (code, name, unit) in [("SW-8", "八口交换机", "台"), ("CAT6", "六类网线", "箱")] {
        let (s, v) = app
            .post_json(
                &store,
                "/api/v1/parts",
                &json!({"code": code, "name": name, "unit": unit, "unit_cost": 100, "min_qty": 2}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        parts.push(v["id"].as_i64().unwrap());
    }
    let (s, v) = app.post_json(&store, "/api/v1/warehouses", &json!({"code": "DEPOT", "name": "县城备件库"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let depot = v["id"].as_i64().unwrap();
    let (s, v) = app
        .post_json(
            &store,
            "/api/v1/stock/movements",
            &json!({"kind": "receipt", "part_id": parts[0], "warehouse_id": depot, "qty": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, r) = app
        .post_json(
            &tech,
            "/api/v1/requisitions",
            &json!({"warehouse_id": depot, "ticket_id": id, "purpose": "备件已领", "lines": [{"part_id": parts[0], "qty": 1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_i64().unwrap();
    let (s, v) =
        app.post_json(&manager, &format!("/api/v1/requisitions/{rid}/actions/approve"), &json!({"note": "同意"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// The strings of the seeded catalogue that are data: the courteous phrases (edited by the
/// administrator, in Chinese only), the company's name, the typical causes of the fault
/// catalogue (kept in Chinese only), the inspection checklists' items and standards (the
/// engineer's, in Chinese).
async fn seeded_data(app: &TestApp) -> Vec<String> {
    let company = "县教育信息化售后服务中心";
    // The checklists are written on their first read.
    let (s, _) = app.get_json(&app.token("engineer").await, "/api/v1/inspections/checklist").await;
    assert_eq!(s, StatusCode::OK);
    let sql = "SELECT title FROM phrases UNION ALL SELECT text FROM phrases \
               UNION ALL SELECT value FROM settings WHERE key = 'company_name' \
               UNION ALL SELECT typical_cause FROM fault_subcategories \
               UNION ALL SELECT text FROM checklist_items UNION ALL SELECT standard FROM checklist_items \
               UNION ALL SELECT unit FROM checklist_items";
    let rows: Vec<Option<String>> = match &app.db {
        aftercare_store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        aftercare_store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    };
    let mut out = Vec::new();
    for r in rows.into_iter().flatten() {
        // A phrase shows `{公司}` as the company's name and its blanks (`工号XX`) apart.
        let shown = r.replace("{公司}", company);
        out.extend(shown.split('X').map(str::to_owned));
        out.extend(r.split(['X', '{', '}']).map(str::to_owned));
        out.push(shown);
        out.push(r);
    }
    out
}

/// Data first by length, so a long string goes before the short one inside it.
fn data_strings(seeded: Vec<String>) -> Vec<String> {
    let mut all: Vec<String> = DATA.iter().map(|s| s.to_string()).chain(seeded).filter(|s| !s.is_empty()).collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
    all.dedup();
    all
}

const ROLES: &[&str] = &["admin", "manager", "agent", "engineer", "tech", "store", "school1"];

both!(every_english_page_is_english_and_no_page_shows_a_key, |app: TestApp| async move {
    some_data(&app).await;
    let data = data_strings(seeded_data(&app).await);
    let mut failures = Vec::new();
    for lang in ["en", "zh-CN"] {
        for who in ROLES {
            let (f, read) = walk(&app, who, lang, &data).await;
            eprintln!("{who} in {lang}: {read} pages, {} problems", f.len());
            assert!(read >= 3, "{who} in {lang} read only {read} pages");
            failures.extend(f);
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
});

#[test]
fn the_checks_find_what_they_should() {
    let html = r#"<html><head><title>Tickets</title><script>var a = "中文";</script></head>
        <body><h1>故障分析表</h1><p title="tickets.view.to_review">Open</p>
        <a href="/tickets/1?page=3">x</a><a href="/tickets/2#a">y</a><a href="/x.xlsx">z</a>
        <input name="q" value="王老师的数据"><input type="submit" value="保存">
        <textarea>随便写</textarea><span>field.xyz 王老师 mail wang@school.cn</span>
        <td lang="zh-CN"><b>交换机</b>死机</td><datalist><option value="等待备件"></datalist></body></html>"#;
    let p = pieces(html);
    let keys: Vec<String> = p.iter().flat_map(|p| key_like(&p.text)).collect();
    assert_eq!(keys, ["tickets.view.to_review", "field.xyz"]);
    let data = vec!["王老师".to_owned()];
    let cjk: Vec<String> = p.iter().filter_map(|p| stray_cjk(p, &data)).collect();
    assert_eq!(cjk.len(), 2, "{cjk:?}");
    assert!(cjk[0].contains("保存") && cjk[1].contains("等待备件"), "{cjk:?}");
    assert_eq!(unescape("&#34;a&#x27;"), "\"a'");
    assert_eq!(links(html), ["/tickets/2", "/x.xlsx"]);
    assert_eq!(shape("/tickets/12?page=1&q=a"), "/tickets/N?page&q");
    assert_eq!(shape("/settings/taxonomy/NET_LOOP"), "/settings/taxonomy/N?");
    assert!(key_like("e.g. report.xlsx, example.com, 1.5, v0.1").is_empty());
}

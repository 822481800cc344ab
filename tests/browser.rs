//! Browser tests, in Chinese, in headless Chromium: the agent adds a school and equipment
//! and finds it (desktop and phone); and one ticket goes from the agent's entry through the
//! engineer's triage and dispatch and the technician's phone view with a drawn signature
//! to the callback; and a school reports a fault on its portal, follows it and rates the
//! repair, on a phone; and parts requested for a ticket are approved, issued, used on the
//! visit with a defective return, and show on the stock page and the printed repair record
//! with the visit's photo; and every role lands on its own start page and opens the first
//! count on it, the desk's picker finds a school by name and by phone, search groups its
//! hits; the desk, the requisition and the visit forms fit a 360 px phone.
//!
//! Run with `cargo test --test browser -- --ignored`; it needs `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (Debian: `apt-get install chromium chromium-driver fonts-noto-cjk`).
//! The server runs in-process on a free port against a fresh SQLite file; chromedriver is
//! started on another free port and always shut down (with its browser) when the test ends.
//! On failure the working folder is kept with a screenshot, the page source and
//! chromedriver's log. Set `AFTERCARE_BROWSER_SHOTS=<dir>` to keep screenshots of a passing run.
//!
//! The browser is driven with `fantoccini` over a plain `hyper-util` connector (no TLS).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aftercare_domain::users::UserInput;
use aftercare_service::Services;
use aftercare_store::Db;
use fantoccini::Locator::Css;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::fmt::Debug;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const AGENT: &str = "agent";
const AGENT_PASSWORD: &str = "password-agent-42";
/// The other people of the ticket journey: (username, password, role, name).
const STAFF: &[(&str, &str, &str, &str)] = &[
    ("manager", "password-manager-42", "manager", "赵经理"),
    ("engineer", "password-engineer-42", "engineer", "王工程师"),
    ("tech", "password-tech-42", "technician", "张师傅"),
    ("store", "password-store-42", "storekeeper", "刘库管"),
];
/// The school's administrator, a `customer` user of the school created at boot.
const SCHOOL: &str = "school";
const SCHOOL_PASSWORD: &str = "password-school-42";
/// The number the desk journey's call comes from (the school's contact person).
const DESK_CALLER: &str = "0566-5012345";
/// How long to wait for a page to show what a step expects.
const PATIENCE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn agent_adds_school_and_equipment_then_finds_it_on_desktop_and_phone() {
    run(|c, base| async move { journey(c, base).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn a_ticket_from_the_call_to_the_callback() {
    run(|c, base| async move { ticket_journey(c, base).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn a_school_reports_a_fault_follows_it_and_rates_the_repair() {
    run(|c, base| async move { school_journey(c, base).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn the_desk_pops_the_caller_and_a_repair_call_becomes_a_ticket() {
    run(|c, base| async move { desk_journey(c, base).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn parts_requested_for_a_ticket_are_issued_used_on_the_visit_and_shown_in_stock() {
    run(|c, base| async move { parts_journey(c, base).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn each_role_lands_on_its_home_and_opens_the_first_item_and_search_and_pickers_work() {
    run(|c, base| async move { homes_journey(c, base).await }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn the_storekeeper_posts_a_receipt_from_the_phone() {
    run(|c, base| async move { receipt_journey(c, base).await }).await;
}

/// On a phone, the storekeeper opens the receipt form on the stock page, picks the disk
/// (part id 1) and the depot (id 1, 5 on hand from the boot), receives 3 at ¥500 and lands
/// on the depot's stock showing 8.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn a_technician_does_an_inspection_round_on_a_phone_and_the_fault_reaches_the_engineer() {
    run(inspection_journey).await;
}

/// The engineer plans today's round (API); on a 360 px phone the technician finds it on his
/// home, starts it, judges each line with a tap (each saved at once: a reload keeps them),
/// one fault, signs and completes; the engineer finds the fault's ticket to triage.
async fn inspection_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    let (http, eng, _) = staff_api(&base, "engineer", "password-engineer-42").await;
    let (_, _, tech_id) = staff_api(&base, "tech", "password-tech-42").await;
    let schools: Value =
        http.get(format!("{base}/api/v1/customers")).bearer_auth(&eng).send().await.unwrap().json().await.unwrap();
    let school = schools["items"][0]["id"].as_i64().unwrap();
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive().to_string();
    let round = api_post(
        &http,
        &base,
        &eng,
        "/api/v1/inspections",
        json!({"customer_id": school, "phase": "mid", "systems": ["surveillance"], "planned_on": today,
            "technician_ids": [tech_id]}),
    )
    .await;
    let id = round["id"].as_i64().unwrap();
    let lines = round["items"].as_array().unwrap().len();
    assert!(lines >= 5, "a round of the surveillance checklist: {round}");

    c.set_window_size(360, 780).await?;
    sign_in_as(c, &base, "tech", "password-tech-42").await?;
    wait_for_text(c, "#card-my_inspections", "1").await;
    el(c, "#my-rounds a").await.click().await?;
    wait_until(
        c,
        "the round's page",
        || async move { path(c).await },
        |p| p.starts_with(&format!("/inspections/{id}")),
    )
    .await;
    fits_the_screen(c, "the inspection page").await?;
    el(c, "#inspection-start").await.click().await?;
    wait_for_text(c, "#inspection-status", "巡检中").await;
    fits_the_screen(c, "the round under way").await?;
    shot(c, "i1-round").await?;
    // A tap per line: the first is a fault with a note, the rest normal.
    let forms = c.find_all(Css("form.line-form")).await?;
    assert_eq!(forms.len(), lines);
    for (n, f) in forms.iter().enumerate() {
        c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(f).unwrap()]).await?;
        if n == 0 {
            f.find(Css("input[name=note]")).await?.send_keys("2 号盘 SMART 告警").await?;
            f.find(Css("label.chip-fault")).await?.click().await?;
        } else {
            f.find(Css("label.chip-ok")).await?.click().await?;
        }
    }
    wait_for_text(c, "#lines-done", &lines.to_string()).await;
    // Saved line by line: a reload shows every line judged.
    wait_until(
        c,
        "every line saved",
        || async move {
            c.refresh().await?;
            Ok(c.find_all(Css(".inspection-line.judged")).await?.len())
        },
        |n| *n == lines,
    )
    .await;
    let note = value(c, ".inspection-line input[name=note]").await?;
    assert!(note.contains("SMART"), "the fault's note was saved: {note}");
    let fault = c.find(Css(".inspection-line input[name=result][value=fault]")).await?.prop("checked").await?;
    assert_eq!(fault.as_deref(), Some("true"), "the first line is a fault after the reload");
    // The school signs on the phone; the round completes.
    let pad = el(c, "#signature-pad").await;
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&pad).unwrap()]).await?;
    let stroke = MouseActions::new("finger".into())
        .then(PointerAction::MoveToElement { element: pad, duration: None, x: -60.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(120)), x: 60.0, y: -30.0 })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(120)), x: 60.0, y: 40.0 })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(stroke).await?;
    el(c, "#signer-name").await.send_keys("王老师").await?;
    el(c, "#handled-on-site, #complete-form textarea[name=handled_on_site]").await.send_keys("NVR 除尘").await?;
    el(c, "#inspection-complete").await.click().await?;
    wait_for_text(c, "#inspection-status", "已完成").await;
    let signed = el(c, "#signed img.signature").await;
    let loaded = c.execute("return arguments[0].naturalWidth", vec![serde_json::to_value(&signed).unwrap()]).await?;
    assert!(loaded.as_u64().unwrap_or(0) > 0, "the drawn signature is stored and shown");
    shot(c, "i2-completed").await?;
    sign_out(c).await?;

    // The engineer's triage queue has the fault's ticket, linked back to the round.
    c.set_window_size(1280, 900).await?;
    sign_in_as(c, &base, "engineer", "password-engineer-42").await?;
    el(c, "#card-triage").await.click().await?;
    let list = wait_for_text(c, "main", "巡检异常").await;
    assert!(list.contains("SMART") || list.contains("巡检异常"), "{list}");
    c.find(Css("main a[href^='/tickets/']")).await?;
    c.goto(&format!("{base}/inspections/{id}")).await?;
    let line = el(c, ".inspection-line a[href^='/tickets/']").await;
    line.click().await?;
    wait_for_text(c, "main", "巡检异常").await;
    shot(c, "i3-ticket").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn a_technician_takes_a_trip_on_a_phone_and_the_day_board_and_form_6_show_it() {
    run(trip_journey).await;
}

/// The engineer plans today's trip to the school with the vehicle (API; the stop takes the
/// school's repair under way). On a 360 px phone the technician ticks what to bring, leaves
/// one line unticked and says why, departs with the odometer, arrives, records the visit
/// from the stop (the trip's times filled in), leaves, and comes back with the odometer and
/// a toll. The desk's day board shows him out, then back; the printed form 6 shows it all.
async fn trip_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    let (http, eng, _) = staff_api(&base, "engineer", "password-engineer-42").await;
    let (_, mgr, _) = staff_api(&base, "manager", "password-manager-42").await;
    let (_, tech, tech_id) = staff_api(&base, "tech", "password-tech-42").await;
    let (_, agent, _) = staff_api(&base, AGENT, AGENT_PASSWORD).await;
    let schools: Value =
        http.get(format!("{base}/api/v1/customers")).bearer_auth(&eng).send().await.unwrap().json().await.unwrap();
    let school = schools["items"][0]["id"].as_i64().unwrap();
    let t = api_post(
        &http,
        &base,
        &agent,
        "/api/v1/tickets",
        json!({"customer_id": school, "system": "surveillance", "title": "门口摄像头黑屏", "reporter_name": "王老师"}),
    )
    .await;
    let ticket = t["id"].as_i64().unwrap();
    let now = chrono::Utc::now();
    for (who, action, body) in [
        (&eng, "accept", json!({})),
        (
            &eng,
            "diagnose",
            json!({"fault_type": "hardware", "diagnosis": "摄像机电源坏", "plan": "更换 PoE 模块", "parts_to_bring": "PoE 供电模块 1 个"}),
        ),
        (&eng, "schedule", json!({"technician_ids": [tech_id], "scheduled_at": now.to_rfc3339()})),
        (&tech, "start", json!({})),
    ] {
        api_post(&http, &base, who, &format!("/api/v1/tickets/{ticket}/actions/{action}"), body).await;
    }
    let van =
        api_post(&http, &base, &mgr, "/api/v1/vehicles", json!({"plate": "皖L·6F218", "name": "售后工程车"})).await;
    let today = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive().to_string();
    let trip = api_post(&http, &base, &eng, "/api/v1/trips",
        json!({"trip_date": today, "staff_ids": [tech_id], "vehicle_id": van["id"], "planned_start": "00:00", "planned_end": "23:59",
            "stops": [{"customer_id": school}]})).await;
    let id = trip["id"].as_i64().unwrap();
    let items = trip["items"].as_array().unwrap().len();
    assert!(items >= 3, "tools and the part to bring: {trip}");
    assert!(trip["items"].as_array().unwrap().iter().any(|i| i["text"].as_str().unwrap().contains("PoE")), "{trip}");

    c.set_window_size(360, 780).await?;
    sign_in_as(c, &base, "tech", "password-tech-42").await?;
    c.goto(&format!("{base}/trips?view=mine")).await?;
    el(c, &format!("#trip-{id} a")).await.click().await?;
    wait_for_text(c, "#trip-status", "待出发").await;
    fits_the_screen(c, "the trip page").await?;
    // Tick every line but the last, one tap each (each tap saves and comes back).
    for n in 0..items - 1 {
        let b = el(c, "#bring li:not(.checked) button.tick").await;
        c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&b).unwrap()]).await?;
        b.click().await?;
        wait_for_text(c, "#bring-count", &format!("{}/{items}", n + 1)).await;
    }
    shot(c, "w1-bring").await?;
    el(c, "#depart-form input[name=odometer]").await.send_keys("48210").await?;
    // Leaving with a line unticked and no reason: the form says why not.
    el(c, "#trip-depart").await.click().await?;
    wait_for_text(c, "#depart-form", "未勾选").await;
    el(c, "#depart-form input[name=reason]").await.send_keys("梯子学校有").await?;
    el(c, "#trip-depart").await.click().await?;
    wait_for_text(c, "#trip-status", "外出中").await;
    fits_the_screen(c, "the trip out").await?;
    let stop = trip["stops"][0]["id"].as_i64().unwrap();
    el(c, &format!("#arrive-{stop}")).await.click().await?;
    wait_for_text(c, &format!("#stop-{stop}"), "到达").await;
    // The visit from the stop: the trip's times are already there.
    el(c, &format!("#visit-{ticket}")).await.click().await?;
    let departed = value(c, "#visit-form input[name=departed_at]").await?;
    assert!(departed.starts_with(&today), "the departure filled in from the trip: {departed:?}");
    el(c, "#visit-form textarea[name=work_done]").await.send_keys("更换 PoE 模块，画面恢复").await?;
    el(c, "#visit-form input[name=result][value=partial]").await.click().await?;
    el(c, "#save-visit").await.click().await?;
    wait_for_text(c, ".flash", "上门记录已保存").await;
    c.goto(&format!("{base}/trips/{id}")).await?;
    el(c, &format!("#leave-form-{stop} input[name=confirmed_by]")).await.send_keys("王老师").await?;
    el(c, &format!("#leave-{stop}")).await.click().await?;
    wait_for_text(c, &format!("#stop-{stop}"), "王老师").await;
    // Back: the odometer and a toll.
    el(c, "#return-form input[name=odometer]").await.send_keys("48273").await?;
    el(c, "#return-form input[name=cost_toll]").await.send_keys("15").await?;
    el(c, "#return-form textarea[name=summary]").await.send_keys("摄像头恢复").await?;
    shot(c, "w2-return").await?;
    el(c, "#trip-return").await.click().await?;
    wait_for_text(c, "#trip-status", "已返回").await;
    let back = wait_for_text(c, "#trip-back", "63 km").await;
    assert!(back.contains("15.00"), "the toll: {back}");
    fits_the_screen(c, "the trip back").await?;
    shot(c, "w3-back").await?;
    sign_out(c).await?;

    // The desk's day board: back at the depot after the trip; form 6 on A4.
    c.set_window_size(1280, 900).await?;
    sign_in_as(c, &base, AGENT, AGENT_PASSWORD).await?;
    c.goto(&format!("{base}/attendance")).await?;
    let card = wait_for_text(c, &format!("#person-{tech_id}"), "张师傅").await;
    assert!(
        card.contains("在岗") && card.contains(trip["number"].as_str().unwrap()) && card.contains("已离开"),
        "{card}"
    );
    shot(c, "w4-board").await?;
    c.goto(&format!("{base}/trips/{id}/print")).await?;
    let paper = wait_for_text(c, "#paper", "外出工作记录表").await;
    for want in ["63 km", "¥15.00", "王老师", "48210", "48273", "皖L·6F218", "PoE"] {
        assert!(paper.contains(want), "form 6 shows {want}: {paper}");
    }
    shot(c, "w5-form6").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn the_engineer_runs_the_weekly_meeting_and_the_manager_accepts_its_rectification() {
    run(meeting_journey).await;
}

/// Faults this week on the school (API). The engineer schedules the meeting, adds two
/// points and moves the second up, proposes a rectification from the meeting, records the
/// minutes with who came; the manager accepts the rectification from his home card; the
/// analysis page shows the chart and its table.
async fn meeting_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    let (http, _, _) = staff_api(&base, "engineer", "password-engineer-42").await;
    let (_, agent, _) = staff_api(&base, AGENT, AGENT_PASSWORD).await;
    let schools: Value =
        http.get(format!("{base}/api/v1/customers")).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    let school = schools["items"][0]["id"].as_i64().unwrap();
    for (system, title) in [("network", "教学楼断网"), ("network", "机房交换机重启"), ("broadcast", "广播无声")]
    {
        api_post(
            &http,
            &base,
            &agent,
            "/api/v1/tickets",
            json!({"customer_id": school, "system": system, "title": title, "reporter_name": "王老师"}),
        )
        .await;
    }
    c.set_window_size(1280, 900).await?;
    sign_in_as(c, &base, "engineer", "password-engineer-42").await?;
    c.goto(&format!("{base}/meetings")).await?;
    el(c, "#meeting-new").await.click().await?;
    wait_for_text(c, "#meeting-status", "待召开").await;
    for point in ["广播系统故障回顾", "城关片区断网原因分析"] {
        el(c, "#agenda-form input[name=title]").await.send_keys(point).await?;
        el(c, "#agenda-add").await.click().await?;
        wait_for_text(c, "#agenda", point).await;
    }
    // The second point first.
    el(c, "#agenda li:last-child button[id^=up-]").await.click().await?;
    let first = wait_for_text(c, "#agenda li:first-child", "断网").await;
    assert!(first.contains("城关片区断网原因分析"), "{first}");
    let material = el(c, "#material").await.text().await?;
    assert!(material.contains('3') || material.contains("故障数"), "the week's faults gathered: {material}");
    shot(c, "m1-agenda").await?;
    // A rectification from the meeting.
    let href = el(c, "#meeting-rect").await.attr("href").await?.unwrap_or_default();
    let meeting_page = c.current_url().await?;
    c.goto(&format!("{base}{href}")).await?;
    el(c, "#rect-form input[name=title]").await.send_keys("城关片区接入交换机更换").await?;
    el(c, "#rect-form select[name=system]").await.select_by_value("network").await?;
    el(c, "#rect-submit").await.click().await?;
    wait_for_text(c, "#rect-status", "待审批").await;
    let rect = c.current_url().await?;
    assert!(rect.path().starts_with("/rectifications/"), "{rect}");
    c.goto(meeting_page.as_str()).await?;
    wait_for_text(c, "#meeting-rects", "城关片区接入交换机更换").await;
    // The minutes, with who came.
    for b in c.find_all(Css("#hold-form label.chip")).await? {
        c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&b).unwrap()]).await?;
        b.click().await?;
    }
    el(c, "#hold-form textarea[name=minutes]").await.send_keys("断网由接入交换机电源老化引起").await?;
    el(c, "#hold-form textarea[name=decisions]").await.send_keys("更换城关片区接入交换机").await?;
    el(c, "#meeting-hold").await.click().await?;
    wait_for_text(c, "#meeting-status", "已召开").await;
    wait_for_text(c, "#minutes", "电源老化").await;
    shot(c, "m2-minutes").await?;
    sign_out(c).await?;

    // The manager accepts it from the home card.
    sign_in_as(c, &base, "manager", "password-manager-42").await?;
    el(c, "#card-rectifications_to_decide").await.click().await?;
    el(c, "#rect-list td.primary a").await.click().await?;
    el(c, "#rect-accept").await.click().await?;
    wait_for_text(c, "#rect-status", "整改中").await;
    // The analysis: a chart and its table.
    c.goto(&format!("{base}/analysis")).await?;
    let table = wait_for_text(c, "#faults-table", "校园网络").await;
    assert!(table.contains('2'), "network twice: {table}");
    let bars = c.find_all(Css("#faults svg rect.chart-bar")).await?;
    assert_eq!(bars.len(), 2, "a bar per system with faults");
    shot(c, "m3-analysis").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn the_manager_plans_an_early_training_the_engineer_records_it_and_the_coverage_shows_it() {
    run(training_journey).await;
}

/// The manager plans an early-phase surveillance training for the town's school; the
/// engineer records who came (the school's administrator among them) and completes it with
/// the feedback; the coverage shows the school's early surveillance cell trained and its
/// administrator trained; the school sees the training in its portal.
async fn training_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    c.set_window_size(1280, 900).await?;
    sign_in_as(c, &base, "manager", "password-manager-42").await?;
    c.goto(&format!("{base}/trainings")).await?;
    el(c, "#plan summary").await.click().await?;
    el(c, "#training-kind").await.select_by_value("customer").await?;
    el(c, "#training-phase").await.select_by_value("early").await?;
    el(c, "#training-title").await.send_keys("前期：监控系统使用与录像回放").await?;
    el(c, "label.chip:has(#training-system-surveillance)").await.click().await?;
    el(c, "#training-town").await.select_by_value("城关镇").await?;
    el(c, "#training-place").await.send_keys("城关镇中心小学会议室").await?;
    shot(c, "t1-plan").await?;
    el(c, "#training-new").await.click().await?;
    wait_for_text(c, "#training-status", "已计划").await;
    wait_for_text(c, "#training-schools", "城关镇中心小学").await;
    let training = c.current_url().await?;
    sign_out(c).await?;

    sign_in_as(c, &base, "engineer", "password-engineer-42").await?;
    c.goto(training.as_str()).await?;
    el(c, "#attendee-name-0").await.send_keys("李老师").await?;
    el(c, "#attendee-admin-0").await.click().await?;
    el(c, "#attendee-name-1").await.send_keys("陈老师").await?;
    el(c, "#attendance-save").await.click().await?;
    wait_for_text(c, "#attendance h2", "2").await;
    el(c, "#feedback-score").await.select_by_value("5").await?;
    el(c, "#complete-form input[name=feedback_note]").await.send_keys("老师们学会了录像回放").await?;
    el(c, "#training-complete").await.click().await?;
    wait_for_text(c, "#training-status", "已完成").await;
    wait_for_text(c, "#training-feedback", "5 / 5").await;
    shot(c, "t2-completed").await?;
    c.goto(&format!("{base}/trainings/coverage")).await?;
    let row = wait_for_text(c, "#coverage", "城关镇中心小学").await;
    assert!(row.contains("管理员已培训"), "{row}");
    let cell = el(c, "#coverage span[id$='-early-surveillance']").await;
    assert!(cell.text().await?.contains('✓'), "the early surveillance cell trained");
    assert!(cell.attr("class").await?.unwrap_or_default().contains("chip-ok"));
    let mid = el(c, "#coverage span[id$='-mid-surveillance']").await;
    assert!(!mid.text().await?.contains('✓'), "the mid phase not yet");
    shot(c, "t3-coverage").await?;
    sign_out(c).await?;

    // The school sees its training in the portal.
    sign_in_as(c, &base, SCHOOL, SCHOOL_PASSWORD).await?;
    c.goto(&format!("{base}/trainings")).await?;
    wait_for_text(c, "#training-list", "监控系统使用与录像回放").await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn a_technicians_know_how_is_published_and_suggested_on_a_ticket_for_the_same_model() {
    run(know_how_journey).await;
}

/// The technician writes down a fix for a camera model; the engineer publishes it from the
/// list of those to review; a new ticket on a camera of that model shows it on its page
/// while the engineer triages it.
async fn know_how_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    let (http, agent, _) = staff_api(&base, AGENT, AGENT_PASSWORD).await;
    let schools: Value =
        http.get(format!("{base}/api/v1/customers")).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    let school = schools["items"][0]["id"].as_i64().unwrap();
    let camera = json!({"customer_id": school, "system": "surveillance", "kind": "网络摄像机",
        "serial_no": "DS2CD-KH-0001", "model": "DS-2CD3T46WDV3-I3", "location": "校门口"});
    let camera = api_post(&http, &base, &agent, "/api/v1/equipment", camera).await["id"].as_i64().unwrap();
    c.set_window_size(1280, 900).await?;
    sign_in_as(c, &base, "tech", "password-tech-42").await?;
    c.goto(&format!("{base}/articles")).await?;
    el(c, "#article-new").await.click().await?;
    el(c, "#article-title").await.send_keys("摄像机夜间画面发白").await?;
    el(c, "#article-body").await.send_keys("夜间红外开启后画面整体发白，看不清人脸").await?;
    el(c, "#article-fix").await.send_keys("把红外补光调为智能模式，镜头上方加遮光罩").await?;
    el(c, "#article-system").await.select_by_value("surveillance").await?;
    el(c, "#article-model").await.send_keys("DS-2CD3T46WDV3-I3").await?;
    el(c, "#article-submit").await.click().await?;
    wait_for_text(c, "#article-status", "待审核").await;
    shot(c, "k1-written").await?;
    sign_out(c).await?;

    sign_in_as(c, &base, "engineer", "password-engineer-42").await?;
    c.goto(&format!("{base}/articles?tab=submitted")).await?;
    el(c, "#article-list td.primary a").await.click().await?;
    el(c, "#article-publish").await.click().await?;
    wait_for_text(c, "#article-status", "已发布").await;
    let ticket = json!({"customer_id": school, "system": "surveillance", "title": "校门口摄像机夜里看不清",
        "reporter_name": "王老师", "equipment_ids": [camera]});
    let ticket = api_post(&http, &base, &agent, "/api/v1/tickets", ticket).await["id"].as_i64().unwrap();
    c.goto(&format!("{base}/tickets/{ticket}")).await?;
    let card = wait_for_text(c, "#know-how", "摄像机夜间画面发白").await;
    assert!(card.contains("DS-2CD3T46WDV3-I3"), "{card}");
    shot(c, "k2-suggested").await
}

async fn receipt_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    c.set_window_size(390, 844).await?;
    sign_in_as(c, &base, "store", "password-store-42").await?;
    c.goto(&format!("{base}/stock")).await?;
    let before = wait_for_text(c, "#stock-1-1 td.on-hand", "5").await;
    assert!(before.starts_with('5'), "depot before: {before}");
    el(c, "#move-receipt > summary").await.click().await?;
    el(c, "#move-receipt-form select[name=part_id]").await.select_by_value("1").await?;
    el(c, "#move-receipt-form select[name=warehouse_id]").await.select_by_value("1").await?;
    el(c, "#move-receipt-form input[name=qty]").await.send_keys("3").await?;
    el(c, "#move-receipt-form input[name=unit_cost]").await.send_keys("500").await?;
    el(c, "#move-receipt-form input[name=note]").await.send_keys("供应商：海康经销商").await?;
    shot(c, "r1-receipt-form").await?;
    el(c, "#move-receipt-submit").await.click().await?;
    wait_for_text(c, ".flash", "已登记").await;
    let after = wait_for_text(c, "#stock-1-1 td.on-hand", "8").await;
    assert!(after.starts_with('8'), "depot after: {after}");
    // (5 × ¥520 + 3 × ¥500) / 8 = ¥512.50
    let avg = el(c, "#stock-1-1 td:nth-child(6)").await.text().await?;
    assert!(avg.contains("512.50"), "average cost: {avg}");
    shot(c, "r2-stock-after-receipt").await?;
    Ok(())
}

/// The technician asks for 2 disks from the depot for his ticket; the storekeeper approves
/// and issues them (into the technician's vehicle stock); the technician fits both on the
/// visit and brings the broken one back; the stock page shows the depot down by 2, the
/// vehicle back at 0 and 1 defective. The ticket is brought to `in_progress` through the
/// API (the ticket journey drives those pages); the boot made the depot (id 1), the
/// vehicle (id 2) and the disk (id 1).
async fn parts_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    let (http, eng, _) = staff_api(&base, "engineer", "password-engineer-42").await;
    let (_, tech_token, tech_id) = staff_api(&base, "tech", "password-tech-42").await;
    let (_, agent, _) = staff_api(&base, AGENT, AGENT_PASSWORD).await;
    let customers: Value =
        http.get(format!("{base}/api/v1/customers")).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    let school = customers["items"][0]["id"].as_i64().unwrap();
    let t = api_post(
        &http,
        &base,
        &agent,
        "/api/v1/tickets",
        json!({"customer_id": school, "title": "硬盘报错", "system": "surveillance"}),
    )
    .await;
    let ticket = t["id"].as_i64().unwrap();
    let act = |token: String, action: &'static str, body: Value| {
        let http = http.clone();
        let base = base.clone();
        async move { api_post(&http, &base, &token, &format!("/api/v1/tickets/{ticket}/actions/{action}"), body).await }
    };
    act(eng.clone(), "accept", json!({})).await;
    act(eng.clone(), "diagnose", json!({"fault_type": "hardware", "diagnosis": "硬盘坏道", "plan": "更换监控硬盘"}))
        .await;
    act(eng.clone(), "schedule", json!({"technician_ids": [tech_id], "scheduled_at": "2026-12-01T01:00:00Z"})).await;
    act(tech_token, "start", json!({})).await;

    // The technician requests two disks from the depot for the ticket.
    sign_in_as(c, &base, "tech", "password-tech-42").await?;
    c.set_window_size(360, 780).await?;
    c.goto(&format!("{base}/requisitions/new")).await?;
    el(c, "#requisition-form").await;
    fits_the_screen(c, "the requisition form").await?;
    c.set_window_size(1280, 900).await?;
    el(c, "#requisition-form select[name=warehouse_id]").await.select_by_value("1").await?;
    // The ticket by its number, as the technician reads it on the ticket (never its id).
    let number = t["number"].as_str().unwrap().to_owned();
    el(c, "#requisition-form input[name=ticket_id]").await.send_keys(&number).await?;
    el(c, "#requisition-form input[name=purpose]").await.send_keys("更换 NVR 硬盘").await?;
    el(c, "#requisition-form input[name=part_0]").await.send_keys("HDD-4T 监控硬盘 4TB").await?;
    let qty = el(c, "#requisition-form input[name=qty_0]").await;
    qty.clear().await?;
    qty.send_keys("2").await?;
    el(c, "#submit-requisition").await.click().await?;
    wait_for_text(c, "#requisition-status", "待审批").await;
    let slip = path(c).await?;
    let slip = slip.split('?').next().unwrap_or_default().to_owned();
    assert!(is_record_path(&slip, "/requisitions/"), "{slip}");
    shot(c, "p1-requested").await?;
    sign_out(c).await?;

    // The storekeeper approves and issues.
    sign_in_as(c, &base, "store", "password-store-42").await?;
    c.goto(&format!("{base}{slip}")).await?;
    el(c, "#act-approve").await.click().await?;
    wait_for_text(c, "#requisition-status", "已批准").await;
    el(c, "#act-issue").await.click().await?;
    wait_for_text(c, "#requisition-status", "已发料").await;
    shot(c, "p2-issued").await?;
    sign_out(c).await?;

    // On a phone, the technician fits both disks and brings the broken one back.
    c.set_window_size(390, 844).await?;
    sign_in_as(c, &base, "tech", "password-tech-42").await?;
    c.goto(&format!("{base}/tickets/{ticket}")).await?;
    wait_for_text(c, "#ticket-status", "处理中").await;
    el(c, "#record-visit").await.click().await?;
    // On the smallest phones (360 px) the visit form fits the screen: nothing scrolls sideways.
    c.set_window_size(360, 780).await?;
    fits_the_screen(c, "the visit form").await?;
    c.set_window_size(390, 844).await?;
    el(c, "#visit-form textarea[name=work_done]").await.send_keys("更换两块硬盘，恢复录像").await?;
    el(c, "#visit-form input[name=use_1_2]").await.send_keys("2").await?;
    el(c, "#visit-form input[name=useserial_1_2]").await.send_keys("WX-NEW-1").await?;
    el(c, "#visit-form input[name=def_part_0]").await.send_keys("HDD-4T").await?;
    el(c, "#visit-form input[name=def_qty_0]").await.send_keys("1").await?;
    el(c, "#visit-form input[name=def_old_0]").await.send_keys("WX-OLD-1").await?;
    let pad = el(c, "#signature-pad").await;
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&pad).unwrap()]).await?;
    let stroke = MouseActions::new("finger".into())
        .then(PointerAction::MoveToElement { element: pad, duration: None, x: -100.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(120)), x: 80.0, y: -30.0 })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(120)), x: 80.0, y: 40.0 })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(stroke).await?;
    el(c, "#signer-name").await.send_keys("王老师").await?;
    // A photo of the work, taken on the phone.
    let photo =
        std::env::temp_dir().join(format!("aftercare_visit_{}_{}.png", std::process::id(), rand::random::<u32>()));
    use base64::Engine;
    std::fs::write(&photo, base64::engine::general_purpose::STANDARD.decode(TINY_PNG).unwrap()).unwrap();
    el(c, "#visit-form input[name=photos]").await.send_keys(&photo.display().to_string()).await?;
    shot(c, "p3-visit-parts").await?;
    el(c, "#save-visit").await.click().await?;
    wait_for_text(c, ".flash", "上门记录已保存").await;
    let _ = std::fs::remove_file(&photo);
    // The printed repair record shows the part from the ledger and the photo.
    c.goto(&format!("{base}/tickets/{ticket}/print/repair")).await?;
    let parts = wait_for_text(c, "#parts-replaced", "监控硬盘 4TB").await;
    assert!(parts.contains("WX-NEW-1") && parts.contains("WX-OLD-1"), "new and old serials: {parts}");
    let old = el(c, "#old-parts").await.text().await?;
    assert!(old.contains("☑"), "a broken part came back: {old}");
    let thumb = el(c, ".paper-photos img").await;
    let loaded = c.execute("return arguments[0].naturalWidth", vec![serde_json::to_value(&thumb).unwrap()]).await?;
    assert!(loaded.as_u64().unwrap_or(0) > 0, "the photo prints: {loaded}");
    shot(c, "p3b-repair-record").await?;
    c.goto(&format!("{base}/tickets/{ticket}")).await?;
    sign_out(c).await?;
    c.set_window_size(1280, 900).await?;

    // The stock page: the depot is down by 2, the vehicle has used what it got, and the
    // broken disk is counted as defective.
    sign_in_as(c, &base, "store", "password-store-42").await?;
    c.goto(&format!("{base}/stock")).await?;
    let depot = wait_for_text(c, "#stock-1-1 td.on-hand", "3").await;
    assert!(depot.starts_with('3'), "depot: {depot}");
    let van = el(c, "#stock-1-2").await.text().await?;
    let on_hand = el(c, "#stock-1-2 td.on-hand").await.text().await?;
    assert!(on_hand.starts_with('0'), "vehicle: {van}");
    let defective = el(c, "#stock-1-2 td:nth-child(4)").await.text().await?;
    assert_eq!(defective.trim(), "1", "vehicle: {van}");
    assert!(van.contains("张师傅"), "{van}");
    shot(c, "p4-stock").await?;
    Ok(())
}

/// Each role signs in onto its own start page and opens the first count on it; the desk's
/// school picker finds a school by name and by phone; search groups its hits by kind.
async fn homes_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    // Something to count: a ticket waiting for the engineer, a missed call for the desk.
    let (http, agent, _) = staff_api(&base, AGENT, AGENT_PASSWORD).await;
    let customers: Value =
        http.get(format!("{base}/api/v1/customers")).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    let school = customers["items"][0]["id"].as_i64().unwrap();
    api_post(
        &http,
        &base,
        &agent,
        "/api/v1/tickets",
        json!({"customer_id": school, "title": "监控画面全部黑屏", "system": "surveillance"}),
    )
    .await;
    for (user, password, first) in [
        (AGENT, AGENT_PASSWORD, "#card-calls_to_return"),
        ("engineer", "password-engineer-42", "#card-triage"),
        ("tech", "password-tech-42", "#card-my_day"),
        ("store", "password-store-42", "#card-requisitions_to_issue"),
        ("manager", "password-manager-42", "#card-sla_breached"),
    ] {
        sign_in_as(c, &base, user, password).await?;
        assert_eq!(path(c).await?, "/", "{user} lands on the start page");
        el(c, "#home-cards").await;
        let card = el(c, first).await;
        let href = card.attr("href").await?.unwrap_or_default();
        card.click().await?;
        wait_until(c, "the card's list opens", || async move { path(c).await }, |p| *p != "/").await;
        let body = c.find(Css("body")).await?.text().await?;
        assert!(!body.contains("出错了") && !body.contains("页面不存在"), "{user}: {href} opens a page");
        if user == "engineer" {
            assert!(body.contains("监控画面全部黑屏"), "the engineer's triage lists the new ticket");
        }
        shot(c, &format!("h-{user}")).await?;
        sign_out(c).await?;
    }
    // A school's start page is its portal, its first item the ticket it can follow.
    sign_in_as(c, &base, SCHOOL, SCHOOL_PASSWORD).await?;
    assert_eq!(path(c).await?, "/portal", "a school lands on its portal");
    let first = el(c, "main a[href^='/portal/tickets/']").await;
    first.click().await?;
    wait_for_text(c, "main", "监控画面全部黑屏").await;
    sign_out(c).await?;
    // The desk: the school named by name, then by its phone number.
    sign_in_as(c, &base, AGENT, AGENT_PASSWORD).await?;
    for typed in ["城关镇中心小学", "0566-5012345"] {
        c.goto(&format!("{base}/desk")).await?;
        el(c, "#desk-customer-text").await.send_keys(typed).await?;
        wait_until(
            c,
            "the picker lists the school",
            || async move { c.find_all(Css("#school-options option")).await.map(|v| v.len()) },
            |n| *n > 0,
        )
        .await;
        let option = el(c, "#school-options option").await.attr("value").await?.unwrap_or_default();
        assert_eq!(option, "城关镇中心小学", "{typed} finds the school");
    }
    // The desk and the requisition form fit a 360 px phone.
    c.set_window_size(360, 780).await?;
    c.goto(&format!("{base}/desk")).await?;
    el(c, "#desk-form").await;
    fits_the_screen(c, "the desk").await?;
    c.set_window_size(1280, 900).await?;
    // Search: the hits come grouped by kind, each with its total.
    c.goto(&format!("{base}/search?q=监控")).await?;
    wait_for_text(c, "#kind-ticket", "监控画面全部黑屏").await;
    let total = el(c, "#kind-ticket h2 .count").await.text().await?;
    assert_eq!(total.trim(), "1", "the ticket group counts its hits");
    let equipment = el(c, "#kind-equipment h2 .count").await.text().await?;
    assert_eq!(equipment.trim(), "1", "the NVR in the surveillance system is found as equipment too");
    shot(c, "h-search").await
}

/// The agent on the phone: the number pops the school, the call is logged with the keyboard
/// and becomes a ticket on the school's NVR, which then opens.
async fn desk_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    sign_in_as(c, &base, AGENT, AGENT_PASSWORD).await?;
    c.goto(&format!("{base}/desk")).await?;
    el(c, "#pop-empty").await;
    // Typing the number pops the caller without a reload.
    el(c, "#desk-phone").await.send_keys(DESK_CALLER).await?;
    wait_for_text(c, "#pop-who", "城关镇中心小学").await;
    wait_for_text(c, "#pop-who", "王老师").await;
    assert_eq!(path(c).await?, "/desk", "the pop came in place");
    assert!(!value(c, "#desk-customer").await?.is_empty(), "the pop filled the school");
    assert_eq!(value(c, "#desk-caller-name").await?, "王老师");
    shot(c, "d1-screen-pop").await?;
    // Log it: repair, what was said, the NVR ticked, a ticket opened, saved with Ctrl+Enter.
    el(c, "#cat-repair").await.click().await?;
    el(c, "#pop-equipment input[name=equipment_ids]").await.click().await?;
    el(c, "#desk-content").await.send_keys("监控录像回放不了，NVR 报警").await?;
    // A courteous phrase goes into the reply with one click.
    el(c, "#phrases button.phrase").await.click().await?;
    let reply = value(c, "#desk-reply").await?;
    assert!(reply.contains("您好"), "the greeting phrase was inserted: {reply:?}");
    c.execute("document.getElementById('desk-promised').value = '2030-01-02T09:00'", vec![]).await?;
    el(c, "#desk-open-ticket").await.click().await?;
    el(c, "#desk-content").await.send_keys("\u{E009}\u{E007}").await?;
    let link = wait_for_text(c, "#last-contact", "GD").await;
    assert!(link.contains("KF"), "the contact's number is shown too: {link}");
    shot(c, "d2-logged").await?;
    el(c, "#last-ticket").await.click().await?;
    wait_for_text(c, "#ticket-status", "待受理").await;
    let body = c.find(Css("body")).await?.text().await?;
    assert!(body.contains("DS7932N-R4-0001"), "the ticket names the NVR picked on the desk");
    // The call is in the desk's list of the day.
    c.goto(&format!("{base}/desk")).await?;
    wait_for_text(c, "#today-list", "监控录像回放不了").await;
    // …and on the agent's printable daily record, whose day picker sits in one row in the
    // tools bar above the sheet (the bar hidden when printed).
    c.goto(&format!("{base}/contacts/daily")).await?;
    wait_for_text(c, "#paper", "监控录像回放不了").await;
    let pick = el(c, "#daily-pick").await;
    let display =
        c.execute("return getComputedStyle(arguments[0]).display", vec![serde_json::to_value(&pick).unwrap()]).await?;
    assert_eq!(display, "flex", "the day picker is laid out by desk_admin.css");
    el(c, "#print").await;
    fits_the_screen(c, "the daily record").await?;
    shot(c, "d3-daily-record").await?;
    Ok(())
}

/// Boots a server and a browser, runs `steps`, keeps evidence when they fail.
async fn run<F, Fut>(steps: F)
where
    F: FnOnce(Client, String) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), CmdError>> + Send + 'static,
{
    let started = Instant::now();
    let work = Workdir::new();
    let base = boot_server(&work.path).await;
    let driver = ChromeDriver::start(&work.path);
    let c = open_browser(&driver, &work.path).await;

    // Spawned so that a panic comes back here, where evidence is kept before the browser goes.
    let outcome = tokio::spawn(steps(c.clone(), base)).await;
    if !matches!(outcome, Ok(Ok(()))) {
        keep_evidence(&c, &work.path).await;
    }
    let _ = c.close().await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => eprintln!("browser journey passed in {:.1}s", started.elapsed().as_secs_f64()),
        Ok(Err(e)) => panic!("a WebDriver command failed: {e}"),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Everything a person does, in order.
async fn journey(c: Client, base: String) -> Result<(), CmdError> {
    let serial = "BRW-CAM-0001";
    sign_in(&c, &base).await?;
    let school = create_school(&c, &base).await?;
    add_equipment(&c, &school, serial).await?;
    search_equipment(&c, &base, serial).await?;
    phone_layout(&c, &base, serial).await
}

async fn sign_in(c: &Client, base: &str) -> Result<(), CmdError> {
    c.goto(&format!("{base}/login")).await?;
    let lang = c.execute("return document.documentElement.lang", vec![]).await?;
    assert_eq!(lang, json!("zh-CN"), "the UI is Chinese by default");
    sign_in_as(c, base, AGENT, AGENT_PASSWORD).await?;
    assert_eq!(path(c).await?, "/", "signing in lands on the dashboard");
    let body = c.find(Css("body")).await?.text().await?;
    assert!(body.contains("新建学校"), "the dashboard offers the quick actions to an agent");
    shot(c, "1-dashboard").await
}

/// Signs out whoever is signed in (if anyone) and signs `user` in through the login form.
async fn sign_in_as(c: &Client, base: &str, user: &str, password: &str) -> Result<(), CmdError> {
    c.goto(&format!("{base}/login")).await?;
    el(c, "#login-form input[name=username]").await.send_keys(user).await?;
    el(c, "#login-form input[name=password]").await.send_keys(password).await?;
    el(c, "#login-form button[type=submit]").await.click().await?;
    wait_until(c, "signed in", || async move { path(c).await }, |p| !p.starts_with("/login")).await;
    Ok(())
}

async fn sign_out(c: &Client) -> Result<(), CmdError> {
    el(c, "#logout").await.click().await?;
    wait_until(c, "signed out", || async move { path(c).await }, |p| p.starts_with("/login")).await;
    Ok(())
}

/// A school created through `/customers/new`; returns the path of its page.
async fn create_school(c: &Client, base: &str) -> Result<String, CmdError> {
    c.goto(&format!("{base}/customers/new")).await?;
    for (field, value) in [
        ("code", "QY-BRW-01"),
        ("county", "青阳县"),
        ("town", "城关镇"),
        ("address", "青阳县城关镇学府路 8 号"),
        ("travel_minutes", "25"),
        ("contacts[0].name", "李老师"),
        ("contacts[0].phone", "13905663333"),
    ] {
        el(c, &format!("#customer-form input[name='{field}']")).await.send_keys(value).await?;
    }
    el(c, "#customer-form button[type=submit]").await.click().await?;
    wait_for_text(c, "#customer-form", "名称：必填").await;
    assert!(path(c).await?.starts_with("/customers"), "a rejected form stays on the form");
    let code = value(c, "#customer-form input[name=code]").await?;
    assert_eq!(code, "QY-BRW-01", "what was typed is kept after a rejected submit");
    let phone = value(c, "#customer-form input[name='contacts[0].phone']").await?;
    assert_eq!(phone, "13905663333", "contacts are kept too");
    shot(c, "2-school-rejected").await?;

    el(c, "#customer-form input[name=name]").await.send_keys("青阳县浏览器测试小学").await?;
    el(c, "#customer-form button[type=submit]").await.click().await?;
    let school = wait_until(c, "the school is saved", || path(c), |p| is_record_path(p, "/customers/")).await;
    wait_for_text(c, "main h1", "青阳县浏览器测试小学").await;
    assert!(c.find(Css(".flash")).await?.text().await?.contains("已创建"), "the school page confirms the creation");
    let page = c.find(Css("main")).await?.text().await?;
    assert!(page.contains("李老师") && page.contains("13905663333"), "the contact is listed: {page}");
    assert!(page.contains("城关镇"), "the town is shown");
    Ok(school)
}

async fn add_equipment(c: &Client, school: &str, serial: &str) -> Result<(), CmdError> {
    let school_id = school.rsplit('/').next().unwrap().split('?').next().unwrap();
    let link = el(c, "main a[href^='/equipment/new?customer_id=']").await;
    assert_eq!(link.text().await?.trim(), "新增设备");
    link.click().await?;
    let system = el(c, "#equipment-form select[name=system]").await;
    assert_eq!(value(c, "#equipment-form select[name=customer_id]").await?, school_id, "the school is preselected");
    system.select_by_value("surveillance").await?;
    assert_eq!(value(c, "#equipment-form select[name=system]").await?, "surveillance");
    for (field, value) in [
        ("kind", "枪式摄像机"),
        ("serial_no", serial),
        ("brand", "海康威视"),
        ("model", "DS-2CD3T46"),
        ("location", "校门口立杆"),
    ] {
        c.find(Css(&format!("#equipment-form input[name={field}]"))).await?.send_keys(value).await?;
    }
    // Typing into a date input depends on the browser's locale; set the value as a picker would.
    let set_dates = "const f = document.getElementById('equipment-form');\
                     f.elements.installed_on.value = '2024-09-01';\
                     f.elements.warranty_until.value = '2027-08-31';";
    c.execute(set_dates, vec![]).await?;
    c.find(Css("#equipment-form button[type=submit]")).await?.click().await?;
    wait_until(c, "the equipment is saved", || path(c), |p| is_record_path(p, "/equipment/")).await;
    let page = wait_for_text(c, "main", serial).await;
    assert!(page.contains("已创建"), "the equipment page confirms the creation: {page}");
    assert!(page.contains("枪式摄像机") && page.contains("校园监控"), "kind and system are shown in Chinese: {page}");
    assert!(page.contains("青阳县浏览器测试小学"), "the equipment page names its school");
    Ok(())
}

async fn search_equipment(c: &Client, base: &str, serial: &str) -> Result<(), CmdError> {
    c.goto(&format!("{base}/equipment")).await?;
    el(c, "#equipment-filters input[name=q]").await.send_keys("监控").await?;
    c.find(Css("#equipment-filters button[type=submit]")).await?.click().await?;
    wait_until(c, "the search runs", || path(c), |p| p.starts_with("/equipment?") && p.contains("q=")).await;
    wait_for_text(c, "#equipment-list", serial).await;
    assert_eq!(value(c, "#equipment-filters input[name=q]").await?, "监控", "the search box keeps the query");
    shot(c, "3-equipment-search").await?;

    let q = c.find(Css("#equipment-filters input[name=q]")).await?;
    q.clear().await?;
    q.send_keys("网监").await?;
    c.find(Css("#equipment-filters button[type=submit]")).await?.click().await?;
    let page = wait_for_text(c, "main", "没有符合条件的记录").await;
    assert!(c.find_all(Css("#equipment-list")).await?.is_empty(), "no list is shown when nothing matches");
    assert!(!page.contains(serial), "网监 must not find {serial}");
    Ok(())
}

async fn phone_layout(c: &Client, base: &str, serial: &str) -> Result<(), CmdError> {
    c.set_window_size(360, 740).await?;
    c.goto(&format!("{base}/equipment")).await?;
    wait_for_text(c, "#equipment-list", serial).await;
    assert!(c.find(Css("#equipment-list")).await?.is_displayed().await?, "the equipment list is visible on a phone");
    let hamburger = c.find(Css(".hamburger")).await?;
    assert!(hamburger.is_displayed().await?, "the menu button is shown on a phone");
    let sidebar = c.find(Css("nav.sidebar")).await?;
    let (left, _, width, _) = sidebar.rectangle().await?;
    assert!(left + width <= 1.0, "the menu starts closed on a phone (x={left}, w={width})");
    let overflow =
        c.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![]).await?;
    assert!(overflow.as_f64().unwrap_or(0.0) <= 0.0, "the page scrolls sideways on a phone by {overflow}px");
    shot(c, "4-phone-list").await?;

    hamburger.click().await?;
    let sidebar = &sidebar;
    wait_until(c, "the menu slides in", || async move { Ok(sidebar.rectangle().await?.0) }, |x| *x >= 0.0).await;
    assert!(sidebar.text().await?.contains("设备"), "the menu is in Chinese");
    shot(c, "5-phone-menu").await
}

/// `/customers/12` or `/equipment/7?ok=created`, not a list or a form.
fn is_record_path(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.split('?').next().unwrap_or("").parse::<i64>().is_ok())
}

// ---------------------------------------------------------------------------------------
// One ticket through the flow chart

/// Opens the action form `action` on a ticket page, fills it with `fill`, submits it and
/// waits until the status badge says `status`.
async fn act(c: &Client, action: &str, status: &str) -> Result<(), CmdError> {
    el(c, &format!("#action-{action}")).await.click().await?;
    el(c, &format!("details.action-{action}[open] button[type=submit]")).await.click().await?;
    wait_for_text(c, "#ticket-status", status).await;
    Ok(())
}

async fn ticket_journey(c: Client, base: String) -> Result<(), CmdError> {
    let c = &c;
    // The agent takes the call: picks the school, ticks the NVR, opens the ticket.
    sign_in_as(c, &base, AGENT, AGENT_PASSWORD).await?;
    c.goto(&format!("{base}/tickets/new")).await?;
    // The school is named as people know it: the picker finds it and lists its equipment.
    el(c, "#ticket-customer-text").await.send_keys("城关镇中心小学").await?;
    wait_until(
        c,
        "the school's equipment is listed",
        || async move { c.find_all(Css("input[name=equipment_ids]")).await },
        |v| !v.is_empty(),
    )
    .await;
    el(c, "input[name=equipment_ids]").await.click().await?;
    el(c, "#ticket-form input[name=title]").await.send_keys("监控录像只能保存三天").await?;
    el(c, "#ticket-form textarea[name=description]").await.send_keys("NVR 报硬盘错误").await?;
    el(c, "#ticket-form input[name=reporter_name]").await.send_keys("王老师").await?;
    el(c, "#create-ticket").await.click().await?;
    wait_for_text(c, "#ticket-status", "待受理").await;
    let ticket = path(c).await?;
    let ticket = ticket.split('?').next().unwrap_or_default().to_owned();
    assert!(is_record_path(&ticket, "/tickets/"), "{ticket}");
    shot(c, "t1-new-ticket").await?;
    sign_out(c).await?;

    // The engineer accepts, judges the fault and dispatches a technician.
    sign_in_as(c, &base, "engineer", "password-engineer-42").await?;
    c.goto(&format!("{base}{ticket}")).await?;
    act(c, "accept", "待诊断").await?;
    el(c, "#action-diagnose").await.click().await?;
    el(c, "details.action-diagnose[open] select[name=fault_type]").await.select_by_value("hardware").await?;
    el(c, "details.action-diagnose[open] textarea[name=diagnosis]").await.send_keys("硬盘坏道").await?;
    el(c, "details.action-diagnose[open] textarea[name=plan]").await.send_keys("更换 4TB 监控硬盘").await?;
    el(c, "details.action-diagnose[open] button[type=submit]").await.click().await?;
    wait_for_text(c, "#ticket-status", "待派单").await;
    el(c, "#action-schedule").await.click().await?;
    el(c, "details.action-schedule[open] input[name=technician_ids]").await.click().await?;
    let when = value(c, "details.action-schedule[open] input[name=scheduled_at]").await?;
    el(c, "details.action-schedule[open] button[type=submit]").await.click().await?;
    wait_for_text(c, "#ticket-status", "已派工").await;
    shot(c, "t2-dispatched").await?;
    sign_out(c).await?;

    // The technician, on a phone: the day's list, start, the visit with a signature.
    c.set_window_size(390, 844).await?;
    sign_in_as(c, &base, "tech", "password-tech-42").await?;
    let day = when.get(..10).unwrap_or_default();
    c.goto(&format!("{base}/today?day={day}")).await?;
    wait_for_text(c, "#today-list", "监控录像只能保存三天").await;
    el(c, "#today-list button[type=submit]").await.click().await?;
    wait_for_text(c, "#ticket-status", "处理中").await;
    el(c, "#record-visit").await.click().await?;
    el(c, "#visit-form textarea[name=work_done]").await.send_keys("更换硬盘，恢复录像计划，录像保存 30 天").await?;
    el(c, "#visit-form textarea[name=advice]").await.send_keys("雷雨季节前检查接地").await?;
    let pad = el(c, "#signature-pad").await;
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&pad).unwrap()]).await?;
    let stroke = MouseActions::new("finger".into())
        .then(PointerAction::MoveToElement { element: pad, duration: None, x: -120.0, y: 10.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(120)), x: 60.0, y: -40.0 })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(120)), x: 60.0, y: 50.0 })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(120)), x: 80.0, y: -30.0 })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(stroke).await?;
    el(c, "#signer-name").await.send_keys("王老师").await?;
    shot(c, "t3-signature").await?;
    el(c, "#save-visit").await.click().await?;
    wait_for_text(c, ".flash", "上门记录已保存").await;
    let sig = el(c, ".signature img").await;
    let loaded = c.execute("return arguments[0].naturalWidth", vec![serde_json::to_value(&sig).unwrap()]).await?;
    assert!(loaded.as_u64().unwrap_or(0) > 100, "the drawn signature is stored and shown: {loaded}");
    el(c, "#action-resolve").await.click().await?;
    el(c, "details.action-resolve[open] textarea[name=resolution]").await.send_keys("已更换硬盘").await?;
    el(c, "details.action-resolve[open] button[type=submit]").await.click().await?;
    wait_for_text(c, "#ticket-status", "待回访").await;
    shot(c, "t4-resolved-phone").await?;
    sign_out(c).await?;
    c.set_window_size(1280, 900).await?;

    // The agent calls the school back: satisfied and really fixed closes the ticket.
    sign_in_as(c, &base, AGENT, AGENT_PASSWORD).await?;
    c.goto(&format!("{base}/callbacks")).await?;
    el(c, "#callback-list td.primary a").await.click().await?;
    el(c, "#action-callback").await.click().await?;
    el(c, "details.action-callback[open] button[type=submit]").await.click().await?;
    wait_for_text(c, "#ticket-status", "已关闭").await;
    let timeline = el(c, "#timeline").await.text().await?;
    for step in ["回访", "解决", "上门维修", "派工", "诊断", "受理", "创建工单"] {
        assert!(timeline.contains(step), "the timeline shows {step}: {timeline}");
    }
    shot(c, "t5-closed").await
}

// ---------------------------------------------------------------------------------------
// The school portal: report a fault with a photo, follow it, confirm and rate the repair

/// Staff's part goes through the API: signs `user` in; answers (client, token, user id).
async fn staff_api(base: &str, user: &str, password: &str) -> (reqwest::Client, String, i64) {
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{user} signs in to the API");
    let v: Value = r.json().await.unwrap();
    (http, v["token"].as_str().unwrap().to_owned(), v["user"]["id"].as_i64().unwrap())
}

async fn api_post(http: &reqwest::Client, base: &str, token: &str, path: &str, body: Value) -> Value {
    let r = http.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {path}: {status} {v}");
    v
}

/// A 1×1 PNG.
const TINY_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async fn school_journey(c: Client, base: String) -> Result<(), CmdError> {
    use base64::Engine;
    let c = &c;
    // On a phone, the school's administrator signs in and lands on the portal.
    c.set_window_size(390, 844).await?;
    sign_in_as(c, &base, SCHOOL, SCHOOL_PASSWORD).await?;
    assert_eq!(path(c).await?, "/portal", "a school starts on its portal");
    wait_for_text(c, "main", "城关镇中心小学").await;
    shot(c, "p1-portal-home").await?;

    // Reports a fault: finds the NVR by typing, which picks it and its system.
    el(c, "#report-fault").await.click().await?;
    el(c, "#equipment-filter").await.send_keys("NVR").await?;
    let nvr = el(c, "#equipment-pick option[data-serial='DS7932N-R4-0001']").await;
    let nvr_id = nvr.attr("value").await?.unwrap_or_default();
    wait_until(c, "typing picks the NVR", || value(c, "#equipment-pick"), |v| *v == nvr_id).await;
    assert_eq!(value(c, "#system-pick").await?, "surveillance", "the equipment's system is filled in");
    assert_eq!(value(c, "#report-form input[name=reporter_name]").await?, "李老师", "the reporter is prefilled");
    assert_eq!(value(c, "#report-form input[name=reporter_phone]").await?, "13905664444");
    el(c, "#report-form textarea[name=description]").await.send_keys("行政楼机房监控回放时画面卡住").await?;
    let photo =
        std::env::temp_dir().join(format!("aftercare_portal_{}_{}.png", std::process::id(), rand::random::<u32>()));
    std::fs::write(&photo, base64::engine::general_purpose::STANDARD.decode(TINY_PNG).unwrap()).unwrap();
    el(c, "#photos").await.send_keys(&photo.display().to_string()).await?;
    el(c, "#photo-previews img").await;
    // Sent without a title: the field is named, and the photo and the text stay as they were.
    c.execute("document.querySelector('#report-form input[name=title]').removeAttribute('required')", vec![]).await?;
    el(c, "#submit-report").await.click().await?;
    wait_for_text(c, "#report-form .flash-error", "标题").await;
    let kept = c.execute("return document.getElementById('photos').files.length", vec![]).await?;
    assert_eq!(kept, json!(1), "the photo is still attached after a refused submit");
    assert_eq!(value(c, "#report-form textarea[name=description]").await?, "行政楼机房监控回放时画面卡住");
    el(c, "#report-form input[name=title]").await.send_keys("监控录像回放卡顿").await?;
    shot(c, "p2-report").await?;
    el(c, "#submit-report").await.click().await?;
    wait_for_text(c, "#portal-status", "已提交，待受理").await;
    let _ = std::fs::remove_file(&photo);
    assert!(c.find(Css(".flash")).await?.text().await?.contains("报修已提交"));
    let page = path(c).await?;
    let id: i64 = page.trim_start_matches("/portal/tickets/").split('?').next().unwrap().parse().unwrap();
    let thumb = el(c, "#attachments img").await;
    let loaded = c.execute("return arguments[0].naturalWidth", vec![serde_json::to_value(&thumb).unwrap()]).await?;
    assert!(loaded.as_u64().unwrap_or(0) > 0, "the photo is stored and shown: {loaded}");
    shot(c, "p3-reported").await?;

    // Staff take it on (through the API): accepted, diagnosed, a visit agreed for 14:30.
    let (http, eng, _) = staff_api(&base, "engineer", "password-engineer-42").await;
    let (_, tech, tech_id) = staff_api(&base, "tech", "password-tech-42").await;
    let act = |token: String, action: &'static str, body: Value| {
        let (http, base) = (http.clone(), base.clone());
        async move { api_post(&http, &base, &token, &format!("/api/v1/tickets/{id}/actions/{action}"), body).await }
    };
    act(eng.clone(), "accept", json!({})).await;
    c.refresh().await?;
    wait_for_text(c, "#portal-status", "工程师诊断中").await;
    act(eng.clone(), "diagnose", json!({"fault_type": "hardware", "diagnosis": "硬盘坏道", "plan": "更换监控硬盘"}))
        .await;
    act(eng.clone(), "schedule", json!({"technician_ids": [tech_id], "scheduled_at": "2026-12-01T06:30:00Z"})).await;
    c.refresh().await?;
    let status = wait_for_text(c, "#portal-status", "已安排上门").await;
    assert!(status.contains("12月1日 14:30"), "the agreed time is shown: {status}");
    let timeline = el(c, "#timeline").await.text().await?;
    assert!(timeline.contains("维修人员：张师傅"), "who comes is shown: {timeline}");
    assert!(!timeline.contains("硬盘坏道"), "the diagnosis stays internal");
    shot(c, "p4-scheduled").await?;

    // On site: started, a signed visit, resolved.
    act(tech.clone(), "start", json!({})).await;
    c.refresh().await?;
    wait_for_text(c, "#portal-status", "维修中").await;
    let visit = json!({
        "arrived_at": "2026-12-01T06:40:00Z", "finished_at": "2026-12-01T07:30:00Z",
        "work_done": "更换 4TB 监控硬盘，回放正常", "result": "fixed",
        "signature": {"signer_name": "李老师", "image_png_base64": TINY_PNG}
    });
    api_post(&http, &base, &tech, &format!("/api/v1/tickets/{id}/visits"), visit).await;
    act(tech.clone(), "resolve", json!({"resolution": "已更换硬盘，回放正常"})).await;
    c.refresh().await?;
    wait_for_text(c, "#portal-status", "已修复，待您确认").await;
    let visits = el(c, "#visits").await.text().await?;
    assert!(visits.contains("李老师 签字确认") && visits.contains("张师傅"), "the visit is shown: {visits}");

    // The school confirms it is fixed and gives five stars.
    let confirm = el(c, "#confirm").await;
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&confirm).unwrap()]).await?;
    el(c, "#fixed-yes").await.click().await?;
    el(c, "#rate-5").await.click().await?;
    el(c, "#confirm-form textarea[name=note]").await.send_keys("维修及时，谢谢").await?;
    shot(c, "p5-rating").await?;
    el(c, "#confirm-submit").await.click().await?;
    wait_for_text(c, "#portal-status", "已完成").await;
    assert!(c.find(Css(".flash")).await?.text().await?.contains("感谢您的确认和评价"));
    let timeline = el(c, "#timeline").await.text().await?;
    assert!(timeline.contains("学校在报修平台确认已修复") && timeline.contains("★★★★★"), "{timeline}");
    assert!(c.find_all(Css("#confirm-form")).await?.is_empty(), "nothing left to confirm");
    let overflow =
        c.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![]).await?;
    assert!(overflow.as_f64().unwrap_or(0.0) <= 0.0, "the ticket page scrolls sideways on a phone by {overflow}px");
    shot(c, "p6-completed").await?;
    let tl = el(c, "#timeline").await;
    c.execute("arguments[0].scrollIntoView()", vec![serde_json::to_value(&tl).unwrap()]).await?;
    shot(c, "p7-timeline").await?;

    // Home lists it as finished, with the rating.
    c.goto(&format!("{base}/portal")).await?;
    let done = wait_for_text(c, "#done-tickets", "监控录像回放卡顿").await;
    assert!(done.contains("已完成") && done.contains("★★★★★"), "{done}");
    c.set_window_size(1280, 900).await
}

// ---------------------------------------------------------------------------------------
// Small helpers over fantoccini

/// The first element matching `css`, waiting for it to appear.
/// The page is no wider than the window (no sideways scrolling), naming what sticks out.
async fn fits_the_screen(c: &Client, what: &str) -> Result<(), CmdError> {
    let wide = c
        .execute(
            "const w = document.documentElement.clientWidth; \
             const out = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1 \
               && getComputedStyle(e).position !== 'fixed' && e.offsetParent !== null \
               && !e.closest('.table-wrap')).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className \
               + ' ' + Math.round(e.getBoundingClientRect().right)); \
             return [document.documentElement.scrollWidth, w, out];",
            vec![],
        )
        .await?;
    let (scroll, width) = (wide[0].as_i64().unwrap_or(0), wide[1].as_i64().unwrap_or(0));
    assert!(scroll <= width, "{what} scrolls sideways at {width}px ({scroll}px wide): {}", wide[2]);
    Ok(())
}

async fn el(c: &Client, css: &str) -> Element {
    match c.wait().at_most(PATIENCE).every(POLL).for_element(Css(css)).await {
        Ok(e) => e,
        Err(e) => panic!("no element matches {css} on {}: {e}", path(c).await.unwrap_or_default()),
    }
}

/// The current `value` of a form control.
async fn value(c: &Client, css: &str) -> Result<String, CmdError> {
    Ok(el(c, css).await.prop("value").await?.unwrap_or_default())
}

/// The path and query of the current page.
async fn path(c: &Client) -> Result<String, CmdError> {
    let url = c.current_url().await?;
    Ok(url.query().map_or_else(|| url.path().to_owned(), |q| format!("{}?{q}", url.path())))
}

/// Waits until the first element matching `css` shows `needle`; returns its text.
async fn wait_for_text(c: &Client, css: &str, needle: &str) -> String {
    let what = format!("{css} shows {needle:?}");
    wait_until(c, &what, || async move { c.find(Css(css)).await?.text().await }, |t| t.contains(needle)).await
}

/// Polls `probe` until what it sees satisfies `ok`, and returns that. After `PATIENCE` it
/// panics with the last thing seen, the current path and the page's flash message.
async fn wait_until<T: Debug, F: Future<Output = Result<T, CmdError>>>(
    c: &Client,
    what: &str,
    mut probe: impl FnMut() -> F,
    ok: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = probe().await;
        if matches!(&seen, Ok(v) if ok(v)) {
            return seen.unwrap();
        }
        if Instant::now() > deadline {
            let flash = "const f = document.querySelector('.flash'); return f ? f.innerText : ''";
            let flash = c.execute(flash, vec![]).await.unwrap_or(Value::Null);
            panic!(
                "timed out waiting until {what} on {} (flash: {flash}); last seen: {seen:?}",
                path(c).await.unwrap_or_default()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Saves a screenshot named `name` into `$AFTERCARE_BROWSER_SHOTS`, when set.
async fn shot(c: &Client, name: &str) -> Result<(), CmdError> {
    if let Some(dir) = std::env::var_os("AFTERCARE_BROWSER_SHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), c.screenshot().await?).unwrap();
    }
    Ok(())
}

/// After a failure: a screenshot and the page source in `dir`, best effort.
async fn keep_evidence(c: &Client, dir: &Path) {
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join("failure.png"), png);
    }
    if let Ok(html) = c.source().await {
        let _ = std::fs::write(dir.join("failure.html"), html);
    }
}

// ---------------------------------------------------------------------------------------
// The server, the working folder and chromedriver

/// Boots the app on a free port against a fresh SQLite file in `dir`, with an agent, an
/// engineer, a technician and one school with an NVR.
async fn boot_server(dir: &Path) -> String {
    let url = format!("sqlite://{}/test.db", dir.display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let svc = Services::new(db);
    let agent = UserInput {
        username: Some(AGENT.into()),
        password: Some(AGENT_PASSWORD.into()),
        display_name: Some("王客服".into()),
        roles: Some(vec!["agent".into()]),
        ..Default::default()
    };
    svc.create_user(None, &agent).await.unwrap();
    for (username, password, role, name) in STAFF {
        let input = UserInput {
            username: Some((*username).into()),
            password: Some((*password).into()),
            display_name: Some((*name).into()),
            roles: Some(vec![(*role).into()]),
            ..Default::default()
        };
        svc.create_user(None, &input).await.unwrap();
    }
    // A school with an NVR for the ticket journey.
    let w = aftercare_store::Writer::system();
    let school = aftercare_domain::customers::CustomerInput {
        name: Some("城关镇中心小学".into()),
        code: Some("QY-CG-04".into()),
        county: Some("青阳县".into()),
        town: Some("城关镇".into()),
        // The person the desk journey's call comes from.
        contacts: Some(vec![aftercare_domain::customers::ContactInput {
            name: Some("王老师".into()),
            title: Some("电教管理员".into()),
            phone: Some(DESK_CALLER.into()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let id = aftercare_store::customers::create(svc.db(), &w, &school.validate().unwrap()).await.unwrap();
    let nvr = aftercare_domain::equipment::EquipmentInput {
        customer_id: Some(aftercare_domain::CustomerId(id)),
        system: Some("surveillance".into()),
        kind: Some("NVR".into()),
        serial_no: Some("DS7932N-R4-0001".into()),
        location: Some("行政楼 1 楼 中心机房".into()),
        ..Default::default()
    };
    aftercare_store::equipment::create(svc.db(), &w, &nvr.validate().unwrap()).await.unwrap();
    // The school's administrator, for the portal journey.
    let school_user = UserInput {
        username: Some(SCHOOL.into()),
        password: Some(SCHOOL_PASSWORD.into()),
        display_name: Some("李老师".into()),
        roles: Some(vec!["customer".into()]),
        customer_id: Some(aftercare_domain::CustomerId(id)),
        phone: Some("13905664444".into()),
        ..Default::default()
    };
    svc.create_user(None, &school_user).await.unwrap();
    let base = serve(svc).await;
    // The parts journey's stock: the depot (id 1) with 5 disks (part id 1), and the
    // technician's vehicle stock (id 2), empty.
    let (http, store, _) = staff_api(&base, "store", "password-store-42").await;
    let (_, _, tech) = staff_api(&base, "tech", "password-tech-42").await;
    let part = json!({"code": "HDD-4T", "name": "监控硬盘 4TB", "unit": "块", "unit_cost": 520.0});
    let part = api_post(&http, &base, &store, "/api/v1/parts", part).await["id"].as_i64().unwrap();
    let depot =
        api_post(&http, &base, &store, "/api/v1/warehouses", json!({"code": "DEPOT", "name": "县城备件库"})).await;
    let van = json!({"code": "VAN-ZHANG", "name": "张师傅随车", "kind": "vehicle", "holder_user_id": tech});
    api_post(&http, &base, &store, "/api/v1/warehouses", van).await;
    let receipt = json!({"kind": "receipt", "part_id": part, "warehouse_id": depot["id"], "qty": 5});
    api_post(&http, &base, &store, "/api/v1/stock/movements", receipt).await;
    base
}

async fn serve(svc: Services) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = aftercare_web::router(svc, aftercare_web::WebConfig::default());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

/// A fresh folder for the database, the browser profile and the logs. Removed when the
/// test passes, kept (and named) when it fails.
struct Workdir {
    path: PathBuf,
}

impl Workdir {
    fn new() -> Workdir {
        let path =
            std::env::temp_dir().join(format!("aftercare_browser_{}_{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&path).unwrap();
        Workdir { path }
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "browser test failed; screenshot, page source and chromedriver log kept in {}",
                self.path.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A chromedriver process on a free port, shut down (browsers included) when dropped,
/// whether the test passed or not.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    fn start(dir: &Path) -> ChromeDriver {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(Path::new(path).exists(), "{path} is missing: apt-get install chromium chromium-driver");
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", dir.join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut driver = ChromeDriver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 20s");
            std::thread::sleep(POLL);
        }
        driver
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // `/shutdown` closes the browsers of open sessions too; killing alone would orphan them.
        // A blocking request, as `Drop` has no runtime at hand; the connection stays open until it exits.
        let _conn = TcpStream::connect(("127.0.0.1", self.port))
            .and_then(|mut s| write!(s, "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port).map(|()| s));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Chromium session in Chinese, 1280×900, with its profile in `dir`.
async fn open_browser(driver: &ChromeDriver, dir: &Path) -> Client {
    let Value::Object(caps) = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", dir.join("chromium-profile").display()),
                "--lang=zh-CN",
                "--window-size=1280,900",
            ],
            // On Linux `--lang` alone leaves `Accept-Language: en-US`, and the server
            // negotiates from that header; a Chinese browser sends zh-CN.
            "prefs": {"intl.accept_languages": "zh-CN,zh"},
        },
    }) else {
        unreachable!()
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("chromedriver refused the session: {e}"))
}

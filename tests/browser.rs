//! Browser test: headless Chromium signs in, adds a school and equipment, and searches, in Chinese, on desktop and phone.
//!
//! Run with `cargo test --test browser -- --ignored`; it needs `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (Debian: `apt-get install chromium chromium-driver fonts-noto-cjk`).
//! The server runs in-process on a free port against a fresh SQLite file; chromedriver is
//! started on another free port and always shut down (with its browser) when the test ends.
//! On failure the working folder is kept with a screenshot, the page source and
//! chromedriver's log. Set `AFTERCARE_BROWSER_SHOTS=<dir>` to keep screenshots of a passing run.
//!
//! WebDriver is spoken directly over HTTP with `reqwest`: `fantoccini` without a TLS feature
//! needs a `hyper-util` connector that this package does not depend on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aftercare_domain::users::UserInput;
use aftercare_service::Services;
use aftercare_store::Db;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const AGENT: &str = "agent";
const AGENT_PASSWORD: &str = "password-agent-42";
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long to wait for a page to show what a step expects.
const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: apt-get install chromium chromium-driver, then cargo test --test browser -- --ignored"]
async fn agent_adds_school_and_equipment_then_finds_it_on_desktop_and_phone() {
    let started = Instant::now();
    let work = Workdir::new();
    let base = boot_server(&work.path).await;
    let driver = ChromeDriver::start(&work.path);
    let browser = Browser::open(&driver, &work.path).await;

    let journey = tokio::spawn(journey(browser.clone(), base));
    let result = journey.await;
    if result.is_err() {
        browser.keep_evidence(&work.path, "failure").await;
    }
    browser.quit().await;
    drop(driver);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
    eprintln!("browser journey passed in {:.1}s", started.elapsed().as_secs_f64());
}

/// Everything a person does, in order.
async fn journey(b: Browser, base: String) {
    let serial = "BRW-CAM-0001";
    sign_in(&b, &base).await;
    let school = create_school(&b, &base).await;
    add_equipment(&b, &school, serial).await;
    search_equipment(&b, &base, serial).await;
    phone_layout(&b, &base, serial).await;
}

async fn sign_in(b: &Browser, base: &str) {
    b.goto(&format!("{base}/login")).await;
    assert_eq!(
        b.execute("return document.documentElement.lang", json!([])).await,
        json!("zh-CN"),
        "the UI is Chinese by default"
    );
    b.type_into("#login-form input[name=username]", AGENT).await;
    b.type_into("#login-form input[name=password]", AGENT_PASSWORD).await;
    b.click("#login-form button[type=submit]").await;
    b.wait_for_text("main h1", "工作台").await;
    assert_eq!(b.path().await, "/", "signing in lands on the dashboard");
    assert!(b.text("body").await.contains("新建学校"), "the dashboard offers the quick actions to an agent");
    b.shot("1-dashboard").await;
}

/// A school created through `/customers/new`; returns the URL of its page.
async fn create_school(b: &Browser, base: &str) -> String {
    b.goto(&format!("{base}/customers/new")).await;
    b.wait_for("#customer-form").await;
    for (field, value) in [
        ("code", "QY-BRW-01"),
        ("county", "青阳县"),
        ("town", "城关镇"),
        ("address", "青阳县城关镇学府路 8 号"),
        ("travel_minutes", "25"),
        ("contacts[0].name", "李老师"),
        ("contacts[0].phone", "13905663333"),
    ] {
        b.type_into(&format!("#customer-form input[name='{field}']"), value).await;
    }
    b.click("#customer-form button[type=submit]").await;
    b.wait_for_text("#customer-form", "名称：必填").await;
    assert!(b.path().await.starts_with("/customers"), "a rejected form stays on the form");
    assert_eq!(
        b.value("#customer-form input[name=code]").await,
        "QY-BRW-01",
        "what was typed is kept after a rejected submit"
    );
    assert_eq!(b.value("#customer-form input[name='contacts[0].phone']").await, "13905663333", "contacts are kept too");
    b.shot("2-school-rejected").await;

    b.type_into("#customer-form input[name=name]", "青阳县浏览器测试小学").await;
    b.click("#customer-form button[type=submit]").await;
    let url = b.wait_for_path(|p| is_record_path(p, "/customers/")).await;
    b.wait_for_text("main h1", "青阳县浏览器测试小学").await;
    assert!(b.text(".flash").await.contains("已创建"), "the school page confirms the creation");
    let page = b.text("main").await;
    assert!(page.contains("李老师") && page.contains("13905663333"), "the contact is listed: {page}");
    assert!(page.contains("城关镇"), "the town is shown");
    url
}

async fn add_equipment(b: &Browser, school: &str, serial: &str) {
    let school_id = school.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let link = b.find("main a[href^='/equipment/new?customer_id=']").await;
    assert_eq!(b.element_text(&link).await.trim(), "新增设备");
    b.click_element(&link).await;
    b.wait_for("#equipment-form").await;
    assert_eq!(b.value("#equipment-form select[name=customer_id]").await, school_id, "the school is preselected");
    b.click("#equipment-form select[name=system] option[value=surveillance]").await;
    assert_eq!(b.value("#equipment-form select[name=system]").await, "surveillance");
    for (field, value) in [
        ("kind", "枪式摄像机"),
        ("serial_no", serial),
        ("brand", "海康威视"),
        ("model", "DS-2CD3T46"),
        ("location", "校门口立杆"),
    ] {
        b.type_into(&format!("#equipment-form input[name={field}]"), value).await;
    }
    // Typing into a date input depends on the browser's locale; set the value as a picker would.
    b.execute(
        "const f = document.getElementById('equipment-form');\
         f.elements.installed_on.value = '2024-09-01';\
         f.elements.warranty_until.value = '2027-08-31';",
        json!([]),
    )
    .await;
    b.click("#equipment-form button[type=submit]").await;
    b.wait_for_path(|p| is_record_path(p, "/equipment/")).await;
    b.wait_for_text("main", serial).await;
    let page = b.text("main").await;
    assert!(page.contains("已创建"), "the equipment page confirms the creation: {page}");
    assert!(page.contains("枪式摄像机") && page.contains("校园监控"), "kind and system are shown in Chinese: {page}");
    assert!(page.contains("青阳县浏览器测试小学"), "the equipment page names its school");
}

async fn search_equipment(b: &Browser, base: &str, serial: &str) {
    b.goto(&format!("{base}/equipment")).await;
    b.type_into("#equipment-filters input[name=q]", "监控").await;
    b.click("#equipment-filters button[type=submit]").await;
    b.wait_for_path(|p| p.starts_with("/equipment?") && p.contains("q=")).await;
    b.wait_for_text("#equipment-list", serial).await;
    assert_eq!(b.value("#equipment-filters input[name=q]").await, "监控", "the search box keeps the query");
    b.shot("3-equipment-search").await;

    b.clear("#equipment-filters input[name=q]").await;
    b.type_into("#equipment-filters input[name=q]", "网监").await;
    b.click("#equipment-filters button[type=submit]").await;
    b.wait_for_text("main", "没有符合条件的记录").await;
    assert!(b.find_all("#equipment-list").await.is_empty(), "no list is shown when nothing matches");
    assert!(!b.text("main").await.contains(serial), "网监 must not find {serial}");
}

async fn phone_layout(b: &Browser, base: &str, serial: &str) {
    b.set_window_size(360, 740).await;
    b.goto(&format!("{base}/equipment")).await;
    b.wait_for_text("#equipment-list", serial).await;
    let list = b.find("#equipment-list").await;
    assert!(b.displayed(&list).await, "the equipment list is visible on a phone");
    let hamburger = b.find(".hamburger").await;
    assert!(b.displayed(&hamburger).await, "the menu button is shown on a phone");
    let sidebar = b.find("nav.sidebar").await;
    let (left, width) = b.rect_x(&sidebar).await;
    assert!(left + width <= 1.0, "the menu starts closed on a phone (x={left}, w={width})");
    let overflow = b
        .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", json!([]))
        .await;
    assert!(overflow.as_f64().unwrap_or(0.0) <= 0.0, "the page scrolls sideways on a phone by {overflow}px");
    b.shot("4-phone-list").await;

    b.click_element(&hamburger).await;
    b.wait_until("the menu slides in", || async {
        let (x, _) = b.rect_x(&sidebar).await;
        x >= 0.0
    })
    .await;
    assert!(b.text("nav.sidebar").await.contains("设备"), "the menu is in Chinese");
    b.shot("5-phone-menu").await;
}

/// `/customers/12` or `/equipment/7?ok=created`, not a list or a form.
fn is_record_path(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).map(|rest| rest.split('?').next().unwrap_or("").parse::<i64>().is_ok()).unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// The server

/// Boots the app on a free port against a fresh SQLite file in `dir`, with one `agent`.
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

// ---------------------------------------------------------------------------------------
// chromedriver

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
        loop {
            if let Some(body) = driver.raw_get("/status")
                && body.contains("\"ready\":true")
            {
                return driver;
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer on port {port} within 20s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A plain blocking GET, usable from `Drop` where no runtime is at hand. Returns the
    /// body; reads by `Content-Length` since chromedriver keeps the connection open.
    fn raw_get(&self, path: &str) -> Option<String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", self.port).ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).ok()?;
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().ok())
                    })
                    .flatten()
                    .unwrap_or(0);
                if body.len() >= len || n == 0 {
                    return Some(body.to_owned());
                }
            }
            if n == 0 {
                return None;
            }
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // `/shutdown` closes the browsers of open sessions too; killing alone would orphan them.
        let _ = self.raw_get("/shutdown");
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

// ---------------------------------------------------------------------------------------
// A small W3C WebDriver client

/// One browser session. Every command panics with chromedriver's message if it fails.
#[derive(Clone)]
struct Browser {
    http: reqwest::Client,
    session: String,
}

/// An element reference from the browser.
struct El(String);

impl Browser {
    async fn open(driver: &ChromeDriver, dir: &Path) -> Browser {
        let profile = dir.join("chromium-profile");
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            "--lang=zh-CN".to_owned(),
            "--window-size=1280,900".to_owned(),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                // On Linux `--lang` alone leaves `Accept-Language: en-US`, and the server
                // negotiates from that header; a Chinese browser sends zh-CN.
                "prefs": {"intl.accept_languages": "zh-CN,zh"},
            },
        }}});
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap();
        let r = http.post(format!("{}/session", driver.url())).json(&caps).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        let id = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("chromedriver refused the session: {v}"));
        Browser { http, session: format!("{}/session/{id}", driver.url()) }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            panic!(
                "{method} {path} {}: {} {}",
                body.unwrap_or(Value::Null),
                v["value"]["error"],
                v["value"]["message"]
            );
        }
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The path and query of the current page.
    async fn path(&self) -> String {
        let url = self.get("/url").await.as_str().unwrap().to_owned();
        let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
        after_scheme.find('/').map(|i| after_scheme[i..].to_owned()).unwrap_or_else(|| "/".into())
    }

    async fn find_all(&self, css: &str) -> Vec<El> {
        let v = self.post("/elements", json!({"using": "css selector", "value": css})).await;
        v.as_array().unwrap().iter().map(|e| El(e[ELEMENT].as_str().unwrap().to_owned())).collect()
    }

    async fn find(&self, css: &str) -> El {
        self.wait_for(css).await
    }

    /// Waits until `css` matches an element and returns the first.
    async fn wait_for(&self, css: &str) -> El {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            if Instant::now() > deadline {
                panic!("no element matches {css} on {}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the first element matching `css` contains `needle`.
    async fn wait_for_text(&self, css: &str, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                let text = self.element_text(&e).await;
                if text.contains(needle) {
                    return;
                }
                if Instant::now() > deadline {
                    panic!("{css} on {} does not show {needle:?}; it shows:\n{text}", self.path().await);
                }
            } else if Instant::now() > deadline {
                panic!("no element matches {css} on {} (waiting for {needle:?})", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the current path satisfies `ok`; returns it.
    async fn wait_for_path(&self, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            if Instant::now() > deadline {
                let flash = self
                    .execute("const f = document.querySelector('.flash'); return f ? f.innerText : ''", json!([]))
                    .await;
                panic!("still on {path} after submitting; message on the page: {flash}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_until<F, Fut>(&self, what: &str, ok: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + PATIENCE;
        while !ok().await {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element_text(&self, e: &El) -> String {
        self.get(&format!("/element/{}/text", e.0)).await.as_str().unwrap_or("").to_owned()
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.element_text(&e).await
    }

    /// The current `value` of a form control.
    async fn value(&self, css: &str) -> String {
        let e = self.find(css).await;
        let v = self.get(&format!("/element/{}/property/value", e.0)).await;
        v.as_str().unwrap_or("").to_owned()
    }

    async fn click_element(&self, e: &El) {
        self.post(&format!("/element/{}/click", e.0), json!({})).await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.click_element(&e).await;
    }

    /// Types `text` with the keyboard into the element matching `css`.
    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{}/value", e.0), json!({ "text": text })).await;
    }

    async fn clear(&self, css: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{}/clear", e.0), json!({})).await;
    }

    async fn displayed(&self, e: &El) -> bool {
        self.get(&format!("/element/{}/displayed", e.0)).await.as_bool().unwrap_or(false)
    }

    /// The left edge and width of an element, in CSS pixels.
    async fn rect_x(&self, e: &El) -> (f64, f64) {
        let r = self.get(&format!("/element/{}/rect", e.0)).await;
        (r["x"].as_f64().unwrap(), r["width"].as_f64().unwrap())
    }

    async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    async fn set_window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height })).await;
    }

    async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let v = self.get("/screenshot").await;
        base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap()
    }

    /// Saves a screenshot named `name` into `$AFTERCARE_BROWSER_SHOTS`, when set.
    async fn shot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("AFTERCARE_BROWSER_SHOTS") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(format!("{name}.png")), self.screenshot().await).unwrap();
        }
    }

    /// After a failure: a screenshot and the page source, best effort, without panicking.
    async fn keep_evidence(&self, dir: &Path, name: &str) {
        let b = self.clone();
        let dir = dir.to_owned();
        let name = name.to_owned();
        let _ = tokio::spawn(async move {
            std::fs::write(dir.join(format!("{name}.png")), b.screenshot().await).unwrap();
            let html = b.get("/source").await;
            std::fs::write(dir.join(format!("{name}.html")), html.as_str().unwrap_or("")).unwrap();
        })
        .await;
    }

    /// Ends the session, which closes the browser.
    async fn quit(&self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

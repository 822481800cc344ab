//! The harness: each test gets a freshly booted server on a free port, against its own
//! SQLite file or its own PostgreSQL database (created here and dropped afterwards).

use aftercare_domain::CustomerId;
use aftercare_domain::users::UserInput;
use aftercare_service::Services;
use aftercare_store::Db;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::future::Future;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PG_HINT: &str = "set AFTERCARE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres and run `cargo test --test integration -- --ignored`";

/// One booted server and what a test needs to talk to it.
#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub url: String,
    pub backend: Backend,
    pub client: Client,
    /// Two schools with a `customer` user each: `school1` sees only school 1.
    pub school1: i64,
    pub school2: i64,
}

/// Every demo role, password `password-<name>`.
pub const USERS: &[(&str, &[&str])] = &[
    ("admin", &["admin"]),
    ("manager", &["manager"]),
    ("agent", &["agent"]),
    ("engineer", &["engineer"]),
    ("tech", &["technician"]),
    ("store", &["storekeeper"]),
];

/// A new ticket for the store's group insert (`tickets::create_many`): the school as named,
/// on the network, no equipment, normal priority, its clocks running from `now`.
pub fn ticket_write(
    customer_id: i64,
    (name, town): (&str, &str),
    title: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> aftercare_store::tickets::TicketWrite {
    aftercare_store::tickets::TicketWrite {
        customer_id,
        customer_name: name.into(),
        town: town.into(),
        search_body: None,
        equipment_ids: Vec::new(),
        system: aftercare_domain::System::Network,
        title: title.into(),
        description: String::new(),
        source: aftercare_domain::tickets::TicketSource::Phone,
        priority: aftercare_domain::tickets::Priority::Normal,
        reporter_name: None,
        reporter_phone: None,
        respond_due: now + chrono::Duration::hours(2),
        arrive_due: now + chrono::Duration::hours(48),
        resolve_due: now + chrono::Duration::hours(72),
        created_by: None,
        now,
    }
}

pub fn password(user: &str) -> String {
    format!("password-{user}")
}

fn unique() -> String {
    format!("{}_{}", std::process::id(), rand::random::<u32>())
}

/// Creates a fresh database and returns its URL (and, for PostgreSQL, the admin URL to drop it).
pub async fn fresh_database(backend: Backend) -> (String, Option<(String, String)>) {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("aftercare_test_{}", unique()));
            std::fs::create_dir_all(&dir).unwrap();
            (format!("sqlite://{}/test.db", dir.display()), None)
        }
        Backend::Postgres => {
            let admin = std::env::var("AFTERCARE_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| panic!("PostgreSQL tests need a server: {PG_HINT}"));
            let name = format!("aftercare_test_{}", unique());
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
            pool.close().await;
            let (base, _) = admin.rsplit_once('/').unwrap();
            (format!("{base}/{name}"), Some((admin, name)))
        }
    }
}

pub async fn drop_database(admin: &str, name: &str) {
    if let Ok(pool) = sqlx::PgPool::connect(admin).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}

/// Serves the app for `url` on a free port; returns the base URL.
pub async fn serve(db: Db) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = aftercare_web::router(Services::new(db), aftercare_web::WebConfig::default());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

async fn seed(svc: &Services) -> (i64, i64) {
    let mut ids = Vec::new();
    for (name, code, town) in [("城关镇中心小学", "T-CG-01", "城关镇"), ("蓉城镇初级中学", "T-RC-01", "蓉城镇")]
    {
        let input = aftercare_domain::customers::CustomerInput {
            name: Some(name.into()),
            code: Some(code.into()),
            county: Some("青阳县".into()),
            town: Some(town.into()),
            contacts: Some(vec![aftercare_domain::customers::ContactInput {
                name: Some(format!("{town}王老师")),
                phone: Some(if code.ends_with("CG-01") { "13905661111".into() } else { "13905662222".into() }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let admin = aftercare_store::Writer::system();
        let c = input.validate().unwrap();
        ids.push(aftercare_store::customers::create(svc.db(), &admin, &c).await.unwrap());
    }
    for (name, roles) in USERS {
        user(svc, name, roles, None).await;
    }
    user(svc, "school1", &["customer"], Some(ids[0])).await;
    user(svc, "school2", &["customer"], Some(ids[1])).await;
    (ids[0], ids[1])
}

pub async fn user(svc: &Services, name: &str, roles: &[&str], customer: Option<i64>) {
    let input = UserInput {
        username: Some(name.into()),
        password: Some(password(name)),
        display_name: Some(format!("{name} 测试")),
        roles: Some(roles.iter().map(|r| r.to_string()).collect()),
        customer_id: customer.map(CustomerId),
        ..Default::default()
    };
    svc.create_user(None, &input).await.unwrap();
}

impl TestApp {
    pub async fn boot(backend: Backend, url: &str) -> TestApp {
        let db = Db::connect(url).await.unwrap();
        db.migrate().await.unwrap();
        let svc = Services::new(db.clone());
        let (school1, school2) = seed(&svc).await;
        let base = serve(db.clone()).await;
        TestApp { base, db, url: url.into(), backend, client: Client::new(), school1, school2 }
    }

    /// A second server on the same database (another node).
    pub async fn second_node(&self) -> String {
        let db = Db::connect(&self.url).await.unwrap();
        serve(db).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs `user` in through the API and returns the bearer token.
    pub async fn token(&self, user: &str) -> String {
        let r = self
            .client
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": user, "password": password(user)}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self.get(token, path).await;
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let r = self.client.request(method, self.url(path)).bearer_auth(token).json(body).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send_json(reqwest::Method::POST, token, path, body).await
    }

    /// A browser-like client signed in through the login form; returns it with the
    /// CSRF token of its session, read from a page.
    pub async fn browser(&self, user: &str) -> (Client, String) {
        let c = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = c.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        let login_csrf = hidden(&page, "_csrf");
        let r = c
            .post(self.url("/login"))
            .form(&[("username", user), ("password", &password(user)), ("_csrf", &login_csrf), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "form login {user}");
        let home = c.get(self.url("/me")).send().await.unwrap().text().await.unwrap();
        let csrf = hidden(&home, "_csrf");
        (c, csrf)
    }

    /// Creates a piece of equipment through the API as the agent; returns its JSON.
    pub async fn equipment(&self, token: &str, customer: i64, system: &str, kind: &str, serial: &str) -> Value {
        let (s, v) = self
            .post_json(token, "/api/v1/equipment", &json!({"customer_id": customer, "system": system, "kind": kind, "serial_no": serial, "brand": "海康威视", "model": "DS-2CD3T46", "location": "校门口立杆"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match &self.db {
            Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        }
    }
}

/// The value of the first hidden input named `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle).unwrap_or_else(|| panic!("no {name} in page")) + needle.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Boots a server on a fresh database of `backend`, runs `test`, then drops the database
/// whether or not the test passed.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (url, pg) = fresh_database(backend).await;
    let app = TestApp::boot(backend, &url).await;
    let db = app.db.clone();
    let result = tokio::spawn(test(app)).await;
    db.close().await;
    match pg {
        Some((admin, name)) => drop_database(&admin, &name).await,
        None => {
            if let Some(path) = url.strip_prefix("sqlite://")
                && let Some(dir) = std::path::Path::new(path).parent()
            {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares a test that runs on SQLite always and on PostgreSQL when asked for.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run($crate::common::Backend::Sqlite, $body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: set AFTERCARE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres and run `cargo test --test integration -- --ignored`"]
            async fn postgres() {
                $crate::common::run($crate::common::Backend::Postgres, $body).await
            }
        }
    };
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

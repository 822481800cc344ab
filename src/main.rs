//! `aftercare`: the one binary. `serve`, `migrate`, `demo`, `user add`, `import`,
//! `export`, `backup`. Configuration from flags, `aftercare.toml` and
//! `AFTERCARE_*` variables.

mod config;

use aftercare_service::{Actor, Services};
use aftercare_store::Db;
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use config::Config;
use std::io::Read;

#[derive(Parser)]
#[command(name = "aftercare", version, about = "Aftercare 售后服务管理系统")]
struct Cli {
    /// Database URL: sqlite://PATH or postgres://… (default sqlite://data/aftercare.db).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Configuration file (default ./aftercare.toml when it exists).
    #[arg(long, global = true)]
    config: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the pages and the API.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Load the demo county (30 schools, 700+ pieces of equipment, one user per role) into
    /// an empty database, print the demo accounts, then serve unless --no-serve.
    Demo {
        #[arg(long)]
        no_serve: bool,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        #[arg(long)]
        listen: Option<String>,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Import schools and equipment from an .xlsx file (all or nothing).
    Import { file: String },
    /// Export schools or equipment to .xlsx or .csv.
    Export {
        /// `customers` or `equipment`.
        what: String,
        /// Output file; the format follows its extension (.xlsx or .csv).
        #[arg(long)]
        out: String,
        /// Search words to filter by.
        #[arg(long)]
        q: Option<String>,
        #[arg(long)]
        english: bool,
    },
    /// Write a consistent copy of a running SQLite database.
    Backup {
        #[arg(long)]
        out: String,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// A role (admin, manager, agent, engineer, technician, storekeeper, customer); repeat or comma-separate.
        #[arg(long = "role", value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// The school of a `customer` user.
        #[arg(long)]
        customer: Option<i64>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The operator at the command line acts with full rights; the audit trail names them.
fn cli_actor() -> Actor {
    Actor {
        id: aftercare_domain::UserId(0),
        username: "cli".into(),
        display_name: "命令行 command line".into(),
        roles: vec![aftercare_domain::Role::Admin],
        customer_id: None,
        locale: "zh-CN".into(),
    }
}

/// glibc's malloc gives threads that allocate at the same time arenas of their own, up to
/// 8 per core, and each arena keeps the memory its threads freed: with a Tokio worker per
/// core plus one thread per SQLite connection, one way for the resident size to climb under
/// load. Two arenas bound that; in the benches here it cost nothing and saved little
/// (docs/BENCHMARKS.md, "Memory"). `MALLOC_ARENA_MAX` in the environment still wins.
fn cap_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        const M_ARENA_MAX: std::ffi::c_int = -8;
        // SAFETY: mallopt only sets one of glibc's malloc tunables; it is called first thing,
        // and arenas made before it stay valid either way.
        unsafe {
            mallopt(M_ARENA_MAX, 2);
        }
    }
}

fn main() -> Result<()> {
    cap_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let cfg = Config::load(cli.config.as_deref(), cli.database_url.as_deref())?;
    match cli.cmd {
        Cmd::Serve { listen } => {
            let db = open(&cfg).await?;
            serve(db, &cfg, listen.as_deref().unwrap_or(&cfg.listen)).await
        }
        Cmd::Migrate => {
            open(&cfg).await?;
            println!("database is up to date: {}", cfg.display_url());
            Ok(())
        }
        Cmd::Demo { no_serve, seed, listen } => {
            let db = open(&cfg).await?;
            let svc = Services::new(db.clone());
            let s = aftercare_demo::load_demo(&svc, seed).await.context("loading the demo county")?;
            if s.skipped {
                println!("demo: the database already has schools; nothing loaded.");
            } else {
                println!(
                    "demo: loaded {} schools, {} pieces of equipment, {} tickets, {} contact records, {} stock movements, \
                     {} inspections, {} trips, {} users.",
                    s.customers, s.equipment, s.tickets, s.contacts, s.movements, s.inspections, s.trips, s.users
                );
            }
            println!("\n  demo accounts (username / password — role):");
            for u in aftercare_demo::DEMO_USERS {
                println!("    {:<9} / {:<14} — {}", u.username, u.password, u.roles.join(","));
            }
            println!();
            if no_serve {
                return Ok(());
            }
            serve(db, &cfg, listen.as_deref().unwrap_or(&cfg.listen)).await
        }
        Cmd::User { cmd: UserCmd::Add { username, roles, customer, display_name, password_stdin } } => {
            if !password_stdin {
                bail!("give the password on standard input with --password-stdin");
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let svc = Services::new(open(&cfg).await?);
            let input = aftercare_domain::users::UserInput {
                username: Some(username),
                password: Some(password),
                display_name,
                roles: Some(roles),
                customer_id: customer.map(aftercare_domain::CustomerId),
                ..Default::default()
            };
            match svc.create_user(None, &input).await {
                Ok(u) => {
                    println!("user {} created (id {}, roles {})", u.username, u.id, u.roles);
                    Ok(())
                }
                Err(e) => bail!("{}", describe(e)),
            }
        }
        Cmd::Import { file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {file}"))?;
            let svc = Services::new(open(&cfg).await?);
            match svc.import_xlsx(&cli_actor(), &bytes).await {
                Ok(s) => {
                    println!("imported {} schools and {} pieces of equipment", s.customers, s.equipment);
                    Ok(())
                }
                Err(e) => bail!("{}", describe(e)),
            }
        }
        Cmd::Export { what, out, q, english } => {
            let svc = Services::new(open(&cfg).await?);
            let actor = cli_actor();
            let table = match what.as_str() {
                "customers" | "schools" => svc
                    .customer_table(
                        &actor,
                        aftercare_store::customers::CustomerQuery { q, ..Default::default() },
                        english,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(e)))?,
                "equipment" => svc
                    .equipment_table(
                        &actor,
                        aftercare_store::equipment::EquipmentQuery { q, ..Default::default() },
                        english,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(e)))?,
                other => bail!("cannot export {other:?}: say customers or equipment"),
            };
            let bytes = if out.ends_with(".csv") {
                aftercare_service::excel::table_to_csv(&table).into_bytes()
            } else {
                aftercare_service::excel::table_to_xlsx(&what, &table).map_err(|e| anyhow::anyhow!(describe(e)))?
            };
            std::fs::write(&out, bytes).with_context(|| format!("writing {out}"))?;
            println!("wrote {} rows to {out}", table.len().saturating_sub(1));
            Ok(())
        }
        Cmd::Backup { out } => {
            let db = open(&cfg).await?;
            if std::path::Path::new(&out).exists() {
                bail!("{out} exists; choose a new file");
            }
            db.backup_sqlite(&out).await?;
            println!("backup written to {out}");
            Ok(())
        }
    }
}

/// A service error as a sentence for the terminal (Chinese, the default language).
fn describe(e: aftercare_service::ServiceError) -> String {
    use aftercare_service::ServiceError as E;
    let tr = aftercare_web::Tr::new("zh-CN");
    match e {
        E::Invalid(fe) => fe.0.iter().map(|x| tr.field_error(x)).collect::<Vec<_>>().join("\n"),
        E::Import(rows) => rows.iter().map(|r| aftercare_web::api_row_message(tr, r)).collect::<Vec<_>>().join("\n"),
        E::Duplicate(f) => {
            tr.field_error(&aftercare_domain::FieldError { field: f.into(), code: "duplicate", area: None })
        }
        other => other.to_string(),
    }
}

/// Connects and migrates: every subcommand works on an empty folder.
async fn open(cfg: &Config) -> Result<Db> {
    let db = Db::connect_with(&cfg.database_url, cfg.db_options())
        .await
        .with_context(|| format!("opening {}", cfg.display_url()))?;
    db.migrate().await.context("migrating the database")?;
    Ok(db)
}

/// Serves until Ctrl-C or SIGTERM, with the job worker beside it.
pub async fn serve(db: Db, cfg: &Config, listen: &str) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let web = cfg.web()?;
    cfg.mail.check().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let svc = Services::new(db.clone())
        .with_tz(web.tz)
        .with_mail(cfg.mail.clone())
        .with_words(aftercare_web::robot_words(web.tz));
    let worker = tokio::spawn(aftercare_jobs::work(svc.clone(), stop_rx));
    // The upkeep that would otherwise fall inside some request's commit: SQLite's WAL
    // checkpoint, PostgreSQL's search-index pending list (see `Db::upkeep`).
    let upkeep = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(200));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(e) = db.upkeep().await {
                    tracing::warn!(error = %e, "upkeep");
                }
            }
        })
    };
    let app = aftercare_web::router(svc, web);
    println!("Aftercare is serving http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    upkeep.abort();
    db.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

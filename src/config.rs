//! Configuration: defaults, then `aftercare.toml`, then `AFTERCARE_*` variables, then flags.

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://…`
    pub database_url: String,
    /// `HOST:PORT`
    pub listen: String,
    /// The time zone times are shown in.
    pub timezone: String,
    /// Mark cookies Secure (behind HTTPS).
    pub secure_cookies: bool,
    /// Addresses of reverse proxies in front (comma-separated IPs, e.g. `127.0.0.1`). Only a
    /// request from one of them has its client read from `X-Forwarded-For`; otherwise the
    /// socket peer is the client (throttling counts per client address).
    #[serde(default)]
    pub trusted_proxies: String,
    /// SQLite only: `full` (the default; an answered write survives a power cut) or `normal`
    /// (survives a killed process but a power cut can lose the last commits; saves an fsync
    /// per group commit). `AFTERCARE_SQLITE_SYNCHRONOUS=normal`.
    #[serde(default)]
    pub sqlite_synchronous: aftercare_store::SqliteSync,
    /// `[mail.imap]` (mail in) and `[mail.smtp]` (mail out); both optional, off when absent.
    /// From the environment: `AFTERCARE_MAIL__SMTP__HOST`, `AFTERCARE_MAIL__IMAP__PASSWORD`, …
    #[serde(default)]
    pub mail: aftercare_service::mail::MailConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://data/aftercare.db".into(),
            listen: "127.0.0.1:8080".into(),
            timezone: "Asia/Shanghai".into(),
            secure_cookies: false,
            trusted_proxies: String::new(),
            sqlite_synchronous: Default::default(),
            mail: Default::default(),
        }
    }
}

impl Config {
    pub fn load(file: Option<&str>, database_url: Option<&str>) -> Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => fig = fig.merge(Toml::file_exact(f)),
            None => fig = fig.merge(Toml::file("aftercare.toml")),
        }
        // `__` nests: AFTERCARE_MAIL__SMTP__HOST is mail.smtp.host.
        fig = fig.merge(Env::prefixed("AFTERCARE_").split("__"));
        if let Some(url) = database_url {
            fig = fig.merge(Serialized::default("database_url", url));
        }
        fig.extract().context("reading the configuration")
    }

    pub fn db_options(&self) -> aftercare_store::DbOptions {
        aftercare_store::DbOptions { sqlite_synchronous: self.sqlite_synchronous }
    }

    pub fn web(&self) -> Result<aftercare_web::WebConfig> {
        let tz = self.timezone.parse().map_err(|e| anyhow::anyhow!("timezone {:?}: {e}", self.timezone))?;
        let trusted_proxies = self
            .trusted_proxies
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|e| anyhow::anyhow!("trusted_proxies {s:?}: {e}")))
            .collect::<Result<Vec<std::net::IpAddr>>>()?;
        Ok(aftercare_web::WebConfig { tz, secure_cookies: self.secure_cookies, trusted_proxies })
    }

    /// The URL without a password, for messages.
    pub fn display_url(&self) -> String {
        match self.database_url.split_once('@') {
            Some((head, tail)) if head.contains("://") && head.matches(':').count() > 1 => {
                let (scheme_user, _) = head.rsplit_once(':').unwrap_or((head, ""));
                format!("{scheme_user}:***@{tail}")
            }
            _ => self.database_url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aftercare_store::SqliteSync;

    fn load_toml(text: &str) -> Result<Config> {
        let path = std::env::temp_dir().join(format!("aftercare-config-{}-{}.toml", std::process::id(), text.len()));
        std::fs::write(&path, text)?;
        let cfg = Config::load(path.to_str(), None);
        let _ = std::fs::remove_file(&path);
        cfg
    }

    #[test]
    fn sqlite_commits_are_durable_unless_told_otherwise() {
        assert_eq!(load_toml("").unwrap().sqlite_synchronous, SqliteSync::Full);
        assert_eq!(load_toml("sqlite_synchronous = \"normal\"").unwrap().sqlite_synchronous, SqliteSync::Normal);
        assert!(load_toml("sqlite_synchronous = \"off\"").is_err());
    }
}

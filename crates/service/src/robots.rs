//! Group robots (企业微信 / 钉钉): the settings of where notifications are also posted, and
//! the forwarder that turns new notifications into queued sends (retried like mail).

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::robots::{self as rules, Platform, RobotInput};
use aftercare_domain::{FieldErrors, RobotId, Role, UserId};
use aftercare_store::StoreError;
pub use aftercare_store::notifications::NotificationRow;
pub use aftercare_store::robots::RobotRow;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The job that posts one message to a robot's webhook.
pub const SEND_ROBOT: &str = "send_robot";
/// The setting holding the product's address as people reach it (`http://10.0.0.5:8080`),
/// for the links in robot messages.
pub const PUBLIC_URL: &str = "public_url";
/// Notifications forwarded per run of the forwarder.
const BATCH: i64 = 500;

/// How a notification reads: its title and its sentence. The words belong to the web's
/// catalogue; the server gives them to the services at start (`Services::with_words`).
#[derive(Clone)]
pub struct Words(pub std::sync::Arc<WordsFn>);

/// A notification's (title, sentence).
pub type WordsFn = dyn Fn(&NotificationRow) -> (String, String) + Send + Sync;

impl std::fmt::Debug for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Words")
    }
}

/// A queued send: where to, and the platform's body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RobotSend {
    pub robot_id: i64,
    pub url: String,
    pub body: serde_json::Value,
}

/// The body the platform's webhook takes: a markdown message with the record's link.
pub fn message(platform: Platform, title: &str, text: &str, link: Option<&str>) -> serde_json::Value {
    let mut body = format!("**{title}**\n\n{text}");
    if let Some(l) = link {
        body.push_str(&format!("\n\n[{l}]({l})"));
    }
    match platform {
        Platform::WeCom => serde_json::json!({"msgtype": "markdown", "markdown": {"content": body}}),
        Platform::DingTalk => serde_json::json!({"msgtype": "markdown", "markdown": {"title": title, "text": body}}),
    }
}

/// The page a notification leads to (the bell's link and the robot message's).
pub fn notification_path(n: &NotificationRow) -> String {
    use aftercare_domain::notifications::NotificationKind as K;
    let a: serde_json::Value = serde_json::from_str(&n.args_json).unwrap_or_default();
    if let Some(t) = n.ticket_id {
        return format!("/tickets/{t}");
    }
    let link = match n.kind {
        K::SlaBreachMany => Some("/tickets?view=overdue".to_owned()),
        K::RequisitionApproved => a["requisition_id"].as_i64().map(|r| format!("/requisitions/{r}")),
        K::Shortage | K::ShortageOverdue => Some("/stock/shortages".to_owned()),
        K::EquipmentSuggested => Some("/suggestions".to_owned()),
        K::InspectionPlanned => Some("/inspections?view=mine".to_owned()),
        K::InspectionMissed => a["inspection_id"].as_i64().map(|i| format!("/inspections/{i}")),
        _ => a["contact_id"].as_i64().map(|c| format!("/contacts/{c}")),
    };
    link.unwrap_or_else(|| "/notifications".to_owned())
}

impl Services {
    /// Gives the services the words of notifications (the web's catalogue).
    pub fn with_words(mut self, words: Words) -> Services {
        self.words = Some(words);
        self
    }

    pub async fn robots(&self, by: &Actor) -> Result<Vec<RobotRow>> {
        require(by.is_admin_or_manager())?;
        Ok(aftercare_store::robots::list(&self.db, false).await?)
    }

    pub async fn add_robot(&self, by: &Actor, input: &RobotInput, now: DateTime<Utc>) -> Result<RobotRow> {
        require(by.is_admin_or_manager())?;
        let r = input.validate()?;
        if let Some(u) = r.user_id
            && aftercare_store::users::get(&self.db, u.0).await.is_err()
        {
            return Err(FieldErrors::single("user_id", "not_found").into());
        }
        let id = aftercare_store::robots::create(&self.db, &self.writer(by), &r, now).await?;
        let all = aftercare_store::robots::list(&self.db, false).await?;
        all.into_iter().find(|x| x.id == id).ok_or(ServiceError::NotFound)
    }

    pub async fn remove_robot(&self, by: &Actor, id: RobotId) -> Result<()> {
        require(by.is_admin_or_manager())?;
        Ok(aftercare_store::robots::deactivate(&self.db, &self.writer(by), id.0).await?)
    }

    pub async fn public_url(&self) -> Option<String> {
        aftercare_store::settings::setting(&self.db, PUBLIC_URL)
            .await
            .ok()
            .flatten()
            .map(|s| s.trim().trim_end_matches('/').to_owned())
            .filter(|s| !s.is_empty())
    }

    /// Sets the address links in robot messages start with (empty: messages carry no link).
    pub async fn set_public_url(&self, by: &Actor, url: &str) -> Result<()> {
        require(by.is_admin_or_manager())?;
        let url = url.trim().trim_end_matches('/');
        let web = url.starts_with("http://") || url.starts_with("https://");
        if (!url.is_empty() && !web) || url.len() > 200 {
            return Err(FieldErrors::single("public_url", "invalid").into());
        }
        Ok(aftercare_store::settings::set_setting(&self.db, &self.writer(by), PUBLIC_URL, url).await?)
    }

    /// Queues a send for every robot that takes each notification made since the last run:
    /// one message per robot per event (the same event told to three engineers is posted to
    /// the engineers' group once). Returns how many sends were queued.
    pub async fn forward_to_robots(&self, now: DateTime<Utc>) -> Result<usize> {
        let (cursor, pending) = aftercare_store::robots::pending(&self.db, BATCH).await?;
        let Some(last) = pending.last().map(|p| p.n.id) else { return Ok(0) };
        let robots = aftercare_store::robots::list(&self.db, true).await?;
        let base = self.public_url().await;
        let mut sent: Vec<(i64, String, Option<i64>, String)> = Vec::new();
        let mut jobs = Vec::new();
        for p in &pending {
            let roles: Vec<Role> = p.roles.split(',').filter_map(Role::parse).collect();
            for r in &robots {
                let role = r.role.as_deref().and_then(Role::parse);
                if !rules::takes(role, r.user_id.map(UserId), UserId(p.n.user_id), &roles) {
                    continue;
                }
                let key = (r.id, p.n.kind.as_str().to_owned(), p.n.ticket_id, p.n.args_json.clone());
                if sent.contains(&key) {
                    continue;
                }
                sent.push(key);
                let (title, text) = match &self.words {
                    Some(w) => (w.0)(&p.n),
                    None => (p.n.kind.as_str().to_owned(), p.n.args_json.clone()),
                };
                let link = base.as_ref().map(|b| format!("{b}{}", notification_path(&p.n)));
                let send = RobotSend {
                    robot_id: r.id,
                    url: r.url.clone(),
                    body: message(r.platform, &title, &text, link.as_deref()),
                };
                let payload = serde_json::to_string(&send).map_err(|e| ServiceError::Internal(e.to_string()))?;
                jobs.push((SEND_ROBOT.to_owned(), payload));
            }
        }
        match aftercare_store::robots::forward(&self.db, cursor, last, &jobs, now).await {
            Ok(()) => Ok(jobs.len()),
            // Another node forwarded these first.
            Err(StoreError::Stale) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_gets_its_own_markdown_message() {
        let w = message(Platform::WeCom, "新工单", "GD1 监控黑屏", Some("http://a/tickets/1"));
        assert_eq!(w["msgtype"], "markdown");
        assert!(w["markdown"]["content"].as_str().unwrap_or("").contains("[http://a/tickets/1](http://a/tickets/1)"));
        let d = message(Platform::DingTalk, "新工单", "GD1", None);
        assert_eq!(d["markdown"]["title"], "新工单");
        assert!(d["markdown"]["text"].as_str().unwrap_or("").starts_with("**新工单**"));
    }
}

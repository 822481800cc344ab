//! Posting one queued message to a group robot's webhook. Both platforms answer HTTP 200
//! with `{"errcode": 0}` when the message is taken; anything else is retried, then given up.

use aftercare_service::robots::RobotSend;
use std::time::Duration;

/// Tries before a message is given up (about an hour with the worker's back-off).
pub const MAX_SEND_ATTEMPTS: i32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The payload can never be sent (not ours, or malformed).
    #[error("{0}")]
    GiveUp(String),
    #[error("{0}")]
    Retry(String),
}

pub async fn send(payload: &str) -> Result<(), SendError> {
    let m: RobotSend = serde_json::from_str(payload).map_err(|e| SendError::GiveUp(format!("bad payload: {e}")))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| SendError::Retry(e.to_string()))?;
    let r = client.post(&m.url).json(&m.body).send().await.map_err(|e| SendError::Retry(e.to_string()))?;
    let status = r.status();
    let text = r.text().await.map_err(|e| SendError::Retry(e.to_string()))?;
    if !status.is_success() {
        return Err(SendError::Retry(format!("robot {} answered {status}", m.robot_id)));
    }
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match answer["errcode"].as_i64() {
        Some(0) => Ok(()),
        // 企业微信 and 钉钉 both answer errcode 0; a robot that answers nothing of the kind
        // took the message as far as HTTP goes.
        None if answer.is_null() || answer.get("errcode").is_none() => Ok(()),
        _ => Err(SendError::Retry(format!(
            "robot {} refused: {}",
            m.robot_id,
            answer["errmsg"].as_str().unwrap_or(&text).chars().take(200).collect::<String>()
        ))),
    }
}

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
    // One client for every send: it keeps the TLS roots and the connections to the platform.
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = match CLIENT.get() {
        Some(c) => c,
        None => {
            let c = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| SendError::Retry(e.to_string()))?;
            CLIENT.get_or_init(|| c)
        }
    };
    let mut r = client.post(&m.url).json(&m.body).send().await.map_err(|e| SendError::Retry(e.to_string()))?;
    let status = r.status();
    // The answer is a few bytes of JSON; a webhook that sends more is not read past 64 KiB.
    let mut raw = Vec::new();
    while let Some(chunk) = r.chunk().await.map_err(|e| SendError::Retry(e.to_string()))? {
        raw.extend_from_slice(&chunk);
        if raw.len() > 64 * 1024 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
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

//! Group robots (企业微信 / 钉钉 群机器人): where a role's or a person's notifications are
//! also posted, and the message each platform takes. Pure: the caller sends it.

use crate::validation::{FieldErrors, required};
use crate::{Role, UserId};
use serde::{Deserialize, Serialize};

string_enum!(
    /// The chat platform of a robot's webhook.
    Platform {
        /// 企业微信 group robot: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.
        WeCom = "wecom",
        /// 钉钉 custom robot: `https://oapi.dingtalk.com/robot/send?access_token=…`.
        DingTalk = "dingtalk",
    }
);

/// A robot as typed in the settings (`POST /api/v1/robots`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RobotInput {
    /// What the group is, for the list (售后技术群).
    pub name: Option<String>,
    /// `wecom` or `dingtalk`.
    pub platform: Option<String>,
    pub url: Option<String>,
    /// Every notification of a user with this role …
    pub role: Option<String>,
    /// … or of this one person (exactly one of the two).
    pub user_id: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRobot {
    pub name: String,
    pub platform: Platform,
    pub url: String,
    pub role: Option<Role>,
    pub user_id: Option<UserId>,
}

/// The longest webhook address kept.
pub const MAX_URL: usize = 500;

impl RobotInput {
    pub fn validate(&self) -> Result<NewRobot, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = required(&mut e, "name", self.name.as_deref(), 60);
        let platform = match self.platform.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("platform", "required");
                None
            }
            Some(p) => {
                let v = Platform::parse(p);
                if v.is_none() {
                    e.push("platform", "unknown_value");
                }
                v
            }
        };
        let url = required(&mut e, "url", self.url.as_deref(), MAX_URL);
        // A webhook is an http(s) address with a host; anything else would be posted nowhere.
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        let host = url.split("://").nth(1).and_then(|r| r.split(['/', '?']).next()).unwrap_or("");
        if !url.is_empty() && (!scheme_ok || host.is_empty() || url.chars().any(char::is_whitespace)) {
            e.push("url", "invalid");
        }
        let role = match self.role.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(r) => {
                let v = Role::parse(r).filter(|r| *r != Role::Customer);
                if v.is_none() {
                    e.push("role", "unknown_value");
                }
                v
            }
        };
        match (self.role.as_deref().map(str::trim).filter(|s| !s.is_empty()), self.user_id) {
            (None, None) => e.push("role", "required"),
            (Some(_), Some(_)) => e.push("user_id", "one_of_role_or_user"),
            _ => {}
        }
        match platform {
            Some(platform) if e.is_empty() => Ok(NewRobot { name, platform, url, role, user_id: self.user_id }),
            _ => Err(e),
        }
    }
}

/// Does a robot take a notification addressed to this user (with these roles)?
pub fn takes(robot_role: Option<Role>, robot_user: Option<UserId>, to: UserId, roles: &[Role]) -> bool {
    robot_user == Some(to) || robot_role.is_some_and(|r| roles.contains(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str) -> RobotInput {
        RobotInput {
            name: Some("售后技术群".into()),
            platform: Some("wecom".into()),
            url: Some(url.into()),
            role: Some("engineer".into()),
            user_id: None,
        }
    }

    #[test]
    fn a_robot_needs_a_web_address_and_exactly_one_audience() {
        assert!(input("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc").validate().is_ok());
        for bad in ["ftp://x/y", "https://", "qyapi.weixin.qq.com/send", "https://a b/c", "javascript:alert(1)"] {
            assert!(input(bad).validate().unwrap_err().has("url"), "{bad}");
        }
        let mut both = input("https://x.test/hook");
        both.user_id = Some(UserId(3));
        assert!(both.validate().unwrap_err().has("user_id"));
        let mut neither = input("https://x.test/hook");
        neither.role = None;
        assert!(neither.validate().unwrap_err().has("role"));
        let mut school = input("https://x.test/hook");
        school.role = Some("customer".into());
        assert!(school.validate().unwrap_err().has("role"), "a school's login has no group");
        let e = RobotInput::default().validate().unwrap_err();
        assert!(e.has("name") && e.has("platform") && e.has("url") && e.has("role"), "all at once: {e:?}");
    }

    #[test]
    fn a_robot_takes_its_role_or_its_person() {
        assert!(takes(Some(Role::Engineer), None, UserId(1), &[Role::Engineer]));
        assert!(!takes(Some(Role::Engineer), None, UserId(1), &[Role::Technician]));
        assert!(takes(None, Some(UserId(7)), UserId(7), &[]));
        assert!(!takes(None, Some(UserId(7)), UserId(8), &[Role::Engineer]));
    }
}

//! Users and what a user may see: the actor of every service call.

use crate::validation::{FieldErrors, optional, required};
use crate::{CustomerId, Role, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    pub username: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub roles: Option<Vec<String>>,
    pub customer_id: Option<CustomerId>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `zh-CN` or `en`.
    pub locale: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub customer_id: Option<CustomerId>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
}

pub const MIN_PASSWORD_LEN: usize = 8;
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

impl UserInput {
    pub fn validate(&self) -> Result<NewUser, FieldErrors> {
        let mut e = FieldErrors::default();
        let username = required(&mut e, "username", self.username.as_deref(), 32).to_lowercase();
        if !username.is_empty() && !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
            e.push("username", "invalid");
        }
        let password = self.password.clone().unwrap_or_default();
        if password.is_empty() {
            e.push("password", "required");
        } else if password.chars().count() < MIN_PASSWORD_LEN {
            e.push("password", "too_short");
        }
        let display_name =
            optional(&mut e, "display_name", self.display_name.as_deref(), 50).unwrap_or_else(|| username.clone());
        let roles = parse_roles(&mut e, self.roles.as_deref().unwrap_or_default());
        if roles.contains(&Role::Customer) && self.customer_id.is_none() {
            e.push("customer_id", "required");
        }
        if !roles.contains(&Role::Customer) && self.customer_id.is_some() {
            e.push("customer_id", "invalid");
        }
        let email = optional(&mut e, "email", self.email.as_deref(), 100);
        let phone = optional(&mut e, "phone", self.phone.as_deref(), 30);
        let locale = self.locale.clone().unwrap_or_else(|| "zh-CN".into());
        if !LOCALES.contains(&locale.as_str()) {
            e.push("locale", "unknown_value");
        }
        e.into_result(NewUser {
            username,
            password,
            display_name,
            roles,
            customer_id: self.customer_id,
            email,
            phone,
            locale,
        })
    }
}

pub fn parse_roles(e: &mut FieldErrors, raw: &[String]) -> Vec<Role> {
    let mut roles = Vec::new();
    for r in raw {
        match Role::parse(r) {
            Some(r) if !roles.contains(&r) => roles.push(r),
            Some(_) => {}
            None => e.push("roles", "unknown_value"),
        }
    }
    if roles.is_empty() && e.0.iter().all(|x| x.field != "roles") {
        e.push("roles", "required");
    }
    if roles.contains(&Role::Customer) && roles.len() > 1 {
        // A school's account is never also staff: its scope would leak.
        e.push("roles", "invalid");
    }
    roles.sort();
    roles
}

/// Who is acting: every service call takes one, and every permission check reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub customer_id: Option<CustomerId>,
    pub locale: String,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.is_admin_or_manager() || roles.iter().any(|r| self.has(*r))
    }

    pub fn is_admin_or_manager(&self) -> bool {
        self.has(Role::Admin) || self.has(Role::Manager)
    }

    /// Staff see every school; a school user sees only its own.
    pub fn is_staff(&self) -> bool {
        !self.roles.is_empty() && !self.has(Role::Customer)
    }

    /// `None` = every customer; `Some(id)` = only that one.
    pub fn customer_scope(&self) -> Option<CustomerId> {
        if self.is_staff() { None } else { Some(self.customer_id.unwrap_or(CustomerId(-1))) }
    }

    pub fn can_see_customer(&self, id: CustomerId) -> bool {
        self.customer_scope().is_none_or(|c| c == id)
    }

    /// Who may change the installed base: staff who set up and maintain it.
    pub fn can_edit_installed_base(&self) -> bool {
        self.has_any(&[Role::Agent, Role::Engineer])
    }

    pub fn can_manage_users(&self) -> bool {
        self.has(Role::Admin)
    }

    pub fn can_read_audit(&self) -> bool {
        self.is_admin_or_manager()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(roles: Vec<Role>, customer: Option<i64>) -> Actor {
        Actor {
            id: UserId(1),
            username: "u".into(),
            display_name: "u".into(),
            roles,
            customer_id: customer.map(CustomerId),
            locale: "zh-CN".into(),
        }
    }

    #[test]
    fn school_users_are_scoped_to_their_school() {
        let s = actor(vec![Role::Customer], Some(7));
        assert_eq!(s.customer_scope(), Some(CustomerId(7)));
        assert!(s.can_see_customer(CustomerId(7)));
        assert!(!s.can_see_customer(CustomerId(8)));
        assert!(!s.can_edit_installed_base());
        let broken = actor(vec![Role::Customer], None);
        assert!(!broken.can_see_customer(CustomerId(1)));
    }

    #[test]
    fn staff_permissions() {
        let t = actor(vec![Role::Technician], None);
        assert!(t.can_see_customer(CustomerId(8)));
        assert!(!t.can_edit_installed_base());
        assert!(actor(vec![Role::Agent], None).can_edit_installed_base());
        assert!(actor(vec![Role::Manager], None).can_edit_installed_base());
        assert!(actor(vec![Role::Admin], None).can_manage_users());
        assert!(!actor(vec![Role::Manager], None).can_manage_users());
        assert!(actor(vec![Role::Manager], None).can_read_audit());
        assert!(!actor(vec![Role::Engineer], None).can_read_audit());
    }

    #[test]
    fn user_validation() {
        let i = UserInput {
            username: Some("Wang.Li".into()),
            password: Some("short".into()),
            roles: Some(vec!["customer".into(), "agent".into(), "boss".into()]),
            ..Default::default()
        };
        let e = i.validate().err().unwrap_or_default();
        let got: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            got,
            vec![
                ("password", "too_short"),
                ("roles", "unknown_value"),
                ("roles", "invalid"),
                ("customer_id", "required")
            ]
        );
        let ok = UserInput {
            username: Some("Wang.Li".into()),
            password: Some("long enough".into()),
            roles: Some(vec!["engineer".into(), "technician".into(), "engineer".into()]),
            ..Default::default()
        }
        .validate()
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(ok.username, "wang.li");
        assert_eq!(ok.roles, vec![Role::Engineer, Role::Technician]);
        assert_eq!(ok.display_name, "wang.li");
    }
}

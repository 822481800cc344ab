//! Users: accounts and roles, managed by the administrator.

use crate::auth::{actor_from_row, hash_password};
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::users::{LOCALES, UserInput, parse_roles};
use aftercare_domain::{FieldErrors, Role};
pub use aftercare_store::users::UserRow;
use aftercare_store::users::UserWrite;
use aftercare_store::{Page, Paged};

impl Services {
    /// Creates a user. `by` is `None` for the command line (the operator of the machine).
    pub async fn create_user(&self, by: Option<&Actor>, input: &UserInput) -> Result<UserRow> {
        if let Some(a) = by {
            require(a.can_manage_users())?;
        }
        let u = input.validate()?;
        if let Some(c) = u.customer_id {
            aftercare_store::customers::get(&self.db, c.0)
                .await
                .map_err(|_| FieldErrors::single("customer_id", "not_found"))?;
        }
        let w = by.map(|a| self.writer(a)).unwrap_or_else(|| self.writer_named("command line"));
        let id = aftercare_store::users::create(
            &self.db,
            &w,
            &UserWrite {
                username: u.username,
                password_hash: hash_password(&u.password),
                display_name: u.display_name,
                roles: u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
                customer_id: u.customer_id.map(|c| c.0),
                email: u.email,
                phone: u.phone,
                locale: u.locale,
            },
        )
        .await?;
        Ok(aftercare_store::users::get(&self.db, id).await?)
    }

    pub async fn list_users(&self, by: &Actor, page: Page) -> Result<Paged<UserRow>> {
        require(by.can_manage_users() || by.has(Role::Manager))?;
        Ok(aftercare_store::users::list(&self.db, page).await?)
    }

    /// A user record: the administrator and manager see everyone, a user sees itself.
    pub async fn get_user(&self, by: &Actor, id: aftercare_domain::UserId) -> Result<UserRow> {
        let id = id.0;
        require(by.can_manage_users() || by.has(Role::Manager) || by.id.0 == id)?;
        Ok(aftercare_store::users::get(&self.db, id).await?)
    }

    /// Changes roles, name or active flag (administrator only; nobody locks themself out).
    pub async fn update_user(
        &self,
        by: &Actor,
        user: aftercare_domain::UserId,
        display_name: Option<&str>,
        roles: Option<&[String]>,
        active: Option<bool>,
    ) -> Result<UserRow> {
        let id = user.0;
        require(by.can_manage_users())?;
        let mut e = FieldErrors::default();
        let roles = roles.map(|r| parse_roles(&mut e, r));
        if by.id.0 == id && (active == Some(false) || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin))) {
            e.push("roles", "self_lockout");
        }
        let name = display_name.map(str::trim).filter(|s| !s.is_empty());
        if !e.is_empty() {
            return Err(e.into());
        }
        let roles = roles.map(|r| r.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(","));
        aftercare_store::users::update(&self.db, &self.writer(by), id, name, roles.as_deref(), active, None).await?;
        self.caches.forget_user(id);
        Ok(aftercare_store::users::get(&self.db, id).await?)
    }

    /// Sets a user's e-mail (where manager mail goes) and phone: the administrator for
    /// anyone, a user for itself. Empty clears.
    pub async fn set_user_contact(
        &self,
        by: &Actor,
        user: aftercare_domain::UserId,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<UserRow> {
        let id = user.0;
        require(by.can_manage_users() || by.id.0 == id)?;
        let mut e = FieldErrors::default();
        let email = aftercare_domain::validation::optional(&mut e, "email", email, 100);
        if let Some(m) = &email
            && !m.contains('@')
        {
            e.push("email", "invalid");
        }
        let phone = aftercare_domain::validation::optional(&mut e, "phone", phone, 30);
        if let Some(p) = &phone
            && !aftercare_domain::customers::is_phone(p)
        {
            e.push("phone", "invalid");
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        aftercare_store::users::set_contact(&self.db, &self.writer(by), id, email.as_deref(), phone.as_deref()).await?;
        Ok(aftercare_store::users::get(&self.db, id).await?)
    }

    /// A user's own language choice.
    pub async fn set_locale(&self, by: &Actor, locale: &str) -> Result<Actor> {
        if !LOCALES.contains(&locale) {
            return Err(FieldErrors::single("locale", "unknown_value").into());
        }
        aftercare_store::users::update(&self.db, &self.writer(by), by.id.0, None, None, None, Some(locale)).await?;
        self.caches.forget_user(by.id.0);
        Ok(actor_from_row(&aftercare_store::users::get(&self.db, by.id.0).await?))
    }

    /// Sets a new password: the administrator for anyone, a user for itself — and one's own
    /// only with the current password, so a session left open is not an account taken.
    pub async fn set_password(
        &self,
        by: &Actor,
        user: aftercare_domain::UserId,
        password: &str,
        current: Option<&str>,
    ) -> Result<()> {
        let id = user.0;
        require(by.can_manage_users() || by.id.0 == id)?;
        if by.id.0 == id {
            let stored = aftercare_store::users::get(&self.db, id).await?.password_hash;
            let current = current.unwrap_or_default().to_owned();
            let ok = tokio::task::spawn_blocking(move || password_auth::verify_password(current, &stored).is_ok())
                .await
                .unwrap_or(false);
            if !ok {
                return Err(FieldErrors::single("current_password", "wrong").into());
            }
        }
        if password.chars().count() < aftercare_domain::users::MIN_PASSWORD_LEN {
            return Err(FieldErrors::single("password", "too_short").into());
        }
        aftercare_store::users::set_password(&self.db, &self.writer(by), id, &hash_password(password)).await?;
        self.caches.forget_user(id);
        Ok(())
    }

    pub async fn user_count(&self) -> Result<i64> {
        aftercare_store::users::count(&self.db).await.map_err(ServiceError::from)
    }
}

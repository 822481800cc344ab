//! The group robots' settings (企业微信 / 钉钉 群机器人): which group hears which role's or
//! person's notifications, and the address links in their messages start with.

use super::{Ctx, FormErrors, OkParam, PageId, PageQuery, field, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::robots::RobotInput;
use aftercare_domain::{RobotId, Role, UserId};
use aftercare_service::robots::RobotRow;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

#[derive(Template)]
#[template(path = "robots.html")]
pub struct RobotsPage {
    pub c: Ctx,
    pub robots: Vec<RobotRow>,
    pub people: Vec<(i64, String)>,
    pub roles: Vec<&'static str>,
    pub public_url: String,
    /// The add form as typed, kept when refused.
    pub form: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl RobotsPage {
    pub fn val(&self, k: &str) -> String {
        self.form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    /// The webhook with its key hidden: the page shows which robot, not its secret.
    pub fn masked(&self, url: &str) -> String {
        match url.split_once('?') {
            Some((base, _)) => format!("{base}?…"),
            None => url.to_owned(),
        }
    }
}

async fn page(
    st: &AppState,
    u: &PageUser,
    ok: Option<&str>,
    form: Vec<(String, String)>,
    errors: FormErrors,
) -> Result<RobotsPage, PageError> {
    let robots = st.svc.robots(&u.actor).await?;
    Ok(RobotsPage {
        c: Ctx::new(st, u, "/settings/robots", u.tr.t("robots.title")).flash_from(ok),
        robots,
        people: st.svc.field_and_desk_people(&u.actor).await?,
        roles: Role::ALL.iter().filter(|r| **r != Role::Customer).map(|r| r.as_str()).collect(),
        public_url: st.svc.public_url().await.unwrap_or_default(),
        form,
        errors,
    })
}

pub async fn view_robots_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&page(&st, &u, p.ok.as_deref(), Vec::new(), FormErrors::default()).await?))
}

pub async fn view_robots_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    // "Who hears it" is one select: `role:engineer` or `user:12`.
    let audience = field(&form, "audience").unwrap_or_default();
    let (role, user_id) = match audience.split_once(':') {
        Some(("role", r)) => (Some(r.to_owned()), None),
        Some(("user", id)) => (None, id.parse::<i64>().ok().map(UserId)),
        _ => (None, None),
    };
    let input = RobotInput {
        name: field(&form, "name"),
        platform: field(&form, "platform"),
        url: field(&form, "url"),
        role,
        user_id,
    };
    match st.svc.add_robot(&u.actor, &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to("/settings/robots?ok=robot_added").into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page(&st, &u, None, form, errors).await?)).into_response())
        }
    }
}

pub async fn view_robot_remove_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    st.svc.remove_robot(&u.actor, RobotId(id)).await?;
    Ok(Redirect::to("/settings/robots?ok=robot_removed").into_response())
}

pub async fn view_public_url_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    match st.svc.set_public_url(&u.actor, &field(&form, "public_url").unwrap_or_default()).await {
        Ok(()) => Ok(Redirect::to("/settings/robots?ok=saved").into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page(&st, &u, None, form, errors).await?)).into_response())
        }
    }
}

//! The signed-in user's own settings: language and password.

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, field, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Template)]
#[template(path = "me.html")]
pub struct MePage {
    pub c: Ctx,
    pub username: String,
    pub errors: FormErrors,
}

pub async fn view_me_get(State(st): State<AppState>, u: PageUser, PageQuery(q): PageQuery<OkParam>) -> Response {
    let c = Ctx::new(&st, &u, "/me", u.tr.t("me.title")).flash_from(q.ok.as_deref());
    render(&MePage { c, username: u.actor.username.clone(), errors: FormErrors::default() })
}

pub async fn view_me_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let new = field(&form, "password").unwrap_or_default();
    let again = field(&form, "password_again").unwrap_or_default();
    let errors = if new != again {
        FormErrors::from_fields(u.tr, &aftercare_domain::FieldErrors::single("password_again", "mismatch"))
    } else {
        let current = field(&form, "current_password");
        match st.svc.set_password(&u.actor, u.actor.id, &new, current.as_deref()).await {
            // A new password ends every session, this one too.
            Ok(()) => return Ok(Redirect::to("/login").into_response()),
            Err(e) => form_errors(u.tr, e)?,
        }
    };
    let c = Ctx::new(&st, &u, "/me", u.tr.t("me.title"));
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        render(&MePage { c, username: u.actor.username.clone(), errors }),
    )
        .into_response())
}

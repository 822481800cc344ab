//! Users (administrator): create, list, read, change roles or deactivate.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::Role;
use aftercare_domain::users::UserInput;
use aftercare_service::users::UserRow;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub customer_id: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub active: bool,
}

impl From<&UserRow> for UserOut {
    fn from(u: &UserRow) -> Self {
        UserOut {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.split(',').filter_map(Role::parse).collect(),
            customer_id: u.customer_id,
            email: u.email.clone(),
            phone: u.phone.clone(),
            locale: u.locale.clone(),
            active: u.active,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub roles: Option<Vec<String>>,
    pub active: Option<bool>,
    /// A new password (at least 8 characters).
    pub password: Option<String>,
    /// Required with `password` when changing one's own: the password it replaces.
    pub current_password: Option<String>,
    /// Where mail to this person goes (an empty string clears it).
    pub email: Option<String>,
    /// An empty string clears it.
    pub phone: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", params(PageParams), responses((status = 200, body = List<UserOut>), (status = 403, body = ErrorResponse)))]
pub async fn api_users_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<List<UserOut>>, ApiError> {
    let rows = st.svc.list_users(&u.actor, p.page()).await?;
    Ok(Json(List {
        items: rows.items.iter().map(UserOut::from).collect(),
        total: rows.total,
        total_capped: rows.capped,
    }))
}

#[utoipa::path(post, path = "/api/v1/users", request_body = UserInput,
    responses((status = 201, body = UserOut), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_users_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<UserInput>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let row = st.svc.create_user(Some(&u.actor), &b).await?;
    Ok((StatusCode::CREATED, Json(UserOut::from(&row))))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = i64, Path)), responses((status = 200, body = UserOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_users_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<UserOut>, ApiError> {
    let row = st.svc.get_user(&u.actor, aftercare_domain::UserId(id)).await?;
    Ok(Json(UserOut::from(&row)))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = UserOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_users_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<UserPatch>,
) -> Result<Json<UserOut>, ApiError> {
    let e = |e| ApiError::from_service(u.tr, e);
    if let Some(p) = &b.password {
        st.svc
            .set_password(&u.actor, aftercare_domain::UserId(id), p, b.current_password.as_deref())
            .await
            .map_err(e)?;
    }
    let mut row = if b.display_name.is_some() || b.roles.is_some() || b.active.is_some() {
        st.svc
            .update_user(
                &u.actor,
                aftercare_domain::UserId(id),
                b.display_name.as_deref(),
                b.roles.as_deref(),
                b.active,
            )
            .await
            .map_err(e)?
    } else {
        st.svc.get_user(&u.actor, aftercare_domain::UserId(id)).await.map_err(e)?
    };
    if b.email.is_some() || b.phone.is_some() {
        // What the body leaves out stays as it is.
        let email = b.email.clone().or(row.email.clone());
        let phone = b.phone.clone().or(row.phone.clone());
        row = st
            .svc
            .set_user_contact(&u.actor, aftercare_domain::UserId(id), email.as_deref(), phone.as_deref())
            .await
            .map_err(e)?;
    }
    Ok(Json(UserOut::from(&row)))
}

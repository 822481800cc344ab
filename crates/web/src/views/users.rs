//! Administration: users and roles, and the audit trail.

use super::PageQuery;
use super::{Ctx, FormErrors, PageId, Pager, field, fields, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::views::equipment::{Change, changes};
use aftercare_domain::users::UserInput;
use aftercare_domain::{CustomerId, Role};
use aftercare_service::Page;
use aftercare_service::audit::AuditEntry;
use aftercare_service::customers::{CustomerQuery, CustomerRow};
use aftercare_service::users::UserRow;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, TimeZone};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub c: Ctx,
    pub users: Vec<UserRow>,
    pub pager: Pager,
    pub can_manage: bool,
}

impl UsersPage {
    pub fn roles(&self, u: &UserRow) -> String {
        u.roles.split(',').map(|r| self.c.tr.role(r)).collect::<Vec<_>>().join(" · ")
    }
}

#[derive(Deserialize)]
pub struct ListParams {
    pub page: Option<u32>,
    pub ok: Option<String>,
}

pub async fn view_users_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    let page = Page::new(p.page, Some(50));
    let rows = st.svc.list_users(&u.actor, page).await?;
    let c = Ctx::new(&st, &u, "/admin/users", u.tr.t("nav.users"))
        .crumb(u.tr.t("nav.users"), "/admin/users")
        .flash_from(p.ok.as_deref());
    Ok(render(&UsersPage {
        c,
        pager: Pager::new("/admin/users", &[], page, rows.total),
        users: rows.items,
        can_manage: u.actor.can_manage_users(),
    }))
}

#[derive(Template)]
#[template(path = "user_form.html")]
pub struct UserFormPage {
    pub c: Ctx,
    pub action: String,
    pub is_new: bool,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub phone: String,
    pub roles: Vec<String>,
    pub customer_id: Option<i64>,
    pub active: bool,
    pub customers: Vec<CustomerRow>,
    pub all_roles: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl UserFormPage {
    pub fn has_role(&self, r: &str) -> bool {
        self.roles.iter().any(|x| x == r)
    }
    pub fn is_customer(&self, id: &i64) -> bool {
        self.customer_id == Some(*id)
    }
}

async fn user_form(
    st: &AppState,
    u: &PageUser,
    title: String,
    action: String,
    is_new: bool,
) -> Result<UserFormPage, PageError> {
    if !u.actor.can_manage_users() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    let customers = st.svc.list_customers(&u.actor, CustomerQuery::default(), Page::all()).await?.items;
    let c =
        Ctx::new(st, u, "/admin/users", title.clone()).crumb(u.tr.t("nav.users"), "/admin/users").crumb(title, &action);
    Ok(UserFormPage {
        c,
        action,
        is_new,
        username: String::new(),
        display_name: String::new(),
        email: String::new(),
        phone: String::new(),
        roles: Vec::new(),
        customer_id: None,
        active: true,
        customers,
        all_roles: Role::ALL.iter().map(|r| (r.as_str().to_owned(), u.tr.role(r.as_str()))).collect(),
        errors: FormErrors::default(),
    })
}

pub async fn view_user_new_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    Ok(render(&user_form(&st, &u, u.tr.t("users.new"), "/admin/users/new".into(), true).await?))
}

pub async fn view_user_new_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let g = |k: &str| field(&form, k).filter(|s| !s.trim().is_empty());
    let input = UserInput {
        username: g("username"),
        password: g("password"),
        display_name: g("display_name"),
        roles: Some(fields(&form, "roles")),
        customer_id: g("customer_id").and_then(|s| s.parse().ok()).map(CustomerId),
        email: g("email"),
        phone: g("phone"),
        locale: None,
    };
    let errors = match st.svc.create_user(Some(&u.actor), &input).await {
        Ok(_) => return Ok(Redirect::to("/admin/users?ok=created").into_response()),
        Err(e) => form_errors(u.tr, e)?,
    };
    let mut page = user_form(&st, &u, u.tr.t("users.new"), "/admin/users/new".into(), true).await?;
    page.username = input.username.unwrap_or_default();
    page.display_name = input.display_name.unwrap_or_default();
    page.email = input.email.unwrap_or_default();
    page.phone = input.phone.unwrap_or_default();
    page.roles = input.roles.unwrap_or_default();
    page.customer_id = input.customer_id.map(|c| c.0);
    page.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

pub async fn view_user_edit_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let row = st.svc.get_user(&u.actor, aftercare_domain::UserId(id)).await?;
    let mut page = user_form(&st, &u, row.display_name.clone(), format!("/admin/users/{id}"), false).await?;
    fill(&mut page, &row);
    Ok(render(&page))
}

fn fill(page: &mut UserFormPage, row: &UserRow) {
    page.username = row.username.clone();
    page.display_name = row.display_name.clone();
    page.email = row.email.clone().unwrap_or_default();
    page.phone = row.phone.clone().unwrap_or_default();
    page.roles = row.roles.split(',').map(str::to_owned).collect();
    page.customer_id = row.customer_id;
    page.active = row.active;
}

pub async fn view_user_edit_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let roles = fields(&form, "roles");
    let name = field(&form, "display_name");
    let active = field(&form, "active").is_some();
    let password = field(&form, "password").filter(|p| !p.is_empty());
    let mut result = st
        .svc
        .update_user(&u.actor, aftercare_domain::UserId(id), name.as_deref(), Some(&roles), Some(active))
        .await
        .map(|_| ());
    if result.is_ok() {
        let (email, phone) = (field(&form, "email"), field(&form, "phone"));
        result = st
            .svc
            .set_user_contact(&u.actor, aftercare_domain::UserId(id), email.as_deref(), phone.as_deref())
            .await
            .map(|_| ());
    }
    if let (Ok(()), Some(p)) = (&result, &password) {
        result = st
            .svc
            .set_password(&u.actor, aftercare_domain::UserId(id), p, field(&form, "current_password").as_deref())
            .await;
    }
    let errors = match result {
        Ok(()) => return Ok(Redirect::to("/admin/users?ok=saved").into_response()),
        Err(e) => form_errors(u.tr, e)?,
    };
    let row = st.svc.get_user(&u.actor, aftercare_domain::UserId(id)).await?;
    let mut page = user_form(&st, &u, row.display_name.clone(), format!("/admin/users/{id}"), false).await?;
    fill(&mut page, &row);
    page.roles = roles;
    page.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditForm {
    pub entity: Option<String>,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<u32>,
}

pub struct AuditRow {
    pub e: AuditEntry,
    pub link: String,
    /// What the entry is about, in words: a ticket's number and where it went, a verdict.
    pub label: String,
    pub changes: Vec<Change>,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub c: Ctx,
    pub rows: Vec<AuditRow>,
    pub f: AuditForm,
    pub users: Vec<UserRow>,
    pub pager: Pager,
    pub bad_date: bool,
}

impl AuditPage {
    pub fn sel(&self, v: &Option<String>, want: &str) -> bool {
        v.as_deref() == Some(want)
    }
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
}

pub async fn view_audit_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<AuditForm>,
) -> Result<Response, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let tz = st.cfg.tz;
    let mut bad_date = false;
    let mut day = |s: &Option<String>, plus: i64| -> Option<chrono::DateTime<chrono::Utc>> {
        let s = s.as_deref().filter(|s| !s.is_empty())?;
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => {
                let local = (d + chrono::Duration::days(plus)).and_hms_opt(0, 0, 0)?;
                tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&chrono::Utc))
            }
            Err(_) => {
                bad_date = true;
                None
            }
        }
    };
    let q = aftercare_service::audit::AuditQuery {
        entity: f.entity.clone().filter(|s| !s.is_empty()),
        entity_id: None,
        actor_id: f.actor_id.as_deref().and_then(|s| s.parse().ok()),
        action: f.action.clone().filter(|s| !s.is_empty()),
        from: day(&f.from, 0),
        to: day(&f.to, 1),
    };
    let page = Page::new(f.page, Some(50));
    let rows = st.svc.list_audit(&u.actor, &q, page).await.map_err(e)?;
    let users = st.svc.list_users(&u.actor, Page::all()).await.map_err(e)?.items;
    let pairs: Vec<(&str, String)> = vec![
        ("entity", f.entity.clone().unwrap_or_default()),
        ("action", f.action.clone().unwrap_or_default()),
        ("actor_id", f.actor_id.clone().unwrap_or_default()),
        ("from", f.from.clone().unwrap_or_default()),
        ("to", f.to.clone().unwrap_or_default()),
    ];
    let total = rows.total;
    let numbers = st.svc.audit_ticket_numbers(&u.actor, &rows.items).await.map_err(e)?;
    let rows = rows_with_links(u.tr, rows.items, &numbers);
    let c = Ctx::new(&st, &u, "/admin/audit", u.tr.t("nav.audit")).crumb(u.tr.t("nav.audit"), "/admin/audit");
    Ok(render(&AuditPage { c, pager: Pager::new("/admin/audit", &pairs, page, total), rows, f, users, bad_date }))
}

fn rows_with_links(tr: crate::Tr, items: Vec<AuditEntry>, numbers: &[(i64, String)]) -> Vec<AuditRow> {
    items
        .into_iter()
        .map(|e| {
            let id = e.entity_id;
            let link = match e.entity.as_str() {
                "customer" => format!("/customers/{id}"),
                "equipment" => format!("/equipment/{id}"),
                "user" => format!("/admin/users/{id}"),
                "ticket" => format!("/tickets/{id}"),
                "contact" => format!("/contacts/{id}"),
                "requisition" => format!("/requisitions/{id}"),
                "penalty" => "/reviews".to_owned(),
                _ => String::new(),
            };
            // Tickets and penalties store the status they reached: say it in words.
            let label = match e.entity.as_str() {
                "ticket" => {
                    let number = numbers.iter().find(|(t, _)| *t == id).map(|(_, n)| n.clone());
                    let status = aftercare_domain::tickets::TicketStatus::parse(&e.summary)
                        .map(|s| format!(" → {}", tr.t(&format!("ticket.status.{s}"))))
                        .unwrap_or_default();
                    format!("{}{status}", number.unwrap_or_else(|| e.summary.clone()))
                }
                "penalty" => aftercare_domain::assessments::PenaltyStatus::parse(&e.summary)
                    .map(|s| tr.t(&format!("penalty.status.{s}")))
                    .unwrap_or_else(|| e.summary.clone()),
                _ => e.summary.clone(),
            };
            AuditRow { changes: if e.action == "update" { changes(tr, &e) } else { Vec::new() }, link, label, e }
        })
        .collect()
}

//! The fault taxonomy (故障子类): every member of staff may read it, grouped by system and
//! fault type; the manager and the administrator add subcategories, edit their names and
//! typical cause, and deactivate or reactivate them (never delete: tickets keep codes).

use super::PageQuery;
use super::{Ctx, FormErrors, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::System;
use aftercare_domain::tickets::FaultType;
use aftercare_service::taxonomy::SubcategoryRow;
use aftercare_service::taxonomy::{SubcategoryInput, SubcategoryUpdate};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;

const PATH: &str = "/settings/taxonomy";

/// The subcategories of one fault type within a system.
pub struct TypeGroup {
    pub fault_type: String,
    pub rows: Vec<SubcategoryRow>,
}

/// One system's subcategories, by fault type (硬件, 线路, 软件, 其他).
pub struct SystemGroup {
    pub system: String,
    pub types: Vec<TypeGroup>,
    pub total: usize,
    pub inactive: usize,
}

/// Groups rows by system, then fault type, in the order the product lists them.
fn group(mut rows: Vec<SubcategoryRow>) -> Vec<SystemGroup> {
    let sys_rank = |s: &str| System::ALL.iter().position(|x| x.as_str() == s).unwrap_or(usize::MAX);
    let type_rank = |f: &str| FaultType::ALL.iter().position(|x| x.as_str() == f).unwrap_or(usize::MAX);
    rows.sort_by(|a, b| {
        (sys_rank(&a.system), &a.system, type_rank(&a.fault_type), &a.fault_type, &a.code).cmp(&(
            sys_rank(&b.system),
            &b.system,
            type_rank(&b.fault_type),
            &b.fault_type,
            &b.code,
        ))
    });
    let mut groups: Vec<SystemGroup> = Vec::new();
    for r in rows {
        if groups.last().is_none_or(|g| g.system != r.system) {
            groups.push(SystemGroup { system: r.system.clone(), types: Vec::new(), total: 0, inactive: 0 });
        }
        let Some(g) = groups.last_mut() else { continue };
        g.total += 1;
        g.inactive += usize::from(!r.active);
        if g.types.last().is_none_or(|t| t.fault_type != r.fault_type) {
            g.types.push(TypeGroup { fault_type: r.fault_type.clone(), rows: Vec::new() });
        }
        if let Some(t) = g.types.last_mut() {
            t.rows.push(r);
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "taxonomy.html")]
pub struct TaxonomyPage {
    pub c: Ctx,
    pub groups: Vec<SystemGroup>,
    pub total: usize,
    pub inactive: usize,
    pub usage: HashMap<String, i64>,
    pub can_edit: bool,
    /// The add form: as typed after an error, and its errors.
    pub input: SubcategoryInput,
    pub errors: FormErrors,
    pub open_new: bool,
}

impl TaxonomyPage {
    pub fn systems(&self) -> Vec<&'static str> {
        System::ALL.iter().map(|s| s.as_str()).collect()
    }
    pub fn fault_types(&self) -> Vec<&'static str> {
        FaultType::ALL.iter().map(|f| f.as_str()).collect()
    }
    pub fn sys_label(&self, s: &str) -> String {
        self.c.tr.system(s)
    }
    pub fn type_label(&self, f: &str) -> String {
        self.c.tr.t(&format!("fault_type.{f}"))
    }
    pub fn used(&self, code: &str) -> i64 {
        self.usage.get(code).copied().unwrap_or(0)
    }
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn is(&self, v: &Option<String>, want: &str) -> bool {
        v.as_deref() == Some(want)
    }
    pub fn summary(&self) -> String {
        self.c
            .tr
            .tf("taxonomy.summary", &[("total", &self.total.to_string()), ("inactive", &self.inactive.to_string())])
    }
    pub fn in_system(&self, n: &usize) -> String {
        self.c.tr.tf("taxonomy.in_system", &[("n", &n.to_string())])
    }
}

#[derive(Template)]
#[template(path = "subcategory_form.html")]
pub struct SubcategoryPage {
    pub c: Ctx,
    pub s: SubcategoryRow,
    pub tickets: i64,
    /// The editable fields: saved, or as typed after an error.
    pub name_zh: String,
    pub name_en: String,
    pub typical_cause: String,
    pub active: bool,
    pub errors: FormErrors,
}

impl SubcategoryPage {
    pub fn sys_label(&self) -> String {
        self.c.tr.system(&self.s.system)
    }
    pub fn type_label(&self) -> String {
        self.c.tr.t(&format!("fault_type.{}", self.s.fault_type))
    }
}

#[derive(Deserialize)]
pub struct TaxonomyParams {
    pub ok: Option<String>,
    /// Opens the add form with this system chosen.
    pub new: Option<String>,
}

/// The settings pages sit under the service levels: that navigation entry stays lit.
fn ctx(st: &AppState, u: &PageUser) -> Ctx {
    let title = u.tr.t("taxonomy.title");
    Ctx::new(st, u, "/settings/sla", title.clone()).crumb(u.tr.t("nav.sla"), "/settings/sla").crumb(title, PATH)
}

async fn taxonomy_page(st: &AppState, u: &PageUser, ok: Option<&str>) -> Result<TaxonomyPage, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let rows = st.svc.fault_subcategories(&u.actor).await.map_err(e)?;
    let usage = st.svc.fault_subcategory_usage(&u.actor).await.map_err(e)?;
    let (total, inactive) = (rows.len(), rows.iter().filter(|r| !r.active).count());
    Ok(TaxonomyPage {
        c: ctx(st, u).flash_from(ok),
        groups: group(rows),
        total,
        inactive,
        usage,
        can_edit: u.actor.is_admin_or_manager(),
        input: SubcategoryInput::default(),
        errors: FormErrors::default(),
        open_new: false,
    })
}

pub async fn view_taxonomy_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<TaxonomyParams>,
) -> Result<Response, PageError> {
    let mut page = taxonomy_page(&st, &u, q.ok.as_deref()).await?;
    if page.can_edit
        && let Some(s) = q.new.as_deref()
    {
        page.open_new = true;
        page.input.system = System::parse(s).map(|s| s.as_str().to_owned());
    }
    Ok(render(&page))
}

/// Only the manager and the administrator change the taxonomy: anyone else is refused
/// before their input is looked at.
fn may_edit(u: &PageUser) -> Result<(), PageError> {
    if u.actor.is_admin_or_manager() {
        Ok(())
    } else {
        Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"))
    }
}

/// `#sub-CODE` of a row (codes are letters, digits and `_`; anything else is dropped).
fn anchor(code: &str) -> String {
    let code: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    format!("#sub-{code}")
}

pub async fn view_taxonomy_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let input = SubcategoryInput {
        code: field(&form, "code"),
        system: field(&form, "system"),
        fault_type: field(&form, "fault_type"),
        name_zh: field(&form, "name_zh"),
        name_en: field(&form, "name_en"),
        typical_cause: field(&form, "typical_cause"),
        active: None,
    };
    let errors = match st.svc.create_subcategory(&u.actor, &input).await {
        Ok(row) => {
            return Ok(Redirect::to(&format!("{PATH}?ok=subcategory_created{}", anchor(&row.code))).into_response());
        }
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = taxonomy_page(&st, &u, None).await?;
    page.input = input;
    page.errors = errors;
    page.open_new = true;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

async fn subcategory_page(st: &AppState, u: &PageUser, code: &str) -> Result<SubcategoryPage, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let s = st.svc.fault_subcategory(&u.actor, code).await.map_err(e)?;
    let tickets = st.svc.fault_subcategory_usage(&u.actor).await.map_err(e)?.get(&s.code).copied().unwrap_or(0);
    let mut c = ctx(st, u).crumb(s.code.clone(), "");
    c.title = format!("{} · {}", u.tr.t("taxonomy.edit"), s.code);
    Ok(SubcategoryPage {
        c,
        tickets,
        name_zh: s.name_zh.clone(),
        name_en: s.name_en.clone(),
        typical_cause: s.typical_cause.clone().unwrap_or_default(),
        active: s.active,
        errors: FormErrors::default(),
        s,
    })
}

pub async fn view_subcategory_get(
    State(st): State<AppState>,
    u: PageUser,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    may_edit(&u)?;
    Ok(render(&subcategory_page(&st, &u, &code).await?))
}

pub async fn view_subcategory_post(
    State(st): State<AppState>,
    u: PageUser,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let input = SubcategoryUpdate {
        name_zh: field(&form, "name_zh"),
        name_en: field(&form, "name_en"),
        typical_cause: field(&form, "typical_cause"),
        active: Some(field(&form, "active").is_some()),
        ..Default::default()
    };
    let errors = match st.svc.update_subcategory(&u.actor, &code, &input).await {
        Ok(row) => {
            return Ok(Redirect::to(&format!("{PATH}?ok=subcategory_saved{}", anchor(&row.code))).into_response());
        }
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = subcategory_page(&st, &u, &code).await?;
    page.name_zh = input.name_zh.unwrap_or_default();
    page.name_en = input.name_en.unwrap_or_default();
    page.typical_cause = input.typical_cause.unwrap_or_default();
    page.active = input.active.unwrap_or(page.active);
    page.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// Deactivates (`active=0`) or reactivates (`active=1`) a subcategory from the list.
pub async fn view_subcategory_active_post(
    State(st): State<AppState>,
    u: PageUser,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let active = matches!(field(&form, "active").as_deref().map(str::trim), Some("1" | "true"));
    let row = st.svc.set_subcategory_active(&u.actor, &code, active).await?;
    let ok = if row.active { "subcategory_reactivated" } else { "subcategory_deactivated" };
    Ok(Redirect::to(&format!("{PATH}?ok={ok}{}", anchor(&row.code))).into_response())
}

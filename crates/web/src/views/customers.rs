//! School pages: the list with search and filters, a school's page with its equipment by
//! system, and the create/edit form.

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, PageId, Pager, field, form_errors, render, sort_link};
use crate::AppState;
use crate::api::customers::CustomerParams;
use crate::api::import::table_response;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::CustomerId;
use aftercare_domain::customers::{ContactInput, CustomerInput};
use aftercare_service::customers::CustomerDetail;
use aftercare_service::customers::{AuditEntry, CustomerRow, EquipmentQuery, EquipmentRow, Page};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "customers.html")]
pub struct CustomersPage {
    pub c: Ctx,
    pub rows: Vec<CustomerDetail>,
    pub q: String,
    pub town: String,
    pub towns: Vec<(String, String)>,
    pub pager: Pager,
    pub sort_links: Vec<(&'static str, String)>,
    pub export_xlsx: String,
    pub export_csv: String,
}

impl CustomersPage {
    pub fn sort_href(&self, key: &str) -> String {
        self.sort_links.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

fn list_params(p: &CustomerParams) -> Vec<(&'static str, String)> {
    vec![
        ("q", p.q.clone().unwrap_or_default()),
        ("town", p.town.clone().unwrap_or_default()),
        ("sort", p.sort.clone().unwrap_or_default()),
        ("desc", if p.desc == Some(true) { "true".into() } else { String::new() }),
    ]
}

pub async fn view_customers_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<CustomerParams>,
) -> Result<Response, PageError> {
    let page = p.page();
    let rows = st.svc.list_customers_with_contacts(&u.actor, p.query(), page).await?;
    let towns = st.svc.towns(&u.actor).await?;
    let params = list_params(&p);
    let sort_links = ["code", "name", "town", "equipment", "travel"]
        .into_iter()
        .map(|k| (k, sort_link("/customers", &params, k, p.sort.as_deref(), p.desc.unwrap_or(false))))
        .collect();
    let mut export = params.clone();
    export.push(("format", "xlsx".into()));
    let export_xlsx = super::query_url("/customers/export", &export);
    export.pop();
    export.push(("format", "csv".into()));
    let export_csv = super::query_url("/customers/export", &export);
    let c = Ctx::new(&st, &u, "/customers", u.tr.t("nav.customers")).crumb(u.tr.t("nav.customers"), "/customers");
    Ok(render(&CustomersPage {
        c,
        pager: Pager::of("/customers", &params, page, &rows),
        rows: rows.items,
        q: p.q.clone().unwrap_or_default(),
        town: p.town.clone().unwrap_or_default(),
        towns,
        sort_links,
        export_xlsx,
        export_csv,
    }))
}

/// The export's format, read beside the list's own parameters: a `#[serde(flatten)]` of
/// them made every non-text value (`desc=true`) a 400, since a flattened query string
/// reaches the inner struct as strings only.
#[derive(Deserialize)]
pub struct ExportFormat {
    pub format: Option<String>,
}

pub async fn view_customers_export_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(list): PageQuery<CustomerParams>,
    PageQuery(f): PageQuery<ExportFormat>,
) -> Result<Response, PageError> {
    let table = st.svc.customer_table(&u.actor, list.query(), u.tr.is_en()).await?;
    table_response(&table, f.format.as_deref(), &u.tr.t("nav.customers"), st.svc.tz).map_err(PageError::from)
}

pub struct SystemGroup {
    pub id: String,
    pub label: String,
    pub items: Vec<EquipmentRow>,
}

#[derive(Template)]
#[template(path = "customer.html")]
pub struct CustomerPage {
    pub c: Ctx,
    pub d: CustomerDetail,
    pub groups: Vec<SystemGroup>,
    pub total_equipment: usize,
    pub history: Vec<AuditEntry>,
    /// Its inspections, latest planned first.
    pub inspections: Vec<aftercare_service::inspections::InspectionRow>,
}

impl CustomerPage {
    pub fn phase(&self, p: &aftercare_domain::inspections::Phase) -> String {
        self.c.t(&format!("inspection_phase.{}", p.as_str()))
    }
    pub fn istatus(&self, s: &aftercare_domain::inspections::InspectionStatus) -> String {
        self.c.t(&format!("inspection_status.{}", s.as_str()))
    }
}

pub async fn view_customer_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(q): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    let d = st.svc.get_customer(&u.actor, CustomerId(id)).await?;
    let eq = st
        .svc
        .list_equipment(
            &u.actor,
            EquipmentQuery { customer_id: Some(id), sort: Some("kind".into()), ..Default::default() },
            Page::all(),
        )
        .await?;
    let total_equipment = eq.items.len();
    let mut groups: Vec<SystemGroup> = aftercare_domain::System::ALL
        .iter()
        .map(|s| SystemGroup { id: s.as_str().into(), label: u.tr.system(s.as_str()), items: Vec::new() })
        .collect();
    for row in eq.items {
        if let Some(g) = groups.iter_mut().find(|g| g.id == row.system.as_str()) {
            g.items.push(row);
        }
    }
    groups.retain(|g| !g.items.is_empty());
    let history = st.svc.customer_history(&u.actor, CustomerId(id)).await?;
    let iq = aftercare_service::inspections::InspectionQuery { customer_id: Some(id), ..Default::default() };
    let inspections = st
        .svc
        .list_inspections(&u.actor, aftercare_service::inspections::Scope::All, iq, Page::new(Some(1), Some(20)))
        .await?
        .items;
    let mut c = Ctx::new(&st, &u, "/customers", d.customer.name.clone());
    if u.actor.is_staff() {
        c = c.crumb(u.tr.t("nav.customers"), "/customers");
    }
    let c = c.crumb(d.customer.name.clone(), &format!("/customers/{id}")).flash_from(q.ok.as_deref());
    Ok(render(&CustomerPage { c, d, groups, total_equipment, history, inspections }))
}

#[derive(Template)]
#[template(path = "customer_form.html")]
pub struct CustomerFormPage {
    pub c: Ctx,
    pub action: String,
    pub input: CustomerInput,
    pub contacts: Vec<ContactInput>,
    pub version: i64,
    pub errors: FormErrors,
    pub towns: Vec<(String, String)>,
}

impl CustomerFormPage {
    pub fn v(&self, s: &Option<String>) -> String {
        s.clone().unwrap_or_default()
    }
    pub fn travel(&self) -> String {
        self.input.travel_minutes.map(|m| m.to_string()).unwrap_or_default()
    }
    pub fn contact_err(&self, i: &usize, f: &str) -> String {
        self.errors.get(&format!("contacts[{i}].{f}"))
    }
}

/// A form always shows at least three contact rows to fill.
fn with_blank_rows(mut v: Vec<ContactInput>) -> Vec<ContactInput> {
    while v.len() < 3 {
        v.push(ContactInput::default());
    }
    v
}

/// Reads the form; travel minutes that are not a number become a field error.
fn parse_form(form: &[(String, String)]) -> (CustomerInput, Option<aftercare_domain::FieldErrors>) {
    let g = |k: &str| field(form, k).filter(|s| !s.trim().is_empty());
    let mut contacts = Vec::new();
    for i in 0..20 {
        let f = |n: &str| g(&format!("contacts[{i}].{n}"));
        if form.iter().any(|(k, _)| k.starts_with(&format!("contacts[{i}]."))) {
            contacts.push(ContactInput {
                name: f("name"),
                title: f("title"),
                phone: f("phone"),
                email: f("email"),
                im: f("im"),
            });
        }
    }
    let travel_raw = g("travel_minutes");
    let travel = travel_raw.as_deref().map(|s| s.trim().parse::<i32>());
    let bad_travel = matches!(travel, Some(Err(_)));
    let input = CustomerInput {
        name: g("name"),
        code: g("code"),
        county: g("county"),
        town: g("town"),
        address: g("address"),
        travel_minutes: travel.and_then(Result::ok),
        contacts: Some(contacts),
    };
    (input, bad_travel.then(|| aftercare_domain::FieldErrors::single("travel_minutes", "invalid")))
}

/// The form page; a new school's county defaults to the county already served.
async fn form_page(
    st: &AppState,
    u: &PageUser,
    title: String,
    action: String,
    mut input: CustomerInput,
    version: i64,
    errors: FormErrors,
) -> Result<CustomerFormPage, PageError> {
    if !u.actor.can_edit_installed_base() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    let towns = st.svc.towns(&u.actor).await?;
    if input.county.is_none() {
        input.county = towns.first().map(|(c, _)| c.clone());
    }
    let c =
        Ctx::new(st, u, "/customers", title.clone()).crumb(u.tr.t("nav.customers"), "/customers").crumb(title, &action);
    let contacts = with_blank_rows(input.contacts.clone().unwrap_or_default());
    Ok(CustomerFormPage { c, action, input, contacts, version, errors, towns })
}

pub async fn view_customer_new_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let title = u.tr.t("customers.new");
    let page =
        form_page(&st, &u, title, "/customers/new".into(), CustomerInput::default(), 0, FormErrors::default()).await?;
    Ok(render(&page))
}

pub async fn view_customer_new_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let (input, bad) = parse_form(&form);
    let errors = match bad {
        Some(fe) => FormErrors::from_fields(u.tr, &fe),
        None => match st.svc.create_customer(&u.actor, &input).await {
            Ok(d) => {
                return Ok(Redirect::to(&format!("/customers/{}?ok=created", d.customer.id)).into_response());
            }
            Err(e) => form_errors(u.tr, e)?,
        },
    };
    let page = form_page(&st, &u, u.tr.t("customers.new"), "/customers/new".into(), input, 0, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

pub async fn view_customer_edit_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let d = st.svc.get_customer(&u.actor, CustomerId(id)).await?;
    let input = input_of(&d.customer, &d);
    let title = format!("{} · {}", u.tr.t("action.edit"), d.customer.name);
    let page =
        form_page(&st, &u, title, format!("/customers/{id}/edit"), input, d.customer.version, FormErrors::default())
            .await?;
    Ok(render(&page))
}

fn input_of(c: &CustomerRow, d: &CustomerDetail) -> CustomerInput {
    CustomerInput {
        name: Some(c.name.clone()),
        code: Some(c.code.clone()),
        county: Some(c.county.clone()),
        town: Some(c.town.clone()),
        address: c.address.clone(),
        travel_minutes: c.travel_minutes,
        contacts: Some(
            d.contacts
                .iter()
                .map(|p| ContactInput {
                    name: Some(p.name.clone()),
                    title: p.title.clone(),
                    phone: p.phone.clone(),
                    email: p.email.clone(),
                    im: p.im.clone(),
                })
                .collect(),
        ),
    }
}

pub async fn view_customer_edit_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let (input, bad) = parse_form(&form);
    let version = field(&form, "version").and_then(|v| v.parse::<i64>().ok());
    let errors = match bad {
        Some(fe) => FormErrors::from_fields(u.tr, &fe),
        None => match st.svc.update_customer(&u.actor, CustomerId(id), version, &input).await {
            Ok(_) => return Ok(Redirect::to(&format!("/customers/{id}?ok=saved")).into_response()),
            Err(e) => form_errors(u.tr, e)?,
        },
    };
    let title = format!("{} · {}", u.tr.t("action.edit"), input.name.clone().unwrap_or_default());
    let page = form_page(&st, &u, title, format!("/customers/{id}/edit"), input, version.unwrap_or(0), errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

//! The start page of each role: the counts its day begins with (each opening its list),
//! the technician's stops, the manager's workload and month, and the installed base.

use super::chart::{Chart, chart};
use super::{Ctx, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::Role;
use aftercare_service::Page;
use aftercare_service::customers::CustomerQuery;
use aftercare_service::equipment::EquipmentQuery;
use aftercare_service::home::{Home, Stop};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

pub struct SystemBar {
    pub id: String,
    pub label: String,
    pub count: i64,
    pub pct: i64,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub c: Ctx,
    pub customers: i64,
    pub equipment: i64,
    pub faulty: i64,
    pub expiring: i64,
    pub expired: i64,
    pub systems: Vec<SystemBar>,
    pub home: Home,
    /// The installed base is shown to the office (not on a technician's phone).
    pub show_base: bool,
    /// The month by status and by system, with their titles.
    pub charts: Vec<(String, Chart)>,
}

impl HomePage {
    pub fn month_title(&self, n: &i64) -> String {
        self.c.tr.tf("home.month", &[("n", &n.to_string())])
    }
    pub fn card_label(&self, key: &str) -> String {
        self.c.t(&format!("home.card.{key}"))
    }
    /// `tel:` with the digits of a phone number.
    pub fn tel(&self, phone: &str) -> String {
        let digits: String = phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        format!("tel:{digits}")
    }
    /// The school's address as one line.
    pub fn address(&self, s: &Stop) -> String {
        s.site
            .as_ref()
            .map(|x| {
                let parts = [Some(x.county.as_str()), Some(x.town.as_str()), x.address.as_deref()];
                parts.into_iter().flatten().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
            })
            .unwrap_or_default()
    }
    /// Opens the address in the phone's map app (Amap's link hands over to the app).
    pub fn map_link(&self, s: &Stop) -> String {
        let q: String = format!("{} {}", self.address(s), s.ticket.customer_name)
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        format!("https://uri.amap.com/search?keyword={q}")
    }
    pub fn time(&self, s: &Stop) -> String {
        s.ticket.scheduled_at.map(|t| t.with_timezone(&self.c.tz).format("%H:%M").to_string()).unwrap_or_default()
    }
}

pub async fn view_home_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let a = &u.actor;
    // A school's start page is its portal.
    if let (false, Some(_)) = (a.is_staff(), a.customer_id) {
        return Ok(Redirect::to("/portal").into_response());
    }
    let e = |e| PageError::from_service(u.tr, e);
    let home = st.svc.home(a, chrono::Utc::now()).await?;
    let show_base = a.is_admin_or_manager() || a.has_any(&[Role::Agent, Role::Engineer]);
    let one = Page::new(Some(1), Some(1));
    let count = |q: EquipmentQuery| {
        let svc = st.svc.clone();
        let a = a.clone();
        async move { svc.list_equipment(&a, q, one).await.map(|p| p.total) }
    };
    // A technician's phone does not show the installed base: its six counts are not read.
    let (mut customers, mut equipment, mut faulty, mut expiring, mut expired) = (0, 0, 0, 0, 0);
    let mut by_system = Vec::new();
    if show_base {
        customers = st.svc.list_customers(a, CustomerQuery::default(), one).await.map_err(e)?.total;
        equipment = count(EquipmentQuery::default()).await.map_err(e)?;
        faulty = count(EquipmentQuery { status: Some("faulty".into()), ..Default::default() }).await.map_err(e)?;
        expiring =
            count(EquipmentQuery { warranty: Some("expiring".into()), ..Default::default() }).await.map_err(e)?;
        expired = count(EquipmentQuery { warranty: Some("expired".into()), ..Default::default() }).await.map_err(e)?;
        by_system = st.svc.equipment_counts_by_system(a, None).await.map_err(e)?;
    }
    let max = by_system.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let systems = aftercare_domain::System::ALL
        .iter()
        .map(|s| {
            let count = by_system.iter().find(|(id, _)| id == s.as_str()).map(|(_, n)| *n).unwrap_or(0);
            SystemBar { id: s.as_str().into(), label: u.tr.system(s.as_str()), count, pct: count * 100 / max }
        })
        .collect();
    let tr = u.tr;
    let charts = match &home.month {
        Some(m) => vec![
            (
                tr.t("home.by_status"),
                chart(&m.by_status, |k| tr.t(&format!("ticket.status.{k}")), |k| format!("/tickets?status={k}")),
            ),
            (tr.t("home.by_system_tickets"), chart(&m.by_system, |k| tr.system(k), |k| format!("/tickets?system={k}"))),
        ],
        None => Vec::new(),
    };
    let c = Ctx::new(&st, &u, "/", u.tr.t("home.title"));
    Ok(render(&HomePage { c, customers, equipment, faulty, expiring, expired, systems, home, show_base, charts }))
}

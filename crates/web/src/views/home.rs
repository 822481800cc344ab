//! The start page: the installed base at a glance, and where to go next.

use super::{Ctx, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_service::Page;
use aftercare_service::customers::CustomerQuery;
use aftercare_service::equipment::EquipmentQuery;
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
}

pub async fn view_home_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let a = &u.actor;
    // A school's start page is its portal.
    if let (false, Some(_)) = (a.is_staff(), a.customer_id) {
        return Ok(Redirect::to("/portal").into_response());
    }
    let e = |e| PageError::from_service(u.tr, e);
    let one = Page::new(Some(1), Some(1));
    let count = |q: EquipmentQuery| {
        let svc = st.svc.clone();
        let a = a.clone();
        async move { svc.list_equipment(&a, q, one).await.map(|p| p.total) }
    };
    let customers = st.svc.list_customers(a, CustomerQuery::default(), one).await.map_err(e)?.total;
    let equipment = count(EquipmentQuery::default()).await.map_err(e)?;
    let faulty = count(EquipmentQuery { status: Some("faulty".into()), ..Default::default() }).await.map_err(e)?;
    let expiring =
        count(EquipmentQuery { warranty: Some("expiring".into()), ..Default::default() }).await.map_err(e)?;
    let expired = count(EquipmentQuery { warranty: Some("expired".into()), ..Default::default() }).await.map_err(e)?;
    let by_system = st.svc.equipment_counts_by_system(a, None).await.map_err(e)?;
    let max = by_system.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let systems = aftercare_domain::System::ALL
        .iter()
        .map(|s| {
            let count = by_system.iter().find(|(id, _)| id == s.as_str()).map(|(_, n)| *n).unwrap_or(0);
            SystemBar { id: s.as_str().into(), label: u.tr.system(s.as_str()), count, pct: count * 100 / max }
        })
        .collect();
    let c = Ctx::new(&st, &u, "/", u.tr.t("home.title"));
    Ok(render(&HomePage { c, customers, equipment, faulty, expiring, expired, systems }))
}

//! The paper forms of a ticket, ready to print on A4: 《故障分析表》 and 《上门维修记录表》.
//! The department files them in Chinese, so they are always rendered in Chinese.

use super::{Ctx, PageId, render};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_service::paperwork::Paperwork;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};

/// What both forms share: the ticket's papers and how to write its values.
pub struct Sheet {
    pub c: Ctx,
    pub p: Paperwork,
    pub printed_on: String,
}

impl Sheet {
    /// A box on the paper, ticked or not.
    pub fn b(&self, on: impl std::borrow::Borrow<bool>) -> &'static str {
        if *on.borrow() { "☑" } else { "☐" }
    }
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn is_fault(&self, f: &str) -> bool {
        self.p.detail.ticket.fault_type.map(|t| t.as_str()) == Some(f)
    }
    /// The engineer who wrote the diagnosis (else the ticket's engineer).
    pub fn analyst(&self) -> String {
        let t = &self.p.detail.ticket;
        t.diagnosed_by.or(t.engineer_id).and_then(|u| self.p.name(u)).unwrap_or_default().to_owned()
    }
    pub fn names(&self, csv: &str) -> String {
        csv.split(',')
            .filter_map(|x| x.parse::<i64>().ok())
            .filter_map(|u| self.p.name(u))
            .collect::<Vec<_>>()
            .join("、")
    }
    pub fn equipment_line(&self) -> String {
        self.p
            .equipment
            .iter()
            .map(|e| {
                let model =
                    [e.brand.as_deref(), e.model.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
                if model.is_empty() { e.kind.clone() } else { format!("{}（{}）", e.kind, model) }
            })
            .collect::<Vec<_>>()
            .join("；")
    }
    /// A stored free-text value that matches one of the printed choices (by its Chinese label).
    pub fn picked(&self, stored: &Option<String>, key: &str) -> bool {
        let label = self.c.t(key);
        stored.as_deref().is_some_and(|s| s.trim().starts_with(label.as_str()))
    }
    pub fn scopes(&self) -> &'static [&'static str] {
        &SCOPES
    }
    pub fn causes(&self) -> &'static [&'static str] {
        &CAUSES
    }
    /// The stored value when it is none of the printed choices.
    pub fn other_value(&self, stored: &Option<String>, keys: &[&str]) -> String {
        match stored.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if !keys.iter().any(|k| s.starts_with(self.c.t(k).as_str())) => s.to_owned(),
            _ => String::new(),
        }
    }
}

/// The choices printed for 影响范围 and 原因分类 (DOMAIN.md §1.3).
pub const SCOPES: [&str; 4] = ["paper.scope.unit", "paper.scope.room", "paper.scope.building", "paper.scope.school"];
pub const CAUSES: [&str; 7] = [
    "paper.cause.quality",
    "paper.cause.ageing",
    "paper.cause.environment",
    "paper.cause.human",
    "paper.cause.construction",
    "paper.cause.config",
    "paper.cause.external",
];

async fn sheet(st: &AppState, u: &PageUser, id: i64, title_key: &str) -> Result<Sheet, PageError> {
    let p = st.svc.paperwork(&u.actor, aftercare_domain::TicketId(id)).await?;
    let zh = Tr::new("zh-CN");
    let mut c = Ctx::new(st, u, "/tickets", format!("{} {}", zh.t(title_key), p.detail.ticket.number));
    c.tr = zh;
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(Sheet { c, p, printed_on })
}

#[derive(Template)]
#[template(path = "print_analysis.html")]
pub struct AnalysisSheet {
    pub s: Sheet,
    /// When the diagnosis was written.
    pub analysed_on: String,
}

pub async fn view_print_analysis_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let s = sheet(&st, &u, id, "print.analysis").await?;
    let timeline = st.svc.timeline(&u.actor, aftercare_domain::TicketId(id)).await?;
    let analysed_on = timeline
        .iter()
        .rev()
        .find(|e| e.kind == aftercare_domain::tickets::EventKind::Diagnosis)
        .map(|e| e.at.with_timezone(&st.cfg.tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    Ok(render(&AnalysisSheet { s, analysed_on }))
}

/// One visit's line on the repair record.
pub struct VisitLine {
    pub n: usize,
    pub departed: String,
    pub arrived: String,
    pub finished: String,
    pub returned: String,
    pub people: String,
    pub result: String,
}

pub struct EquipmentLine {
    pub kind: String,
    pub model: String,
    pub serial_no: String,
    pub location: String,
    /// `Some(true)` 保内, `Some(false)` 保外, `None` unknown.
    pub in_warranty: Option<bool>,
}

pub struct SignedBy {
    pub visit_id: i64,
    pub signer: String,
    pub signed_at: String,
}

#[derive(Template)]
#[template(path = "print_repair.html")]
pub struct RepairSheet {
    pub s: Sheet,
    pub visits: Vec<VisitLine>,
    pub equipment: Vec<EquipmentLine>,
    /// `onsite`, `remote`, `inspection` (which box of 服务类型 is ticked), or empty.
    pub service_type: &'static str,
    /// The last visit's result.
    pub result: String,
    pub work_done: Vec<String>,
    pub parts_used: Vec<String>,
    pub defective: Vec<String>,
    pub signed: Option<SignedBy>,
    pub contact_name: String,
    pub contact_phone: String,
    pub address: String,
    pub repair_date: String,
    /// The time agreed with the school, like the visit times.
    pub appointment: String,
}

impl RepairSheet {
    pub fn is_service(&self, kind: &str) -> bool {
        self.service_type == kind
    }
    pub fn is_result(&self, r: &str) -> bool {
        self.result == r
    }
    pub fn is_satisfaction(&self, n: &i32) -> bool {
        self.s.p.detail.ticket.satisfaction == Some(*n)
    }
    pub fn people(&self) -> String {
        let mut ids: Vec<&str> = Vec::new();
        for v in &self.s.p.detail.visits {
            ids.extend(v.technician_ids.split(',').filter(|x| !x.is_empty()));
        }
        let mut names: Vec<String> = Vec::new();
        for n in ids.iter().filter_map(|x| x.parse::<i64>().ok()).filter_map(|u| self.s.p.name(u)) {
            if !names.iter().any(|m| m == n) {
                names.push(n.to_owned());
            }
        }
        names.join("、")
    }
}

pub async fn view_print_repair_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let s = sheet(&st, &u, id, "print.repair").await?;
    let tz = st.cfg.tz;
    let t = &s.p.detail.ticket;
    let visits_rows = &s.p.detail.visits;
    let local = |d: &Option<DateTime<Utc>>| d.map(|x| x.with_timezone(&tz).format("%m-%d %H:%M").to_string());
    let visits: Vec<VisitLine> = visits_rows
        .iter()
        .enumerate()
        .map(|(i, v)| VisitLine {
            n: i + 1,
            departed: local(&v.departed_at).unwrap_or_default(),
            arrived: local(&Some(v.arrived_at)).unwrap_or_default(),
            finished: local(&Some(v.finished_at)).unwrap_or_default(),
            returned: local(&v.returned_at).unwrap_or_default(),
            people: s.names(&v.technician_ids),
            result: s.c.t(&format!("visit_result.{}", v.result)),
        })
        .collect();
    // Under warranty on the day of the (first) visit, else the agreed day, else today.
    let on: NaiveDate = visits_rows
        .first()
        .map(|v| v.arrived_at)
        .or(t.scheduled_at)
        .unwrap_or_else(Utc::now)
        .with_timezone(&tz)
        .date_naive();
    let equipment =
        s.p.equipment
            .iter()
            .map(|e| EquipmentLine {
                kind: e.kind.clone(),
                model: [e.brand.as_deref(), e.model.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "),
                serial_no: e.serial_no.clone(),
                location: e.location.clone().unwrap_or_default(),
                in_warranty: e.warranty_until.map(|w| w >= on),
            })
            .collect();
    let service_type = if t.source == aftercare_domain::tickets::TicketSource::Inspection {
        "inspection"
    } else if !visits_rows.is_empty() || matches!(t.status.as_str(), "scheduled" | "in_progress" | "on_hold") {
        "onsite"
    } else if t.resolved_at.is_some() {
        "remote"
    } else {
        ""
    };
    let many = visits_rows.len() > 1;
    let numbered = |i: usize, text: &str| if many { format!("{}. {text}", i + 1) } else { text.to_owned() };
    let mut work_done: Vec<String> = visits_rows.iter().enumerate().map(|(i, v)| numbered(i, &v.work_done)).collect();
    if let Some(r) = &t.resolution
        && !work_done.iter().any(|w| w.ends_with(r.as_str()))
    {
        work_done.push(r.clone());
    }
    let parts_used =
        visits_rows.iter().enumerate().filter_map(|(i, v)| v.parts_used.as_deref().map(|p| numbered(i, p))).collect();
    let defective = visits_rows
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.defective_parts.as_deref().map(|p| numbered(i, p)))
        .collect();
    let signed = visits_rows.iter().rev().find(|v| v.signed).map(|v| SignedBy {
        visit_id: v.id,
        signer: v.signer_name.clone().unwrap_or_default(),
        signed_at: v.signed_at.map(|a| s.c.dt(&a)).unwrap_or_default(),
    });
    let first_contact = s.p.customer.contacts.first();
    let cu = &s.p.customer.customer;
    let address = [Some(cu.county.as_str()), Some(cu.town.as_str()), cu.address.as_deref()]
        .into_iter()
        .flatten()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let page = RepairSheet {
        visits,
        equipment,
        service_type,
        result: visits_rows.last().map(|v| v.result.as_str().to_owned()).unwrap_or_default(),
        work_done,
        parts_used,
        defective,
        signed,
        contact_name: first_contact
            .map(|p| match &p.title {
                Some(title) => format!("{}（{title}）", p.name),
                None => p.name.clone(),
            })
            .unwrap_or_default(),
        contact_phone: first_contact.and_then(|p| p.phone.clone()).unwrap_or_default(),
        address,
        appointment: local(&t.scheduled_at).unwrap_or_default(),
        repair_date: visits_rows
            .first()
            .map(|v| v.arrived_at)
            .or(t.scheduled_at)
            .map(|d| d.with_timezone(&tz).format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        s,
    };
    Ok(render(&page))
}

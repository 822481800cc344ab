//! The paper forms of a ticket, ready to print on A4: 《故障分析表》 and 《上门维修记录表》,
//! and the same forms as Excel. They speak the reader's language; the paper keeps its
//! Chinese title, the name the department files it under.

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
    /// The form's Chinese title (《上门维修记录表》), printed whatever the language.
    pub title_zh: String,
    /// The title in the reader's language when that is not Chinese (a subtitle), else empty.
    pub title_local: String,
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
            .join(self.c.tr.list_sep())
    }
    pub fn equipment_line(&self) -> String {
        self.p
            .equipment
            .iter()
            .map(|e| {
                let model =
                    [e.brand.as_deref(), e.model.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
                if model.is_empty() { e.kind.clone() } else { self.c.tr.paren(&e.kind, &model) }
            })
            .collect::<Vec<_>>()
            .join(self.c.tr.part_sep())
    }
    /// A stored free-text value that matches one of the printed choices: the values are
    /// kept as typed in Chinese (单台, 自然老化), or in the reader's words.
    pub fn picked(&self, stored: &Option<String>, key: &str) -> bool {
        let zh = Tr::new("zh-CN").t(key);
        let local = self.c.t(key);
        stored.as_deref().map(str::trim).is_some_and(|s| s.starts_with(zh.as_str()) || s.starts_with(local.as_str()))
    }
    /// 判断是否正确 on the analysis: ticked once the ticket is resolved.
    pub fn held(&self, yes: bool) -> &'static str {
        self.b(self.p.diagnosis_held == Some(yes))
    }
    /// Who checked (复核) the visits and when: the last check.
    pub fn reviewer(&self) -> (String, String) {
        self.p
            .detail
            .visits
            .iter()
            .rev()
            .find(|v| v.review_verdict.is_some())
            .map(|v| {
                let who = v.reviewed_by.and_then(|u| self.p.name(u)).unwrap_or_default().to_owned();
                let on = v
                    .reviewed_at
                    .map(|a| a.with_timezone(&self.c.tz).format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                (who, on)
            })
            .unwrap_or_default()
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
            Some(s) if !keys.iter().any(|k| self.picked(stored, k)) => s.to_owned(),
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
    let title_zh = Tr::new("zh-CN").t(title_key);
    // The window's title is the reader's; only the paper keeps the Chinese one.
    let c = Ctx::new(st, u, "/tickets", format!("{} {}", u.tr.t(title_key), p.detail.ticket.number));
    let title_local = if c.lang() == "zh-CN" { String::new() } else { c.t(title_key) };
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(Sheet { c, p, printed_on, title_zh, title_local })
}

#[derive(Template)]
#[template(path = "print_analysis.html")]
pub struct AnalysisSheet {
    pub s: Sheet,
    /// When the diagnosis was written.
    pub analysed_on: String,
}

async fn analysis_sheet(st: &AppState, u: &PageUser, id: i64) -> Result<AnalysisSheet, PageError> {
    let s = sheet(st, u, id, "print.analysis").await?;
    let analysed_on =
        s.p.analysed_at.map(|at| at.with_timezone(&st.cfg.tz).format("%Y-%m-%d").to_string()).unwrap_or_default();
    Ok(AnalysisSheet { s, analysed_on })
}

pub async fn view_print_analysis_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    Ok(render(&analysis_sheet(&st, &u, id).await?))
}

impl AnalysisSheet {
    /// The form as label–value rows, for the Excel copy.
    pub fn rows(&self) -> Vec<Vec<String>> {
        let s = &self.s;
        let c = &s.c;
        let t = &s.p.detail.ticket;
        let yes_no = |b: bool| c.t(if b { "value.yes" } else { "value.no" });
        let held = match s.p.diagnosis_held {
            Some(true) => c.t("paper.held_yes"),
            Some(false) => c.t("paper.held_no"),
            None => String::new(),
        };
        let (rev, rev_on) = s.reviewer();
        let rows: Vec<(String, String)> = vec![
            (c.t("paper.analysis_no"), t.number.clone()),
            (c.t("paper.school"), t.customer_name.clone()),
            (c.t("field.town"), t.town.clone()),
            (c.t("paper.device"), s.equipment_line()),
            (c.t("field.system"), c.tr.system(t.system)),
            (c.t("field.occurred_at"), t.occurred_at.map(|x| c.dt(&x)).unwrap_or_default()),
            (c.t("paper.reported_at"), c.dt(&t.created_at)),
            (c.t("field.reporter_name"), format!("{} {}", s.v(&t.reporter_name), s.v(&t.reporter_phone)).trim().into()),
            (c.t("paper.symptom"), format!("{}\n{}", t.title, t.description).trim().into()),
            (c.t("field.impact_scope"), s.v(&t.impact_scope)),
            (c.t("field.fault_type"), t.fault_type.map(|f| c.t(&format!("fault_type.{f}"))).unwrap_or_default()),
            (
                c.t("field.fault_subcategory"),
                s.p.subcategory
                    .as_ref()
                    .map(|x| if c.tr.is_en() { x.name_en.clone() } else { x.name_zh.clone() })
                    .unwrap_or_default(),
            ),
            (c.t("paper.site_survey"), yes_no(t.needs_site_survey)),
            (c.t("paper.is_repeat"), s.p.repeat_of_number.clone().unwrap_or_else(|| c.t("value.no"))),
            (c.t("paper.initial_diagnosis"), s.v(&t.diagnosis)),
            (c.t("field.diagnosis_steps"), s.v(&t.diagnosis_steps)),
            (c.t("paper.root_cause"), s.v(&t.root_cause)),
            (c.t("field.cause_class"), s.v(&t.cause_class)),
            (c.t("paper.plan"), s.v(&t.plan)),
            (c.t("paper.parts_needed"), s.v(&t.parts_to_bring)),
            (c.t("paper.responsibility"), s.v(&t.responsibility)),
            (c.t("paper.corrective"), s.v(&t.prevention)),
            (c.t("paper.diagnosis_held"), held),
            (c.t("paper.analyst"), s.analyst()),
            (c.t("paper.analysed_on"), self.analysed_on.clone()),
            (c.t("paper.reviewer"), rev),
            (c.t("paper.date"), rev_on),
        ];
        rows.into_iter().map(|(l, v)| vec![l, v]).collect()
    }
}

pub async fn view_print_analysis_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let a = analysis_sheet(&st, &u, id).await?;
    let name = format!("{}-{}", a.s.title_zh, a.s.p.detail.ticket.number);
    xlsx(&u, &a.s.c.t("print.analysis"), &a.rows(), &name)
}

/// A form as an Excel download.
fn xlsx(u: &PageUser, sheet: &str, rows: &[Vec<String>], name: &str) -> Result<Response, PageError> {
    let bytes = aftercare_service::excel::table_to_xlsx(sheet, rows).map_err(|e| PageError::from_service(u.tr, e))?;
    Ok(crate::api::import::download(bytes, crate::api::import::XLSX, &format!("{name}.xlsx")))
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

/// A line of 更换配件: the part fitted, and the broken one it replaced when one was logged.
pub struct PartLine {
    pub name: String,
    pub spec: String,
    pub qty: String,
    pub new_serial: String,
    pub old_serial: String,
}

/// Pairs each part fitted with a broken part of the same kind brought back (its old
/// serial); broken parts with no fitted one get a line of their own.
pub fn part_lines(rows: &[aftercare_service::equipment::EquipmentPartRow]) -> Vec<PartLine> {
    let mut broken: Vec<&aftercare_service::equipment::EquipmentPartRow> =
        rows.iter().filter(|r| r.kind == "defective_return").collect();
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.kind == "issue") {
        let old = broken.iter().position(|b| b.part_id == r.part_id).map(|i| broken.remove(i));
        out.push(PartLine {
            name: r.part_name.clone(),
            spec: r.part_spec.clone().unwrap_or_default(),
            qty: format!("{} {}", r.qty, r.unit),
            new_serial: r.serial_no.clone().unwrap_or_default(),
            old_serial: old.and_then(|b| b.old_serial_no.clone()).unwrap_or_default(),
        });
    }
    for b in broken {
        out.push(PartLine {
            name: b.part_name.clone(),
            spec: b.part_spec.clone().unwrap_or_default(),
            qty: format!("{} {}", b.qty, b.unit),
            new_serial: b.serial_no.clone().unwrap_or_default(),
            old_serial: b.old_serial_no.clone().unwrap_or_default(),
        });
    }
    out
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
    /// Free-text notes of parts (what the catalogue lacks).
    pub parts_used: Vec<String>,
    pub defective: Vec<String>,
    /// Catalogue parts fitted and brought back, from the stock ledger.
    pub part_lines: Vec<PartLine>,
    /// A broken part was logged as brought back (旧件已回收).
    pub old_returned: bool,
    pub advice: Vec<String>,
    /// 工时 over all visits, in hours, empty when none was recorded.
    pub labor: String,
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
        names.join(self.s.c.tr.list_sep())
    }
}

pub async fn view_print_repair_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    Ok(render(&repair_sheet(&st, &u, id).await?))
}

pub async fn view_print_repair_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let r = repair_sheet(&st, &u, id).await?;
    let name = format!("{}-{}", r.s.title_zh, r.s.p.detail.ticket.number);
    xlsx(&u, &r.s.c.t("print.repair"), &r.rows(), &name)
}

impl RepairSheet {
    /// The form as label–value rows (a row per visit and per part), for the Excel copy.
    pub fn rows(&self) -> Vec<Vec<String>> {
        let s = &self.s;
        let c = &s.c;
        let t = &s.p.detail.ticket;
        let mut rows: Vec<Vec<String>> = vec![
            vec![c.t("paper.repair_no"), t.number.clone()],
            vec![c.t("paper.date"), self.repair_date.clone()],
            vec![c.t("paper.school"), t.customer_name.clone()],
            vec![c.t("field.address"), self.address.clone()],
            vec![c.t("paper.contact"), self.contact_name.clone()],
            vec![c.t("paper.phone"), self.contact_phone.clone()],
            vec![c.t("paper.appointment"), self.appointment.clone()],
        ];
        for e in &self.equipment {
            rows.push(vec![
                c.t("paper.equipment"),
                e.kind.clone(),
                e.model.clone(),
                e.serial_no.clone(),
                e.location.clone(),
            ]);
        }
        for v in &self.visits {
            rows.push(vec![
                format!("{} {}", c.t("paper.visit_n"), v.n),
                v.departed.clone(),
                v.arrived.clone(),
                v.finished.clone(),
                v.returned.clone(),
                v.people.clone(),
                v.result.clone(),
            ]);
        }
        rows.push(vec![c.t("paper.symptom"), format!("{}\n{}", t.title, t.description).trim().into()]);
        rows.push(vec![c.t("paper.work_done"), self.work_done.join("\n")]);
        for p in &self.part_lines {
            rows.push(vec![
                c.t("paper.parts_replaced"),
                p.name.clone(),
                p.spec.clone(),
                p.qty.clone(),
                p.new_serial.clone(),
                p.old_serial.clone(),
            ]);
        }
        for p in &self.parts_used {
            rows.push(vec![c.t("paper.parts_replaced"), p.clone()]);
        }
        let returned = c.t(if self.old_returned { "paper.returned_yes" } else { "paper.returned_none" });
        rows.push(vec![c.t("paper.old_parts"), returned]);
        rows.push(vec![c.t("paper.advice"), self.advice.join("\n")]);
        rows.push(vec![
            c.t("paper.result"),
            if self.result.is_empty() { String::new() } else { c.t(&format!("visit_result.{}", self.result)) },
        ]);
        rows.push(vec![c.t("paper.technicians"), self.people()]);
        rows.push(vec![c.t("paper.labor"), self.labor.clone()]);
        let rating = t.satisfaction.map(|n| c.t(&format!("satisfaction.{n}"))).unwrap_or_default();
        rows.push(vec![c.t("paper.rating"), rating]);
        rows.push(vec![c.t("paper.comment"), s.p.customer_comment.clone().unwrap_or_default()]);
        if let Some(sg) = &self.signed {
            rows.push(vec![c.t("paper.customer_sign"), sg.signer.clone(), sg.signed_at.clone()]);
        }
        let (rev, rev_on) = s.reviewer();
        rows.push(vec![c.t("paper.verified_by"), rev, rev_on]);
        rows
    }
}

async fn repair_sheet(st: &AppState, u: &PageUser, id: i64) -> Result<RepairSheet, PageError> {
    let s = sheet(st, u, id, "print.repair").await?;
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
    let defective: Vec<String> = visits_rows
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.defective_parts.as_deref().map(|p| numbered(i, p)))
        .collect();
    let part_lines = part_lines(&s.p.parts);
    let old_returned = s.p.parts.iter().any(|m| m.kind == "defective_return") || !defective.is_empty();
    let advice =
        visits_rows.iter().enumerate().filter_map(|(i, v)| v.advice.as_deref().map(|a| numbered(i, a))).collect();
    let minutes: i64 = visits_rows.iter().filter_map(|v| v.labor_minutes).sum();
    let labor = if visits_rows.iter().any(|v| v.labor_minutes.is_some()) {
        s.c.tr.tf("value.hours", &[("n", &aftercare_service::paperwork::hours_text(minutes))])
    } else {
        String::new()
    };
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
        part_lines,
        old_returned,
        advice,
        labor,
        signed,
        contact_name: first_contact
            .map(|p| match &p.title {
                Some(title) => s.c.tr.paren(&p.name, title),
                None => p.name.clone(),
            })
            .unwrap_or_default(),
        contact_phone: first_contact.and_then(|p| p.phone.clone()).unwrap_or_default(),
        address,
        appointment: local(&t.agreed_visit_at.or(t.scheduled_at)).unwrap_or_default(),
        repair_date: visits_rows
            .first()
            .map(|v| v.arrived_at)
            .or(t.scheduled_at)
            .map(|d| d.with_timezone(&tz).format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        s,
    };
    Ok(page)
}

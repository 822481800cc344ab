//! Data analysis (数据分析) and rectifications (整改项) for people: a period's faults grouped
//! one way as a chart with its table under it and its Excel, beside the period before; the
//! hot spots, each one click from a rectification; the rectifications' list, form and page
//! with the manager's decision and the effect afterwards.

use super::chart::{Chart, chart};
use super::{Ctx, FormErrors, PageId, PageQuery, Pager, field, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::{PageError, url_encode};
use aftercare_domain::analysis::{FaultBy, RectAction, RectStatus, RectificationInput, change, may_propose, rate};
use aftercare_domain::{RectificationId, System};
use aftercare_service::analysis::{FaultAnalysis, FaultRow, Hotspots, RectScope, RectificationRow, RectificationView};
use aftercare_service::{Page, ServiceError};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

#[derive(Template)]
#[template(path = "analysis.html")]
pub struct AnalysisPage {
    pub c: Ctx,
    pub a: FaultAnalysis,
    pub h: Hotspots,
    pub chart: Chart,
    pub can_propose: bool,
    /// `from=…&to=…` of the period shown.
    pub period: String,
}

impl AnalysisPage {
    pub fn groupings(&self) -> &'static [FaultBy] {
        FaultBy::ALL
    }
    pub fn by_label(&self, b: &FaultBy) -> String {
        self.c.t(&format!("analysis.by.{}", b.as_str()))
    }
    pub fn title(&self) -> String {
        self.c.tr.tf("analysis.chart_title", &[("by", &self.by_label(&self.a.by))])
    }
    pub fn label(&self, r: &FaultRow) -> String {
        label(&self.c, self.a.by, r)
    }
    pub fn hours(&self, h: &Option<f64>) -> String {
        h.map(|h| format!("{h:.1}")).unwrap_or_else(|| "—".into())
    }
    pub fn pct(&self, part: &i64, whole: &i64) -> String {
        rate(*part, *whole).map(|r| format!("{r}%")).unwrap_or_else(|| "—".into())
    }
    /// "+12.5%" against the period before.
    pub fn change_text(&self) -> String {
        match change(self.a.previous.tickets, self.a.total.tickets) {
            Some(c) if c > 0.0 => format!("+{c}%"),
            Some(c) => format!("{c}%"),
            None => "—".into(),
        }
    }
    /// The tickets of a group (the ticket list's filters, where it has one for the grouping).
    pub fn drill(&self, r: &FaultRow) -> Option<String> {
        drill(self.a.by, &r.key)
    }
    pub fn system_name(&self, s: &System) -> String {
        self.c.tr.system(*s)
    }
    /// A rectification proposed from a hot device, school or model.
    pub fn rect_url(&self, what: &str, key: &str, title: &str) -> String {
        let mut q = vec![("source", "hotspot".to_owned()), ("title", title.to_owned())];
        match what {
            "equipment" => q.push(("equipment_id", key.to_owned())),
            _ => q.push(("customer_id", key.to_owned())),
        }
        let q: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
        format!("/rectifications/new?{}", q.join("&"))
    }
    pub fn hot_title(&self, e: &aftercare_service::analysis::HotEquipment) -> String {
        self.c.tr.tf(
            "analysis.hot_title",
            &[("what", &format!("{} {}", e.customer_name, e.kind)), ("n", &e.tickets.to_string())],
        )
    }
    pub fn school_title(&self, r: &FaultRow) -> String {
        self.c.tr.tf("analysis.hot_title", &[("what", &r.label), ("n", &r.tickets.to_string())])
    }
}

/// A group's name in the reader's language: systems and fault types are words, a
/// subcategory has its English name, nameless groups are "not set".
fn label(c: &Ctx, by: FaultBy, r: &FaultRow) -> String {
    if r.key.is_empty() {
        return c.t("analysis.not_set");
    }
    match by {
        FaultBy::System => System::parse(&r.key).map(|s| c.tr.system(s)).unwrap_or_else(|| r.key.clone()),
        FaultBy::FaultType => c.t(&format!("fault_type.{}", r.key)),
        FaultBy::Subcategory if c.tr.is_en() => r.label_en.clone().unwrap_or_else(|| r.label.clone()),
        _ => r.label.clone(),
    }
}

fn drill(by: FaultBy, key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let k = url_encode(key);
    match by {
        FaultBy::System => Some(format!("/tickets?system={k}")),
        FaultBy::FaultType => Some(format!("/tickets?fault_type={k}")),
        FaultBy::Town => Some(format!("/tickets?town={k}")),
        FaultBy::Customer => Some(format!("/tickets?customer_id={k}")),
        FaultBy::Technician => Some(format!("/tickets?technician_id={k}")),
        FaultBy::Engineer => Some(format!("/tickets?engineer_id={k}")),
        FaultBy::Subcategory | FaultBy::Model => None,
    }
}

pub async fn view_analysis_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<crate::api::analysis::PeriodParams>,
) -> Result<Response, PageError> {
    let (from, to, by) = crate::api::analysis::parse(&p, st.svc.today())?;
    let a = st.svc.fault_analysis(&u.actor, from, to, by).await?;
    let h = st.svc.hotspots(&u.actor, from, to).await?;
    let c = Ctx::new(&st, &u, "/analysis", u.tr.t("analysis.title"));
    let items: Vec<(String, i64)> = a.rows.iter().take(15).map(|r| (r.key.clone(), r.tickets)).collect();
    let short = |s: String| {
        let n = s.chars().count();
        if n > 9 { format!("{}…", s.chars().take(8).collect::<String>()) } else { s }
    };
    let chart = chart(
        &items,
        |k| short(a.rows.iter().find(|r| r.key == k).map(|r| label(&c, by, r)).unwrap_or_default()),
        |k| drill(by, k).unwrap_or_else(|| "#faults".into()),
    );
    let period = format!("from={from}&to={to}");
    Ok(render(&AnalysisPage { c, a, h, chart, can_propose: may_propose(&u.actor.roles), period }))
}

/// The grouping's table as a workbook (the chart's numbers, every group).
pub async fn view_analysis_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<crate::api::analysis::PeriodParams>,
) -> Result<Response, PageError> {
    let (from, to, by) = crate::api::analysis::parse(&p, st.svc.today())?;
    let a = st.svc.fault_analysis(&u.actor, from, to, by).await?;
    let c = Ctx::new(&st, &u, "/analysis", u.tr.t("analysis.title"));
    let mut rows = vec![vec![
        c.t(&format!("analysis.by.{}", by.as_str())),
        c.t("analysis.tickets"),
        c.t("analysis.repeat"),
        c.t("analysis.repeat_rate"),
        c.t("analysis.mean_hours"),
    ]];
    for r in &a.rows {
        rows.push(vec![
            label(&c, by, r),
            r.tickets.to_string(),
            r.repeat.to_string(),
            rate(r.repeat, r.tickets).map(|x| format!("{x}%")).unwrap_or_default(),
            r.mean_hours_to_fix.map(|h| format!("{h:.1}")).unwrap_or_default(),
        ]);
    }
    let sheet = c.t(&format!("analysis.by.{}", by.as_str()));
    let bytes =
        aftercare_service::excel::tables_to_xlsx(&[(sheet, rows)]).map_err(|e| PageError::from_service(u.tr, e))?;
    let name = format!("故障分析-{}-{from}-{to}.xlsx", by.as_str());
    Ok(crate::api::import::download(bytes, crate::api::import::XLSX, &name))
}

// ---------------------------------------------------------------------------------------
// Rectifications.

#[derive(Debug, Default, serde::Deserialize)]
pub struct RectListParams {
    pub view: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "rectifications.html")]
pub struct RectificationsPage {
    pub c: Ctx,
    pub rows: Vec<RectificationRow>,
    pub pager: Pager,
    pub view: String,
    pub can_propose: bool,
}

impl RectificationsPage {
    pub fn views(&self) -> [RectScope; 7] {
        RectScope::ALL
    }
    pub fn status(&self, s: &RectStatus) -> String {
        self.c.t(&format!("rect_status.{}", s.as_str()))
    }
    pub fn overdue(&self, r: &RectificationRow) -> bool {
        r.status == RectStatus::Open && r.due_on.is_some_and(|d| d < Utc::now().with_timezone(&self.c.tz).date_naive())
    }
    pub fn subject(&self, r: &RectificationRow) -> String {
        subject(&self.c, r)
    }
}

fn subject(c: &Ctx, r: &RectificationRow) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(n) = &r.customer_name {
        parts.push(n.clone());
    }
    if let Some(s) = r.system {
        parts.push(c.tr.system(s));
    }
    if let Some(e) = &r.equipment_serial {
        parts.push(e.clone());
    }
    parts.join(" · ")
}

pub async fn view_rectifications_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<RectListParams>,
) -> Result<Response, PageError> {
    let scope = crate::api::analysis::scope_of(p.view.as_deref())?;
    let page = Page::new(p.page, Some(25));
    let rows = st.svc.list_rectifications(&u.actor, scope, page).await?;
    let pager = Pager::new("/rectifications", &[("view", scope.as_str().to_owned())], page, rows.total);
    let c = Ctx::new(&st, &u, "/rectifications", u.tr.t("rect.title")).flash_from(p.ok.as_deref());
    Ok(render(&RectificationsPage {
        c,
        rows: rows.items,
        pager,
        view: scope.as_str().to_owned(),
        can_propose: may_propose(&u.actor.roles),
    }))
}

#[derive(Template)]
#[template(path = "rectification_new.html")]
pub struct RectNewPage {
    pub c: Ctx,
    pub owners: Vec<(i64, String)>,
    pub values: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl RectNewPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn systems(&self) -> [System; 6] {
        System::ALL
    }
    pub fn hidden(&self) -> [&'static str; 6] {
        ["source", "meeting_id", "inspection_id", "hazard_item_id", "customer_id", "equipment_id"]
    }
}

async fn new_page(
    st: &AppState,
    u: &PageUser,
    values: Vec<(String, String)>,
    errors: FormErrors,
) -> Result<RectNewPage, PageError> {
    let owners = st.svc.rectification_owners(&u.actor).await?;
    let c = Ctx::new(st, u, "/rectifications", u.tr.t("rect.new")).crumb(u.tr.t("rect.title"), "/rectifications");
    Ok(RectNewPage { c, owners, values, errors })
}

/// The form, filled in from the query (a hazard, a hot spot: `source`, `customer_id`,
/// `equipment_id`, `inspection_id`, `hazard_item_id`, `title`).
pub async fn view_rect_new_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if !may_propose(&u.actor.roles) {
        return Err(PageError::from_service(u.tr, ServiceError::Forbidden));
    }
    Ok(render(&new_page(&st, &u, q, FormErrors::default()).await?))
}

fn id_field(form: &[(String, String)], name: &str) -> Option<i64> {
    field(form, name).and_then(|v| v.trim().parse().ok())
}

pub async fn view_rect_new_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = RectificationInput {
        title: field(&form, "title"),
        detail: field(&form, "detail"),
        source: field(&form, "source").filter(|s| !s.is_empty()),
        meeting_id: id_field(&form, "meeting_id"),
        inspection_id: id_field(&form, "inspection_id"),
        hazard_item_id: id_field(&form, "hazard_item_id"),
        customer_id: id_field(&form, "customer_id"),
        system: field(&form, "system").filter(|s| !s.is_empty()),
        equipment_id: id_field(&form, "equipment_id"),
        owner_id: id_field(&form, "owner_id"),
        due_on: field(&form, "due_on"),
    };
    match st.svc.propose_rectification(&u.actor, &input, Utc::now()).await {
        Ok(v) => Ok(Redirect::to(&format!("/rectifications/{}?ok=rect_proposed", v.rectification.id)).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = new_page(&st, &u, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "rectification.html")]
pub struct RectPage {
    pub c: Ctx,
    pub v: RectificationView,
    pub errors: FormErrors,
}

impl RectPage {
    pub fn can(&self, a: &str) -> bool {
        RectAction::parse(a).is_some_and(|a| self.v.can(a))
    }
    pub fn status(&self, s: &RectStatus) -> String {
        self.c.t(&format!("rect_status.{}", s.as_str()))
    }
    pub fn subject(&self) -> String {
        subject(&self.c, &self.v.rectification)
    }
    pub fn effect(&self) -> String {
        match self.v.faults_after {
            None => self.c.tr.tf("rect.effect_before", &[("n", &self.v.faults_before.to_string())]),
            Some(after) => self.c.tr.tf(
                "rect.effect",
                &[
                    ("before", &self.v.faults_before.to_string()),
                    ("after", &after.to_string()),
                    ("days", &self.v.days_after.to_string()),
                ],
            ),
        }
    }
}

async fn rect_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    ok: Option<&str>,
    errors: FormErrors,
) -> Result<RectPage, PageError> {
    let v = st.svc.rectification(&u.actor, RectificationId(id), Utc::now()).await?;
    let c = Ctx::new(st, u, "/rectifications", v.rectification.title.clone())
        .crumb(u.tr.t("rect.title"), "/rectifications")
        .flash_from(ok);
    Ok(RectPage { c, v, errors })
}

pub async fn view_rect_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(p): PageQuery<super::OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&rect_page(&st, &u, id, p.ok.as_deref(), FormErrors::default()).await?))
}

pub async fn view_rect_act_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let not_found = || PageError::from_service(u.tr, ServiceError::NotFound);
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let action = RectAction::parse(&action).ok_or_else(not_found)?;
    let reason = field(&form, "reason");
    match st.svc.rectification_action(&u.actor, RectificationId(id), action, reason.as_deref(), Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/rectifications/{id}?ok=rect_{}", action.as_str())).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = rect_page(&st, &u, id, None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "kpis.html")]
pub struct KpiPage {
    pub c: Ctx,
    pub t: aftercare_service::analysis::KpiTable,
    pub month: String,
}

impl KpiPage {
    pub fn name(&self, k: &aftercare_domain::kpis::Kpi) -> String {
        self.c.t(&format!("kpi.{}", k.as_str()))
    }
    pub fn value(&self, v: &Option<f64>, unit: &str) -> String {
        kpi_value(v, unit)
    }
    /// `up`, `down` or empty, and whether the move is good.
    pub fn trend(&self, r: &aftercare_service::analysis::KpiRow) -> (&'static str, bool) {
        match (r.value, r.previous) {
            (Some(a), Some(b)) if a > b => ("▲", r.higher_is_better),
            (Some(a), Some(b)) if a < b => ("▼", !r.higher_is_better),
            _ => ("", true),
        }
    }
}

pub async fn view_kpis_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<crate::api::analysis::MonthParams>,
) -> Result<Response, PageError> {
    let month = crate::api::analysis::month_of(p.month.as_deref(), st.svc.today())?;
    let t = st.svc.kpi_table(&u.actor, month).await?;
    let c = Ctx::new(&st, &u, "/analysis", u.tr.t("kpi.title")).crumb(u.tr.t("analysis.title"), "/analysis");
    Ok(render(&KpiPage { c, month: month.format("%Y-%m").to_string(), t }))
}

#[derive(Template)]
#[template(path = "print_pack.html")]
pub struct PackSheet {
    pub c: Ctx,
    pub p: aftercare_service::analysis::AnalysisPack,
    pub month: String,
    pub systems: Chart,
    pub towns: Chart,
    pub title_zh: String,
    pub title_local: String,
    pub printed_on: String,
}

impl PackSheet {
    pub fn name(&self, k: &aftercare_domain::kpis::Kpi) -> String {
        self.c.t(&format!("kpi.{}", k.as_str()))
    }
    pub fn value(&self, v: &Option<f64>, unit: &str) -> String {
        kpi_value(v, unit)
    }
    pub fn subject(&self, r: &RectificationRow) -> String {
        subject(&self.c, r)
    }
    /// "Faults 12 (before: 9 · +33.3%)".
    pub fn summary(&self) -> String {
        let a = &self.p.by_system;
        self.c.tr.paren(
            &format!("{} {}", self.c.t("analysis.tickets"), a.total.tickets),
            &format!("{} {} · {}", self.c.t("analysis.previous"), a.previous.tickets, self.change_text()),
        )
    }
    pub fn change_text(&self) -> String {
        let a = &self.p.by_system;
        match change(a.previous.tickets, a.total.tickets) {
            Some(c) if c > 0.0 => format!("+{c}%"),
            Some(c) => format!("{c}%"),
            None => "—".into(),
        }
    }
}

fn kpi_value(v: &Option<f64>, unit: &str) -> String {
    match v {
        Some(x) if unit == "%" => format!("{x}%"),
        Some(x) if unit == "h" => format!("{x} h"),
        Some(x) => format!("{x}{unit}"),
        None => "—".into(),
    }
}

async fn pack(st: &AppState, u: &PageUser, m: Option<&str>) -> Result<PackSheet, PageError> {
    let month = crate::api::analysis::month_of(m, st.svc.today())?;
    let p = st.svc.analysis_pack(&u.actor, month).await?;
    let key = "print.pack";
    let c = Ctx::new(st, u, "/analysis", format!("{} {}", u.tr.t(key), month.format("%Y-%m")));
    let items = |rows: &[FaultRow]| rows.iter().take(12).map(|r| (r.key.clone(), r.tickets)).collect::<Vec<_>>();
    let systems = chart(
        &items(&p.by_system.rows),
        |k| System::parse(k).map(|s| c.tr.system(s)).unwrap_or_else(|| k.to_owned()),
        |_| "#systems".into(),
    );
    let towns = chart(&items(&p.by_town), |k| k.to_owned(), |_| "#towns".into());
    let title_local = if c.lang() == "zh-CN" { String::new() } else { c.t(key) };
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(PackSheet {
        month: month.format("%Y-%m").to_string(),
        systems,
        towns,
        p,
        title_zh: crate::Tr::new("zh-CN").t(key),
        title_local,
        printed_on,
        c,
    })
}

/// The month's pack on A4.
pub async fn view_pack_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<crate::api::analysis::MonthParams>,
) -> Result<Response, PageError> {
    Ok(render(&pack(&st, &u, p.month.as_deref()).await?))
}

/// The month's pack as a workbook, a sheet per table.
pub async fn view_pack_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<crate::api::analysis::MonthParams>,
) -> Result<Response, PageError> {
    let s = pack(&st, &u, p.month.as_deref()).await?;
    let c = &s.c;
    let mut kpis = vec![vec![c.t("kpi.name"), s.month.clone(), s.p.kpis.previous_month.format("%Y-%m").to_string()]];
    for r in &s.p.kpis.rows {
        kpis.push(vec![s.name(&r.kpi), kpi_value(&r.value, r.unit), kpi_value(&r.previous, r.unit)]);
    }
    let faults = |by: FaultBy, rows: &[FaultRow]| {
        let mut t = vec![vec![
            c.t(&format!("analysis.by.{}", by.as_str())),
            c.t("analysis.tickets"),
            c.t("analysis.repeat"),
            c.t("analysis.mean_hours"),
        ]];
        for r in rows {
            t.push(vec![
                label(c, by, r),
                r.tickets.to_string(),
                r.repeat.to_string(),
                r.mean_hours_to_fix.map(|h| format!("{h:.1}")).unwrap_or_default(),
            ]);
        }
        t
    };
    let mut hot =
        vec![vec![c.t("analysis.device"), c.t("paper.school"), c.t("analysis.tickets"), c.t("analysis.repeat")]];
    for e in &s.p.hotspots.equipment {
        hot.push(vec![
            format!("{} {} {}", e.kind, e.model, e.serial_no),
            e.customer_name.clone(),
            e.tickets.to_string(),
            e.repeat.to_string(),
        ]);
    }
    let mut rects = vec![vec![
        c.t("field.title"),
        c.t("rect.subject"),
        c.t("field.owner_id"),
        c.t("field.due_on"),
        c.t("field.status"),
    ]];
    for r in s.p.open.iter().chain(&s.p.proposed) {
        rects.push(vec![
            r.title.clone(),
            subject(c, r),
            r.owner_name.clone().unwrap_or_default(),
            r.due_on.map(|d| d.to_string()).unwrap_or_default(),
            c.t(&format!("rect_status.{}", r.status.as_str())),
        ]);
    }
    let sheets = vec![
        (c.t("kpi.title"), kpis),
        (c.t("analysis.by.system"), faults(FaultBy::System, &s.p.by_system.rows)),
        (c.t("analysis.by.town"), faults(FaultBy::Town, &s.p.by_town)),
        (c.t("analysis.hot_equipment"), hot),
        (c.t("rect.title"), rects),
    ];
    let bytes = aftercare_service::excel::tables_to_xlsx(&sheets).map_err(|e| PageError::from_service(u.tr, e))?;
    let name = format!("数据分析-{}.xlsx", s.month);
    Ok(crate::api::import::download(bytes, crate::api::import::XLSX, &name))
}

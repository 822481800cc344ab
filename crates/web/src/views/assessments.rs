//! The manager's review (§3.2.7–3.2.9): proposed penalty events to confirm or dismiss, the
//! ones reviewed lately, and each person's scorecard for a period.

use super::PageQuery;
use super::{Ctx, FormErrors, PageId, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::assessments::{PenaltyKind, PenaltyStatus};
use aftercare_domain::clock::day_bounds;
use aftercare_service::Page;
use aftercare_service::ServiceError;
use aftercare_service::assessments::PenaltyRow;
use aftercare_service::assessments::Scorecard;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;

/// How far back the scorecards look by default, and how many reviewed events are listed.
const DEFAULT_DAYS: i64 = 30;
const RECENT: usize = 20;

pub struct Proposal {
    pub p: PenaltyRow,
    pub reason: String,
}

pub struct CardRow {
    pub s: Scorecard,
    pub roles: String,
}

#[derive(Template)]
#[template(path = "reviews.html")]
pub struct ReviewsPage {
    pub c: Ctx,
    pub proposed: Vec<Proposal>,
    pub reviewed: Vec<Proposal>,
    pub cards: Vec<CardRow>,
    pub from: String,
    pub to: String,
    pub errors: FormErrors,
    /// The event the error is about.
    pub error_id: i64,
}

impl ReviewsPage {
    pub fn kind(&self, k: &PenaltyKind) -> String {
        self.c.t(&format!("penalty.kind.{k}"))
    }
    pub fn pct(&self, v: &Option<f64>) -> String {
        v.map(|x| format!("{:.0}%", x * 100.0)).unwrap_or_else(|| "—".into())
    }
    /// A class for a rate: good, fair or poor.
    pub fn grade(&self, v: &Option<f64>) -> &'static str {
        match v {
            None => "none",
            Some(x) if *x >= 0.9 => "good",
            Some(x) if *x >= 0.7 => "fair",
            Some(_) => "poor",
        }
    }
    pub fn width(&self, v: &Option<f64>) -> String {
        format!("{:.0}", v.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0)
    }
    pub fn stars(&self, v: &Option<f64>) -> String {
        v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into())
    }
    /// Nothing to show for this person in the period.
    pub fn idle(&self, s: &Scorecard) -> bool {
        let r = &s.raw;
        r.tickets_visited
            + r.repeat_repairs
            + r.misdiagnoses
            + r.missed_calls
            + r.satisfaction_n
            + r.resolved
            + r.calls_in
            == 0
    }
    /// The earlier ticket of a proposal, when it is not the proposal's own ticket.
    pub fn earlier(&self, p: &PenaltyRow) -> Option<i64> {
        p.related_ticket_id.filter(|r| p.ticket_id != Some(*r))
    }
}

/// A proposal's reason as a sentence (the rules store short codes).
fn reason(tr: crate::Tr, p: &PenaltyRow) -> String {
    let r = p.reason.trim();
    if r.starts_with("repeat_of:") {
        return tr.t("penalty.reason.repeat_of");
    }
    match r {
        "callback_not_fixed" | "reopened" => return tr.t(&format!("penalty.reason.{r}")),
        _ => {}
    }
    if p.kind == PenaltyKind::MissedCall {
        return tr.tf("penalty.reason.missed_call", &[("number", r)]);
    }
    if p.kind == PenaltyKind::Misdiagnosis
        && let Some((a, b)) = r.split_once('→')
    {
        let ft = |s: &str| {
            let s = s.trim();
            if s == "-" { "—".to_owned() } else { tr.t(&format!("fault_type.{s}")) }
        };
        return tr.tf("penalty.reason.fault_changed", &[("from", &ft(a)), ("to", &ft(b))]);
    }
    r.to_owned()
}

#[derive(Deserialize, Default)]
pub struct PeriodParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub ok: Option<String>,
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref().and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
}

async fn reviews_page(
    st: &AppState,
    u: &PageUser,
    p: &PeriodParams,
    errors: FormErrors,
    error_id: i64,
) -> Result<ReviewsPage, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let tz = st.cfg.tz;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let mut to = date(&p.to).unwrap_or(today);
    let mut from = date(&p.from).unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        std::mem::swap(&mut from, &mut to);
    }
    let proposed =
        st.svc.penalties(&u.actor, Some(PenaltyStatus::Proposed), Page::new(Some(1), Some(200))).await.map_err(e)?;
    let mut reviewed = Vec::new();
    for status in [PenaltyStatus::Confirmed, PenaltyStatus::Dismissed] {
        let rows =
            st.svc.penalties(&u.actor, Some(status), Page::new(Some(1), Some(RECENT as u32))).await.map_err(e)?;
        reviewed.extend(rows.items);
    }
    reviewed.sort_by(|a, b| b.reviewed_at.cmp(&a.reviewed_at).then(b.id.cmp(&a.id)));
    reviewed.truncate(RECENT);
    let cards = st.svc.scorecards(&u.actor, day_bounds(from, tz).0, day_bounds(to, tz).1).await.map_err(e)?;
    let title = u.tr.t("nav.reviews");
    let c = Ctx::new(st, u, "/reviews", title.clone()).crumb(title, "/reviews").flash_from(p.ok.as_deref());
    let tr = u.tr;
    let item = |p: PenaltyRow| Proposal { reason: reason(tr, &p), p };
    let cards = cards
        .into_iter()
        .map(|s| CardRow {
            roles: s
                .raw
                .roles
                .split(',')
                .filter(|r| !r.is_empty())
                .map(|r| tr.role(r.trim()))
                .collect::<Vec<_>>()
                .join(" · "),
            s,
        })
        .collect();
    Ok(ReviewsPage {
        c,
        proposed: proposed.items.into_iter().map(item).collect(),
        reviewed: reviewed.into_iter().map(item).collect(),
        cards,
        from: from.to_string(),
        to: to.to_string(),
        errors,
        error_id,
    })
}

pub async fn view_reviews_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<PeriodParams>,
) -> Result<Response, PageError> {
    Ok(render(&reviews_page(&st, &u, &p, FormErrors::default(), 0).await?))
}

pub async fn view_review_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let verdict = field(&form, "verdict").unwrap_or_default();
    let note = field(&form, "note");
    let back = PeriodParams { from: field(&form, "from"), to: field(&form, "to"), ok: None };
    match st.svc.review_penalty(&u.actor, aftercare_domain::PenaltyId(id), &verdict, note.as_deref(), Utc::now()).await
    {
        Ok(()) => {
            let ok = if verdict.starts_with("dismiss") { "penalty_dismissed" } else { "penalty_confirmed" };
            let mut q: Vec<(&str, String)> = vec![("ok", ok.into())];
            q.extend(back.from.map(|f| ("from", f)));
            q.extend(back.to.map(|t| ("to", t)));
            Ok(Redirect::to(&super::query_url("/reviews", &q)).into_response())
        }
        Err(err) => {
            let status = match &err {
                ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::Transition { .. } => StatusCode::CONFLICT,
                _ => return Err(PageError::from_service(u.tr, err)),
            };
            let errors = match err {
                ServiceError::Invalid(fe) => FormErrors::from_fields(u.tr, &fe),
                _ => FormErrors::message(u.tr.t("reviews.already_reviewed")),
            };
            Ok((status, render(&reviews_page(&st, &u, &back, errors, id).await?)).into_response())
        }
    }
}

//! Each person's scorecard month by month (§2.4(4): the engineer analyses the field staff's
//! records): columns for the tickets visited, the first-time fix and the SLA, the table of
//! every figure under them, and its Excel.

use super::chart::{Trend, trend};
use super::{Ctx, PageQuery, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::UserId;
use aftercare_service::assessments::{ScoreMonth, ScoreTrend};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct PeopleQuery {
    pub user: Option<i64>,
    /// `YYYY-MM`, the last month shown.
    pub month: Option<String>,
}

#[derive(Template)]
#[template(path = "people_trend.html")]
pub struct PeoplePage {
    pub c: Ctx,
    pub people: Vec<(i64, String)>,
    pub t: Option<ScoreTrend>,
    pub month: String,
    pub charts: Vec<(String, Trend)>,
}

fn pct(r: Option<f64>) -> Option<f64> {
    r.map(|r| (r * 1000.0).round() / 10.0)
}

impl PeoplePage {
    pub fn rate(&self, r: &Option<f64>) -> String {
        pct(*r).map(|p| format!("{p}%")).unwrap_or_else(|| "—".into())
    }
    pub fn stars(&self, r: &Option<f64>) -> String {
        r.map(|s| format!("{s:.1}")).unwrap_or_else(|| "—".into())
    }
    pub fn month_label(&self, m: &ScoreMonth) -> String {
        m.month.format("%Y-%m").to_string()
    }
}

/// The person asked for, else the viewer when he is scored, else the first scored.
fn chosen(q: &PeopleQuery, u: &PageUser, people: &[(i64, String)]) -> Option<i64> {
    q.user.or_else(|| people.iter().find(|(id, _)| *id == u.actor.id.0).map(|p| p.0)).or(people.first().map(|p| p.0))
}

async fn load(
    st: &AppState,
    u: &PageUser,
    q: &PeopleQuery,
) -> Result<(Vec<(i64, String)>, Option<ScoreTrend>, String), PageError> {
    let month = crate::api::analysis::month_of(q.month.as_deref(), st.svc.today())?;
    let people = st.svc.scored_people(&u.actor).await?;
    let t = match chosen(q, u, &people) {
        Some(id) => Some(st.svc.scorecard_trend(&u.actor, UserId(id), month, 12).await?),
        None => None,
    };
    Ok((people, t, month.format("%Y-%m").to_string()))
}

pub async fn view_people_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<PeopleQuery>,
) -> Result<Response, PageError> {
    let (people, t, month) = load(&st, &u, &q).await?;
    let c = Ctx::new(&st, &u, "/analysis", u.tr.t("people.title")).crumb(u.tr.t("analysis.title"), "/analysis");
    let mut charts = Vec::new();
    if let Some(t) = &t {
        let series = |f: &dyn Fn(&ScoreMonth) -> Option<f64>| -> Vec<(String, Option<f64>)> {
            t.months.iter().map(|m| (m.month.format("%m").to_string(), f(m))).collect()
        };
        charts.push((
            c.t("score.visited"),
            trend(&series(&|m| m.card.as_ref().map(|s| s.raw.tickets_visited as f64)), None, ""),
        ));
        charts.push((
            c.t("score.first_time_fix"),
            trend(&series(&|m| m.card.as_ref().and_then(|s| pct(s.first_time_fix_rate))), Some(100.0), "%"),
        ));
        charts.push((
            c.t("score.sla"),
            trend(&series(&|m| m.card.as_ref().and_then(|s| pct(s.sla_compliance))), Some(100.0), "%"),
        ));
    }
    Ok(render(&PeoplePage { c, people, t, month, charts }))
}

/// The table as a workbook: one row per month.
pub async fn view_people_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<PeopleQuery>,
) -> Result<Response, PageError> {
    let (_, t, month) = load(&st, &u, &q).await?;
    let Some(t) = t else { return Err(PageError::from_service(u.tr, aftercare_service::ServiceError::NotFound)) };
    let c = Ctx::new(&st, &u, "/analysis", u.tr.t("people.title"));
    let mut rows = vec![
        [
            "field.month",
            "score.visited",
            "score.first_time_fix",
            "score.repeat_repairs",
            "score.misdiagnoses",
            "score.sla",
            "score.satisfaction",
            "score.missed_calls",
            "score.complaints_valid",
        ]
        .iter()
        .map(|k| c.t(k))
        .collect::<Vec<String>>(),
    ];
    for m in &t.months {
        let s = m.card.as_ref();
        let n = |f: &dyn Fn(&aftercare_service::assessments::Scorecard) -> i64| {
            s.map(|s| f(s).to_string()).unwrap_or_default()
        };
        let r = |v: Option<f64>| pct(v).map(|p| format!("{p}%")).unwrap_or_default();
        rows.push(vec![
            m.month.format("%Y-%m").to_string(),
            n(&|s| s.raw.tickets_visited),
            r(s.and_then(|s| s.first_time_fix_rate)),
            n(&|s| s.raw.repeat_repairs),
            n(&|s| s.raw.misdiagnoses),
            r(s.and_then(|s| s.sla_compliance)),
            s.and_then(|s| s.average_satisfaction).map(|v| format!("{v:.1}")).unwrap_or_default(),
            n(&|s| s.raw.missed_calls),
            n(&|s| s.raw.complaints_valid),
        ]);
    }
    let bytes = aftercare_service::excel::tables_to_xlsx(&[(t.display_name.clone(), rows)])
        .map_err(|e| PageError::from_service(u.tr, e))?;
    let name = format!("人员业绩-{}-{month}.xlsx", t.display_name);
    Ok(crate::api::import::download(bytes, crate::api::import::XLSX, &name))
}

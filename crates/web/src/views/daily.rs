//! The daily call record (《客服代表电话接听记录表》): one agent's contacts of one day on an A4
//! landscape sheet ready to print and sign, and the same as an Excel workbook. Like the
//! other paper forms it is always in Chinese. An agent opens their own; the manager and
//! the administrator pick anyone.

use super::PageQuery;
use super::{Ctx, query_url, render};
use crate::api::import::{XLSX, download};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_service::daily::{DailyLine, DailyRecord, daily_lines, duration_text, weekday_zh};
use aftercare_service::roster::DutyPerson;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, Utc};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct DailyParams {
    /// The agent's user id; default: whoever asks.
    pub agent: Option<i64>,
    /// `YYYY-MM-DD`; default: today.
    pub date: Option<String>,
}

#[derive(Template)]
#[template(path = "daily_record.html")]
pub struct DailySheet {
    pub c: Ctx,
    pub rec: DailyRecord,
    pub lines: Vec<DailyLine>,
    pub weekday: &'static str,
    pub company: String,
    pub printed_on: String,
    /// The manager may pick whose record: the people of the desk.
    pub people: Vec<DutyPerson>,
    pub can_pick: bool,
    pub prev: String,
    pub next: String,
    pub xlsx: String,
}

impl DailySheet {
    pub fn talk_total(&self) -> String {
        duration_text(self.rec.totals.talk_seconds)
    }
    pub fn rate(&self) -> String {
        self.rec.totals.missed_rate_text()
    }
    pub fn is_agent(&self, id: &i64) -> bool {
        *id == self.rec.agent_id
    }
    /// Blank lines so a short day still fills the sheet like the paper form.
    pub fn blanks(&self) -> std::ops::Range<usize> {
        0..8usize.saturating_sub(self.lines.len())
    }
}

pub async fn view_daily_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<DailyParams>,
) -> Result<Response, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let (agent, date) = st.svc.daily_params(&u.actor, p.agent, p.date.as_deref(), Utc::now()).await.map_err(e)?;
    let rec = st.svc.daily_call_record(&u.actor, aftercare_domain::UserId(agent), date).await.map_err(e)?;
    let can_pick = u.actor.is_admin_or_manager();
    let mut people = if can_pick { st.svc.duty_people(&u.actor).await.map_err(e)? } else { Vec::new() };
    if can_pick && !people.iter().any(|x| x.id == rec.agent_id) {
        people.insert(
            0,
            DutyPerson { id: rec.agent_id, display_name: rec.agent_name.clone(), roles: String::new(), phone: None },
        );
    }
    let zh = Tr::new("zh-CN");
    let mut c = Ctx::new(&st, &u, "/contacts", format!("{} {} {}", zh.t("daily.title"), rec.agent_name, date));
    c.tr = zh;
    let link = |base: &str, d: chrono::NaiveDate| {
        query_url(base, &[("agent", rec.agent_id.to_string()), ("date", d.to_string())])
    };
    let page = DailySheet {
        lines: daily_lines(&rec, st.svc.tz),
        weekday: weekday_zh(date),
        company: st.svc.company_name().await,
        printed_on: Utc::now().with_timezone(&st.svc.tz).format("%Y-%m-%d %H:%M").to_string(),
        people,
        can_pick,
        prev: link("/contacts/daily", date - Duration::days(1)),
        next: link("/contacts/daily", date + Duration::days(1)),
        xlsx: link("/contacts/daily.xlsx", date),
        rec,
        c,
    };
    Ok(render(&page))
}

pub async fn view_daily_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<DailyParams>,
) -> Result<Response, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let (agent, date) = st.svc.daily_params(&u.actor, p.agent, p.date.as_deref(), Utc::now()).await.map_err(e)?;
    let (name, bytes) =
        st.svc.daily_call_record_xlsx(&u.actor, aftercare_domain::UserId(agent), date).await.map_err(e)?;
    Ok(download(bytes, XLSX, &name))
}

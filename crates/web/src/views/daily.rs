//! The daily call record (《客服代表电话接听记录表》): one agent's contacts of one day on an A4
//! landscape sheet ready to print and sign, and the same as an Excel workbook. Both speak
//! the reader's language; the sheet keeps its Chinese title, the name the department files
//! it under, with the reader's words under it. An agent opens their own; the manager and
//! the administrator pick anyone.

use super::PageQuery;
use super::{Ctx, query_url, render};
use crate::api::import::{XLSX, download};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_service::daily::{
    COLUMNS, DailyLine, DailyRecord, DailyTotals, DailyWords, daily_lines, daily_xlsx, duration_text,
};
use aftercare_service::roster::DutyPerson;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct DailyParams {
    /// The agent's user id; default: whoever asks.
    pub agent: Option<i64>,
    /// `YYYY-MM-DD`; default: today.
    pub date: Option<String>,
}

/// One line as the reader reads it: [`DailyLine`] with its codes worded.
pub struct Line {
    pub l: DailyLine,
    pub channel: String,
    pub direction: String,
    pub missed_note: String,
    pub caller: String,
    pub category: String,
    pub system: String,
    pub handling: String,
    pub result: String,
}

impl Line {
    fn new(tr: Tr, l: DailyLine) -> Line {
        // A code the catalogue does not know (a result typed by hand) is shown as stored.
        let word = |kind: &str, v: &str| {
            crate::_rust_i18n_try_translate(tr.0, format!("daily.{kind}.{v}"))
                .map(|s| s.into_owned())
                .unwrap_or_else(|| v.to_owned())
        };
        let caller = match (&l.caller_name, &l.caller_title) {
            (Some(n), Some(t)) => tr.paren(n, t),
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => String::new(),
        };
        let missed_note = match (l.missed, &l.called_back) {
            (false, _) => String::new(),
            (true, Some(at)) => tr.tf("daily.called_back_at", &[("time", at)]),
            (true, None) => tr.t("daily.not_called_back"),
        };
        Line {
            channel: word("channel", &l.channel),
            direction: word("direction", &l.direction),
            category: word("category", &l.category),
            system: l.system.as_deref().map(|s| tr.system(s)).unwrap_or_default(),
            handling: l.handling.as_deref().map(|h| word("handling", h)).unwrap_or_default(),
            result: l.result.as_deref().map(|r| word("result", r)).unwrap_or_default(),
            missed_note,
            caller,
            l,
        }
    }

    /// The cells in the order of the workbook's [`COLUMNS`].
    fn cells(&self, tr: Tr) -> Vec<String> {
        let l = &self.l;
        let missed = if l.missed { format!("{} {}", tr.t("daily.yes"), self.missed_note) } else { String::new() };
        let caller = [self.caller.as_str(), l.phone.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        vec![
            l.record_no.clone(),
            l.time.clone(),
            self.channel.clone(),
            self.direction.clone(),
            missed,
            l.school.clone(),
            caller,
            self.category.clone(),
            self.system.clone(),
            l.content.clone(),
            self.handling.clone(),
            l.promised.clone(),
            l.ticket.clone(),
            self.result.clone(),
            l.talk.clone(),
        ]
    }
}

/// 星期一 … 星期日, Monday … Sunday.
fn weekday(tr: Tr, d: NaiveDate) -> String {
    tr.t(&format!("daily.weekday.{}", d.weekday().number_from_monday()))
}

/// The totals as one line (the workbook's last row).
fn totals_line(tr: Tr, t: &DailyTotals) -> String {
    let n = |v: i64| v.to_string();
    tr.tf(
        "daily.totals_line",
        &[
            ("inbound", &n(t.inbound_calls)),
            ("answered", &n(t.answered)),
            ("missed", &n(t.missed)),
            ("rate", &t.missed_rate_text()),
            ("called_back", &n(t.called_back)),
            ("outbound", &n(t.outbound_calls)),
            ("other", &n(t.other_channels)),
            ("talk", &duration_text(t.talk_seconds)),
        ],
    )
}

#[derive(Template)]
#[template(path = "daily_record.html")]
pub struct DailySheet {
    pub c: Ctx,
    pub rec: DailyRecord,
    pub lines: Vec<Line>,
    /// The form's Chinese title, printed whatever the language.
    pub title_zh: String,
    /// The title in the reader's language when that is not Chinese (a subtitle), else empty.
    pub title_local: String,
    /// "2026-11-23（星期一）", "2026-11-23 (Monday)".
    pub day: String,
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
    let tr = u.tr;
    let c = Ctx::new(&st, &u, "/contacts", format!("{} {} {}", tr.t("daily.title"), rec.agent_name, date));
    let link =
        |base: &str, d: NaiveDate| query_url(base, &[("agent", rec.agent_id.to_string()), ("date", d.to_string())]);
    let page = DailySheet {
        lines: daily_lines(&rec, st.svc.tz).into_iter().map(|l| Line::new(tr, l)).collect(),
        title_zh: Tr::new("zh-CN").t("daily.form_title"),
        title_local: if tr.is_en() { tr.t("daily.form_title") } else { String::new() },
        day: tr.paren(&date.to_string(), &weekday(tr, date)),
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

/// The same record as a workbook in the reader's language, filed as
/// `接听记录表-<agent>-<date>.xlsx` (`Daily call record-…` in English).
pub async fn view_daily_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<DailyParams>,
) -> Result<Response, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let (agent, date) = st.svc.daily_params(&u.actor, p.agent, p.date.as_deref(), Utc::now()).await.map_err(e)?;
    let rec = st.svc.daily_call_record(&u.actor, aftercare_domain::UserId(agent), date).await.map_err(e)?;
    let tr = u.tr;
    let label = |key: &str, v: &str| format!("{}{}{}", tr.t(key), tr.colon(), v);
    let words = DailyWords {
        sheet: tr.t("daily.sheet"),
        title: tr.t("daily.form_title"),
        date: label("daily.date", &tr.paren(&date.to_string(), &weekday(tr, date))),
        agent: label("daily.agent", &rec.agent_name),
        company: st.svc.company_name().await,
        headers: COLUMNS.iter().map(|(k, _)| tr.t(&format!("daily.col.{k}"))).collect(),
        rows: daily_lines(&rec, st.svc.tz).into_iter().map(|l| Line::new(tr, l).cells(tr)).collect(),
        empty: tr.t("daily.none"),
        totals: label("daily.total_label", &totals_line(tr, &rec.totals)),
        filled_by: label("daily.filled_by_sign", ""),
        reviewed_by: label("daily.reviewed_by_sign", ""),
    };
    let bytes = daily_xlsx(&words).map_err(e)?;
    let name = format!("{}-{}-{date}.xlsx", tr.t("daily.title"), rec.agent_name);
    Ok(download(bytes, XLSX, &name))
}

//! The daily call record (《客服代表电话接听记录表》, DOMAIN.md §1.1): one agent's contacts of
//! one day — those they handled and the missed calls they own — with the day's totals, as
//! JSON, as an A4 sheet and as an Excel workbook. Both speak the reader's language, so
//! this module keeps the values as codes and lays the workbook out; the web crate words them.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::contacts::missed_rate;
use aftercare_store::Page;
use aftercare_store::contacts::{ContactQuery, ContactRow};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The day's numbers. Calls are the phone contacts; other channels are counted apart.
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct DailyTotals {
    /// Every contact on the record.
    pub records: i64,
    /// Inbound phone calls (answered + missed).
    pub inbound_calls: i64,
    pub answered: i64,
    pub missed: i64,
    /// missed / inbound_calls, 0 when there were none.
    pub missed_rate: f64,
    /// Missed calls already called back.
    pub called_back: i64,
    pub outbound_calls: i64,
    /// Contacts by e-mail, fax, QQ/WeChat, web, walk-in …
    pub other_channels: i64,
    pub talk_seconds: i64,
}

impl DailyTotals {
    pub fn of(rows: &[ContactRow]) -> DailyTotals {
        let mut t = DailyTotals { records: rows.len() as i64, ..Default::default() };
        for r in rows {
            if r.channel.as_str() != "phone" {
                t.other_channels += 1;
            } else if r.direction.as_str() == "outbound" {
                t.outbound_calls += 1;
            } else {
                t.inbound_calls += 1;
                if r.answered {
                    t.answered += 1;
                } else {
                    t.missed += 1;
                    if r.called_back_at.is_some() {
                        t.called_back += 1;
                    }
                }
            }
            t.talk_seconds += i64::from(r.talk_seconds.unwrap_or(0).max(0));
        }
        t.missed_rate = missed_rate(t.missed, t.inbound_calls);
        t
    }

    /// "12.5%".
    pub fn missed_rate_text(&self) -> String {
        let s = format!("{:.1}", self.missed_rate * 100.0);
        format!("{}%", s.strip_suffix(".0").unwrap_or(&s))
    }
}

/// One agent's record of one day (`GET /api/v1/contacts/daily`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DailyRecord {
    pub agent_id: i64,
    pub agent_name: String,
    pub date: NaiveDate,
    /// The contacts, in the order they came.
    pub items: Vec<ContactRow>,
    pub totals: DailyTotals,
}

/// One line of the form. Coded values (channel, category, handling …) are the stored
/// codes: the web layer words them in the reader's language, so the sheet, its workbook
/// and the JSON never disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyLine {
    pub contact_id: i64,
    pub record_no: String,
    /// `HH:MM`, local.
    pub time: String,
    /// `phone`, `email` …
    pub channel: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub missed: bool,
    /// For a missed call: when it was called back (`HH:MM`, local), `None` while it waits.
    pub called_back: Option<String>,
    pub school: String,
    pub caller_name: Option<String>,
    pub caller_title: Option<String>,
    /// The phone, else the e-mail address.
    pub phone: String,
    /// `repair`, `consultation` …
    pub category: String,
    /// The system's code.
    pub system: Option<String>,
    pub content: String,
    /// `answered`, `ticket`, `to_engineer` …
    pub handling: Option<String>,
    /// 告知等待时间 (a promised time), `MM-DD HH:MM`.
    pub promised: String,
    pub ticket_id: Option<i64>,
    pub ticket: String,
    /// `answered`, `dispatched`, `follow_up`, `closed` (also for a closed contact without a
    /// result), or a value as stored.
    pub result: Option<String>,
    /// Talk time, `m:ss`.
    pub talk: String,
    pub after_hours: bool,
}

/// Seconds as `m:ss`, or `h:mm:ss` from an hour on.
pub fn duration_text(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The record's lines in local time `tz`.
pub fn daily_lines(rec: &DailyRecord, tz: chrono_tz::Tz) -> Vec<DailyLine> {
    let fmt = |t: &DateTime<Utc>, f: &str| t.with_timezone(&tz).format(f).to_string();
    rec.items
        .iter()
        .map(|r| {
            let missed = !r.answered;
            let result = match &r.result {
                Some(v) => Some(v.clone()),
                None if r.closed_at.is_some() => Some("closed".into()),
                None => None,
            };
            DailyLine {
                contact_id: r.id,
                record_no: r.record_no.clone(),
                time: fmt(&r.received_at, "%H:%M"),
                channel: r.channel.as_str().to_owned(),
                direction: r.direction.as_str().to_owned(),
                missed,
                called_back: if missed { r.called_back_at.map(|at| fmt(&at, "%H:%M")) } else { None },
                school: r.customer_name.clone().unwrap_or_default(),
                caller_name: r.caller_name.clone(),
                caller_title: r.caller_title.clone(),
                phone: r.caller_phone.clone().or_else(|| r.caller_email.clone()).unwrap_or_default(),
                category: r.category.as_str().to_owned(),
                system: r.system.map(|s| s.as_str().to_owned()),
                content: r.content.clone(),
                handling: r.handling.map(|h| h.as_str().to_owned()),
                promised: r.promised_at.map(|p| fmt(&p, "%m-%d %H:%M")).unwrap_or_default(),
                ticket_id: r.ticket_id,
                ticket: r.ticket_number.clone().unwrap_or_default(),
                result,
                talk: r.talk_seconds.map(|s| duration_text(i64::from(s))).unwrap_or_default(),
                after_hours: r.after_hours,
            }
        })
        .collect()
}

/// The form's columns (DOMAIN.md §1.1), named as in the catalogue (`daily.col.<name>`), and
/// their widths in the workbook.
pub const COLUMNS: [(&str, f64); 15] = [
    ("record_no", 17.0),
    ("time", 7.0),
    ("channel", 7.0),
    ("direction", 7.0),
    ("missed", 10.0),
    ("school", 16.0),
    ("caller", 18.0),
    ("category", 7.0),
    ("system", 10.0),
    ("content", 30.0),
    ("handling", 10.0),
    ("promised", 11.0),
    ("ticket", 16.0),
    ("result", 8.0),
    ("talk", 8.0),
];

/// Every word of the workbook, already in the reader's language: the service lays the
/// form out, the web layer (which holds the catalogue) words it.
#[derive(Debug, Clone, Default)]
pub struct DailyWords {
    /// The worksheet's name.
    pub sheet: String,
    /// The title over the form.
    pub title: String,
    /// "日期：2026-11-23（星期一）".
    pub date: String,
    /// "客服代表：李客服".
    pub agent: String,
    pub company: String,
    /// The headers, in the order of [`COLUMNS`].
    pub headers: Vec<String>,
    /// The lines' cells, in the order of [`COLUMNS`].
    pub rows: Vec<Vec<String>>,
    /// Written across the sheet when the day has no lines.
    pub empty: String,
    /// The totals line.
    pub totals: String,
    pub filled_by: String,
    pub reviewed_by: String,
}

impl Services {
    /// The agent and day a request asks for: the caller and today (local) when omitted — but
    /// a manager who takes no calls himself gets the first agent's (the record is about the
    /// agents). A school user is refused before anything else; a bad date is 422 `date`.
    pub async fn daily_params(
        &self,
        by: &Actor,
        agent_id: Option<i64>,
        date: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(i64, NaiveDate)> {
        require(by.is_staff())?;
        let date = match date.map(str::trim).filter(|s| !s.is_empty()) {
            None => now.with_timezone(&self.tz).date_naive(),
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| aftercare_domain::FieldErrors::single("date", "invalid_date"))?,
        };
        let agent = match agent_id {
            Some(a) => a,
            None if by.has(aftercare_domain::Role::Agent) || !by.is_admin_or_manager() => by.id.0,
            None => aftercare_store::users::with_role(&self.db, aftercare_domain::Role::Agent.as_str())
                .await?
                .first()
                .map(|u| u.id)
                .unwrap_or(by.id.0),
        };
        Ok((agent, date))
    }

    /// One agent's contacts of one local day: those they handled and the missed calls they
    /// own. An agent (any member of staff) reads their own; the manager and the
    /// administrator anyone's; schools none.
    pub async fn daily_call_record(
        &self,
        by: &Actor,
        agent: aftercare_domain::UserId,
        date: NaiveDate,
    ) -> Result<DailyRecord> {
        let agent_id = agent.0;
        require(by.is_staff() && (by.id.0 == agent_id || by.is_admin_or_manager()))?;
        let agent = aftercare_store::users::get(&self.db, agent_id).await?;
        if agent.customer_id.is_some() {
            return Err(ServiceError::NotFound);
        }
        let (from, to) = aftercare_domain::clock::day_bounds(date, self.tz);
        let q = ContactQuery {
            handler_or_owner: Some(agent_id),
            from: Some(from),
            to: Some(to),
            sort: Some("oldest".into()),
            ..Default::default()
        };
        let items = aftercare_store::contacts::list(&self.db, &q, Page::all()).await?.items;
        let totals = DailyTotals::of(&items);
        Ok(DailyRecord { agent_id, agent_name: agent.display_name, date, items, totals })
    }
}

/// Writes the workbook of one record laid out like the paper form (A4 landscape, one page
/// wide, the header repeated on every page), in the words given.
pub fn daily_xlsx(w: &DailyWords) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
    let internal = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(e.to_string());
    let last = (COLUMNS.len() - 1) as u16;
    let title = Format::new().set_bold().set_font_size(16).set_align(FormatAlign::Center);
    let meta = Format::new().set_font_size(10);
    let head = Format::new()
        .set_bold()
        .set_font_size(9)
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_background_color("#F2F3F5");
    let cell =
        Format::new().set_font_size(9).set_border(FormatBorder::Thin).set_align(FormatAlign::Top).set_text_wrap();
    let total = Format::new().set_font_size(10).set_bold().set_border(FormatBorder::Thin).set_text_wrap();

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(&w.sheet).map_err(internal)?;
    ws.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
    ws.merge_range(0, 0, 0, last, &w.title, &title).map_err(internal)?;
    ws.set_row_height(0, 26).map_err(internal)?;
    ws.merge_range(1, 0, 1, 4, &w.date, &meta).map_err(internal)?;
    ws.merge_range(1, 5, 1, 9, &w.agent, &meta).map_err(internal)?;
    ws.merge_range(1, 10, 1, last, &w.company, &meta).map_err(internal)?;
    for (j, (_, width)) in COLUMNS.iter().enumerate() {
        let h = w.headers.get(j).map(String::as_str).unwrap_or_default();
        ws.write_string_with_format(2, j as u16, h, &head).map_err(internal)?;
        ws.set_column_width(j as u16, *width).map_err(internal)?;
    }
    ws.set_repeat_rows(2, 2).map_err(internal)?;
    let mut row: u32 = 3;
    for cells in &w.rows {
        for (j, v) in cells.iter().enumerate() {
            ws.write_string_with_format(row, j as u16, v, &cell).map_err(internal)?;
        }
        row += 1;
    }
    if w.rows.is_empty() {
        ws.merge_range(row, 0, row, last, &w.empty, &cell).map_err(internal)?;
        row += 1;
    }
    ws.merge_range(row, 0, row, last, &w.totals, &total).map_err(internal)?;
    ws.set_row_height(row, 28).map_err(internal)?;
    row += 2;
    ws.merge_range(row, 0, row, 6, &w.filled_by, &meta).map_err(internal)?;
    ws.merge_range(row, 7, row, last, &w.reviewed_by, &meta).map_err(internal)?;
    wb.save_to_buffer().map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(channel: &str, direction: &str, answered: bool, called_back: bool, talk: Option<i32>) -> ContactRow {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 5, 0).unwrap();
        ContactRow {
            id: 1,
            record_no: "KF20261123-0001".into(),
            channel: channel.to_owned().try_into().unwrap(),
            direction: direction.to_owned().try_into().unwrap(),
            received_at: at,
            answered,
            answered_at: None,
            ended_at: None,
            wait_seconds: None,
            talk_seconds: talk,
            customer_id: None,
            customer_name: Some("城关镇中心小学".into()),
            town: None,
            caller_name: Some("王老师".into()),
            caller_title: Some("电教管理员".into()),
            caller_phone: Some("13905661111".into()),
            caller_email: None,
            category: "repair".to_owned().try_into().unwrap(),
            system: Some("classroom".to_owned().try_into().unwrap()),
            urgency: "normal".to_owned().try_into().unwrap(),
            content: "投影机不亮".into(),
            reply: None,
            handling: Some("ticket".to_owned().try_into().unwrap()),
            result: Some("dispatched".into()),
            mood: None,
            promised_at: None,
            after_hours: false,
            handler_id: Some(3),
            handler_name: None,
            ticket_id: None,
            ticket_number: None,
            callback_owner_id: None,
            callback_owner_name: None,
            callback_due: None,
            called_back_at: called_back.then_some(at + chrono::Duration::minutes(12)),
            callback_contact_id: None,
            review_verdict: None,
            review_action: None,
            review_note: None,
            reviewed_by: None,
            reviewed_at: None,
            closed_at: None,
            source_ref: None,
            engineer_reply: None,
            engineer_replied_by: None,
            engineer_replied_at: None,
            about_user_id: None,
            about_user_name: None,
            created_by: None,
            created_at: at,
            version: 1,
        }
    }

    #[test]
    fn totals_count_calls_apart_from_other_channels() {
        let rows = vec![
            row("phone", "inbound", true, false, Some(185)),
            row("phone", "inbound", false, true, None),
            row("phone", "inbound", false, false, None),
            row("phone", "inbound", true, false, Some(60)),
            row("phone", "outbound", true, false, Some(30)),
            row("email", "inbound", true, false, None),
        ];
        let t = DailyTotals::of(&rows);
        assert_eq!((t.records, t.inbound_calls, t.answered, t.missed), (6, 4, 2, 2));
        assert_eq!((t.called_back, t.outbound_calls, t.other_channels, t.talk_seconds), (1, 1, 1, 275));
        assert_eq!(t.missed_rate_text(), "50%");
        assert_eq!(DailyTotals::of(&[]).missed_rate_text(), "0%");
    }

    #[test]
    fn lines_keep_the_codes_and_local_times() {
        let rec = DailyRecord {
            agent_id: 3,
            agent_name: "李客服".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            items: vec![row("phone", "inbound", true, false, Some(185)), row("phone", "inbound", false, true, None)],
            totals: DailyTotals::default(),
        };
        let l = daily_lines(&rec, chrono_tz::Asia::Shanghai);
        assert_eq!(l[0].time, "09:05");
        assert_eq!((l[0].channel.as_str(), l[0].direction.as_str()), ("phone", "inbound"));
        assert_eq!((l[0].category.as_str(), l[0].system.as_deref()), ("repair", Some("classroom")));
        assert_eq!(
            (l[0].handling.as_deref(), l[0].result.as_deref(), l[0].talk.as_str()),
            (Some("ticket"), Some("dispatched"), "3:05")
        );
        assert_eq!((l[0].caller_name.as_deref(), l[0].caller_title.as_deref()), (Some("王老师"), Some("电教管理员")));
        assert_eq!((l[0].called_back.as_deref(), l[1].called_back.as_deref()), (None, Some("09:17")));
        assert_eq!(duration_text(3725), "1:02:05");
        let words = DailyWords { sheet: "Call record".into(), rows: vec![vec!["x".into(); 15]], ..Default::default() };
        let bytes = daily_xlsx(&words).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}

//! The on-duty roster (24 小时值班, §3.2.2) and the desk's working hours: who answers the
//! phone when, nights and holidays included, and when the department counts as open.
//! The manager and the administrator plan; all staff read; schools see none of it.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::contacts::WorkingHours;
use aftercare_domain::validation::optional;
use aftercare_domain::{FieldErrors, Role};
use aftercare_store::roster::{self as store, MAX_SHIFT_HOURS, ShiftOutcome, ShiftWrite};
pub use aftercare_store::roster::{DutyPerson, ShiftRow};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// Who may be on duty: the agents, and the engineers and technicians who often cover nights.
pub const DUTY_ROLES: [Role; 3] = [Role::Agent, Role::Engineer, Role::Technician];

/// The longest period one roster read covers.
pub const MAX_ROSTER_DAYS: i64 = 92;

/// The range of `missed_callback_minutes`: at least a minute, at most a day.
pub const CALLBACK_MINUTES: std::ops::RangeInclusive<i64> = 1..=1440;

/// A shift as asked for (`POST /api/v1/roster`). Times are RFC 3339, or local
/// `YYYY-MM-DDTHH:MM` in the department's time zone.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ShiftInput {
    pub user_id: Option<i64>,
    pub starts_at: Option<String>,
    /// After `starts_at`; a night shift simply ends the next morning.
    pub ends_at: Option<String>,
    pub note: Option<String>,
}

/// What copying last week's roster did.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CopyOutcome {
    pub copied: usize,
    /// Left out: the person already has a shift then, or is no longer on the desk.
    pub skipped: usize,
}

/// The desk's hours as the settings page and the API show them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct WorkingHoursSettings {
    /// `08:00-17:30`, local time.
    pub working_hours: String,
    /// Monday = 1 … Sunday = 7.
    pub working_days: Vec<u32>,
    /// How soon a missed call in working hours must be called back.
    pub missed_callback_minutes: i64,
}

/// `PUT /api/v1/settings/working-hours`: all three are required.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct WorkingHoursInput {
    pub working_hours: Option<String>,
    pub working_days: Option<Vec<i64>>,
    pub missed_callback_minutes: Option<i64>,
}

/// Reads a time: RFC 3339 with an offset, or a local date and time in `tz`.
pub fn parse_time(s: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .and_then(|local| local_to_utc(local, tz))
}

pub use aftercare_domain::clock::local_to_utc;

/// A period's bound: a day (its start, or with `end_of_day` its end, local) or a time.
pub fn period_bound(field: &'static str, v: &str, tz: chrono_tz::Tz, end_of_day: bool) -> Result<DateTime<Utc>> {
    let v = v.trim();
    let at = match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => {
            local_to_utc((if end_of_day { d + Duration::days(1) } else { d }).and_time(chrono::NaiveTime::MIN), tz)
        }
        Err(_) => parse_time(v, tz),
    };
    at.ok_or_else(|| FieldErrors::single(field, "invalid_date").into())
}

/// The Monday of the week holding `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Checks a shift: the person, both times (to the minute), their order and length.
pub fn validate_shift(input: &ShiftInput, tz: chrono_tz::Tz) -> Result<ShiftWrite, FieldErrors> {
    let mut e = FieldErrors::default();
    if input.user_id.is_none() {
        e.push("user_id", "required");
    }
    let mut time = |field: &'static str, v: &Option<String>| match v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    {
        None => {
            e.push(field, "required");
            None
        }
        Some(s) => match parse_time(s, tz) {
            // Shifts are planned to the minute; seconds would only make touching shifts overlap.
            Some(t) => t.with_second(0).and_then(|t| t.with_nanosecond(0)),
            None => {
                e.push(field, "invalid_date");
                None
            }
        },
    };
    let starts_at = time("starts_at", &input.starts_at);
    let ends_at = time("ends_at", &input.ends_at);
    if let (Some(s), Some(end)) = (starts_at, ends_at) {
        if end <= s {
            e.push("ends_at", "date_order");
        } else if end - s > Duration::hours(MAX_SHIFT_HOURS) {
            e.push("ends_at", "out_of_range");
        }
    }
    let note = optional(&mut e, "note", input.note.as_deref(), 200);
    match (input.user_id, starts_at, ends_at) {
        (Some(user_id), Some(starts_at), Some(ends_at)) if e.is_empty() => {
            Ok(ShiftWrite { user_id, starts_at, ends_at, note })
        }
        _ => Err(e),
    }
}

/// Checks the desk's hours through the domain's own parser, naming the bad field.
pub fn validate_working_hours(input: &WorkingHoursInput) -> Result<(WorkingHours, i64), FieldErrors> {
    let mut e = FieldErrors::default();
    let hours = input.working_hours.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match hours {
        None => e.push("working_hours", "required"),
        Some(h) if WorkingHours::parse(h, "1").is_none() => {
            // Two good times in the wrong order get their own message.
            let ordered = h.split_once('-').map(|(a, b)| {
                let t = |x: &str| chrono::NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
                (t(a), t(b))
            });
            match ordered {
                Some((Some(a), Some(b))) if b <= a => e.push("working_hours", "time_order"),
                _ => e.push("working_hours", "invalid"),
            }
        }
        Some(_) => {}
    }
    // Stored in weekday order, each once, however they were ticked.
    let mut days = input.working_days.clone().unwrap_or_default();
    days.sort_unstable();
    days.dedup();
    if days.is_empty() {
        e.push("working_days", "required");
    } else if days.iter().any(|d| !(1..=7).contains(d)) {
        e.push("working_days", "out_of_range");
    }
    match input.missed_callback_minutes {
        None => e.push("missed_callback_minutes", "required"),
        Some(m) if !CALLBACK_MINUTES.contains(&m) => e.push("missed_callback_minutes", "out_of_range"),
        Some(_) => {}
    }
    if !e.is_empty() {
        return Err(e);
    }
    let csv = days.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    match (WorkingHours::parse(hours.unwrap_or_default(), &csv), input.missed_callback_minutes) {
        (Some(w), Some(m)) => Ok((w, m)),
        _ => Err(FieldErrors::single("working_hours", "invalid")),
    }
}

fn settings_of(w: &WorkingHours, minutes: i64) -> WorkingHoursSettings {
    let (hours, _) = w.to_settings();
    let mut days: Vec<u32> = w.days.iter().map(|d| d.number_from_monday()).collect();
    days.sort_unstable();
    WorkingHoursSettings { working_hours: hours, working_days: days, missed_callback_minutes: minutes }
}

fn may_be_on_duty(roles: &str) -> bool {
    roles.split(',').filter_map(Role::parse).any(|r| DUTY_ROLES.contains(&r))
}

impl Services {
    /// Who is on duty at `now` (the shifts covering it, earliest start first; each row
    /// names the person, their phone and roles). One indexed query; no permission check,
    /// for the desk and for choosing the owner of a missed call.
    pub async fn on_duty(&self, now: DateTime<Utc>) -> Result<Vec<ShiftRow>> {
        Ok(store::on_duty(&self.db, now).await?)
    }

    /// [`Services::on_duty`] for a member of staff.
    pub async fn roster_now(&self, by: &Actor, now: DateTime<Utc>) -> Result<Vec<ShiftRow>> {
        require(by.is_staff())?;
        self.on_duty(now).await
    }

    /// Shifts touching [from, to) (at most [`MAX_ROSTER_DAYS`]); staff only.
    pub async fn roster(&self, by: &Actor, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ShiftRow>> {
        require(by.is_staff())?;
        if to <= from {
            return Err(FieldErrors::single("to", "date_order").into());
        }
        if to - from > Duration::days(MAX_ROSTER_DAYS) {
            return Err(FieldErrors::single("to", "out_of_range").into());
        }
        Ok(store::between(&self.db, from, to).await?)
    }

    /// [`Services::roster`] for the API: `from` and `to` are days (`YYYY-MM-DD`, local; `to`
    /// through its end) or RFC 3339 times; by default this week (Monday to Sunday).
    pub async fn roster_between(
        &self,
        by: &Actor,
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ShiftRow>> {
        require(by.is_staff())?;
        let given = |v: Option<&str>| v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let from = match given(from) {
            Some(v) => period_bound("from", &v, self.tz, false)?,
            None => {
                let monday = week_start(now.with_timezone(&self.tz).date_naive());
                local_to_utc(monday.and_time(chrono::NaiveTime::MIN), self.tz).unwrap_or(now)
            }
        };
        let to = match given(to) {
            Some(v) => period_bound("to", &v, self.tz, true)?,
            None => from + Duration::days(7),
        };
        self.roster(by, from, to).await
    }

    /// The people a shift may be planned for: active agents, engineers and technicians.
    pub async fn duty_people(&self, by: &Actor) -> Result<Vec<DutyPerson>> {
        require(by.is_staff())?;
        let roles: Vec<&str> = DUTY_ROLES.iter().map(|r| r.as_str()).collect();
        Ok(store::people_with_roles(&self.db, &roles).await?)
    }

    async fn check_duty_person(&self, user_id: i64) -> Result<()> {
        match aftercare_store::users::get(&self.db, user_id).await {
            Ok(u) if u.active && may_be_on_duty(&u.roles) => Ok(()),
            Ok(_) => Err(FieldErrors::single("user_id", "not_on_desk").into()),
            Err(aftercare_store::StoreError::NotFound) => Err(FieldErrors::single("user_id", "not_found").into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Plans a shift (manager or administrator). A shift overlapping another of the same
    /// person is 422 `starts_at`/`overlap`; an end not after the start is `ends_at`/`date_order`.
    pub async fn create_shift(&self, by: &Actor, input: &ShiftInput, now: DateTime<Utc>) -> Result<ShiftRow> {
        require(by.is_admin_or_manager())?;
        let s = validate_shift(input, self.tz)?;
        self.check_duty_person(s.user_id).await?;
        let out = store::create_shifts(&self.db, &self.writer(by), std::slice::from_ref(&s), now).await.map_err(
            |e| match e {
                aftercare_store::StoreError::MissingReference { field } => {
                    FieldErrors::single(field, "not_found").into()
                }
                other => ServiceError::from(other),
            },
        )?;
        match out.first() {
            Some(ShiftOutcome::Created(id)) => Ok(store::get(&self.db, *id).await?),
            Some(ShiftOutcome::Overlaps(_)) => Err(FieldErrors::single("starts_at", "overlap").into()),
            None => Err(ServiceError::Internal("no shift written".into())),
        }
    }

    /// Removes a shift (manager or administrator); returns what it was.
    pub async fn delete_shift(&self, by: &Actor, id: aftercare_domain::ShiftId) -> Result<ShiftRow> {
        let id = id.0;
        require(by.is_admin_or_manager())?;
        Ok(store::delete(&self.db, &self.writer(by), id).await?)
    }

    /// Copies the shifts that started in the week before the one holding `week` (Monday to
    /// Sunday, local time) into that week; a shift whose person is busy then or no longer on
    /// the desk is skipped.
    /// `week` is a day, `YYYY-MM-DD`.
    pub async fn copy_roster_week(&self, by: &Actor, week: Option<&str>, now: DateTime<Utc>) -> Result<CopyOutcome> {
        require(by.is_admin_or_manager())?;
        let week = match week.map(str::trim).filter(|s| !s.is_empty()) {
            None => return Err(FieldErrors::single("week", "required").into()),
            Some(w) => {
                NaiveDate::parse_from_str(w, "%Y-%m-%d").map_err(|_| FieldErrors::single("week", "invalid_date"))?
            }
        };
        let monday = week_start(week);
        let bound = |d: NaiveDate| local_to_utc(d.and_time(chrono::NaiveTime::MIN), self.tz);
        let (Some(from), Some(to)) = (bound(monday - Duration::days(7)), bound(monday)) else {
            return Err(FieldErrors::single("week", "invalid_date").into());
        };
        let people = self.duty_people(by).await?;
        let mut skipped = 0;
        let mut items = Vec::new();
        for s in store::between(&self.db, from, to).await?.into_iter().filter(|s| s.starts_at >= from) {
            if !people.iter().any(|p| p.id == s.user_id) {
                skipped += 1;
                continue;
            }
            // Shift by a week of local days, so the hours stay the same across a clock change.
            let move_on = |t: DateTime<Utc>| {
                local_to_utc(t.with_timezone(&self.tz).naive_local() + Duration::days(7), self.tz)
                    .unwrap_or(t + Duration::days(7))
            };
            items.push(ShiftWrite {
                user_id: s.user_id,
                starts_at: move_on(s.starts_at),
                ends_at: move_on(s.ends_at),
                note: s.note,
            });
        }
        let out = store::create_shifts(&self.db, &self.writer(by), &items, now).await?;
        let copied = out.iter().filter(|o| matches!(o, ShiftOutcome::Created(_))).count();
        Ok(CopyOutcome { copied, skipped: skipped + out.len() - copied })
    }

    /// The department's working hours from the settings, or the defaults (08:00–17:30,
    /// Monday to Friday) when they are missing or unreadable.
    pub async fn working_hours(&self) -> WorkingHours {
        self.desk_settings().await.0
    }

    /// Minutes within which a missed call in working hours must be called back (setting
    /// `missed_callback_minutes`, default 30).
    pub async fn missed_callback_minutes(&self) -> i64 {
        self.desk_settings().await.1
    }

    /// Whether the SLA clocks run on the working-hours calendar (setting `sla_calendar` =
    /// `working_hours`) rather than around the clock (the default, `24x7`).
    pub async fn sla_on_working_hours(&self) -> bool {
        self.desk_settings().await.2
    }

    /// Chooses the SLA calendar (manager or administrator); audited.
    pub async fn set_sla_calendar(&self, by: &Actor, working_hours: Option<bool>) -> Result<bool> {
        require(by.is_admin_or_manager())?;
        let Some(on) = working_hours else {
            return Err(aftercare_domain::FieldErrors::single("sla_working_hours", "required").into());
        };
        let value = if on { "working_hours" } else { "24x7" };
        aftercare_store::settings::set_setting(&self.db, &self.writer(by), "sla_calendar", value).await?;
        self.caches.forget_hours();
        Ok(on)
    }

    /// The desk settings, read once per few seconds per node (every call event and every
    /// new ticket needs them): working hours, missed-call minutes, the SLA calendar.
    async fn desk_settings(&self) -> (WorkingHours, i64, bool) {
        if let Some(h) = self.caches.hours() {
            return h;
        }
        let got =
            store::settings(&self.db, &["working_hours", "working_days", "missed_callback_minutes", "sla_calendar"])
                .await
                .unwrap_or_default();
        let get = |k: &str| got.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let hours = match (get("working_hours"), get("working_days")) {
            (Some(h), Some(d)) => WorkingHours::parse(h, d).unwrap_or_default(),
            _ => WorkingHours::default(),
        };
        let minutes = get("missed_callback_minutes")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|m| CALLBACK_MINUTES.contains(m))
            .unwrap_or(30);
        let calendar = get("sla_calendar") == Some("working_hours");
        self.caches.put_hours((hours.clone(), minutes, calendar));
        (hours, minutes, calendar)
    }

    /// The desk's hours for the settings page and the API; staff only.
    pub async fn working_hours_settings(&self, by: &Actor) -> Result<WorkingHoursSettings> {
        require(by.is_staff())?;
        Ok(settings_of(&self.working_hours().await, self.missed_callback_minutes().await))
    }

    /// Changes the desk's hours (manager or administrator); all three values are written
    /// together and audited. Returns them as stored.
    pub async fn set_working_hours(&self, by: &Actor, input: &WorkingHoursInput) -> Result<WorkingHoursSettings> {
        require(by.is_admin_or_manager())?;
        let (w, minutes) = validate_working_hours(input)?;
        let (hours, days) = w.to_settings();
        store::set_settings(
            &self.db,
            &self.writer(by),
            &[("working_hours", hours), ("working_days", days), ("missed_callback_minutes", minutes.to_string())],
        )
        .await?;
        self.caches.forget_hours();
        Ok(settings_of(&w, minutes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    fn input(start: &str, end: &str) -> ShiftInput {
        ShiftInput { user_id: Some(3), starts_at: Some(start.into()), ends_at: Some(end.into()), note: None }
    }

    #[test]
    fn a_night_shift_spans_midnight_in_local_time() {
        let s = validate_shift(&input("2026-11-23T17:30", "2026-11-24T08:00"), Shanghai).unwrap();
        assert_eq!(s.starts_at, Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap());
        assert_eq!(s.ends_at - s.starts_at, Duration::minutes(14 * 60 + 30));
        let rfc = validate_shift(&input("2026-11-23T09:30:45Z", "2026-11-24T00:00:00Z"), Shanghai).unwrap();
        assert_eq!(rfc.starts_at, s.starts_at, "seconds are dropped");
    }

    #[test]
    fn bad_shifts_name_their_field() {
        let e = validate_shift(&ShiftInput::default(), Shanghai).unwrap_err();
        let f: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(f, [("user_id", "required"), ("starts_at", "required"), ("ends_at", "required")]);
        let back = validate_shift(&input("2026-11-23T17:30", "2026-11-23T08:00"), Shanghai).unwrap_err();
        assert_eq!((back.0[0].field.as_str(), back.0[0].code), ("ends_at", "date_order"));
        let same = validate_shift(&input("2026-11-23T08:00", "2026-11-23T08:00"), Shanghai).unwrap_err();
        assert_eq!(same.0[0].code, "date_order");
        let long = validate_shift(&input("2026-11-01T08:00", "2026-11-09T08:00"), Shanghai).unwrap_err();
        assert_eq!((long.0[0].field.as_str(), long.0[0].code), ("ends_at", "out_of_range"));
        let junk = validate_shift(&input("tomorrow", "2026-11-09T08:00"), Shanghai).unwrap_err();
        assert_eq!((junk.0[0].field.as_str(), junk.0[0].code), ("starts_at", "invalid_date"));
    }

    #[test]
    fn working_hours_are_checked_by_field() {
        let ok = WorkingHoursInput {
            working_hours: Some(" 08:30-18:00 ".into()),
            working_days: Some(vec![6, 1, 2, 3, 4, 5]),
            missed_callback_minutes: Some(20),
        };
        let (w, m) = validate_working_hours(&ok).unwrap();
        assert_eq!(m, 20);
        let s = settings_of(&w, m);
        assert_eq!(s.working_hours, "08:30-18:00");
        assert_eq!(s.working_days, [1, 2, 3, 4, 5, 6]);
        let code = |i: WorkingHoursInput| {
            let e = validate_working_hours(&i).unwrap_err();
            e.0.iter().map(|x| (x.field.clone(), x.code)).collect::<Vec<_>>()
        };
        assert_eq!(
            code(WorkingHoursInput { working_hours: Some("8h-17h".into()), ..ok.clone() }),
            [("working_hours".to_string(), "invalid")]
        );
        assert_eq!(
            code(WorkingHoursInput { working_hours: Some("18:00-08:00".into()), ..ok.clone() }),
            [("working_hours".to_string(), "time_order")]
        );
        assert_eq!(
            code(WorkingHoursInput { working_days: Some(vec![1, 8]), ..ok.clone() }),
            [("working_days".to_string(), "out_of_range")]
        );
        assert_eq!(
            code(WorkingHoursInput { working_days: Some(vec![]), ..ok.clone() }),
            [("working_days".to_string(), "required")]
        );
        assert_eq!(
            code(WorkingHoursInput { missed_callback_minutes: Some(0), ..ok.clone() }),
            [("missed_callback_minutes".to_string(), "out_of_range")]
        );
    }

    #[test]
    fn weeks_start_on_monday_and_roles_decide_who_may_be_on_duty() {
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(week_start(sunday), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(week_start(week_start(sunday)), week_start(sunday));
        assert!(may_be_on_duty("agent"));
        assert!(may_be_on_duty("manager,technician"));
        assert!(!may_be_on_duty("manager"));
        assert!(!may_be_on_duty("customer"));
    }
}

//! Local days and local times: the department works in one zone (Asia/Shanghai by default)
//! while everything is stored in UTC. Every layer converts through here.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A local time in `tz` as UTC (the earlier one when a clock change makes it ambiguous;
/// none when it does not exist).
pub fn local_to_utc(local: NaiveDateTime, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
}

/// The UTC bounds of one local day: `[start, start of the next day)`.
pub fn day_bounds(day: NaiveDate, tz: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| local_to_utc(d.and_time(chrono::NaiveTime::MIN), tz).unwrap_or_default();
    (start(day), start(day + chrono::Duration::days(1)))
}

/// A typed local time (`2026-12-06T09:30`, `2026-12-06 09:30`, with or without seconds) in
/// `tz`, as UTC; none when it is not one, or lies outside [`crate::validation::YEARS`].
pub fn parse_local(s: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .filter(|n| crate::validation::YEARS.contains(&chrono::Datelike::year(n)))
        .and_then(|local| local_to_utc(local, tz))
}

/// The next quarter hour at or after `t` (seconds dropped): the time a person would agree
/// on the phone, as a form's default.
pub fn next_quarter(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let q = 15 * 60;
    let up = (secs + q - 1).div_euclid(q) * q;
    DateTime::from_timestamp(up, 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fall_on_the_quarter_hour() {
        let at = |h, m, s| Utc.with_ymd_and_hms(2026, 12, 6, h, m, s).single().unwrap_or_default();
        assert_eq!(next_quarter(at(9, 0, 0)), at(9, 0, 0));
        assert_eq!(next_quarter(at(9, 0, 1)), at(9, 15, 0));
        assert_eq!(next_quarter(at(9, 44, 59)), at(9, 45, 0));
        assert_eq!(
            next_quarter(at(23, 50, 0)),
            Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).single().unwrap_or_default()
        );
    }

    #[test]
    fn a_shanghai_day_starts_at_sixteen_utc_the_day_before() {
        let tz = chrono_tz::Asia::Shanghai;
        let d = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
        let (a, b) = day_bounds(d, tz);
        assert_eq!(a.to_rfc3339(), "2026-12-05T16:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-12-06T16:00:00+00:00");
    }

    #[test]
    fn local_times_parse_in_every_form_and_refuse_far_years() {
        let tz = chrono_tz::Asia::Shanghai;
        let want = parse_local("2026-12-06T09:30", tz).map(|t| t.to_rfc3339());
        assert_eq!(want.as_deref(), Some("2026-12-06T01:30:00+00:00"));
        assert_eq!(parse_local("2026-12-06 09:30:00", tz).map(|t| t.to_rfc3339()), want);
        assert_eq!(parse_local("1900-01-01T00:00", tz), None);
        assert_eq!(parse_local("morgen", tz), None);
    }
}

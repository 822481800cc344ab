//! The service desk (客服, manual §2.2, form 1): contact records on every channel, missed
//! calls and when they must be called back, working hours, complaint verdicts, the
//! courteous-phrase scenes and call events from a PBX. Pure: the caller supplies the clock,
//! already in local time where it matters.

use crate::validation::{FieldErrors, optional, optional_enum as parse_enum, required};
use crate::{CustomerId, System};
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::Deserialize;

string_enum!(
    /// How the school reached us (DESIGN.md §2; these names are fixed).
    Channel {
        Phone = "phone",
        Email = "email",
        Fax = "fax",
        Im = "im",
        Web = "web",
        WalkIn = "walk_in",
        Other = "other",
    }
);

string_enum!(
    /// Inbound (the school called) or outbound (we called: a callback, a 回访).
    Direction {
        Inbound = "inbound",
        Outbound = "outbound",
    }
);

string_enum!(
    /// What the contact is about (DESIGN.md §2; fixed).
    Category {
        Consultation = "consultation",
        Complaint = "complaint",
        Repair = "repair",
        Suggestion = "suggestion",
        Other = "other",
    }
);

string_enum!(
    /// 紧急程度: 一般 / 紧急 / 特急.
    Urgency {
        Normal = "normal",
        Urgent = "urgent",
        Critical = "critical",
    }
);

string_enum!(
    /// 处理方式: what the agent did with it.
    Handling {
        Answered = "answered",
        Remote = "remote",
        Ticket = "ticket",
        Urge = "urge",
        ToEngineer = "to_engineer",
        ToManager = "to_manager",
    }
);

string_enum!(
    /// The manager's verdict on a complaint (§2.2(1)).
    Verdict {
        Valid = "valid",
        Invalid = "invalid",
    }
);

string_enum!(
    /// Where a courteous phrase is used (DOMAIN.md §4).
    Scene {
        Greeting = "greeting",
        Identify = "identify",
        Wait = "wait",
        Repair = "repair",
        AfterHours = "after_hours",
        Complaint = "complaint",
        Suggestion = "suggestion",
        Transfer = "transfer",
        FollowUp = "follow_up",
        Closing = "closing",
        Visit = "visit",
    }
);

/// The usual contact, for a record built field by field (a mail, a PBX event): a phone
/// call in, about something else, of normal urgency.
macro_rules! default_variant {
    ($($t:ident::$v:ident),*) => {$(
        impl Default for $t {
            fn default() -> Self {
                $t::$v
            }
        }
    )*};
}
default_variant!(Channel::Phone, Direction::Inbound, Category::Other, Urgency::Normal);

impl Urgency {
    /// The ticket priority a repair call of this urgency proposes.
    pub fn priority(self) -> crate::tickets::Priority {
        match self {
            Urgency::Normal => crate::tickets::Priority::Normal,
            Urgency::Urgent => crate::tickets::Priority::High,
            Urgency::Critical => crate::tickets::Priority::Urgent,
        }
    }
}

/// A contact as the agent (or the API) records it; validated into [`NewContact`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContactInput {
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub category: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub caller_name: Option<String>,
    pub caller_title: Option<String>,
    pub caller_phone: Option<String>,
    pub caller_email: Option<String>,
    pub system: Option<String>,
    pub urgency: Option<String>,
    pub content: Option<String>,
    pub reply: Option<String>,
    pub handling: Option<String>,
    pub mood: Option<String>,
    /// When it happened; now when omitted.
    pub received_at: Option<DateTime<Utc>>,
    /// False records a missed call.
    pub answered: Option<bool>,
    /// 告知客户等待时间: required after hours (§2.2(2)).
    pub promised_at: Option<DateTime<Utc>>,
    pub wait_seconds: Option<i32>,
    pub talk_seconds: Option<i32>,
    /// An open ticket this contact is about (an urge, 催单, is logged on it).
    pub ticket_id: Option<i64>,
    /// The member of staff a complaint is about.
    pub about_user_id: Option<crate::UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub channel: Channel,
    pub direction: Direction,
    pub category: Category,
    pub customer_id: Option<CustomerId>,
    pub caller_name: Option<String>,
    pub caller_title: Option<String>,
    pub caller_phone: Option<String>,
    pub caller_email: Option<String>,
    pub system: Option<System>,
    pub urgency: Urgency,
    pub content: String,
    pub reply: Option<String>,
    pub handling: Option<Handling>,
    pub mood: Option<String>,
    pub received_at: DateTime<Utc>,
    pub answered: bool,
    pub promised_at: Option<DateTime<Utc>>,
    pub wait_seconds: Option<i32>,
    pub talk_seconds: Option<i32>,
    pub ticket_id: Option<i64>,
    /// Complaints only: the person it is about.
    pub about_user_id: Option<i64>,
}

impl ContactInput {
    /// Checks every field; `now` stands in for a missing `received_at`. Whether the
    /// contact came after hours is decided by the caller, who knows the working hours.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<NewContact, FieldErrors> {
        let mut e = FieldErrors::default();
        let channel = parse_enum(&mut e, "channel", self.channel.as_deref(), Channel::parse);
        if self.channel.as_deref().is_none_or(|c| c.trim().is_empty()) {
            e.push("channel", "required");
        }
        let category = parse_enum(&mut e, "category", self.category.as_deref(), Category::parse);
        if self.category.as_deref().is_none_or(|c| c.trim().is_empty()) {
            e.push("category", "required");
        }
        let direction =
            parse_enum(&mut e, "direction", self.direction.as_deref(), Direction::parse).unwrap_or(Direction::Inbound);
        let system = parse_enum(&mut e, "system", self.system.as_deref(), System::parse);
        let urgency = parse_enum(&mut e, "urgency", self.urgency.as_deref(), Urgency::parse).unwrap_or(Urgency::Normal);
        let handling = parse_enum(&mut e, "handling", self.handling.as_deref(), Handling::parse);
        let answered = self.answered.unwrap_or(true);
        // A missed call has nothing said in it yet; anything else must say what it was about.
        let content = if answered {
            required(&mut e, "content", self.content.as_deref(), 4000)
        } else {
            optional(&mut e, "content", self.content.as_deref(), 4000).unwrap_or_default()
        };
        let reply = optional(&mut e, "reply", self.reply.as_deref(), 4000);
        let caller_name = optional(&mut e, "caller_name", self.caller_name.as_deref(), 50);
        let caller_title = optional(&mut e, "caller_title", self.caller_title.as_deref(), 50);
        let caller_phone = optional(&mut e, "caller_phone", self.caller_phone.as_deref(), 30);
        if let Some(p) = &caller_phone
            && !crate::customers::is_phone(p)
        {
            e.push("caller_phone", "invalid");
        }
        let caller_email = optional(&mut e, "caller_email", self.caller_email.as_deref(), 254);
        if let Some(m) = &caller_email
            && !m.contains('@')
        {
            e.push("caller_email", "invalid");
        }
        let mood = optional(&mut e, "mood", self.mood.as_deref(), 20);
        for (f, v) in [("wait_seconds", self.wait_seconds), ("talk_seconds", self.talk_seconds)] {
            if v.is_some_and(|s| !(0..=86_400).contains(&s)) {
                e.push(f, "out_of_range");
            }
        }
        let received_at = self.received_at.unwrap_or(now);
        if received_at > now + Duration::minutes(5) {
            e.push("received_at", "in_future");
        }
        if let Some(p) = self.promised_at
            && p < received_at
        {
            e.push("promised_at", "date_order");
        }
        match (channel, category) {
            (Some(channel), Some(category)) if e.is_empty() => Ok(NewContact {
                channel,
                direction,
                category,
                customer_id: self.customer_id,
                caller_name,
                caller_title,
                caller_phone,
                caller_email,
                system,
                urgency,
                content,
                reply,
                handling,
                mood,
                received_at,
                answered,
                promised_at: self.promised_at,
                wait_seconds: self.wait_seconds,
                talk_seconds: self.talk_seconds,
                ticket_id: self.ticket_id,
                about_user_id: self.about_user_id.filter(|_| category == Category::Complaint).map(|u| u.0),
            }),
            _ => Err(e),
        }
    }
}

/// The department's working hours: a daily window on working weekdays (local time).
/// Outside them a call is "after hours" (§2.2(2)); a missed call inside them is penalised
/// when not called back in time (§3.2.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub days: Vec<Weekday>,
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours {
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(17, 30, 0).unwrap_or_default(),
            days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
        }
    }
}

impl WorkingHours {
    /// From the settings `working_hours` (`08:00-17:30`) and `working_days` (`1,2,3,4,5`,
    /// Monday = 1). `None` when either is malformed.
    pub fn parse(hours: &str, days: &str) -> Option<WorkingHours> {
        let (a, b) = hours.trim().split_once('-')?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
        if end <= start {
            return None;
        }
        let mut list = Vec::new();
        for d in days.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let n: u8 = d.parse().ok()?;
            let day = match n {
                1 => Weekday::Mon,
                2 => Weekday::Tue,
                3 => Weekday::Wed,
                4 => Weekday::Thu,
                5 => Weekday::Fri,
                6 => Weekday::Sat,
                7 => Weekday::Sun,
                _ => return None,
            };
            if !list.contains(&day) {
                list.push(day);
            }
        }
        if list.is_empty() {
            return None;
        }
        Some(WorkingHours { start, end, days: list })
    }

    /// The settings form of these hours: (`working_hours`, `working_days`).
    pub fn to_settings(&self) -> (String, String) {
        let days = self.days.iter().map(|d| d.number_from_monday().to_string()).collect::<Vec<_>>().join(",");
        (format!("{}-{}", self.start.format("%H:%M"), self.end.format("%H:%M")), days)
    }

    pub fn is_working(&self, local: NaiveDateTime) -> bool {
        self.days.contains(&local.weekday()) && local.time() >= self.start && local.time() < self.end
    }

    /// The next moment working hours begin at or after `local` (itself, when inside them).
    pub fn next_start(&self, local: NaiveDateTime) -> NaiveDateTime {
        if self.is_working(local) {
            return local;
        }
        let mut day = local.date();
        if local.time() >= self.start {
            day = day.succ_opt().unwrap_or(day);
        }
        for _ in 0..8 {
            if self.days.contains(&day.weekday()) {
                return day.and_time(self.start);
            }
            day = day.succ_opt().unwrap_or(day);
        }
        local
    }

    /// `minutes` of working time after `local` (an SLA clock on the working-hours calendar):
    /// time outside working hours does not count.
    pub fn add_working(&self, local: NaiveDateTime, minutes: i64) -> NaiveDateTime {
        let mut t = self.next_start(local);
        let mut left = minutes.max(0);
        // Bounded: even a one-day week gets through years of minutes in this many steps.
        for _ in 0..5000 {
            let close = t.date().and_time(self.end);
            let today = (close - t).num_minutes();
            if left <= today {
                return t + Duration::minutes(left);
            }
            left -= today;
            t = self.next_start(close);
        }
        t + Duration::minutes(left)
    }

    /// When a missed call received at `local` must have been called back: `minutes` after
    /// it in working hours, or `minutes` after the next opening when it came after hours.
    pub fn callback_due(&self, local: NaiveDateTime, minutes: i64) -> NaiveDateTime {
        self.next_start(local) + Duration::minutes(minutes)
    }
}

/// A call event from a PBX or cloud call centre (`POST /api/v1/telephony/calls`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CallEvent {
    /// The calling number.
    pub caller: Option<String>,
    /// The called number (our line, or the school's on an outbound call).
    pub callee: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    /// Absent: nobody answered — a missed call.
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The agent who took (or made) the call; the PBX's own user when absent.
    pub agent_username: Option<String>,
    /// `inbound` (default) or `outbound`.
    pub direction: Option<String>,
    /// The PBX's id for the call: a repeated event with the same id is recorded once.
    pub call_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub caller: String,
    pub callee: String,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub agent_username: Option<String>,
    pub direction: Direction,
    pub call_id: Option<String>,
}

impl Call {
    /// The school's number: the caller of an inbound call, the callee of an outbound one.
    pub fn school_phone(&self) -> &str {
        match self.direction {
            Direction::Inbound => &self.caller,
            Direction::Outbound => &self.callee,
        }
    }
    pub fn wait_seconds(&self) -> i32 {
        let until = self.answered_at.unwrap_or(self.ended_at);
        i32::try_from((until - self.started_at).num_seconds().max(0)).unwrap_or(i32::MAX)
    }
    pub fn talk_seconds(&self) -> Option<i32> {
        self.answered_at.map(|a| i32::try_from((self.ended_at - a).num_seconds().max(0)).unwrap_or(i32::MAX))
    }
}

impl CallEvent {
    pub fn validate(&self) -> Result<Call, FieldErrors> {
        let mut e = FieldErrors::default();
        let caller = required(&mut e, "caller", self.caller.as_deref(), 30);
        let callee = required(&mut e, "callee", self.callee.as_deref(), 30);
        let direction =
            parse_enum(&mut e, "direction", self.direction.as_deref(), Direction::parse).unwrap_or(Direction::Inbound);
        if self.started_at.is_none() {
            e.push("started_at", "required");
        }
        if self.ended_at.is_none() {
            e.push("ended_at", "required");
        }
        let agent_username = optional(&mut e, "agent_username", self.agent_username.as_deref(), 50);
        let call_id = optional(&mut e, "call_id", self.call_id.as_deref(), 100);
        if let (Some(s), Some(end)) = (self.started_at, self.ended_at) {
            if end < s {
                e.push("ended_at", "date_order");
            }
            if let Some(a) = self.answered_at
                && (a < s || a > end)
            {
                e.push("answered_at", "date_order");
            }
        }
        match (self.started_at, self.ended_at) {
            (Some(started_at), Some(ended_at)) if e.is_empty() => Ok(Call {
                caller,
                callee,
                started_at,
                answered_at: self.answered_at,
                ended_at,
                agent_username: agent_username.map(|u| u.to_lowercase()),
                direction,
                call_id,
            }),
            _ => Err(e),
        }
    }
}

pub use crate::customers::phone_digits;

/// What calling a school back about a contact answers (§2.2): its missed call, or its
/// complaint once reviewed and not yet closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackFor {
    MissedCall,
    Complaint,
    /// A consultation the engineer answered: the agent passes the answer on (§2.4(1)).
    Consultation,
}

/// What a contact is waiting for, for [`callback_for`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackFacts {
    pub answered: bool,
    pub direction: Direction,
    pub called_back: bool,
    pub category: Category,
    pub reviewed: bool,
    pub closed: bool,
    /// Handed to the engineer and answered by him.
    pub engineer_replied: bool,
}

/// The one rule for calling back: what the call back would answer, or why there is
/// nothing to call back (`complaint_unreviewed`, `nothing_to_call_back`). Used both to
/// offer the form and to accept it.
pub fn callback_for(f: CallbackFacts) -> Result<CallbackFor, &'static str> {
    let CallbackFacts { answered, direction, called_back, category, reviewed, closed, engineer_replied } = f;
    if !answered && direction == Direction::Inbound && !called_back {
        Ok(CallbackFor::MissedCall)
    } else if category == Category::Complaint && reviewed && !closed {
        Ok(CallbackFor::Complaint)
    } else if engineer_replied && !closed {
        Ok(CallbackFor::Consultation)
    } else if category == Category::Complaint && !reviewed {
        Err("complaint_unreviewed")
    } else {
        Err("nothing_to_call_back")
    }
}

/// A missed-call rate as a share of inbound calls, 0 when there were none.
pub fn missed_rate(missed: i64, inbound: i64) -> f64 {
    if inbound <= 0 { 0.0 } else { missed as f64 / inbound as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        // 2026-11-23 is a Monday.
        NaiveDate::from_ymd_opt(2026, 11, d).and_then(|x| x.and_hms_opt(h, m, 0)).unwrap()
    }

    #[test]
    fn enums_round_trip_and_reject_unknown_values() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Channel::ALL.len(), 7);
        assert_eq!(Category::ALL.len(), 5);
        assert!(Channel::parse("pigeon").is_none());
        assert!(Category::parse("praise").is_none());
    }

    #[test]
    fn a_contact_needs_channel_category_and_content() {
        let now = Utc::now();
        let e = ContactInput::default().validate(now).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert!(fields.contains(&("channel", "required")));
        assert!(fields.contains(&("category", "required")));
        assert!(fields.contains(&("content", "required")));
        let bad = ContactInput {
            channel: Some("pigeon".into()),
            category: Some("praise".into()),
            content: Some("x".into()),
            ..Default::default()
        };
        let e = bad.validate(now).unwrap_err();
        assert_eq!(e.0.len(), 2);
        assert!(e.0.iter().all(|f| f.code == "unknown_value"));
        let ok = ContactInput {
            channel: Some("phone".into()),
            category: Some("repair".into()),
            content: Some("投影机不亮".into()),
            caller_phone: Some("0566-1234567".into()),
            ..Default::default()
        }
        .validate(now)
        .unwrap();
        assert!(ok.answered);
        assert_eq!(ok.received_at, now);
        assert_eq!(ok.direction, Direction::Inbound);
    }

    #[test]
    fn a_missed_call_needs_no_content_but_a_promise_cannot_precede_the_call() {
        let now = Utc::now();
        let missed = ContactInput {
            channel: Some("phone".into()),
            category: Some("other".into()),
            answered: Some(false),
            ..Default::default()
        };
        assert!(missed.validate(now).is_ok());
        let early = ContactInput {
            channel: Some("phone".into()),
            category: Some("repair".into()),
            content: Some("x".into()),
            promised_at: Some(now - Duration::hours(1)),
            ..Default::default()
        };
        assert_eq!(early.validate(now).unwrap_err().0[0].field, "promised_at");
    }

    #[test]
    fn working_hours_decide_after_hours_and_callback_due() {
        let w = WorkingHours::default();
        assert!(w.is_working(at(23, 9, 0)));
        assert!(!w.is_working(at(23, 7, 59)));
        assert!(!w.is_working(at(23, 17, 30)), "the end is exclusive");
        assert!(!w.is_working(at(28, 10, 0)), "Saturday");
        // In hours: 30 minutes later.
        assert_eq!(w.callback_due(at(23, 9, 0), 30), at(23, 9, 30));
        // Monday evening: Tuesday 08:30.
        assert_eq!(w.callback_due(at(23, 20, 0), 30), at(24, 8, 30));
        // Early morning: the same day's opening.
        assert_eq!(w.callback_due(at(24, 6, 0), 30), at(24, 8, 30));
        // Friday night and the weekend: Monday.
        assert_eq!(w.callback_due(at(27, 18, 0), 30), at(30, 8, 30));
        assert_eq!(w.callback_due(at(29, 12, 0), 30), at(30, 8, 30));
    }

    #[test]
    fn sla_clocks_on_the_calendar_skip_nights_and_weekends() {
        let w = WorkingHours::default();
        // Tuesday 16:30 + 2 h: one hour today (to 17:30), one tomorrow from 08:00.
        assert_eq!(w.add_working(at(24, 16, 30), 120), at(25, 9, 0));
        // Inside one day.
        assert_eq!(w.add_working(at(24, 9, 0), 60), at(24, 10, 0));
        // Friday 17:00 + 2 h: half an hour on Friday, the rest on Monday.
        assert_eq!(w.add_working(at(27, 17, 0), 120), at(30, 9, 30));
        // A Saturday report starts counting on Monday at 08:00.
        assert_eq!(w.add_working(at(28, 10, 0), 30), at(30, 8, 30));
        // 3 working days of 9.5 h = 1,710 minutes from Monday 08:00: Wednesday 17:30.
        assert_eq!(w.add_working(at(23, 8, 0), 3 * 570), at(25, 17, 30));
        assert_eq!(w.add_working(at(23, 8, 0), 0), at(23, 8, 0));
    }

    #[test]
    fn working_hours_parse_and_print_back() {
        let w = WorkingHours::parse("08:30-18:00", "1,2,3,4,5,6").unwrap();
        assert_eq!(w.days.len(), 6);
        assert_eq!(w.to_settings(), ("08:30-18:00".into(), "1,2,3,4,5,6".into()));
        assert!(WorkingHours::parse("18:00-08:00", "1").is_none());
        assert!(WorkingHours::parse("08:00-17:00", "8").is_none());
        assert!(WorkingHours::parse("8h-17h", "1").is_none());
        assert!(WorkingHours::parse("08:00-17:00", "").is_none());
    }

    #[test]
    fn call_events_are_checked_and_measured() {
        let s = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
        let ev = CallEvent {
            caller: Some("0566-1234567".into()),
            callee: Some("0566-5550000".into()),
            started_at: Some(s),
            answered_at: Some(s + Duration::seconds(12)),
            ended_at: Some(s + Duration::seconds(192)),
            agent_username: Some("Agent".into()),
            ..Default::default()
        };
        let c = ev.validate().unwrap();
        assert_eq!(c.wait_seconds(), 12);
        assert_eq!(c.talk_seconds(), Some(180));
        assert_eq!(c.agent_username.as_deref(), Some("agent"));
        assert_eq!(c.school_phone(), "0566-1234567");
        let missed = CallEvent { answered_at: None, ..ev.clone() }.validate().unwrap();
        assert_eq!(missed.talk_seconds(), None);
        assert_eq!(missed.wait_seconds(), 192);
        let backwards = CallEvent { ended_at: Some(s - Duration::seconds(1)), ..ev.clone() };
        assert_eq!(backwards.validate().unwrap_err().0[0].field, "ended_at");
        let late = CallEvent { answered_at: Some(s + Duration::hours(1)), ..ev.clone() };
        assert_eq!(late.validate().unwrap_err().0[0].field, "answered_at");
        let e = CallEvent::default().validate().unwrap_err();
        assert_eq!(e.0.len(), 4);
    }

    #[test]
    fn phone_digits_and_rates() {
        assert_eq!(phone_digits("0566-123 4567"), "05661234567");
        assert_eq!(missed_rate(1, 4), 0.25);
        assert_eq!(missed_rate(0, 0), 0.0);
    }
}

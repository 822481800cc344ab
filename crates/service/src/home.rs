//! Each role's start page: the counts it begins its day with, each opening the list behind
//! it; the technician's day with where to go and whom to call; the manager's workload and
//! month. A user with several roles gets every role's part, in the order of the roles.

use crate::analysis::RectScope;
use crate::inspections::{InspectionQuery, Scope as InspScope};
use crate::requisitions::Scope;
use crate::trips::TripScope;
use crate::{Actor, Result, Services, require};
use aftercare_domain::Role;
use aftercare_domain::assessments::PenaltyStatus;
use aftercare_domain::clock::day_bounds;
use aftercare_domain::inspections::InspectionStatus;
use aftercare_store::contacts::ContactQuery;
pub use aftercare_store::customers::SiteRow;
use aftercare_store::tickets::{TicketQuery, TicketRow};
use aftercare_store::{Page, Paged};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

/// How far ahead a due time puts a ticket "at risk".
pub const AT_RISK_HOURS: i64 = 2;

/// One count on a start page and the list it opens.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Card {
    /// What is counted (`calls_to_return`, `triage`, …; the page words it).
    pub key: &'static str,
    pub count: i64,
    /// The list behind the count.
    pub href: String,
    /// Something is late: the page marks it.
    pub alert: bool,
}

/// A technician's stop of the day: the ticket, and the school's address and phone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stop {
    pub ticket: TicketRow,
    pub site: Option<SiteRow>,
}

/// A technician's load for the manager: scheduled today, and open tickets assigned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Load {
    pub user_id: i64,
    pub name: String,
    pub today: i64,
    pub open: i64,
}

/// Tickets opened this month, by status and by system (the manager's chart).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Month {
    pub first_day: NaiveDate,
    pub total: i64,
    pub by_status: Vec<(String, i64)>,
    pub by_system: Vec<(String, i64)>,
}

/// A start page.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Home {
    pub cards: Vec<Card>,
    /// The technician's stops today, in order.
    pub stops: Vec<Stop>,
    /// The technician's inspections planned for today (and under way), by town.
    pub rounds: Vec<crate::inspections::InspectionRow>,
    /// The manager's view of the technicians.
    pub workload: Vec<Load>,
    pub month: Option<Month>,
}

fn count<T>(p: Paged<T>) -> i64 {
    p.total
}

impl Services {
    /// The start page of a staff user at `now`, days bounded in the department's zone.
    pub async fn home(&self, by: &Actor, now: DateTime<Utc>) -> Result<Home> {
        require(by.is_staff())?;
        let tz = self.tz;
        let one = Page::new(Some(1), Some(1));
        let (day_from, day_to) = day_bounds(now.with_timezone(&tz).date_naive(), tz);
        let mut home = Home::default();
        let mut card = |key, count, href: &str, alert| {
            if !home.cards.iter().any(|c: &Card| c.key == key) {
                home.cards.push(Card { key, count, href: href.to_owned(), alert });
            }
        };
        let tickets = |q: TicketQuery| async move { self.count_tickets(by, q).await };
        let contacts = |q: ContactQuery| async move { self.list_contacts(by, &q, one).await.map(count) };
        let boss = by.is_admin_or_manager();

        if boss {
            let overdue = tickets(TicketQuery { overdue_at: Some(now), ..Default::default() }).await?;
            card("sla_breached", overdue, "/tickets?view=overdue", overdue > 0);
            let penalties = self.penalties(by, Some(PenaltyStatus::Proposed), one).await?.total;
            card("penalties_to_review", penalties, "/reviews", false);
            let trips = self.count_trips(by, TripScope::ToApprove).await?;
            card("trips_to_approve", trips, "/trips?view=to_approve", false);
            let proposed = self.count_rectifications(by, RectScope::Proposed).await?;
            card("rectifications_to_decide", proposed, "/rectifications?view=proposed", false);
        }
        if boss || by.has(Role::Agent) {
            let missed = contacts(ContactQuery { missed_open: true, ..Default::default() }).await?;
            let late =
                contacts(ContactQuery { missed_open: true, due_before: Some(now), ..Default::default() }).await?;
            card("calls_to_return", missed, "/contacts?view=missed", late > 0);
            card("calls_overdue", late, "/contacts?view=overdue", late > 0);
            let callbacks = tickets(TicketQuery { statuses: vec!["resolved".into()], ..Default::default() }).await?;
            card("callbacks_due", callbacks, "/callbacks", false);
            let complaints = contacts(ContactQuery { unreviewed_complaints: true, ..Default::default() }).await?;
            card("complaints_open", complaints, "/contacts?view=complaints", complaints > 0);
            let to_call = self.count_inspections(by, InspScope::ToCall, InspectionQuery::default()).await?;
            card("inspections_to_call", to_call, "/inspections?view=to_call", false);
            let to_verify = self.count_trips(by, TripScope::ToVerify).await?;
            card("trips_to_verify", to_verify, "/trips?view=to_verify", false);
            let pass_on = contacts(ContactQuery { to_pass_on: true, ..Default::default() }).await?;
            card("answers_to_pass_on", pass_on, "/contacts?view=pass_on", pass_on > 0);
        }
        if boss || by.has(Role::Engineer) {
            let triage = tickets(TicketQuery { statuses: vec!["new".into(), "triage".into()], ..Default::default() });
            card("triage", triage.await?, "/tickets?status=new,triage&sort=oldest", false);
            let dispatch = tickets(TicketQuery { statuses: vec!["to_dispatch".into()], ..Default::default() }).await?;
            card("to_dispatch", dispatch, "/dispatch", false);
            let escalated = tickets(TicketQuery { escalated: true, ..Default::default() }).await?;
            card("escalated", escalated, "/tickets?view=escalated", escalated > 0);
            let risk = (now, now + Duration::hours(AT_RISK_HOURS));
            let at_risk = tickets(TicketQuery { at_risk: Some(risk), ..Default::default() }).await?;
            card("at_risk", at_risk, "/tickets?view=at_risk&sort=due", at_risk > 0);
            let late = self.count_inspections(by, InspScope::Overdue, InspectionQuery::default()).await?;
            card("inspections_overdue", late, "/inspections?view=overdue", late > 0);
            let hazards = self.hazards(by, one).await?.total;
            card("hazards_open", hazards, "/hazards", false);
            let late = self.count_rectifications(by, RectScope::Overdue).await?;
            card("rectifications_overdue", late, "/rectifications?view=overdue", late > 0);
            let asked = contacts(ContactQuery { to_engineer_open: true, ..Default::default() }).await?;
            card("consultations", asked, "/contacts?view=to_engineer&sort=oldest", asked > 0);
            let to_review = tickets(TicketQuery { visits_to_review: true, ..Default::default() }).await?;
            card("visits_to_review", to_review, "/tickets?view=to_review&sort=updated", false);
        }
        if by.has(Role::Technician) {
            let q = TicketQuery {
                technician_id: Some(by.id.0),
                scheduled_from: Some(day_from),
                scheduled_to: Some(day_to),
                sort: Some("scheduled".into()),
                ..Default::default()
            };
            let mut day = self.list_tickets(by, q, Page::all()).await?.items;
            day.retain(|t| t.status != aftercare_domain::tickets::TicketStatus::Cancelled);
            card("my_day", day.len() as i64, "/today", false);
            let mine = tickets(TicketQuery {
                technician_id: Some(by.id.0),
                statuses: vec!["scheduled".into(), "in_progress".into(), "on_hold".into()],
                ..Default::default()
            })
            .await?;
            card("my_open", mine, "/tickets?view=mine&status=scheduled,in_progress,on_hold", false);
            home.rounds = self.rounds_of_day(by, now.with_timezone(&tz).date_naive()).await?;
            card("my_inspections", home.rounds.len() as i64, "/today", false);
            let trips = self.count_trips(by, TripScope::Mine).await?;
            card("my_trips", trips, "/trips?view=mine", false);
            let mut ids: Vec<i64> = day.iter().map(|t| t.customer_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let sites = aftercare_store::customers::sites(&self.db, &ids).await?;
            home.stops = day
                .into_iter()
                .map(|ticket| {
                    let site = sites.iter().find(|s| s.id == ticket.customer_id).cloned();
                    Stop { ticket, site }
                })
                .collect();
        }
        if boss || by.has(Role::Storekeeper) {
            let to_issue = self.list_requisitions(by, Scope::ToIssue, None, None, one).await?.total;
            card("requisitions_to_issue", to_issue, "/requisitions?scope=to_issue", false);
            let shortages = self.shortages(by, true, None).await?.len() as i64;
            card("shortages", shortages, "/stock/shortages", shortages > 0);
            let defective = self.defective_stock(by, None).await?.len() as i64;
            card("defective_waiting", defective, "/stock#defective", false);
        }
        // The manager's complaints card came with the desk's above.
        if boss {
            let open = aftercare_store::suggestions::open_count(&self.db).await?;
            card("suggestions_open", open, "/suggestions", false);
            home.workload = self.workload(by, day_from, day_to).await?;
            home.month = Some(self.month(now).await?);
        }
        Ok(home)
    }

    /// The viewer's inspections planned for `day` (not cancelled or done), town by town.
    pub async fn rounds_of_day(
        &self,
        by: &Actor,
        day: chrono::NaiveDate,
    ) -> Result<Vec<crate::inspections::InspectionRow>> {
        let q = InspectionQuery { planned_from: Some(day), planned_until: Some(day), ..Default::default() };
        let mut rows = self.list_inspections(by, InspScope::Mine, q, Page::new(Some(1), Some(50))).await?.items;
        rows.retain(|r| matches!(r.status, InspectionStatus::Planned | InspectionStatus::InProgress));
        Ok(rows)
    }

    /// Every technician's load, busiest first.
    async fn workload(&self, by: &Actor, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Load>> {
        let people = self.technicians(by).await?;
        let load = aftercare_store::tickets::technician_load(&self.db, from, to).await?;
        let mut out: Vec<Load> = people
            .into_iter()
            .map(|(user_id, name)| {
                let (today, open) =
                    load.iter().find(|(u, _, _)| *u == user_id).map(|(_, d, o)| (*d, *o)).unwrap_or((0, 0));
                Load { user_id, name, today, open }
            })
            .collect();
        out.sort_by(|a, b| (b.today, b.open).cmp(&(a.today, a.open)).then(a.name.cmp(&b.name)));
        Ok(out)
    }

    /// Tickets opened since the first of this month, by status and by system.
    async fn month(&self, now: DateTime<Utc>) -> Result<Month> {
        let tz = self.tz;
        let today = now.with_timezone(&tz).date_naive();
        let first_day = today.with_day(1).unwrap_or(today);
        let (from, _) = day_bounds(first_day, tz);
        let rows = aftercare_store::tickets::count_by_status_and_system(&self.db, from, now).await?;
        let mut m = Month { first_day, ..Default::default() };
        for (status, system, n) in rows {
            m.total += n;
            add(&mut m.by_status, status, n);
            add(&mut m.by_system, system, n);
        }
        m.by_status
            .sort_by_key(|(s, _)| aftercare_domain::tickets::TicketStatus::ALL.iter().position(|x| x.as_str() == s));
        m.by_system.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        Ok(m)
    }
}

fn add(v: &mut Vec<(String, i64)>, key: String, n: i64) {
    match v.iter_mut().find(|(k, _)| *k == key) {
        Some((_, c)) => *c += n,
        None => v.push((key, n)),
    }
}

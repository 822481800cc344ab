//! Next week's work plan (下周工作计划, manual §3.2.3, §2.4(6)): per field person and day,
//! the scheduled repairs, planned rounds and trips, and what the engineer adds by hand
//! (preventive maintenance of a fault-prone point, a site survey); published before the
//! weekly meeting; for a past week, planned against done and what slipped.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::work_plan::{PlanItemInput, PlanItemUpdate, may_plan, week_of};
use aftercare_domain::{FieldErrors, PlanItemId, Role};
use aftercare_store::work_plan as store;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

/// What an entry of the plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Repair,
    Inspection,
    Trip,
    /// Added by hand (its `kind` is in `detail`).
    Item,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Repair => "repair",
            EntryKind::Inspection => "inspection",
            EntryKind::Trip => "trip",
            EntryKind::Item => "item",
        }
    }
}

/// One thing on a person's day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanEntry {
    pub kind: EntryKind,
    pub id: i64,
    /// A number (GD…, XJ…, WC…) or the item's title.
    pub label: String,
    /// The school or town.
    pub place: Option<String>,
    /// The record's status (for an item, its kind).
    pub detail: String,
    pub done: bool,
    /// Why it did not happen (a cancellation's reason, an item's note).
    pub slipped_reason: Option<String>,
    /// `HH:MM` for a repair.
    pub time: Option<String>,
}

impl PlanEntry {
    pub fn href(&self) -> String {
        match self.kind {
            EntryKind::Repair => format!("/tickets/{}", self.id),
            EntryKind::Inspection => format!("/inspections/{}", self.id),
            EntryKind::Trip => format!("/trips/{}", self.id),
            EntryKind::Item => format!("/plan#item-{}", self.id),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonWeek {
    pub user_id: i64,
    pub name: String,
    /// Monday to Sunday.
    pub days: Vec<Vec<PlanEntry>>,
    pub planned: usize,
    pub done: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkPlan {
    /// `2026-W50`.
    pub week: String,
    pub monday: NaiveDate,
    pub days: Vec<NaiveDate>,
    pub people: Vec<PersonWeek>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
    /// The week is over (or under way): planned against done.
    pub past: bool,
}

impl Services {
    /// The week that starts on `monday`.
    pub async fn work_plan(&self, by: &Actor, monday: NaiveDate) -> Result<WorkPlan> {
        require(by.is_staff())?;
        let sunday = monday + Duration::days(6);
        let (from, _) = aftercare_domain::clock::day_bounds(monday, self.tz);
        let (_, until) = aftercare_domain::clock::day_bounds(sunday, self.tz);
        let mut people: Vec<PersonWeek> = Vec::new();
        for role in [Role::Technician, Role::Engineer] {
            for u in aftercare_store::users::with_role(&self.db, role.as_str()).await? {
                if !people.iter().any(|p| p.user_id == u.id) {
                    people.push(PersonWeek {
                        user_id: u.id,
                        name: u.display_name,
                        days: vec![Vec::new(); 7],
                        planned: 0,
                        done: 0,
                    });
                }
            }
        }
        let day_index = |d: NaiveDate| usize::try_from((d - monday).num_days()).ok().filter(|i| *i < 7);
        let mut put = |user: i64, day: NaiveDate, e: PlanEntry| {
            if let (Some(p), Some(i)) = (people.iter_mut().find(|p| p.user_id == user), day_index(day)) {
                p.planned += 1;
                p.done += usize::from(e.done);
                p.days[i].push(e);
            }
        };
        for r in store::repairs(&self.db, from, until).await? {
            let local = r.scheduled_at.with_timezone(&self.tz);
            let done = matches!(r.status.as_str(), "resolved" | "closed");
            put(
                r.user_id,
                local.date_naive(),
                PlanEntry {
                    kind: EntryKind::Repair,
                    id: r.id,
                    label: format!("{} {}", r.number, r.title),
                    place: Some(r.customer_name),
                    detail: r.status,
                    done,
                    slipped_reason: None,
                    time: Some(local.format("%H:%M").to_string()),
                },
            );
        }
        for (kind, rows) in [
            (EntryKind::Inspection, store::rounds(&self.db, monday, sunday).await?),
            (EntryKind::Trip, store::trips(&self.db, monday, sunday).await?),
            (EntryKind::Item, store::items(&self.db, monday, sunday).await?),
        ] {
            for r in rows {
                put(
                    r.user_id,
                    r.day,
                    PlanEntry {
                        kind,
                        id: r.id,
                        label: r.label,
                        place: r.place,
                        detail: r.status,
                        done: r.done,
                        slipped_reason: r.slipped_reason,
                        time: None,
                    },
                );
            }
        }
        let published = store::published(&self.db, monday).await?;
        Ok(WorkPlan {
            week: week_of(monday),
            monday,
            days: (0..7).map(|i| monday + Duration::days(i)).collect(),
            people,
            published_at: published.as_ref().map(|p| p.0),
            published_by: published.and_then(|p| p.1),
            past: monday <= self.today(),
        })
    }

    /// Adds work by hand for a field person (the engineer, the manager).
    pub async fn add_plan_item(&self, by: &Actor, input: &PlanItemInput, now: DateTime<Utc>) -> Result<i64> {
        require(may_plan(&by.roles))?;
        let i = input.validate()?;
        let field = self.trip_staff_choices(by).await?;
        if !field.iter().any(|(id, _)| *id == i.user_id) {
            return Err(FieldErrors::single("user_id", "not_found").into());
        }
        if let Some(c) = i.customer_id
            && let Err(aftercare_store::StoreError::NotFound) = aftercare_store::customers::get(&self.db, c).await
        {
            return Err(FieldErrors::single("customer_id", "not_found").into());
        }
        Ok(store::add_item(&self.db, &self.writer(by), &i, now).await?)
    }

    /// Marks an item done, or says why it slipped.
    pub async fn update_plan_item(&self, by: &Actor, id: PlanItemId, input: &PlanItemUpdate) -> Result<()> {
        require(may_plan(&by.roles))?;
        let (done, reason) = input.validate()?;
        store::update_item(&self.db, &self.writer(by), id.0, done, reason.as_deref()).await.map_err(|e| match e {
            aftercare_store::StoreError::NotFound => ServiceError::NotFound,
            other => other.into(),
        })
    }

    /// Publishes the week (before the weekly meeting).
    pub async fn publish_plan(&self, by: &Actor, monday: NaiveDate, now: DateTime<Utc>) -> Result<()> {
        require(may_plan(&by.roles))?;
        Ok(store::publish(&self.db, &self.writer(by), monday, now).await?)
    }
}

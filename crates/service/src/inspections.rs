//! Periodic inspections (巡检, manual §2.3, form 2): the checklist templates, planning one
//! school or a town's term at once, the round (results line by line, the school's
//! questions, photos, the signature), the findings a completion turns into tickets, the
//! hazard list, the agent's callback and the numbers.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::inspection_plan::{PlanError, School, spread, working_days};
use aftercare_domain::inspections::{
    ChecklistItemInput, CompleteInput, Device, InspectionAction, InspectionCallbackInput, InspectionContext,
    InspectionError, InspectionInput, InspectionStatus, LineResult, Phase, PhaseThresholds, PlanInput, PlanSettings,
    PlanSettingsInput, QuestionInput, ResultsInput, lines_for, may, may_record, proposed_phase, transition,
};
use aftercare_domain::notifications::NotificationKind;
use aftercare_domain::tickets::{self as rules, TicketSource};
use aftercare_domain::validation::clean;
use aftercare_domain::{ChecklistItemId, CustomerId, FieldErrors, InspectionId, InspectionItemId, Role, System};
use aftercare_store::inspections::{self as store, Completing, PlannedInspection, PlannedItem};
use aftercare_store::notifications::NewNotification;
use aftercare_store::tickets::TicketWrite;
use aftercare_store::{Page, Paged, StoreError};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;

pub use aftercare_store::inspections::{
    AskedRow, AvailabilityRow, ChecklistRow, CompletionBy, CompletionRow, EquipmentLineRow, HazardRow,
    InspectionItemRow, InspectionQuery, InspectionRow, QuestionRow,
};

/// Rounds one technician takes a day unless the setting says otherwise.
pub const DEFAULT_DAILY_LIMIT: usize = 3;

/// An inspection as its page and the API show it: the row, its lines, the school's
/// questions, the photos, and what the viewer may do now. Five queries, whatever the
/// number of lines.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionView {
    pub inspection: InspectionRow,
    pub items: Vec<InspectionItemRow>,
    pub questions: Vec<QuestionRow>,
    /// (photo id, line id).
    pub photos: Vec<(i64, Option<i64>)>,
    pub actions: Vec<InspectionAction>,
    /// Results, questions and photos may be recorded now.
    pub can_record: bool,
    /// The agent may record the callback now.
    pub can_callback: bool,
}

impl InspectionView {
    pub fn can(&self, a: InspectionAction) -> bool {
        self.actions.contains(&a)
    }
    /// Lines per system, in order (the form groups them so).
    pub fn by_system(&self) -> Vec<(System, Vec<&InspectionItemRow>)> {
        let mut out: Vec<(System, Vec<&InspectionItemRow>)> = Vec::new();
        for l in &self.items {
            match out.iter_mut().find(|(s, _)| *s == l.system) {
                Some((_, v)) => v.push(l),
                None => out.push((l.system, vec![l])),
            }
        }
        out
    }
    pub fn photos_of(&self, line: &i64) -> Vec<i64> {
        self.photos.iter().filter(|(_, l)| *l == Some(*line)).map(|(p, _)| *p).collect()
    }
    /// Counts for the form: (judged normal, abnormal = fault or hazard).
    pub fn counts(&self) -> (usize, usize) {
        let ok = self.items.iter().filter(|l| l.result == Some(LineResult::Ok)).count();
        let bad =
            self.items.iter().filter(|l| matches!(l.result, Some(LineResult::Fault | LineResult::Hazard))).count();
        (ok, bad)
    }
}

/// The figures of a period: a page of groups, how many groups there are, the totals over
/// all of them, and device availability now for the groups shown.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionReport {
    pub rows: Vec<CompletionRow>,
    pub groups: i64,
    pub totals: CompletionRow,
    pub availability: Vec<AvailabilityRow>,
}

/// What a plan request made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlannedRound {
    pub id: i64,
    pub number: String,
    pub customer_id: i64,
    pub phase: Phase,
    pub planned_on: NaiveDate,
    pub technician_ids: Vec<i64>,
    pub lines: usize,
}

/// Which inspections a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Everything the viewer may see, latest planned first.
    #[default]
    All,
    /// Mine (a technician's), soonest first.
    Mine,
    /// Planned or under way past their day.
    Overdue,
    /// Completed, waiting for the agent's callback.
    ToCall,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "all" | "" => Some(Scope::All),
            "mine" => Some(Scope::Mine),
            "overdue" => Some(Scope::Overdue),
            "to_call" => Some(Scope::ToCall),
            _ => None,
        }
    }
}

fn action_key(a: InspectionAction) -> &'static str {
    match a {
        InspectionAction::Start => "inspection_start",
        InspectionAction::Complete => "inspection_complete",
        InspectionAction::Cancel => "inspection_cancel",
    }
}

fn status_key(s: InspectionStatus) -> &'static str {
    match s {
        InspectionStatus::Planned => "inspection_planned",
        InspectionStatus::InProgress => "inspection_in_progress",
        InspectionStatus::Completed => "inspection_completed",
        InspectionStatus::Cancelled => "inspection_cancelled",
    }
}

/// A refused action as the API answers it: 403 for the wrong role, 409 with the reason for
/// the state or an open line, 422 naming the missing signature.
fn refused(e: InspectionError, action: InspectionAction) -> ServiceError {
    match e {
        InspectionError::Forbidden { .. } => ServiceError::Forbidden,
        InspectionError::IllegalState { status, .. } => ServiceError::Transition {
            action: action_key(action),
            status: status_key(status),
            reason: Some(status_key(status)),
        },
        InspectionError::OpenLines(_) => ServiceError::Transition {
            action: action_key(action),
            status: status_key(InspectionStatus::InProgress),
            reason: Some("inspection_open_lines"),
        },
        InspectionError::SignatureRequired => FieldErrors::single("signature.signer_name", "required").into(),
    }
}

/// A referenced record that does not exist is a field error, not a 404 of the request.
fn missing(field: &'static str) -> impl FnOnce(StoreError) -> ServiceError {
    move |e| match e {
        StoreError::MissingReference { .. } | StoreError::NotFound => {
            ServiceError::Invalid(FieldErrors::single(field, "not_found"))
        }
        other => other.into(),
    }
}

fn decode_png(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

impl Services {
    fn inspection_context(by: &Actor, row: &InspectionRow, signed: bool) -> InspectionContext {
        InspectionContext {
            roles: by.roles.clone(),
            is_assigned: row.is_assigned(by.id.0),
            open_lines: usize::try_from(row.open_lines).unwrap_or(usize::MAX),
            signed,
        }
    }

    async fn setting_number<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        aftercare_store::settings::setting(&self.db, key)
            .await
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// Years in service after which a school is proposed the middle and the late phase.
    pub async fn phase_thresholds(&self) -> PhaseThresholds {
        let d = PhaseThresholds::default();
        PhaseThresholds {
            mid_after_years: self.setting_number("inspection_mid_after_years", d.mid_after_years).await,
            late_after_years: self.setting_number("inspection_late_after_years", d.late_after_years).await,
        }
    }

    /// How rounds are planned: the phase thresholds and the daily limit.
    pub async fn plan_settings(&self, by: &Actor) -> Result<PlanSettings> {
        require(by.is_staff())?;
        let t = self.phase_thresholds().await;
        let limit = self.setting_number("inspection_daily_limit", DEFAULT_DAILY_LIMIT).await;
        Ok(PlanSettings {
            mid_after_years: t.mid_after_years,
            late_after_years: t.late_after_years,
            daily_limit: i64::try_from(limit).unwrap_or(i64::MAX),
        })
    }

    /// Sets them (engineer, manager); rounds already planned keep their phase and day.
    pub async fn set_plan_settings(&self, by: &Actor, input: &PlanSettingsInput) -> Result<PlanSettings> {
        require(by.has_any(&[Role::Engineer]))?;
        let s = input.validate()?;
        let w = self.writer(by);
        for (k, v) in [
            ("inspection_mid_after_years", s.mid_after_years.to_string()),
            ("inspection_late_after_years", s.late_after_years.to_string()),
            ("inspection_daily_limit", s.daily_limit.to_string()),
        ] {
            aftercare_store::settings::set_setting(&self.db, &w, k, &v).await?;
        }
        Ok(s)
    }

    /// The checklist templates (staff read them; the engineer edits them).
    pub async fn checklist(&self, by: &Actor) -> Result<Vec<ChecklistRow>> {
        require(by.is_staff())?;
        Ok(store::checklist(&self.db, false).await?)
    }

    /// Adds (`id` `None`) or changes a template item, returning its current version's id;
    /// inspections already planned keep the version they were planned with. A superseded
    /// version is "not found": the page and the API edit the current one.
    pub async fn save_checklist_item(
        &self,
        by: &Actor,
        id: Option<ChecklistItemId>,
        input: &ChecklistItemInput,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        require(by.has_any(&[Role::Engineer]))?;
        let item = input.validate()?;
        // The first edit of a fresh install finds the seeded list to edit.
        store::checklist(&self.db, false).await?;
        store::save_checklist_item(&self.db, &self.writer(by), id.map(|i| i.0), &item, active, now).await.map_err(|e| {
            match e {
                StoreError::Duplicate { .. } => FieldErrors::single("code", "duplicate").into(),
                other => other.into(),
            }
        })
    }

    /// The lines of rounds at `schools`: per school, the phase (chosen, or proposed from the
    /// age of its oldest device in the systems) and the lines of the active template.
    async fn rounds_for(
        &self,
        slots: &[(i64, NaiveDate, Vec<i64>)],
        phase: Option<Phase>,
        systems: &[System],
    ) -> Result<Vec<PlannedInspection>> {
        let rows = store::checklist(&self.db, true).await?;
        let template: Vec<_> = rows.iter().map(ChecklistRow::item).collect();
        // The current version of each (system, code): what a line points at.
        let version: HashMap<(System, &str), i64> = rows.iter().map(|r| ((r.system, r.code.as_str()), r.id)).collect();
        let ids: Vec<i64> = slots.iter().map(|(c, _, _)| *c).collect();
        let mut devices: HashMap<i64, Vec<(Device, Option<NaiveDate>)>> = HashMap::new();
        for (school, id, system, installed) in store::devices_of(&self.db, &ids).await? {
            if let Some(system) = System::parse(&system) {
                devices.entry(school).or_default().push((Device { id, system }, installed));
            }
        }
        let thresholds = self.phase_thresholds().await;
        let today = Utc::now().date_naive();
        let mut out = Vec::with_capacity(slots.len());
        for (school, day, technicians) in slots {
            let mine = devices.get(school).map(Vec::as_slice).unwrap_or_default();
            let systems: Vec<System> = if systems.is_empty() {
                let mut s: Vec<System> = mine.iter().map(|(d, _)| d.system).collect();
                s.sort_by_key(|x| System::ALL.iter().position(|y| y == x));
                s.dedup();
                if s.is_empty() { System::ALL.to_vec() } else { s }
            } else {
                systems.to_vec()
            };
            let oldest = mine.iter().filter(|(d, _)| systems.contains(&d.system)).filter_map(|(_, i)| *i).min();
            let years = oldest.map(|d| (today - d).num_days() as f64 / 365.25);
            let phase = phase.unwrap_or_else(|| proposed_phase(years, thresholds));
            let devs: Vec<Device> = mine.iter().map(|(d, _)| *d).collect();
            let items = lines_for(&template, phase, &systems, &devs)
                .into_iter()
                .filter_map(|l| {
                    let item_id = *version.get(&(l.item.system, l.item.code.as_str()))?;
                    Some(PlannedItem { system: l.item.system, equipment_id: l.equipment_id, item_id })
                })
                .collect();
            out.push(PlannedInspection {
                customer_id: *school,
                phase,
                systems,
                planned_on: *day,
                technician_ids: technicians.clone(),
                items,
            });
        }
        Ok(out)
    }

    /// The technicians named, each an active technician (`technician_ids[i]: not_found`
    /// otherwise); none named: every active technician.
    async fn inspectors(&self, named: &[i64], default_all: bool) -> Result<Vec<i64>> {
        let all: Vec<i64> = aftercare_store::users::with_role(&self.db, Role::Technician.as_str())
            .await?
            .iter()
            .map(|u| u.id)
            .collect();
        if named.is_empty() && default_all {
            return Ok(all);
        }
        let mut e = FieldErrors::default();
        for (i, t) in named.iter().enumerate() {
            if !all.contains(t) {
                e.push(format!("technician_ids[{i}]"), "not_found");
            }
        }
        e.in_area("inspections").into_result(named.to_vec()).map_err(Into::into)
    }

    async fn tell_planned(&self, rounds: &[PlannedRound], now: DateTime<Utc>) {
        let mut per: HashMap<i64, (usize, NaiveDate)> = HashMap::new();
        for r in rounds {
            for t in &r.technician_ids {
                let e = per.entry(*t).or_insert((0, r.planned_on));
                e.0 += 1;
                e.1 = e.1.min(r.planned_on);
            }
        }
        let list: Vec<NewNotification> = per
            .into_iter()
            .map(|(user_id, (n, first))| NewNotification {
                user_id,
                kind: NotificationKind::InspectionPlanned,
                args: serde_json::json!({"count": n, "first": first.to_string()}),
            })
            .collect();
        if let Err(e) = aftercare_store::notifications::notify(&self.db, None, &list, now).await {
            tracing::warn!("notifying the planned inspections: {e}");
        }
    }

    /// Plans one school's inspection (engineer, manager).
    pub async fn plan_inspection(
        &self,
        by: &Actor,
        input: &InspectionInput,
        now: DateTime<Utc>,
    ) -> Result<InspectionView> {
        require(by.has_any(&[Role::Engineer]))?;
        let n = input.validate()?;
        let technicians = self.inspectors(&n.technician_ids, false).await?;
        if store::schools(&self.db, None, &[n.customer_id]).await?.is_empty() {
            return Err(FieldErrors::single("customer_id", "not_found").into());
        }
        let rounds = self.rounds_for(&[(n.customer_id, n.planned_on, technicians)], n.phase, &n.systems).await?;
        let made =
            store::create_many(&self.db, &self.writer(by), &rounds, now).await.map_err(missing("customer_id"))?;
        let Some((id, number)) = made.first().cloned() else { return Err(ServiceError::NotFound) };
        let r = &rounds[0];
        self.tell_planned(
            &[PlannedRound {
                id,
                number,
                customer_id: r.customer_id,
                phase: r.phase,
                planned_on: r.planned_on,
                technician_ids: r.technician_ids.clone(),
                lines: r.items.len(),
            }],
            now,
        )
        .await;
        self.inspection(by, InspectionId(id)).await
    }

    /// Plans many schools at once: a town's or a list's, spread over the working days of
    /// the range and the technicians (a town's schools together, nobody over the daily
    /// limit counting what he already has).
    pub async fn plan_inspections(
        &self,
        by: &Actor,
        input: &PlanInput,
        now: DateTime<Utc>,
    ) -> Result<Vec<PlannedRound>> {
        require(by.has_any(&[Role::Engineer]))?;
        let p = input.validate()?;
        let technicians = self.inspectors(&p.technician_ids, true).await?;
        let found = store::schools(&self.db, p.town.as_deref(), &p.customer_ids).await?;
        let mut e = FieldErrors::default();
        for (i, c) in p.customer_ids.iter().enumerate() {
            if !found.iter().any(|(id, _)| id == c) {
                e.push(format!("customer_ids[{i}]"), "not_found");
            }
        }
        if found.is_empty() && p.customer_ids.is_empty() {
            e.push("town", "not_found");
        }
        e.in_area("inspections").into_result(())?;
        let days = working_days(p.from, p.until);
        let booked: HashMap<(i64, NaiveDate), usize> = store::booked(&self.db, p.from, p.until)
            .await?
            .into_iter()
            .map(|(t, d, n)| ((t, d), usize::try_from(n).unwrap_or(0)))
            .collect();
        let limit = self.setting_number("inspection_daily_limit", DEFAULT_DAILY_LIMIT).await;
        let schools: Vec<School> = found.iter().map(|(id, town)| School { id: *id, town: town.clone() }).collect();
        let slots = spread(&schools, &days, &technicians, limit, &booked).map_err(|e| -> ServiceError {
            match e {
                PlanError::NoDays => FieldErrors::single("planned_until", "no_working_day").into(),
                PlanError::NoTechnicians => FieldErrors::single("technician_ids", "required").into(),
                PlanError::TooMany { .. } => FieldErrors::single("planned_until", "too_many_rounds").into(),
            }
        })?;
        let slots: Vec<(i64, NaiveDate, Vec<i64>)> =
            slots.iter().map(|s| (s.customer_id, s.day, vec![s.technician_id])).collect();
        let rounds = self.rounds_for(&slots, p.phase, &p.systems).await?;
        let made = store::create_many(&self.db, &self.writer(by), &rounds, now).await?;
        let out: Vec<PlannedRound> = made
            .into_iter()
            .zip(&rounds)
            .map(|((id, number), r)| PlannedRound {
                id,
                number,
                customer_id: r.customer_id,
                phase: r.phase,
                planned_on: r.planned_on,
                technician_ids: r.technician_ids.clone(),
                lines: r.items.len(),
            })
            .collect();
        self.tell_planned(&out, now).await;
        Ok(out)
    }

    /// One inspection with its lines, questions, photos and the actions open to the viewer
    /// (a school only its own: others are "not found").
    pub async fn inspection(&self, by: &Actor, id: InspectionId) -> Result<InspectionView> {
        let row = store::get(&self.db, id.0).await?;
        if !by.can_see_customer(CustomerId(row.customer_id)) {
            return Err(ServiceError::NotFound);
        }
        let items = store::items(&self.db, id.0).await?;
        let questions = store::questions(&self.db, id.0).await?;
        let photos = store::photos(&self.db, id.0).await?;
        // Buttons: what the rule allows now (complete is offered while lines are open; the
        // page says which are).
        let ctx = InspectionContext { open_lines: 0, signed: true, ..Self::inspection_context(by, &row, true) };
        let actions = [InspectionAction::Start, InspectionAction::Complete, InspectionAction::Cancel]
            .into_iter()
            .filter(|a| transition(row.status, *a, &ctx).is_ok())
            .collect();
        let can_record = may_record(row.status, &ctx);
        let can_callback =
            by.has_any(&[Role::Agent]) && row.status == InspectionStatus::Completed && row.callback_at.is_none();
        Ok(InspectionView { inspection: row, items, questions, photos, actions, can_record, can_callback })
    }

    pub async fn list_inspections(
        &self,
        by: &Actor,
        scope: Scope,
        mut q: InspectionQuery,
        page: Page,
    ) -> Result<Paged<InspectionRow>> {
        q.scope = by.customer_scope().map(|c| c.0);
        match scope {
            Scope::All => {}
            Scope::Mine => {
                q.technician_id = Some(by.id.0);
                q.soonest_first = true;
            }
            Scope::Overdue => {
                q.overdue_before = Some(self.today());
                q.soonest_first = true;
            }
            Scope::ToCall => q.to_call = true,
        }
        Ok(store::list(&self.db, &q, page).await?)
    }

    /// How many a list would show (the home cards).
    pub async fn count_inspections(&self, by: &Actor, scope: Scope, mut q: InspectionQuery) -> Result<i64> {
        q.scope = by.customer_scope().map(|c| c.0);
        match scope {
            Scope::All => {}
            Scope::Mine => q.technician_id = Some(by.id.0),
            Scope::Overdue => q.overdue_before = Some(self.today()),
            Scope::ToCall => q.to_call = true,
        }
        Ok(store::count(&self.db, &q).await?)
    }

    /// Today in the department's zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.tz).date_naive()
    }

    async fn acting_on(&self, by: &Actor, id: InspectionId) -> Result<InspectionRow> {
        let row = store::get(&self.db, id.0).await?;
        if !by.can_see_customer(CustomerId(row.customer_id)) {
            return Err(ServiceError::NotFound);
        }
        Ok(row)
    }

    /// Start or cancel (with a reason).
    pub async fn inspection_action(
        &self,
        by: &Actor,
        id: InspectionId,
        action: InspectionAction,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<InspectionView> {
        let row = self.acting_on(by, id).await?;
        let ctx = Self::inspection_context(by, &row, false);
        if action == InspectionAction::Complete {
            return Err(ServiceError::Transition {
                action: action_key(action),
                status: status_key(row.status),
                reason: Some("inspection_needs_signature"),
            });
        }
        let to = transition(row.status, action, &ctx).map_err(|e| refused(e, action))?;
        let reason = clean(reason);
        if action == InspectionAction::Cancel {
            match &reason {
                None => return Err(FieldErrors::single("reason", "required").into()),
                Some(r) if r.chars().count() > 500 => return Err(FieldErrors::single("reason", "too_long").into()),
                Some(_) => {}
            }
        }
        let from = [row.status];
        store::set_status(&self.db, &self.writer(by), id.0, &from, to, reason.as_deref(), now).await?;
        self.inspection(by, id).await
    }

    /// Saves lines' results (some at a time: each line as it is done). A line of another
    /// inspection is `items[i].item_id: not_found`; nothing is written on any error.
    pub async fn record_results(
        &self,
        by: &Actor,
        id: InspectionId,
        input: &ResultsInput,
        now: DateTime<Utc>,
    ) -> Result<Vec<InspectionItemRow>> {
        let row = self.acting_on(by, id).await?;
        self.may_record_on(by, &row)?;
        let results = input.validate()?;
        let lines = store::items(&self.db, id.0).await?;
        let mut e = FieldErrors::default();
        for (i, r) in results.iter().enumerate() {
            if !lines.iter().any(|l| l.id == r.item_id) {
                e.push(format!("items[{i}].item_id"), "not_found");
            }
        }
        e.in_area("inspections").into_result(())?;
        store::record(&self.db, &self.writer(by), id.0, &results, now).await?;
        let changed: Vec<i64> = results.iter().map(|r| r.item_id).collect();
        Ok(store::items(&self.db, id.0).await?.into_iter().filter(|l| changed.contains(&l.id)).collect())
    }

    fn may_record_on(&self, by: &Actor, row: &InspectionRow) -> Result<()> {
        let ctx = Self::inspection_context(by, row, false);
        if !may(InspectionAction::Start, &ctx) {
            return Err(ServiceError::Forbidden);
        }
        if !may_record(row.status, &ctx) {
            return Err(ServiceError::Transition {
                action: "inspection_record",
                status: status_key(row.status),
                reason: Some(status_key(row.status)),
            });
        }
        Ok(())
    }

    /// A question the school asked on the round and the answer given.
    pub async fn add_inspection_question(
        &self,
        by: &Actor,
        id: InspectionId,
        input: &QuestionInput,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let row = self.acting_on(by, id).await?;
        self.may_record_on(by, &row)?;
        let (q, a) = input.validate()?;
        Ok(store::add_question(&self.db, &self.writer(by), id.0, &q, a.as_deref(), now).await?)
    }

    /// A photo taken on the round, of a line or of the whole; only checked raster images.
    pub async fn add_inspection_photo(
        &self,
        by: &Actor,
        id: InspectionId,
        line: Option<InspectionItemId>,
        data: &[u8],
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let row = self.acting_on(by, id).await?;
        self.may_record_on(by, &row)?;
        if data.len() > crate::attachments::MAX_ATTACHMENT_BYTES {
            return Err(FieldErrors::single("photos", "too_long").into());
        }
        let ct = crate::attachments::sniff_image(data).ok_or_else(|| FieldErrors::single("photos", "not_image"))?;
        if let Some(l) = line
            && !store::items(&self.db, id.0).await?.iter().any(|x| x.id == l.0)
        {
            return Err(FieldErrors::single("item_id", "not_found").into());
        }
        Ok(store::add_photo(&self.db, id.0, line.map(|l| l.0), ct, data, now).await?)
    }

    pub async fn inspection_photo(&self, by: &Actor, photo: i64) -> Result<(String, Vec<u8>)> {
        // Whose it is first, so another school's photo is never read at all.
        let (_, school) = store::photo_owner(&self.db, photo).await?.ok_or(ServiceError::NotFound)?;
        if !by.can_see_customer(CustomerId(school)) {
            return Err(ServiceError::NotFound);
        }
        store::photo(&self.db, photo).await?.ok_or(ServiceError::NotFound)
    }

    pub async fn inspection_signature(&self, by: &Actor, id: InspectionId) -> Result<Vec<u8>> {
        let school = store::school_of(&self.db, id.0).await?.ok_or(ServiceError::NotFound)?;
        if !by.can_see_customer(CustomerId(school)) {
            return Err(ServiceError::NotFound);
        }
        store::signature(&self.db, id.0).await?.ok_or(ServiceError::NotFound)
    }

    /// Completes a round: every line judged and the school's signature (409 while a line is
    /// open, 422 without a signature). Opens one ticket per fault line (source
    /// `inspection`, the device linked, urgent for critical equipment) and files the
    /// replacement suggestions, in the same transaction.
    pub async fn complete_inspection(
        &self,
        by: &Actor,
        id: InspectionId,
        input: &CompleteInput,
        now: DateTime<Utc>,
    ) -> Result<InspectionView> {
        let row = self.acting_on(by, id).await?;
        let done = input.validate(decode_png);
        let signed = done.as_ref().map(|c| c.signature.is_some()).unwrap_or(true);
        let ctx = Self::inspection_context(by, &row, signed);
        transition(row.status, InspectionAction::Complete, &ctx).map_err(|e| refused(e, InspectionAction::Complete))?;
        let done = done?;
        let Some((signer_name, png)) = done.signature else {
            return Err(FieldErrors::single("signature.signer_name", "required").into());
        };
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        let lines = store::items(&self.db, id.0).await?;
        let critical: Vec<i64> = {
            let ids: Vec<i64> = lines.iter().filter_map(|l| l.equipment_id).collect();
            aftercare_store::equipment::critical_among(&self.db, &ids).await?
        };
        let mut findings = Vec::new();
        for l in lines.iter().filter(|l| l.result == Some(LineResult::Fault)) {
            let is_critical = l.equipment_id.is_some_and(|e| critical.contains(&e));
            let priority = rules::proposed_priority(is_critical);
            let due = self.sla_due(priority, now).await?;
            let what = l.equipment_label.clone().map(|e| format!("{e}：")).unwrap_or_default();
            let mut description = format!("{} {}：{}", row.number, l.text, l.standard);
            if let Some(v) = l.value {
                description.push_str(&format!("；实测 {v}{}", l.unit.as_deref().unwrap_or_default()));
            }
            if let Some(n) = &l.note {
                description.push_str(&format!("；{n}"));
            }
            findings.push((
                l.id,
                TicketWrite {
                    customer_id: row.customer_id,
                    customer_name: row.customer_name.clone(),
                    town: row.town.clone(),
                    search_body: None,
                    equipment_ids: l.equipment_id.into_iter().collect(),
                    system: l.system,
                    title: format!("巡检异常：{what}{}", l.text).chars().take(200).collect(),
                    description: description.chars().take(4000).collect(),
                    source: TicketSource::Inspection,
                    priority,
                    reporter_name: Some(by.display_name.clone()),
                    reporter_phone: None,
                    respond_due: due.respond,
                    arrive_due: due.arrive,
                    resolve_due: due.resolve,
                    created_by: Some(by.id.0),
                    now,
                },
            ));
        }
        let suggestions = lines
            .iter()
            .filter(|l| l.suggest_replace)
            .filter_map(|l| {
                let reason = match &l.note {
                    Some(n) => format!("{} {}：{n}", row.number, l.text),
                    None => format!("{} {}", row.number, l.text),
                };
                l.equipment_id.map(|e| (e, reason.chars().take(500).collect()))
            })
            .collect();
        let c = Completing {
            signer_name,
            signature_png: png,
            summary: done.summary,
            handled_on_site: done.handled_on_site,
            findings,
            suggestions,
        };
        let made = store::complete(&self.db, &self.writer(by), id.0, &c, now).await.map_err(|e| match e {
            // A line was cleared or the round moved between the read and the write.
            StoreError::Stale => ServiceError::Stale,
            other => other.into(),
        })?;
        if !c.suggestions.is_empty() {
            self.tell_managers_of_suggestions(by, &row, c.suggestions.len(), now).await;
        }
        for t in &made {
            self.mail_school(t, "opened", &[]).await;
        }
        self.inspection(by, id).await
    }

    async fn tell_managers_of_suggestions(&self, by: &Actor, row: &InspectionRow, n: usize, now: DateTime<Utc>) {
        let Ok(managers) = aftercare_store::users::with_role(&self.db, Role::Manager.as_str()).await else { return };
        let args = serde_json::json!({"by": by.display_name, "customer": row.customer_name,
            "title": row.number, "reason": format!("{n}")});
        let list: Vec<NewNotification> = managers
            .iter()
            .map(|u| NewNotification { user_id: u.id, kind: NotificationKind::EquipmentSuggested, args: args.clone() })
            .collect();
        if let Err(e) = aftercare_store::notifications::notify(&self.db, None, &list, now).await {
            tracing::warn!("notifying the suggestions of {}: {e}", row.number);
        }
    }

    /// The agent's callback after a round (巡检回访): "did not come" alerts the managers.
    pub async fn inspection_callback(
        &self,
        by: &Actor,
        id: InspectionId,
        input: &InspectionCallbackInput,
        now: DateTime<Utc>,
    ) -> Result<InspectionView> {
        require(by.has_any(&[Role::Agent]))?;
        let row = self.acting_on(by, id).await?;
        let cb = input.validate()?;
        if row.status != InspectionStatus::Completed || row.callback_at.is_some() {
            return Err(ServiceError::Transition {
                action: "inspection_callback",
                status: status_key(row.status),
                reason: Some(if row.callback_at.is_some() { "inspection_called" } else { status_key(row.status) }),
            });
        }
        store::callback(&self.db, &self.writer(by), id.0, &cb, now).await?;
        if !cb.attended {
            let managers = aftercare_store::users::with_role(&self.db, Role::Manager.as_str()).await?;
            let args = serde_json::json!({"inspection_id": row.id, "number": row.number,
                "customer": row.customer_name, "note": cb.note});
            let list: Vec<NewNotification> = managers
                .iter()
                .map(|u| NewNotification {
                    user_id: u.id,
                    kind: NotificationKind::InspectionMissed,
                    args: args.clone(),
                })
                .collect();
            if let Err(e) = aftercare_store::notifications::notify(&self.db, None, &list, now).await {
                tracing::warn!("alerting the managers of {}: {e}", row.number);
            }
        }
        self.inspection(by, id).await
    }

    /// The hazard list (隐患清单): open hazards, oldest first; a school sees its own.
    pub async fn hazards(&self, by: &Actor, page: Page) -> Result<Paged<HazardRow>> {
        Ok(store::open_hazards(&self.db, by.customer_scope().map(|c| c.0), page).await?)
    }

    /// Marks a hazard resolved, saying how (engineer, technician, manager).
    pub async fn resolve_hazard(
        &self,
        by: &Actor,
        line: InspectionItemId,
        how: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        require(by.has_any(&[Role::Engineer, Role::Technician]))?;
        let how = clean(Some(how)).ok_or_else(|| FieldErrors::single("resolution", "required"))?;
        if how.chars().count() > 500 {
            return Err(FieldErrors::single("resolution", "too_long").into());
        }
        let h = store::hazard(&self.db, line.0).await?;
        if h.hazard_resolved_at.is_some() {
            return Err(ServiceError::Transition {
                action: "hazard_resolve",
                status: "hazard_resolved",
                reason: Some("hazard_resolved"),
            });
        }
        Ok(store::resolve_hazard(&self.db, &self.writer(by), line.0, &how, now).await?)
    }

    /// Done over planned per town, school or phase, with hazards found and resolved, and
    /// device availability now for the same towns or schools: a page of rows (by school, a
    /// county's thousands come a page at a time) and how many there are.
    pub async fn inspection_report(
        &self,
        by: &Actor,
        from: NaiveDate,
        until: NaiveDate,
        group: CompletionBy,
        page: Page,
    ) -> Result<InspectionReport> {
        require(by.is_staff())?;
        let rows = store::completion(&self.db, from, until, group, page).await?;
        let groups = store::completion_groups(&self.db, from, until, group).await?;
        let totals = store::completion_totals(&self.db, from, until).await?;
        let schools: Option<Vec<i64>> =
            (group == CompletionBy::Customer).then(|| rows.iter().filter_map(|r| r.key.parse().ok()).collect());
        let availability = store::availability(&self.db, group, schools.as_deref()).await?;
        Ok(InspectionReport { rows, groups, totals, availability })
    }

    /// The questions schools asked on the period's rounds, with the answers given (前期:
    /// reported to leadership), latest first, at most 200.
    pub async fn inspection_questions(&self, by: &Actor, from: NaiveDate, until: NaiveDate) -> Result<Vec<AskedRow>> {
        require(by.is_staff())?;
        Ok(store::questions_between(&self.db, from, until, 200).await?)
    }

    /// A period's completed rounds with their lines (the workbook), at most 2,000 rounds.
    pub async fn inspections_with_lines(
        &self,
        by: &Actor,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<(InspectionRow, Vec<InspectionItemRow>)>> {
        require(by.is_staff())?;
        Ok(store::with_lines(&self.db, from, until, 2_000).await?)
    }

    /// The inspection lines that looked at a piece of equipment, latest first.
    pub async fn equipment_inspection_lines(&self, equipment: i64) -> Result<Vec<EquipmentLineRow>> {
        Ok(store::lines_of_equipment(&self.db, equipment, 50).await?)
    }

    /// The first and last day of the month `d` is in (the calendar).
    pub fn month_of(d: NaiveDate) -> (NaiveDate, NaiveDate) {
        let first = d.with_day(1).unwrap_or(d);
        let next = if first.month() == 12 {
            NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
        };
        (first, next.and_then(|n| n.pred_opt()).unwrap_or(first))
    }
}

//! Data analysis (数据分析, manual §2.7, §2.4(4)(6)) and rectifications (整改项, §2.4(7)):
//! a period's faults grouped by system, fault type, subcategory, town, school, model,
//! technician or engineer beside the period before; the hot spots; and the rectifications
//! proposed from them, decided by the manager, tracked to done with their effect.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::analysis::{
    FaultBy, RectAction, RectContext, RectError, RectStatus, RectificationInput, may_propose, may_read, transition,
};
use aftercare_domain::clock::day_bounds;
use aftercare_domain::validation::clean;
use aftercare_domain::{FieldErrors, RectificationId, Role};
use aftercare_store::analysis::{self as store, FaultCount, MAX_GROUPS, RectQuery};
use aftercare_store::fault_months;
use aftercare_store::{Page, Paged};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;

pub use aftercare_store::analysis::{FaultRow, HotEquipment, RectificationRow};

/// A period's faults grouped one way, with the totals of the period and of the one before
/// (as long, just before it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FaultAnalysis {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: FaultBy,
    pub rows: Vec<FaultRow>,
    pub total: FaultRow,
    pub previous: FaultRow,
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
}

/// The "故障多发" list: devices with repeated faults, the models and the schools with the
/// most, worst first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hotspots {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub equipment: Vec<HotEquipment>,
    pub models: Vec<FaultRow>,
    pub schools: Vec<FaultRow>,
}

/// A kept month is counted again when its count is this old (names and towns edited
/// since; a ticket's own changes drop it at once).
pub const KEEP_HOURS: i64 = 24;

/// How many of each hot spot list.
pub const HOTSPOTS: usize = 20;
/// The days before a rectification and after it whose faults are compared.
pub const EFFECT_DAYS: i64 = 90;

/// A rectification with what the viewer may do and its effect: faults on its subject in
/// the 90 days before it was proposed, and since it was done (or accepted).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RectificationView {
    #[serde(flatten)]
    pub rectification: RectificationRow,
    pub actions: Vec<RectAction>,
    pub faults_before: i64,
    /// `None` until it is accepted.
    pub faults_after: Option<i64>,
    /// Days counted after (up to 90).
    pub days_after: i64,
}

impl RectificationView {
    pub fn can(&self, a: RectAction) -> bool {
        self.actions.contains(&a)
    }
}

/// Which rectifications a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RectScope {
    All,
    Proposed,
    Open,
    Overdue,
    Done,
    Rejected,
    Mine,
}

impl RectScope {
    pub const ALL: [RectScope; 7] = [
        RectScope::Open,
        RectScope::Proposed,
        RectScope::Overdue,
        RectScope::Mine,
        RectScope::Done,
        RectScope::Rejected,
        RectScope::All,
    ];
    pub fn parse(s: &str) -> Option<RectScope> {
        RectScope::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RectScope::All => "all",
            RectScope::Proposed => "proposed",
            RectScope::Open => "open",
            RectScope::Overdue => "overdue",
            RectScope::Done => "done",
            RectScope::Rejected => "rejected",
            RectScope::Mine => "mine",
        }
    }
}

fn refused(e: RectError) -> ServiceError {
    match e {
        RectError::Forbidden { .. } => ServiceError::Forbidden,
        RectError::IllegalState { action, status } => ServiceError::Transition {
            action: match action {
                RectAction::Accept => "rect_accept",
                RectAction::Reject => "rect_reject",
                RectAction::Done => "rect_done",
            },
            status: match status {
                RectStatus::Proposed => "rect_proposed",
                RectStatus::Open => "rect_open",
                RectStatus::Done => "rect_done",
                RectStatus::Rejected => "rect_rejected",
            },
            reason: None,
        },
    }
}

impl Services {
    /// Local days `[from, to]` as instants: the start of `from` to the start of the day after `to`.
    pub(crate) fn days(&self, from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        (day_bounds(from, self.tz).0, day_bounds(to, self.tz).1)
    }

    /// A period's faults grouped `by`, beside the period before.
    pub async fn fault_analysis(
        &self,
        by: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        group: FaultBy,
    ) -> Result<FaultAnalysis> {
        require(may_read(&by.roles))?;
        let len = (to - from).num_days() + 1;
        let previous_to = from.pred_opt().unwrap_or(from);
        let previous_from = from - Duration::days(len);
        self.forget_changed_months().await?;
        let rows = self.fault_rows(from, to, group).await?;
        let total = |rows: Vec<FaultRow>| {
            let mut t = FaultCount::default();
            for r in rows {
                t.tickets += r.tickets;
                t.repeat += r.repeat;
                if let Some(h) = r.mean_hours_to_fix {
                    // Each row's mean back to its sum: the totals weigh each group by its tickets resolved.
                    t.hours += h * r.resolved as f64;
                    t.resolved += r.resolved;
                }
            }
            FaultRow::from(t)
        };
        let this =
            if group == FaultBy::System { rows.clone() } else { self.fault_rows(from, to, FaultBy::System).await? };
        let before = self.fault_rows(previous_from, previous_to, FaultBy::System).await?;
        Ok(FaultAnalysis {
            from,
            to,
            by: group,
            rows,
            total: total(this),
            previous: total(before),
            previous_from,
            previous_to,
        })
    }

    /// The hot spots of a period.
    pub async fn hotspots(&self, by: &Actor, from: NaiveDate, to: NaiveDate) -> Result<Hotspots> {
        require(may_read(&by.roles))?;
        let (a, b) = self.days(from, to);
        self.forget_changed_months().await?;
        let mut models = self.fault_rows(from, to, FaultBy::Model).await?;
        models.retain(|m| !m.key.is_empty());
        models.truncate(HOTSPOTS);
        let mut schools = self.fault_rows(from, to, FaultBy::Customer).await?;
        schools.truncate(HOTSPOTS);
        Ok(Hotspots {
            from,
            to,
            equipment: store::hot_equipment(&self.db, a, b, HOTSPOTS as i64).await?,
            models,
            schools,
        })
    }

    /// A period's groups, most faults first. Each month before this one is read from its
    /// kept count (counted and kept on first need); where the period takes only part of
    /// such a month, whichever is fewer days is counted live: the days inside, or the days
    /// outside taken away from the kept month. This month is always counted live.
    /// The caller looks at the tickets' changes first (`forget_changed_months`), once.
    async fn fault_rows(&self, from: NaiveDate, to: NaiveDate, by: FaultBy) -> Result<Vec<FaultRow>> {
        let this_month = Self::month_of(self.today()).0;
        let mut kept: Vec<NaiveDate> = Vec::new();
        // (first day, last day, +1 or -1)
        let mut live: Vec<(NaiveDate, NaiveDate, i64)> = Vec::new();
        let mut d = from;
        while d <= to {
            let (first, last) = Self::month_of(d);
            let end = last.min(to);
            let inside = (end - d).num_days() + 1;
            let outside = (last - first).num_days() + 1 - inside;
            if first >= this_month || (outside > 0 && inside <= outside) {
                live.push((d, end, 1));
            } else {
                kept.push(first);
                if let Some(before) = d.pred_opt().filter(|b| *b >= first) {
                    live.push((first, before, -1));
                }
                if let Some(after) = end.succ_opt().filter(|a| *a <= last) {
                    live.push((after, last, -1));
                }
            }
            let Some(next) = end.succ_opt() else { break };
            d = next;
        }
        // Live pieces side by side with the same sign are one count.
        live.sort();
        let mut pieces: Vec<(NaiveDate, NaiveDate, i64)> = Vec::new();
        for p in live {
            match pieces.last_mut() {
                Some(l) if l.2 == p.2 && l.1.succ_opt() == Some(p.0) => l.1 = p.1,
                _ => pieces.push(p),
            }
        }
        let mut merged: HashMap<String, FaultCount> = HashMap::new();
        let mut add = |rows: Vec<FaultCount>, sign: i64| {
            for c in rows {
                match merged.get_mut(&c.key) {
                    Some(m) => m.add(&c, sign),
                    None => {
                        let mut m = FaultCount { key: c.key.clone(), label: c.label.clone(), ..Default::default() };
                        m.label_en.clone_from(&c.label_en);
                        m.add(&c, sign);
                        merged.insert(c.key, m);
                    }
                }
            }
        };
        if !kept.is_empty() {
            let now = Utc::now();
            let counted = fault_months::counted(&self.db, by, &kept, now - Duration::hours(KEEP_HOURS)).await?;
            for m in kept.iter().filter(|m| !counted.contains(m)) {
                let (a, b) = self.days(*m, Self::month_of(*m).1);
                let rows = store::fault_counts(&self.db, a, b, by).await?;
                fault_months::keep(&self.db, by, *m, &rows, now).await?;
            }
            add(fault_months::sum(&self.db, by, &kept).await?, 1);
        }
        for (f, l, sign) in pieces {
            let (a, b) = self.days(f, l);
            add(store::fault_counts(&self.db, a, b, by).await?, sign);
        }
        let mut rows: Vec<FaultRow> = merged.into_values().filter(|c| c.tickets > 0).map(FaultRow::from).collect();
        rows.sort_by(|a, b| b.tickets.cmp(&a.tickets).then_with(|| a.key.cmp(&b.key)));
        rows.truncate(MAX_GROUPS);
        Ok(rows)
    }

    /// Counts and keeps every grouping of the last 24 whole months that is not kept or is
    /// a day old, so that nobody waits for a year's count (the hourly housekeeping).
    pub async fn keep_fault_months(&self) -> Result<()> {
        let first_this = Self::month_of(self.today()).0;
        let Some(last) = first_this.pred_opt() else { return Ok(()) };
        let from = first_this.checked_sub_months(chrono::Months::new(24)).unwrap_or(first_this);
        // Not the months before the first ticket (a new department has none to count).
        let Some(earliest) = store::first_ticket_at(&self.db).await? else { return Ok(()) };
        let from = from.max(Self::month_of(earliest.with_timezone(&self.tz).date_naive()).0);
        if from > last {
            return Ok(());
        }
        self.forget_changed_months().await?;
        for by in FaultBy::ALL {
            self.fault_rows(from, last, *by).await?;
        }
        Ok(())
    }

    /// Drops the kept months whose tickets changed since the last look (every ticket
    /// change is an event naming it): each such ticket's month; past
    /// `fault_months::CHANGES_ONE_BY_ONE` tickets, every month from the earliest one on.
    async fn forget_changed_months(&self) -> Result<()> {
        let Some(c) = fault_months::changes(&self.db).await? else { return Ok(()) };
        let month = |t: DateTime<Utc>| Self::month_of(t.with_timezone(&self.tz).date_naive()).0;
        let mut months: Vec<NaiveDate> = match c.earliest {
            Some(e) => {
                let this_month = Self::month_of(self.today()).0;
                let mut m = month(e);
                let mut all = Vec::new();
                while m < this_month {
                    all.push(m);
                    m = m.checked_add_months(chrono::Months::new(1)).unwrap_or(this_month);
                }
                all
            }
            None => c.reported.into_iter().map(month).collect(),
        };
        months.sort();
        months.dedup();
        fault_months::forget(&self.db, &months, c.seen).await?;
        Ok(())
    }

    /// Proposes a rectification (the engineer, the manager): its school, device, round,
    /// hazard line and owner must exist and agree with each other.
    pub async fn propose_rectification(
        &self,
        by: &Actor,
        input: &RectificationInput,
        now: DateTime<Utc>,
    ) -> Result<RectificationView> {
        require(may_propose(&by.roles))?;
        let r = input.validate()?;
        let mut e = FieldErrors::default();
        if let Some(owner) = r.owner_id {
            match aftercare_store::users::get(&self.db, owner).await {
                Ok(u) if u.active && u.customer_id.is_none() => {}
                _ => e.push("owner_id", "not_found"),
            }
        }
        let mut r = r;
        // SQLite does not say which reference failed: check the school and the round first.
        if let Some(c) = r.customer_id
            && let Err(aftercare_store::StoreError::NotFound) = aftercare_store::customers::get(&self.db, c).await
        {
            e.push("customer_id", "not_found");
        }
        if let Some(m) = r.meeting_id
            && let Err(aftercare_store::StoreError::NotFound) = aftercare_store::meetings::get(&self.db, m).await
        {
            e.push("meeting_id", "not_found");
        }
        if let Some(i) = r.inspection_id
            && let Err(aftercare_store::StoreError::NotFound) = aftercare_store::inspections::get(&self.db, i).await
        {
            e.push("inspection_id", "not_found");
        }
        if let Some(eq) = r.equipment_id {
            match self.equipment_school(eq).await? {
                None => e.push("equipment_id", "not_found"),
                Some(school) if r.customer_id.is_some_and(|c| c != school) => e.push("equipment_id", "not_found"),
                Some(school) => r.customer_id = Some(school),
            }
        }
        if let (Some(line), Some(round)) = (r.hazard_item_id, r.inspection_id) {
            let lines = aftercare_store::inspections::items(&self.db, round).await?;
            if !lines.iter().any(|l| l.id == line) {
                e.push("hazard_item_id", "not_found");
            }
        }
        e.in_area("rectifications").into_result(())?;
        let id = store::create_rectification(&self.db, &self.writer(by), &r, now).await?;
        self.rectification(by, RectificationId(id), now).await
    }

    async fn equipment_school(&self, equipment: i64) -> Result<Option<i64>> {
        match aftercare_store::equipment::get(&self.db, equipment).await {
            Ok(e) => Ok(Some(e.customer_id)),
            Err(aftercare_store::StoreError::NotFound) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn rectification(
        &self,
        by: &Actor,
        id: RectificationId,
        now: DateTime<Utc>,
    ) -> Result<RectificationView> {
        require(may_read(&by.roles))?;
        let r = store::rectification(&self.db, id.0).await?;
        let ctx = RectContext { roles: by.roles.clone(), is_owner: r.owner_id == Some(by.id.0) };
        let actions = [RectAction::Accept, RectAction::Reject, RectAction::Done]
            .into_iter()
            .filter(|a| transition(r.status, *a, &ctx).is_ok())
            .collect();
        let before = store::faults_on(&self.db, &r, r.proposed_at - Duration::days(EFFECT_DAYS), r.proposed_at).await?;
        let since = r.done_at.or(r.decided_at.filter(|_| r.status == RectStatus::Open));
        let (after, days) = match since {
            Some(s) => {
                let until = (s + Duration::days(EFFECT_DAYS)).min(now.max(s));
                (Some(store::faults_on(&self.db, &r, s, until).await?), (until - s).num_days())
            }
            None => (None, 0),
        };
        Ok(RectificationView {
            rectification: r,
            actions,
            faults_before: before,
            faults_after: after,
            days_after: days,
        })
    }

    fn rect_query(&self, by: &Actor, scope: RectScope) -> RectQuery {
        let mut q = RectQuery::default();
        match scope {
            RectScope::All => {}
            RectScope::Proposed => q.status = Some(RectStatus::Proposed),
            RectScope::Open => q.status = Some(RectStatus::Open),
            RectScope::Done => q.status = Some(RectStatus::Done),
            RectScope::Rejected => q.status = Some(RectStatus::Rejected),
            RectScope::Overdue => q.overdue_before = Some(self.today()),
            RectScope::Mine => {
                q.owner_id = Some(by.id.0);
                q.status = Some(RectStatus::Open);
            }
        }
        q
    }

    pub async fn list_rectifications(
        &self,
        by: &Actor,
        scope: RectScope,
        page: Page,
    ) -> Result<Paged<RectificationRow>> {
        require(may_read(&by.roles))?;
        Ok(store::rectifications(&self.db, &self.rect_query(by, scope), page).await?)
    }

    pub async fn count_rectifications(&self, by: &Actor, scope: RectScope) -> Result<i64> {
        require(may_read(&by.roles))?;
        Ok(store::count_rectifications(&self.db, &self.rect_query(by, scope)).await?)
    }

    /// Accept, reject (with the reason) or done (with a note of what was done).
    pub async fn rectification_action(
        &self,
        by: &Actor,
        id: RectificationId,
        action: RectAction,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RectificationView> {
        require(may_read(&by.roles))?;
        let r = store::rectification(&self.db, id.0).await?;
        let ctx = RectContext { roles: by.roles.clone(), is_owner: r.owner_id == Some(by.id.0) };
        let to = transition(r.status, action, &ctx).map_err(refused)?;
        let note = clean(note);
        match (&note, action) {
            (None, RectAction::Reject) => return Err(FieldErrors::single("reason", "required").into()),
            (Some(n), _) if n.chars().count() > 2000 => return Err(FieldErrors::single("reason", "too_long").into()),
            _ => {}
        }
        store::decide_rectification(&self.db, &self.writer(by), id.0, r.status, to, note.as_deref(), now).await?;
        self.rectification(by, id, now).await
    }

    /// Staff who may own a rectification (the form's choices).
    pub async fn rectification_owners(&self, by: &Actor) -> Result<Vec<(i64, String)>> {
        require(may_read(&by.roles))?;
        let mut out: Vec<(i64, String)> = Vec::new();
        for role in [Role::Engineer, Role::Technician, Role::Manager, Role::Storekeeper, Role::Agent] {
            for u in aftercare_store::users::with_role(&self.db, role.as_str()).await? {
                if !out.iter().any(|(i, _)| *i == u.id) {
                    out.push((u.id, u.display_name));
                }
            }
        }
        Ok(out)
    }
}

/// A KPI this month and the month before.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KpiRow {
    pub kpi: aftercare_domain::kpis::Kpi,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    /// `%`, `h`, `/5`, `×` (times) or empty (a count).
    pub unit: &'static str,
    pub higher_is_better: bool,
}

/// The month's KPIs beside the month before, with the counts behind them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KpiTable {
    pub month: NaiveDate,
    pub previous_month: NaiveDate,
    pub rows: Vec<KpiRow>,
    pub counts: aftercare_domain::kpis::KpiCounts,
}

impl Services {
    /// The KPIs of the month that `month` falls in, beside the month before.
    pub async fn kpi_table(&self, by: &Actor, month: NaiveDate) -> Result<KpiTable> {
        require(may_read(&by.roles) && by.has_any(&[Role::Manager, Role::Admin, Role::Engineer, Role::Agent]))?;
        let (first, last) = Self::month_of(month);
        let (pfirst, plast) = Self::month_of(first.pred_opt().unwrap_or(first));
        let counts_of = |f: NaiveDate, l: NaiveDate| {
            let (a, b) = self.days(f, l);
            async move {
                let mut c = store::kpi_counts(&self.db, a, b, f, l).await?;
                // Turnover and stale stock as the warehouse's valuation report counts them.
                let v = self.stock_valuation(by, Some(f), Some(l)).await?;
                c.issued_fen = v.issued_fen;
                c.average_stock_fen = v.average_fen;
                c.stock_fen = v.total_fen;
                c.stale_fen = v.slow_fen;
                Ok::<_, crate::ServiceError>(c)
            }
        };
        let now = counts_of(first, last).await?;
        let before = counts_of(pfirst, plast).await?;
        let prev = aftercare_domain::kpis::kpis(&before);
        let rows = aftercare_domain::kpis::kpis(&now)
            .into_iter()
            .zip(prev)
            .map(|((kpi, value), (_, previous))| KpiRow {
                kpi,
                value,
                previous,
                unit: kpi.unit(),
                higher_is_better: kpi.higher_is_better(),
            })
            .collect();
        Ok(KpiTable { month: first, previous_month: pfirst, rows, counts: now })
    }
}

/// The data-analysis meeting's pack (§2.7(5)): one month's summary, KPIs, faults by system
/// and by town, hot spots and the rectifications still open.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisPack {
    pub kpis: KpiTable,
    pub by_system: FaultAnalysis,
    pub by_town: Vec<FaultRow>,
    pub hotspots: Hotspots,
    pub open: Vec<RectificationRow>,
    pub proposed: Vec<RectificationRow>,
}

impl Services {
    pub async fn analysis_pack(&self, by: &Actor, month: NaiveDate) -> Result<AnalysisPack> {
        let kpis = self.kpi_table(by, month).await?;
        let (first, last) = Self::month_of(month);
        let by_system = self.fault_analysis(by, first, last, FaultBy::System).await?;
        let by_town = self.fault_analysis(by, first, last, FaultBy::Town).await?.rows;
        let hotspots = self.hotspots(by, first, last).await?;
        let page = Page::new(Some(1), Some(200));
        let open = self.list_rectifications(by, RectScope::Open, page).await?.items;
        let proposed = self.list_rectifications(by, RectScope::Proposed, page).await?.items;
        Ok(AnalysisPack { kpis, by_system, by_town, hotspots, open, proposed })
    }
}

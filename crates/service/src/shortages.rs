//! Reserve quotas (储备定额) and shortage alerts (备件不齐, §2.5(1), §3.2.9).
//!
//! Where a shortage is noticed: right after every movement posted through
//! [`Services::post_movement`] (the warehouses it touched are checked), after a quota is
//! set, and by the minute sweep [`Services::check_shortages`], which also catches stock
//! changed by other paths (requisitions, a catalogue min changed) and proposes the
//! §3.2.9 penalty for alerts nobody acknowledged in time.

use crate::mail::OutgoingMail;
use crate::mail_text::Lang;
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::FieldErrors;
use aftercare_domain::Role;
use aftercare_domain::parts::can_read_stock;
use aftercare_domain::shortages::{
    CONSUMPTION_DAYS, DEFAULT_ACK_HOURS, QuotaInput, RESPONSIBLE, SuggestionKey, can_manage_quotas, order_qty,
    proposed_min, suggestion_order,
};
use aftercare_domain::{PartId, ShortageId, WarehouseId};
use aftercare_store::StoreError;
use aftercare_store::parts::{self as parts_store, StockRow};
use aftercare_store::shortages::{self as store, BelowMinRow, Level};

/// The rows of this area, for the web crate (which does not name the store).
pub use aftercare_store::shortages::AlertRow;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The range of `shortage_ack_hours`: an hour to a month.
const ACK_HOURS_RANGE: std::ops::RangeInclusive<i64> = 1..=720;

/// A line of the purchase suggestion (采购建议).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    #[serde(flatten)]
    pub row: BelowMinRow,
    /// Units to order: up to max (to min when there is no max).
    pub order_qty: i64,
    /// A min from the last 6 months' issues and the lead time; none without either.
    pub proposed_min: Option<i64>,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShortageCheck {
    /// Alerts raised.
    pub raised: usize,
    /// Alerts closed because stock came back.
    pub closed: usize,
    /// Alerts for which the §3.2.9 penalty was proposed.
    pub proposed: usize,
}

fn missing(field: &'static str) -> impl FnOnce(StoreError) -> ServiceError {
    move |e| match e {
        StoreError::NotFound => ServiceError::Invalid(FieldErrors::single(field, "not_found")),
        other => other.into(),
    }
}

impl Services {
    /// Sets min and max of a part in a warehouse; storekeeper or manager.
    pub async fn set_quota(&self, by: &Actor, input: &QuotaInput) -> Result<StockRow> {
        require(can_manage_quotas(by))?;
        let q = input.validate()?;
        parts_store::get_part(&self.db, q.part_id).await.map_err(missing("part_id"))?;
        parts_store::get_warehouse(&self.db, q.warehouse_id).await.map_err(missing("warehouse_id"))?;
        store::set_quota(&self.db, &self.writer(by), &q).await?;
        self.check_stock_level(PartId(q.part_id), WarehouseId(q.warehouse_id), Utc::now()).await;
        let rows =
            parts_store::stock(&self.db, Some(q.part_id), Some(q.warehouse_id), aftercare_store::Page::new(None, None))
                .await?;
        rows.items.into_iter().next().ok_or(ServiceError::NotFound)
    }

    /// Raises or closes the alert of one stock row. Never fails the caller (the movement
    /// is already posted): a problem is logged and the minute sweep tries again.
    pub async fn check_stock_level(
        &self,
        part_id: PartId,
        warehouse_id: WarehouseId,
        now: DateTime<Utc>,
    ) -> Option<Level> {
        match store::check_level(&self.db, part_id.0, warehouse_id.0, now).await {
            Ok(level) => {
                if let Level::Raised(id) = level {
                    self.mail_shortage(id).await;
                }
                Some(level)
            }
            Err(e) => {
                tracing::warn!(part_id = part_id.0, warehouse_id = warehouse_id.0, error = %e, "could not check the reserve quota");
                None
            }
        }
    }

    /// Raises and closes alerts the movements missed, then proposes the §3.2.9 penalty
    /// against the storekeepers for every alert not acknowledged within
    /// `shortage_ack_hours`. Run by the minute job with the real clock, by tests with theirs.
    pub async fn check_shortages(&self, now: DateTime<Utc>) -> Result<ShortageCheck> {
        let mut run = ShortageCheck::default();
        // A failure here must not stop the sweep and the escalation below.
        if let Err(e) = store::ensure_depot_rows(&self.db).await {
            tracing::warn!(error = %e, "could not give catalogued quotas their depot rows");
        }
        for (part, wh) in store::out_of_date(&self.db).await? {
            match self.check_stock_level(PartId(part), WarehouseId(wh), now).await {
                Some(Level::Raised(_)) => run.raised += 1,
                Some(Level::Closed) => run.closed += 1,
                _ => {}
            }
        }
        let hours = self.shortage_ack_hours().await;
        let due = store::overdue(&self.db, now - Duration::hours(hours)).await?;
        if due.is_empty() {
            return Ok(run);
        }
        let keepers: Vec<i64> = aftercare_store::users::with_role(&self.db, RESPONSIBLE.as_str())
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        if keepers.is_empty() {
            // Nobody to hold to it: the alert stays due and is proposed once someone is.
            return Ok(run);
        }
        for (alert, reason) in &due {
            if store::propose_penalty(&self.db, *alert, &keepers, reason, now).await? {
                run.proposed += 1;
            }
        }
        Ok(run)
    }

    /// `shortage_ack_hours`, default 24, kept within an hour and a month.
    pub async fn shortage_ack_hours(&self) -> i64 {
        aftercare_store::settings::setting(&self.db, "shortage_ack_hours")
            .await
            .ok()
            .flatten()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|h| ACK_HOURS_RANGE.contains(h))
            .unwrap_or(DEFAULT_ACK_HOURS)
    }

    /// Shortage alerts for all staff; open ones only when `open`.
    pub async fn shortages(&self, by: &Actor, open: bool, warehouse_id: Option<WarehouseId>) -> Result<Vec<AlertRow>> {
        require(can_read_stock(by))?;
        Ok(store::list(&self.db, open, warehouse_id.map(i64::from)).await?)
    }

    /// The storekeeper or manager has seen the shortage: the escalation stops.
    pub async fn acknowledge_shortage(&self, by: &Actor, id: ShortageId) -> Result<AlertRow> {
        require(can_manage_quotas(by))?;
        let id = id.0;
        store::acknowledge(&self.db, &self.writer(by), id, Utc::now()).await?;
        Ok(store::get(&self.db, id).await?)
    }

    /// What to order (up to max) for every part below min, critical parts first, with a
    /// min proposed from the last 6 months' issues and the lead time.
    pub async fn purchase_suggestions(
        &self,
        by: &Actor,
        warehouse_id: Option<WarehouseId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Suggestion>> {
        require(can_read_stock(by))?;
        let rows =
            store::below_min(&self.db, warehouse_id.map(i64::from), now - Duration::days(CONSUMPTION_DAYS)).await?;
        let mut out: Vec<Suggestion> = rows
            .into_iter()
            .map(|row| Suggestion {
                order_qty: order_qty(row.on_hand, row.min_qty, row.max_qty),
                proposed_min: proposed_min(row.consumed, CONSUMPTION_DAYS, row.lead_time_days),
                row,
            })
            .collect();
        out.sort_by(|a, b| {
            let key =
                |s: &Suggestion| SuggestionKey::new(s.row.critical, s.row.on_hand, s.row.min_qty, &s.row.part_code);
            suggestion_order(&key(a), &key(b))
        });
        Ok(out)
    }

    /// Tells the managers by mail about a new shortage. Nothing is queued without SMTP;
    /// never fails the caller.
    pub(crate) async fn mail_shortage(&self, alert_id: i64) {
        if self.mail().smtp.is_none() {
            return;
        }
        if let Err(e) = self.try_mail_shortage(alert_id).await {
            tracing::warn!(alert_id, error = %e, "could not queue the shortage mail");
        }
    }

    async fn try_mail_shortage(&self, alert_id: i64) -> Result<()> {
        let a = store::get(&self.db, alert_id).await?;
        let company = self.company_name().await;
        let at = a.raised_at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string();
        for u in aftercare_store::users::with_role(&self.db, Role::Manager.as_str()).await? {
            let Some(to) = u.email.as_deref().map(str::trim).filter(|e| e.contains('@')).map(str::to_owned) else {
                continue;
            };
            let lang = Lang::of(Some(&u.locale));
            let (subject, body) = shortage_text(lang, &u.display_name, &a, &at, &company);
            let m = OutgoingMail {
                to,
                to_name: Some(u.display_name.clone()),
                subject,
                body,
                kind: "shortage".into(),
                ticket: None,
                contact: None,
                lang: lang.as_str().into(),
            };
            self.enqueue_mail(&m).await?;
        }
        Ok(())
    }
}

/// The shortage mail's subject and body.
fn shortage_text(lang: Lang, manager: &str, a: &AlertRow, at: &str, company: &str) -> (String, String) {
    match lang {
        Lang::Zh => (
            format!("[备件不足] {} {} · {}", a.part_code, a.part_name, a.warehouse_name),
            format!(
                "{manager}：\n\n备件库存低于储备定额，请安排采购或调拨。\n备件：{} {}{}\n仓库：{}\n现有：{} {}（定额下限 {}）\n时间：{at}\n\n{company}\n（本邮件由系统自动发送）\n",
                a.part_code,
                a.part_name,
                if a.critical { "（关键备件）" } else { "" },
                a.warehouse_name,
                a.on_hand,
                a.unit,
                a.min_qty,
            ),
        ),
        Lang::En => (
            format!("[Shortage] {} {} · {}", a.part_code, a.part_name, a.warehouse_name),
            format!(
                "{manager},\n\nA spare part fell below its reserve quota; please arrange a purchase or a transfer.\nPart: {} {}{}\nWarehouse: {}\nOn hand: {} {} (min {})\nTime: {at}\n\n{company}\n(This mail was sent automatically.)\n",
                a.part_code,
                a.part_name,
                if a.critical { " (critical)" } else { "" },
                a.warehouse_name,
                a.on_hand,
                a.unit,
                a.min_qty,
            ),
        ),
    }
}

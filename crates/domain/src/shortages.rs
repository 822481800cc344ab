//! Reserve quotas (储备定额, §2.5(1)) and shortages (备件不齐, §3.2.9): when a part in a
//! warehouse is short, how much to order, and a min proposed from what was consumed.
//!
//! Decisions, for whoever continues this area:
//! - A quota of min 0 means "no quota": such a row is never short.
//! - The catalogue's min and max are the depot's default (the county's reserve); a vehicle
//!   stock has only the quota set for it.
//! - A part is short while its usable on-hand is below min (defective parts do not count).
//! - The order fills up to max; with no max it fills up to min.
//! - The proposed min is ceil(average daily issues × lead time × 1.5): enough to bridge
//!   the lead time with a safety margin. Without a lead time or any consumption there is
//!   no proposal.

use crate::Role;
use crate::parts::{MAX_QTY, can_manage_stock};
use crate::users::Actor;
use crate::validation::FieldErrors;
use serde::{Deserialize, Serialize};

/// The safety factor of the proposed min, as a fraction (3/2 = 1.5).
const SAFETY_NUM: i64 = 3;
const SAFETY_DEN: i64 = 2;

/// How far back consumption is looked at for the proposed min.
pub const CONSUMPTION_DAYS: i64 = 182;

/// The default hours a shortage may stay unacknowledged before the §3.2.9 penalty is
/// proposed (setting `shortage_ack_hours`).
pub const DEFAULT_ACK_HOURS: i64 = 24;

/// A reserve quota as typed in (API `PUT /api/v1/stock/quotas`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct QuotaInput {
    pub part_id: Option<i64>,
    pub warehouse_id: Option<i64>,
    pub min_qty: Option<i64>,
    /// Leave out for "no maximum".
    pub max_qty: Option<i64>,
}

/// A checked reserve quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub part_id: i64,
    pub warehouse_id: i64,
    pub min_qty: i64,
    pub max_qty: Option<i64>,
}

impl QuotaInput {
    pub fn validate(&self) -> Result<Quota, FieldErrors> {
        let mut e = FieldErrors::default();
        let mut id = |field: &str, v: Option<i64>| match v {
            None => {
                e.push(field, "required");
                0
            }
            Some(v) if v <= 0 => {
                e.push(field, "not_found");
                0
            }
            Some(v) => v,
        };
        let part_id = id("part_id", self.part_id);
        let warehouse_id = id("warehouse_id", self.warehouse_id);
        let min_qty = match self.min_qty {
            None => {
                e.push("min_qty", "required");
                0
            }
            Some(v) if !(0..=MAX_QTY).contains(&v) => {
                e.push("min_qty", "out_of_range");
                0
            }
            Some(v) => v,
        };
        match self.max_qty {
            Some(v) if !(0..=MAX_QTY).contains(&v) => e.push("max_qty", "out_of_range"),
            Some(v) if v < min_qty => e.push("max_qty", "out_of_range"),
            _ => {}
        }
        e.in_area("stock").into_result(Quota { part_id, warehouse_id, min_qty, max_qty: self.max_qty })
    }
}

/// Who sets quotas and acknowledges shortages: the storekeeper and the manager.
pub fn can_manage_quotas(a: &Actor) -> bool {
    can_manage_stock(a)
}

/// Who is held to §3.2.9: the storekeepers.
pub const RESPONSIBLE: Role = Role::Storekeeper;

/// Below the reserve quota.
pub fn is_short(on_hand: i64, min_qty: i64) -> bool {
    min_qty > 0 && on_hand < min_qty
}

/// What to order to fill up to max (to min when there is no max); never negative.
pub fn order_qty(on_hand: i64, min_qty: i64, max_qty: Option<i64>) -> i64 {
    let target = max_qty.unwrap_or(min_qty).max(min_qty);
    (target - on_hand).max(0)
}

/// ceil(consumed / days × lead_time_days × 1.5), in integers so that it is exact.
/// `None` without a lead time, a period or any consumption.
pub fn proposed_min(consumed: i64, days: i64, lead_time_days: Option<i64>) -> Option<i64> {
    let lead = lead_time_days.filter(|l| *l > 0)?;
    if consumed <= 0 || days <= 0 {
        return None;
    }
    let num = consumed.checked_mul(lead)?.checked_mul(SAFETY_NUM)?;
    let den = days.checked_mul(SAFETY_DEN)?;
    Some((num + den - 1) / den)
}

/// One line of a purchase suggestion, before sorting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestionKey {
    pub critical: bool,
    /// How far below min, as a share: units missing per unit of min, scaled by 1000.
    pub shortfall_permille: i64,
    pub code: String,
}

impl SuggestionKey {
    pub fn new(critical: bool, on_hand: i64, min_qty: i64, code: &str) -> Self {
        let shortfall_permille = if min_qty > 0 { (min_qty - on_hand).max(0) * 1000 / min_qty } else { 0 };
        SuggestionKey { critical, shortfall_permille, code: code.to_owned() }
    }
}

/// Critical parts first (§2.5(2)), then the emptiest, then by code.
pub fn suggestion_order(a: &SuggestionKey, b: &SuggestionKey) -> std::cmp::Ordering {
    b.critical.cmp(&a.critical).then(b.shortfall_permille.cmp(&a.shortfall_permille)).then_with(|| a.code.cmp(&b.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_only_below_a_real_min() {
        assert!(is_short(1, 2));
        assert!(!is_short(2, 2));
        assert!(!is_short(0, 0));
    }

    #[test]
    fn orders_up_to_max_or_min() {
        assert_eq!(order_qty(1, 3, Some(10)), 9);
        assert_eq!(order_qty(1, 3, None), 2);
        assert_eq!(order_qty(5, 3, Some(10)), 5);
        assert_eq!(order_qty(12, 3, Some(10)), 0);
        // A max below min (a stale catalogue) still fills to min.
        assert_eq!(order_qty(0, 3, Some(1)), 3);
    }

    #[test]
    fn proposed_min_is_rounded_up_with_safety() {
        // 182 issued in 182 days = 1 a day; 10 days lead; × 1.5 = 15.
        assert_eq!(proposed_min(182, 182, Some(10)), Some(15));
        // 10 in 182 days, 7 days lead: 10·7·1.5/182 = 0.577 → 1.
        assert_eq!(proposed_min(10, 182, Some(7)), Some(1));
        // 91 in 182 days (0.5/day), 3 days: 2.25 → 3.
        assert_eq!(proposed_min(91, 182, Some(3)), Some(3));
        assert_eq!(proposed_min(0, 182, Some(3)), None);
        assert_eq!(proposed_min(5, 182, None), None);
        assert_eq!(proposed_min(5, 182, Some(0)), None);
        assert_eq!(proposed_min(5, 0, Some(3)), None);
    }

    #[test]
    fn quota_validation() {
        let ok = QuotaInput { part_id: Some(1), warehouse_id: Some(2), min_qty: Some(2), max_qty: Some(5) };
        assert_eq!(ok.validate().unwrap(), Quota { part_id: 1, warehouse_id: 2, min_qty: 2, max_qty: Some(5) });
        let none = QuotaInput { max_qty: None, ..ok.clone() };
        assert_eq!(none.validate().unwrap().max_qty, None);
        let fields =
            |q: QuotaInput| q.validate().unwrap_err().0.into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>();
        assert_eq!(fields(QuotaInput { min_qty: Some(6), ..ok.clone() }), [("max_qty".to_owned(), "out_of_range")]);
        assert_eq!(fields(QuotaInput { min_qty: Some(-1), ..ok.clone() }), [("min_qty".to_owned(), "out_of_range")]);
        assert_eq!(
            fields(QuotaInput::default()),
            [
                ("part_id".to_owned(), "required"),
                ("warehouse_id".to_owned(), "required"),
                ("min_qty".to_owned(), "required")
            ]
        );
    }

    #[test]
    fn critical_first_then_emptiest() {
        let mut v = [
            SuggestionKey::new(false, 0, 4, "A"),
            SuggestionKey::new(true, 3, 4, "B"),
            SuggestionKey::new(false, 3, 4, "C"),
            SuggestionKey::new(true, 0, 4, "D"),
        ];
        v.sort_by(suggestion_order);
        let codes: Vec<_> = v.iter().map(|k| k.code.as_str()).collect();
        assert_eq!(codes, ["D", "B", "A", "C"]);
    }
}

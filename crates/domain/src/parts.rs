//! Spare parts (备件, §2.5, form 5): the catalogue, warehouses, and the stock ledger's
//! arithmetic. Pure: the store applies what [`Effect`] says inside one transaction.
//!
//! Decisions, for whoever continues this area:
//! - Quantities are whole units (`i64`), always positive in a movement; the kind (and an
//!   adjustment's direction) gives the sign.
//! - Money is kept as integer fen (分); the API speaks yuan as a number (`12.5` = 1250 fen)
//!   and rejects negative amounts and fractions of a fen.
//! - A `defective_return` (坏件返回) does not add to usable on-hand: it goes to a separate
//!   `defective` count per part and warehouse, so a broken part is never issued again.
//!   What then happens to it (repair, RMA, scrap) is a disposal (`defective.rs`): a
//!   `return` or `scrap` row whose `outcome` column decides its effect ([`effect`]).
//! - `scrap` writes off usable stock (damaged in storage, expired); it can never go
//!   below zero, like an issue.
//! - A `transfer` is one ledger row: −qty at `warehouse_id`, +qty at `to_warehouse_id`; the
//!   destination takes the parts at the source's average cost.
//! - Valuation is the moving average, in fen, rounded half up. A receipt at cost c makes
//!   avg = (on_hand·avg + qty·c) / (on_hand + qty); issues, scrap and decreases leave
//!   the average as it is; returns and increases come back at the current average.

use crate::Role;
use crate::defective::Outcome;
use crate::users::Actor;
use crate::validation::{FieldErrors, optional, required};
use serde::{Deserialize, Serialize};

string_enum!(
    /// What a ledger movement does (DESIGN.md §5).
    MovementKind {
        Receipt = "receipt",
        Issue = "issue",
        Return = "return",
        DefectiveReturn = "defective_return",
        Transfer = "transfer",
        Adjustment = "adjustment",
        Scrap = "scrap",
    }
);

impl MovementKind {
    /// Whether the kind takes from usable stock at its warehouse (and so may be refused
    /// for want of stock).
    pub fn takes(self, direction: Option<AdjustDirection>) -> bool {
        match self {
            MovementKind::Issue | MovementKind::Transfer | MovementKind::Scrap => true,
            MovementKind::Adjustment => direction == Some(AdjustDirection::Decrease),
            MovementKind::Receipt | MovementKind::Return | MovementKind::DefectiveReturn => false,
        }
    }
}

string_enum!(
    /// The sign of a stocktake adjustment.
    AdjustDirection { Increase = "increase", Decrease = "decrease" }
);

string_enum!(
    /// A county depot (仓库) or a technician's vehicle stock (随车备件).
    WarehouseKind { Depot = "depot", Vehicle = "vehicle" }
);

/// The largest quantity in one movement or quota: far beyond any real count, small enough
/// that sums and costs never overflow.
pub const MAX_QTY: i64 = 1_000_000;
/// The largest unit cost: ¥10,000,000.00.
pub const MAX_COST_FEN: i64 = 1_000_000_000;

/// Yuan as typed (`12.5`) → fen (`1250`). Negative, non-finite, too large or finer than a
/// fen is `None`.
pub fn yuan_to_fen(yuan: f64) -> Option<i64> {
    if !yuan.is_finite() || yuan < 0.0 {
        return None;
    }
    let fen = yuan * 100.0;
    let rounded = fen.round();
    if (fen - rounded).abs() > 1e-6 || rounded > MAX_COST_FEN as f64 {
        return None;
    }
    Some(rounded as i64)
}

/// Fen → yuan for the API (`1250` → `12.5`).
pub fn fen_to_yuan(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// "¥12.50" style text without the sign: `12.50`.
pub fn fen_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// [`fen_text`] for reading on a page: yuan grouped by thousands (`31,434.00`). Exports
/// and form values keep [`fen_text`], which parses back.
pub fn fen_display(fen: i64) -> String {
    let plain = fen_text(fen);
    let (sign, rest) = plain.split_at(usize::from(fen < 0));
    let (yuan, cents) = rest.split_once('.').unwrap_or((rest, "00"));
    let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
    for (i, ch) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{cents}")
}

/// A part as typed in (API `{code, name, unit, min_qty?, max_qty?, critical?, unit_cost?}`
/// plus the catalogue's other fields).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartInput {
    pub code: Option<String>,
    pub name: Option<String>,
    /// 规格型号.
    pub spec: Option<String>,
    /// 单位: 个, 台, 米, 卷 …
    pub unit: Option<String>,
    /// 类别: 网络, 监控, 班班通, 云终端, 广播, 机房, 线材, 耗材, 工具.
    pub category: Option<String>,
    /// The systems it fits, free text (`network surveillance`).
    pub systems: Option<String>,
    /// The equipment models it fits, free text.
    pub models: Option<String>,
    /// 关键设备备件 (§2.5(2)).
    pub critical: Option<bool>,
    pub supplier: Option<String>,
    /// Yuan, e.g. `128.5`.
    pub unit_cost: Option<f64>,
    pub lead_time_days: Option<i64>,
    /// Reserve quota default (储备定额) for the depot.
    pub min_qty: Option<i64>,
    pub max_qty: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPart {
    pub code: String,
    pub name: String,
    pub spec: Option<String>,
    pub unit: String,
    pub category: Option<String>,
    pub systems: Option<String>,
    pub models: Option<String>,
    pub critical: bool,
    pub supplier: Option<String>,
    pub unit_cost_fen: i64,
    pub lead_time_days: Option<i64>,
    pub min_qty: i64,
    pub max_qty: Option<i64>,
    pub active: bool,
}

/// A code: letters, digits, `-`, `_`, `.`; stored upper case so `ap-01` and `AP-01` are one.
fn code(e: &mut FieldErrors, field: &str, v: Option<&str>) -> String {
    let c = required(e, field, v, 40).to_uppercase();
    if !c.is_empty() && !c.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)) {
        e.push(field, "invalid");
    }
    c
}

fn quantity(e: &mut FieldErrors, field: &str, v: Option<i64>, min: i64) -> Option<i64> {
    let v = v?;
    if v < min || v > MAX_QTY {
        e.push(field, "out_of_range");
    }
    Some(v)
}

impl PartInput {
    pub fn validate(&self) -> Result<NewPart, FieldErrors> {
        let mut e = FieldErrors::default();
        let code = code(&mut e, "code", self.code.as_deref());
        let name = required(&mut e, "name", self.name.as_deref(), 80);
        let spec = optional(&mut e, "spec", self.spec.as_deref(), 120);
        let unit = required(&mut e, "unit", self.unit.as_deref(), 10);
        let category = optional(&mut e, "category", self.category.as_deref(), 30);
        let systems = optional(&mut e, "systems", self.systems.as_deref(), 200);
        let models = optional(&mut e, "models", self.models.as_deref(), 500);
        let supplier = optional(&mut e, "supplier", self.supplier.as_deref(), 100);
        let unit_cost_fen = match self.unit_cost {
            None => 0,
            Some(y) => yuan_to_fen(y).unwrap_or_else(|| {
                e.push("unit_cost", "out_of_range");
                0
            }),
        };
        let lead_time_days = self.lead_time_days;
        if lead_time_days.is_some_and(|d| !(0..=3650).contains(&d)) {
            e.push("lead_time_days", "out_of_range");
        }
        let min_qty = quantity(&mut e, "min_qty", self.min_qty, 0).unwrap_or(0);
        let max_qty = quantity(&mut e, "max_qty", self.max_qty, 0);
        if max_qty.is_some_and(|m| m < min_qty) {
            e.push("max_qty", "out_of_range");
        }
        e.in_area("parts").into_result(NewPart {
            code,
            name,
            spec,
            unit,
            category,
            systems,
            models,
            critical: self.critical.unwrap_or(false),
            supplier,
            unit_cost_fen,
            lead_time_days,
            min_qty,
            max_qty,
            active: self.active.unwrap_or(true),
        })
    }
}

/// A warehouse as typed in (API `{code, name}`; `kind` defaults to `depot`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WarehouseInput {
    pub code: Option<String>,
    pub name: Option<String>,
    /// `depot` (default) or `vehicle`.
    pub kind: Option<String>,
    /// The technician holding a vehicle stock.
    pub holder_user_id: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWarehouse {
    pub code: String,
    pub name: String,
    pub kind: WarehouseKind,
    pub holder_user_id: Option<i64>,
    pub active: bool,
}

impl WarehouseInput {
    pub fn validate(&self) -> Result<NewWarehouse, FieldErrors> {
        let mut e = FieldErrors::default();
        let code = code(&mut e, "code", self.code.as_deref());
        let name = required(&mut e, "name", self.name.as_deref(), 60);
        let kind = match self.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(WarehouseKind::Depot),
            Some(s) => {
                let k = WarehouseKind::parse(s);
                if k.is_none() {
                    e.push("kind", "unknown_value");
                }
                k
            }
        };
        if kind == Some(WarehouseKind::Vehicle) && self.holder_user_id.is_none() {
            e.push("holder_user_id", "required");
        }
        match kind {
            Some(kind) if e.is_empty() => Ok(NewWarehouse {
                code,
                name,
                kind,
                holder_user_id: self.holder_user_id,
                active: self.active.unwrap_or(true),
            }),
            _ => Err(e.in_area("warehouses")),
        }
    }
}

/// A movement as typed in (API `POST /api/v1/stock/movements`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MovementInput {
    /// `receipt|issue|return|defective_return|transfer|adjustment|scrap`.
    pub kind: Option<String>,
    pub part_id: Option<i64>,
    pub warehouse_id: Option<i64>,
    /// Always positive; the kind gives the sign.
    pub qty: Option<i64>,
    /// A transfer's destination.
    pub to_warehouse_id: Option<i64>,
    /// An adjustment's sign: `increase` or `decrease`.
    pub direction: Option<String>,
    pub ticket_id: Option<i64>,
    pub equipment_id: Option<i64>,
    /// Yuan; a receipt's purchase price (defaults to the catalogue's unit cost).
    pub unit_cost: Option<f64>,
    /// The new part's serial number (serialised parts).
    pub serial_no: Option<String>,
    /// The defective part's serial number.
    pub old_serial_no: Option<String>,
    /// Required on an adjustment (the stocktake variance's reason).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMovement {
    pub kind: MovementKind,
    pub part_id: i64,
    pub warehouse_id: i64,
    pub qty: i64,
    pub to_warehouse_id: Option<i64>,
    pub direction: Option<AdjustDirection>,
    pub ticket_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub unit_cost_fen: Option<i64>,
    pub serial_no: Option<String>,
    pub old_serial_no: Option<String>,
    pub note: Option<String>,
}

impl MovementInput {
    pub fn validate(&self) -> Result<NewMovement, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = match self.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("kind", "required");
                None
            }
            Some(s) => {
                let k = MovementKind::parse(s);
                if k.is_none() {
                    e.push("kind", "unknown_value");
                }
                k
            }
        };
        if self.part_id.is_none() {
            e.push("part_id", "required");
        }
        if self.warehouse_id.is_none() {
            e.push("warehouse_id", "required");
        }
        match self.qty {
            None => e.push("qty", "required"),
            Some(q) if q <= 0 || q > MAX_QTY => e.push("qty", "out_of_range"),
            Some(_) => {}
        }
        let mut direction = None;
        match kind {
            Some(MovementKind::Transfer) => match self.to_warehouse_id {
                None => e.push("to_warehouse_id", "required"),
                Some(t) if Some(t) == self.warehouse_id => e.push("to_warehouse_id", "same_warehouse"),
                Some(_) => {}
            },
            Some(_) if self.to_warehouse_id.is_some() => e.push("to_warehouse_id", "invalid"),
            _ => {}
        }
        let note = optional(&mut e, "note", self.note.as_deref(), 500);
        if kind == Some(MovementKind::Adjustment) {
            match self.direction.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => e.push("direction", "required"),
                Some(s) => {
                    direction = AdjustDirection::parse(s);
                    if direction.is_none() {
                        e.push("direction", "unknown_value");
                    }
                }
            }
            // A stocktake variance without a reason cannot be audited.
            if note.is_none() {
                e.push("note", "required");
            }
        } else if self.direction.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            e.push("direction", "invalid");
        }
        let unit_cost_fen = match self.unit_cost {
            None => None,
            Some(y) => {
                let f = yuan_to_fen(y);
                if f.is_none() {
                    e.push("unit_cost", "out_of_range");
                }
                f
            }
        };
        let serial_no = optional(&mut e, "serial_no", self.serial_no.as_deref(), 64).map(|s| s.to_uppercase());
        let old_serial_no =
            optional(&mut e, "old_serial_no", self.old_serial_no.as_deref(), 64).map(|s| s.to_uppercase());
        match (kind, self.part_id, self.warehouse_id, self.qty) {
            (Some(kind), Some(part_id), Some(warehouse_id), Some(qty)) if e.is_empty() => Ok(NewMovement {
                kind,
                part_id,
                warehouse_id,
                qty,
                to_warehouse_id: if kind == MovementKind::Transfer { self.to_warehouse_id } else { None },
                direction,
                ticket_id: self.ticket_id,
                equipment_id: self.equipment_id,
                unit_cost_fen,
                serial_no,
                old_serial_no,
                note,
            }),
            _ => Err(e.in_area("stock")),
        }
    }
}

/// What one movement does to the stock rows it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// Change of usable on-hand at `warehouse_id`.
    pub on_hand: i64,
    /// Change of the defective count at `warehouse_id`.
    pub defective: i64,
    /// Change of usable on-hand at `to_warehouse_id` (transfers only).
    pub to_on_hand: i64,
}

impl NewMovement {
    /// An ordinary movement never carries an outcome: only a disposal does, and the
    /// store writes those itself ([`crate::defective::NewDisposal`]).
    pub fn effect(&self) -> Effect {
        effect(self.kind, self.direction, None, self.qty)
    }
}

/// The signed effect of a ledger row of `qty` units (see the module notes).
///
/// A row with an `outcome` is a disposal of defective units (see `defective.rs`), and the
/// outcome, not the kind, says what it did: `repaired` (kind `return`) moves units from
/// the defective count into usable on-hand; `rma` and `scrap` (kind `scrap`) only take
/// them off the defective count. Reading such a row by its kind alone would take usable
/// stock for an RMA and forget the defective count for a repair.
pub fn effect(kind: MovementKind, direction: Option<AdjustDirection>, outcome: Option<Outcome>, qty: i64) -> Effect {
    let none = Effect { on_hand: 0, defective: 0, to_on_hand: 0 };
    match outcome {
        Some(Outcome::Repaired) => return Effect { on_hand: qty, defective: -qty, ..none },
        Some(Outcome::Rma | Outcome::Scrap) => return Effect { defective: -qty, ..none },
        None => {}
    }
    match kind {
        MovementKind::Receipt | MovementKind::Return => Effect { on_hand: qty, ..none },
        MovementKind::Issue | MovementKind::Scrap => Effect { on_hand: -qty, ..none },
        MovementKind::DefectiveReturn => Effect { defective: qty, ..none },
        MovementKind::Transfer => Effect { on_hand: -qty, to_on_hand: qty, ..none },
        MovementKind::Adjustment => match direction {
            Some(AdjustDirection::Decrease) => Effect { on_hand: -qty, ..none },
            _ => Effect { on_hand: qty, ..none },
        },
    }
}

/// One ledger row as the arithmetic needs it (`stock_movements` minus the bookkeeping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerEntry {
    pub kind: MovementKind,
    pub direction: Option<AdjustDirection>,
    /// Set on a disposal of defective units only.
    pub outcome: Option<Outcome>,
    pub qty: i64,
    pub warehouse_id: i64,
    pub to_warehouse_id: Option<i64>,
}

impl LedgerEntry {
    pub fn effect(&self) -> Effect {
        effect(self.kind, self.direction, self.outcome, self.qty)
    }
}

/// The usable on-hand of `warehouse` that a ledger adds up to: what `stock.on_hand` must
/// equal.
pub fn ledger_on_hand(rows: impl IntoIterator<Item = LedgerEntry>, warehouse: i64) -> i64 {
    rows.into_iter()
        .map(|r| {
            let fx = r.effect();
            let mut n = 0;
            if r.warehouse_id == warehouse {
                n += fx.on_hand;
            }
            if r.to_warehouse_id == Some(warehouse) {
                n += fx.to_on_hand;
            }
            n
        })
        .sum()
}

/// The defective count of `warehouse` that a ledger adds up to: what `stock.defective`
/// must equal (defective units never travel with a transfer).
pub fn ledger_defective(rows: impl IntoIterator<Item = LedgerEntry>, warehouse: i64) -> i64 {
    rows.into_iter().filter(|r| r.warehouse_id == warehouse).map(|r| r.effect().defective).sum()
}

/// The moving average after `qty` units at `cost_fen` join `on_hand` units at `avg_fen`
/// (rounded half up; the first receipt sets it).
pub fn moving_average(on_hand: i64, avg_fen: i64, qty: i64, cost_fen: i64) -> i64 {
    let on_hand = i128::from(on_hand.max(0));
    let qty = i128::from(qty.max(0));
    let total = on_hand + qty;
    if total == 0 {
        return avg_fen;
    }
    let value = on_hand * i128::from(avg_fen) + qty * i128::from(cost_fen);
    let avg = (2 * value + total) / (2 * total);
    i64::try_from(avg).unwrap_or(i64::MAX)
}

/// Who keeps the catalogue and warehouses and posts receipts, issues, transfers,
/// adjustments and scrap: the storekeeper (and the manager and admin).
pub fn can_manage_stock(a: &Actor) -> bool {
    a.has_any(&[Role::Storekeeper])
}

/// Who reads the catalogue and stock: all staff.
pub fn can_read_stock(a: &Actor) -> bool {
    a.is_staff()
}

/// Who may post a movement of this kind: the storekeeper any; a technician brings parts
/// back (`return`, `defective_return`, or a `transfer` out of his own vehicle) — and then
/// only within what the ledger says he holds, which the service checks.
pub fn can_post(a: &Actor, kind: MovementKind) -> bool {
    can_manage_stock(a)
        || (a.has(Role::Technician)
            && matches!(kind, MovementKind::Return | MovementKind::DefectiveReturn | MovementKind::Transfer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CustomerId, UserId};

    fn mv(kind: &str) -> MovementInput {
        MovementInput {
            kind: Some(kind.into()),
            part_id: Some(1),
            warehouse_id: Some(10),
            qty: Some(3),
            ..Default::default()
        }
    }

    fn fields(e: &FieldErrors) -> Vec<(&str, &str)> {
        e.0.iter().map(|x| (x.field.as_str(), x.code)).collect()
    }

    #[test]
    fn kinds_round_trip() {
        for k in MovementKind::ALL {
            assert_eq!(MovementKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(MovementKind::ALL.len(), 7);
        assert_eq!(MovementKind::parse("defective_return"), Some(MovementKind::DefectiveReturn));
        assert_eq!(MovementKind::parse("steal"), None);
        assert_eq!(AdjustDirection::parse("decrease"), Some(AdjustDirection::Decrease));
    }

    #[test]
    fn yuan_and_fen() {
        assert_eq!(yuan_to_fen(12.5), Some(1250));
        assert_eq!(yuan_to_fen(0.0), Some(0));
        assert_eq!(yuan_to_fen(0.1 + 0.2), Some(30));
        assert_eq!(yuan_to_fen(19.99), Some(1999));
        assert_eq!(yuan_to_fen(-1.0), None);
        assert_eq!(yuan_to_fen(1.234), None);
        assert_eq!(yuan_to_fen(f64::NAN), None);
        assert_eq!(yuan_to_fen(1e12), None);
        assert_eq!(fen_text(1250), "12.50");
        assert_eq!(fen_display(3_143_400), "31,434.00");
        assert_eq!(fen_display(-123_456_789), "-1,234,567.89");
        assert_eq!(
            (fen_display(99_999), fen_display(100_000), fen_display(5)),
            ("999.99".into(), "1,000.00".into(), "0.05".into())
        );
        assert_eq!(fen_text(5), "0.05");
        assert!((fen_to_yuan(1999) - 19.99).abs() < 1e-9);
    }

    #[test]
    fn a_good_part_is_upper_cased_and_costed_in_fen() {
        let p = PartInput {
            code: Some(" poe-sw-8 ".into()),
            name: Some("8口PoE交换机".into()),
            unit: Some("台".into()),
            unit_cost: Some(399.9),
            min_qty: Some(2),
            max_qty: Some(6),
            critical: Some(true),
            ..Default::default()
        }
        .validate()
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(p.code, "POE-SW-8");
        assert_eq!(p.unit_cost_fen, 39990);
        assert!(p.critical && p.active);
        assert_eq!((p.min_qty, p.max_qty), (2, Some(6)));
    }

    #[test]
    fn bad_parts_name_their_fields() {
        let e = PartInput {
            code: Some("A B".into()),
            unit: None,
            unit_cost: Some(-3.0),
            min_qty: Some(5),
            max_qty: Some(2),
            ..Default::default()
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(
            fields(&e),
            vec![
                ("code", "invalid"),
                ("name", "required"),
                ("unit", "required"),
                ("unit_cost", "out_of_range"),
                ("max_qty", "out_of_range")
            ]
        );
    }

    #[test]
    fn warehouses_default_to_depot_and_vehicles_need_a_holder() {
        let w = WarehouseInput { code: Some("dep".into()), name: Some("县城仓库".into()), ..Default::default() }
            .validate()
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((w.code.as_str(), w.kind), ("DEP", WarehouseKind::Depot));
        let e = WarehouseInput {
            code: Some("v1".into()),
            name: Some("车".into()),
            kind: Some("vehicle".into()),
            ..Default::default()
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(fields(&e), vec![("holder_user_id", "required")]);
        let e = WarehouseInput {
            code: Some("v1".into()),
            name: Some("车".into()),
            kind: Some("truck".into()),
            ..Default::default()
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(fields(&e), vec![("kind", "unknown_value")]);
    }

    #[test]
    fn quantities_are_positive_whole_units() {
        for q in [0, -1, MAX_QTY + 1] {
            let e = MovementInput { qty: Some(q), ..mv("issue") }.validate().err().unwrap_or_default();
            assert_eq!(fields(&e), vec![("qty", "out_of_range")], "{q}");
        }
        let e = MovementInput { qty: None, part_id: None, ..mv("issue") }.validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("part_id", "required"), ("qty", "required")]);
        let e = mv("borrow").validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("kind", "unknown_value")]);
        assert!(mv("issue").validate().is_ok());
    }

    #[test]
    fn transfers_need_another_warehouse() {
        let e = mv("transfer").validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("to_warehouse_id", "required")]);
        let e = MovementInput { to_warehouse_id: Some(10), ..mv("transfer") }.validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("to_warehouse_id", "same_warehouse")]);
        let m = MovementInput { to_warehouse_id: Some(11), ..mv("transfer") }
            .validate()
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(m.to_warehouse_id, Some(11));
        let e = MovementInput { to_warehouse_id: Some(11), ..mv("issue") }.validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("to_warehouse_id", "invalid")]);
    }

    #[test]
    fn adjustments_need_a_direction_and_a_reason() {
        let e = mv("adjustment").validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("direction", "required"), ("note", "required")]);
        let e = MovementInput { direction: Some("up".into()), note: Some("盘亏".into()), ..mv("adjustment") }
            .validate()
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&e), vec![("direction", "unknown_value")]);
        let m =
            MovementInput { direction: Some("decrease".into()), note: Some("盘亏 1 个".into()), ..mv("adjustment") }
                .validate()
                .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(m.direction, Some(AdjustDirection::Decrease));
        let e =
            MovementInput { direction: Some("increase".into()), ..mv("receipt") }.validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("direction", "invalid")]);
    }

    #[test]
    fn receipt_costs_and_serials() {
        let m = MovementInput { unit_cost: Some(88.8), serial_no: Some("sn-1".into()), ..mv("receipt") }
            .validate()
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(m.unit_cost_fen, Some(8880));
        assert_eq!(m.serial_no.as_deref(), Some("SN-1"));
        let e = MovementInput { unit_cost: Some(-0.01), ..mv("receipt") }.validate().err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("unit_cost", "out_of_range")]);
    }

    #[test]
    fn effects_of_each_kind() {
        use MovementKind::*;
        let e = |k, d| effect(k, d, None, 4);
        assert_eq!(e(Receipt, None), Effect { on_hand: 4, defective: 0, to_on_hand: 0 });
        assert_eq!(e(Return, None), Effect { on_hand: 4, defective: 0, to_on_hand: 0 });
        assert_eq!(e(Issue, None), Effect { on_hand: -4, defective: 0, to_on_hand: 0 });
        assert_eq!(e(Scrap, None), Effect { on_hand: -4, defective: 0, to_on_hand: 0 });
        // A broken part brought back is never usable stock.
        assert_eq!(e(DefectiveReturn, None), Effect { on_hand: 0, defective: 4, to_on_hand: 0 });
        assert_eq!(e(Transfer, None), Effect { on_hand: -4, defective: 0, to_on_hand: 4 });
        assert_eq!(e(Adjustment, Some(AdjustDirection::Increase)).on_hand, 4);
        assert_eq!(e(Adjustment, Some(AdjustDirection::Decrease)).on_hand, -4);
        assert!(Issue.takes(None) && Transfer.takes(None) && Scrap.takes(None));
        assert!(
            Adjustment.takes(Some(AdjustDirection::Decrease)) && !Adjustment.takes(Some(AdjustDirection::Increase))
        );
        assert!(!Receipt.takes(None) && !Return.takes(None) && !DefectiveReturn.takes(None));
    }

    fn row(kind: MovementKind, direction: Option<AdjustDirection>, qty: i64, wh: i64, to: Option<i64>) -> LedgerEntry {
        LedgerEntry { kind, direction, outcome: None, qty, warehouse_id: wh, to_warehouse_id: to }
    }

    fn disposal(outcome: Outcome, qty: i64, wh: i64) -> LedgerEntry {
        let kind = if outcome == Outcome::Repaired { MovementKind::Return } else { MovementKind::Scrap };
        LedgerEntry { outcome: Some(outcome), ..row(kind, None, qty, wh, None) }
    }

    #[test]
    fn disposals_move_units_off_the_defective_count() {
        use MovementKind::*;
        let none = Effect { on_hand: 0, defective: 0, to_on_hand: 0 };
        assert_eq!(
            effect(Return, None, Some(Outcome::Repaired), 4),
            Effect { on_hand: 4, defective: -4, ..none },
            "a repaired part rejoins usable stock"
        );
        // An RMA or a scrapped defective part never touches usable stock, although the
        // row's kind is `scrap`.
        assert_eq!(effect(Scrap, None, Some(Outcome::Rma), 4), Effect { defective: -4, ..none });
        assert_eq!(effect(Scrap, None, Some(Outcome::Scrap), 4), Effect { defective: -4, ..none });
        // Without an outcome `scrap` is still a write-off of usable stock.
        assert_eq!(effect(Scrap, None, None, 4), Effect { on_hand: -4, ..none });
    }

    #[test]
    fn the_ledger_sums_per_warehouse() {
        use MovementKind::*;
        let rows = vec![
            row(Receipt, None, 10, 1, None),
            row(Issue, None, 3, 1, None),
            row(Transfer, None, 4, 1, Some(2)),
            row(Return, None, 1, 2, None),
            row(DefectiveReturn, None, 2, 2, None),
            row(Adjustment, Some(AdjustDirection::Decrease), 1, 1, None),
            row(Adjustment, Some(AdjustDirection::Increase), 2, 2, None),
            row(Scrap, None, 1, 2, None),
        ];
        assert_eq!(ledger_on_hand(rows.clone(), 1), 10 - 3 - 4 - 1);
        assert_eq!(ledger_on_hand(rows.clone(), 2), 4 + 1 + 2 - 1);
        assert_eq!(ledger_on_hand(rows.clone(), 3), 0);
        assert_eq!(ledger_defective(rows.clone(), 1), 0);
        assert_eq!(ledger_defective(rows, 2), 2);
    }

    #[test]
    fn the_ledger_counts_disposals() {
        use MovementKind::*;
        let rows = vec![
            row(Receipt, None, 10, 1, None),
            row(Issue, None, 4, 1, None),
            row(DefectiveReturn, None, 4, 1, None),
            row(DefectiveReturn, None, 1, 2, None),
            disposal(Outcome::Repaired, 2, 1),
            disposal(Outcome::Rma, 1, 1),
            disposal(Outcome::Scrap, 1, 2),
            row(Scrap, None, 1, 1, None),
        ];
        assert_eq!(ledger_on_hand(rows.clone(), 1), 10 - 4 + 2 - 1);
        assert_eq!(ledger_defective(rows.clone(), 1), 4 - 2 - 1);
        assert_eq!(ledger_on_hand(rows.clone(), 2), 0);
        assert_eq!(ledger_defective(rows, 2), 0);
    }

    #[test]
    fn moving_average_cost() {
        // 10 at ¥100, then 30 at ¥120: (1000 + 3600) / 40 = ¥115.
        let a = moving_average(0, 0, 10, 10_000);
        assert_eq!(a, 10_000);
        assert_eq!(moving_average(10, a, 30, 12_000), 11_500);
        // Rounded half up to the fen: (1·100 + 2·101) / 3 = 100.67 → 101.
        assert_eq!(moving_average(1, 100, 2, 101), 101);
        // (1·100 + 1·101) / 2 = 100.5 → 101; (2·100 + 1·101)/3 = 100.33 → 100.
        assert_eq!(moving_average(1, 100, 1, 101), 101);
        assert_eq!(moving_average(2, 100, 1, 101), 100);
        // Nothing on hand and nothing coming: the average stays.
        assert_eq!(moving_average(0, 777, 0, 5), 777);
        // Huge values do not overflow.
        assert_eq!(moving_average(MAX_QTY, MAX_COST_FEN, MAX_QTY, MAX_COST_FEN), MAX_COST_FEN);
    }

    #[test]
    fn permissions() {
        let a = |roles: Vec<Role>| Actor {
            id: UserId(1),
            username: "u".into(),
            display_name: "u".into(),
            customer_id: roles.contains(&Role::Customer).then_some(CustomerId(1)),
            roles,
            locale: "zh-CN".into(),
        };
        let store = a(vec![Role::Storekeeper]);
        let tech = a(vec![Role::Technician]);
        let agent = a(vec![Role::Agent]);
        let school = a(vec![Role::Customer]);
        let manager = a(vec![Role::Manager]);
        for k in MovementKind::ALL {
            assert!(can_post(&store, *k) && can_post(&manager, *k));
            assert_eq!(
                can_post(&tech, *k),
                matches!(k, MovementKind::Return | MovementKind::DefectiveReturn | MovementKind::Transfer)
            );
            assert!(!can_post(&agent, *k) && !can_post(&school, *k));
        }
        assert!(can_read_stock(&tech) && can_read_stock(&agent) && !can_read_stock(&school));
        assert!(can_manage_stock(&store) && !can_manage_stock(&tech));
    }
}

//! Stock reports and the stocktake (issue 5; manual §2.5(3)(4)): capital tied up per
//! warehouse and category, turnover over a period, slow movers, failure counts and rates
//! from defective returns, the count sheet with its variances posted as adjustments, and
//! the catalogue's Excel export and all-or-nothing import.
//!
//! Decisions:
//! - Values are usable on-hand × moving-average cost now; defective parts carry no value.
//! - Turnover = issued value ÷ average stock value, the average being (opening + closing)
//!   ÷ 2, where the period's closing value is today's value less the net value of the
//!   movements since, and its opening value the closing less the period's net change.
//!   Costs of past movements are those recorded on them, so this is the usual approximation.
//! - A slow mover is usable stock with no issue from its warehouse in the
//!   [`SLOW_DAYS`] days before the period's end.
//! - A failure rate is units brought back broken ÷ units issued in the same period.
//! - A stocktake posts one `adjustment` per variance, all in one transaction (all or
//!   none; shortages are checked as for any movement); lines that match the books post
//!   nothing. A line whose stock moved after the books were read makes it a 409 `stale`
//!   (post the count again), rather than an adjustment to a number nobody counted.

use crate::excel::RowError;
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::FieldErrors;
use aftercare_domain::WarehouseId;
use aftercare_domain::parts::MovementKind;
use aftercare_domain::parts::{
    MAX_QTY, MovementInput, PartInput, can_manage_stock, can_read_stock, fen_to_yuan, yuan_to_fen,
};
use aftercare_domain::validation::required;
use aftercare_store::parts::{self as parts_store, MovementRow, MovementWrite, PartQuery, Posted};
use aftercare_store::stock_reports::{self as store, FailureRow, SlowMover, ValueGroup};

/// The rows of this area, for the web crate (which does not name the store).
pub use aftercare_store::stock_reports::CountLine;
use aftercare_store::{Page, StoreError};
use calamine::Reader;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Stock with no issue for this many days is a slow mover.
pub const SLOW_DAYS: i64 = 180;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Valuation {
    /// The period, local dates, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    pub total_units: i64,
    pub total_fen: i64,
    pub by_warehouse: Vec<ValueGroup>,
    pub by_category: Vec<ValueGroup>,
    /// Issued in the period: units and value (fen).
    pub issued_units: i64,
    pub issued_fen: i64,
    /// Stock value at the period's start and end, and their mean (fen).
    pub opening_fen: i64,
    pub closing_fen: i64,
    pub average_fen: i64,
    /// Issued value ÷ average stock value; none when there was no stock.
    pub turnover: Option<f64>,
    /// Days of stock: the period's days ÷ turnover; none without issues.
    pub turnover_days: Option<f64>,
    /// Slow movers: no issue since this date.
    pub slow_since: NaiveDate,
    pub slow_movers: Vec<SlowMover>,
    pub slow_fen: i64,
}

/// Failures of a part, model or supplier, with the rate when issues are known.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Failure {
    #[serde(flatten)]
    pub row: FailureRow,
    /// failures ÷ issued; none when nothing was issued.
    pub rate: Option<f64>,
}

impl From<FailureRow> for Failure {
    fn from(row: FailureRow) -> Self {
        let rate = (row.issued > 0).then(|| row.failures as f64 / row.issued as f64);
        Failure { row, rate }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Quality {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total_failures: i64,
    pub by_part: Vec<Failure>,
    pub by_model: Vec<Failure>,
    pub by_supplier: Vec<Failure>,
}

/// A stocktake as posted (API `POST /api/v1/stock/counts`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CountInput {
    pub warehouse_id: Option<i64>,
    /// Why the books are corrected (e.g. `2026年11月月末盘点`); required.
    pub reason: Option<String>,
    pub lines: Option<Vec<CountLineInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CountLineInput {
    pub part_id: Option<i64>,
    /// Units found on the shelf.
    pub counted: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CountResult {
    pub warehouse_id: i64,
    /// Lines counted.
    pub lines: usize,
    /// Lines that matched the books.
    pub unchanged: usize,
    /// The adjustments posted, one per variance.
    pub adjustments: Vec<MovementRow>,
}

/// (field, 中文 header, English header) of the catalogue sheet.
const PART_COLS: &[crate::excel::Col] = &[
    ("code", "备件编码", "Code"),
    ("name", "名称", "Name"),
    ("spec", "规格型号", "Specification"),
    ("unit", "单位", "Unit"),
    ("category", "类别", "Category"),
    ("systems", "适用系统", "Systems"),
    ("models", "适用型号", "Models"),
    ("critical", "关键备件", "Critical"),
    ("supplier", "供应商", "Supplier"),
    ("unit_cost", "单价(元)", "Unit cost (yuan)"),
    ("lead_time_days", "采购周期(天)", "Lead time (days)"),
    ("min_qty", "储备下限", "Min qty"),
    ("max_qty", "储备上限", "Max qty"),
    ("active", "启用", "Active"),
];
pub const PARTS_SHEET: (&str, &str) = ("备件", "Parts");

impl Services {
    /// Local midnight starting `d`, in UTC.
    fn day_start(&self, d: NaiveDate) -> DateTime<Utc> {
        let local = d.and_time(chrono::NaiveTime::MIN);
        self.tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| local.and_utc())
    }

    /// The period `[from, to]` in local dates: by default the last 365 days up to today.
    fn period(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(NaiveDate, NaiveDate)> {
        let to = to.unwrap_or_else(|| Utc::now().with_timezone(&self.tz).date_naive());
        let from = from.unwrap_or(to - Duration::days(364));
        if from > to {
            return Err(FieldErrors::single("to", "date_order").into());
        }
        Ok((from, to))
    }

    pub async fn stock_valuation(
        &self,
        by: &Actor,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Valuation> {
        require(can_read_stock(by))?;
        let (from, to) = self.period(from, to)?;
        let (since, until) = (self.day_start(from), self.day_start(to + Duration::days(1)));
        let by_warehouse = store::value_by_warehouse(&self.db).await?;
        let by_category = store::value_by_category(&self.db).await?;
        let total_fen = by_warehouse.iter().map(|g| g.value_fen).sum::<i64>();
        let total_units = by_warehouse.iter().map(|g| g.units).sum::<i64>();
        let period = store::flows(&self.db, since, until).await?;
        let now = Utc::now();
        let after = if until < now { store::flows(&self.db, until, now).await?.net_change_fen } else { 0 };
        let closing_fen = (total_fen - after).max(0);
        let opening_fen = (closing_fen - period.net_change_fen).max(0);
        let average_fen = (opening_fen + closing_fen) / 2;
        let days = (to - from).num_days() + 1;
        let turnover = (average_fen > 0).then(|| period.issued_fen as f64 / average_fen as f64);
        let turnover_days = turnover.filter(|t| *t > 0.0).map(|t| days as f64 / t);
        let slow_since = to + Duration::days(1) - Duration::days(SLOW_DAYS);
        let slow_movers = store::slow_movers(&self.db, self.day_start(slow_since)).await?;
        let slow_fen = slow_movers.iter().map(|s| s.value_fen).sum();
        Ok(Valuation {
            from,
            to,
            days,
            total_units,
            total_fen,
            by_warehouse,
            by_category,
            issued_units: period.issued_units,
            issued_fen: period.issued_fen,
            opening_fen,
            closing_fen,
            average_fen,
            turnover,
            turnover_days,
            slow_since,
            slow_movers,
            slow_fen,
        })
    }

    pub async fn stock_quality(&self, by: &Actor, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Quality> {
        require(can_read_stock(by))?;
        let (from, to) = self.period(from, to)?;
        let (since, until) = (self.day_start(from), self.day_start(to + Duration::days(1)));
        let parts: Vec<Failure> =
            store::failures_by_part(&self.db, since, until).await?.into_iter().map(Failure::from).collect();
        let by_model = store::failures_by_model(&self.db, since, until).await?.into_iter().map(Failure::from).collect();
        // Suppliers from the parts' rows: the ledger is read once for both.
        let mut suppliers: Vec<FailureRow> = Vec::new();
        for f in &parts {
            match suppliers.iter_mut().find(|s| s.key == f.row.supplier) {
                Some(s) => {
                    s.failures += f.row.failures;
                    s.issued += f.row.issued;
                }
                None => suppliers.push(FailureRow {
                    id: 0,
                    key: f.row.supplier.clone(),
                    name: String::new(),
                    failures: f.row.failures,
                    issued: f.row.issued,
                    supplier: String::new(),
                }),
            }
        }
        suppliers.retain(|s| s.failures > 0);
        suppliers.sort_by(|a, b| b.failures.cmp(&a.failures).then_with(|| a.key.cmp(&b.key)));
        let by_supplier = suppliers.into_iter().map(Failure::from).collect();
        // A supplier's rate counts all its parts issued; the list shows only the parts that failed.
        let by_part: Vec<Failure> = parts.into_iter().filter(|f| f.row.failures > 0).collect();
        let total_failures = by_part.iter().map(|f| f.row.failures).sum();
        Ok(Quality { from, to, total_failures, by_part, by_model, by_supplier })
    }

    /// The count sheet of a warehouse: every part it holds with the book quantity.
    pub async fn count_sheet(&self, by: &Actor, warehouse_id: WarehouseId) -> Result<Vec<CountLine>> {
        require(can_read_stock(by))?;
        let warehouse_id = warehouse_id.0;
        parts_store::get_warehouse(&self.db, warehouse_id).await?;
        Ok(store::count_sheet(&self.db, warehouse_id).await?)
    }

    /// Posts a stocktake: an `adjustment` (with the reason as its note) for every line whose
    /// count differs from the books; matching lines post nothing. Bad input is checked whole
    /// first and changes nothing.
    pub async fn post_count(&self, by: &Actor, input: &CountInput) -> Result<CountResult> {
        require(can_manage_stock(by))?;
        let mut e = FieldErrors::default();
        let reason = required(&mut e, "reason", input.reason.as_deref(), 500);
        if input.warehouse_id.is_none() {
            e.push("warehouse_id", "required");
        }
        let lines = input.lines.as_deref().unwrap_or_default();
        if lines.is_empty() {
            e.push("lines", "required");
        }
        let mut seen = HashSet::new();
        for (i, l) in lines.iter().enumerate() {
            match l.part_id {
                None => e.push(format!("lines[{i}].part_id"), "required"),
                Some(p) if !seen.insert(p) => e.push(format!("lines[{i}].part_id"), "duplicate"),
                Some(_) => {}
            }
            match l.counted {
                None => e.push(format!("lines[{i}].counted"), "required"),
                Some(c) if !(0..=MAX_QTY).contains(&c) => e.push(format!("lines[{i}].counted"), "out_of_range"),
                Some(_) => {}
            }
        }
        let Some(warehouse_id) = input.warehouse_id.filter(|_| e.is_empty()) else {
            return Err(e.into());
        };
        let wh = parts_store::get_warehouse(&self.db, warehouse_id).await.map_err(|err| match err {
            StoreError::NotFound => ServiceError::Invalid(FieldErrors::single("warehouse_id", "not_found")),
            other => other.into(),
        })?;
        let sheet = store::count_sheet(&self.db, warehouse_id).await?;
        let book: HashMap<i64, i64> = sheet.iter().map(|l| (l.part_id, l.book)).collect();
        let mut e = FieldErrors::default();
        for (i, l) in lines.iter().enumerate() {
            let p = l.part_id.unwrap_or_default();
            if !book.contains_key(&p) && parts_store::get_part(&self.db, p).await.is_err() {
                e.push(format!("lines[{i}].part_id"), "not_found");
            }
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        let mut items = Vec::new();
        let mut unchanged = 0;
        for l in lines {
            let (part_id, counted) = (l.part_id.unwrap_or_default(), l.counted.unwrap_or_default());
            let diff = counted - book.get(&part_id).copied().unwrap_or(0);
            if diff == 0 {
                unchanged += 1;
                continue;
            }
            let m = MovementInput {
                kind: Some(MovementKind::Adjustment.as_str().into()),
                part_id: Some(part_id),
                warehouse_id: Some(warehouse_id),
                qty: Some(diff.abs()),
                direction: Some(if diff > 0 { "increase" } else { "decrease" }.into()),
                note: Some(reason.clone()),
                ..Default::default()
            };
            let expect_on_hand = Some(book.get(&part_id).copied().unwrap_or(0));
            items.push((self.writer(by), MovementWrite { movement: m.validate()?, now, expect_on_hand }));
        }
        // The whole count in one transaction, and only against the books it was worked out
        // from: if any of its stock moved since the sheet was read, none is posted (409).
        let posted = parts_store::post_many(&self.db, &items, true).await.map_err(|err| match err {
            StoreError::Insufficient { part_id, on_hand, .. } => ServiceError::Insufficient {
                part: sheet
                    .iter()
                    .find(|l| l.part_id == part_id)
                    .map(|l| format!("{} {}", l.part_code, l.part_name))
                    .unwrap_or_else(|| format!("#{part_id}")),
                warehouse: wh.name.clone(),
                on_hand,
            },
            other => other.into(),
        })?;
        let mut adjustments = Vec::with_capacity(posted.len());
        for p in posted {
            if let Posted::Done(row, raised) = p {
                for alert in raised {
                    self.mail_shortage(alert).await;
                }
                adjustments.push(*row);
            }
        }
        Ok(CountResult { warehouse_id, lines: lines.len(), unchanged, adjustments })
    }

    /// The columns of [`Services::parts_table`] that are numbers: price, lead time, quotas.
    pub const PARTS_NUMERIC: [usize; 4] = [9, 10, 11, 12];

    /// The whole catalogue as a table, header first, in the user's language; the
    /// headers are the import's, so an export imports again unchanged.
    pub async fn parts_table(&self, by: &Actor, english: bool) -> Result<Vec<Vec<String>>> {
        require(can_read_stock(by))?;
        let rows = parts_store::list_parts(&self.db, &PartQuery::default(), Page::all()).await?;
        let mut out = vec![PART_COLS.iter().map(|c| if english { c.2 } else { c.1 }.to_string()).collect()];
        let yes = |b: bool| match (b, english) {
            (true, false) => "是",
            (false, false) => "否",
            (true, true) => "yes",
            (false, true) => "no",
        };
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
        for p in rows.items {
            out.push(vec![
                p.code.clone(),
                p.name.clone(),
                o(&p.spec),
                p.unit.clone(),
                o(&p.category),
                o(&p.systems),
                o(&p.models),
                yes(p.critical).into(),
                o(&p.supplier),
                fen_to_yuan(p.unit_cost_fen).to_string(),
                n(p.lead_time_days),
                p.min_qty.to_string(),
                n(p.max_qty),
                yes(p.active).into(),
            ]);
        }
        Ok(out)
    }

    /// Imports the catalogue sheet (备件/Parts, else the first sheet): a new code is added,
    /// a known one replaced. Every row is checked first; one bad row rejects the whole file
    /// with a report of all of them. Returns (created, updated).
    pub async fn import_parts(&self, by: &Actor, bytes: &[u8]) -> Result<(usize, usize)> {
        require(can_manage_stock(by))?;
        let (sheet, rows) = self
            .parse_upload(bytes, |bytes| {
                let mut wb = crate::excel::open_upload(bytes)?;
                let names = wb.sheet_names();
                let sheet = names
                    .iter()
                    .find(|n| n.trim() == PARTS_SHEET.0 || n.trim().eq_ignore_ascii_case(PARTS_SHEET.1))
                    .or(names.first())
                    .cloned()
                    .ok_or_else(|| FieldErrors::single("file", "invalid_xlsx"))?;
                let read = crate::excel::read_sheet(&mut wb, &sheet, PART_COLS, &mut Default::default())?;
                if !read.fields.contains(&"code") {
                    return Err(FieldErrors::single("file", "no_code_column").into());
                }
                Ok((sheet, read.rows))
            })
            .await?;
        let mut errors = Vec::new();
        let mut parts = Vec::new();
        let mut codes: HashMap<String, usize> = HashMap::new();
        for (row, m) in rows {
            let mut err = |field: &str, code: &'static str| {
                errors.push(RowError { sheet: sheet.clone(), row, field: field.into(), code })
            };
            let g = |k: &str| m.get(k).cloned();
            let mut int = |k: &str| match g(k) {
                None => None,
                Some(s) => s.parse::<i64>().map_err(|_| err(k, "invalid")).ok(),
            };
            let (lead_time_days, min_qty, max_qty) = (int("lead_time_days"), int("min_qty"), int("max_qty"));
            let mut flag = |k: &str| match g(k) {
                None => None,
                Some(s) => crate::excel::parse_bool(Some(&s)).unwrap_or_else(|()| {
                    err(k, "invalid");
                    None
                }),
            };
            let (critical, active) = (flag("critical"), flag("active"));
            let unit_cost = match g("unit_cost") {
                None => None,
                Some(s) => match s.parse::<f64>().ok().filter(|y| yuan_to_fen(*y).is_some()) {
                    Some(y) => Some(y),
                    None => {
                        err("unit_cost", "invalid");
                        None
                    }
                },
            };
            let input = PartInput {
                code: g("code"),
                name: g("name"),
                spec: g("spec"),
                unit: g("unit"),
                category: g("category"),
                systems: g("systems"),
                models: g("models"),
                critical,
                supplier: g("supplier"),
                unit_cost,
                lead_time_days,
                min_qty,
                max_qty,
                active,
            };
            match input.validate() {
                Ok(p) => {
                    if codes.insert(p.code.clone(), row).is_some() {
                        err("code", "duplicate");
                    }
                    parts.push(p);
                }
                Err(fe) => fe.0.into_iter().for_each(|x| err(&x.field, x.code)),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(ServiceError::Import(errors));
        }
        Ok(store::import_parts(&self.db, &self.writer(by), &parts, Utc::now()).await?)
    }
}

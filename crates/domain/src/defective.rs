//! What becomes of a defective part brought back (issue 5): repaired into usable stock,
//! sent back to the vendor (RMA), or scrapped. Pure: the store applies it in one
//! transaction.
//!
//! Decisions:
//! - A disposal always takes from the `defective` count, never from usable stock, and
//!   never below zero.
//! - The ledger row's kind is `return` for `repaired` (the units rejoin usable on-hand at
//!   the current average) and `scrap` for both `rma` and `scrap`; the row's `outcome`
//!   column says which, so an RMA is never mistaken for a write-off. Those two rows carry
//!   a zero unit cost: a defective part was never in the stock's value.

use crate::parts::MAX_QTY;
use crate::validation::{FieldErrors, optional};
use serde::{Deserialize, Serialize};

string_enum!(
    /// What happens to a defective part.
    Outcome { Repaired = "repaired", Rma = "rma", Scrap = "scrap" }
);

/// `POST /api/v1/stock/defective/dispose`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisposeInput {
    pub part_id: Option<i64>,
    pub warehouse_id: Option<i64>,
    /// Whole units, more than zero.
    pub qty: Option<i64>,
    /// `repaired|rma|scrap`.
    pub outcome: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDisposal {
    pub part_id: i64,
    pub warehouse_id: i64,
    pub qty: i64,
    pub outcome: Outcome,
    /// `"<outcome>: <note>"`, so the ledger's note column alone still tells the story.
    pub note: String,
}

impl DisposeInput {
    pub fn validate(&self) -> Result<NewDisposal, FieldErrors> {
        let mut e = FieldErrors::default();
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
        let outcome = match self.outcome.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("outcome", "required");
                None
            }
            Some(s) => {
                let o = Outcome::parse(s);
                if o.is_none() {
                    e.push("outcome", "unknown_value");
                }
                o
            }
        };
        let note = optional(&mut e, "note", self.note.as_deref(), 500);
        match (self.part_id, self.warehouse_id, self.qty, outcome) {
            (Some(part_id), Some(warehouse_id), Some(qty), Some(outcome)) if e.is_empty() => {
                let label = match outcome {
                    Outcome::Repaired => "Repaired",
                    Outcome::Rma => "RMA",
                    Outcome::Scrap => "Scrap",
                };
                let note = match note {
                    Some(n) => format!("{label}: {n}"),
                    None => label.to_string(),
                };
                Ok(NewDisposal { part_id, warehouse_id, qty, outcome, note })
            }
            _ => Err(e.in_area("stock")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_the_input() {
        let ok = DisposeInput {
            part_id: Some(1),
            warehouse_id: Some(2),
            qty: Some(3),
            outcome: Some("rma".into()),
            note: Some("寄回厂家".into()),
        };
        let d = ok.validate().unwrap();
        assert_eq!(d.outcome, Outcome::Rma);
        assert_eq!(d.note, "RMA: 寄回厂家");
        for bad in [
            DisposeInput { qty: Some(0), ..ok.clone() },
            DisposeInput { qty: Some(-1), ..ok.clone() },
            DisposeInput { outcome: Some("lost".into()), ..ok.clone() },
            DisposeInput { part_id: None, ..ok.clone() },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}

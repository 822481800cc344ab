//! Equipment (设备, the installed base): status, raw input, checked values, rules.

use crate::validation::{FieldErrors, optional, optional_date, required};
use crate::{CustomerId, System};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentStatus {
    InService,
    Faulty,
    UnderRepair,
    Retired,
}

impl EquipmentStatus {
    pub const ALL: [EquipmentStatus; 4] =
        [EquipmentStatus::InService, EquipmentStatus::Faulty, EquipmentStatus::UnderRepair, EquipmentStatus::Retired];

    pub fn as_str(self) -> &'static str {
        match self {
            EquipmentStatus::InService => "in_service",
            EquipmentStatus::Faulty => "faulty",
            EquipmentStatus::UnderRepair => "under_repair",
            EquipmentStatus::Retired => "retired",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            EquipmentStatus::InService => "在用",
            EquipmentStatus::Faulty => "故障",
            EquipmentStatus::UnderRepair => "维修中",
            EquipmentStatus::Retired => "已报废",
        }
    }

    pub fn parse(s: &str) -> Option<EquipmentStatus> {
        let s = s.trim();
        Self::ALL.into_iter().find(|x| x.as_str() == s || x.zh() == s)
    }
}

/// Equipment as typed in: everything is text until checked, so a bad value is a named
/// field error (422), not a parse failure of the whole body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EquipmentInput {
    pub customer_id: Option<CustomerId>,
    /// One of `network`, `server_room`, `surveillance`, `classroom`, `cloud`, `broadcast`.
    pub system: Option<String>,
    pub kind: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial_no: Option<String>,
    pub location: Option<String>,
    /// `YYYY-MM-DD`
    pub installed_on: Option<String>,
    /// `YYYY-MM-DD`
    pub warranty_until: Option<String>,
    pub critical: Option<bool>,
    /// One of `in_service` (default), `faulty`, `under_repair`, `retired`.
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEquipment {
    pub customer_id: CustomerId,
    pub system: System,
    pub kind: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial_no: String,
    pub location: Option<String>,
    pub installed_on: Option<NaiveDate>,
    pub warranty_until: Option<NaiveDate>,
    pub critical: bool,
    pub status: EquipmentStatus,
}

impl EquipmentInput {
    pub fn validate(&self) -> Result<NewEquipment, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.customer_id.is_none() {
            e.push("customer_id", "required");
        }
        let system = match self.system.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("system", "required");
                None
            }
            Some(s) => {
                let v = System::parse(s);
                if v.is_none() {
                    e.push("system", "unknown_value");
                }
                v
            }
        };
        let kind = required(&mut e, "kind", self.kind.as_deref(), 50);
        let brand = optional(&mut e, "brand", self.brand.as_deref(), 50);
        let model = optional(&mut e, "model", self.model.as_deref(), 80);
        let serial_no = required(&mut e, "serial_no", self.serial_no.as_deref(), 64);
        if serial_no.chars().any(char::is_whitespace) {
            e.push("serial_no", "invalid");
        }
        let location = optional(&mut e, "location", self.location.as_deref(), 100);
        let installed_on = optional_date(&mut e, "installed_on", self.installed_on.as_deref());
        let warranty_until = optional_date(&mut e, "warranty_until", self.warranty_until.as_deref());
        if let (Some(a), Some(b)) = (installed_on, warranty_until)
            && b < a
        {
            e.push("warranty_until", "date_order");
        }
        let status = match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(EquipmentStatus::InService),
            Some(s) => {
                let v = EquipmentStatus::parse(s);
                if v.is_none() {
                    e.push("status", "unknown_value");
                }
                v
            }
        };
        match (self.customer_id, system, status) {
            (Some(customer_id), Some(system), Some(status)) if e.is_empty() => Ok(NewEquipment {
                customer_id,
                system,
                kind,
                brand,
                model,
                serial_no: serial_no.to_uppercase(),
                location,
                installed_on,
                warranty_until,
                critical: self.critical.unwrap_or(false),
                status,
            }),
            _ => Err(e),
        }
    }
}

/// Warranty state on a given day, for the list badge and the "expiring" filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarrantyState {
    Unknown,
    Valid,
    /// Ends within [`EXPIRING_DAYS`].
    Expiring,
    Expired,
}

pub const EXPIRING_DAYS: i64 = 90;

pub fn warranty_state(until: Option<NaiveDate>, today: NaiveDate) -> WarrantyState {
    match until {
        None => WarrantyState::Unknown,
        Some(d) if d < today => WarrantyState::Expired,
        Some(d) if (d - today).num_days() <= EXPIRING_DAYS => WarrantyState::Expiring,
        Some(_) => WarrantyState::Valid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> EquipmentInput {
        EquipmentInput {
            customer_id: Some(CustomerId(1)),
            system: Some("surveillance".into()),
            kind: Some("网络摄像机".into()),
            serial_no: Some("ds-2cd3t46-0001".into()),
            installed_on: Some("2022-08-20".into()),
            warranty_until: Some("2025-08-19".into()),
            ..Default::default()
        }
    }

    #[test]
    fn good_equipment_defaults_to_in_service_and_upper_case_serial() {
        let e = good().validate().unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(e.status, EquipmentStatus::InService);
        assert_eq!(e.serial_no, "DS-2CD3T46-0001");
        assert!(!e.critical);
    }

    #[test]
    fn unknown_enums_bad_dates_and_order_are_field_errors() {
        let mut i = good();
        i.system = Some("lighting".into());
        i.status = Some("broken".into());
        i.installed_on = Some("2022-13-01".into());
        let e = i.validate().err().unwrap_or_default();
        let got: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            got,
            vec![("system", "unknown_value"), ("installed_on", "invalid_date"), ("status", "unknown_value")]
        );

        let mut i = good();
        i.warranty_until = Some("2021-01-01".into());
        i.customer_id = None;
        let e = i.validate().err().unwrap_or_default();
        let got: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(got, vec![("customer_id", "required"), ("warranty_until", "date_order")]);
    }

    #[test]
    fn chinese_status_names_parse() {
        assert_eq!(EquipmentStatus::parse("维修中"), Some(EquipmentStatus::UnderRepair));
    }

    #[test]
    fn warranty_states() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        assert_eq!(warranty_state(None, today), WarrantyState::Unknown);
        assert_eq!(warranty_state(d("2026-11-26"), today), WarrantyState::Expired);
        assert_eq!(warranty_state(d("2026-11-27"), today), WarrantyState::Expiring);
        assert_eq!(warranty_state(d("2027-02-25"), today), WarrantyState::Expiring);
        assert_eq!(warranty_state(d("2027-02-26"), today), WarrantyState::Valid);
    }
}
try_from_string!(EquipmentStatus);

impl std::fmt::Display for EquipmentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

string_enum!(
    /// What a technician or engineer proposes for a piece of equipment (§二 2.6).
    SuggestionKind {
        /// 升级: more capacity, newer firmware or model.
        Upgrade = "upgrade",
        /// 更换: worn out or beyond economic repair.
        Replace = "replace",
    }
);

string_enum!(
    /// Where a suggestion stands on the manager's list.
    SuggestionStatus {
        Open = "open",
        /// Taken up: put to the school or into the plan.
        Accepted = "accepted",
        Declined = "declined",
    }
);

/// A suggestion as typed (`POST /api/v1/equipment/{id}/suggestions`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuggestionInput {
    /// `upgrade` or `replace`.
    pub kind: Option<String>,
    /// Why: age, repeated faults, capacity.
    pub reason: Option<String>,
    /// The ticket it came from, by number (`GD20261206-0022`), when there is one.
    pub ticket: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSuggestion {
    pub kind: SuggestionKind,
    pub reason: String,
}

impl SuggestionInput {
    pub fn validate(&self) -> Result<NewSuggestion, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = match self.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("kind", "required");
                None
            }
            Some(k) => {
                let p = SuggestionKind::parse(k);
                if p.is_none() {
                    e.push("kind", "unknown_value");
                }
                p
            }
        };
        let reason = required(&mut e, "reason", self.reason.as_deref(), 2000);
        match kind {
            Some(kind) if e.is_empty() => Ok(NewSuggestion { kind, reason }),
            _ => Err(e),
        }
    }
}

/// The manager's decision (`POST /api/v1/suggestions/{id}/decision`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuggestionDecisionInput {
    /// `accepted` or `declined`.
    pub status: Option<String>,
    pub note: Option<String>,
}

impl SuggestionDecisionInput {
    pub fn validate(&self) -> Result<(SuggestionStatus, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        let status = match self.status.as_deref().map(str::trim).and_then(SuggestionStatus::parse) {
            Some(SuggestionStatus::Open) | None => {
                e.push(
                    "status",
                    if self.status.as_deref().is_none_or(|s| s.trim().is_empty()) {
                        "required"
                    } else {
                        "unknown_value"
                    },
                );
                None
            }
            s => s,
        };
        let note = optional(&mut e, "note", self.note.as_deref(), 2000);
        match status {
            Some(s) if e.is_empty() => Ok((s, note)),
            _ => Err(e),
        }
    }
}

/// Only an open suggestion is decided, once.
pub fn may_decide_suggestion(status: SuggestionStatus) -> bool {
    status == SuggestionStatus::Open
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn a_suggestion_needs_a_known_kind_and_a_reason() {
        let e = SuggestionInput::default().validate().unwrap_err();
        assert!(e.has("kind") && e.has("reason"), "{e:?}");
        let e = SuggestionInput { kind: Some("paint".into()), reason: Some("x".into()), ticket: None }
            .validate()
            .unwrap_err();
        assert!(e.has("kind"));
        let ok =
            SuggestionInput { kind: Some("replace".into()), reason: Some(" 硬盘频繁掉线 ".into()), ticket: None }
                .validate()
                .unwrap();
        assert_eq!(ok, NewSuggestion { kind: SuggestionKind::Replace, reason: "硬盘频繁掉线".into() });
    }

    #[test]
    fn a_decision_is_accepted_or_declined_never_open() {
        let d = |s: &str| SuggestionDecisionInput { status: Some(s.into()), note: None }.validate();
        assert!(d("open").is_err());
        assert!(d("maybe").is_err());
        assert_eq!(d("accepted").unwrap().0, SuggestionStatus::Accepted);
        assert!(may_decide_suggestion(SuggestionStatus::Open));
        assert!(!may_decide_suggestion(SuggestionStatus::Declined));
    }
}

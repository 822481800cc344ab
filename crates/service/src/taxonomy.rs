//! The fault taxonomy (故障子类): every member of staff may read it; the manager and the
//! administrator add subcategories, rename them and deactivate or reactivate them. A
//! subcategory is never deleted, because tickets keep the code they were diagnosed with;
//! a deactivated one is no longer offered when diagnosing.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::FieldErrors;
use aftercare_domain::System;
use aftercare_domain::tickets::FaultType;
use aftercare_domain::validation::{clean, optional, required};
pub use aftercare_store::taxonomy::SubcategoryRow;
use serde::Deserialize;
use std::collections::HashMap;

/// Length of a code, in characters.
pub const CODE_LEN: std::ops::RangeInclusive<usize> = 3..=40;
/// Longest Chinese or English name.
pub const NAME_MAX: usize = 60;
/// Longest typical cause.
pub const CAUSE_MAX: usize = 200;

/// A new subcategory.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SubcategoryInput {
    /// 3–40 uppercase ASCII letters, digits or `_` (lower case is raised), unique, e.g. `NET_POE_BUDGET`.
    pub code: Option<String>,
    /// `network`, `server_room`, `surveillance`, `classroom`, `cloud`, `broadcast`.
    pub system: Option<String>,
    /// `hardware`, `cabling`, `software`, `other`.
    pub fault_type: Option<String>,
    /// At most 60 characters.
    pub name_zh: Option<String>,
    /// At most 60 characters.
    pub name_en: Option<String>,
    /// Optional, at most 200 characters.
    pub typical_cause: Option<String>,
    /// Default `true`.
    pub active: Option<bool>,
}

/// What may change on a subcategory: both names and the typical cause are replaced (an
/// omitted cause clears it); `active` is kept when omitted. `code`, `system` and
/// `fault_type` may be sent back as read, but not changed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SubcategoryUpdate {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub typical_cause: Option<String>,
    pub active: Option<bool>,
    pub code: Option<String>,
    pub system: Option<String>,
    pub fault_type: Option<String>,
}

/// The code as it will be stored (trimmed, upper case), or the rule it breaks.
pub fn normalize_code(raw: Option<&str>) -> Result<String, &'static str> {
    let Some(code) = clean(raw) else { return Err("required") };
    let code = code.to_ascii_uppercase();
    let shape = code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if shape && CODE_LEN.contains(&code.chars().count()) { Ok(code) } else { Err("code_format") }
}

/// Names and cause, checked: (name_zh, name_en, typical_cause).
fn texts(
    e: &mut FieldErrors,
    name_zh: Option<&str>,
    name_en: Option<&str>,
    cause: Option<&str>,
) -> (String, String, Option<String>) {
    (
        required(e, "name_zh", name_zh, NAME_MAX),
        required(e, "name_en", name_en, NAME_MAX),
        optional(e, "typical_cause", cause, CAUSE_MAX),
    )
}

impl SubcategoryInput {
    /// The row to store, or every broken rule.
    pub fn validate(&self) -> Result<SubcategoryRow, FieldErrors> {
        let mut e = FieldErrors::default();
        let code = normalize_code(self.code.as_deref()).unwrap_or_else(|rule| {
            e.push("code", rule);
            String::new()
        });
        let system = match clean(self.system.as_deref()) {
            None => {
                e.push("system", "required");
                String::new()
            }
            Some(s) => System::parse(&s).map(|s| s.as_str().to_owned()).unwrap_or_else(|| {
                e.push("system", "unknown_value");
                String::new()
            }),
        };
        let fault_type = match clean(self.fault_type.as_deref()) {
            None => {
                e.push("fault_type", "required");
                String::new()
            }
            Some(f) => FaultType::parse(&f).map(|f| f.as_str().to_owned()).unwrap_or_else(|| {
                e.push("fault_type", "unknown_value");
                String::new()
            }),
        };
        let (name_zh, name_en, typical_cause) =
            texts(&mut e, self.name_zh.as_deref(), self.name_en.as_deref(), self.typical_cause.as_deref());
        e.into_result(SubcategoryRow {
            code,
            system,
            fault_type,
            name_zh,
            name_en,
            typical_cause,
            active: self.active.unwrap_or(true),
        })
    }
}

impl SubcategoryUpdate {
    /// `current` with the changes applied, or every broken rule.
    pub fn apply(&self, current: &SubcategoryRow) -> Result<SubcategoryRow, FieldErrors> {
        let mut e = FieldErrors::default();
        if let Some(code) = clean(self.code.as_deref())
            && !code.eq_ignore_ascii_case(&current.code)
        {
            e.push("code", "fixed");
        }
        if let Some(s) = clean(self.system.as_deref())
            && System::parse(&s).is_none_or(|s| s.as_str() != current.system)
        {
            e.push("system", "fixed");
        }
        if let Some(f) = clean(self.fault_type.as_deref())
            && FaultType::parse(&f).is_none_or(|f| f.as_str() != current.fault_type)
        {
            e.push("fault_type", "fixed");
        }
        let (name_zh, name_en, typical_cause) =
            texts(&mut e, self.name_zh.as_deref(), self.name_en.as_deref(), self.typical_cause.as_deref());
        e.into_result(SubcategoryRow {
            name_zh,
            name_en,
            typical_cause,
            active: self.active.unwrap_or(current.active),
            ..current.clone()
        })
    }
}

impl Services {
    /// One subcategory, for any member of staff.
    pub async fn fault_subcategory(&self, by: &Actor, code: &str) -> Result<SubcategoryRow> {
        require(by.is_staff())?;
        aftercare_store::taxonomy::subcategory(&self.db, code).await?.ok_or(ServiceError::NotFound)
    }

    /// How many tickets were diagnosed with each code (codes without tickets are absent).
    pub async fn fault_subcategory_usage(&self, by: &Actor) -> Result<HashMap<String, i64>> {
        require(by.is_staff())?;
        Ok(aftercare_store::taxonomy::subcategory_usage(&self.db).await?.into_iter().collect())
    }

    /// Adds a subcategory; audited. A code already taken is a `code` duplicate.
    pub async fn create_subcategory(&self, by: &Actor, input: &SubcategoryInput) -> Result<SubcategoryRow> {
        require(by.is_admin_or_manager())?;
        let row = input.validate()?;
        aftercare_store::taxonomy::create_subcategory(&self.db, &self.writer(by), &row).await?;
        Ok(row)
    }

    /// Renames a subcategory, changes its typical cause, and (when given) its active flag;
    /// audited with what changed.
    pub async fn update_subcategory(
        &self,
        by: &Actor,
        code: &str,
        input: &SubcategoryUpdate,
    ) -> Result<SubcategoryRow> {
        require(by.is_admin_or_manager())?;
        let current = aftercare_store::taxonomy::subcategory(&self.db, code).await?.ok_or(ServiceError::NotFound)?;
        let row = input.apply(&current)?;
        let unchanged = (&row.name_zh, &row.name_en, &row.typical_cause, row.active)
            == (&current.name_zh, &current.name_en, &current.typical_cause, current.active);
        if !unchanged {
            aftercare_store::taxonomy::update_subcategory(&self.db, &self.writer(by), &row).await?;
        }
        Ok(row)
    }

    /// Deactivates (no longer offered when diagnosing) or reactivates a subcategory; audited.
    pub async fn set_subcategory_active(&self, by: &Actor, code: &str, active: bool) -> Result<SubcategoryRow> {
        require(by.is_admin_or_manager())?;
        let current = aftercare_store::taxonomy::subcategory(&self.db, code).await?.ok_or(ServiceError::NotFound)?;
        if current.active == active {
            return Ok(current);
        }
        let row = SubcategoryRow { active, ..current };
        aftercare_store::taxonomy::update_subcategory(&self.db, &self.writer(by), &row).await?;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(code: &str) -> SubcategoryInput {
        SubcategoryInput {
            code: Some(code.into()),
            system: Some("network".into()),
            fault_type: Some("hardware".into()),
            name_zh: Some("PoE 交换机功率不足".into()),
            name_en: Some("PoE budget exceeded".into()),
            typical_cause: Some("  ".into()),
            active: None,
        }
    }

    fn codes(e: FieldErrors) -> Vec<(String, &'static str)> {
        e.0.into_iter().map(|f| (f.field, f.code)).collect()
    }

    #[test]
    fn codes_are_upper_case_letters_digits_and_underscores() {
        assert_eq!(normalize_code(Some(" net_poe_2 ")), Ok("NET_POE_2".into()));
        assert_eq!(normalize_code(Some("ABC")), Ok("ABC".into()));
        assert_eq!(normalize_code(Some(&"A".repeat(40))), Ok("A".repeat(40)));
        assert_eq!(normalize_code(None), Err("required"));
        assert_eq!(normalize_code(Some("  ")), Err("required"));
        for bad in ["AB", "NET-POE", "NET POE", "网络_POE", "NÉT_POE", &"A".repeat(41)] {
            assert_eq!(normalize_code(Some(bad)), Err("code_format"), "{bad}");
        }
    }

    /// A valid row to start from (the seed's shape).
    fn seeded() -> SubcategoryRow {
        SubcategoryRow {
            code: "NET_POE".into(),
            system: "network".into(),
            fault_type: "hardware".into(),
            name_zh: "PoE 交换机功率不足".into(),
            name_en: "PoE budget exceeded".into(),
            typical_cause: None,
            active: true,
        }
    }

    fn fields(r: Result<SubcategoryRow, FieldErrors>) -> Vec<(String, &'static str)> {
        r.err().map(codes).unwrap_or_default()
    }

    #[test]
    fn a_new_subcategory_is_checked_field_by_field() {
        let row = input("net_poe").validate();
        let shape = |r: &SubcategoryRow| (r.code.clone(), r.system.clone(), r.typical_cause.clone(), r.active);
        assert_eq!(row.as_ref().map(shape), Ok(("NET_POE".into(), "network".into(), None, true)));
        // The Chinese system name is understood too.
        let row = SubcategoryInput { system: Some("校园监控".into()), ..input("SUR_X") }.validate();
        assert_eq!(row.map(|r| r.system), Ok("surveillance".into()));

        let bad = SubcategoryInput {
            code: Some("N-1".into()),
            system: Some("phones".into()),
            fault_type: None,
            name_zh: Some("长".repeat(61)),
            name_en: Some(" ".into()),
            typical_cause: Some("因".repeat(201)),
            active: Some(false),
        };
        assert_eq!(
            fields(bad.validate()),
            [
                ("code".into(), "code_format"),
                ("system".into(), "unknown_value"),
                ("fault_type".into(), "required"),
                ("name_zh".into(), "too_long"),
                ("name_en".into(), "required"),
                ("typical_cause".into(), "too_long"),
            ]
        );
    }

    #[test]
    fn an_update_keeps_code_system_and_fault_type() {
        let current = seeded();
        let up = SubcategoryUpdate {
            name_zh: Some("PoE 供电不足".into()),
            name_en: Some("PoE power short".into()),
            typical_cause: Some("接入 AP 过多".into()),
            code: Some("net_poe".into()),
            system: Some("network".into()),
            ..Default::default()
        };
        let shape = |r: SubcategoryRow| (r.code, r.name_zh, r.typical_cause, r.active);
        assert_eq!(
            up.apply(&current).map(shape),
            Ok(("NET_POE".into(), "PoE 供电不足".into(), Some("接入 AP 过多".into()), true))
        );
        let off = SubcategoryUpdate { active: Some(false), ..up.clone() }.apply(&current);
        assert_eq!(off.map(|r| r.active), Ok(false));
        let moved = SubcategoryUpdate {
            code: Some("NET_OTHER".into()),
            system: Some("cloud".into()),
            fault_type: Some("software".into()),
            name_zh: None,
            ..up
        };
        assert_eq!(
            fields(moved.apply(&current)),
            [
                ("code".into(), "fixed"),
                ("system".into(), "fixed"),
                ("fault_type".into(), "fixed"),
                ("name_zh".into(), "required")
            ]
        );
    }
}

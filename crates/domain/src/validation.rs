//! Field-level validation errors. A code names the broken rule; the web layer turns
//! `(field, code)` into a sentence in the user's language.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The input field, as named in the API (`serial_no`, `contacts[0].phone`).
    pub field: String,
    /// The rule: `required`, `too_long`, `unknown_value`, `invalid_date`, `invalid`,
    /// `date_order`, `too_short`, `duplicate`.
    pub code: &'static str,
    /// The area whose input this is (`parts`, `stock`, `requisitions` …), when the
    /// validator said: one API name means different things in different areas (a part's
    /// `category` is not a contact's), so the label is looked up per area first. Not part
    /// of the API's field name.
    #[serde(skip)]
    pub area: Option<&'static str>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{} ({})", e.field, e.code)).collect::<Vec<_>>().join(", "))]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: impl Into<String>, code: &'static str) {
        self.0.push(FieldError { field: field.into(), code, area: None });
    }
    /// Marks the errors not yet placed as `area`'s (a validator's last step), so their
    /// labels read in that area's sense.
    pub fn in_area(mut self, area: &'static str) -> Self {
        for e in &mut self.0 {
            e.area.get_or_insert(area);
        }
        self
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_result<T>(self, ok: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() { Ok(ok) } else { Err(self) }
    }
    /// Some error names this field.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
    pub fn single(field: impl Into<String>, code: &'static str) -> Self {
        let mut e = Self::default();
        e.push(field, code);
        e
    }
}

/// Trims; an empty string is `None`.
pub fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A required text field, trimmed, at most `max` characters.
pub fn required(errs: &mut FieldErrors, field: &str, value: Option<&str>, max: usize) -> String {
    match clean(value) {
        None => {
            errs.push(field, "required");
            String::new()
        }
        Some(v) if v.chars().count() > max => {
            errs.push(field, "too_long");
            v
        }
        Some(v) => v,
    }
}

/// An optional text field, trimmed, at most `max` characters.
pub fn optional(errs: &mut FieldErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let v = clean(value)?;
    if v.chars().count() > max {
        errs.push(field, "too_long");
    }
    Some(v)
}

/// An optional value of an enumeration: blank is `None`, an unknown value is the field
/// error `unknown_value`.
pub fn optional_enum<T>(
    errs: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let v = value.map(str::trim).filter(|s| !s.is_empty())?;
    let r = parse(v);
    if r.is_none() {
        errs.push(field, "unknown_value");
    }
    r
}

/// The years any date or time may fall in (DESIGN.md §5); a field may say narrower.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=2100;

/// An optional `YYYY-MM-DD` date, between 1970 and 2100.
pub fn optional_date(errs: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<chrono::NaiveDate> {
    let v = clean(value)?;
    match chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
        Ok(d) if !YEARS.contains(&chrono::Datelike::year(&d)) => {
            errs.push(field, "out_of_range");
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(field, "invalid_date");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_flags_empty_and_long() {
        let mut e = FieldErrors::default();
        assert_eq!(required(&mut e, "name", Some("  城关小学 "), 10), "城关小学");
        assert!(e.is_empty());
        required(&mut e, "name", Some("   "), 10);
        required(&mut e, "code", Some("一二三四五六"), 5);
        assert_eq!(e.0[0], FieldError { field: "name".into(), code: "required", area: None });
        assert_eq!(e.0[1].code, "too_long");
    }

    #[test]
    fn an_area_marks_only_the_errors_not_yet_placed() {
        let mut inner = FieldErrors::single("category", "too_long").in_area("parts");
        inner.push("part_id", "not_found");
        let e = inner.in_area("stock");
        assert_eq!(e.0[0].area, Some("parts"));
        assert_eq!(e.0[1].area, Some("stock"));
        assert_eq!(e.0[1].field, "part_id", "the API name is unchanged");
        assert!(
            crate::parts::PartInput::default()
                .validate()
                .err()
                .unwrap_or_default()
                .0
                .iter()
                .all(|x| x.area == Some("parts"))
        );
    }

    #[test]
    fn dates_must_be_iso() {
        let mut e = FieldErrors::default();
        assert!(optional_date(&mut e, "d", Some("2024-02-29")).is_some());
        assert!(optional_date(&mut e, "d", Some("2023-02-29")).is_none());
        assert!(optional_date(&mut e, "d", Some("29/02/2024")).is_none());
        assert!(optional_date(&mut e, "d", Some("")).is_none());
        assert_eq!(e.0.len(), 2);
        assert!(e.0.iter().all(|x| x.code == "invalid_date"));
    }
}

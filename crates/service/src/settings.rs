//! Settings of the work-order rules that the manager may change.

use crate::{Actor, Result, Services, require};
use aftercare_domain::FieldErrors;
use std::ops::RangeInclusive;

/// How many days back a new fault on the same equipment counts as a repeat repair.
pub const REPEAT_WINDOW_DAYS: RangeInclusive<i64> = 1..=365;

impl Services {
    /// Changes the repeat-repair window (§3.2.7); audited. Returns the new value.
    pub async fn set_repeat_window_days(&self, by: &Actor, days: Option<i64>) -> Result<i64> {
        require(by.is_admin_or_manager())?;
        let days = match days {
            None => return Err(FieldErrors::single("repeat_window_days", "required").into()),
            Some(d) if !REPEAT_WINDOW_DAYS.contains(&d) => {
                return Err(FieldErrors::single("repeat_window_days", "out_of_range").into());
            }
            Some(d) => d,
        };
        aftercare_store::settings::set_setting(&self.db, &self.writer(by), "repeat_window_days", &days.to_string())
            .await?;
        Ok(days)
    }
}

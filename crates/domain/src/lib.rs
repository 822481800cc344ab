//! The pure domain core of Aftercare: typed ids, the enumerations every layer shares,
//! and the validation rules that turn raw input into checked values. No I/O here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod macros;

pub mod analysis;
pub mod appraisals;
pub mod articles;
pub mod assessments;
pub mod clock;
pub mod contacts;
pub mod customers;
pub mod defective;
pub mod equipment;
pub mod ids;
pub mod inspection_checklist;
pub mod inspection_plan;
pub mod inspections;
pub mod kpis;
pub mod mail;
pub mod meetings;
pub mod notifications;
pub mod parts;
pub mod requisitions;
pub mod robots;
pub mod roles;
pub mod search;
pub mod shortages;
pub mod systems;
pub mod tickets;
pub mod trainings;
pub mod trip_plan;
pub mod trips;
pub mod users;
pub mod validation;
pub mod work_plan;

pub use ids::*;

/// A stored value that its enum does not know (a row written by a newer version, or by
/// hand): reading it fails rather than passing an unknown string on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} value {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}
pub use roles::Role;
pub use systems::System;
pub use validation::{FieldError, FieldErrors};

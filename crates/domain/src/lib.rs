//! The pure domain core of Aftercare: typed ids, the enumerations every layer shares,
//! and the validation rules that turn raw input into checked values. No I/O here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod macros;

pub mod contacts;
pub mod customers;
pub mod defective;
pub mod equipment;
pub mod ids;
pub mod parts;
pub mod requisitions;
pub mod roles;
pub mod shortages;
pub mod systems;
pub mod tickets;
pub mod users;
pub mod validation;

pub use ids::*;
pub use roles::Role;
pub use systems::System;
pub use validation::{FieldError, FieldErrors};

//! All integration tests, one binary: each boots the real server on a free port against
//! real SQLite and (when asked for) real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod analysis;
mod appraisals;
mod articles;
mod auth;
mod cli;
mod contacts;
mod customers;
mod defective;
mod equipment;
mod excel;
mod field_labels;
mod fuzz_found;
mod handoffs;
mod hardening;
mod home;
mod inspections;
mod language_walk;
mod mail;
mod meetings;
mod movement_groups;
mod pages;
mod parts;
mod portal;
mod requisitions;
mod robots;
mod roster;
mod schema;
mod schema_parity;
mod search;
mod shortages;
mod stock_pages;
mod stock_reports;
mod taxonomy_pages;
mod ticket_pages;
mod tickets;
mod trainings;
mod trips;
mod visit_parts;
mod work_pages;
mod work_plan;

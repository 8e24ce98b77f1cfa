//! The community's rules, in pure Rust with no I/O.
//!
//! `wujia-core` decides: it parses input into domain types (an [`registry::IdCardNumber`] always has a
//! valid GB 11643 checksum), tells who may do what ([`accounts::authorize`]), chains the audit log
//! ([`audit`]), reads and writes registry files ([`transfer`]) and generates the demo community
//! ([`demo`]). It never reads the clock: callers pass `now`.

pub mod accounts;
pub mod activities;
pub mod audit;
pub mod channels;
pub mod deliberation;
pub mod demo;
pub mod media;
pub mod patrol;
pub mod proactive;
pub mod reception;
pub mod registry;
pub mod requests;
pub mod text;
pub mod transfer;
pub mod volunteers;

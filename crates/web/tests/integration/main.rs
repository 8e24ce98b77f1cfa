//! The integration suite: one test binary, every route against a real server on SQLite and PostgreSQL.
//!
//! One binary builds the database templates once and links once; add new suites as modules here.

#[macro_use]
mod common;

mod activities;
mod api;
mod api_keys;
mod attacker;
mod batches;
mod calendar;
mod connections;
mod disclosure;
mod faults;
mod figures;
mod group_commit;
mod login;
mod mail;
mod once;
mod open311;
mod openapi;
mod outbox;
mod patrol;
mod photos;
mod proactive;
mod reception;
mod security;
mod spreadsheets;
mod wechat;

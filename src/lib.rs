//! Chevet: the hub that coordinates home medical visits for an association of on-call doctors.
//!
//! Read `ARCHITECTURE.md` first. In short:
//! - [`domain`]: the vocabulary (roles, statuses, the visit lifecycle, checked values); no I/O.
//! - [`store`]: SQLite or PostgreSQL behind one pool; every write goes through `store::WriteTx`,
//!   which also writes the audit trail and the change events.
//! - [`auth`]: passwords, session tokens, and who may see what.
//! - [`http`]: the JSON API, the event stream, the OpenAPI document, the UI files.
//! - [`dispatch`]: the dispatch engine (travel times, online planner, benchmark replay); no I/O.
//! - [`address`]: the address index (BAN files, typo-tolerant search); no I/O.
//! - [`accounts`], [`demo`]: account creation and the demo association, shared with the CLI.
//! - [`cli`]: the `chevet` command.

pub mod accounts;
pub mod address;
pub mod auth;
pub mod autodispatch;
pub mod cli;
pub mod demo;
pub mod directory;
pub mod dispatch;
pub mod domain;
pub mod error;
pub mod http;
pub mod hub;
pub mod import;
pub mod layering;
pub mod letters;
pub mod nursing;
pub mod planning;
pub mod services;
pub mod store;
pub mod tools;

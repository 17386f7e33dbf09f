//! Chevet: the hub that coordinates home medical visits for an association of on-call doctors.
//!
//! Read `ARCHITECTURE.md` first. The layers, lowest first (checked by [`layering`]):
//! - engines: [`domain`] (the vocabulary: roles, statuses, the visit lifecycle, checked values),
//!   [`dispatch`] (travel times, online planner, benchmark replay), [`address`] (the address
//!   index); no I/O;
//! - [`store`]: SQLite or PostgreSQL behind one pool; every write goes through `store::WriteTx`,
//!   which also writes the audit trail and the change events; [`error`]: the one error type;
//! - services: [`services`] (visits, doctors, patients, institutions, read models, ...), [`auth`]
//!   (passwords, sessions, who may see what), [`accounts`], [`directory`], [`import`],
//!   [`letters`], [`nursing`], [`planning`], [`autodispatch`];
//! - [`hub`]: a running hub, its shared state and its background workers;
//! - [`http`]: the JSON API, the event stream, the OpenAPI document, the UI files;
//! - commands: [`cli`] (the `chevet` command), [`demo`], [`tools`].

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

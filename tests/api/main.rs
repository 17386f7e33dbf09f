//! Integration tests: real hubs on loopback ports, driven over HTTP, on SQLite and PostgreSQL.

mod helpers;

mod accounts;
mod addresses;
mod alerts;
mod auth;
mod bad_input;
mod call_centre;
mod cli;
mod closing;
mod concurrency;
mod dispatch;
mod events;
mod history;
mod intake;
mod letters;
mod lifecycle;
mod matrix;
mod nursing;
mod partner_link;
mod positions;
mod push;
mod robustness;
mod roles;
mod security;
mod statements;
mod suggestions;

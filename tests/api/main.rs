//! Integration tests: real hubs on loopback ports, driven over HTTP, on SQLite and PostgreSQL.

mod helpers;

mod addresses;
mod auth;
mod bad_input;
mod cli;
mod closing;
mod concurrency;
mod dispatch;
mod events;
mod intake;
mod letters;
mod lifecycle;
mod nursing;
mod partner_link;
mod robustness;
mod roles;
mod security;
mod statements;
mod suggestions;

//! The hub's services: the rules and the SQL of each aggregate, below the HTTP layer. A service
//! function takes the actor (a `Principal`, or an `Actor` inside a `WriteTx`) and the store, and
//! returns values or a [`crate::error::Error`]; it knows nothing of HTTP or of the running hub.

pub mod addresses;
pub mod calls;
pub mod coverage;
pub mod delegations;
pub mod doctors;
pub mod ecgs;
pub mod history;
pub mod institutions;
pub mod letters;
pub mod logins;
pub mod patients;
pub mod push;
pub mod reports;
pub mod sessions;
pub mod shifts;
pub mod stats;
pub mod totp;
pub mod views;
pub mod visits;

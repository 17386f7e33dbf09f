//! The dispatch engine: who goes where, online. Pure computation: it knows nothing of HTTP, SQL
//! or the desktop app. The hub feeds it doctors and calls; `chevet simulate` replays benchmark
//! instances through it.
//!
//! - [`travel`]: travel times behind one trait (the great-circle model, speed by hour).
//! - [`roads`]: road travel times from an OpenStreetMap extract (contraction hierarchy).
//! - [`planner`]: the online planner. Every unstarted visit stays movable; each new call is
//!   inserted where it costs least, then the visits it delays are offered better places (local
//!   search). A doctor sets off only when he is free, so a visit already started never moves.
//! - [`bench`]: the benchmark's instance and plan formats, and the replay.

pub mod bench;
pub mod planner;
pub mod roads;
pub mod travel;

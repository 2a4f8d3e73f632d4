//! Data both I/O paths share: a connected plain stream (`plain`).

pub mod plain;

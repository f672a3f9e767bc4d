pub mod build_log;
pub mod deps_log;

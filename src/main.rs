//! `ggninja`: a drop-in replacement for `ninja`. The run is in app.rs.

mod app;
mod cli;
mod context;
mod make;
mod remote;
mod spell;
mod tools;

use std::process::ExitCode;

/// mimalloc: allocation-heavy phases (loading a manifest, building 50k
/// thunks on every core) spend a fifth of their time in glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    ExitCode::from(app::run(&args))
}

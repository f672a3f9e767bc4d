//! `ggninja`: a drop-in replacement for `ninja`. The run is in app.rs.

mod allocator;
mod app;
mod cli;
mod context;
mod jobserver;
mod make;
mod noop;
mod remote;
mod spell;
mod tools;

use std::process::ExitCode;

fn main() -> ExitCode {
    allocator::tune();
    // As ninja (a C program): a closed stdout (`ggninja -t commands | head`)
    // ends the process quietly instead of a panic in `println!`.
    // SAFETY: called before any thread starts; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    ExitCode::from(app::run(&args))
}

//! `-t watch [start|serve|stop]`: the watcher daemon of the run's directory
//! (crate `watch`): `start` (the default) runs `serve` in the background
//! and waits until it answers; `serve` runs it here; `stop` stops it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ggninja_watch::{serve::serve, Client};

use super::Args;
use crate::context::App;

pub fn watch(app: &App, args: &Args) -> u8 {
    match args.args {
        [] => start(app),
        [one] if one == "start" => start(app),
        [one] if one == "serve" => match serve() {
            Ok(()) => 0,
            Err(e) => app.fatal(&format!("watch: {e}")),
        },
        [one] if one == "stop" => stop(app),
        _ => app.fatal("watch: usage: -t watch [start|serve|stop]"),
    }
}

fn here() -> &'static Path {
    Path::new("")
}

fn start(app: &App) -> u8 {
    if Client::connect(here()).is_some() {
        println!("{}: a watcher serves this directory already", app.prog);
        return 0;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return app.fatal(&format!("watch: {e}")),
    };
    let mut cmd = Command::new(exe);
    cmd.args(["-t", "watch", "serve"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Its own session: the terminal's hangup and ^C are the run's, not its.
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe, as a pre_exec hook must be.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        })
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return app.fatal(&format!("watch: {e}")),
    };
    for _ in 0..1000 {
        if Client::connect(here()).is_some() {
            println!("{}: watching (pid {})", app.prog, child.id());
            return 0;
        }
        if let Ok(Some(status)) = child.try_wait() {
            return app.fatal(&format!("watch: the watcher exited ({status})"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    app.fatal("watch: the watcher did not answer within 10 s")
}

fn stop(app: &App) -> u8 {
    let Some(client) = Client::connect(here()) else {
        println!("{}: no watcher serves this directory", app.prog);
        return 0;
    };
    match client.stop() {
        Ok(pid) => {
            println!("{}: stopped the watcher (pid {pid})", app.prog);
            0
        }
        Err(e) => app.fatal(&format!("watch: {e}")),
    }
}

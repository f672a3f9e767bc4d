//! The jobserver around a build, with ninja's messages: a client of the
//! pool `MAKEFLAGS` names (ninja 1.13: ggninja run by `make -jN` shares
//! make's N slots), unless `-j` or `-n` is given; and `--jobserver-pool`
//! (the flag later ninja versions added): a pool of -j slots of our own,
//! named to the commands through their `MAKEFLAGS`, that the build draws
//! its own slots from too. Ignores the manifest rebuild and tools, which
//! ninja runs without one.

use ggninja_executor::jobserver::{self, Auth, Client, Pool, Style};
use ggninja_executor::process;
use ggninja_executor::status::Verbosity;

use crate::context::App;

/// What a build uses: the client, and our pool while the build runs.
#[derive(Default)]
pub struct Jobserver {
    pub client: Option<Client>,
    _pool: Option<Pool>,
}

/// Joins (or, with `--jobserver-pool`, first creates) the build's pool,
/// printing what ninja prints.
pub fn setup(app: &App) -> Jobserver {
    let inherited = std::env::var("MAKEFLAGS").ok();
    let may_join = !app.config.dry_run && !app.jobserver.explicit_jobs;
    let Some(style) = app.jobserver.pool else {
        return Jobserver {
            client: may_join.then(|| join(app, inherited.as_deref())).flatten(),
            _pool: None,
        };
    };
    let external = inherited.as_deref().map(jobserver::parse);
    if may_join && matches!(external, Some(Ok(Some(_)))) {
        info(app, "not creating a jobserver pool: external pool detected");
        return Jobserver {
            client: join(app, inherited.as_deref()),
            _pool: None,
        };
    }
    let Some(pool) = create_pool(app, style) else {
        return Jobserver::default();
    };
    let jobs = app.config.parallelism;
    let makeflags = jobserver::with_pool(inherited.as_deref().unwrap_or(""), jobs, pool.auth());
    process::set_command_env("MAKEFLAGS", &makeflags);
    info(app, &format!("Jobserver mode detected: {makeflags}"));
    Jobserver {
        client: open(app, pool.auth()),
        _pool: Some(pool),
    }
}

/// ninja's SetupJobserverClient: the pool `makeflags` names, if usable.
fn join(app: &App, makeflags: Option<&str>) -> Option<Client> {
    let makeflags = makeflags?;
    let auth = match jobserver::parse(makeflags) {
        Ok(auth) => auth?,
        Err(e) => {
            app.warning(&format!("Ignoring jobserver: {e} [{makeflags}]"));
            return None;
        }
    };
    info(app, &format!("Jobserver mode detected: {makeflags}"));
    if matches!(auth, Auth::Pipe { .. }) && shows_status(app) {
        app.warning(
            "Jobserver 'pipe' mode detected, a pool that implements 'fifo' mode would be more reliable!",
        );
    }
    open(app, &auth)
}

fn open(app: &App, auth: &Auth) -> Option<Client> {
    Client::open(auth)
        .map_err(|e| app.error(&format!("Could not initialize jobserver: {e}")))
        .ok()
}

/// A pool of -j slots; None (after saying why) when there is nothing to
/// share: a dry run, or no limit (`-j0`).
fn create_pool(app: &App, style: Style) -> Option<Pool> {
    if app.config.dry_run {
        return None;
    }
    let jobs = app.config.parallelism;
    if jobs == usize::MAX {
        app.warning("not creating a jobserver pool: -j0 sets no limit to share");
        return None;
    }
    info(
        app,
        &format!("Creating jobserver pool for {jobs} parallel jobs"),
    );
    Pool::create(jobs, style)
        .map_err(|e| {
            let msg = ggninja_executor::disk::io_message(&e);
            app.error(&format!("creating jobserver pool: {msg}"));
        })
        .ok()
}

/// ninja prints its jobserver notes unless `--quiet`.
fn shows_status(app: &App) -> bool {
    matches!(app.config.verbosity, Verbosity::Normal | Verbosity::Verbose)
}

fn info(app: &App, msg: &str) {
    if shows_status(app) {
        app.info(msg);
    }
}

//! Execution backends: where an edge's command runs. The build loop hands
//! a backend one `Task` at a time and takes `Done`s back from one place,
//! `wait`, in whatever order they finish; it never knows whether a command
//! ran as a local process, in a sandbox, was restored from the memo, or
//! (with the remote executor) ran on another machine.
//!
//! Backends stack: `Memoized` goes in front of any backend; `Local`,
//! `Sandboxed` and `DryRun` run the commands. A remote backend plugs in at
//! the same place as `Sandboxed`: it runs the tasks that carry a thunk and
//! hands the rest to a `Local` it owns.
//!
//! Unaware of the plan, pools, logs and the status line.

mod dry_run;
mod effects;
mod local;
mod memo;
mod sandbox;

pub use dry_run::DryRun;
pub use local::{Finisher, Local, Waker};
pub use memo::{Limit, Memoized, Memoizer};
pub use sandbox::{Sandbox, Sandboxed};

use ggninja_graph::{BuildId, Graph};
use ggninja_thunk::EdgeThunk;

pub use crate::process::{Exit, Streams};
pub use crate::provenance::Origin;
pub use crate::status::Placement;

/// One edge to run.
pub struct Task {
    pub edge: BuildId,
    /// The command as the manifest gives it (run by `/bin/sh -c`).
    pub command: String,
    /// Runs in the console pool: the terminal, not a pipe.
    pub console: bool,
    /// Its stderr kept apart from its stdout and printed on ours (a build
    /// imported from make, as make does); else one output, as ninja.
    pub stderr_apart: bool,
    /// `restat`: an output left unchanged must stay untouched.
    pub restat: bool,
    /// The edge as a thunk, when the build makes thunks and this edge has
    /// one (None: it must run here, as itself).
    pub thunk: Option<EdgeThunk>,
}

/// A finished edge: how it ended and what it printed.
pub struct Done {
    pub edge: BuildId,
    pub exit: Exit,
    /// What it printed (on stdout; its stderr too unless apart).
    pub output: Vec<u8>,
    /// What it printed on stderr, when its task kept that apart.
    pub errors: Vec<u8>,
    /// Where its result came from.
    pub origin: Origin,
}

impl Done {
    /// An edge finished without a process: a dry run (`Origin::Ran`, as
    /// it stands for a run), a memo hit.
    pub fn settled(edge: BuildId, origin: Origin) -> Done {
        Done {
            edge,
            exit: Exit::Success,
            output: Vec::new(),
            errors: Vec::new(),
            origin,
        }
    }
}

impl Task {
    /// Where its command's output goes.
    pub fn streams(&self) -> Streams {
        match (self.console, self.stderr_apart) {
            (true, _) => Streams::Console,
            (false, false) => Streams::Merged,
            (false, true) => Streams::Apart,
        }
    }
}

/// A file a backend put in place, or removed in its stead (a depfile
/// handed over): no symlink is there now, or one that leads to no
/// directory and replaced none that did, which changed what its name
/// names and nothing else (see `Backend::take_written`), unless it is a
/// file put over a symlink to a directory (`over_dir_link`).
pub struct Written {
    pub path: std::path::PathBuf,
    /// Its stat as written and the hash of the bytes written, when they
    /// are an object's (not a depfile's, whose paths are rewritten).
    pub named: Option<(std::fs::Metadata, ggninja_store::hash::ContentHash)>,
    /// What it replaced led to a directory: the paths through it named
    /// files there, and now name nothing.
    pub over_dir_link: bool,
}

/// What a backend tells the user besides a command's output.
pub enum Note {
    /// A `-d explain` line.
    Explain(String),
    /// A warning (the build goes on).
    Warning(String),
}

/// What a backend may read and say while it starts or finishes an edge.
pub struct Ctx<'a> {
    pub graph: &'a Graph,
    /// The build's thunk maker, when it makes thunks.
    pub thunks: Option<&'a ggninja_thunk::Thunks>,
    pub explain: bool,
    pub notes: Vec<Note>,
}

impl Ctx<'_> {
    pub fn explain(&mut self, msg: impl FnOnce() -> String) {
        if self.explain {
            self.notes.push(Note::Explain(msg()));
        }
    }

    pub fn warn(&mut self, msg: String) {
        self.notes.push(Note::Warning(msg));
    }

    /// The edge's first output, as messages name it.
    pub fn first_output(&self, edge: BuildId) -> &str {
        self.graph.path(self.graph.build(edge).outs[0])
    }
}

pub trait Backend {
    /// Starts `task`. An error is a message that stops the build.
    fn start(&mut self, cx: &mut Ctx, task: Task) -> Result<(), String>;
    /// The next finished edge, its outputs in place; None when the build
    /// was interrupted, or woken by the `waker`.
    fn wait(&mut self, cx: &mut Ctx) -> Option<Done>;
    /// What wakes a `wait` without a finished edge, for a backend whose
    /// `wait` can be woken (one that runs local processes). Without it a
    /// build short of jobserver slots tries again when an edge finishes.
    fn waker(&self) -> Option<Waker> {
        None
    }
    /// How many edges run now (what `-j` and `-l` limit).
    fn running(&self) -> usize;
    /// Where they run, for a backend that runs edges in two places.
    fn placement(&self) -> Option<Placement> {
        None
    }
    /// Stops every running edge and returns them, once they have ended.
    fn abort(&mut self) -> Vec<BuildId>;
    /// The depfile of a finished edge that the backend handed over instead
    /// of writing it (see `Memoized::hand_over_depfiles`), once.
    fn take_depfile(&mut self, _edge: BuildId) -> Option<Vec<u8>> {
        None
    }
    /// The files a finished edge's result was put in place as (a memo
    /// hit's restored outputs and depfile), once: the thunk maker then
    /// tells each as a file written (`Written`), and names those with a
    /// hash without reading them again.
    fn take_written(&mut self, _edge: BuildId) -> Vec<Written> {
        Vec::new()
    }
    /// The build is over: remove what only the build needed.
    fn close(&mut self) {}
}

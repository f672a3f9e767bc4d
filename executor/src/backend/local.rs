//! Local processes: each command under `/bin/sh -c` (see `process`), or
//! without the shell where it would do nothing but start one program or
//! run builtins (`direct`).

use std::collections::VecDeque;
use std::process::Command;

use ggninja_graph::BuildId;

use super::{Backend, Ctx, Done, Origin, Streams, Task};
use crate::builtin;
use crate::direct::{self, Line};
use crate::process::{self, Finished, Inbox, Runner};

/// Hands back edges finished outside this backend's processes (by a remote
/// executor), so that `Local::wait` returns them among its own.
#[derive(Clone)]
pub struct Finisher(Inbox<Token>);

/// What a finished process or job is known by: its edge and where its
/// result came from.
type Token = (BuildId, Origin);

impl Finisher {
    /// Returns false when the build is gone.
    pub fn finish(&self, done: Done) -> bool {
        let Done {
            edge,
            exit,
            output,
            errors,
            origin,
        } = done;
        self.0.send(Some(Finished {
            token: (edge, origin),
            exit,
            output,
            errors,
        }))
    }
}

/// Makes a `wait` in progress (or the next one) return None without an
/// edge: how a jobserver token coming back wakes the build loop.
pub struct Waker(Inbox<Token>);

impl Waker {
    pub fn wake(&self) {
        self.0.send(None);
    }
}

#[derive(Default)]
pub struct Local {
    runner: Runner<Token>,
    /// Edges whose builtins were done here, until `wait` hands them back.
    done_here: VecDeque<Done>,
}

impl Local {
    pub fn finisher(&self) -> Finisher {
        Finisher(self.runner.inbox())
    }

    /// Runs `cmd` for `edge` instead of the edge's own command line (the
    /// sandbox's bubblewrap invocation).
    pub fn start_command(
        &mut self,
        edge: BuildId,
        cmd: Command,
        streams: Streams,
        command: &str,
    ) -> Result<(), String> {
        self.runner
            .start((edge, Origin::Ran), cmd, streams)
            .map_err(|_| format!("command '{command}' failed."))
    }
}

impl Backend for Local {
    /// A plain line runs without the shell (`direct`); should its program
    /// not start, or a builtin fail, the shell runs the line, to fail as it
    /// fails.
    fn start(&mut self, _: &mut Ctx, task: Task) -> Result<(), String> {
        let (edge, streams) = (task.edge, task.streams());
        match direct::line(&task.command) {
            Some(Line::Program(words)) => {
                let cmd = direct::command(&words);
                if cmd.is_some_and(|c| self.runner.start((edge, Origin::Ran), c, streams).is_ok()) {
                    return Ok(());
                }
            }
            // On the terminal, a builtin's output would need the terminal.
            Some(Line::Builtins(steps)) if streams != Streams::Console => {
                if let Some(output) = builtin::run(&steps) {
                    let done = Done::settled(edge, Origin::Ran);
                    self.done_here.push_back(Done { output, ..done });
                    return Ok(());
                }
            }
            _ => {}
        }
        let cmd = process::shell(&task.command);
        self.start_command(edge, cmd, streams, &task.command)
    }

    fn wait(&mut self, _: &mut Ctx) -> Option<Done> {
        if let Some(done) = self.done_here.pop_front() {
            return Some(done);
        }
        self.runner.wait().map(|f| Done {
            edge: f.token.0,
            exit: f.exit,
            output: f.output,
            errors: f.errors,
            origin: f.token.1,
        })
    }

    /// Edges done here count until `wait` hands them back, as ones
    /// running.
    fn running(&self) -> usize {
        self.runner.running() + self.done_here.len()
    }

    fn waker(&self) -> Option<Waker> {
        Some(Waker(self.runner.inbox()))
    }

    fn abort(&mut self) -> Vec<BuildId> {
        let here = self.done_here.drain(..).map(|d| d.edge);
        let ran = self.runner.abort().into_iter().map(|(edge, _)| edge);
        here.chain(ran).collect()
    }
}

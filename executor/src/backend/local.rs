//! Local processes: each command under `/bin/sh -c` (see `process`), or
//! without the shell where it would do nothing but start one program or
//! run builtins (`direct`).

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use ggninja_graph::BuildId;

use super::{Backend, Ctx, Done, Exit, Origin, Streams, Task};
use crate::builtin;
use crate::direct::{self, Line, Programs};
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
    /// Edges running an `&&` list of programs, one program at a time.
    lists: HashMap<BuildId, List>,
}

/// An `&&` list of programs run without the shell: those still to start,
/// where they run (after `cd`: the word, the directory), what the ones
/// before printed, and where their output goes.
struct List {
    programs: VecDeque<Vec<String>>,
    cd: Option<(String, PathBuf)>,
    output: Vec<u8>,
    errors: Vec<u8>,
    streams: Streams,
}

impl List {
    /// What is left of `programs` once its first has started.
    fn after_first(programs: Programs, streams: Streams) -> List {
        let owned = |words: &Vec<&str>| words.iter().map(|w| w.to_string()).collect();
        List {
            programs: programs.list[1..].iter().map(owned).collect(),
            cd: programs.cd.map(|(word, dir)| (word.to_string(), dir)),
            output: Vec::new(),
            errors: Vec::new(),
            streams,
        }
    }

    /// The list from `next` on as the shell's text, its `cd` first.
    fn rest_for_shell(&mut self, next: Vec<String>) -> String {
        let cd = self.cd.as_ref().map(|(word, _)| format!("cd {word}"));
        let programs = std::iter::once(next).chain(self.programs.drain(..));
        let rest: Vec<String> = cd
            .into_iter()
            .chain(programs.map(|w| w.join(" ")))
            .collect();
        rest.join(" && ")
    }
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

    /// Starts one program of a line without the shell, in `dir` if given;
    /// false if it did not start.
    fn start_program<S: AsRef<OsStr>>(
        &mut self,
        edge: BuildId,
        words: &[S],
        dir: Option<&Path>,
        streams: Streams,
    ) -> bool {
        let cmd = direct::command(words, dir);
        cmd.is_some_and(|c| self.runner.start((edge, Origin::Ran), c, streams).is_ok())
    }

    /// A program of `list` ended as `done` says: starts the next, or the
    /// shell with the rest of the list should it not start (to fail as the
    /// shell fails), and returns None; or returns the list's end: the
    /// first failure or the last program's success, with all they printed.
    fn go_on(&mut self, mut done: Done, mut list: List) -> Option<Done> {
        list.output.append(&mut done.output);
        list.errors.append(&mut done.errors);
        let next = (list.programs.pop_front()).filter(|_| done.exit == Exit::Success);
        let Some(words) = next else {
            let (output, errors) = (list.output, list.errors);
            return Some(Done {
                output,
                errors,
                ..done
            });
        };
        let dir = list.cd.as_ref().map(|(_, dir)| dir.as_path());
        if !self.start_program(done.edge, &words, dir, list.streams) {
            let rest = list.rest_for_shell(words);
            let shell = process::shell(&rest);
            if let Err(e) = self.start_command(done.edge, shell, list.streams, &rest) {
                list.output.extend(format!("{e}\n").into_bytes());
                let (exit, output, errors) = (Exit::Failure(1), list.output, list.errors);
                return Some(Done {
                    exit,
                    output,
                    errors,
                    ..done
                });
            }
        }
        self.lists.insert(done.edge, list);
        None
    }
}

impl Backend for Local {
    /// A plain line runs without the shell (`direct`); should its program
    /// not start, or a builtin fail, the shell runs the line, to fail as it
    /// fails.
    fn start(&mut self, _: &mut Ctx, task: Task) -> Result<(), String> {
        let (edge, streams) = (task.edge, task.streams());
        match direct::line(&task.command) {
            Some(Line::Programs(programs)) => {
                let dir = programs.cd.as_ref().map(|(_, dir)| dir.as_path());
                if self.start_program(edge, &programs.list[0], dir, streams) {
                    if programs.list.len() > 1 {
                        let list = List::after_first(programs, streams);
                        self.lists.insert(edge, list);
                    }
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
        loop {
            let f = self.runner.wait()?;
            let done = Done {
                edge: f.token.0,
                exit: f.exit,
                output: f.output,
                errors: f.errors,
                origin: f.token.1,
            };
            let Some(list) = self.lists.remove(&done.edge) else {
                return Some(done);
            };
            if let Some(done) = self.go_on(done, list) {
                return Some(done);
            }
        }
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
        self.lists.clear();
        let here = self.done_here.drain(..).map(|d| d.edge);
        let ran = self.runner.abort().into_iter().map(|(edge, _)| edge);
        here.chain(ran).collect()
    }
}

//! Running commands: `/bin/sh -c`, stdout and stderr on one pipe (as ninja)
//! or on two (a build imported from make, whose recipes' stderr make leaves
//! on its own stderr; see `Streams`), each child in its own process group
//! so Ctrl-C reaches us and we forward it.
//!
//! Waiting is ninja's: one `poll` on the build's thread over every
//! command's output pipes (see `Runner`).

use std::io::{PipeReader, PipeWriter, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

/// Variables every command gets besides ours (a jobserver pool's
/// `MAKEFLAGS`): only commands see them, not ggninja itself.
static COMMAND_ENV: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Sets `name` to `value` for every command started from now on.
pub fn set_command_env(name: &str, value: &str) {
    let mut env = COMMAND_ENV.lock().unwrap_or_else(|e| e.into_inner());
    env.retain(|(n, _)| n != name);
    env.push((name.to_string(), value.to_string()));
}

extern "C" fn on_signal(sig: libc::c_int) {
    INTERRUPTED.store(sig, Ordering::SeqCst);
}

/// Catches SIGINT, SIGTERM and SIGHUP so a build can stop cleanly.
pub fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// The signal that interrupted us, if any.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// How a command ended, as ninja 1.13 sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// Failed, with the status the build then exits with: the command's
    /// exit code, or 128 plus the wait status when a signal other than
    /// SIGINT, SIGTERM and SIGHUP ended it (1 when no process ran).
    Failure(i32),
    /// SIGINT, SIGTERM or SIGHUP ended it, or it exited 130 (what an
    /// interrupted shell exits with): the build stops as if interrupted.
    Interrupted,
}

/// The exit status of a build that was interrupted.
pub const INTERRUPTED_STATUS: i32 = 130;

impl Exit {
    /// What ninja 1.13 makes of a child's wait status.
    pub fn of(status: std::process::ExitStatus) -> Exit {
        match (status.code(), status.signal()) {
            (Some(0), _) => Exit::Success,
            (Some(INTERRUPTED_STATUS), _) => Exit::Interrupted,
            (Some(code), _) => Exit::Failure(code),
            (None, Some(libc::SIGINT | libc::SIGTERM | libc::SIGHUP)) => Exit::Interrupted,
            (None, _) => Exit::Failure(128 + status.into_raw()),
        }
    }

    /// The code `FAILED: [code=N]` names.
    pub fn code(self) -> i32 {
        match self {
            Exit::Success => 0,
            Exit::Failure(code) => code,
            Exit::Interrupted => INTERRUPTED_STATUS,
        }
    }
}

/// Where a command's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streams {
    /// The terminal itself (ninja's console pool): nothing is captured.
    Console,
    /// stdout and stderr on one pipe, captured as one output (ninja).
    Merged,
    /// stdout and stderr on pipes of their own, captured apart (make, which
    /// leaves a recipe's stderr on its own stderr).
    Apart,
}

pub struct Finished<T> {
    pub token: T,
    pub exit: Exit,
    /// stdout, with stderr when `Streams::Merged`.
    pub output: Vec<u8>,
    /// stderr when `Streams::Apart`; empty otherwise.
    pub errors: Vec<u8>,
}

/// A running command whose output comes through the pipes we poll.
struct Piped<T> {
    token: T,
    child: Child,
    /// stdout (and stderr when merged), then stderr when apart; each None
    /// once it has ended.
    readers: [Option<PipeReader>; 2],
    /// What each pipe brought.
    read: [Vec<u8>; 2],
}

impl<T> Piped<T> {
    /// Reaps the command once every pipe has ended.
    fn reap(self) -> Finished<T> {
        let [output, errors] = self.read;
        reap(self.token, self.child, output, errors)
    }
}

/// The running commands, waited for as ninja does: one `poll` over every
/// command's output pipe, the command reaped when its pipe closes, all on
/// the build's own thread. (A thread per command cost a context switch
/// per command and made every `munmap` a cross-CPU TLB flush.) A console
/// command has no pipe, so a thread waits for it; it and work finished
/// elsewhere (another machine, a jobserver token) come back through the
/// `Inbox`, whose bell is one more polled pipe.
pub struct Runner<T> {
    piped: Vec<Piped<T>>,
    /// Commands that run on the console.
    console: Vec<T>,
    inbox: Inbox<T>,
    rx: Receiver<Option<Finished<T>>>,
    /// None if no pipe could be made: then the inbox is seen within
    /// `wait`'s 50 ms poll instead of at once.
    bell: Option<PipeReader>,
}

/// Hands a `Runner` results from other threads; None wakes its `wait`
/// without one.
pub struct Inbox<T> {
    tx: Sender<Option<Finished<T>>>,
    bell: Option<Arc<PipeWriter>>,
}

impl<T> Clone for Inbox<T> {
    fn clone(&self) -> Self {
        Inbox {
            tx: self.tx.clone(),
            bell: self.bell.clone(),
        }
    }
}

impl<T> Inbox<T> {
    /// Returns false when the runner is gone.
    pub fn send(&self, finished: Option<Finished<T>>) -> bool {
        if self.tx.send(finished).is_err() {
            return false;
        }
        // A full pipe already holds a ring; the bell is non-blocking.
        if let Some(bell) = &self.bell {
            let _ = (&**bell).write(&[1]);
        }
        true
    }
}

/// What names a command: given to `start`, handed back with its result.
pub trait Token: Copy + PartialEq + Send + 'static {}
impl<T: Copy + PartialEq + Send + 'static> Token for T {}

impl<T: Token> Default for Runner<T> {
    fn default() -> Self {
        let (bell, ring) = bell().ok().unzip();
        let (tx, rx) = channel();
        Runner {
            piped: Vec::new(),
            console: Vec::new(),
            inbox: Inbox {
                tx,
                bell: ring.map(Arc::new),
            },
            rx,
            bell,
        }
    }
}

/// A non-blocking pipe: its read end polled, its write end rung.
fn bell() -> std::io::Result<(PipeReader, PipeWriter)> {
    let (bell, ring) = std::io::pipe()?;
    set_nonblocking(bell.as_raw_fd())?;
    set_nonblocking(ring.as_raw_fd())?;
    Ok((bell, ring))
}

impl<T: Token> Runner<T> {
    pub fn running(&self) -> usize {
        self.piped.len() + self.console.len()
    }

    /// Starts `cmd` (see `shell`), its output going where `streams` says;
    /// `token` comes back with its result.
    pub fn start(&mut self, token: T, mut cmd: Command, streams: Streams) -> std::io::Result<()> {
        if streams == Streams::Console {
            let child = cmd.spawn()?;
            self.console.push(token);
            let inbox = self.inbox.clone();
            let finished = move || reap(token, child, Vec::new(), Vec::new());
            std::thread::spawn(move || inbox.send(Some(finished())));
            return Ok(());
        }
        let readers = piped(&mut cmd, streams)?;
        let child = cmd.spawn()?;
        // Drop our copies of the pipes' write ends (held inside `cmd`).
        drop(cmd);
        self.piped.push(Piped {
            token,
            child,
            readers,
            read: [Vec::new(), Vec::new()],
        });
        Ok(())
    }

    /// Where work finished elsewhere comes back through `wait`, so one
    /// wait serves both.
    pub fn inbox(&self) -> Inbox<T> {
        self.inbox.clone()
    }

    /// Waits for the next command to finish; `None` if we were interrupted
    /// or woken (see `inbox`).
    pub fn wait(&mut self) -> Option<Finished<T>> {
        loop {
            if interrupted().is_some() {
                return None;
            }
            if let Ok(message) = self.rx.try_recv() {
                return self.received(message);
            }
            if let Some(f) = self.poll_once() {
                return Some(f);
            }
        }
    }

    /// A message from the inbox: a finished console command is no longer
    /// running.
    fn received(&mut self, message: Option<Finished<T>>) -> Option<Finished<T>> {
        let f = message?;
        self.console.retain(|&c| c != f.token);
        Some(f)
    }

    /// One `poll` over the output pipes and the bell (at most 50 ms, so a
    /// signal arriving just before it is seen soon); reads what every
    /// ready pipe holds, and returns a command whose last pipe closed
    /// (another closed one stays ready for the next poll).
    fn poll_once(&mut self) -> Option<Finished<T>> {
        // Without a bell, -1: poll skips it.
        let bell = self.bell.as_ref().map_or(-1, |b| b.as_raw_fd());
        // Which command and which of its pipes each polled fd is.
        let open: Vec<(usize, usize, RawFd)> = (self.piped.iter().enumerate())
            .flat_map(|(i, p)| {
                (p.readers.iter().enumerate())
                    .filter_map(move |(s, r)| Some((i, s, r.as_ref()?.as_raw_fd())))
            })
            .collect();
        let mut fds: Vec<libc::pollfd> = std::iter::once(bell)
            .chain(open.iter().map(|&(_, _, fd)| fd))
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 50) };
        if n <= 0 {
            return None;
        }
        if let (Some(mut bell), true) = (self.bell.as_ref(), fds[0].revents != 0) {
            let _ = bell.read(&mut [0u8; 64]);
        }
        let ready = (fds[1..].iter().zip(&open)).filter(|(fd, _)| fd.revents != 0);
        for (_, &(i, stream, _)) in ready {
            if let Some(f) = self.read_from(i, stream) {
                return Some(f);
            }
        }
        None
    }

    /// Reads what command `i` wrote on pipe `stream`; once every pipe of
    /// it has ended, reaps it.
    fn read_from(&mut self, i: usize, stream: usize) -> Option<Finished<T>> {
        let p = &mut self.piped[i];
        let reader = p.readers[stream].as_mut()?;
        let mut buf = [0u8; 16 * 1024];
        match reader.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => {
                p.read[stream].extend_from_slice(&buf[..n]);
                return None;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return None,
            Err(_) => {}
        }
        p.readers[stream] = None;
        if p.readers.iter().any(Option::is_some) {
            return None;
        }
        Some(self.piped.swap_remove(i).reap())
    }

    /// Passes the signal that interrupted us to every running command and
    /// waits for all of them to end (as ninja, a build stopped for another
    /// reason lets them finish). Returns the tokens that were running.
    pub fn abort(&mut self) -> Vec<T> {
        if interrupted().is_some() {
            for p in &self.piped {
                interrupt_group(p.child.id());
            }
        }
        let mut tokens: Vec<T> = self.piped.iter().map(|p| p.token).collect();
        tokens.extend(&self.console);
        while !self.piped.is_empty() {
            self.poll_once();
        }
        while !self.console.is_empty() {
            match self.rx.recv() {
                Ok(message) => _ = self.received(message),
                Err(_) => break,
            }
        }
        tokens
    }
}

/// Waits for a child whose output has ended.
fn reap<T>(token: T, mut child: Child, output: Vec<u8>, errors: Vec<u8>) -> Finished<T> {
    let exit = match child.wait() {
        Ok(st) => Exit::of(st),
        Err(_) => Exit::Failure(1),
    };
    Finished {
        token,
        exit,
        output,
        errors,
    }
}

fn set_nonblocking(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor we own.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The 1-minute load average, for `-l`.
pub fn load_average() -> f64 {
    let mut avg = [0f64; 3];
    // SAFETY: getloadavg writes at most 3 doubles into the array.
    let n = unsafe { libc::getloadavg(avg.as_mut_ptr(), 3) };
    if n < 1 {
        -0.0
    } else {
        avg[0]
    }
}

/// Sends stdout and stderr to one pipe, or (`Streams::Apart`) to two, and
/// puts the child in its own process group (Ctrl-C reaches it through us);
/// returns the read ends, stdout's first.
fn piped(cmd: &mut Command, streams: Streams) -> std::io::Result<[Option<PipeReader>; 2]> {
    let (reader, writer) = std::io::pipe()?;
    cmd.stdin(Stdio::null()).process_group(0);
    if streams == Streams::Apart {
        let (errors, error_writer) = std::io::pipe()?;
        cmd.stdout(writer).stderr(error_writer);
        return Ok([Some(reader), Some(errors)]);
    }
    cmd.stdout(writer.try_clone()?).stderr(writer);
    Ok([Some(reader), None])
}

/// Passes the signal that interrupted us to the process group a command
/// started by this module leads; SIGTERM if none did, because a command
/// started from a background job inherits SIGINT ignored.
pub fn interrupt_group(pid: u32) {
    let sig = interrupted().unwrap_or(libc::SIGTERM);
    // SAFETY: plain kill(2) on the child's process group.
    unsafe {
        libc::kill(-(pid as i32), sig);
    }
}

/// Runs `command` as a build step would, on the calling thread, until it
/// ends: for executors that run an edge locally from a thread of their own
/// (a remote executor's fallback). `started` gets the child's pid, so that
/// an abort can reach it (`interrupt_group`).
pub fn run_captured(command: &str, started: impl FnOnce(u32)) -> std::io::Result<(Exit, Vec<u8>)> {
    let mut cmd = shell(command);
    let [reader, _] = piped(&mut cmd, Streams::Merged)?;
    let child = cmd.spawn()?;
    started(child.id());
    drop(cmd);
    let mut output = Vec::new();
    if let Some(mut reader) = reader {
        let _ = reader.read_to_end(&mut output);
    }
    let f = reap((), child, output, Vec::new());
    Ok((f.exit, f.output))
}

/// A manifest command, run as ninja runs it.
pub fn shell(command: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    add_command_env(&mut cmd);
    cmd
}

/// Gives `cmd` the variables every command gets (`set_command_env`).
pub fn add_command_env(cmd: &mut Command) {
    for (name, value) in COMMAND_ENV.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        cmd.env(name, value);
    }
}

#[cfg(test)]
#[path = "process_test.rs"]
mod tests;

//! Running commands: `/bin/sh -c`, stdout and stderr on one pipe, each child
//! in its own process group so Ctrl-C reaches us and we forward it.
//!
//! Workers block in `read` and `waitpid`, which rayon's work-stealing pool
//! is not made for; a few reused plain threads (at most -j) cost nothing.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::Duration;

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

pub struct Finished<T> {
    pub token: T,
    pub exit: Exit,
    pub output: Vec<u8>,
}

/// A started child handed to a worker, which collects its output and status.
struct Job<T> {
    token: T,
    child: std::process::Child,
    reader: Option<std::io::PipeReader>,
}

/// The running commands. Children are spawned on the calling thread (so
/// their pids are known at once for Ctrl-C); a pool of worker threads, grown
/// to the peak number of concurrent commands and reused, blocks in `read`
/// and `waitpid` for them.
pub struct Runner<T> {
    /// Finished commands; None wakes `wait` without one.
    tx: Sender<Option<Finished<T>>>,
    rx: Receiver<Option<Finished<T>>>,
    jobs: Sender<Job<T>>,
    job_rx: std::sync::Arc<std::sync::Mutex<Receiver<Job<T>>>>,
    workers: usize,
    /// (token, pid, runs on the console)
    running: Vec<(T, u32, bool)>,
}

/// What names a command: given to `start`, handed back with its result.
pub trait Token: Copy + PartialEq + Send + 'static {}
impl<T: Copy + PartialEq + Send + 'static> Token for T {}

impl<T: Token> Default for Runner<T> {
    fn default() -> Self {
        let (tx, rx) = channel();
        let (jobs, job_rx) = channel();
        Runner {
            tx,
            rx,
            jobs,
            job_rx: std::sync::Arc::new(std::sync::Mutex::new(job_rx)),
            workers: 0,
            running: Vec::new(),
        }
    }
}

fn collect<T>(job: Job<T>) -> Finished<T> {
    let Job {
        token,
        mut child,
        reader,
    } = job;
    let mut output = Vec::new();
    if let Some(mut r) = reader {
        let _ = r.read_to_end(&mut output);
    }
    let exit = match child.wait() {
        Ok(st) => Exit::of(st),
        Err(_) => Exit::Failure(1),
    };
    Finished {
        token,
        exit,
        output,
    }
}

impl<T: Token> Runner<T> {
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Starts `cmd` (see `shell`); `token` comes back with its result.
    pub fn start(&mut self, token: T, mut cmd: Command, console: bool) -> std::io::Result<()> {
        let reader = if console {
            None
        } else {
            Some(piped(&mut cmd)?)
        };
        let child = cmd.spawn()?;
        // Drop our copies of the pipe's write end (held inside `cmd`).
        drop(cmd);
        self.running.push((token, child.id(), console));
        if self.running.len() > self.workers {
            self.spawn_worker();
        }
        let job = Job {
            token,
            child,
            reader,
        };
        self.jobs
            .send(job)
            .map_err(|_| std::io::Error::other("command workers are gone"))
    }

    fn spawn_worker(&mut self) {
        self.workers += 1;
        let jobs = std::sync::Arc::clone(&self.job_rx);
        let tx = self.tx.clone();
        std::thread::spawn(move || loop {
            let job = match jobs.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else { return };
            if tx.send(Some(collect(job))).is_err() {
                return;
            }
        });
    }

    /// A sender through which work finished elsewhere (on another machine)
    /// comes back through `wait`, so one wait serves both; sending None
    /// wakes `wait` without a finished command.
    pub fn finisher(&self) -> Sender<Option<Finished<T>>> {
        self.tx.clone()
    }

    /// Waits for the next command to finish; `None` if we were interrupted
    /// or woken (see `finisher`).
    pub fn wait(&mut self) -> Option<Finished<T>> {
        loop {
            if interrupted().is_some() {
                return None;
            }
            match self.rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Some(f)) => {
                    self.running.retain(|r| r.0 != f.token);
                    return Some(f);
                }
                Ok(None) => return None,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Passes the signal that interrupted us to every running command and
    /// waits for all of them to end (as ninja, a build stopped for another
    /// reason lets them finish). Returns the tokens that were running.
    pub fn abort(&mut self) -> Vec<T> {
        if interrupted().is_some() {
            for &(_, pid, console) in &self.running {
                if !console {
                    interrupt_group(pid);
                }
            }
        }
        let tokens: Vec<T> = self.running.iter().map(|r| r.0).collect();
        while !self.running.is_empty() {
            match self.rx.recv() {
                Ok(Some(f)) => self.running.retain(|r| r.0 != f.token),
                Ok(None) => {}
                Err(_) => break,
            }
        }
        tokens
    }
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

/// Sends stdout and stderr to one pipe and puts the child in its own
/// process group (Ctrl-C reaches it through us); returns the read end.
fn piped(cmd: &mut Command) -> std::io::Result<std::io::PipeReader> {
    let (reader, writer) = std::io::pipe()?;
    cmd.stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    cmd.process_group(0);
    Ok(reader)
}

/// Passes the signal that interrupted us (SIGINT if none) to the process
/// group a command started by this module leads.
pub fn interrupt_group(pid: u32) {
    let sig = interrupted().unwrap_or(libc::SIGINT);
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
    let reader = piped(&mut cmd)?;
    let child = cmd.spawn()?;
    started(child.id());
    drop(cmd);
    let f = collect(Job {
        token: (),
        child,
        reader: Some(reader),
    });
    Ok((f.exit, f.output))
}

/// A manifest command, run as ninja runs it.
pub fn shell(command: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    for (name, value) in COMMAND_ENV.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        cmd.env(name, value);
    }
    cmd
}

//! The remote executor (`--remote lambda`): a `Backend` that runs each
//! task carrying a thunk on AWS Lambda, with S3 holding every object and
//! the memo table, and the other tasks as local processes. A task becomes
//! an async job on a tokio runtime the backend owns (`job`), so uploads of
//! one edge overlap invocations of others, and a finished job comes back
//! through the local runner's wait (`Finisher`): one wait serves both.
//! Owns the choice of where each task runs; ignores the plan, the logs and
//! the status line (see executor).

mod attempts;
mod carry;
mod edge;
mod invoke;
mod job;
mod place;
mod shared;
pub mod summary;

use std::collections::VecDeque;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ggninja_executor::backend::{Backend, Ctx, Done, Exit, Local, Origin, Placement, Task, Waker};
use ggninja_graph::{BuildId, Escape};
use ggninja_store::hash::ContentHash;
use ggninja_store::RemoteFiles;
use ggninja_thunk::placement::{is_in_root, stays_local};
use ggninja_thunk::{EdgeThunk, Roots, Source};
use rustc_hash::FxHashMap;
use tokio::task::JoinHandle;

use crate::client::S3Settings;
use crate::objects::ObjectStore;
use crate::protocol::{Limits, RealRoots, Request};
use crate::retry::RetryPolicy;
use edge::Job;
use invoke::Invoker;
use shared::Shared;
use summary::Summary;

/// Where and how to run remotely.
#[derive(Debug, Clone)]
pub struct Config {
    pub bucket: String,
    /// Put before every key in the bucket.
    pub prefix: String,
    pub function: String,
    /// Invoke the function and write the S3 memo (`--remote-upload=yes`);
    /// when false, only read the memo and run misses here.
    pub upload: bool,
    /// After remote trouble past the retry cap, run the edge here (true)
    /// or fail it (false).
    pub fallback: bool,
    /// Invocation attempts and the waits between them.
    pub retry: RetryPolicy,
    /// How long one invocation may take (Lambda's own cap is 15 min).
    pub timeout: Duration,
    /// Edges in flight at once (`-j`).
    pub jobs: usize,
    /// Invocations in flight at most, stragglers' second runs included:
    /// the function's concurrency (an emulator's queue; an account's
    /// limit). Edges past it wait for a slot.
    pub concurrency: usize,
    /// The function's memory, for the cost estimate.
    pub memory_mb: u64,
    /// Say why each edge ran where it did (`-d explain`).
    pub explain: bool,
    /// Where the summary's JSON goes.
    pub summary_path: PathBuf,
    /// Which outputs come back to this machine.
    pub download: Download,
    /// The outputs left only in the bucket, and where that record is kept.
    pub remote_files: Arc<RemoteFiles>,
    pub remote_files_path: PathBuf,
}

/// Which outputs of remote edges are written into the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// Every one (`--remote-download=all`): the tree ends as after a local
    /// build; outputs an earlier build left remote are fetched at the end.
    All,
    /// These (the requested targets, real paths), and every output but
    /// intermediate objects and archives (`--remote-download=toplevel`):
    /// generated headers and libraries stay readable for the footprint
    /// scanner and local steps.
    Toplevel(std::collections::HashSet<PathBuf>),
}

impl Config {
    /// Whether an output at `real` comes back to this machine.
    pub fn fetches(&self, real: &std::path::Path) -> bool {
        match &self.download {
            Download::All => true,
            Download::Toplevel(top) => top.contains(real) || !stays_remote_kind(real),
        }
    }
}

/// Objects and archives: the bulk of a build's bytes, read by nothing but
/// links and archivers, which run remotely.
fn stays_remote_kind(path: &std::path::Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("o" | "obj" | "a")
    )
}

impl Config {
    pub fn new(bucket: String, function: String, jobs: usize) -> Config {
        Config {
            bucket,
            prefix: String::new(),
            function,
            upload: true,
            fallback: true,
            retry: RetryPolicy {
                max_attempts: 6,
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(10),
            },
            timeout: Duration::from_secs(900),
            jobs,
            // Room for stragglers' second runs beside -j of them.
            concurrency: jobs + jobs / 8 + 1,
            memory_mb: 4096,
            explain: false,
            summary_path: PathBuf::from(".ggninja_remote.json"),
            download: Download::All,
            remote_files: Arc::default(),
            remote_files_path: PathBuf::from(".ggninja_remote_files"),
        }
    }
}

/// Runs thunks on Lambda, everything else here.
pub struct Remote {
    rt: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    local: Local,
    /// Local processes at once: the machine's cores, whatever `-j` says.
    local_limit: usize,
    /// Local tasks waiting for a core.
    queued: VecDeque<Task>,
    in_flight: FxHashMap<BuildId, JoinHandle<()>>,
}

impl Remote {
    /// Connects the S3 and Lambda clients (standard AWS chain).
    pub fn connect(config: Config, roots: Roots) -> Result<Remote, String> {
        // File writes and local fallbacks block; a few threads do them
        // (each new thread costs a stack and an allocator heap, which showed
        // as a fifth of the engine's CPU at -j 1000).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(2 * cores)
            .enable_all()
            .build()
            .map_err(|e| format!("starting the remote runtime: {e}"))?;
        let mut s3 = S3Settings::new(config.bucket.clone());
        s3.prefix = config.prefix.clone();
        let (store, invoker) = rt.block_on(async {
            let store = ObjectStore::connect(s3).await;
            let invoker = Invoker::connect(config.function.clone(), config.timeout).await;
            (store, invoker)
        });
        let store = store.map_err(|e| format!("remote: {e}"))?;
        let local = Local::default();
        let shared = Shared::new(
            config,
            Arc::new(store),
            invoker,
            roots,
            local.finisher(),
            cores,
        );
        Ok(Remote {
            rt,
            shared: Arc::new(shared),
            local,
            local_limit: cores,
            queued: VecDeque::new(),
            in_flight: FxHashMap::default(),
        })
    }

    pub fn summary(&self) -> Summary {
        let c = &self.shared.config;
        Summary::new(
            &self.shared.stats,
            self.shared.store.counts(),
            &c.function,
            &c.bucket,
        )
    }

    /// Runs a task without a thunk as a local process, once a core is free
    /// and its inputs left in the bucket are here.
    fn start_local(&mut self, cx: &mut Ctx, task: Task) -> Result<(), String> {
        summary::Stats::add(&self.shared.stats.local_runs, 1);
        let g = cx.graph;
        let files = &self.shared.config.remote_files;
        let remote: Vec<_> = g
            .build(task.edge)
            .ins
            .iter()
            .map(|&f| self.shared.roots.build.join(g.path(f)))
            .filter_map(|p| files.get(&p).map(|f| (p, f)))
            .collect();
        if !remote.is_empty() {
            self.rt
                .block_on(place::materialize(&self.shared, &remote))
                .map_err(|e| {
                    format!("fetching the inputs of {}: {e}", cx.first_output(task.edge))
                })?;
        }
        if self.local.running() < self.local_limit {
            return self.local.start(cx, task);
        }
        self.queued.push_back(task);
        Ok(())
    }

    fn start_queued(&mut self, cx: &mut Ctx) {
        while self.local.running() < self.local_limit {
            let Some(task) = self.queued.pop_front() else {
                return;
            };
            let edge = task.edge;
            if let Err(msg) = self.local.start(cx, task) {
                self.shared.finisher.finish(Done {
                    edge,
                    exit: Exit::Failure(1),
                    output: format!("{msg}\n").into_bytes(),
                    errors: Vec::new(),
                    origin: Origin::Ran,
                });
            }
        }
    }
}

impl Backend for Remote {
    fn start(&mut self, cx: &mut Ctx, task: Task) -> Result<(), String> {
        let Some(t) = &task.thunk else {
            return self.start_local(cx, task);
        };
        if task.console {
            return self.start_local(cx, task);
        }
        let job = match prepare(cx, &self.shared, &task, t) {
            Ok(job) => job,
            Err(why) => {
                let out = cx.first_output(task.edge).to_string();
                cx.explain(|| format!("{out} runs locally: {why}"));
                return self.start_local(cx, task);
            }
        };
        let edge = task.edge;
        let handle = self.rt.spawn(job::run(Arc::clone(&self.shared), job));
        self.in_flight.insert(edge, handle);
        Ok(())
    }

    fn wait(&mut self, cx: &mut Ctx) -> Option<Done> {
        let done = self.local.wait(cx)?;
        if self.in_flight.remove(&done.edge).is_some() {
            cx.notes.extend(self.shared.take_notes(done.edge));
        }
        self.start_queued(cx);
        Some(done)
    }

    fn running(&self) -> usize {
        self.local.running() + self.queued.len() + self.in_flight.len()
    }

    // Remote results arrive through the local runner's wait too.
    fn waker(&self) -> Option<Waker> {
        self.local.waker()
    }

    fn placement(&self) -> Option<Placement> {
        Some(Placement {
            remote: self.in_flight.len(),
            local: self.local.running() + self.queued.len(),
        })
    }

    fn abort(&mut self) -> Vec<BuildId> {
        let mut edges: Vec<BuildId> = self.queued.drain(..).map(|t| t.edge).collect();
        for (edge, handle) in self.in_flight.drain() {
            handle.abort();
            edges.push(edge);
        }
        // A fallback runs on a blocking thread the abort cannot stop: its
        // process is stopped as the local runner stops its own, now or as
        // it starts.
        self.shared.children.abort();
        edges.extend(self.local.abort());
        edges
    }

    fn close(&mut self) {
        let sh = &self.shared;
        if sh.config.download == Download::All {
            let left = sh.config.remote_files.absent();
            if let Err(e) = self.rt.block_on(place::materialize(sh, &left)) {
                eprintln!("ggninja: warning: fetching outputs left in the bucket: {e}");
            }
        }
        if let Err(e) = sh.config.remote_files.save(&sh.config.remote_files_path) {
            eprintln!(
                "ggninja: warning: writing {}: {e}",
                sh.config.remote_files_path.display()
            );
        }
        let summary = self.summary();
        if summary.did_anything() {
            println!("ggninja: {}", summary.line());
        }
        let json = serde_json::to_string_pretty(&summary).expect("summaries serialize");
        let path = &self.shared.config.summary_path;
        if let Err(e) = std::fs::write(path, json + "\n") {
            eprintln!("ggninja: warning: writing {}: {e}", path.display());
        }
    }
}

/// The job for a task, or why it must run here instead.
fn prepare(cx: &Ctx, sh: &Shared, task: &Task, t: &EdgeThunk) -> Result<Job, String> {
    let (g, b) = (cx.graph, task.edge);
    let thunk = t.thunk();
    if let Some(why) = stays_local(&thunk.function.argv, &t.side_outputs) {
        return Err(why.to_string());
    }
    let roots = &sh.roots;
    let key = t.memo_key();
    let mut uploads = Vec::new();
    let mut executable = Vec::new();
    let mut remote_inputs = Vec::new();
    for input in &thunk.inputs {
        let Source::Value { hash } = &input.source else {
            continue;
        };
        if !is_in_root(&input.path) {
            continue; // from the function's image
        }
        let Some(hash) = ContentHash::parse(hash) else {
            continue;
        };
        let real = roots.real_path(&input.path);
        let (mode, left) = match std::fs::metadata(&real) {
            Ok(m) => (m.permissions().mode(), None),
            // Left in the bucket by an earlier remote edge: nothing to send.
            Err(_) => match sh.config.remote_files.get(&real) {
                Some(f) => (f.mode, Some(f)),
                None => (0, None),
            },
        };
        if mode & 0o111 != 0 {
            executable.push(input.path.clone());
        }
        match left {
            Some(f) => remote_inputs.push((real, f)),
            None => uploads.push((hash, real)),
        }
    }
    let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
    let request = Request {
        thunk: t.canonical.clone(),
        thunk_hash: t.hash.to_string(),
        bundle: t.bundle.as_ref().map(|b| b.bundle.files.clone()),
        bucket: sh.config.bucket.clone(),
        prefix: sh.config.prefix.clone(),
        carried: Vec::new(),
        roots: Some(RealRoots {
            build: roots.build.display().to_string(),
            source: roots.source.as_ref().map(|s| s.display().to_string()),
        }),
        executable,
        depfile: (!depfile.is_empty()).then(|| roots.virtual_path(&depfile)),
        limits: Limits::default(),
        memo_key: Some(key.to_string()),
    };
    Ok(Job {
        edge: b,
        label: cx.first_output(b).to_string(),
        rule: g.rule_name(b).to_string(),
        command: task.command.clone(),
        restat: task.restat,
        key,
        request,
        uploads,
        remote_inputs,
    })
}

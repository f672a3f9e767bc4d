//! What every phase and tool shares: the settings the flags made, the
//! program's way of printing messages, and where the logs live. Unaware of
//! the phases (app) and of the tools.

use ggninja_executor::Config;
use ggninja_importer::Options;

use crate::cli::{self, Cli};

/// What every phase needs: the settings the flags made.
pub struct App {
    pub prog: String,
    /// `--cache`: the store to memoize in.
    pub store: Option<std::path::PathBuf>,
    /// `--store`, or the default store, whether or not `--cache` is given.
    pub store_root: std::path::PathBuf,
    /// `--cache-size`: the store's limit in bytes.
    pub cache_limit: u64,
    /// `--sandbox`: run thunks in a mount namespace holding their footprint.
    pub sandbox: bool,
    /// `--remote lambda`: run thunks there.
    pub remote: Option<cli::RemoteFlags>,
    pub config: Config,
    pub parser: Options,
    pub file: String,
    /// Whether a jobserver may bound the build, and `--jobserver-pool`.
    pub jobserver: cli::JobserverFlags,
    /// `--make`/`--make-db`: the graph comes from make, for these goals.
    pub make: Option<(crate::make::Source, Vec<String>)>,
    /// How many warnings and errors were printed (a remembered no-op
    /// replays only the manifest's).
    printed: std::cell::Cell<usize>,
}

impl App {
    pub fn new(prog: String, cli: &Cli, settings: cli::Settings) -> App {
        let store_root = cli
            .store
            .as_ref()
            .map(std::path::PathBuf::from)
            .unwrap_or_else(ggninja_store::Store::default_root);
        App {
            store: cli.cache.then(|| store_root.clone()),
            store_root,
            cache_limit: settings.cache_limit,
            sandbox: cli.sandbox,
            remote: settings.remote,
            prog,
            config: settings.config,
            parser: settings.parser,
            jobserver: settings.jobserver,
            file: cli.file.clone(),
            make: crate::make::source(cli),
            printed: Default::default(),
        }
    }
    pub fn error(&self, msg: &str) {
        self.printed.set(self.printed.get() + 1);
        eprintln!("{}: error: {msg}", self.prog);
    }
    pub fn warning(&self, msg: &str) {
        self.printed.set(self.printed.get() + 1);
        eprintln!("{}: warning: {msg}", self.prog);
    }
    /// How many warnings and errors were printed so far.
    pub fn printed(&self) -> usize {
        self.printed.get()
    }
    /// `PROG: fatal: ...`; returns the exit code.
    pub fn fatal(&self, msg: &str) -> u8 {
        cli::Message::Fatal(msg.to_string()).print(&self.prog)
    }
    pub fn info(&self, msg: &str) {
        println!("{}: {msg}", self.prog);
    }
    /// The value, or None after printing the error.
    pub fn report<T>(&self, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.error(&e)).ok()
    }
}

//! Readers that turn build descriptions into a `ggninja_graph::Graph`:
//! ninja manifests (`ninja/`: lexer, manifest, dyndep files) and GNU make's
//! database (`make/`: make itself is run to print it). The make-style rules
//! both read (depfiles) are in the `ggninja-syntax` crate. Unaware of
//! running builds: a loaded graph is all they give.

pub mod make;
pub mod ninja;

pub use ninja::dyndep;
pub use ninja::lexer::{Lexer, Token};
pub use ninja::manifest::io_message;
pub use ninja::saved;

use ggninja_graph::{Graph, ROOT_SCOPE};

/// The ninja version whose behaviour we provide, as `--version` reports it
/// (and `ninja_required_version` is checked against).
pub const VERSION: &str = "1.13.2";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-w phonycycle=err` rather than the default `=warn`.
    pub phonycycle_is_error: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A formatted message: `file:line:col: what`, the line, and a caret.
    #[error("{0}")]
    Parse(String),
}

/// A loaded manifest and the warnings printed while loading it.
pub struct Loaded {
    pub graph: Graph,
    pub warnings: Vec<String>,
    /// The files read, in order, each as it was when read.
    pub files: Vec<saved::ManifestFile>,
    /// When the load began, in ns since the epoch (a file changed after
    /// it has a later stamp than the one recorded).
    pub started_ns: i64,
}

/// Loads the manifest at `path` and everything it includes.
pub fn load(path: &str, options: &Options) -> Result<Loaded, LoadError> {
    let started_ns = saved::now_ns();
    let mut loader = ninja::manifest::Loader::new(options);
    loader.load_file(path, ROOT_SCOPE, None)?;
    Ok(Loaded {
        graph: loader.graph,
        warnings: loader.warnings,
        files: loader.files,
        started_ns,
    })
}

/// Parses manifest text (for tests, fuzzing and benchmarks).
pub fn parse_str(filename: &str, input: &[u8], options: &Options) -> Result<Loaded, LoadError> {
    let mut loader = ninja::manifest::Loader::new(options);
    loader.parse(filename, input, ROOT_SCOPE)?;
    Ok(Loaded {
        graph: loader.graph,
        warnings: loader.warnings,
        files: Vec::new(),
        started_ns: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_cycles_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.ninja");
        let b = dir.path().join("b.ninja");
        std::fs::write(&a, format!("include {}\n", b.display())).unwrap();
        std::fs::write(&b, format!("subninja {}\n", a.display())).unwrap();
        let err = load(a.to_str().unwrap(), &Options::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("include cycle"), "{err}");
    }

    #[test]
    fn required_versions_up_to_ours_are_accepted() {
        let parse = |v: &str| {
            let text = format!("ninja_required_version = {v}\n");
            parse_str("build.ninja", text.as_bytes(), &Options::default())
        };
        assert!(parse("1.13").is_ok() && parse("1.13.9").is_ok() && parse("1.5").is_ok());
        let err = parse("1.14").err().unwrap().to_string();
        assert!(
            err.contains("ninja version (1.13.2) incompatible with build file ninja_required_version version (1.14)."),
            "{err}"
        );
    }
}

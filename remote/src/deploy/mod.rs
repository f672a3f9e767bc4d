//! `ggninja -t lambda-deploy`: the function's container image made from the
//! user's own toolchain, and the Lambda function created or updated to run
//! it (docs/lambda.md, "Deploying").
//!
//! `needs` (this file) gathers what a build's thunks read outside the build
//! and source trees; `tree` turns those host paths into the files,
//! directories and symlinks an image holds; `image` writes them as an OCI
//! image layout; `function` calls the Lambda control plane. Ignores how
//! thunks are made (the caller hands them over) and how the image reaches
//! a registry (the user pushes it with skopeo or docker).

pub mod function;
pub mod image;
pub mod tree;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ggninja_thunk::{Bundle, Source, Thunk, BUILD_ROOT, SOURCE_ROOT};

pub use function::{DeployError, Deployed, FunctionSettings};
pub use image::{ImageError, Written};
pub use tree::{Node, Tree, TreeError};

/// Where the function binary sits in the image (Lambda's custom runtime
/// convention); the image's entrypoint.
pub const BOOTSTRAP: &str = "/var/runtime/bootstrap";

/// The CA bundle the function's TLS client (rustls with the platform's
/// roots) reads on real AWS; taken from the host when it has one.
const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// The system paths a set of thunks reads: files (programs, bundle files,
/// headers named by absolute path) and directories named as inputs.
#[derive(Debug, Default)]
pub struct Needs {
    pub files: BTreeSet<String>,
    pub dirs: BTreeSet<String>,
}

impl Needs {
    /// The thunk's program and its inputs outside the roots. Inputs linked
    /// to other thunks' outputs are always inside the roots.
    pub fn add_thunk(&mut self, thunk: &Thunk) {
        if !in_roots(&thunk.function.exe) {
            self.files.insert(thunk.function.exe.clone());
        }
        for input in thunk.inputs.iter().filter(|i| !in_roots(&i.path)) {
            match &input.source {
                Source::Value { .. } => {
                    self.files.insert(input.path.clone());
                }
                Source::Directory { .. } => {
                    self.dirs.insert(input.path.clone());
                }
                Source::Bundle { .. } | Source::Output { .. } => {}
            }
        }
    }

    /// Every file of a bundle (they are outside the roots by construction).
    pub fn add_bundle(&mut self, bundle: &Bundle) {
        for f in bundle.files.iter().filter(|f| !in_roots(&f.path)) {
            self.files.insert(f.path.clone());
        }
    }

    /// The tree holding every needed path, the function binary as
    /// `BOOTSTRAP`, the shared libraries it loads and the CA bundle.
    pub fn tree(&self, function_binary: &Path) -> Result<Tree, TreeError> {
        let mut tree = Tree::default();
        for path in self.files.iter().chain(&self.dirs) {
            tree.add_host_path(Path::new(path))?;
        }
        tree.add_file_as(Path::new(BOOTSTRAP), function_binary, 0o755)?;
        for lib in shared_libraries(function_binary)? {
            tree.add_host_path(&lib)?;
        }
        for ca in CA_BUNDLES.iter().map(Path::new).filter(|p| p.exists()) {
            tree.add_host_path(ca)?;
        }
        // Lambda's conventional working dir, and mount points a runtime
        // (or the local stack's bubblewrap) puts its own file systems on.
        for dir in ["/var/task", "/tmp", "/proc", "/dev"] {
            tree.add_dir(Path::new(dir), if dir == "/tmp" { 0o1777 } else { 0o755 });
        }
        Ok(tree)
    }
}

/// Whether a thunk path names the build or source tree.
fn in_roots(path: &str) -> bool {
    [BUILD_ROOT, SOURCE_ROOT].iter().any(|root| {
        path.strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The shared libraries `binary` loads, as `ldd` names them (absolute
/// paths; the vDSO has none). A static binary has none.
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, TreeError> {
    let out = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| TreeError::Ldd(binary.to_path_buf(), e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .flat_map(|l| l.split_whitespace())
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ggninja_thunk::{BundleFile, Function, Input};

    fn input(path: &str, source: Source) -> Input {
        Input {
            path: path.into(),
            source,
        }
    }

    #[test]
    fn needs_are_what_lies_outside_the_roots() {
        let value = || Source::Value { hash: "V".into() };
        let thunk = Thunk {
            function: Function {
                exe: "/usr/bin/cc".into(),
                exe_hash: "V".into(),
                argv: vec!["cc".into()],
                env: Default::default(),
            },
            inputs: vec![
                input("/", Source::Bundle { bundle: "V".into() }),
                input("/ggroot/build/a.c", value()),
                input(
                    "/ggroot/src/CMakeFiles",
                    Source::Directory { directory: true },
                ),
                input("/ggroot/srcx/odd.h", value()),
                input("/usr/include/stdio.h", value()),
                input("/usr/include", Source::Directory { directory: true }),
            ],
            outputs: vec!["/ggroot/build/a.o".into()],
        };
        let mut needs = Needs::default();
        needs.add_thunk(&thunk);
        needs.add_bundle(&Bundle {
            files: vec![BundleFile {
                path: "/usr/libexec/gcc/cc1".into(),
                hash: "V".into(),
            }],
        });
        let files: Vec<&str> = needs.files.iter().map(String::as_str).collect();
        assert_eq!(
            files,
            [
                "/ggroot/srcx/odd.h",
                "/usr/bin/cc",
                "/usr/include/stdio.h",
                "/usr/libexec/gcc/cc1"
            ]
        );
        assert_eq!(needs.dirs.iter().collect::<Vec<_>>(), ["/usr/include"]);
    }
}

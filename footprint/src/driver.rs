//! A GCC/Clang driver's footprint: sources and outputs from its flags, the
//! headers its sources can include (walked through its template's chains),
//! the compiler's own `-M` list when an include is computed, and for a
//! link what it names beyond the template. Unaware of how chains are
//! searched, files walked or the toolchain asked: it puts those together.

use crate::args::{self, DriverArgs, Lang};
use crate::chain::{Node, Pos};
use crate::classify::records_cwd;
use crate::paths::{clean, is_file};
use crate::templates::{KeyRef, Template, TemplateKey};
use crate::toolchain::toolchain_list;
use ggninja_syntax::depfile;

use crate::{link, programs, Footprint, Kind, LocalOnly, Scanner};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Scanner {
    /// Fills in `fp` for the driver `name` run with `args`; returns its
    /// toolchain.
    pub(crate) fn driver(
        &self,
        fp: &mut Footprint,
        name: &str,
        args: &[String],
        cwd: &Path,
    ) -> Result<Arc<Vec<PathBuf>>, LocalOnly> {
        let cxx = name.contains("++");
        let d = args::parse_driver_args(args, cxx, cwd);
        if d.settings.modules {
            return Err(LocalOnly::new("clang modules (implicit module maps)"));
        }
        fp.kind = match d.settings.compile_only {
            true => Kind::Compile,
            false => Kind::Link,
        };
        fp.embeds_cwd = d.settings.compile_only && args.iter().any(|a| records_cwd(a));
        fp.outputs.extend(d.outputs.iter().map(PathBuf::from));
        fp.sources
            .extend(d.sources.iter().map(|s| PathBuf::from(&s.0)));
        fp.sources.extend(d.inputs.iter().map(PathBuf::from));
        let mut langs: Vec<Lang> = d.sources.iter().map(|s| s.1).collect();
        langs.sort();
        langs.dedup();
        let key: KeyRef = TemplateKey {
            exe: &fp.executable,
            cwd,
            cxx,
            langs: &langs,
            settings: &d.settings,
        };
        let make = || Template::build(&key, &self.toolchain, &self.dirs);
        let t = self.templates.get(&key, make)?;
        if self.headers(fp, &t, &d, cwd)? {
            self.fallback(fp, &d, args, cwd)?;
        }
        if fp.kind != Kind::Link {
            return Ok(t.toolchain.clone());
        }
        let mut tc = link::driver_inputs(fp, &d, &t.lib_dirs, cwd);
        if tc.is_empty() {
            return Ok(t.toolchain.clone());
        }
        tc.extend(t.toolchain.iter().cloned());
        Ok(toolchain_list(tc, &fp.executable))
    }

    /// Adds the headers the sources can include, per language with that
    /// language's forced includes; returns whether an include was computed.
    fn headers(
        &self,
        fp: &mut Footprint,
        t: &Template,
        d: &DriverArgs,
        cwd: &Path,
    ) -> Result<bool, LocalOnly> {
        let mut computed = false;
        for lt in &t.langs {
            let sources = d.sources.iter().filter(|(_, l)| *l == lt.lang);
            let mut roots: Vec<Node> = sources
                .map(|(s, _)| Node {
                    path: clean(PathBuf::from(s)),
                    pos: Pos::Root,
                })
                .collect();
            roots.extend(lt.forced.iter().cloned());
            let walked = self.walker.scan(&self.dirs, cwd, &lt.chain, roots)?;
            computed |= walked.computed;
            fp.headers.extend(lt.headers.iter().cloned());
            fp.headers.extend(walked.found);
            fp.absent.extend(walked.absent);
        }
        Ok(computed)
    }

    /// A computed `#include MACRO` only the preprocessor can follow: adds
    /// what the compiler's own `-M -MG` lists.
    fn fallback(
        &self,
        fp: &mut Footprint,
        d: &DriverArgs,
        args: &[String],
        cwd: &Path,
    ) -> Result<(), LocalOnly> {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        let mut a = d.fallback_args(args);
        a.extend(["-M", "-MG"].map(String::from));
        let (ok, out, err) = programs::run(&fp.executable, &a, cwd).map_err(LocalOnly::new)?;
        if !ok {
            return Err(LocalOnly::new(format!(
                "computed #include and `-M` fallback failed: {}",
                err.lines().next().unwrap_or("")
            )));
        }
        let srcs: HashSet<&str> = d.sources.iter().map(|s| s.0.as_str()).collect();
        let deps = depfile::parse(out.as_bytes())
            .map_err(|e| LocalOnly::new(format!("`-M` fallback output: {e}")))?;
        for dep in deps.ins {
            if !srcs.contains(dep.as_str()) && is_file(&cwd.join(&dep)) {
                fp.headers.push(clean(PathBuf::from(dep)));
            }
        }
        Ok(())
    }
}

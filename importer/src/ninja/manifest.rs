//! Reads a manifest (and its includes and subninjas) into a `Graph`,
//! statement by statement, in the order and with the errors ninja has.

use rustc_hash::FxHashMap as HashMap;

use ggninja_graph::path::{canonicalize, canonicalize_owned};
use ggninja_graph::{Build, Escape, EvalString, FileId, Graph, Pool, Rule, ScopeId, DEFAULT_POOL};

use super::lexer::{Lexer, Token};
use super::saved::{ManifestFile, Stamp};
use crate::{LoadError, Options, VERSION};

pub struct Loader<'o> {
    pub graph: Graph,
    options: &'o Options,
    pub warnings: Vec<String>,
    /// Files being loaded, outermost first: a file that includes itself,
    /// directly or not, would otherwise recurse until the stack overflows.
    loading: Vec<String>,
    /// Every file read, in order, as it was when read (what a saved
    /// load is checked against).
    pub files: Vec<ManifestFile>,
}

impl<'o> Loader<'o> {
    pub fn new(options: &'o Options) -> Self {
        Loader {
            graph: Graph::default(),
            options,
            warnings: Vec::new(),
            loading: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Loads `path` into `scope`; `parent` is the including file's lexer,
    /// which an unreadable file's error points into.
    pub fn load_file(
        &mut self,
        path: &str,
        scope: ScopeId,
        parent: Option<&Lexer>,
    ) -> Result<(), LoadError> {
        if self.loading.iter().any(|p| p == path) {
            let mut chain = self.loading.join(" -> ");
            chain.push_str(&format!(" -> {path}"));
            let msg = format!("loading '{path}': include cycle: {chain}");
            return Err(LoadError::Parse(match parent {
                Some(lx) => lx.error(&msg),
                None => msg,
            }));
        }
        let contents = match read_stamped(path) {
            Ok((c, stamp)) => {
                let path = path.to_string();
                self.files.push(ManifestFile { path, stamp });
                c
            }
            Err(e) => {
                let msg = format!("loading '{}': {}", path, io_message(&e));
                return Err(LoadError::Parse(match parent {
                    Some(lx) => lx.error(&msg),
                    None => msg,
                }));
            }
        };
        self.loading.push(path.to_string());
        let result = self.parse(path, &contents, scope);
        self.loading.pop();
        result
    }

    pub fn parse(&mut self, filename: &str, input: &[u8], scope: ScopeId) -> Result<(), LoadError> {
        let mut lx = Lexer::new(filename, input);
        FileParser {
            loader: self,
            lx: &mut lx,
            scope,
        }
        .parse()
        .map_err(LoadError::Parse)
    }
}

/// A file's bytes and its stamp, taken before they were read, from the
/// same open file: a change after it shows in the stamp.
fn read_stamped(path: &str) -> std::io::Result<(Vec<u8>, Stamp)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let mut contents = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut contents)?;
    Ok((contents, Stamp::of(&meta)))
}

/// The OS error text without Rust's " (os error N)" suffix, like strerror.
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

struct FileParser<'l, 'o, 'a, 'b> {
    loader: &'l mut Loader<'o>,
    lx: &'b mut Lexer<'a>,
    scope: ScopeId,
}

impl FileParser<'_, '_, '_, '_> {
    fn g(&mut self) -> &mut Graph {
        &mut self.loader.graph
    }

    fn parse(&mut self) -> Result<(), String> {
        loop {
            match self.lx.read_token() {
                Token::Pool => self.parse_pool()?,
                Token::Build => self.parse_build()?,
                Token::Rule => self.parse_rule()?,
                Token::Default => self.parse_default()?,
                Token::Ident => {
                    self.lx.unread_token();
                    let (name, value) = self.parse_let()?;
                    let value = self.loader.graph.scopes.evaluate(self.scope, &value);
                    if name == "ninja_required_version" {
                        check_version(&value)?;
                    }
                    let scope = self.scope;
                    self.g().scopes.scopes[scope].vars.insert(name, value);
                }
                Token::Include => self.parse_include(false)?,
                Token::Subninja => self.parse_include(true)?,
                Token::Error => return Err(self.lx.error(self.lx.describe_last_error())),
                Token::Eof => return Ok(()),
                Token::Newline => {}
                t => return Err(self.lx.error(&format!("unexpected {}", t.name()))),
            }
        }
    }

    fn parse_let(&mut self) -> Result<(String, EvalString), String> {
        let key = self
            .lx
            .read_ident()
            .ok_or_else(|| self.lx.error("expected variable name"))?;
        self.lx.expect(Token::Equals)?;
        let value = self.lx.read_eval(false)?;
        Ok((key, value))
    }

    fn parse_pool(&mut self) -> Result<(), String> {
        let name = self
            .lx
            .read_ident()
            .ok_or_else(|| self.lx.error("expected pool name"))?;
        self.lx.expect(Token::Newline)?;
        if self.loader.graph.pool_names.contains_key(&name) {
            return Err(self.lx.error(&format!("duplicate pool '{name}'")));
        }
        let mut depth: Option<usize> = None;
        while self.lx.peek_token(Token::Indent) {
            let (key, value) = self.parse_let()?;
            if key != "depth" {
                return Err(self.lx.error(&format!("unexpected variable '{key}'")));
            }
            let text = self.loader.graph.scopes.evaluate(self.scope, &value);
            let n = atol(&text);
            if n < 0 {
                return Err(self.lx.error("invalid pool depth"));
            }
            depth = Some(n as usize);
        }
        let depth = depth.ok_or_else(|| self.lx.error("expected 'depth =' line"))?;
        let g = self.g();
        g.pools.push(Pool {
            name: name.clone(),
            depth,
        });
        let id = g.pools.len() - 1;
        g.pool_names.insert(name, id);
        Ok(())
    }

    fn parse_rule(&mut self) -> Result<(), String> {
        let name = self
            .lx
            .read_ident()
            .ok_or_else(|| self.lx.error("expected rule name"))?;
        self.lx.expect(Token::Newline)?;
        if self.loader.graph.scopes.scopes[self.scope]
            .rules
            .contains_key(&name)
        {
            return Err(self.lx.error(&format!("duplicate rule '{name}'")));
        }
        let mut bindings = HashMap::default();
        while self.lx.peek_token(Token::Indent) {
            let (key, value) = self.parse_let()?;
            if !ggninja_graph::eval::RULE_KEYS.contains(&key.as_str()) {
                return Err(self.lx.error(&format!("unexpected variable '{key}'")));
            }
            bindings.insert(key, value);
        }
        let empty = |k: &str| bindings.get(k).is_none_or(EvalString::is_empty);
        if empty("rspfile") != empty("rspfile_content") {
            return Err(self
                .lx
                .error("rspfile and rspfile_content need to be both specified"));
        }
        if empty("command") {
            return Err(self.lx.error("expected 'command =' line"));
        }
        let scope = self.scope;
        let scopes = &mut self.g().scopes;
        scopes.rules.push(Rule {
            name: name.clone(),
            bindings,
        });
        let id = scopes.rules.len() - 1;
        scopes.scopes[scope].rules.insert(name, id);
        Ok(())
    }

    fn parse_default(&mut self) -> Result<(), String> {
        let mut eval = self.lx.read_eval(true)?;
        if eval.is_empty() {
            return Err(self.lx.error("expected target name"));
        }
        while !eval.is_empty() {
            let path = self.loader.graph.scopes.evaluate(self.scope, &eval);
            let path = canonicalize(&path).ok_or_else(|| self.lx.error("empty path"))?;
            let node = self.loader.graph.lookup(&path);
            let node = node.ok_or_else(|| self.lx.error(&format!("unknown target '{path}'")))?;
            self.g().defaults.push(node);
            eval = self.lx.read_eval(true)?;
        }
        self.lx.expect(Token::Newline)
    }

    fn read_paths(&mut self, into: &mut Vec<EvalString>) -> Result<usize, String> {
        let mut n = 0;
        loop {
            let p = self.lx.read_eval(true)?;
            if p.is_empty() {
                return Ok(n);
            }
            into.push(p);
            n += 1;
        }
    }

    fn parse_build(&mut self) -> Result<(), String> {
        let mut outs = Vec::new();
        self.read_paths(&mut outs)?;
        let mut implicit_outs = 0;
        if self.lx.peek_token(Token::Pipe) {
            implicit_outs = self.read_paths(&mut outs)?;
        }
        if outs.is_empty() {
            return Err(self.lx.error("expected path"));
        }
        self.lx.expect(Token::Colon)?;
        let rule_name = self
            .lx
            .read_ident()
            .ok_or_else(|| self.lx.error("expected build command name"))?;
        let rule = self.loader.graph.scopes.find_rule(self.scope, &rule_name);
        let rule =
            rule.ok_or_else(|| self.lx.error(&format!("unknown build rule '{rule_name}'")))?;
        let mut ins = Vec::new();
        self.read_paths(&mut ins)?;
        let mut implicit = 0;
        if self.lx.peek_token(Token::Pipe) {
            implicit = self.read_paths(&mut ins)?;
        }
        let mut order_only = 0;
        if self.lx.peek_token(Token::Pipe2) {
            order_only = self.read_paths(&mut ins)?;
        }
        let mut validations = Vec::new();
        if self.lx.peek_token(Token::PipeAt) {
            self.read_paths(&mut validations)?;
        }
        self.lx.expect(Token::Newline)?;

        let mut bindings: Option<Box<HashMap<String, String>>> = None;
        while self.lx.peek_token(Token::Indent) {
            let (key, value) = self.parse_let()?;
            let value = self.loader.graph.scopes.evaluate(self.scope, &value);
            bindings.get_or_insert_with(Box::default).insert(key, value);
        }
        let scope = self.scope;
        let mut build = Build {
            rule,
            scope,
            bindings,
            ..Build::default()
        };
        // Like ninja, evaluate the pool before the edge has inputs or outputs.
        let pool_name = self.loader.graph.binding_of(&build, "pool", Escape::Shell);
        let pool_name = pool_name.map_err(|e| self.lx.error(&e.to_string()))?;
        build.pool = DEFAULT_POOL;
        if !pool_name.is_empty() {
            build.pool = *self
                .loader
                .graph
                .pool_names
                .get(&pool_name)
                .ok_or_else(|| self.lx.error(&format!("unknown pool name '{pool_name}'")))?;
        }

        for o in &outs {
            let path = eval_path(
                &self.loader.graph,
                self.lx,
                scope,
                build.bindings.as_deref(),
                o,
            )?;
            let id = self.g().file_id(&path);
            // Always errors, as since ninja 1.12 (1.11 could only warn).
            if build.outs.contains(&id) {
                let msg = format!("{path} is defined as an output multiple times");
                return Err(self.lx.error(&msg));
            }
            if self.loader.graph.file(id).in_build.is_some() {
                return Err(self.lx.error(&format!("multiple rules generate {path}")));
            }
            build.outs.push(id);
        }
        build.implicit_outs = implicit_outs as u32;
        build.ins = self.intern_paths(scope, build.bindings.as_deref(), &ins)?;
        build.implicit_ins = implicit as u32;
        build.order_only_ins = order_only as u32;
        build.validations = self
            .intern_paths(scope, build.bindings.as_deref(), &validations)?
            .into();
        let mut self_input = None;
        if !self.loader.options.phonycycle_is_error
            && rule == ggninja_graph::eval::PHONY_RULE
            && build.outs.len() == 1
            && build.implicit_outs == 0
            && build.implicit_ins == 0
        {
            let out = build.outs[0];
            let before = build.ins.len();
            build.ins.retain(|&i| i != out);
            if build.ins.len() != before {
                self_input = Some(out);
                let removed = before - build.ins.len();
                build.order_only_ins = build.order_only_ins.saturating_sub(removed as u32);
                let path = self.loader.graph.path(out).to_string();
                self.loader.warnings.push(format!(
                    "phony target '{path}' names itself as an input; ignoring [-w phonycycle=warn]"
                ));
            }
        }
        let dyndep = self.loader.graph.binding_of(&build, "dyndep", Escape::None);
        let dyndep = dyndep.map_err(|e| self.lx.error(&e.to_string()))?;
        if !dyndep.is_empty() {
            let path = canonicalize(&dyndep).unwrap_or_default();
            let id = self.g().file_id(&path);
            if !build.ins.contains(&id) {
                return Err(self.lx.error(&format!("dyndep '{path}' is not an input")));
            }
            build.dyndep = Some(id);
        }
        let id = self.g().add_build(build);
        if let Some(out) = self_input {
            // ninja drops the input but keeps the node's out-edge, so the
            // target is still not a root.
            self.g().add_stray_consumer(out, id);
        }
        Ok(())
    }

    /// Evaluates a build's input or validation paths into graph nodes.
    fn intern_paths(
        &mut self,
        scope: ScopeId,
        bindings: Option<&HashMap<String, String>>,
        paths: &[EvalString],
    ) -> Result<Vec<FileId>, String> {
        let mut ids = Vec::with_capacity(paths.len());
        for e in paths {
            let path = eval_path(&self.loader.graph, self.lx, scope, bindings, e)?;
            ids.push(self.g().file_id(&path));
        }
        Ok(ids)
    }

    fn parse_include(&mut self, new_scope: bool) -> Result<(), String> {
        let eval = self.lx.read_eval(true)?;
        let path = self.loader.graph.scopes.evaluate(self.scope, &eval);
        let parent = self.scope;
        let scope = if new_scope {
            self.g().scopes.new_child(parent)
        } else {
            parent
        };
        match self.loader.load_file(&path, scope, Some(self.lx)) {
            Ok(()) => {}
            Err(LoadError::Parse(e)) => return Err(e),
        }
        self.lx.expect(Token::Newline)
    }
}

/// A build's path: its own bindings, then the file scope, then canonicalized.
fn eval_path(
    g: &Graph,
    lx: &Lexer,
    scope: ScopeId,
    own: Option<&HashMap<String, String>>,
    e: &EvalString,
) -> Result<String, String> {
    let text = e
        .evaluate_with::<()>(|v| {
            let own = own.and_then(|b| b.get(v)).map(String::as_str);
            Ok(own
                .or_else(|| g.scopes.lookup(scope, v))
                .unwrap_or("")
                .to_string())
        })
        .unwrap_or_default();
    canonicalize_owned(text).ok_or_else(|| lx.error("empty path"))
}

/// C's atol: leading digits with an optional sign, else 0.
fn atol(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add((d - b'0') as i64)
        });
    if neg {
        -n
    } else {
        n
    }
}

pub(crate) fn major_minor(v: &str) -> (i64, i64) {
    let mut it = v.split('.');
    (atol(it.next().unwrap_or("")), atol(it.next().unwrap_or("")))
}

fn check_version(required: &str) -> Result<(), String> {
    let (bin_major, bin_minor) = major_minor(VERSION);
    let (file_major, file_minor) = major_minor(required);
    if bin_major < file_major || (bin_major == file_major && bin_minor < file_minor) {
        return Err(format!(
            "ninja version ({VERSION}) incompatible with build file ninja_required_version version ({required})."
        ));
    }
    Ok(())
}

//! Dyndep files: implicit inputs and outputs discovered during the build
//! (Fortran and C++20 modules), in ninja's `ninja_dyndep_version = 1` format.

use ggninja_graph::path::canonicalize;
use ggninja_graph::{BuildId, Graph};

use super::lexer::{Lexer, Token};

/// What a dyndep file says about one build.
#[derive(Debug, Default)]
pub struct Dyndeps {
    pub build: Option<BuildId>,
    pub restat: bool,
    pub implicit_ins: Vec<String>,
    pub implicit_outs: Vec<String>,
}

pub fn parse(graph: &Graph, filename: &str, input: &[u8]) -> Result<Vec<Dyndeps>, String> {
    let mut lx = Lexer::new(filename, input);
    let mut have_version = false;
    let mut result: Vec<Dyndeps> = Vec::new();
    loop {
        match lx.read_token() {
            Token::Build => {
                if !have_version {
                    return Err(lx.error("expected 'ninja_dyndep_version = ...'"));
                }
                let d = parse_build(graph, &mut lx, &result)?;
                result.push(d);
            }
            Token::Ident => {
                lx.unread_token();
                if have_version {
                    return Err(lx.error("unexpected identifier"));
                }
                parse_version(&mut lx)?;
                have_version = true;
            }
            Token::Error => return Err(lx.error(lx.describe_last_error())),
            Token::Eof => {
                if !have_version {
                    return Err(lx.error("expected 'ninja_dyndep_version = ...'"));
                }
                return Ok(result);
            }
            Token::Newline => {}
            t => return Err(lx.error(&format!("unexpected {}", t.name()))),
        }
    }
}

fn parse_let(lx: &mut Lexer) -> Result<(String, String), String> {
    let key = lx
        .read_ident()
        .ok_or_else(|| lx.error("expected variable name"))?;
    lx.expect(Token::Equals)?;
    let value = lx.read_eval(false)?;
    Ok((key, literal(&value)))
}

/// Dyndep files have no variables of their own: references evaluate empty.
fn literal(e: &ggninja_graph::EvalString) -> String {
    e.evaluate_with::<()>(|_| Ok(String::new()))
        .unwrap_or_default()
}

fn parse_version(lx: &mut Lexer) -> Result<(), String> {
    let (name, value) = parse_let(lx)?;
    if name != "ninja_dyndep_version" {
        return Err(lx.error("expected 'ninja_dyndep_version = ...'"));
    }
    let (major, minor) = super::manifest::major_minor(&value);
    if major != 1 || minor != 0 {
        return Err(lx.error(&format!("unsupported 'ninja_dyndep_version = {value}'")));
    }
    Ok(())
}

fn read_paths(lx: &mut Lexer) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    loop {
        let e = lx.read_eval(true)?;
        if e.is_empty() {
            return Ok(out);
        }
        out.push(literal(&e));
    }
}

fn canonical(lx: &Lexer, paths: Vec<String>) -> Result<Vec<String>, String> {
    paths
        .iter()
        .map(|p| canonicalize(p).ok_or_else(|| lx.error("empty path")))
        .collect()
}

fn parse_build(graph: &Graph, lx: &mut Lexer, seen: &[Dyndeps]) -> Result<Dyndeps, String> {
    let out0 = lx.read_eval(true)?;
    if out0.is_empty() {
        return Err(lx.error("expected path"));
    }
    let path = canonicalize(&literal(&out0)).ok_or_else(|| lx.error("empty path"))?;
    let build = graph.lookup(&path).and_then(|n| graph.file(n).in_build);
    let build =
        build.ok_or_else(|| lx.error(&format!("no build statement exists for '{path}'")))?;
    if seen.iter().any(|d| d.build == Some(build)) {
        return Err(lx.error(&format!("multiple statements for '{path}'")));
    }
    if !lx.read_eval(true)?.is_empty() {
        return Err(lx.error("explicit outputs not supported"));
    }
    let mut outs = Vec::new();
    if lx.peek_token(Token::Pipe) {
        outs = read_paths(lx)?;
    }
    lx.expect(Token::Colon)?;
    if lx.read_ident().as_deref() != Some("dyndep") {
        return Err(lx.error("expected build command name 'dyndep'"));
    }
    if !lx.read_eval(true)?.is_empty() {
        return Err(lx.error("explicit inputs not supported"));
    }
    let mut ins = Vec::new();
    if lx.peek_token(Token::Pipe) {
        ins = read_paths(lx)?;
    }
    if lx.peek_token(Token::Pipe2) {
        return Err(lx.error("order-only inputs not supported"));
    }
    lx.expect(Token::Newline)?;
    let mut restat = false;
    if lx.peek_token(Token::Indent) {
        let (key, value) = parse_let(lx)?;
        if key != "restat" {
            return Err(lx.error("binding is not 'restat'"));
        }
        restat = !value.is_empty();
    }
    Ok(Dyndeps {
        build: Some(build),
        restat,
        implicit_ins: canonical(lx, ins)?,
        implicit_outs: canonical(lx, outs)?,
    })
}

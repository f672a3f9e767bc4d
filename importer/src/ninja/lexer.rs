//! Tokens of the ninja manifest language, recognized with nom.
//!
//! The token rules follow ninja's own lexer (longest match; keywords are
//! identifiers that spell a keyword), so the same input fails at the same
//! place with the same message.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_till1, take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::{eof, opt, recognize, value};
use nom::sequence::{delimited, pair, preceded, tuple};
use nom::IResult;

use ggninja_graph::EvalString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    Error,
    Build,
    Colon,
    Default,
    Equals,
    Ident,
    Include,
    Indent,
    Newline,
    Pipe2,
    Pipe,
    PipeAt,
    Pool,
    Rule,
    Subninja,
    Eof,
}

impl Token {
    pub fn name(self) -> &'static str {
        match self {
            Token::Error => "lexing error",
            Token::Build => "'build'",
            Token::Colon => "':'",
            Token::Default => "'default'",
            Token::Equals => "'='",
            Token::Ident => "identifier",
            Token::Include => "'include'",
            Token::Indent => "indent",
            Token::Newline => "newline",
            Token::Pipe2 => "'||'",
            Token::Pipe => "'|'",
            Token::PipeAt => "'|@'",
            Token::Pool => "'pool'",
            Token::Rule => "'rule'",
            Token::Subninja => "'subninja'",
            Token::Eof => "eof",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Token::Colon => " ($ also escapes ':')",
            _ => "",
        }
    }
}

type Res<'a, T> = IResult<&'a [u8], T>;

fn is_varname(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

fn is_simple_varname(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')
}

fn spaces0(i: &[u8]) -> Res<'_, &[u8]> {
    take_while(|c| c == b' ')(i)
}

/// `[ ]*"#"[^\0\n]*"\n"`: comments must end in a newline, as in ninja.
fn comment(i: &[u8]) -> Res<'_, &[u8]> {
    recognize(tuple((
        spaces0,
        char('#'),
        take_till(|c| c == b'\n' || c == 0),
        char('\n'),
    )))(i)
}

fn varname(i: &[u8]) -> Res<'_, &[u8]> {
    take_while1(is_varname)(i)
}

fn keyword_or_ident(word: &[u8]) -> Token {
    match word {
        b"build" => Token::Build,
        b"pool" => Token::Pool,
        b"rule" => Token::Rule,
        b"default" => Token::Default,
        b"include" => Token::Include,
        b"subninja" => Token::Subninja,
        _ => Token::Ident,
    }
}

fn token(i: &[u8]) -> Res<'_, Token> {
    alt((
        value(
            Token::Newline,
            tuple((spaces0, opt(char('\r')), char('\n'))),
        ),
        value(Token::Indent, take_while1(|c| c == b' ')),
        value(Token::PipeAt, tag("|@")),
        value(Token::Pipe2, tag("||")),
        value(Token::Pipe, tag("|")),
        value(Token::Equals, tag("=")),
        value(Token::Colon, tag(":")),
        nom::combinator::map(varname, keyword_or_ident),
        value(Token::Eof, alt((eof, tag("\0")))),
    ))(i)
}

/// `[ ]+`, `$\n` or `$\r\n`, repeated.
fn whitespace(i: &[u8]) -> Res<'_, &[u8]> {
    recognize(nom::multi::many0_count(alt((
        take_while1(|c| c == b' '),
        tag("$\r\n"),
        tag("$\n"),
    ))))(i)
}

/// One piece of an eval string.
#[derive(Clone)]
enum Piece<'a> {
    Text(&'a [u8]),
    Var(&'a [u8]),
    Skip,
}

fn escape(i: &[u8]) -> Res<'_, Piece<'_>> {
    preceded(
        char('$'),
        alt((
            nom::combinator::map(tag("$"), Piece::Text),
            nom::combinator::map(tag(" "), Piece::Text),
            nom::combinator::map(tag(":"), Piece::Text),
            value(Piece::Skip, pair(alt((tag("\r\n"), tag("\n"))), spaces0)),
            nom::combinator::map(delimited(char('{'), varname, char('}')), Piece::Var),
            nom::combinator::map(take_while1(is_simple_varname), Piece::Var),
        )),
    )(i)
}

/// Manifest bytes as text; invalid UTF-8 is replaced rather than rejected.
fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

pub struct Lexer<'a> {
    pub filename: &'a str,
    input: &'a [u8],
    pos: usize,
    /// Start of the last token read: where errors point.
    last: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(filename: &'a str, input: &'a [u8]) -> Self {
        Lexer {
            filename,
            input,
            pos: 0,
            last: 0,
        }
    }

    fn rest(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }

    fn advance_to(&mut self, rest: &[u8]) {
        self.pos = self.input.len() - rest.len();
    }

    pub fn read_token(&mut self) -> Token {
        while let Ok((rest, _)) = comment(self.rest()) {
            self.advance_to(rest);
        }
        self.last = self.pos;
        let tok = match token(self.rest()) {
            Ok((rest, t)) => {
                self.advance_to(rest);
                t
            }
            Err(_) => {
                self.pos += 1;
                Token::Error
            }
        };
        if tok != Token::Newline && tok != Token::Eof {
            self.eat_whitespace();
        }
        tok
    }

    pub fn unread_token(&mut self) {
        self.pos = self.last;
    }

    pub fn peek_token(&mut self, want: Token) -> bool {
        if self.read_token() == want {
            return true;
        }
        self.unread_token();
        false
    }

    fn eat_whitespace(&mut self) {
        if let Ok((rest, _)) = whitespace(self.rest()) {
            self.advance_to(rest);
        }
    }

    pub fn read_ident(&mut self) -> Option<String> {
        self.last = self.pos;
        let (rest, name) = varname(self.rest()).ok()?;
        self.advance_to(rest);
        self.eat_whitespace();
        Some(text_of(name).into_owned())
    }

    pub fn expect(&mut self, want: Token) -> Result<(), String> {
        let got = self.read_token();
        if got == want {
            return Ok(());
        }
        Err(self.error(&format!(
            "expected {}, got {}{}",
            want.name(),
            got.name(),
            want.hint()
        )))
    }

    /// Reads a path (stops at space, `:`, `|` or newline) or, with
    /// `path == false`, a variable value (stops at newline).
    pub fn read_eval(&mut self, path: bool) -> Result<EvalString, String> {
        let mut eval = EvalString::default();
        // Where the terminator starts: errors after this string point there.
        let terminator;
        loop {
            let start = self.pos;
            let rest = self.rest();
            let special = |c: u8| match c {
                b'$' | b'\r' | b'\n' | 0 => true,
                b' ' | b':' | b'|' => path,
                _ => false,
            };
            let plain = take_till1::<_, _, nom::error::Error<&[u8]>>(special);
            if let Ok((r, text)) = plain(rest) {
                eval.push_literal(&text_of(text));
                self.advance_to(r);
                continue;
            }
            match rest.first() {
                Some(b'\n') => {
                    terminator = self.pos;
                    if !path {
                        self.pos += 1;
                    }
                    break;
                }
                Some(b'\r') if rest.get(1) == Some(&b'\n') => {
                    terminator = self.pos;
                    if !path {
                        self.pos += 2;
                    }
                    break;
                }
                Some(b' ' | b':' | b'|') => {
                    terminator = self.pos;
                    break;
                }
                Some(b'$') => match escape(rest) {
                    Ok((r, piece)) => {
                        match piece {
                            Piece::Text(t) => eval.push_literal(&text_of(t)),
                            Piece::Var(v) => eval.push_var(&text_of(v)),
                            Piece::Skip => {}
                        }
                        self.advance_to(r);
                    }
                    Err(_) => {
                        self.last = start;
                        return Err(self.error("bad $-escape (literal $ must be written as $$)"));
                    }
                },
                None | Some(0) => {
                    self.last = start;
                    return Err(self.error("unexpected EOF"));
                }
                Some(_) => {
                    self.last = start;
                    return Err(self.error(self.describe_last_error()));
                }
            }
        }
        self.last = terminator;
        if path {
            self.eat_whitespace();
        }
        Ok(eval)
    }

    pub fn describe_last_error(&self) -> &'static str {
        match self.input.get(self.last) {
            Some(b'\t') => "tabs are not allowed, use spaces",
            _ => "lexing error",
        }
    }

    /// Formats `message` at the last token: `file:line:col: message`, then the
    /// line and a caret under the column, as ninja shows it.
    pub fn error(&self, message: &str) -> String {
        let before = &self.input[..self.last.min(self.input.len())];
        let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let col = self.last - line_start;
        let mut out = format!("{}:{}:{}: {}\n", self.filename, line, col + 1, message);
        const TRUNCATE: usize = 72;
        if col > 0 && col < TRUNCATE {
            let line_text = &self.input[line_start..];
            let end = line_text.iter().position(|&c| c == b'\n' || c == 0);
            let (len, truncated) = match end {
                Some(e) if e < TRUNCATE => (e, false),
                None if line_text.len() < TRUNCATE => (line_text.len(), false),
                _ => (TRUNCATE, true),
            };
            out.push_str(&String::from_utf8_lossy(&line_text[..len]));
            if truncated {
                out.push_str("...");
            }
            out.push('\n');
            out.push_str(&" ".repeat(col));
            out.push_str("^ near here");
        }
        // Without a context line ninja's message ends in a newline; keep it,
        // since "build stopped: <error>." shows it.
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_whole_identifiers() {
        let mut lx = Lexer::new("t", b"build buildx: rule\n");
        assert_eq!(lx.read_token(), Token::Build);
        assert_eq!(lx.read_token(), Token::Ident);
        assert_eq!(lx.read_token(), Token::Colon);
        assert_eq!(lx.read_token(), Token::Rule);
        assert_eq!(lx.read_token(), Token::Newline);
        assert_eq!(lx.read_token(), Token::Eof);
    }

    #[test]
    fn eval_string_escapes() {
        let mut lx = Lexer::new("t", b"a$ b$:c$$d${x.y}$z$\n   e\n");
        let e = lx.read_eval(false).unwrap();
        assert_eq!(e.serialize(), "a b:c$d${x.y}${z}e");
    }

    #[test]
    fn bad_escape_points_at_dollar() {
        let mut lx = Lexer::new("input", b"x = a$!b\n");
        lx.read_ident();
        lx.expect(Token::Equals).unwrap();
        let err = lx.read_eval(false).unwrap_err();
        assert_eq!(
            err,
            "input:1:6: bad $-escape (literal $ must be written as $$)\nx = a$!b\n     ^ near here"
        );
    }
}

//! A make recipe line whose failure is ignored (`-line`), as `ggninja
//! --make` joins it into a recipe's one command: `{ (\nLINE\n) || true; }`
//! (importer/src/make/recipe.rs). Its exit status never matters, so all it
//! can do is what the commands inside may do; this reads which commands
//! those are, for the few constructs such lines use: `A || B`, a `( ... )`
//! subshell, output sent to `/dev/null` (`2>/dev/null`, `>/dev/null 2>&1`).
//! Ignores what the commands are; anything else (a pipeline, `;`, another
//! redirection, a line of several lines) is refused with the reason.

/// How the importer opens and closes an ignored line.
pub const OPEN: &str = "{ (\n";
pub const CLOSE: &str = "\n) || true; }";

/// The commands `line` (the text between [`OPEN`] and [`CLOSE`]) may run,
/// in order, each as its text for the word splitter (which refuses any
/// other operator: a quote cut in two is an unterminated quote there).
pub fn commands(line: &str) -> Result<Vec<&str>, String> {
    if line.contains('\n') {
        return Err("an ignored recipe line of several lines".into());
    }
    let tokens = tokens(line)?;
    let mut at = 0;
    let mut out = Vec::new();
    or_list(&tokens, &mut at, &mut out)?;
    match tokens.get(at) {
        None => Ok(out),
        Some(_) => Err("unbalanced subshell".into()),
    }
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    Or,
    /// Output sent to /dev/null or to the other stream.
    Discard,
    Words(&'a str),
}

/// `item (|| item)*` from `tokens[*at..]`, each item's commands added.
fn or_list<'a>(tokens: &[Token<'a>], at: &mut usize, out: &mut Vec<&'a str>) -> Result<(), String> {
    loop {
        match tokens.get(*at) {
            Some(Token::Open) => {
                *at += 1;
                or_list(tokens, at, out)?;
                if tokens.get(*at) != Some(&Token::Close) {
                    return Err("unbalanced subshell".into());
                }
                *at += 1;
            }
            Some(Token::Words(text)) => {
                *at += 1;
                out.push(text);
            }
            _ => return Err("empty command in an ignored line".into()),
        }
        while tokens.get(*at) == Some(&Token::Discard) {
            *at += 1;
        }
        if tokens.get(*at) != Some(&Token::Or) {
            return Ok(());
        }
        *at += 1;
    }
}

/// The line cut at `(`, `)`, `||` and redirections that discard output;
/// the text between is left to the word splitter.
fn tokens<'a>(line: &'a str) -> Result<Vec<Token<'a>>, String> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    let flush = |out: &mut Vec<Token<'a>>, from: usize, to: usize| {
        if !line[from..to].trim().is_empty() {
            out.push(Token::Words(line[from..to].trim()));
        }
    };
    while i < b.len() {
        let word_start = i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'(' | b')');
        let (token, len) = match b[i] {
            b'(' => (Token::Open, 1),
            b')' => (Token::Close, 1),
            b'|' if b.get(i + 1) == Some(&b'|') => (Token::Or, 2),
            b'0'..=b'9' | b'>' if word_start => match discard(&line[i..]) {
                Some(len) => (Token::Discard, len),
                None => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                i += 1;
                continue;
            }
        };
        flush(&mut out, start, i);
        out.push(token);
        i += len;
        start = i;
    }
    flush(&mut out, start, b.len());
    if out.is_empty() {
        return Err("empty ignored line".into());
    }
    Ok(out)
}

/// The length of a redirection at the start of `s` that only discards or
/// merges output (`>/dev/null`, `2>/dev/null`, `2>&1`, `>&2`), ending a
/// word; None for anything else.
fn discard(s: &str) -> Option<usize> {
    let fd = s.bytes().take_while(u8::is_ascii_digit).count();
    if fd > 1 || !s[fd..].starts_with('>') {
        return None;
    }
    let rest = &s[fd + 1..];
    let target = if rest.starts_with("/dev/null") {
        "/dev/null".len()
    } else if rest.starts_with('&') && rest[1..].starts_with(['1', '2']) {
        2
    } else {
        return None;
    };
    let len = fd + 1 + target;
    match s.as_bytes().get(len) {
        None | Some(b' ' | b'\t' | b')') => Some(len),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_zlib_ignores() {
        let got = commands("mkdir objs 2>/dev/null || test -d objs").unwrap();
        assert_eq!(got, ["mkdir objs", "test -d objs"]);
        let got = commands("(ranlib libz.a || true) >/dev/null 2>&1").unwrap();
        assert_eq!(got, ["ranlib libz.a", "true"]);
        assert_eq!(commands("rmdir objs").unwrap(), ["rmdir objs"]);
    }

    /// (What the word splitter refuses, `;`, `|`, `&&`, other
    /// redirections, is tested with it: shell.rs.)
    #[test]
    fn anything_else_is_refused() {
        for line in [
            "mv 'a (1).o' \"b||c\"",
            "(mkdir a",
            "mkdir a)",
            "a\nb",
            "|| a",
            "a ||",
            "",
        ] {
            assert!(commands(line).is_err(), "{line:?} accepted");
        }
    }
}

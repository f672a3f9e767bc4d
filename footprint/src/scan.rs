//! Finding `#include`-like directives in a C/C++/asm source file.

/// What kind of inclusion a [`Directive`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectiveKind {
    /// `#include` or `#import`.
    Include,
    /// `#include_next`.
    IncludeNext,
    /// `__has_include(...)` in a directive line.
    HasInclude,
    /// `__has_include_next(...)` in a directive line.
    HasIncludeNext,
    /// Not an inclusion: the file names `__DATE__`, `__TIME__` or
    /// `__TIMESTAMP__` somewhere (its target is `Computed`). What a compile
    /// reading it makes holds the time it ran, which no memo key holds.
    ReadsClock,
}

/// The operand of a [`Directive`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IncludeTarget {
    /// `"name"`.
    Quoted(String),
    /// `<name>`.
    Angle(String),
    /// `#include MACRO`: only the preprocessor knows.
    Computed,
}

/// One inclusion found in a file (all `#if` branches are considered).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Directive {
    pub kind: DirectiveKind,
    pub target: IncludeTarget,
}

fn skip_ws_and_comments(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | 0x0b | 0x0c) {
            i += 1;
        }
        if i + 1 < b.len() && b[i] == b'/' && b[i + 1] == b'*' {
            match find(&b[i + 2..], b"*/") {
                Some(e) => i = i + 2 + e + 2,
                None => return b.len(),
            }
        } else {
            return i;
        }
    }
}

/// Whether `text` names `__DATE__`, `__TIME__` or `__TIMESTAMP__` as an
/// identifier, anywhere (a comment too, as ccache looks: a false alarm
/// costs a run, a miss a wrong output).
fn reads_clock(text: &[u8]) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let whole = |at: usize, len: usize| {
        (at == 0 || !ident(text[at - 1])) && text.get(at + len).is_none_or(|&c| !ident(c))
    };
    ["__DATE__", "__TIME__", "__TIMESTAMP__"]
        .iter()
        .any(|m| memchr::memmem::find_iter(text, m.as_bytes()).any(|at| whole(at, m.len())))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn delimited(b: &[u8], i: usize) -> Option<IncludeTarget> {
    let (open, close) = match b.get(i)? {
        b'"' => (b'"', b'"'),
        b'<' => (b'<', b'>'),
        _ => return None,
    };
    let end = b[i + 1..].iter().position(|&c| c == close)?;
    let name = String::from_utf8_lossy(&b[i + 1..i + 1 + end]).into_owned();
    if name.is_empty() {
        return None;
    }
    Some(if open == b'"' {
        IncludeTarget::Quoted(name)
    } else {
        IncludeTarget::Angle(name)
    })
}

/// Returns every inclusion directive in `text`, in order, ignoring
/// conditional compilation (a superset of what any configuration includes).
///
/// Recognised: `#include`, `#include_next`, `#import` (with any whitespace
/// or `/* */` comments around `#`), backslash-continued directive lines, and
/// `__has_include`/`__has_include_next` with a literal operand on any
/// directive line (so `#if __has_include(<x.h>)` and
/// `#define HAVE_X __has_include("x.h")` both count).
pub fn parse_directives(text: &[u8]) -> Vec<Directive> {
    let mut out = Vec::new();
    if reads_clock(text) {
        out.push(Directive {
            kind: DirectiveKind::ReadsClock,
            target: IncludeTarget::Computed,
        });
    }
    let mut pos = 0;
    let n = text.len();
    let mut joined = Vec::new();
    while pos < n {
        let line_end = text[pos..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(n, |e| pos + e);
        let line = &text[pos..line_end];
        let start = pos;
        pos = line_end + 1;
        let i = skip_ws_and_comments(line, 0);
        if i >= line.len() || line[i] != b'#' {
            continue;
        }
        // Join backslash-continued lines.
        let mut l: &[u8] = &text[start..line_end];
        let trimmed_ends_bs = |s: &[u8]| s.strip_suffix(b"\r").unwrap_or(s).ends_with(b"\\");
        if trimmed_ends_bs(l) {
            joined.clear();
            let mut seg = l;
            loop {
                let s = seg.strip_suffix(b"\r").unwrap_or(seg);
                if let Some(s2) = s.strip_suffix(b"\\") {
                    joined.extend_from_slice(s2);
                    if pos >= n {
                        break;
                    }
                    let e = text[pos..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(n, |e| pos + e);
                    seg = &text[pos..e];
                    pos = e + 1;
                } else {
                    joined.extend_from_slice(s);
                    break;
                }
            }
            l = &joined;
        }
        let j = skip_ws_and_comments(l, i + 1);
        let kw_end = l[j..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .map_or(l.len(), |e| j + e);
        let kw = &l[j..kw_end];
        let kind = match kw {
            b"include" | b"import" => Some(DirectiveKind::Include),
            b"include_next" => Some(DirectiveKind::IncludeNext),
            _ => None,
        };
        if let Some(kind) = kind {
            let k = skip_ws_and_comments(l, kw_end);
            if k < l.len() && !l[k..].starts_with(b"//") {
                // A macro operand is computed; anything else (such as
                // `#include's` in a comment) is not a directive a compiler accepts.
                let target = delimited(l, k).or_else(|| {
                    (l[k].is_ascii_alphabetic() || l[k] == b'_').then_some(IncludeTarget::Computed)
                });
                if let Some(target) = target {
                    out.push(Directive { kind, target });
                }
            }
            continue;
        }
        // __has_include on any other directive line.
        let mut from = kw_end;
        while let Some(p) = find(&l[from..], b"__has_include") {
            let mut k = from + p + b"__has_include".len();
            let kind = if l[k..].starts_with(b"_next") {
                k += 5;
                DirectiveKind::HasIncludeNext
            } else {
                DirectiveKind::HasInclude
            };
            while k < l.len() && l[k] == b'_' {
                k += 1; // old GCC spelling `__has_include__`
            }
            k = skip_ws_and_comments(l, k);
            if k < l.len() && l[k] == b'(' {
                k = skip_ws_and_comments(l, k + 1);
                // A macro operand is computed: what it probes only the
                // preprocessor knows.
                let target = delimited(l, k).or_else(|| {
                    let ident = k < l.len() && (l[k].is_ascii_alphabetic() || l[k] == b'_');
                    ident.then_some(IncludeTarget::Computed)
                });
                if let Some(target) = target {
                    out.push(Directive { kind, target });
                }
            }
            from = k.max(from + p + 1);
        }
    }
    out
}

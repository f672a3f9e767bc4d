//! Make-style depfiles as gcc and clang write them (`-MD`), with the
//! escaping rules ninja 1.13 accepts (a file of blank lines is an empty
//! depfile; `?"'&` are plain bytes in names). Ignores what the names mean.

use hashbrown::HashTable;
use std::hash::BuildHasher;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Depfile {
    pub outs: Vec<String>,
    pub ins: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DepfileError {
    #[error("expected ':' in depfile")]
    NoTarget,
    #[error("inputs may not also have inputs")]
    InputHasInputs,
}

/// Bytes that need no unescaping in a file name:
/// `[a-zA-Z0-9+?"'&,/_:.~()}{%=@[]!-]` and everything non-ASCII.
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b >= 0x80;
        c += 1;
    }
    let extra = b"+?\"'&,/_:.~()}{%=@[]!-";
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
};

fn is_plain(c: u8) -> bool {
    PLAIN[c as usize]
}

/// How one scan step ended.
enum Step {
    More,
    EndName,
    EndRule,
}

pub fn parse(content: &[u8]) -> Result<Depfile, DepfileError> {
    // Room for as many names as a compile's depfile of this size holds
    // (~50 bytes a header path), made once: growing the table rehashed
    // every name read so far, a dozen times for a few hundred headers.
    let names = content.len() / 48;
    let mut dep = Depfile {
        outs: Vec::new(),
        ins: Vec::with_capacity(names),
    };
    let mut i = 0;
    let n = content.len();
    let mut have_target = false;
    let mut parsing_targets = true;
    let mut poisoned = false;
    let mut is_empty = true;
    // The inputs so far, as indices into `dep.ins`, to drop repeats without
    // a quadratic search or a second copy of each name (a compile's depfile
    // names hundreds of headers, and a memo hit parses one per edge).
    let mut seen: HashTable<usize> = HashTable::with_capacity(names);
    // Each name is unescaped here first, then copied at its size: growing
    // a fresh buffer from nothing took five allocations a header.
    let mut name: Vec<u8> = Vec::with_capacity(256);
    while i < n {
        name.clear();
        let mut newline = false;
        loop {
            let (step, next) = scan(content, i, &mut name);
            i = next;
            match step {
                Step::More => continue,
                Step::EndName => break,
                Step::EndRule => {
                    newline = true;
                    break;
                }
            }
        }
        let is_dependency = !parsing_targets;
        if name.last() == Some(&b':') {
            name.pop();
            parsing_targets = false;
            have_target = true;
        }
        if !name.is_empty() {
            is_empty = false;
            let piece = into_string(&name);
            let h = hash(&piece);
            let ins = &dep.ins;
            if seen.find(h, |&k| ins[k] == piece).is_none() {
                if is_dependency {
                    if poisoned {
                        return Err(DepfileError::InputHasInputs);
                    }
                    seen.insert_unique(h, ins.len(), |&k| hash(&ins[k]));
                    dep.ins.push(piece);
                } else if !dep.outs.contains(&piece) {
                    dep.outs.push(piece);
                }
            } else if !is_dependency {
                poisoned = true;
            }
        }
        if newline {
            parsing_targets = true;
            poisoned = false;
        }
    }
    if !have_target && !is_empty {
        return Err(DepfileError::NoTarget);
    }
    Ok(dep)
}

/// Whether `parse(content)` gives exactly `names` as its inputs, told
/// without parsing where the content has the shape a compiler writes: one
/// rule with one target, names separated by blanks and `\`-newlines, a
/// name given again dropped (gcc names a header again where two paths
/// include it). `names` must be distinct and plain (`is_plain_name`): a
/// name then needs no escape, so it is its bytes wherever it comes.
/// `position(word)` says where `word` is in `names`, if it is there: the
/// caller knows its names (a set of them made here cost more than the
/// rest). Anything else is false, and the caller parses: a memo hit's
/// depfile, the one an earlier run's deps came from, mostly needs no more
/// than this.
pub fn names_are(
    content: &[u8],
    names: &[&str],
    mut position: impl FnMut(&[u8]) -> Option<usize>,
) -> bool {
    let mut at = Rule { s: content, i: 0 };
    let target = match at.skip_blanks() {
        Blank::Word => at.word(),
        _ => return false,
    };
    if target.len() < 2 || target.last() != Some(&b':') {
        return false;
    }
    let mut next = 0;
    loop {
        match at.skip_blanks() {
            Blank::Word => {}
            Blank::End => return next == names.len() && at.rest_is_blank(),
            Blank::Other => return false,
        }
        if let Some(name) = names.get(next).filter(|n| at.word_is(n.as_bytes())) {
            at.i += name.len();
            next += 1;
            continue;
        }
        // Only a name matched already may come again.
        let word = at.word();
        if word.last() == Some(&b':') || position(word).is_none_or(|i| i >= next) {
            return false;
        }
    }
}

/// Whether `name` is written in a depfile as its bytes, with no escape,
/// and read back as one input (not ending in `:`, which makes a target).
pub fn is_plain_name(name: &[u8]) -> bool {
    !name.is_empty() && name.last() != Some(&b':') && name.iter().all(|&c| is_plain(c))
}

/// What follows the blanks.
enum Blank {
    Word,
    /// The rule's end: a newline not escaped, or the content's.
    End,
    /// A backslash or carriage return of another meaning.
    Other,
}

/// Where `names_are` is in a depfile's first rule.
struct Rule<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Rule<'a> {
    fn skip_blanks(&mut self) -> Blank {
        loop {
            match &self.s[self.i..] {
                [b' ' | b'\t', ..] => self.i += 1,
                [b'\\', b'\n', ..] => self.i += 2,
                [b'\\', b'\r', b'\n', ..] => self.i += 3,
                [] | [b'\n', ..] | [b'\r', b'\n', ..] => return Blank::End,
                [b'\\' | b'\r', ..] => return Blank::Other,
                _ => return Blank::Word,
            }
        }
    }

    /// Whether the word here is `name` as an input: its bytes, then not a
    /// plain one, and not ending in `:` (a target's).
    fn word_is(&self, name: &[u8]) -> bool {
        let rest = &self.s[self.i..];
        let ends = rest.get(name.len()).is_none_or(|&c| !is_plain(c));
        rest.starts_with(name) && ends && name.last() != Some(&b':')
    }

    /// The word here, stepped over.
    fn word(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|&c| is_plain(c)) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }

    /// Whether only blank lines follow the rule.
    fn rest_is_blank(&self) -> bool {
        let rest = &self.s[self.i..];
        rest.iter()
            .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
    }
}

fn hash(name: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(name)
}

/// The name as text, any invalid UTF-8 replaced by U+FFFD.
fn into_string(name: &[u8]) -> String {
    match std::str::from_utf8(name) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(name).into_owned(),
    }
}

/// Scans one span starting at `i`, appending de-escaped bytes to `name`.
fn scan(s: &[u8], i: usize, name: &mut Vec<u8>) -> (Step, usize) {
    let n = s.len();
    let at = |k: usize| if k < n { s[k] } else { 0 };
    let c = at(i);
    if i >= n || c == 0 {
        return (Step::EndName, n);
    }
    if c == b'\\' {
        let mut k = i;
        while k < n && s[k] == b'\\' {
            k += 1;
        }
        let slashes = k - i;
        let next = at(k);
        match next {
            b' ' if slashes % 2 == 1 => {
                name.extend(std::iter::repeat_n(b'\\', slashes / 2));
                name.push(b' ');
                return (Step::More, k + 1);
            }
            b' ' => {
                name.extend(std::iter::repeat_n(b'\\', slashes));
                return (Step::EndName, k + 1);
            }
            b'#' => {
                name.extend(std::iter::repeat_n(b'\\', slashes - 1));
                name.push(b'#');
                return (Step::More, k + 1);
            }
            b':' => {
                let after = at(k + 1);
                if k + 1 >= n || matches!(after, 0 | b' ' | b'\r' | b'\n' | b'\t') {
                    name.extend_from_slice(&s[i..=k]);
                    let end = (k + 2).min(n);
                    return (
                        if after == b'\n' {
                            Step::EndRule
                        } else {
                            Step::EndName
                        },
                        end,
                    );
                }
                name.extend(std::iter::repeat_n(b'\\', slashes - 1));
                name.push(b':');
                return (Step::More, k + 1);
            }
            b'\n' if slashes == 1 => return (Step::EndName, k + 1),
            b'\r' if slashes == 1 && at(k + 1) == b'\n' => return (Step::EndName, k + 2),
            0 | b'\r' | b'\n' if k >= n || slashes == 1 => {
                // A lone backslash at the end, or before a bare '\r'.
                return (Step::EndName, k.max(i + 1));
            }
            _ => {
                // Backslashes and one more byte, copied as they are.
                let end = if matches!(next, 0 | b'\r' | b'\n') {
                    k
                } else {
                    k + 1
                };
                name.extend_from_slice(&s[i..end]);
                return (Step::More, end);
            }
        }
    }
    if c == b'$' && at(i + 1) == b'$' {
        name.push(b'$');
        return (Step::More, i + 2);
    }
    if is_plain(c) {
        let mut k = i;
        // Eight bytes a step while all are plain, with one branch, not
        // eight: most of a depfile is header paths.
        while let Some(eight) = s.get(k..k + 8) {
            if !eight.iter().fold(true, |all, &b| all & is_plain(b)) {
                break;
            }
            k += 8;
        }
        while k < n && is_plain(s[k]) {
            k += 1;
        }
        name.extend_from_slice(&s[i..k]);
        return (Step::More, k);
    }
    if c == b'\n' {
        return (Step::EndRule, i + 1);
    }
    if c == b'\r' && at(i + 1) == b'\n' {
        return (Step::EndRule, i + 2);
    }
    (Step::EndName, i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Depfile {
        parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn gcc_style() {
        let d = p("build/ninja.o: ninja.cc ninja.h eval_env.h manifest_parser.h\n");
        assert_eq!(d.outs, ["build/ninja.o"]);
        assert_eq!(d.ins.len(), 4);
    }

    #[test]
    fn continuations_and_escapes() {
        let d = p("foo.o: \\\n  bar.h baz.h\\\n  a\\ b.h c\\#d.h $$e.h\n");
        assert_eq!(d.ins, ["bar.h", "baz.h", "a b.h", "c#d.h", "$e.h"]);
    }

    /// A name is read eight plain bytes a step: an escape or a separator
    /// anywhere in a step ends it where a byte at a time would.
    #[test]
    fn long_names_end_and_unescape_at_every_offset() {
        let plain = "abcdefghijklmnopqrst/uvwxyz0123456789.h";
        for at in 0..plain.len() {
            let (head, tail) = plain.split_at(at);
            let d = p(&format!("o: {head}\\ {tail} {head}$$x {tail}\n"));
            let want = [
                format!("{head} {tail}"),
                format!("{head}$x"),
                tail.to_string(),
            ];
            assert_eq!(d.ins, want, "split at {at}");
        }
    }

    #[test]
    fn mp_phony_targets_are_skipped() {
        let d = p("foo.o: foo.c bar.h\n\nbar.h:\n");
        assert_eq!(d.outs, ["foo.o"]);
        assert_eq!(d.ins, ["foo.c", "bar.h"]);
    }

    /// An input named again (on the same rule or a later one) is listed
    /// once, where it first came.
    #[test]
    fn repeated_inputs_are_listed_once_in_order() {
        let d = p("o: a b a c \\\n b d\no: c e\n");
        assert_eq!(d.ins, ["a", "b", "c", "d", "e"]);
        assert_eq!(d.outs, ["o"]);
    }

    #[test]
    fn blank_lines_are_empty() {
        assert_eq!(p("\n\n"), Depfile::default());
        assert_eq!(p("a\"b'c?d&e: f\n").outs, ["a\"b'c?d&e"]);
    }

    /// `names_are` agrees with `parse` on the plain shape compilers write,
    /// and says no (leaving it to `parse`) to every other shape and to
    /// any other list of names.
    #[test]
    fn names_are_what_parse_gives_or_no() {
        // As a caller knowing its names answers `position`.
        fn are(text: &str, names: &[&str]) -> bool {
            let position = |w: &[u8]| names.iter().position(|n| n.as_bytes() == w);
            names_are(text.as_bytes(), names, position)
        }
        let plain = [
            "o.o: a.c /usr/include/stdio.h \\\n  ../src/x.h b+c,d=e@f.h\n",
            "o.o: a.c\\\r\n b.h\r\n\r\n",
            "o.o:\ta.c\t\\\n\tb.h",
            "o.o: \\\n a.c",
            "o.o: caf\u{e9}.h\n\n",
            "o.o: a.h\\\n",
            "o.o: a.h b.h a.h \\\n c.h b.h\n",
        ];
        for text in plain {
            let ins = p(text).ins;
            let ins: Vec<&str> = ins.iter().map(String::as_str).collect();
            assert!(are(text, &ins), "{text:?}");
            assert!(!are(text, &ins[..ins.len() - 1]));
            assert!(!are(text, &[&ins[..], &["z.h"]].concat()));
            let first = format!("{}x", ins[0]);
            assert!(!are(text, &[&[first.as_str()], &ins[1..]].concat()));
        }
        let others = [
            "o.o: a\\ b.h c.h\n",
            "o.o: $$x.h\n",
            "o.o: a.h\nb.h:\n",
            "o.o p.o: a.h\n",
            "o.o : a.h\n",
            "o.o: a.h b.h: c.h\n",
            "o.o: a.h\rb.h\n",
            "o.o: c\\#d.h\n",
            "o.o: a.h # b.h\n",
            ":\n",
            "",
            "\n\n",
        ];
        for text in others {
            let ins = parse(text.as_bytes()).map(|d| d.ins).unwrap_or_default();
            let ins: Vec<&str> = ins.iter().map(String::as_str).collect();
            assert!(!are(text, &ins), "{text:?}");
        }
        // Nor the words an escape would split.
        assert!(!are("o.o: a\\ b.h c.h\n", &["a", "b.h", "c.h"]));
        // A name ending in `:` is a target, however it is asked for (found
        // by fuzzing); `is_plain_name` says no to it.
        assert!(!is_plain_name(b":") && !is_plain_name(b"a:") && is_plain_name(b"a:b"));
        // A name given again is one matched already, not one to come.
        assert!(!are("o.o: a.h b.h b.h\n", &["a.h"]));
        assert!(!are("o.o: a.h b.h a.h c.h\n", &["a.h", "c.h", "b.h"]));
    }

    #[test]
    fn errors() {
        assert_eq!(parse(b"foo bar\n"), Err(DepfileError::NoTarget));
        assert_eq!(parse(b"a: b\nb: c\n"), Err(DepfileError::InputHasInputs));
    }
}

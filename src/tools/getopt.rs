//! Tool options parsed as glibc's `getopt_long` parses them for ninja's
//! newer tools: short options grouped (`-0E`), an argument attached or next
//! (`-d:`, `-d :`), long options by name or unique prefix (`--no-shell`),
//! with `=value` or a next argument, options anywhere among the operands
//! until `--`, and glibc's messages naming the tool. Parsing stops at the
//! first error or `-h`, as ninja's loops return there. Ignores
//! `POSIXLY_CORRECT` and ambiguous prefixes (no tool has two long options
//! sharing a first letter).

/// One long option: `--name`, the short option it stands for, and whether
/// it takes an argument.
pub struct Long {
    pub name: &'static str,
    pub short: char,
    pub takes_arg: bool,
}

/// The options in the order given (each with its argument, if it takes
/// one) and the operands.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub opts: Vec<(char, Option<String>)>,
    pub operands: Vec<String>,
}

impl Parsed {
    pub fn has(&self, c: char) -> bool {
        self.opts.iter().any(|(o, _)| *o == c)
    }

    /// The argument the last `c` was given.
    pub fn last_arg(&self, c: char) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(o, _)| *o == c)
            .and_then(|(_, a)| a.as_deref())
    }
}

/// Why parsing stopped: `Help` for `-h`/`--help`, or glibc's message.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    Help,
    Message(String),
}

/// Parses `args` against `shorts` (getopt's string: a letter, `:` after
/// one that takes an argument) and `longs`; `tool` names the messages.
pub fn parse(tool: &str, args: &[String], shorts: &str, longs: &[Long]) -> Result<Parsed, Stop> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            parsed.operands.extend(args[i..].iter().cloned());
            break;
        }
        let opt = if let Some(body) = a.strip_prefix("--") {
            long(tool, body, longs, args, &mut i)?
        } else if a.len() > 1 && a.starts_with('-') {
            grouped(tool, &a[1..], shorts, args, &mut i)?
        } else {
            parsed.operands.push(a.clone());
            continue;
        };
        for (c, arg) in opt {
            if c == 'h' {
                return Err(Stop::Help);
            }
            parsed.opts.push((c, arg));
        }
    }
    Ok(parsed)
}

/// `--body`: one long option, taking `args[*i]` as its argument if needed.
fn long(
    tool: &str,
    body: &str,
    longs: &[Long],
    args: &[String],
    i: &mut usize,
) -> Result<Vec<(char, Option<String>)>, Stop> {
    let (name, inline) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (body, None),
    };
    let found = longs.iter().find(|l| l.name == name).or_else(|| {
        longs
            .iter()
            .find(|l| !name.is_empty() && l.name.starts_with(name))
    });
    let Some(l) = found else {
        return Err(message(format!("{tool}: unrecognized option '--{body}'")));
    };
    let arg = match (l.takes_arg, inline) {
        (false, Some(_)) => {
            let msg = format!("{tool}: option '--{}' doesn't allow an argument", l.name);
            return Err(message(msg));
        }
        (false, None) => None,
        (true, Some(v)) => Some(v),
        (true, None) => Some(next_arg(args, i).ok_or_else(|| {
            message(format!(
                "{tool}: option '--{}' requires an argument",
                l.name
            ))
        })?),
    };
    Ok(vec![(l.short, arg)])
}

/// `-abc`: short options; one taking an argument takes the rest of the
/// word, or else the next one.
fn grouped(
    tool: &str,
    letters: &str,
    shorts: &str,
    args: &[String],
    i: &mut usize,
) -> Result<Vec<(char, Option<String>)>, Stop> {
    let mut out = Vec::new();
    for (at, c) in letters.char_indices() {
        let Some(spec) = shorts.find(c).filter(|_| c != ':') else {
            return Err(message(format!("{tool}: invalid option -- '{c}'")));
        };
        if c == 'h' {
            // Stop here: a later bad letter is never looked at.
            out.push((c, None));
            return Ok(out);
        }
        if !shorts[spec + 1..].starts_with(':') {
            out.push((c, None));
            continue;
        }
        let rest = &letters[at + c.len_utf8()..];
        let arg = if rest.is_empty() {
            next_arg(args, i)
                .ok_or_else(|| message(format!("{tool}: option requires an argument -- '{c}'")))?
        } else {
            rest.to_string()
        };
        out.push((c, Some(arg)));
        return Ok(out);
    }
    Ok(out)
}

fn next_arg(args: &[String], i: &mut usize) -> Option<String> {
    let a = args.get(*i)?.clone();
    *i += 1;
    Some(a)
}

fn message(s: String) -> Stop {
    Stop::Message(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONGS: &[Long] = &[
        Long {
            name: "help",
            short: 'h',
            takes_arg: false,
        },
        Long {
            name: "delimiter",
            short: 'd',
            takes_arg: true,
        },
        Long {
            name: "print0",
            short: '0',
            takes_arg: false,
        },
    ];

    fn p(args: &[&str]) -> Result<Parsed, Stop> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse("multi-inputs", &args, "d:h0", LONGS)
    }

    fn msg(s: &str) -> Result<Parsed, Stop> {
        Err(Stop::Message(s.to_string()))
    }

    #[test]
    fn options_anywhere_arguments_attached_or_next() {
        let r = p(&[
            "a",
            "-0d:",
            "b",
            "--delimiter",
            ",",
            "--del=x",
            "-",
            "--",
            "-0",
        ])
        .unwrap();
        assert_eq!(r.operands, ["a", "b", "-", "-0"]);
        assert!(r.has('0'));
        assert_eq!(r.last_arg('d'), Some("x"));
        assert_eq!(r.opts.len(), 4);
        assert_eq!(p(&["-d", "-0"]).unwrap().last_arg('d'), Some("-0"));
        assert_eq!(p(&["--pr"]).unwrap().opts, [('0', None)]);
    }

    #[test]
    fn glibc_messages_and_help() {
        assert_eq!(p(&["-z"]), msg("multi-inputs: invalid option -- 'z'"));
        assert_eq!(
            p(&["-d"]),
            msg("multi-inputs: option requires an argument -- 'd'")
        );
        assert_eq!(
            p(&["--delimiter"]),
            msg("multi-inputs: option '--delimiter' requires an argument")
        );
        assert_eq!(
            p(&["--print0=1"]),
            msg("multi-inputs: option '--print0' doesn't allow an argument")
        );
        assert_eq!(
            p(&["--x=1"]),
            msg("multi-inputs: unrecognized option '--x=1'")
        );
        assert_eq!(p(&["-h", "-z"]), Err(Stop::Help));
        assert_eq!(p(&["-0hz"]), Err(Stop::Help));
        assert_eq!(p(&["--help"]), Err(Stop::Help));
        assert_eq!(p(&["-z", "-h"]), msg("multi-inputs: invalid option -- 'z'"));
    }
}

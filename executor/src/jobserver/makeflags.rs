//! Which pool `MAKEFLAGS` names, read with ninja 1.13's rules, and the
//! `MAKEFLAGS` that hands a pool of ours to the commands a build runs.
//! Ignores every other flag make passes.

/// Where a pool's slots are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `--jobserver-auth=fifo:PATH` (GNU make 4.4's default).
    Fifo(String),
    /// `--jobserver-auth=R,W` or `--jobserver-fds=R,W`: inherited pipe
    /// descriptors (GNU make up to 4.3).
    Pipe { read: i32, write: i32 },
}

/// A `MAKEFLAGS` naming a pool this system cannot use; ninja's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Invalid file descriptor pair [{0}]")]
    BadPair(String),
    #[error("Semaphore mode is not supported on Posix!")]
    Semaphore,
}

/// What the last jobserver word said, Windows semaphores included.
enum Named {
    Nothing,
    Pool(Auth),
    Semaphore,
}

/// The pool `makeflags` names, if any. Words are split on spaces and tabs
/// and the last jobserver word wins. A first word of flag letters holding
/// `n` is make's `-n`: nothing is run, so no pool. A negative descriptor
/// in `--jobserver-auth` means none (make's way of disabling it).
pub fn parse(makeflags: &str) -> Result<Option<Auth>, ParseError> {
    let words: Vec<&str> = makeflags
        .split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect();
    if words
        .first()
        .is_some_and(|w| !w.starts_with('-') && w.contains('n'))
    {
        return Ok(None);
    }
    let mut named = Named::Nothing;
    for word in words {
        if let Some(value) = word.strip_prefix("--jobserver-auth=") {
            named = match (fd_pair(value), value.strip_prefix("fifo:")) {
                (Some((r, w)), _) if r < 0 || w < 0 => Named::Nothing,
                (Some((read, write)), _) => Named::Pool(Auth::Pipe { read, write }),
                (None, Some(path)) => Named::Pool(Auth::Fifo(path.to_string())),
                (None, None) => Named::Semaphore,
            };
        } else if let Some(value) = word.strip_prefix("--jobserver-fds=") {
            // The old spelling takes descriptors only, negative ones too
            // (opening them then fails).
            let (read, write) = fd_pair(value).ok_or_else(|| ParseError::BadPair(value.into()))?;
            named = Named::Pool(Auth::Pipe { read, write });
        }
    }
    match named {
        Named::Nothing => Ok(None),
        Named::Pool(auth) => Ok(Some(auth)),
        Named::Semaphore => Err(ParseError::Semaphore),
    }
}

/// `R,W` as C's `sscanf("%d,%d")` reads it: blanks before each number,
/// an optional sign, and whatever follows the second number ignored.
fn fd_pair(s: &str) -> Option<(i32, i32)> {
    let (read, rest) = leading_int(s)?;
    let (write, _) = leading_int(rest.strip_prefix(',')?)?;
    Some((read, write))
}

fn leading_int(s: &str) -> Option<(i32, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let sign = usize::from(s.starts_with(['-', '+']));
    let digits = s[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let end = sign + digits;
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// `MAKEFLAGS` for commands sharing a pool of `jobs` slots at `auth`,
/// laid out as make lays it out (flag letters, `-jN`, the pool, the
/// rest): `inherited`'s words kept, but for its own `-j` and pool.
pub fn with_pool(inherited: &str, jobs: usize, auth: &Auth) -> String {
    let mut words = inherited.split([' ', '\t']).filter(|w| !w.is_empty());
    let mut out = String::new();
    let mut rest: Vec<&str> = Vec::new();
    match words.next() {
        Some(letters) if !letters.starts_with('-') => out.push_str(letters),
        Some(word) => rest.push(word),
        None => {}
    }
    let pool = match auth {
        Auth::Fifo(path) => format!("fifo:{path}"),
        Auth::Pipe { read, write } => format!("{read},{write}"),
    };
    out.push_str(&format!(" -j{jobs} --jobserver-auth={pool}"));
    rest.extend(words);
    for word in rest {
        let ours = word.starts_with("-j") || word.starts_with("--jobserver-");
        if !ours {
            out.push(' ');
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifo(p: &str) -> Result<Option<Auth>, ParseError> {
        Ok(Some(Auth::Fifo(p.to_string())))
    }

    fn pipe(read: i32, write: i32) -> Result<Option<Auth>, ParseError> {
        Ok(Some(Auth::Pipe { read, write }))
    }

    #[test]
    fn forms_make_and_cargo_write() {
        assert_eq!(parse(" -j3 --jobserver-auth=3,4"), pipe(3, 4));
        assert_eq!(
            parse("ks -j3 --jobserver-auth=fifo:/tmp/GMfifo1"),
            fifo("/tmp/GMfifo1")
        );
        assert_eq!(
            parse("-j --jobserver-fds=5,6 --jobserver-auth=5,6"),
            pipe(5, 6)
        );
        assert_eq!(parse("\t--jobserver-auth=fifo:"), fifo(""));
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse(" -j3"), Ok(None));
    }

    #[test]
    fn last_word_wins_and_dry_run_means_none() {
        assert_eq!(
            parse("--jobserver-auth=sem --jobserver-auth=3,4"),
            pipe(3, 4)
        );
        assert_eq!(
            parse("--jobserver-auth=3,4 --jobserver-fds=7,8"),
            pipe(7, 8)
        );
        assert_eq!(
            parse("--jobserver-auth=3,4 --jobserver-auth=-1,-1"),
            Ok(None)
        );
        assert_eq!(parse("kn --jobserver-auth=3,4"), Ok(None));
        assert_eq!(parse("-n --jobserver-auth=3,4"), pipe(3, 4));
    }

    #[test]
    fn what_posix_cannot_use() {
        assert_eq!(parse("--jobserver-auth=sem"), Err(ParseError::Semaphore));
        assert_eq!(
            parse("--jobserver-fds=x"),
            Err(ParseError::BadPair("x".to_string()))
        );
        // The old spelling keeps negative descriptors (opening fails later).
        assert_eq!(parse("--jobserver-fds=-1,-1"), pipe(-1, -1));
        assert_eq!(parse("--jobserver-auth=3,4junk"), pipe(3, 4));
        assert_eq!(parse("--jobserver-auth=3"), Err(ParseError::Semaphore));
    }

    #[test]
    fn commands_get_our_pool_and_keep_other_flags() {
        let auth = Auth::Fifo("/tmp/p".to_string());
        assert_eq!(with_pool("", 3, &auth), " -j3 --jobserver-auth=fifo:/tmp/p");
        let pipe = Auth::Pipe { read: 5, write: 6 };
        assert_eq!(
            with_pool("ks -j8 --jobserver-auth=3,4 -- V=1", 3, &pipe),
            "ks -j3 --jobserver-auth=5,6 -- V=1"
        );
        assert_eq!(
            with_pool(" -j1 --no-print-directory", 2, &pipe),
            " -j2 --jobserver-auth=5,6 --no-print-directory"
        );
    }
}

//! `-t cache stats|clean|evict-to SIZE`: the local store (`--store`, or the
//! default one) as its owner sees it: what it holds against its limit
//! (`--cache-size`), emptied, or evicted to a size. The eviction itself is
//! the store's (`ggninja_store::evict`); this is only the command line.

use ggninja_store::{format_size, parse_size, Evicted, Store};

use super::Args;
use crate::context::App;

const USAGE: &str = "usage: ggninja [--store DIR] [--cache-size SIZE] -t cache COMMAND

commands:
  stats          entries, objects and bytes in the store, and its limit
  clean          remove every entry and object (and writes' temporary files
                 older than 10 minutes)
  evict-to SIZE  evict least recently used entries until the store holds SIZE
                 at most (as 5G, 500M, 0)";

/// What the tool was asked.
#[derive(Debug, PartialEq)]
enum Command {
    Stats,
    Clean,
    EvictTo(u64),
}

fn parse(args: &[String]) -> Result<Option<Command>, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words[..] {
        [] | ["-h" | "--help"] => Ok(None),
        ["stats"] => Ok(Some(Command::Stats)),
        ["clean"] => Ok(Some(Command::Clean)),
        ["evict-to", size] => parse_size(size)
            .map(|s| Some(Command::EvictTo(s)))
            .map_err(|e| e.to_string()),
        ["evict-to"] => Err("evict-to needs a size (as 500M)".into()),
        [w @ ("stats" | "clean" | "evict-to"), ..] => Err(format!("too many arguments for '{w}'")),
        [w, ..] => Err(format!(
            "unknown cache command '{w}' (stats, clean, evict-to SIZE)"
        )),
    }
}

pub fn cache(app: &App, args: &Args) -> u8 {
    let command = match parse(args.args) {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!("{USAGE}");
            return 1;
        }
        Err(e) => {
            app.error(&e);
            println!("{USAGE}");
            return 1;
        }
    };
    let root = &app.store_root;
    let store = match Store::open(root) {
        Ok(s) => s,
        Err(e) => return app.fatal(&format!("{}: {e}", root.display())),
    };
    let done = match command {
        Command::Stats => store.usage().map(|u| {
            println!("store:   {}", root.display());
            println!("entries: {}", u.entries);
            println!("objects: {}", u.objects);
            if u.leftovers > 0 {
                let size = format_size(u.leftover_bytes);
                println!("writes:  {} unfinished ({size})", u.leftovers);
            }
            println!("size:    {} ({} bytes)", format_size(u.bytes()), u.bytes());
            println!("limit:   {}", format_size(app.cache_limit));
        }),
        Command::Clean => store.clean().map(|e| report("removed", &e)),
        Command::EvictTo(size) => store.evict_to(size).map(|e| report("evicted", &e)),
    };
    match done {
        Ok(()) => 0,
        Err(e) => app.fatal(&format!("{}: {e}", root.display())),
    }
}

fn report(what: &str, e: &Evicted) {
    let removed = match e.leftovers {
        0 => format!("{} entries and {} objects", e.entries, e.objects),
        n => format!(
            "{} entries, {} objects and {n} unfinished writes",
            e.entries, e.objects
        ),
    };
    let (before, after) = (format_size(e.before.bytes()), format_size(e.after));
    println!("{what} {removed}: {before} -> {after}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn commands_and_their_errors() {
        assert_eq!(parse(&words("stats")), Ok(Some(Command::Stats)));
        assert_eq!(parse(&words("clean")), Ok(Some(Command::Clean)));
        assert_eq!(
            parse(&words("evict-to 2M")),
            Ok(Some(Command::EvictTo(2 << 20)))
        );
        assert_eq!(parse(&words("")), Ok(None));
        assert!(parse(&words("evict-to"))
            .unwrap_err()
            .contains("needs a size"));
        assert!(parse(&words("evict-to lots"))
            .unwrap_err()
            .contains("invalid size 'lots'"));
        assert!(parse(&words("purge"))
            .unwrap_err()
            .contains("unknown cache command"));
        assert!(parse(&words("stats now"))
            .unwrap_err()
            .contains("too many arguments for 'stats'"));
    }
}

//! Command-line flags, parsed as ninja parses them: everything after
//! `-t TOOL` belongs to the tool.

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "ggninja",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// change to DIR before doing anything else
    #[arg(short = 'C', value_name = "DIR", allow_hyphen_values = true)]
    pub dir: Option<String>,
    /// specify input build file
    #[arg(
        short = 'f',
        value_name = "FILE",
        default_value = "build.ninja",
        allow_hyphen_values = true
    )]
    pub file: String,
    #[arg(short = 'j', value_name = "N")]
    pub jobs: Option<String>,
    #[arg(short = 'k', value_name = "N")]
    pub keep_going: Option<String>,
    #[arg(short = 'l', value_name = "N")]
    pub load: Option<String>,
    #[arg(short = 'n')]
    pub dry_run: bool,
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    #[arg(long)]
    pub quiet: bool,
    #[arg(short = 'd', value_name = "MODE")]
    pub debug: Vec<String>,
    #[arg(short = 'w', value_name = "FLAG")]
    pub warn: Vec<String>,
    #[arg(long)]
    pub version: bool,
    /// Reuse the outputs of identical commands from the store (thunks).
    #[arg(long)]
    pub cache: bool,
    /// Where the store is [default: $GGNINJA_STORE or ~/.cache/ggninja/store].
    #[arg(long, value_name = "DIR")]
    pub store: Option<String>,
    /// Run each thunk alone with its footprint, under the canonical root.
    #[arg(long)]
    pub sandbox: bool,
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    pub targets: Vec<String>,
    #[arg(skip)]
    pub tool: Option<String>,
    #[arg(skip)]
    pub tool_args: Vec<String>,
}

/// Short options that take a value, as in ninja's getopt string.
const WITH_VALUE: &str = "dfjklwC";

/// Finds `-t TOOL` (or `-tTOOL`) and splits argv there.
fn split_tool(args: &[String]) -> (Vec<String>, Option<(String, Vec<String>)>) {
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        if let Some(flags) = a
            .strip_prefix('-')
            .filter(|f| !f.starts_with('-') && !f.is_empty())
        {
            for (pos, c) in flags.char_indices() {
                let rest = &flags[pos + c.len_utf8()..];
                if c == 't' {
                    let (tool, next) = if rest.is_empty() {
                        (args.get(i + 1).cloned(), i + 2)
                    } else {
                        (Some(rest.to_string()), i + 1)
                    };
                    let Some(tool) = tool else { break };
                    let mut before = args[..i].to_vec();
                    let prefix = &flags[..pos];
                    if !prefix.is_empty() {
                        before.push(format!("-{prefix}"));
                    }
                    return (
                        before,
                        Some((tool, args.get(next..).unwrap_or_default().to_vec())),
                    );
                }
                if WITH_VALUE.contains(c) {
                    if rest.is_empty() {
                        i += 1;
                    }
                    break;
                }
            }
        } else if a == "--tool" {
            let tool = args.get(i + 1).cloned().unwrap_or_default();
            return (
                args[..i].to_vec(),
                Some((tool, args.get(i + 2..).unwrap_or_default().to_vec())),
            );
        }
        i += 1;
    }
    (args.to_vec(), None)
}

pub fn parse(args: &[String]) -> Result<Cli, clap::Error> {
    let (before, tool) = split_tool(args);
    let mut cli = Cli::try_parse_from(before)?;
    if let Some((name, rest)) = tool {
        cli.tool = Some(name);
        cli.tool_args = rest;
    }
    Ok(cli)
}

pub fn usage(prog: &str, jobs: usize) -> String {
    format!(
        "usage: {prog} [options] [targets...]

if targets are unspecified, builds the 'default' target (see manual).

options:
  --version      print ninja version (\"{v}\")
  -v, --verbose  show all command lines while building
  --quiet        don't show progress status, just command output

  -C DIR   change to DIR before doing anything else
  -f FILE  specify input build file [default=build.ninja]

  -j N     run N jobs in parallel (0 means infinity) [default={jobs} on this system]
  -k N     keep going until N jobs fail (0 means infinity) [default=1]
  -l N     do not start new jobs if the load average is greater than N
  -n       dry run (don't run commands but act like they succeeded)

  -d MODE  enable debugging (use '-d list' to list modes)
  -t TOOL  run a subtool (use '-t list' to list subtools)
    terminates toplevel options; further flags are passed to the tool
  -w FLAG  adjust warnings (use '-w list' to list warnings)

ggninja options:
  --cache        reuse outputs of identical commands from the store (memoized thunks)
  --store DIR    the store [default: $GGNINJA_STORE or ~/.cache/ggninja/store]
",
        v = ggninja_importer::VERSION
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn tool_args_are_split_off() {
        let cli = parse(&args("ninja -C out -t clean -g foo")).unwrap();
        assert_eq!(cli.dir.as_deref(), Some("out"));
        assert_eq!(cli.tool.as_deref(), Some("clean"));
        assert_eq!(cli.tool_args, ["-g", "foo"]);
        let cli = parse(&args("ninja -ttargets all")).unwrap();
        assert_eq!(cli.tool.as_deref(), Some("targets"));
        assert_eq!(cli.tool_args, ["all"]);
        let cli = parse(&args("ninja -j8 all -v")).unwrap();
        assert_eq!(cli.jobs.as_deref(), Some("8"));
        assert!(cli.verbose);
        assert_eq!(cli.targets, ["all"]);
        let cli = parse(&args("ninja -C -t")).unwrap();
        assert_eq!(cli.dir.as_deref(), Some("-t"));
        assert!(cli.tool.is_none());
    }
}

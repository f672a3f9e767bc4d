//! `-t lambda-deploy [flags] [targets]`: the glue between the command line
//! and `ggninja_remote::deploy` — its flags, the build's thunks handed to
//! the image writer, what is printed. The image and the Lambda calls are
//! the remote crate's; without the `remote` feature the tool says how to
//! get it.

use ggninja_executor::Engine;

use super::Args;
use crate::context::App;

const USAGE: &str = "usage: ggninja -t lambda-deploy [options] [targets...]

Writes the function's container image (an OCI image layout) from the
toolchain the targets' thunks read, plus the ggninja-lambda binary; with
--image-uri, creates or updates the Lambda function to run that image.

options:
  --image-dir DIR        where to write the image [default: .ggninja_image in the build dir]
  --function-binary P    the function binary [default: ggninja-lambda beside ggninja]
  --image-uri URI        the image pushed to ECR: create or update the function
  --role ARN             the function's execution role (needed to create it)
  --memory MB            [default 4096; more memory gives more vCPU]
  --timeout SECS         one invocation's limit [default 900]
  --remote-function F    [default: $GGNINJA_LAMBDA_FUNCTION]
  --remote-bucket B      [default: $GGNINJA_BUCKET]
  --api-timeout SECS     one control-plane call's limit [default 30]";

/// The tool's flags.
#[derive(Debug, Default, PartialEq)]
pub struct Flags {
    pub image_dir: Option<String>,
    pub function_binary: Option<String>,
    pub image_uri: Option<String>,
    pub role: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_secs: Option<i32>,
    pub function: Option<String>,
    pub bucket: Option<String>,
    pub api_timeout_secs: Option<u64>,
    pub targets: Vec<String>,
}

/// `--name VALUE` and `--name=VALUE` flags, then targets; `-h` is None.
pub fn parse(args: &[String]) -> Result<Option<Flags>, String> {
    let mut f = Flags::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-h" || a == "--help" {
            return Ok(None);
        }
        let Some(flag) = a.strip_prefix("--") else {
            f.targets.push(a.clone());
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, v.to_string()),
            None => {
                let v = it.next().ok_or(format!("--{flag} needs a value"))?;
                (flag, v.clone())
            }
        };
        let number = |v: &str| {
            v.parse::<i32>()
                .map_err(|_| format!("--{name}: invalid number '{v}'"))
        };
        match name {
            "image-dir" => f.image_dir = Some(value),
            "function-binary" => f.function_binary = Some(value),
            "image-uri" => f.image_uri = Some(value),
            "role" => f.role = Some(value),
            "memory" => f.memory_mb = Some(number(&value)?),
            "timeout" => f.timeout_secs = Some(number(&value)?),
            "remote-function" => f.function = Some(value),
            "remote-bucket" => f.bucket = Some(value),
            "api-timeout" => f.api_timeout_secs = Some(number(&value)?.max(1) as u64),
            _ => return Err(format!("unknown option --{name}")),
        }
    }
    Ok(Some(f))
}

/// Flag, else `--remote-*` before `-t`, else the environment variable.
#[cfg(feature = "remote")]
fn named(
    flag: &Option<String>,
    global: Option<&str>,
    var: &str,
    what: &str,
) -> Result<String, String> {
    flag.clone()
        .or_else(|| global.map(str::to_string))
        .or_else(|| std::env::var(var).ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("--image-uri needs a {what}: --remote-{what} or {var}"))
}

pub fn lambda_deploy(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let flags = match parse(args.args) {
        Ok(Some(f)) => f,
        Ok(None) => {
            println!("{USAGE}");
            return 1;
        }
        Err(why) => {
            app.error(&why);
            println!("{USAGE}");
            return 1;
        }
    };
    match run(app, e, &flags) {
        Ok(()) => 0,
        Err(why) => {
            app.error(&why);
            1
        }
    }
}

#[cfg(not(feature = "remote"))]
fn run(_: &App, _: &mut Engine, _: &Flags) -> Result<(), String> {
    Err("this ggninja was built without remote execution; \
         build it with `cargo build --release --features remote`"
        .to_string())
}

#[cfg(feature = "remote")]
fn run(app: &App, e: &mut Engine, flags: &Flags) -> Result<(), String> {
    use ggninja_remote::deploy::{self, FunctionSettings};
    use std::path::PathBuf;

    // Named before the slow part, so a missing name fails at once.
    let target = match &flags.image_uri {
        None => None,
        Some(uri) => {
            let global = app.remote.as_ref();
            let function = named(
                &flags.function,
                global.map(|r| r.function.as_str()),
                "GGNINJA_LAMBDA_FUNCTION",
                "function",
            )?;
            let bucket = named(
                &flags.bucket,
                global.map(|r| r.bucket.as_str()),
                "GGNINJA_BUCKET",
                "bucket",
            )?;
            let mut s = FunctionSettings::new(&function, uri, &bucket);
            s.role = flags.role.clone();
            s.memory_mb = flags.memory_mb.unwrap_or(s.memory_mb);
            s.timeout_secs = flags.timeout_secs.unwrap_or(s.timeout_secs);
            if let Some(secs) = flags.api_timeout_secs {
                s.api_timeout = std::time::Duration::from_secs(secs);
            }
            s.check().map_err(|e| e.to_string())?;
            Some(s)
        }
    };
    let binary = match &flags.function_binary {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()
            .map_err(|e| format!("finding ggninja-lambda beside ggninja: {e}"))?
            .with_file_name("ggninja-lambda"),
    };
    if !binary.is_file() {
        return Err(format!(
            "{}: no function binary (build it with `cargo build --release --features remote`, \
             or give --function-binary)",
            binary.display()
        ));
    }
    let needs = needs(e, &flags.targets)?;
    let dir = flags
        .image_dir
        .clone()
        .unwrap_or_else(|| e.graph.in_builddir(".ggninja_image"));
    let tree = needs.tree(&binary).map_err(|e| e.to_string())?;
    let written = deploy::image::write_layout(&tree, std::path::Path::new(&dir))
        .map_err(|e| e.to_string())?;
    app.info(&format!(
        "image {} in {dir}: {} files, {} bytes ({} bytes compressed)",
        written.digest, written.files, written.file_bytes, written.layer_bytes
    ));
    let Some(settings) = target else {
        return Ok(());
    };
    let done = deploy::function::deploy_blocking(&settings).map_err(|e| e.to_string())?;
    app.info(&format!(
        "{} function {} ({}): image {}, {} MB, timeout {} s, /tmp {} MB",
        if done.created { "created" } else { "updated" },
        settings.name,
        done.arn,
        settings.image_uri,
        settings.memory_mb,
        settings.timeout_secs,
        settings.ephemeral_mb
    ));
    Ok(())
}

/// What the targets' thunks read outside the trees, with every bundle.
#[cfg(feature = "remote")]
fn needs(e: &mut Engine, targets: &[String]) -> Result<ggninja_remote::deploy::Needs, String> {
    use ggninja_thunk::Entry;

    let nodes = super::collect_targets(e, targets)?;
    Ok(super::thunks::with_thunks(e, |tb| {
        let g = tb.graph;
        let edges: Vec<_> = nodes.iter().filter_map(|&n| g.file(n).in_build).collect();
        tb.build_all(&edges, None);
        let mut needs = ggninja_remote::deploy::Needs::default();
        for entry in tb.done.values() {
            if let Entry::Thunk(t) = entry {
                needs.add_thunk(&t.thunk());
            }
        }
        for named in tb.bundles.all() {
            needs.add_bundle(&named.bundle);
        }
        needs
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn flags_take_values_in_both_spellings_and_leave_targets() {
        let f = parse(&strings(&[
            "--image-uri=u",
            "--memory",
            "8192",
            "all",
            "--role",
            "r",
            "--api-timeout=2",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(f.image_uri.as_deref(), Some("u"));
        assert_eq!(f.memory_mb, Some(8192));
        assert_eq!(f.role.as_deref(), Some("r"));
        assert_eq!(f.api_timeout_secs, Some(2));
        assert_eq!(f.targets, ["all"]);
        assert_eq!(parse(&strings(&["-h"])), Ok(None));
        assert!(parse(&strings(&["--memory", "lots"]))
            .unwrap_err()
            .contains("lots"));
        assert!(parse(&strings(&["--bogus=1"]))
            .unwrap_err()
            .contains("--bogus"));
        assert!(parse(&strings(&["--role"]))
            .unwrap_err()
            .contains("needs a value"));
    }
}

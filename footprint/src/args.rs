//! Parsing the arguments of a GCC/Clang compiler driver.

use std::path::Path;

/// The language a source file is compiled as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    C,
    Cxx,
    ObjC,
    ObjCxx,
    /// Assembler that goes through the preprocessor (`.S`, `.sx`).
    AsmCpp,
    /// Plain assembler (`.s`): no preprocessing.
    Asm,
    /// Already preprocessed (`.i`, `.ii`).
    Preprocessed,
}

impl Lang {
    /// The `-x` language used to query this language's built-in include dirs.
    pub fn query_name(self) -> &'static str {
        match self {
            Lang::C | Lang::AsmCpp | Lang::Asm | Lang::Preprocessed => "c",
            Lang::Cxx => "c++",
            Lang::ObjC => "objective-c",
            Lang::ObjCxx => "objective-c++",
        }
    }
    /// Whether the preprocessor runs on such a file.
    pub fn preprocessed(self) -> bool {
        !matches!(self, Lang::Asm | Lang::Preprocessed)
    }
    /// The compiler proper that handles it (`cc1` or `cc1plus`, GCC names).
    pub fn cc1(self) -> &'static str {
        match self {
            Lang::Cxx | Lang::ObjCxx => "cc1plus",
            Lang::ObjC => "cc1obj",
            _ => "cc1",
        }
    }
}

/// The language of a file by its extension, or `None` if it is not a
/// compilable source (objects, libraries, linker scripts...).
pub fn lang_of_extension(path: &str) -> Option<Lang> {
    let ext = Path::new(path).extension()?.to_str()?;
    Some(match ext {
        "c" | "h" => Lang::C,
        "cc" | "cp" | "cxx" | "cpp" | "CPP" | "c++" | "C" | "cppm" | "ixx" | "hh" | "hpp"
        | "hxx" | "H" | "tcc" => Lang::Cxx,
        "m" => Lang::ObjC,
        "mm" | "M" => Lang::ObjCxx,
        "S" | "sx" => Lang::AsmCpp,
        "s" | "asm" => Lang::Asm,
        "i" | "ii" | "mi" | "mii" => Lang::Preprocessed,
        _ => return None,
    })
}

fn lang_of_x(x: &str) -> Option<Lang> {
    Some(match x {
        "c" | "c-header" => Lang::C,
        "c++" | "c++-header" | "c++-module" | "c++-system-header" | "c++-user-header" => Lang::Cxx,
        "objective-c" | "objective-c-header" => Lang::ObjC,
        "objective-c++" | "objective-c++-header" => Lang::ObjCxx,
        "assembler-with-cpp" => Lang::AsmCpp,
        "assembler" => Lang::Asm,
        "cpp-output" | "c++-cpp-output" => Lang::Preprocessed,
        _ => return None,
    })
}

/// Options that take their value as the next argument (a `match`, not a
/// list search: every argument of every compile goes through it).
fn takes_value(a: &str) -> bool {
    matches!(
        a,
        "-o" | "-I"
            | "-iquote"
            | "-isystem"
            | "-idirafter"
            | "-include"
            | "-imacros"
            | "-isysroot"
            | "-iprefix"
            | "-iwithprefix"
            | "-iwithprefixbefore"
            | "-imultilib"
            | "-MF"
            | "-MT"
            | "-MQ"
            | "-x"
            | "-D"
            | "-U"
            | "-L"
            | "-l"
            | "-Xlinker"
            | "-Xassembler"
            | "-Xpreprocessor"
            | "-Xclang"
            | "-T"
            | "-u"
            | "-aux-info"
            | "-e"
            | "--param"
            | "-A"
            | "-target"
            | "--sysroot"
            | "-z"
            | "-B"
            | "-arch"
            | "-MJ"
            | "-dumpbase"
            | "-dumpdir"
            | "-dumpbase-ext"
            | "-ivfsoverlay"
            | "-include-pch"
            | "-iframework"
            | "-F"
            | "--include"
            | "--include-directory"
            | "--output"
            | "-specs"
            | "--specs"
            | "-isystem-after"
            | "--gcc-toolchain"
            | "-gcc-toolchain"
            | "-resource-dir"
            | "-mllvm"
    )
}

/// Options whose value may be joined to them (`-Idir`), longest first.
const JOINED: &[&str] = &[
    "-iwithprefixbefore",
    "-iwithprefix",
    "-idirafter",
    "-isysroot",
    "-isystem",
    "-iquote",
    "-imacros",
    "-include",
    "-iprefix",
    "-MF",
    "-MT",
    "-MQ",
    "-I",
    "-D",
    "-U",
    "-L",
    "-l",
    "-o",
    "-x",
    "-B",
    "-F",
    "-T",
];

/// Joined `-flag=FILE` options whose value is a file the compiler reads.
const FILE_VALUED: &[&str] = &[
    "-specs=",
    "--specs=",
    "-fplugin=",
    "-fprofile-use=",
    "-fsanitize-blacklist=",
    "-fsanitize-ignorelist=",
    "-fprofile-sample-use=",
    "-fauto-profile=",
    "-fprofile-instr-use=",
    "-fmodule-map-file=",
    "-fsanitize-coverage-allowlist=",
    "-fsanitize-coverage-ignorelist=",
];

/// The parsed command line of a compiler driver invocation.
#[derive(Debug, Clone, Default)]
pub struct DriverArgs {
    /// What decides the search dirs and the toolchain.
    pub settings: Settings,
    /// Source files with the language they are compiled as.
    pub sources: Vec<(String, Lang)>,
    /// Other named input files (objects, libraries, scripts, `-fplugin=`...).
    pub inputs: Vec<String>,
    /// `-o`, `-MF`, and the implied `.d` of `-MD`/`-MMD`.
    pub outputs: Vec<String>,
    /// What a compile writes: `-o`, else (`-c`) each source's `.o` here.
    pub objects: Vec<String>,
    pub libs: Vec<String>,
    pub lib_dirs: Vec<String>,
    /// Arguments given to the linker (`-Wl,` split, `-Xlinker`).
    pub linker_args: Vec<String>,
    /// `-static` or `-static-pie`: `-l` takes archives only.
    pub static_link: bool,
    /// The arguments (by index) that a `-M` fallback run leaves out:
    /// outputs and mode flags.
    dropped: Vec<std::ops::Range<usize>>,
}

impl DriverArgs {
    /// The arguments minus outputs and mode flags, for a `-M` fallback run.
    pub fn fallback_args(&self, args: &[String]) -> Vec<String> {
        let kept = |i: &usize| !self.dropped.iter().any(|r| r.contains(i));
        (0..args.len())
            .filter(kept)
            .map(|i| args[i].clone())
            .collect()
    }
}

/// The part of a driver's command line that decides where headers are
/// searched and which programs and files it runs with, but not what it
/// compiles: the many compile commands of one target share it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Settings {
    /// `-c`, `-S`, `-E`, `-M` or `-MM` present: no linking.
    pub compile_only: bool,
    /// `-E`/`-S`/`-M`/`-MM`: the assembler is not run.
    pub no_assemble: bool,
    pub iquote: Vec<String>,
    pub include_dirs: Vec<String>,
    pub isystem: Vec<String>,
    pub idirafter: Vec<String>,
    /// `-include` and `-imacros` files, in order.
    pub forced_includes: Vec<String>,
    pub sysroot: Option<String>,
    /// Flags that influence the built-in search dirs (`-std=`, `-m32`,
    /// `--sysroot`, `-nostdinc`, ...); relative paths in them made absolute.
    pub query_flags: Vec<String>,
    pub nostdlib: bool,
    pub nostartfiles: bool,
    pub nodefaultlibs: bool,
    /// `-fuse-ld=X`.
    pub fuse_ld: Option<String>,
    /// Clang modules (`-fmodules`): implicit module maps make the footprint unknowable here.
    pub modules: bool,
}

fn abs_in(cwd: &Path, v: &str) -> String {
    if v.starts_with('/') || v.is_empty() {
        v.to_string()
    } else {
        cwd.join(v).to_string_lossy().into_owned()
    }
}

/// Parses the arguments (without the program name, response files already
/// expanded) of a GCC-compatible driver. `cxx_driver` is true for `g++`,
/// `c++`, `clang++`, which compile `.c` files as C++. `cwd` is used only to
/// make relative paths in [`DriverArgs::query_flags`] absolute.
pub fn parse_driver_args(args: &[String], cxx_driver: bool, cwd: &Path) -> DriverArgs {
    let mut d = DriverArgs::default();
    let mut x_lang: Option<Lang> = None;
    let mut md = false;
    let mut mf: Option<String> = None;
    let mut o: Option<String> = None;
    let mut prefix = String::new();
    let mut i = 0;
    while i < args.len() {
        let start = i;
        let a = args[i].as_str();
        i += 1;
        // Split into (flag, value).
        let (flag, value): (&str, Option<&str>) = if !a.starts_with('-') {
            (a, None)
        } else if takes_value(a) {
            let v = args.get(i).map(String::as_str);
            i += 1;
            (a, v)
        } else if let Some(eq) = a.find('=').filter(|_| a.starts_with("--")) {
            (&a[..eq], Some(&a[eq + 1..]))
        } else if let Some(j) = JOINED
            .iter()
            .find(|j| a.starts_with(**j) && a.len() > j.len())
        {
            (j, Some(&a[j.len()..]))
        } else {
            (a, None)
        };
        let v = value.unwrap_or_default();
        let mut keep_for_fallback = true;
        match flag {
            "-c" | "-S" | "-E" | "-M" | "-MM" => {
                d.settings.compile_only = true;
                if flag != "-c" {
                    d.settings.no_assemble = true;
                }
                keep_for_fallback = false;
            }
            "-o" | "--output" => {
                o = Some(v.to_string());
                keep_for_fallback = false;
            }
            "-MD" | "-MMD" => {
                md = true;
                keep_for_fallback = false;
            }
            "-MF" => {
                mf = Some(v.to_string());
                keep_for_fallback = false;
            }
            "-MT" | "-MQ" | "-MJ" => keep_for_fallback = false,
            "-MP" | "-MG" => keep_for_fallback = false,
            "-I" | "--include-directory" => {
                if v != "-" {
                    d.settings.include_dirs.push(v.to_string())
                }
            }
            "-iquote" => d.settings.iquote.push(v.to_string()),
            "-isystem" => d.settings.isystem.push(v.to_string()),
            "-idirafter" | "-isystem-after" => d.settings.idirafter.push(v.to_string()),
            "-iprefix" => prefix = v.to_string(),
            "-iwithprefix" => d.settings.idirafter.push(format!("{prefix}{v}")),
            "-iwithprefixbefore" => d.settings.include_dirs.push(format!("{prefix}{v}")),
            "-include" | "-imacros" | "--include" => d.settings.forced_includes.push(v.to_string()),
            "-include-pch" | "-ivfsoverlay" => d.inputs.push(v.to_string()),
            "--sysroot" | "-isysroot" => {
                let abs = abs_in(cwd, v);
                d.settings.sysroot = Some(v.to_string());
                d.settings
                    .query_flags
                    .push(format!("{flag}={abs}").replace("-isysroot=", "-isysroot"));
            }
            "-B" | "--gcc-toolchain" | "-gcc-toolchain" | "-specs" | "--specs"
            | "-resource-dir" => {
                let abs = abs_in(cwd, v);
                if flag.ends_with("specs") {
                    d.inputs.push(v.to_string());
                }
                d.settings.query_flags.push(format!(
                    "{flag}{}{abs}",
                    if flag == "-B" { "" } else { "=" }
                ));
            }
            "-target" | "--target" => d.settings.query_flags.push(format!("--target={v}")),
            "-arch" => {
                d.settings.query_flags.push("-arch".into());
                d.settings.query_flags.push(v.to_string());
            }
            "-x" => x_lang = if v == "none" { None } else { lang_of_x(v) },
            "-L" => d.lib_dirs.push(v.to_string()),
            "-l" => d.libs.push(v.to_string()),
            "-T" => d.inputs.push(v.to_string()),
            "-Xlinker" => d.linker_args.push(v.to_string()),
            "-static" | "-static-pie" => d.static_link = true,
            "-nostdlib" => d.settings.nostdlib = true,
            "-nostartfiles" => d.settings.nostartfiles = true,
            "-nodefaultlibs" => d.settings.nodefaultlibs = true,
            "-fmodules" | "-fcxx-modules" | "-fmodules-ts" => d.settings.modules = true,
            "-nostdinc" | "-nostdinc++" | "-nostdlibinc" | "-nobuiltininc" | "-ansi"
            | "-pthread" | "-m32" | "-m64" | "-mx32" => d.settings.query_flags.push(a.to_string()),
            _ => {
                if value.is_none() && !a.starts_with('-') && !a.is_empty() {
                    // positional
                    let lang = x_lang.or_else(|| lang_of_extension(a)).map(|l| {
                        if cxx_driver && x_lang.is_none() && l == Lang::C {
                            Lang::Cxx
                        } else if cxx_driver && x_lang.is_none() && l == Lang::ObjC {
                            Lang::ObjCxx
                        } else {
                            l
                        }
                    });
                    match lang {
                        Some(l) => d.sources.push((a.to_string(), l)),
                        None => d.inputs.push(a.to_string()),
                    }
                } else if let Some(w) = a.strip_prefix("-Wl,") {
                    d.linker_args.extend(w.split(',').map(str::to_string));
                } else if let Some(f) = FILE_VALUED.iter().find(|f| a.starts_with(**f)) {
                    d.inputs.push(a[f.len()..].to_string());
                    if f.contains("specs") {
                        d.settings.query_flags.push(a.to_string());
                    }
                } else if let Some(ld) = a.strip_prefix("-fuse-ld=") {
                    d.settings.fuse_ld = Some(ld.to_string());
                } else if a.starts_with("-std=")
                    || a.starts_with("--std=")
                    || a.starts_with("-stdlib=")
                    || a.starts_with("--stdlib=")
                    || a.starts_with("--target=")
                    || a.starts_with("-march=")
                    || a.starts_with("-mabi=")
                    || a.starts_with("-mfloat-abi=")
                    || a.starts_with("-mcpu=")
                    || a.starts_with("-fsanitize=")
                {
                    d.settings.query_flags.push(a.to_string());
                }
            }
        }
        if !keep_for_fallback {
            d.dropped.push(start..i);
        }
    }
    match &o {
        Some(o) => d.objects.push(o.clone()),
        // `cc -c a.c b.c` writes `a.o` and `b.o` here.
        None if d.settings.compile_only && !d.settings.no_assemble => {
            let object = |s: &(String, Lang)| Path::new(&s.0).with_extension("o");
            let here = d.sources.iter().filter(|s| s.0 != "-").map(object);
            let names =
                here.filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
            d.objects.extend(names.collect::<Vec<_>>());
        }
        None => {}
    }
    d.outputs.extend(d.objects.iter().cloned());
    if let Some(mf) = mf {
        d.outputs.push(mf);
    } else if md {
        // -MD without -MF: the depfile is the output with its suffix replaced by .d
        let base = match &o {
            Some(o) => o.clone(),
            None => d
                .sources
                .first()
                .map(|s| {
                    Path::new(&s.0)
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                })
                .unwrap_or_default(),
        };
        if !base.is_empty() {
            let p = Path::new(&base);
            d.outputs
                .push(p.with_extension("d").to_string_lossy().into_owned());
        }
    }
    d
}

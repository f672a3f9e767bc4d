//! The small syntaxes several readers share: make-style dependency rules
//! (`.d` files, `cc -M` output; later the make importer) and, beside them,
//! shell words and response files, and how a path is spelled. Unaware of
//! graphs and of what the files named mean.

pub mod conditional;
pub mod depfile;
pub mod ignored;
pub mod shell;
pub mod spelling;

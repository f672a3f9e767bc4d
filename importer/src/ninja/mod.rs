//! ninja's manifest language: the lexer (ninja's tokens, with its
//! longest-match rules so errors point at the same place), the manifest
//! loader (statements in ninja's order, `include`/`subninja`), the loaded
//! manifest saved between runs, and dyndep files read during a build.

pub mod dyndep;
pub mod lexer;
pub mod manifest;
pub mod saved;

//! The dependency footprint of a build command: every file it can read.

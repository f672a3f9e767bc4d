//! The allocator: mimalloc, set up to hold no more memory than the build needs.
//!
//! mimalloc because allocation-heavy phases (loading a manifest, building 50k
//! thunks on every core) spend a fifth of their time in glibc malloc. Two of
//! its defaults cost memory here: transparent huge pages (off at build time,
//! the `no_thp` feature: touching one byte of a 2 MiB region made all of it
//! resident), and keeping freed pages for 10 ms before returning them (set to
//! 0 below: a manifest load frees as it goes, and the pages it freed were
//! still counted when the graph reached its size). On the 87k-edge tree of
//! bench/everyday.sh the two took the peak RSS of `-t targets all` from 110
//! to 64 MiB and of a no-op build from 182 to 155 MiB, no slower. Once edges
//! run (`building`), the default delay is back: a build frees and takes
//! again memory of the same sizes for every edge (a memo hit's objects, a
//! key's paths), and giving each page back at once cost a TLB flush on
//! every core and a page fault to take it again. Ignores every other
//! option.

use std::os::raw::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (mimalloc.h: 15 in
/// v3, which libmimalloc-sys 0.1.49 builds, and in v2).
const MI_OPTION_PURGE_DELAY: c_int = 15;

extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

/// mimalloc's own purge delay, in ms.
const DEFAULT_PURGE_DELAY: c_long = 10;

/// Freed memory goes back to the OS at once; call before the work starts.
pub fn tune() {
    set_purge_delay(0);
}

/// Freed memory is kept a while for reuse; call when edges start to run.
pub fn building() {
    set_purge_delay(DEFAULT_PURGE_DELAY);
}

fn set_purge_delay(ms: c_long) {
    // SAFETY: mi_option_set only stores the option's value; mimalloc reads
    // it on its next purge.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, ms) };
}

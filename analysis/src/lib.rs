//! What a build's graph and `.ninja_log` say about its speed: the work the
//! targets need (`work`), how long each edge takes (`durations`), the
//! critical path with each edge's float and drag (`critical`), how many
//! edges could run at once (`profile`), the numbers `-t analyze` prints
//! (`analyze`, `table`); and for `-t trace`, the last build's entries
//! (`runs`, `ran`), its worker lanes (`lanes`) and the trace JSON (`trace`);
//! for `-t simulate`, a replay of the build on N workers (`simulate`),
//! the model of remote execution it can replay under (`remote`; `cores`
//! when its instances share a machine's), what it
//! says per worker count (`speedup`) and what the thunks add: the cache
//! prediction and the remote replays (`forecast`); for `-t report`, one HTML
//! page of the last build and its replays: what it shows (`page`, its
//! strings coded small by `delta`) and the HTML (`html`, `page.html`).
//! Ignores running anything and the real scheduler: the model is a clean
//! build with logged durations.

pub mod analyze;
pub mod bounds;
pub mod cores;
pub mod critical;
pub mod delta;
pub mod durations;
pub mod forecast;
pub mod html;
pub mod lanes;
pub mod page;
pub mod profile;
pub mod ran;
pub mod remote;
pub mod row;
pub mod runs;
pub mod simulate;
pub mod speedup;
pub mod table;
pub mod trace;
pub mod work;

pub use analyze::Analysis;
pub use work::{DependencyCycle, Work};

#[cfg(test)]
mod testing;

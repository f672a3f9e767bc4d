//! The graph as bytes, and back: a loaded manifest kept between runs.
//!
//! The plain parts derive serde; here are the two that are not plain data
//! (the chunked vectors, written as sequences; the path table, written as
//! its text and path ends, its hash index rebuilt), the codec (postcard),
//! and the check a decoded graph passes before use: every node number in
//! range and of its kind, every rule, scope and pool known, every count
//! within its list. So bytes that decode but were never a graph give an
//! error, not a panic later. Ignores where the bytes live and whether they
//! are still current (the importer's `saved.rs` decides that).

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::chunked::Chunked;
use crate::eval::{PHONY_RULE, ROOT_SCOPE};
use crate::graph::BUILD_BIT;
use crate::paths::PathTable;
use crate::{BuildId, FileId, Graph, CONSOLE_POOL};

/// Bytes that are not a graph this version wrote.
#[derive(Debug, thiserror::Error)]
pub enum Corrupt {
    #[error("cannot decode the saved graph: {0}")]
    Decode(#[from] postcard::Error),
    #[error("the saved graph is inconsistent: {0}")]
    Inconsistent(&'static str),
}

/// The graph's bytes.
pub fn to_bytes(graph: &Graph) -> Vec<u8> {
    postcard::to_allocvec(graph).expect("a graph serializes to memory")
}

/// The graph `to_bytes` gave these bytes for, checked.
pub fn from_bytes(bytes: &[u8]) -> Result<Graph, Corrupt> {
    let graph: Graph = postcard::from_bytes(bytes)?;
    check(&graph).map_err(Corrupt::Inconsistent)?;
    Ok(graph)
}

impl<T: Serialize> Serialize for Chunked<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Not `collect_seq`: postcard needs the length first, which a
        // flattened iterator does not tell.
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for item in self.iter() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Chunked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Items<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Items<T> {
            type Value = Chunked<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Chunked<T>, A::Error> {
                let mut items = Chunked::default();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(items)
            }
        }
        d.deserialize_seq(Items(std::marker::PhantomData))
    }
}

impl Serialize for PathTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.text_and_ends().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PathTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (text, ends) = <(String, Vec<u32>)>::deserialize(d)?;
        PathTable::from_text_and_ends(text, ends)
            .ok_or_else(|| serde::de::Error::custom("path ends that do not cut the text"))
    }
}

/// Node kinds as the check needs them: which numbers name files, which builds.
struct Kinds<'g>(&'g Graph);

impl Kinds<'_> {
    fn file(&self, f: FileId) -> bool {
        self.0
            .slots
            .get(f.index())
            .is_some_and(|s| s & BUILD_BIT == 0)
    }
    fn build(&self, b: BuildId) -> bool {
        self.0
            .slots
            .get(b.index())
            .is_some_and(|s| s & BUILD_BIT != 0)
    }
    fn files(&self, fs: &[FileId]) -> bool {
        fs.iter().all(|&f| self.file(f))
    }
    fn builds(&self, bs: &[BuildId]) -> bool {
        bs.iter().all(|&b| self.build(b))
    }
}

/// Whether every index the graph's accessors follow is in range.
fn check(g: &Graph) -> Result<(), &'static str> {
    check_nodes(g)?;
    let k = Kinds(g);
    for f in g.files.iter() {
        if !f.in_build.is_none_or(|b| k.build(b)) || !k.builds(&f.readers) {
            return Err("a file names a build that is not one");
        }
    }
    for b in g.build_data.iter() {
        let counts = b.implicit_ins as usize + b.order_only_ins as usize <= b.ins.len()
            && b.implicit_outs as usize <= b.outs.len();
        let nodes = k.files(&b.ins)
            && k.files(&b.outs)
            && k.files(&b.validations)
            && b.dyndep.is_none_or(|f| k.file(f));
        let known = b.rule < g.scopes.rules.len()
            && b.scope < g.scopes.scopes.len()
            && b.pool < g.pools.len();
        if !(counts && nodes && known) {
            return Err("a build names what is not there");
        }
    }
    let validators = g.validators.iter();
    if !validators
        .into_iter()
        .all(|(&f, bs)| k.file(f) && k.builds(bs))
    {
        return Err("a validation names what is not there");
    }
    if g.command_hashes.len() > g.build_data.len() {
        return Err("more command hashes than builds");
    }
    if !k.files(&g.defaults) || !k.builds(&g.builds) {
        return Err("a default or a build in order is not there");
    }
    check_scopes(g)
}

/// Every node's slot points at a file or build of its own, and every file
/// at its node.
fn check_nodes(g: &Graph) -> Result<(), &'static str> {
    let (files, builds) = (g.files.len(), g.build_data.len());
    if g.slots.len() != files + builds || g.file_nodes.len() != files || g.paths.len() != files {
        return Err("node counts disagree");
    }
    let mut build_seen = vec![false; builds];
    for (node, &slot) in g.slots.iter().enumerate() {
        let n = (slot & !BUILD_BIT) as usize;
        let own = if slot & BUILD_BIT != 0 {
            n < builds && !std::mem::replace(&mut build_seen[n], true)
        } else {
            g.file_nodes.get(n).is_some_and(|f| f.index() == node)
        };
        if !own {
            return Err("a node's slot is not its own");
        }
    }
    Ok(())
}

/// Scopes chain to the root without cycles; rules and pools are numbered
/// within their lists, the built-in ones present.
fn check_scopes(g: &Graph) -> Result<(), &'static str> {
    let s = &g.scopes;
    let builtin = s.scopes.get(ROOT_SCOPE).is_some()
        && s.rules.get(PHONY_RULE).is_some()
        && g.pools.get(CONSOLE_POOL).is_some();
    if !builtin {
        return Err("the built-in scope, rule or pools are missing");
    }
    for (i, scope) in s.scopes.iter().enumerate() {
        let parent_ok = scope.parent.is_none_or(|p| p < i);
        if !parent_ok || scope.rules.values().any(|&r| r >= s.rules.len()) {
            return Err("a scope names what is not there");
        }
    }
    if g.pool_names.values().any(|&p| p >= g.pools.len()) {
        return Err("a pool name names no pool");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Build, Escape, EvalString, HashKind, Rule};

    fn sample() -> Graph {
        let mut g = Graph::default();
        let mut command = EvalString::default();
        command.push_literal("cc -c ");
        command.push_var("in");
        let rule = Rule {
            name: "cc".to_string(),
            bindings: [("command".to_string(), command)].into_iter().collect(),
        };
        g.scopes.rules.push(rule);
        let [src, obj, v] = ["a.c", "a.o", "check"].map(|p| g.file_id(p));
        let build = Build {
            rule: 1,
            ins: vec![src],
            outs: vec![obj],
            validations: vec![v].into(),
            ..Build::default()
        };
        g.add_build(build);
        g.defaults.push(obj);
        g
    }

    #[test]
    fn a_graph_comes_back_as_it_was() {
        let g = sample();
        let back = from_bytes(&to_bytes(&g)).unwrap();
        assert_eq!(format!("{g:?}").len(), format!("{back:?}").len());
        let b = back.builds[0];
        assert_eq!(back.command(b, true).unwrap(), "cc -c a.c");
        assert_eq!(back.file(back.lookup("a.o").unwrap()).in_build, Some(b));
        assert_eq!(back.binding(b, "in", Escape::None).unwrap(), "a.c");
        let check = back.lookup("check").unwrap();
        assert_eq!(back.validation_consumers(check).collect::<Vec<_>>(), [b]);
        assert_eq!(back.default_targets(), [back.lookup("a.o").unwrap()]);
    }

    #[test]
    fn kept_command_hashes_are_the_evaluated_ones() {
        let mut g = sample();
        let b = g.builds[0];
        let kinds = [HashKind::Murmur, HashKind::Rapid];
        let fresh = kinds.map(|k| k.hash(&g.command(b, true).unwrap()));
        assert_eq!(kinds.map(|k| g.command_hash(b, k).unwrap()), fresh);
        g.hash_commands();
        let back = from_bytes(&to_bytes(&g)).unwrap();
        assert!(back.command_hashes[back.build_number(b)].is_some());
        assert_eq!(kinds.map(|k| back.command_hash(b, k).unwrap()), fresh);
        // A phony made later has none and evaluates (to the empty command).
        let mut back = back;
        let h = back.file_id("x.h");
        back.ensure_phony_producer(h);
        let phony = back.file(h).in_build.unwrap();
        assert_eq!(
            back.command_hash(phony, HashKind::Rapid).unwrap(),
            HashKind::Rapid.hash("")
        );
    }

    #[test]
    fn bytes_that_are_not_a_graph_are_an_error() {
        let bytes = to_bytes(&sample());
        for len in 0..bytes.len() {
            assert!(from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
        }
        // Every single byte changed: decoded or not, never a panic.
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x5a;
            let _ = from_bytes(&bad);
        }
    }

    #[test]
    fn a_node_out_of_range_is_inconsistent() {
        let mut g = sample();
        g.defaults.push(FileId(99));
        assert!(matches!(
            from_bytes(&to_bytes(&g)),
            Err(Corrupt::Inconsistent(_))
        ));
    }
}

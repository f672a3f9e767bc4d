//! A build's command hashed as ninja's build log hashes it, and the hashes
//! of a whole graph kept with it.
//!
//! A no-op compares every build's command with the one its log entry was
//! made by, which means evaluating 87k commands (`$in`, `$out`, escaping,
//! scope lookups) to hash them: about a tenth of a large tree's no-op. The
//! command is a function of the manifest alone (`$in` and `$out` are the
//! explicit files, which neither the deps log nor dyndep changes), so a
//! graph saved between runs carries each build's hash in both of the log's
//! algorithms (`Graph::hash_commands`, before it is saved) and a later run
//! reads them instead. A build made after that (the deps log's phonies),
//! or whose command does not evaluate, has none: its caller evaluates.
//! Ignores which log version is in use (the caller says).

use crate::{BuildId, CycleError, Graph};

/// The log's hash algorithms: MurmurHash64A (log versions 5 and 6) and
/// rapidhash v1 (version 7, ninja 1.13+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Murmur,
    Rapid,
}

impl HashKind {
    /// The hash of `text` in this algorithm.
    pub fn hash(self, text: &str) -> u64 {
        match self {
            HashKind::Murmur => murmur_hash_64a(text.as_bytes()),
            HashKind::Rapid => rapidhash::v1::rapidhash_v1(text.as_bytes()),
        }
    }
}

/// 64-bit MurmurHash2 with ninja's seed.
fn murmur_hash_64a(data: &[u8]) -> u64 {
    const SEED: u64 = 0xDECA_FBAD_DECA_FBAD;
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = SEED ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, &b) in rest.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

impl Graph {
    /// Hashes every build's command (with its rspfile content, as the log
    /// does) in both algorithms, to be kept with the graph. Phonies have
    /// none (no log entry reads it), nor builds whose command does not
    /// evaluate.
    pub fn hash_commands(&mut self) {
        let mut hashes = vec![None; self.build_data.len()];
        for &id in &self.builds {
            if self.is_phony(id) {
                continue;
            }
            if let Ok(c) = self.command(id, true) {
                let both = [HashKind::Murmur.hash(&c), HashKind::Rapid.hash(&c)];
                hashes[self.build_number(id)] = Some(both);
            }
        }
        self.command_hashes = hashes;
    }

    /// The hash of `build`'s command (with its rspfile content) in `kind`:
    /// kept, or evaluated now.
    pub fn command_hash(&self, build: BuildId, kind: HashKind) -> Result<u64, CycleError> {
        let kept = self.command_hashes.get(self.build_number(build));
        if let Some(Some(both)) = kept {
            return Ok(both[kind as usize]);
        }
        Ok(kind.hash(&self.command(build, true)?))
    }
}

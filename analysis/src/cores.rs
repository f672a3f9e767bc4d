//! The cores the remote model's invocations share when the "instances"
//! are processes on one machine, as on the local stack
//! (`scripts/local-aws.sh`): the function's instances, the emulator, the
//! S3 server and the engine all run on the host's few cores, so 64
//! invocations starting at once queue for CPU that 64 Lambda instances
//! would each have had. Modelled as that many servers taking each
//! invocation's CPU work first come, first served, in the order the replay
//! starts invocations. Ignores how a kernel really shares a core (time
//! slices: a burst of N invocations on C cores all end near N/C × work,
//! where first come, first served ends them one core's worth at a time),
//! other programs on the host, and I/O waits.

/// The shared cores: when each is next free, in ms of the replay. None
/// when the invocations do not share cores (Lambda's own instances).
#[derive(Debug, Default)]
pub struct Cores {
    free_at: Vec<u64>,
}

impl Cores {
    /// `count` cores, none busy; 0 means the invocations share none.
    pub fn new(count: usize) -> Cores {
        Cores {
            free_at: vec![0; count],
        }
    }

    /// An invocation ready at `ready` needing `work` ms of CPU: how long it
    /// waits for a core (the core is then busy for `work`).
    pub fn wait(&mut self, ready: u64, work: u64) -> u64 {
        let Some(core) = (self.free_at.iter_mut()).min_by_key(|t| **t) else {
            return 0;
        };
        if work == 0 {
            return 0;
        }
        let begins = ready.max(*core);
        *core = begins + work;
        begins - ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cores_no_wait() {
        let mut c = Cores::new(0);
        assert_eq!((c.wait(0, 50), c.wait(0, 50)), (0, 0));
    }

    /// Five invocations of 10 ms ready at once on two cores: two begin at
    /// once, two after 10 ms, the last after 20 ms; one ready later than
    /// a core frees waits for nothing.
    #[test]
    fn a_burst_queues_a_core_at_a_time() {
        let mut c = Cores::new(2);
        let waits: Vec<u64> = (0..5).map(|_| c.wait(0, 10)).collect();
        assert_eq!(waits, [0, 0, 10, 10, 20]);
        assert_eq!(c.wait(100, 10), 0);
        assert_eq!(c.wait(0, 0), 0, "no work: no turn taken");
    }
}

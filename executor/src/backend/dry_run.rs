//! `-n`: every edge succeeds at once and nothing runs.

use std::collections::VecDeque;

use ggninja_graph::BuildId;

use super::{Backend, Ctx, Done, Origin, Task};

#[derive(Default)]
pub struct DryRun {
    done: VecDeque<BuildId>,
}

impl Backend for DryRun {
    fn start(&mut self, _: &mut Ctx, task: Task) -> Result<(), String> {
        self.done.push_back(task.edge);
        Ok(())
    }

    fn wait(&mut self, _: &mut Ctx) -> Option<Done> {
        self.done
            .pop_front()
            .map(|edge| Done::settled(edge, Origin::Ran))
    }

    fn running(&self) -> usize {
        0
    }

    fn abort(&mut self) -> Vec<BuildId> {
        self.done.drain(..).collect()
    }
}

//! The easy case: a per-file map stage ([`Stage`]) — one input file in, one document file out — as a
//! single-phase [`PhasedStage`] with one task per input file.

use super::plan::PlanContext;
use super::sink::DocumentSink;
use super::stats::ShardStats;
use super::task::{Task, TaskContext, TaskInput};
use super::{PhasedStage, Stage};
use crate::error::Result;
use crate::format::DocumentReader;
use crate::store::Location;

/// One input file handed to [`Stage::process`].
pub struct InputShard<'a> {
    /// The input object.
    pub location: Location,
    /// Its path relative to the input root.
    pub relative: String,
    /// Its size in bytes.
    pub size: u64,
    input: &'a TaskInput,
    context: &'a TaskContext<'a>,
}

impl InputShard<'_> {
    /// Opens the raw bytes for streaming reads (counted for progress and `bytes_in`).
    pub fn open_raw(&self) -> Result<impl std::io::Read + Send + '_> {
        self.context.open_raw(self.input)
    }

    /// Opens the file as a document file (Parquet / JSONL), for stages that read documents; under
    /// `--limit` it ends after that many documents.
    pub fn open_documents(&self) -> Result<Box<dyn DocumentReader>> {
        self.context.open_documents(self.input)
    }

    /// Whether a stage that counts its own input documents (`docs_in`) has reached the `--limit`.
    pub fn limit_reached(&self, docs_in: u64) -> bool {
        self.context.limit_reached(docs_in)
    }
}

/// A [`Stage`] run as a [`PhasedStage`].
pub struct MapStage<S: ?Sized>(pub Box<S>);

impl<S: Stage + ?Sized> PhasedStage for MapStage<S> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn version(&self) -> u32 {
        self.0.version()
    }
    fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
    fn referenced_files(&self) -> Vec<String> {
        self.0.referenced_files()
    }
    fn prepare(&self) -> Result<()> {
        self.0.prepare()
    }
    fn accepts(&self, path: &str) -> bool {
        self.0.accepts(path)
    }
    fn plan(&self, _phase: usize, context: &PlanContext) -> Result<Vec<Task>> {
        Ok(context.one_task_per_input())
    }
    fn run(&self, _phase: usize, task: &Task, context: &mut TaskContext) -> Result<()> {
        let input = &task.inputs[0];
        let mut sink: DocumentSink = context.create_documents(&task.key)?;
        let mut stats = ShardStats::default();
        {
            let shard = InputShard {
                location: input.location.clone(),
                relative: input.relative.clone(),
                size: input.size,
                input,
                context,
            };
            self.0.process(&shard, &mut sink, &mut stats)?;
        }
        context.stats.merge(&stats);
        context.finish_documents(sink)
    }
}

//! The chunks of a `resultats` file as a pipeline, so that the importer's work and the
//! database's overlap (docs/performance.md).
//!
//! Done one after the other, a chunk's lookups, its checks and its writes leave the
//! database idle while the lines are checked, and the importer idle while the database
//! works. Here, while chunk *k* is checked on a thread of its own ([`results::decide`]),
//! the transaction writes chunk *k − 1* and then reads what chunk *k + 1* needs. Chunk
//! *k + 1* is thus read before chunk *k* is written: what chunk *k* writes reaches its
//! checks through [`Overlay`]. The statements still reach the transaction in the file's
//! order, and the stored outcome is the one a chunk-by-chunk import gives.

use siseri_storage::ImportTx;

use crate::ImportError;
use crate::lines::{CONSOLIDATE_AT, Ctx, Known};
use crate::results::{self, Overlay, Prepared, Writes};
use crate::source::Line;

/// The checking thread of one step: its result is the running state back, the chunk's
/// writes and its overlay.
type Checked = (Ctx, (Writes, Overlay));

/// What a step's checks are doing.
enum Checking {
    /// No chunk to check: the running state stays here (boxed: it is large).
    Idle(Box<Ctx>),
    /// A chunk of this many lines is being checked on its own thread.
    Running(tokio::task::JoinHandle<Checked>, u64),
}

/// The pipeline between two chunks.
#[derive(Debug)]
pub(crate) struct Pipeline {
    /// The caches the lookups use (taken out of the `Ctx`, which the checks hold).
    known: Known,
    sender_key: String,
    /// The chunk read, not yet checked.
    prepared: Option<Prepared>,
    /// The chunk checked, not yet written.
    unwritten: Option<Writes>,
    /// What that chunk writes, for the checks of the chunk read before it was written.
    overlay: Overlay,
}

impl Pipeline {
    /// A pipeline for `ctx`'s import.
    pub(crate) fn new(ctx: &mut Ctx) -> Self {
        Pipeline {
            known: std::mem::take(&mut ctx.known),
            sender_key: ctx.sender_key.clone(),
            prepared: None,
            unwritten: None,
            overlay: Overlay::default(),
        }
    }

    /// Whether chunks are still in the pipeline.
    pub(crate) fn busy(&self) -> bool {
        self.prepared.is_some() || self.unwritten.is_some()
    }

    /// Moves the pipeline one step: checks the chunk read before, while writing the one
    /// checked before it and reading `next` (`None` at the end of the file). Returns the
    /// running state back and the number of lines checked.
    pub(crate) async fn step(
        &mut self,
        mut ctx: Ctx,
        tx: &mut dyn ImportTx,
        next: Option<Vec<Line>>,
    ) -> Result<(Ctx, u64), ImportError> {
        let today = ctx.today;
        let checking = match self.prepared.take() {
            Some(prepared) => {
                let lines = prepared.len() as u64;
                let overlay = std::mem::take(&mut self.overlay);
                let handle = tokio::task::spawn_blocking(move || {
                    let out = results::decide(&mut ctx, prepared, None, &overlay);
                    (ctx, out)
                });
                Checking::Running(handle, lines)
            }
            None => Checking::Idle(Box::new(ctx)),
        };
        // Meanwhile, on the transaction.
        let mut touched = Vec::new();
        if let Some(w) = self.unwritten.take() {
            touched = results::write(tx, w, today).await?;
        }
        if let Some(lines) = next {
            let prepared =
                results::prepare(&mut self.known, tx, &self.sender_key, lines, None).await?;
            self.prepared = Some(prepared);
        }

        let (mut ctx, checked) = match checking {
            Checking::Idle(ctx) => (*ctx, 0),
            Checking::Running(handle, lines) => {
                let (ctx, (writes, overlay)) = handle.await.map_err(|e| {
                    ImportError::Io(std::io::Error::other(format!(
                        "vérification des lignes interrompue : {e}"
                    )))
                })?;
                self.known.created(&writes.created);
                self.unwritten = Some(writes);
                self.overlay = overlay;
                (ctx, lines)
            }
        };
        ctx.touched.extend(touched);
        // Many workers wait for their alerts: write what is checked, then reconcile them.
        if ctx.to_consolidate.len() >= CONSOLIDATE_AT {
            if let Some(w) = self.unwritten.take() {
                let touched = results::write(tx, w, today).await?;
                ctx.touched.extend(touched);
            }
            ctx.consolidate(tx).await?;
        }
        Ok((ctx, checked))
    }

    /// Ends the pipeline: the caches go back to the running state.
    pub(crate) fn close(mut self, ctx: &mut Ctx) {
        ctx.known = std::mem::take(&mut self.known);
    }
}

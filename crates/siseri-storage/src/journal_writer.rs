//! Group commit of journal entries written on their own (the journaled reads).
//!
//! Every entry locks the journal's head row until its transaction commits. When each read
//! appended its entry in a transaction of its own, concurrent reads queued on that lock one
//! network round trip after another (issue 12: 22 records/s over TCP). Here one task per
//! store appends the entries of every request waiting at that moment in one transaction, and
//! answers each request once its entries are committed: the journal is still written before
//! the answer is sent (`access.md`), but a burst of reads costs one commit, not one each.

use std::sync::{Arc, Mutex};

use siseri_domain::journal::JournalEvent;
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;

/// What writes a batch of entries in one transaction (given by each adapter).
pub(crate) type WriteFn = Arc<
    dyn Fn(
            Vec<JournalEvent>,
        )
            -> std::pin::Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'static>>
        + Send
        + Sync,
>;

/// Entries of one request, and where to say they are committed.
struct Job {
    events: Vec<JournalEvent>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The most entries written in one transaction: a burst larger than this is split, so that
/// the head row is never held for long.
const MAX_BATCH: usize = 512;

/// The store's journal writer: started on first use in the caller's runtime, started again
/// if that runtime has gone (tests run one runtime each).
#[derive(Default)]
pub(crate) struct JournalWriter {
    sender: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

impl std::fmt::Debug for JournalWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JournalWriter")
    }
}

impl JournalWriter {
    /// Appends `events` (in their order, after those of the requests queued before) and
    /// returns once they are committed.
    pub(crate) async fn append(
        &self,
        events: Vec<JournalEvent>,
        write: impl Fn() -> WriteFn,
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return write()(events).await;
        }
        let (done, answer) = oneshot::channel();
        let mut job = Job { events, done };
        // Twice at most: a sender whose task died with its runtime is replaced once.
        for _ in 0..2 {
            let sender = self.sender(&write);
            match sender.send(job) {
                Ok(()) => {
                    return match answer.await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(message)) => Err(StoreError::Database(sqlx::Error::Protocol(
                            format!("journal : {message}"),
                        ))),
                        Err(_) => Err(StoreError::Database(sqlx::Error::WorkerCrashed)),
                    };
                }
                Err(mpsc::error::SendError(back)) => {
                    job = back;
                    if let Ok(mut slot) = self.sender.lock() {
                        *slot = None;
                    }
                }
            }
        }
        write()(job.events).await
    }

    /// The running task's sender, starting the task when there is none.
    fn sender(&self, write: &impl Fn() -> WriteFn) -> mpsc::UnboundedSender<Job> {
        let mut slot = match self.sender.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(sender) = slot.as_ref().filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(receiver, write()));
        *slot = Some(sender.clone());
        sender
    }
}

/// Writes what is queued, a batch at a time, until every sender is gone.
async fn run(mut receiver: mpsc::UnboundedReceiver<Job>, write: WriteFn) {
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        let mut count = jobs.iter().map(|j| j.events.len()).sum::<usize>();
        while count < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => {
                    count += job.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let events: Vec<JournalEvent> = jobs.iter().flat_map(|j| j.events.clone()).collect();
        let outcome = write(events).await.map_err(|e| e.to_string());
        for job in jobs {
            // A request that went away no longer waits: its entries are written all the same.
            let _ = job.done.send(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn event(actor: &str) -> JournalEvent {
        JournalEvent::new(chrono::Utc::now(), actor, "LECTURE", "DOSSIER")
    }

    #[tokio::test]
    async fn concurrent_requests_share_transactions_and_keep_their_order() {
        let batches = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(Mutex::new(Vec::<String>::new()));
        let writer = Arc::new(JournalWriter::default());
        let make = {
            let batches = batches.clone();
            let written = written.clone();
            move || -> WriteFn {
                let batches = batches.clone();
                let written = written.clone();
                Arc::new(move |events: Vec<JournalEvent>| {
                    let batches = batches.clone();
                    let written = written.clone();
                    Box::pin(async move {
                        batches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        if let Ok(mut w) = written.lock() {
                            w.extend(events.into_iter().map(|e| e.actor));
                        }
                        Ok(())
                    })
                })
            }
        };
        let mut handles = Vec::new();
        for i in 0..50 {
            let writer = writer.clone();
            let make = make.clone();
            handles.push(tokio::spawn(async move {
                writer
                    .append(vec![event(&format!("a{i}")), event(&format!("b{i}"))], make)
                    .await
            }));
        }
        for h in handles {
            assert!(h.await.is_ok_and(|r| r.is_ok()));
        }
        let written = written.lock().map(|w| w.clone()).unwrap_or_default();
        assert_eq!(written.len(), 100);
        // Each request's entries stay together and in order.
        for i in 0..50 {
            let a = written.iter().position(|w| *w == format!("a{i}"));
            let b = written.iter().position(|w| *w == format!("b{i}"));
            assert!(
                matches!((a, b), (Some(a), Some(b)) if b == a + 1),
                "{written:?}"
            );
        }
        assert!(
            batches.load(Ordering::SeqCst) < 50,
            "one transaction per request: {}",
            batches.load(Ordering::SeqCst)
        );
    }

    #[tokio::test]
    async fn a_failed_batch_is_reported_to_each_request() {
        let writer = JournalWriter::default();
        let make = || -> WriteFn {
            Arc::new(|_| Box::pin(async { Err(StoreError::Conflict("tête".into())) }))
        };
        let outcome = writer.append(vec![event("x")], make).await;
        assert!(
            matches!(outcome, Err(StoreError::Database(_))),
            "{outcome:?}"
        );
    }
}

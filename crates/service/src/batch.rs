//! Group commit: writes that arrive while a transaction is being written wait and go into
//! the next one together, so they share its commit (and, for SQLite, its search-index
//! segment). Each caller still gets its answer only after its own row is committed and on
//! the disk; on SQLite the next group is written while this one's fsync runs. Used for new
//! tickets, contact records (the PBX reports every call) and stock movements.

use aftercare_store::contacts::{self, ContactWrite};
use aftercare_store::parts::{self, MovementWrite, Posted};
use aftercare_store::tickets::{self, TicketRow, TicketWrite};
use aftercare_store::{Db, StoreError, Writer};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// One kind of row written in groups.
pub trait GroupWrite: Send + Sync + 'static {
    type Item: Clone + Send + Sync + 'static;
    type Out: Send + 'static;
    /// Writes every item in one transaction: all or none.
    fn write_many(
        db: &Db,
        items: &[(Writer, Self::Item)],
    ) -> impl Future<Output = Result<Vec<Self::Out>, StoreError>> + Send;
    /// Work on one item that needs none of the others, done in the caller's task before it
    /// queues: off the one writer's path, which every create waits on.
    fn prepare(item: Self::Item) -> Self::Item {
        item
    }
}

pub struct Tickets;
impl GroupWrite for Tickets {
    type Item = TicketWrite;
    type Out = TicketRow;
    async fn write_many(db: &Db, items: &[(Writer, TicketWrite)]) -> Result<Vec<TicketRow>, StoreError> {
        tickets::create_many(db, items).await
    }
    /// The search document's words (tens of microseconds a ticket).
    fn prepare(item: TicketWrite) -> TicketWrite {
        tickets::with_search_body(item)
    }
}

pub struct Contacts;
impl GroupWrite for Contacts {
    type Item = ContactWrite;
    type Out = contacts::Made;
    async fn write_many(db: &Db, items: &[(Writer, ContactWrite)]) -> Result<Vec<contacts::Made>, StoreError> {
        contacts::create_numbered(db, items).await
    }
}

/// A movement short of stock is an answer (`Posted::Short`), not a failure of the group.
pub struct Movements;
impl GroupWrite for Movements {
    type Item = MovementWrite;
    type Out = Posted;
    async fn write_many(db: &Db, items: &[(Writer, MovementWrite)]) -> Result<Vec<Posted>, StoreError> {
        parts::post_many(db, items, false).await
    }
}

type Reply<O> = oneshot::Sender<Result<O, StoreError>>;
type Job<W> = (Writer, <W as GroupWrite>::Item, Reply<<W as GroupWrite>::Out>);

/// The most rows one transaction takes.
const MAX_BATCH: usize = 64;

/// One writer task per kind and set of services (started on first use, inside the runtime).
pub struct Batcher<W: GroupWrite> {
    queue: Arc<OnceLock<mpsc::UnboundedSender<Job<W>>>>,
}

impl<W: GroupWrite> Clone for Batcher<W> {
    fn clone(&self) -> Self {
        Batcher { queue: self.queue.clone() }
    }
}

impl<W: GroupWrite> Default for Batcher<W> {
    fn default() -> Self {
        Batcher { queue: Arc::new(OnceLock::new()) }
    }
}

impl<W: GroupWrite> std::fmt::Debug for Batcher<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batcher")
    }
}

impl<W: GroupWrite> Batcher<W> {
    /// Writes the item with whatever else is waiting; answers once committed.
    pub async fn write(&self, db: &Db, w: Writer, item: W::Item) -> Result<W::Out, StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (send, recv) = mpsc::unbounded_channel();
            tokio::spawn(run::<W>(db.clone(), recv));
            send
        });
        let item = W::prepare(item);
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((w, item, _))) = queue.send((w, item, reply)) {
            // The writer is gone (the runtime is stopping): write this one directly.
            return one::<W>(db, w, item).await;
        }
        // Without an answer we cannot know whether it was written, so say so rather than retry.
        answer.await.unwrap_or_else(|_| Err(StoreError::Other("the writer stopped".into())))
    }
}

async fn one<W: GroupWrite>(db: &Db, w: Writer, item: W::Item) -> Result<W::Out, StoreError> {
    let mut made = W::write_many(db, &[(w, item)]).await?;
    made.pop().ok_or(StoreError::NotFound)
}

async fn run<W: GroupWrite>(db: Db, mut queue: mpsc::UnboundedReceiver<Job<W>>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let items: Vec<(Writer, W::Item)> = jobs.iter().map(|(w, t, _)| (w.clone(), t.clone())).collect();
        // The next group begins while this one's commit goes to the disk (SQLite; see
        // aftercare_store::durable); its answers wait for that.
        let (written, pending) = aftercare_store::durable::deferring_sync(W::write_many(&db, &items)).await;
        let written = match (written, pending) {
            (Ok(made), Some(pending)) => {
                tokio::spawn(async move {
                    let durable = pending.wait().await.map_err(|e| format!("commit: {e}"));
                    for ((_, _, reply), m) in jobs.into_iter().zip(made) {
                        let _ = reply.send(durable.clone().map(|()| m).map_err(StoreError::Other));
                    }
                });
                continue;
            }
            (written, Some(pending)) => {
                // Whatever it committed is on the disk before anything is written again.
                let _ = pending.wait().await;
                written
            }
            (written, None) => written,
        };
        match written {
            Ok(made) => {
                for ((_, _, reply), m) in jobs.into_iter().zip(made) {
                    let _ = reply.send(Ok(m));
                }
            }
            // One bad row must not fail the others: write them one by one. Not after a
            // failed commit, which may have written them all.
            Err(e) if jobs.len() > 1 && !matches!(e, StoreError::Commit(_)) => {
                for (w, t, reply) in jobs {
                    let _ = reply.send(one::<W>(&db, w, t).await);
                }
            }
            Err(StoreError::Commit(e)) => {
                let e = format!("commit: {e}");
                for (_, _, reply) in jobs {
                    let _ = reply.send(Err(StoreError::Other(e.clone())));
                }
            }
            Err(e) => {
                if let Some((_, _, reply)) = jobs.pop() {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }
}

//! Group commit for new tickets: creates that arrive while a transaction is being written
//! wait and go into the next one together, so they share its commit and its search-index
//! segment. Each caller still gets its answer only after its ticket is committed.

use aftercare_store::tickets::{TicketRow, TicketWrite, create, create_many};
use aftercare_store::{Db, StoreError, Writer};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<TicketRow, StoreError>>;
type Job = (Writer, TicketWrite, Reply);

/// The most creates one transaction takes.
const MAX_BATCH: usize = 64;

/// One writer task per set of services (started on first use, inside the runtime).
#[derive(Clone, Debug, Default)]
pub struct TicketBatcher {
    queue: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
}

impl TicketBatcher {
    /// Writes the ticket with whatever else is waiting; returns the new row once committed.
    pub async fn create(&self, db: &Db, w: Writer, t: TicketWrite) -> Result<TicketRow, StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (send, recv) = mpsc::unbounded_channel();
            tokio::spawn(run(db.clone(), recv));
            send
        });
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((w, t, _))) = queue.send((w, t, reply)) {
            // The writer is gone (the runtime is stopping): write this one directly.
            return create(db, &w, &t).await;
        }
        // Without an answer we cannot know whether it was written, so say so rather than retry.
        answer.await.unwrap_or_else(|_| Err(StoreError::Other("the ticket writer stopped".into())))
    }
}

async fn run(db: Db, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let items: Vec<(Writer, TicketWrite)> = jobs.iter().map(|(w, t, _)| (w.clone(), t.clone())).collect();
        match create_many(&db, &items).await {
            Ok(made) => {
                for ((_, _, reply), m) in jobs.into_iter().zip(made) {
                    let _ = reply.send(Ok(m));
                }
            }
            // One bad ticket must not fail the others: write them one by one.
            Err(_) if jobs.len() > 1 => {
                for (w, t, reply) in jobs {
                    let _ = reply.send(create(&db, &w, &t).await);
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

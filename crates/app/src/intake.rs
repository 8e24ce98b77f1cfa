//! Group commit for new requests: intakes that arrive together are written in one transaction, and each caller
//! is answered only after that transaction is durable. One fsync serves many residents at busy moments.

use crate::error::AppError;
use tokio::sync::{mpsc, oneshot};
use wujia_store::{Change, NewRequest, Notices, Store, StoreError};

type Item = (NewRequest, Notices, String, Change);

struct Job {
    item: Item,
    reply: oneshot::Sender<Result<i64, StoreError>>,
}

/// The per-node writer of new requests.
pub struct Intake {
    tx: mpsc::Sender<Job>,
}

/// At most this many intakes share one transaction.
const BATCH: usize = 128;

impl Intake {
    /// Starts the writer task; it ends when the last handle is dropped.
    pub fn start(store: Store) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4 * BATCH);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let items: Vec<Item> = jobs.iter().map(|j| j.item.clone()).collect();
                match store.create_requests(&items).await {
                    Ok(ids) => {
                        for (job, id) in jobs.into_iter().zip(ids) {
                            let _ = job.reply.send(Ok(id));
                        }
                    }
                    Err(_) if jobs.len() > 1 => {
                        // One bad item must not fail the others: write them one by one.
                        for job in jobs {
                            let result = store.create_requests(std::slice::from_ref(&job.item)).await.map(|ids| ids[0]);
                            let _ = job.reply.send(result);
                        }
                    }
                    Err(e) => {
                        if let Some(job) = jobs.pop() {
                            let _ = job.reply.send(Err(e));
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Writes one request (with others arriving at the same time) and returns its id once it is durable.
    pub async fn create(
        &self,
        new: NewRequest,
        notices: Notices,
        community_code: String,
        change: Change,
    ) -> crate::Result<i64> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { item: (new, notices, community_code, change), reply })
            .await
            .map_err(|_| AppError::Internal("the request writer has stopped".into()))?;
        Ok(answer.await.map_err(|_| AppError::Internal("the request writer dropped a request".into()))??)
    }
}

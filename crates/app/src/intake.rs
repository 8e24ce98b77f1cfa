//! Group commit for new requests: intakes that arrive together are written in one transaction, and each caller
//! is answered only after that transaction is durable. One fsync serves many residents at busy moments, and the
//! work that does not depend on the resident (reading the holiday calendar, the communities' codes, the end of
//! the audit chain) is done once per batch.

use crate::error::AppError;
use crate::requests::deadline;
use chrono::Datelike;
use chrono_tz::Asia::Shanghai;
use tokio::sync::{mpsc, oneshot};
use wujia_core::requests::Sla;
use wujia_store::{Change, NewRequest, Notices, RequestRow, RequestToWrite, Store, StoreError};

/// A request checked and ready, but for its deadlines: they are counted by the writer on the calendar it reads
/// once for the batch.
pub(crate) struct Draft {
    pub request: NewRequest,
    pub sla: Sla,
    pub notices: Notices,
    pub change: Change,
}

struct Job {
    draft: Draft,
    reply: oneshot::Sender<crate::Result<RequestRow>>,
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
            let mut jobs = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut jobs, BATCH).await > 0 {
                write_batch(&store, std::mem::take(&mut jobs)).await;
            }
        });
        Self { tx }
    }

    /// Writes one request (with others arriving at the same time) and returns it once it is durable.
    pub(crate) async fn create(&self, draft: Draft) -> crate::Result<RequestRow> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { draft, reply })
            .await
            .map_err(|_| AppError::Internal("the request writer has stopped".into()))?;
        answer.await.map_err(|_| AppError::Internal("the request writer dropped a request".into()))?
    }
}

async fn write_batch(store: &Store, jobs: Vec<Job>) {
    // A deadline is counted from the day a request is received and ends within weeks: the calendar of that year
    // and the next is what the batch needs.
    let years = jobs.iter().map(|j| j.draft.request.received_at.with_timezone(&Shanghai).year());
    let (first, last) = years.fold((i32::MAX, i32::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let calendar = match store.calendar_of_years(first, last.saturating_add(1)).await {
        Ok(c) => c,
        Err(e) => {
            let message = format!("the request writer could not read the holiday calendar: {e}");
            for job in jobs {
                let _ = job.reply.send(Err(AppError::Internal(message.clone())));
            }
            return;
        }
    };
    let items: Vec<RequestToWrite> = jobs
        .iter()
        .map(|j| {
            let d = &j.draft;
            RequestToWrite {
                respond_due: deadline(&calendar, d.sla.respond, d.request.received_at),
                resolve_due: deadline(&calendar, d.sla.resolve, d.request.received_at),
                request: d.request.clone(),
                notices: d.notices.clone(),
                change: d.change.clone(),
            }
        })
        .collect();
    match store.create_requests(&items).await {
        Ok(rows) => {
            for (job, row) in jobs.into_iter().zip(rows) {
                let _ = job.reply.send(Ok(row));
            }
        }
        Err(_) if jobs.len() > 1 => {
            // One bad item must not fail the others: write them one by one.
            for (job, item) in jobs.into_iter().zip(items) {
                let result = store
                    .create_requests(std::slice::from_ref(&item))
                    .await
                    .and_then(|rows| rows.into_iter().next().ok_or(StoreError::NotFound));
                let _ = job.reply.send(result.map_err(AppError::from));
            }
        }
        Err(e) => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(e.into()));
            }
        }
    }
}

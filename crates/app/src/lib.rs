//! What people can do in Wujia: one module per domain holding its use cases.
//!
//! A use case takes a [`Caller`] and a typed command, checks the caller's right before any lookup, loads through
//! the [`Store`], lets `wujia-core` decide, writes state and events in one transaction, and returns a typed view
//! with personal data already masked for that caller (and the full reads audited at that point). It knows nothing
//! of HTTP, HTML or JSON: the faces (`wujia-web`, the `wujia` command line) parse input into commands and render
//! the views.

pub mod api_keys;
mod caller;
mod clock;
pub mod deadlines;
mod error;
mod intake;
mod notify;
pub mod outbox;
pub mod patrol;
pub mod period;
pub mod photos;
pub mod reception;
pub mod registry;
pub mod requests;
pub mod wechat;

pub use caller::Caller;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{AppError, FieldIssue, Result};

use std::sync::Arc;
use wujia_store::{BlobStore, Store};

/// What every use case works with: the store, the clock, and this node's writer of new requests.
#[derive(Clone)]
pub struct App {
    /// The store.
    pub store: Store,
    /// Where photos are kept.
    pub blobs: BlobStore,
    /// The clock; tests may fix it.
    pub clock: Arc<dyn Clock>,
    intake: Arc<intake::Intake>,
}

impl App {
    /// The application over a store. Must be called inside a Tokio runtime (it starts the request writer).
    pub fn new(store: Store, blobs: BlobStore, clock: Arc<dyn Clock>) -> Self {
        let intake = Arc::new(intake::Intake::start(store.clone()));
        Self { store, blobs, clock, intake }
    }
}

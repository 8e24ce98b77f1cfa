//! How Wujia speaks: the JSON API under `/api/v1`, the HTML pages, and the operations endpoints.
//!
//! Pages and API handlers are two faces of one application layer: both parse input into commands, call the use
//! cases of [`wujia_app`] with the caller, and render the views they return.

mod api;
mod auth;
mod charts;
mod client;
mod demo;
mod error;
mod form;
mod i18n;
mod intake;
mod jobs;
pub mod mail;
mod open311;
mod ops;
mod pages;
pub mod search;
mod server;
mod view;
mod wechat;

pub use auth::{API_TOKEN_PREFIX, new_token, token_hash, urlencode};
pub use demo::{load_activity_history, load_patrol_history, load_reception_history, load_request_history};
pub use error::ApiError;
pub use i18n::{Lang, catalogue_keys};
pub use jobs::{JobReport, deliver_outbox, run_jobs_once, spawn_jobs};
pub use ops::{CONTENT_SECURITY_POLICY, MetricsToken};
pub use server::{Limits, raise_file_limit, serve};
pub use wujia_app::wechat::{Account as WechatAccount, DEFAULT_API_BASE as WECHAT_API_BASE};
pub use wujia_app::{Clock, FixedClock, SystemClock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use wujia_store::Store;

/// Largest file upload accepted (registry files are the largest uploads).
pub const MAX_BODY_BYTES: usize = wujia_core::transfer::MAX_IMPORT_BYTES + 1024 * 1024;

/// Largest JSON or form body accepted everywhere else.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// Settings the server needs besides the store.
#[derive(Debug, Clone)]
pub struct Config {
    /// The server is reached over HTTPS, directly or through a TLS proxy (`WUJIA_SECURE_COOKIES`): cookies are
    /// marked `Secure` and responses carry HSTS.
    pub secure_cookies: bool,
    /// The bearer token `/metrics` asks for; `None` (the default) serves no metrics at all.
    pub metrics_token: Option<ops::MetricsToken>,
    /// How long a login lasts.
    pub session_hours: i64,
    /// Where photos are kept (content-addressed files).
    pub blob_dir: std::path::PathBuf,
    /// How long a node may reuse a session it looked up, in seconds (0: look up on every request).
    /// Logout, disabling an account and password changes take effect on this node at once and on the
    /// other nodes within this time.
    pub session_cache_seconds: u64,
    /// Where this node keeps its search index; `None` keeps it in memory (rebuilt from the event log at start).
    pub search_dir: Option<std::path::PathBuf>,
    /// The SMTP server for e-mail channels; `None` refuses e-mail channels.
    pub smtp: Option<mail::SmtpConfig>,
    /// Hosts (`host` or `host:port`) that notification webhooks may call although they are loopback or private
    /// (`WUJIA_WEBHOOK_ALLOW_HOSTS`, comma-separated); others must be public.
    pub webhook_allow_hosts: Vec<String>,
    /// The reverse proxies in front of this server (`WUJIA_TRUSTED_PROXIES`, comma-separated addresses): only a
    /// request from one of them has its client address taken from `X-Forwarded-For` (for login throttling).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// What a connection may take: head and body deadlines, connections held at once.
    pub limits: server::Limits,
    /// The community's WeChat Official Account (`WUJIA_WECHAT_*`); `None` answers no WeChat callback.
    pub wechat: Option<WechatAccount>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            metrics_token: None,
            session_hours: 12,
            blob_dir: "wujia-data/blobs".into(),
            session_cache_seconds: 2,
            search_dir: None,
            smtp: None,
            webhook_allow_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
            limits: server::Limits::default(),
            wechat: None,
        }
    }
}

/// Everything a handler needs, behind one reference count: extractors clone the state for every request, and one
/// atomic increment shared by all cores costs less than one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What the state holds.
pub struct Shared {
    /// The use cases; faces call them with the caller.
    pub app: wujia_app::App,
    /// The store, for the handlers that have not moved to the application layer yet.
    pub store: Store,
    /// The clock; tests may fix it.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: Arc<Config>,
    metrics: Arc<ops::Metrics>,
    sessions: Arc<auth::SessionCache>,
    blobs: wujia_store::BlobStore,
    /// This node's full-text index.
    pub search: Arc<search::SearchIndex>,
    /// The WeChat account's API client (its access token cached), when an account is configured.
    wechat: Option<Arc<wujia_app::wechat::WechatApi>>,
}

impl AppState {
    /// State over a store with the system clock.
    pub fn new(store: Store, config: Config) -> Self {
        Self::with_clock(store, config, Arc::new(SystemClock))
    }

    /// State with a given clock. Must be called inside a Tokio runtime (it starts the request writer).
    pub fn with_clock(store: Store, config: Config, clock: Arc<dyn Clock>) -> Self {
        let sessions = Arc::new(auth::SessionCache::new(std::time::Duration::from_secs(config.session_cache_seconds)));
        let blobs = wujia_store::BlobStore::local(&config.blob_dir);
        let app = wujia_app::App::new(store.clone(), blobs.clone(), clock.clone());
        let wechat =
            config.wechat.clone().map(|account| Arc::new(wujia_app::wechat::WechatApi::new(account, clock.clone())));
        // An index that cannot be opened on disk falls back to memory; it is rebuilt from the event log.
        let search = search::SearchIndex::open(config.search_dir.as_deref())
            .or_else(|e| {
                tracing::warn!(error = %e, "search index kept in memory");
                search::SearchIndex::open(None)
            })
            .expect("an in-memory search index always opens");
        Self(Arc::new(Shared {
            app,
            store,
            clock,
            config: Arc::new(config),
            metrics: Arc::default(),
            sessions,
            blobs,
            search: Arc::new(search),
            wechat,
        }))
    }

    /// Drops every cached session, after a change that may end sessions (logout, disable, new password).
    pub fn forget_sessions(&self) {
        self.sessions.clear();
    }
}

/// The whole application: pages, API, operations endpoints and their middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(open311::routes())
        .merge(wechat::routes())
        .merge(ops::routes())
        .layer(axum::middleware::from_fn(intake::refuse_control_characters))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::observe))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::security_headers))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(ops::make_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

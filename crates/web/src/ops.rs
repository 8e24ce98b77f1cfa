//! Operations: `/healthz`, Prometheus `/metrics` behind a token, request spans with request ids, and the security
//! headers of every response.

use crate::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

const REQUESTS: &str = "wujia_http_requests_total";
const DURATION: &str = "wujia_http_request_duration_seconds";

/// What `/metrics` shows: request counts and latencies by route, the process's CPU, memory, descriptors and start
/// time, and the build. Each server has its own recorder (the test suite runs many in one process), used through
/// `metrics::with_local_recorder`; its histograms are folded every thousand requests and at each scrape, so memory
/// stays bounded however long nobody scrapes.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    process: metrics_process::Collector,
    observed: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let process = metrics_process::Collector::default();
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!(REQUESTS, "HTTP requests by method, route and status.");
            metrics::describe_histogram!(DURATION, metrics::Unit::Seconds, "Time to answer, by method and route.");
            metrics::describe_gauge!("wujia_build_info", "The running build: its version, always 1.");
            metrics::gauge!("wujia_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            process.describe();
        });
        Self { recorder, handle, process, observed: AtomicU64::new(0) }
    }
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_string(), route.to_string());
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
                .increment(1);
            metrics::histogram!(DURATION, "method" => method, "route" => route).record(seconds);
        });
        if self.observed.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.handle.run_upkeep();
        }
    }

    fn render(&self) -> String {
        metrics::with_local_recorder(&self.recorder, || self.process.collect());
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Records every request's route, status and duration, and logs it (inside the span that carries its id).
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    // The route pattern, never the raw path: ids would make the label set unbounded (and put ids in the log).
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    state.metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    tracing::info!(target: "wujia::access", %method, %route, status, ms = elapsed.as_secs_f64() * 1000.0, "answered");
    res
}

/// A tracing span per request carrying its request id.
pub fn make_span(req: &Request) -> tracing::Span {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
}

async fn healthz(State(state): State<AppState>) -> Response {
    if state.store.ping().await {
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"database unavailable"}"#,
        )
            .into_response()
    }
}

/// The bearer token `/metrics` asks for (`WUJIA_METRICS_TOKEN`). Never printed.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// A token; an empty one is no token.
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.trim().is_empty()).then_some(Self(token))
    }

    /// Whether the request carries `Authorization: Bearer <token>`, compared through their hashes so that the time
    /// taken says nothing about how much of the token was right.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        crate::auth::token_hash(given) == crate::auth::token_hash(&self.0)
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

/// The metrics, for a scraper that brings the token; without a configured token they are not served at all.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.config.metrics_token {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(token) if !token.admits(&headers) => {
            (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")]).into_response()
        }
        Some(_) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
            .into_response(),
    }
}

/// The Content-Security-Policy of every response: the server's own scripts and styles only (no inline code, no
/// `eval`), images from the server (photos) or inline data, no plugins, forms posting back here, and no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response: the CSP, `nosniff`, a referrer policy that keeps paths (and any
/// token in them) on this site, no framing, `no-store` unless the handler chose its own caching (pages and API
/// answers carry personal data), and HSTS and `Secure` cookies when the server is reached over HTTPS
/// (`WUJIA_SECURE_COOKIES`).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config.secure_cookies {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
        // Every cookie (session, pre-login CSRF, language) is Secure, whichever handler set it.
        let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
        if !cookies.is_empty() {
            h.remove(header::SET_COOKIE);
            for c in cookies {
                let secure = c.to_str().is_ok_and(|t| t.to_ascii_lowercase().contains("; secure"));
                let c = if secure {
                    c
                } else {
                    let mut bytes = c.as_bytes().to_vec();
                    bytes.extend_from_slice(b"; Secure");
                    HeaderValue::from_bytes(&bytes).unwrap_or(c)
                };
                h.append(header::SET_COOKIE, c);
            }
        }
    }
    res
}

/// `/healthz` and `/metrics`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

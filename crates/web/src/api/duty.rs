//! The 7×24 duty wall (值班墙): emergencies open now, requests whose deadline is about to pass, and who is on duty —
//! as a snapshot, and as a server-sent event stream that sends a new snapshot whenever it changes. Each node reads
//! the database, so the wall is live on every node. It also says when the holiday calendar lacks a year, since the
//! deadlines on it are then counted on weekends alone, and how many messages wait in the outbox and for how long.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use crate::i18n::Lang;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Scope};
use wujia_store::RequestFilter;

/// How far ahead a deadline counts as about to pass.
pub const WARN_HOURS: i64 = 2;

/// `?community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WallQuery {
    /// The community.
    pub community_id: Option<i64>,
}

/// The wall's snapshot, with `calendar_warning` when the holiday calendar lacks a year it needs (in `lang`).
pub(crate) async fn wall(state: &AppState, auth: &Auth, c: i64, lang: Lang) -> Result<Value, ApiError> {
    auth.require(Action::ViewRequests, Scope::community(c))?;
    let now = state.clock.now();
    let open: Vec<String> =
        ["received", "responded", "dispatched", "in_progress"].iter().map(|s| s.to_string()).collect();
    let rows = state.store.requests(c, &RequestFilter { statuses: open, limit: 1000, ..Default::default() }).await?;
    let categories = state.store.categories().await?;
    let name = |id: i64| categories.iter().find(|k| k.id == id).map(|k| k.name_zh.clone()).unwrap_or_default();
    let emergency: Vec<i64> = categories.iter().filter(|k| k.urgency == "emergency").map(|k| k.id).collect();
    let item = |r: &wujia_store::RequestRow| {
        let due = if r.responded_at.is_none() { r.respond_due } else { r.resolve_due };
        json!({"id": r.id, "number": r.number, "category": name(r.category_id), "location": r.location, "status": r.status,
            "due": due, "minutes_left": (due - now).num_minutes(), "paused": r.paused_reason.is_some()})
    };
    let emergencies: Vec<Value> = rows.iter().filter(|r| emergency.contains(&r.category_id)).map(item).collect();
    let soon: Vec<Value> = rows
        .iter()
        .filter(|r| r.paused_reason.is_none())
        .filter(|r| {
            let due = if r.responded_at.is_none() { r.respond_due } else { r.resolve_due };
            due - now < Duration::hours(WARN_HOURS)
        })
        .map(item)
        .collect();
    let on_duty: Vec<Value> = state
        .store
        .duty(c, now, now + Duration::minutes(1))
        .await?
        .into_iter()
        .map(|d| json!({"name": d.display_name, "until": d.ends_at, "note": d.note}))
        .collect();
    let calendar_warning = super::catalogue::calendar_warning(state, lang).await?;
    let backlog = state.store.outbox_backlog(c).await?;
    let outbox = json!({"waiting": backlog.waiting, "emergencies": backlog.emergencies,
        "oldest_minutes": backlog.oldest.map(|t| (now - t).num_minutes())});
    Ok(json!({"community_id": c, "emergencies": emergencies, "deadlines": soon, "on_duty": on_duty, "open": rows.len(),
        "calendar_warning": calendar_warning, "outbox": outbox}))
}

/// The duty wall's snapshot.
#[utoipa::path(get, path = "/api/v1/duty_wall", operation_id = "get_duty_wall", tag = "requests", params(WallQuery),
    responses((status = 200, description = "Emergencies, deadlines, who is on duty, the outbox's backlog")), security(("bearer" = [])))]
pub async fn get_duty_wall(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<WallQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    Ok(Json(wall(&state, &auth, c, Lang::from_headers(&headers)).await?))
}

/// The duty wall as server-sent events: a `wall` event with the snapshot at once and whenever it changes.
#[utoipa::path(get, path = "/api/v1/duty_wall/stream", operation_id = "get_duty_wall_stream", tag = "requests", params(WallQuery),
    responses((status = 200, description = "text/event-stream")), security(("bearer" = [])))]
pub async fn get_duty_wall_stream(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<WallQuery>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    let c = auth.community(q.community_id)?;
    let lang = Lang::from_headers(&headers);
    // Check the right to see it before the stream starts.
    let first = wall(&state, &auth, c, lang).await?;
    let stream = futures_util::stream::unfold(
        (state, auth, Some(first), String::new()),
        move |(state, auth, pending, last)| async move {
            let mut pending = pending;
            let mut last = last;
            loop {
                let snapshot = match pending.take() {
                    Some(s) => s,
                    None => {
                        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                        match wall(&state, &auth, c, lang).await {
                            Ok(s) => s,
                            Err(e) => {
                                // The browser reconnects; the failure is logged rather than ending the stream silently.
                                tracing::warn!(error = %e, "duty wall refresh failed; the stream ends");
                                return None;
                            }
                        }
                    }
                };
                // Minutes left change every minute; what matters is which requests are on the wall and their status.
                let key: String = ["emergencies", "deadlines", "on_duty"]
                    .iter()
                    .map(|k| {
                        snapshot[*k]
                            .as_array()
                            .map(|a| {
                                a.iter().map(|x| format!("{}{}{}", x["id"], x["status"], x["name"])).collect::<String>()
                            })
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("|");
                if key != last {
                    last = key;
                    let event = Event::default().event("wall").data(snapshot.to_string());
                    return Some((Ok(event), (state, auth, None, last)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

//! Deliberation pages: topics to support, discuss and vote on; staff hold the meeting, open and count the vote,
//! publish the result and record progress residents can follow.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::api::topics::{BallotBody, TopicAction, TopicBody, act, comment, propose, support, vote};
use crate::auth::Auth;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use wujia_app::registry::household_at_address;
use wujia_core::accounts::{Action, Scope};

use super::when;

/// All deliberation page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/topics", get(list_page).post(propose_submit))
        .route("/topics/{id}", get(topic_page))
        .route("/topics/{id}/support", post(support_submit))
        .route("/topics/{id}/comment", post(comment_submit))
        .route("/topics/{id}/ballot", post(ballot_submit))
        .route("/topics/{id}/action", post(action_submit))
}

#[derive(Template)]
#[template(path = "topics.html")]
struct ListPage {
    l: Layout,
    topics: Vec<(i64, String, String, i64, i64)>,
    threshold: i64,
    can_propose: bool,
    error: Option<String>,
}

async fn list_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
) -> Result<ListPage, ApiError> {
    let c = auth.community(None)?;
    let lang = ctx.lang;
    Ok(ListPage {
        l: ctx.layout(lang.t("topic.title"), Some(auth)),
        topics: state
            .store
            .topics(c)
            .await?
            .into_iter()
            .map(|t| (t.id, t.title, lang.t(&format!("topic.status_{}", t.status)).to_string(), t.supports, t.ballots))
            .collect(),
        threshold: state.store.topic_threshold(c).await?,
        can_propose: auth.actor.household.is_some() || auth.can(Action::ManageReception, Scope::community(c)),
        error,
    })
}

async fn list_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = list_view(&state, &ctx, &auth, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn propose_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if let Err(e) = auth.check_csrf(&get("csrf")) {
        return error_page(&ctx, Some(&auth), e);
    }
    match propose(&state, &auth, &TopicBody { title: get("title"), body: get("body"), community_id: None }).await {
        Ok(t) => Redirect::to(&format!("/topics/{}", t.id)).into_response(),
        Err(e) => {
            let page = list_view(&state, &ctx, &auth, Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

#[derive(Template)]
#[template(path = "topic.html")]
struct TopicPage {
    l: Layout,
    id: i64,
    version: i64,
    title: String,
    body: String,
    status_code: String,
    status: String,
    supports: i64,
    threshold: i64,
    meeting: Option<(String, String)>,
    options: Vec<String>,
    closes: String,
    quorum: i64,
    ballots: i64,
    voted: bool,
    result: Vec<(String, i64)>,
    winner: String,
    objection_until: String,
    notes: Vec<(String, String, String, String)>,
    can_manage: bool,
    is_resident: bool,
    error: Option<String>,
}

async fn topic_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    error: Option<String>,
) -> Result<TopicPage, ApiError> {
    let t = state.store.topic(id).await?;
    if !auth.actor.communities.contains(&t.community_id) {
        return Err(ApiError::NotFound);
    }
    let v = crate::api::topics::topic_json(state, auth, &t).await?;
    let lang = ctx.lang;
    let result: Vec<(String, i64)> = v["result"]["counts"]
        .as_array()
        .map(|a| {
            a.iter().map(|c| (c[0].as_str().unwrap_or_default().to_string(), c[1].as_i64().unwrap_or(0))).collect()
        })
        .unwrap_or_default();
    Ok(TopicPage {
        l: ctx.layout(&t.title, Some(auth)),
        id,
        version: t.version,
        title: t.title.clone(),
        body: t.body.clone(),
        status_code: t.status.clone(),
        status: lang.t(&format!("topic.status_{}", t.status)).to_string(),
        supports: t.supports,
        threshold: v["threshold"].as_i64().unwrap_or(0),
        meeting: t.meeting_at.map(|m| (when(m), t.minutes.clone().unwrap_or_default())),
        options: t.options(),
        closes: t.vote_closes_at.map(when).unwrap_or_default(),
        quorum: t.quorum.unwrap_or(0),
        ballots: t.ballots,
        voted: v["my_household_voted"].as_bool().unwrap_or(false),
        result,
        winner: v["result"]["winner"].as_str().unwrap_or_default().to_string(),
        objection_until: t.objection_until.map(when).unwrap_or_default(),
        notes: v["notes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        let at = n["at"]
                            .as_str()
                            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
                            .map(when)
                            .unwrap_or_default();
                        (
                            lang.t(&format!("topic.note_{}", n["kind"].as_str().unwrap_or("comment"))).to_string(),
                            n["author"].as_str().unwrap_or_default().to_string(),
                            n["text"].as_str().unwrap_or_default().to_string(),
                            at,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        can_manage: auth.can(Action::ManageReception, Scope::community(t.community_id)),
        is_resident: auth.actor.household.is_some(),
        error,
    })
}

async fn topic_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = topic_view(&state, &ctx, &auth, id, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn back_or_error(state: &AppState, ctx: &PageContext, auth: &Auth, id: i64, r: Result<(), ApiError>) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/topics/{id}")).into_response(),
        Err(e) => {
            let page = topic_view(state, ctx, auth, id, Some(e.detail())).await;
            super::page_with_error(ctx, auth, e, page)
        }
    }
}

async fn support_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    let r = support(&state, &auth, id).await.map(|_| ());
    back_or_error(&state, &ctx, &auth, id, r).await
}

async fn comment_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    let r = comment(&state, &auth, id, f.get("text").map_or("", String::as_str)).await;
    back_or_error(&state, &ctx, &auth, id, r).await
}

async fn ballot_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    // A paper ballot names its household by address, typed by staff; only they may look one up, by address only.
    let r = async {
        let household_id = match f.get("address").map(|a| a.trim()).filter(|a| !a.is_empty()) {
            Some(text) => {
                let c = auth.community(None)?;
                let at = household_at_address(&state.app, &auth, c, Action::ManageReception, text).await?;
                Some(at.household("address")?)
            }
            None => None,
        };
        let b = BallotBody {
            choice: f.get("choice").cloned().unwrap_or_default(),
            household_id,
            resident_id: f.get("resident_id").and_then(|r| r.parse().ok()),
        };
        vote(&state, &auth, id, &b).await
    }
    .await;
    back_or_error(&state, &ctx, &auth, id, r).await
}

async fn action_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Err(e) = auth.check_csrf(&get("csrf").unwrap_or_default()) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = TopicAction {
        action: get("action").unwrap_or_default(),
        at: get("at"),
        minutes: get("minutes"),
        mode: get("mode"),
        options: get("options")
            .map(|o| o.split(['\n', ',', '，']).map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()),
        quorum: get("quorum").and_then(|q| q.parse().ok()),
        secret: get("secret").is_some(),
        closes_at: get("closes_at"),
        objection_days: get("objection_days").and_then(|d| d.parse().ok()),
        text: get("text"),
        version: get("version").and_then(|v| v.parse().ok()).unwrap_or_default(),
    };
    let r = act(&state, &auth, id, &body).await.map(|_| ());
    back_or_error(&state, &ctx, &auth, id, r).await
}

//! Merging from the queue page and answering a batch once for every household (the enrolment day), and the
//! knowledge base of answers staff reuse and residents read before asking.

use super::{Layout, PageContext, error_page, when};
use crate::AppState;
use crate::api::batches::{KnowledgeBody, add_knowledge, answer, merge};
use crate::auth::Auth;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wujia_core::accounts::{Action, Scope};

/// The batch and knowledge routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests/batches", post(merge_submit))
        .route("/requests/batches/{id}", get(batch_page))
        .route("/requests/batches/{id}/answer", post(answer_submit))
        .route("/knowledge", get(knowledge_page).post(knowledge_submit))
}

#[derive(Template)]
#[template(path = "batch.html")]
struct BatchPage {
    l: Layout,
    id: i64,
    title: String,
    answer: Option<String>,
    answered_at: String,
    requests: Vec<(i64, String, String, String)>,
    can_answer: bool,
    error: Option<String>,
}

async fn batch_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    error: Option<String>,
) -> Result<BatchPage, ApiError> {
    let (batch, rows) = state.store.batch(id).await?;
    let scope = Scope::community(batch.community_id);
    if !auth.can(Action::ViewRequests, scope) {
        return Err(ApiError::NotFound);
    }
    let lang = ctx.lang;
    Ok(BatchPage {
        l: ctx.layout(lang.t("batch.title"), Some(auth)),
        id,
        title: batch.title,
        answered_at: batch.answered_at.map(when).unwrap_or_default(),
        answer: batch.answer,
        requests: rows
            .into_iter()
            .map(|r| (r.id, r.number, r.location, lang.t(&format!("status.{}", r.status)).to_string()))
            .collect(),
        can_answer: auth.can(Action::DispatchRequests, scope),
        error,
    })
}

async fn batch_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = batch_view(&state, &ctx, &auth, id, None).await;
    super::page_or_error(&ctx, &auth, result)
}

/// The merge form under the queue: `csrf`, `title` and one `request_ids` per ticked request.
async fn merge_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    if let Err(e) = auth.check_csrf(&field("csrf")) {
        return error_page(&ctx, Some(&auth), e);
    }
    let ids: Vec<i64> = pairs.iter().filter(|(k, _)| k == "request_ids").filter_map(|(_, v)| v.parse().ok()).collect();
    match merge(&state, &auth, None, &field("title"), &ids).await {
        Ok((id, _)) => Redirect::to(&format!("/requests/batches/{id}")).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct AnswerForm {
    csrf: String,
    answer: String,
    publish: Option<String>,
}

async fn answer_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    match answer(&state, &auth, id, &f.answer, f.publish.is_some()).await {
        Ok(_) => Redirect::to(&format!("/requests/batches/{id}")).into_response(),
        Err(e) => {
            let page = batch_view(&state, &ctx, &auth, id, Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

#[derive(Template)]
#[template(path = "knowledge.html")]
struct KnowledgePage {
    l: Layout,
    entries: Vec<(String, String, String)>,
    can_add: bool,
    error: Option<String>,
}

async fn knowledge_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
) -> Result<KnowledgePage, ApiError> {
    let c = auth.community(None)?;
    Ok(KnowledgePage {
        l: ctx.layout(ctx.lang.t("knowledge.title"), Some(auth)),
        entries: state
            .store
            .knowledge(c, None, None)
            .await?
            .into_iter()
            .map(|k| (k.title, k.answer, when(k.created_at)))
            .collect(),
        can_add: auth.can(Action::DispatchRequests, Scope::community(c)),
        error,
    })
}

async fn knowledge_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = knowledge_view(&state, &ctx, &auth, None).await;
    super::page_or_error(&ctx, &auth, result)
}

#[derive(Deserialize)]
struct KnowledgeForm {
    csrf: String,
    title: String,
    answer: String,
}

async fn knowledge_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<KnowledgeForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = KnowledgeBody { title: f.title, answer: f.answer, category_id: None, community_id: None };
    match add_knowledge(&state, &auth, &body).await {
        Ok(_) => Redirect::to("/knowledge").into_response(),
        Err(e) => {
            let page = knowledge_view(&state, &ctx, &auth, Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

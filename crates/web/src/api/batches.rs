//! Many requests about one matter become one batch with one published answer; every household is still told and
//! counted. Answers go into a knowledge base that staff reuse and residents can read.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, FieldIssue};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::requests::plan;
use wujia_core::accounts::{Action, Scope};
use wujia_core::requests::{Command, Status};

/// `?category=&q=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KnowledgeQuery {
    /// Category code or prefix.
    pub category: Option<String>,
    /// Text to find in questions and answers.
    pub q: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Published answers: staff reuse them, residents read them before asking.
#[utoipa::path(get, path = "/api/v1/knowledge", operation_id = "list_knowledge", tag = "requests", params(KnowledgeQuery),
    responses((status = 200, description = "Answers")), security(("bearer" = [])))]
pub async fn list_knowledge(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<KnowledgeQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    Ok(Json(json!(state.store.knowledge(c, q.category.as_deref().filter(|x| !x.is_empty()), text).await?)))
}

/// A new answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeBody {
    /// The question, as residents ask it.
    pub title: String,
    /// The answer.
    pub answer: String,
    /// The category it answers.
    pub category_id: Option<i64>,
    /// The community.
    pub community_id: Option<i64>,
}

fn check_text(issues: &mut Vec<FieldIssue>, field: &str, value: &str, max: usize) {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        issues.push(FieldIssue {
            field: field.into(),
            message: format!("应为 1–{max} 个字符 / 1–{max} characters"),
            row: None,
        });
    }
}

/// Adds an answer to the knowledge base (staff).
#[utoipa::path(post, path = "/api/v1/knowledge", operation_id = "create_knowledge", tag = "requests", request_body = KnowledgeBody,
    responses((status = 201, description = "Created")), security(("bearer" = [])))]
pub async fn create_knowledge(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<KnowledgeBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let k = add_knowledge(&state, &auth, &b).await?;
    Ok((StatusCode::CREATED, Json(json!(k))))
}

/// Adds an answer to the knowledge base; shared by the API and the knowledge page.
pub(crate) async fn add_knowledge(
    state: &AppState,
    auth: &Auth,
    b: &KnowledgeBody,
) -> Result<wujia_store::Knowledge, ApiError> {
    let c = auth.community(b.community_id)?;
    auth.require(Action::DispatchRequests, Scope::community(c))?;
    let mut issues = Vec::new();
    check_text(&mut issues, "title", &b.title, 200);
    check_text(&mut issues, "answer", &b.answer, 5000);
    if let Some(id) = b.category_id
        && state.store.category(id).await.is_err()
    {
        issues.push(FieldIssue {
            field: "category_id".into(),
            message: "未知类别 / unknown category".into(),
            row: None,
        });
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    Ok(state
        .store
        .create_knowledge(
            c,
            b.category_id,
            b.title.trim(),
            b.answer.trim(),
            auth.change(state, "knowledge.create", Some(c)),
        )
        .await?)
}

/// A merge.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchBody {
    /// The matter, e.g. 适龄儿童入学信息采集:地址和社区选项怎么填.
    pub title: String,
    /// The open requests to merge.
    pub request_ids: Vec<i64>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Merges open requests about one matter (staff); all or none.
#[utoipa::path(post, path = "/api/v1/request_batches", operation_id = "create_request_batch", tag = "requests", request_body = BatchBody,
    responses((status = 201, description = "Merged"), (status = 422, description = "A request cannot be merged")), security(("bearer" = [])))]
pub async fn create_request_batch(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<BatchBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (id, n) = merge(&state, &auth, b.community_id, &b.title, &b.request_ids).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "requests": n}))))
}

/// Merges requests into a batch; returns its id and how many were merged. Shared by the API and the queue page.
pub(crate) async fn merge(
    state: &AppState,
    auth: &Auth,
    community: Option<i64>,
    title: &str,
    request_ids: &[i64],
) -> Result<(i64, usize), ApiError> {
    let c = auth.community(community)?;
    auth.require(Action::DispatchRequests, Scope::community(c))?;
    let mut issues = Vec::new();
    check_text(&mut issues, "title", title, 200);
    let mut ids = request_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < 2 || ids.len() > 1000 {
        issues.push(FieldIssue {
            field: "request_ids".into(),
            message: "至少合并 2 件,最多 1000 件 / merge 2 to 1000 requests".into(),
            row: None,
        });
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let id =
        state.store.create_batch(c, title.trim(), &ids, auth.change(state, "request_batch.create", Some(c))).await?;
    Ok((id, ids.len()))
}

/// A batch with its requests.
#[utoipa::path(get, path = "/api/v1/request_batches/{id}", operation_id = "get_request_batch", tag = "requests",
    params(("id" = i64, Path, description = "Batch id")), responses((status = 200, description = "The batch")), security(("bearer" = [])))]
pub async fn get_request_batch(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let (batch, rows) = state.store.batch(id).await?;
    if !auth.can(Action::ViewRequests, Scope::community(batch.community_id)) {
        return Err(ApiError::NotFound);
    }
    let requests = wujia_app::requests::listed(&auth, rows)?;
    Ok(Json(json!({"batch": batch, "requests": requests})))
}

/// The one answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AnswerBody {
    /// The answer every household receives.
    pub answer: String,
    /// Also publish it in the knowledge base (default true).
    pub publish: Option<bool>,
}

/// Publishes one answer: every request of the batch is answered and resolved by the caller, and every household is
/// told; each request stays counted on its own and is followed up as usual.
#[utoipa::path(post, path = "/api/v1/request_batches/{id}/answer", operation_id = "update_request_batch", tag = "requests",
    params(("id" = i64, Path, description = "Batch id")), request_body = AnswerBody,
    responses((status = 200, description = "{\"resolved\", \"knowledge_id\"}")), security(("bearer" = [])))]
pub async fn update_request_batch(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> Result<Json<Value>, ApiError> {
    let (resolved, knowledge_id) = answer(&state, &auth, id, &b.answer, b.publish.unwrap_or(true)).await?;
    Ok(Json(json!({"resolved": resolved, "knowledge_id": knowledge_id})))
}

/// Answers a batch: every request resolved with the one answer, optionally published in the knowledge base.
/// Returns how many were resolved and the knowledge entry. Shared by the API and the batch page.
pub(crate) async fn answer(
    state: &AppState,
    auth: &Auth,
    id: i64,
    text: &str,
    publish: bool,
) -> Result<(usize, Option<i64>), ApiError> {
    let (batch, rows) = state.store.batch(id).await?;
    if !auth.can(Action::ViewRequests, Scope::community(batch.community_id)) {
        return Err(ApiError::NotFound);
    }
    auth.require(Action::DispatchRequests, Scope::community(batch.community_id))?;
    if batch.answered_at.is_some() {
        return Err(ApiError::Conflict("这批诉求已答复 / this batch is answered already".into()));
    }
    let mut issues = Vec::new();
    check_text(&mut issues, "answer", text, 5000);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let answer = text.trim().to_string();
    let me = auth.user.id;
    let category = rows.first().map(|r| r.category_id);
    let mut updates = Vec::new();
    let mut resolved = 0;
    for r in rows {
        // Each request walks the ordinary workflow, so its timeline, deadlines and notices stay true; the steps are
        // decided here and written together below.
        let mut row = r;
        loop {
            let status = Status::from_code(&row.status).ok_or_else(|| ApiError::Internal("unknown status".into()))?;
            let step = match status {
                Status::Received => Command::Respond { note: answer.clone() },
                Status::Responded => Command::Dispatch { lead: me, co_handlers: vec![] },
                Status::Dispatched | Status::InProgress if row.lead_id != Some(me) => {
                    Command::Reassign { lead: me, co_handlers: vec![] }
                }
                Status::Dispatched | Status::InProgress => Command::Resolve { resolution: answer.clone() },
                _ => break,
            };
            let resolving = matches!(step, Command::Resolve { .. });
            let update = plan(&state.app, auth, row, &step).await?;
            // The next step starts from this one's result, as it will be once written.
            row = update.after.clone();
            row.version += 1;
            updates.push(update);
            if resolving {
                resolved += 1;
                break;
            }
        }
    }
    let publish = publish.then(|| (category, auth.change(state, "knowledge.create", Some(batch.community_id))));
    let change = auth.change(state, "request_batch.answer", Some(batch.community_id));
    let knowledge_id = state.store.answer_batch(id, &answer, publish, &updates, change).await?;
    Ok((resolved, knowledge_id))
}

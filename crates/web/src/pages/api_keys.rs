//! The admin page of API keys: the list (scope, owner, issued, expires, last used), a form that issues a key and
//! shows its token once, and a button that revokes a key; and each community's Open311 public reads, on or off.
//! Calls the same use cases as `/api/v1/api_tokens` and `/api/v1/open311/public_reads`.

use super::{Layout, PageContext, error_page, render, when};
use crate::AppState;
use crate::api::api_keys::{ApiKeyOut, NewApiKeyBody, issue_api_key, revoke_api_key};
use crate::auth::Auth;
use crate::error::{ApiError, FieldIssue};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wujia_app::api_keys;
use wujia_app::requests::public::{self, PublicReadsSetting};
use wujia_core::accounts::{KeyScope, Lifetime};

struct KeyRow {
    id: i64,
    name: String,
    owner: String,
    scope: String,
    created: String,
    expires: String,
    last_used: String,
    status: String,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    l: Layout,
    keys: Vec<KeyRow>,
    scopes: Vec<(String, String)>,
    default_days: u16,
    max_days: u16,
    issued: Option<String>,
    notices: Vec<String>,
    errors: Vec<FieldIssue>,
    public_reads: Vec<PublicReadsSetting>,
}

async fn page(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    issued: Option<String>,
    notices: Vec<String>,
    errors: Vec<FieldIssue>,
) -> Result<ApiKeysPage, ApiError> {
    let now = state.clock.now();
    let t = |key: &str| ctx.lang.t(key).to_string();
    let keys = api_keys::list(&state.app, auth)
        .await?
        .iter()
        .map(|k| {
            let out = ApiKeyOut::new(k, now);
            KeyRow {
                id: k.id,
                name: k.name.clone(),
                owner: k.owner.clone(),
                scope: t(&format!("apikeys.scope_{}", k.scope.code())),
                created: when(k.created_at),
                expires: k.expires_at.map_or_else(|| t("apikeys.never"), when),
                last_used: k.last_used_at.map_or_else(|| t("apikeys.never_used"), when),
                status: t(&format!("apikeys.{}", out.status)),
                revocable: k.revoked_at.is_none(),
            }
        })
        .collect();
    let scopes =
        KeyScope::ALL.iter().map(|s| (s.code().to_string(), t(&format!("apikeys.scope_{}", s.code())))).collect();
    Ok(ApiKeysPage {
        l: ctx.layout(ctx.lang.t("apikeys.title"), Some(auth)),
        keys,
        scopes,
        default_days: Lifetime::DEFAULT_DAYS,
        max_days: Lifetime::MAX_DAYS,
        issued,
        notices,
        errors,
        public_reads: public::settings(&state.app, auth).await?,
    })
}

async fn respond(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    issued: Option<String>,
    errors: Vec<FieldIssue>,
) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    match page(state, ctx, auth, issued, vec![], errors).await {
        Ok(p) => (status, render(p)).into_response(),
        Err(e) => error_page(ctx, Some(auth), e),
    }
}

async fn list_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    respond(&state, &ctx, &auth, None, vec![]).await
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    never: String,
}

async fn create(State(state): State<AppState>, ctx: PageContext, auth: Auth, Form(f): Form<KeyForm>) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let never = f.never == "1";
    let expires_in_days = match f.days.trim() {
        _ if never => None,
        "" => None,
        d => match d.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let issue = FieldIssue::new("expires_in_days", ctx.lang.t("apikeys.days_invalid"));
                return respond(&state, &ctx, &auth, None, vec![issue]).await;
            }
        },
    };
    let body =
        NewApiKeyBody { name: f.name, user_id: None, scope: Some(f.scope), expires_in_days, never_expires: never };
    match issue_api_key(&state, &auth, &body, ctx.lang).await {
        Ok(issued) => respond(&state, &ctx, &auth, Some(issued.token), vec![]).await,
        Err(e @ ApiError::Validation(_)) => respond(&state, &ctx, &auth, None, e.issues()).await,
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn revoke(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        auth.check_csrf(&f.csrf)?;
        revoke_api_key(&state, &auth, id).await
    }
    .await;
    match result {
        Ok(_) => match page(&state, &ctx, &auth, None, vec![ctx.lang.t("apikeys.revoked_notice").to_string()], vec![])
            .await
        {
            Ok(p) => render(p),
            Err(e) => error_page(&ctx, Some(&auth), e),
        },
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct PublicReadsForm {
    #[serde(default)]
    csrf: String,
    community_id: i64,
    #[serde(default)]
    public_reads: String,
}

async fn set_public_reads(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<PublicReadsForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let open = match f.public_reads.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            let issue = FieldIssue::new("public_reads", ctx.lang.t("open311.public_reads_invalid"));
            return respond(&state, &ctx, &auth, None, vec![issue]).await;
        }
    };
    if let Err(e) = public::set(&state.app, &auth, f.community_id, open).await {
        return error_page(&ctx, Some(&auth), e.into());
    }
    let saved = vec![ctx.lang.t("open311.public_reads_saved").to_string()];
    match page(&state, &ctx, &auth, None, saved, vec![]).await {
        Ok(p) => render(p),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

/// Routes of the API-key page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/api-keys", get(list_page).post(create))
        .route("/admin/api-keys/open311", post(set_public_reads))
        .route("/admin/api-keys/{id}/revoke", post(revoke))
}

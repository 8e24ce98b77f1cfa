//! API keys for scripts and other systems: issue (the token is shown once), list (never the token) and revoke.
//! Admins only; the key acts as its owning account, narrowed to its scope.

use crate::AppState;
use crate::auth::{API_TOKEN_PREFIX, Auth, new_token, token_hash};
use crate::error::{ApiError, ApiJson, ApiPath, FieldIssue};
use crate::i18n::Lang;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use wujia_app::api_keys::{self, IssueError, NewApiKey};
use wujia_core::accounts::api_keys::check_alive;
use wujia_core::accounts::{KeyRefusal, KeyScope, Lifetime};
use wujia_store::ApiToken;

/// A new API key.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewApiKeyBody {
    /// What the key is for (1–60 characters).
    pub name: String,
    /// The account it acts as; defaults to the caller.
    pub user_id: Option<i64>,
    /// `open311` (the default: the Open311 endpoints only), `read` (GET only, no full phone or ID numbers, no
    /// exports) or `admin` (everything the account may do).
    #[schema(example = "open311")]
    pub scope: Option<String>,
    /// Days the key lives, 1–3650; 90 when absent.
    pub expires_in_days: Option<i64>,
    /// A key that never expires, asked for explicitly; `expires_in_days` must then be absent.
    #[serde(default)]
    pub never_expires: bool,
}

impl NewApiKeyBody {
    /// The key to issue, or every field at fault with a message in `lang`.
    pub(crate) fn parse(&self, lang: Lang) -> Result<NewApiKey, ApiError> {
        let mut issues = Vec::new();
        let mut issue = |field: &str, key: &str| issues.push(FieldIssue::new(field, lang.t(key)));
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            issue("name", "apikeys.name_invalid");
        }
        let scope = match self.scope.as_deref().map(str::trim) {
            None | Some("") => Some(KeyScope::Open311),
            Some(code) => KeyScope::from_code(code).or_else(|| {
                issue("scope", "apikeys.scope_invalid");
                None
            }),
        };
        let lifetime = match (self.expires_in_days, self.never_expires) {
            (None, false) => Some(Lifetime::DEFAULT),
            (None, true) => Some(Lifetime::Never),
            (Some(days), false) => Lifetime::days(days).ok().or_else(|| {
                issue("expires_in_days", "apikeys.days_invalid");
                None
            }),
            (Some(_), true) => {
                issue("expires_in_days", "apikeys.days_invalid");
                None
            }
        };
        match (scope, lifetime) {
            (Some(scope), Some(lifetime)) if issues.is_empty() => {
                Ok(NewApiKey { name: name.to_string(), owner: self.user_id, scope, lifetime })
            }
            _ => Err(ApiError::Validation(issues)),
        }
    }
}

/// An API key as listed: never the token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKeyOut {
    /// Id.
    pub id: i64,
    /// What the key is for.
    pub name: String,
    /// The account it acts as.
    pub user_id: i64,
    /// That account's display name.
    pub owner: String,
    /// `open311`, `read` or `admin`.
    #[schema(example = "open311")]
    pub scope: String,
    /// `active`, `expired` or `revoked`, now.
    #[schema(example = "active")]
    pub status: String,
    /// When issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working; absent for a key issued to never expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// When last used, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyOut {
    /// The key as seen at `now`.
    pub fn new(k: &ApiToken, now: DateTime<Utc>) -> Self {
        let status = match check_alive(k.revoked_at, k.expires_at, now) {
            Ok(()) => "active",
            Err(KeyRefusal::Revoked) => "revoked",
            Err(_) => "expired",
        };
        Self {
            id: k.id,
            name: k.name.clone(),
            user_id: k.user_id,
            owner: k.owner.clone(),
            scope: k.scope.code().to_string(),
            status: status.to_string(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key just issued: the token, shown this once, and the key as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedApiKey {
    /// The token (`wjt_…`). Only its hash is kept: it cannot be shown again.
    pub token: String,
    /// The key.
    #[serde(flatten)]
    pub key: ApiKeyOut,
}

/// Issues a key for `body` and returns its token, shared by the API and the admin page.
pub(crate) async fn issue_api_key(
    state: &AppState,
    auth: &Auth,
    body: &NewApiKeyBody,
    lang: Lang,
) -> Result<IssuedApiKey, ApiError> {
    auth.require(wujia_core::accounts::Action::ManageAccounts, wujia_core::accounts::Scope::DEPLOYMENT)?;
    let key = body.parse(lang)?;
    let token = format!("{API_TOKEN_PREFIX}{}", new_token(24));
    let record = match api_keys::issue(&state.app, auth, &key, &token_hash(&token)).await {
        Ok(r) => r,
        Err(IssueError::UnknownOwner(_)) => return Err(ApiError::field("user_id", lang.t("apikeys.owner_invalid"))),
        Err(IssueError::App(e)) => return Err(e.into()),
    };
    Ok(IssuedApiKey { token, key: ApiKeyOut::new(&record, state.clock.now()) })
}

/// Revokes a key and forgets this node's cached look-ups, so it is refused from the next request on.
pub(crate) async fn revoke_api_key(state: &AppState, auth: &Auth, id: i64) -> Result<ApiKeyOut, ApiError> {
    let record = api_keys::revoke(&state.app, auth, id).await?;
    state.forget_sessions();
    Ok(ApiKeyOut::new(&record, state.clock.now()))
}

/// Every API key, newest first, with its scope, owner, expiry and last use; never a token (admins only).
#[utoipa::path(get, path = "/api/v1/api_tokens", operation_id = "list_api_tokens", tag = "accounts",
    responses((status = 200, description = "API keys", body = [ApiKeyOut]), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_api_tokens(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<ApiKeyOut>>, ApiError> {
    let now = state.clock.now();
    Ok(Json(api_keys::list(&state.app, &auth).await?.iter().map(|k| ApiKeyOut::new(k, now)).collect()))
}

/// Issues an API key (admins only): `open311` scope and 90 days unless asked otherwise. The token is shown once.
#[utoipa::path(post, path = "/api/v1/api_tokens", operation_id = "create_api_token", tag = "accounts",
    request_body = NewApiKeyBody,
    responses((status = 201, description = "Issued; the token is in this answer only", body = IssuedApiKey),
              (status = 401), (status = 403), (status = 422, description = "Invalid name, scope, lifetime or account")),
    security(("bearer" = [])))]
pub async fn create_api_token(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewApiKeyBody>,
) -> Result<(StatusCode, Json<IssuedApiKey>), ApiError> {
    let issued = issue_api_key(&state, &auth, &body, Lang::from_headers(&headers)).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Revokes an API key (admins only): it is refused from now on, saying so. Revoking it again changes nothing.
#[utoipa::path(delete, path = "/api/v1/api_tokens/{id}", operation_id = "revoke_api_token", tag = "accounts",
    params(("id" = i64, Path, description = "API key id")),
    responses((status = 200, description = "Revoked", body = ApiKeyOut), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn revoke_api_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiKeyOut>, ApiError> {
    Ok(Json(revoke_api_key(&state, &auth, id).await?))
}

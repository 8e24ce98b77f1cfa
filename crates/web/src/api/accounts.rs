//! Accounts managed by admins.

use crate::AppState;
use crate::auth::{Auth, check_new_password, hash_password_blocking, new_token};
use crate::error::{ApiError, ApiJson, ApiPath, FieldIssue};
use crate::i18n::Lang;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_store::{NewUser, User};

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserOut {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Organisation.
    pub organization: Option<String>,
    /// Household, for residents.
    pub household_id: Option<i64>,
    /// Can log in.
    pub active: bool,
    /// Must change the password at next login.
    pub must_change_password: bool,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.code().to_string(),
            organization: u.organization.clone(),
            household_id: u.household_id,
            active: u.active,
            must_change_password: u.must_change_password,
        }
    }
}

/// Every account (admins only).
#[utoipa::path(get, path = "/api/v1/users", operation_id = "list_users", tag = "accounts",
    responses((status = 200, description = "Accounts", body = [UserOut])), security(("bearer" = [])))]
pub async fn list_users(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<UserOut>>, ApiError> {
    auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    Ok(Json(state.store.users().await?.iter().map(UserOut::from).collect()))
}

/// A new account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserBody {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role code: admin, staff, social_worker, patrol, volunteer, property, developer, street, resident.
    pub role: String,
    /// Initial password; when absent one is generated, returned once, and must be changed at first login.
    pub password: Option<String>,
    /// Organisation.
    pub organization: Option<String>,
    /// Communities the account works in.
    #[serde(default)]
    pub communities: Vec<i64>,
    /// Household, for residents and volunteers.
    pub household_id: Option<i64>,
}

/// Creates an account (admins only).
#[utoipa::path(post, path = "/api/v1/users", operation_id = "create_user", tag = "accounts", request_body = NewUserBody,
    responses((status = 201, description = "Created; includes `initial_password` when generated"),
              (status = 409, description = "Username taken"), (status = 422, description = "Invalid fields")),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (user, generated) = add_user(&state, &auth, &body, Lang::from_headers(&headers)).await?;
    Ok((StatusCode::CREATED, Json(json!({"user": UserOut::from(&user), "initial_password": generated}))))
}

/// Checks and creates an account; returns the generated password, if one was generated.
pub(crate) async fn add_user(
    state: &AppState,
    auth: &Auth,
    body: &NewUserBody,
    lang: Lang,
) -> Result<(User, Option<String>), ApiError> {
    auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    let mut issues = Vec::new();
    let mut issue = |field: &str, message: &str| {
        issues.push(FieldIssue { field: field.into(), message: message.into(), row: None })
    };
    let username = body.username.trim();
    if let Err(m) = super::registry::check_username(username) {
        issue("username", m);
    }
    let display = body.display_name.trim();
    if display.is_empty() || display.chars().count() > 40 {
        issue("display_name", "姓名为 1–40 个字符 / 1–40 characters");
    }
    let role = Role::from_code(body.role.trim());
    if role.is_none() {
        issue("role", "未知角色 / unknown role");
    }
    if let Some(p) = &body.password
        && let Err(m) = check_new_password(p, &[username, display], lang)
    {
        issue("password", &m);
    }
    let known = state.store.communities().await?;
    if body.communities.iter().any(|c| !known.iter().any(|k| k.id == *c)) {
        issue("communities", "未知社区 / unknown community");
    }
    if matches!(role, Some(Role::Resident)) && body.household_id.is_none() {
        issue("household_id", "居民账号须关联住户 / a resident account needs a household");
    }
    if let Some(h) = body.household_id
        && state.store.household(h, state.clock.today()).await.is_err()
    {
        issue("household_id", "住户不存在 / unknown household");
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let generated = body.password.is_none().then(|| format!("Wj{}", new_token(6)));
    let password = body.password.clone().or_else(|| generated.clone()).unwrap_or_default();
    let new = NewUser {
        username: username.into(),
        display_name: display.into(),
        password_hash: hash_password_blocking(password).await?,
        role: role.unwrap_or(Role::Volunteer),
        organization: body.organization.clone().filter(|o| !o.trim().is_empty()),
        household_id: body.household_id,
        communities: body.communities.clone(),
        must_change_password: generated.is_some(),
    };
    let user = state.store.create_user(&new, auth.change(state, "user.create", None)).await?;
    Ok((user, generated))
}

/// Changes to an account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    /// Enable or disable the account.
    pub active: Option<bool>,
    /// Set a new password; the user must change it at next login.
    pub password: Option<String>,
}

/// Enables, disables or resets the password of an account (admins only).
#[utoipa::path(patch, path = "/api/v1/users/{id}", operation_id = "update_user", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")), request_body = UserPatch,
    responses((status = 200, description = "Changed", body = UserOut)), security(("bearer" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UserPatch>,
) -> Result<Json<UserOut>, ApiError> {
    auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    let user = state.store.user(id).await?;
    if let Some(p) = &body.password {
        check_new_password(p, &[&user.username, &user.display_name], Lang::from_headers(&headers))
            .map_err(|m| ApiError::field("password", m))?;
        let hash = hash_password_blocking(p.clone()).await?;
        state.store.set_password(id, &hash, true, None, auth.change(&state, "user.reset_password", None)).await?;
        state.forget_sessions();
    }
    if let Some(active) = body.active {
        if id == auth.user.id && !active {
            return Err(ApiError::Conflict("不能停用自己的账号 / you cannot disable your own account".into()));
        }
        state
            .store
            .set_active(id, active, auth.change(&state, if active { "user.enable" } else { "user.disable" }, None))
            .await?;
        state.forget_sessions();
    }
    Ok(Json(UserOut::from(&state.store.user(id).await?)))
}

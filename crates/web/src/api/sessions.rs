//! Logging in and out, and the caller's own account.

use super::accounts::UserOut;
use crate::AppState;
use crate::auth::{Auth, check_new_password, hash_password_blocking, login};
use crate::client::ClientAddr;
use crate::error::{ApiError, ApiJson};
use crate::i18n::Lang;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// Credentials.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    /// Login name (the demo admin's is `admin`).
    pub username: String,
    /// Password.
    pub password: String,
}

/// Opens a session; the returned token is used as `Authorization: Bearer <token>`.
#[utoipa::path(post, path = "/api/v1/sessions", operation_id = "create_session", tag = "sessions",
    request_body = LoginBody,
    responses((status = 201, description = "Session opened: token, csrf_token, user"),
              (status = 401, description = "Wrong username or password"), (status = 429, description = "Too many failed logins from this address or on this account: wait `Retry-After` seconds")))]
pub async fn create_session(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (user, token, csrf) = login(&state, &body.username, &body.password, client).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": token, "csrf_token": csrf, "expires_in": state.config.session_hours * 3600,
            "user": UserOut::from(&user),
        })),
    ))
}

/// Ends the current session.
#[utoipa::path(delete, path = "/api/v1/sessions", operation_id = "delete_session", tag = "sessions",
    responses((status = 204, description = "Logged out")), security(("bearer" = [])))]
pub async fn delete_session(State(state): State<AppState>, auth: Auth) -> Result<StatusCode, ApiError> {
    if let Some(s) = &auth.session {
        state.store.delete_session(s).await?;
        state.forget_sessions();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account and assignments.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "get_me", tag = "sessions",
    responses((status = 200, description = "The account", body = UserOut)), security(("bearer" = [])))]
pub async fn get_me(auth: Auth) -> Json<Value> {
    Json(json!({
        "user": UserOut::from(&auth.user),
        "communities": auth.actor.communities,
        "buildings": auth.actor.buildings,
        "household_id": auth.actor.household,
    }))
}

/// A password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordBody {
    /// The current password.
    pub current_password: String,
    /// The new password: at least 10 characters, letters and digits, not common or easy to guess, and not
    /// built from the account's own username or name.
    pub new_password: String,
}

/// Changes the caller's password; other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", operation_id = "change_password", tag = "sessions",
    request_body = PasswordBody, responses((status = 204, description = "Changed"), (status = 422, description = "Weak or wrong password")),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let lang = Lang::from_headers(&headers);
    change_own_password(&state, &auth, &body.current_password, &body.new_password, lang).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the current password and the new one's strength, then stores the new hash.
pub async fn change_own_password(
    state: &AppState,
    auth: &Auth,
    current: &str,
    new: &str,
    lang: Lang,
) -> Result<(), ApiError> {
    let ok = {
        let (c, h) = (current.to_string(), auth.user.password_hash.clone());
        tokio::task::spawn_blocking(move || wujia_core::accounts::verify_password(&c, &h))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    if !ok {
        return Err(ApiError::field("current_password", "当前密码不正确 / the current password is wrong"));
    }
    check_new_password(new, &[&auth.user.username, &auth.user.display_name], lang)
        .map_err(|m| ApiError::field("new_password", m))?;
    let hash = hash_password_blocking(new.to_string()).await?;
    let change = auth.change(state, "user.change_password", None);
    state.store.set_password(auth.user.id, &hash, false, auth.session.as_deref(), change).await?;
    state.forget_sessions();
    Ok(())
}

//! Each community's Open311 setting: whether anyone may read its requests' public record without a key. Admins of
//! the community; the same use cases as the page at `/admin/api-keys`.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use wujia_app::requests::public::{self, PublicReadsSetting};

/// A community's Open311 public reads, on or off.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PublicReadsBody {
    /// True (the default of every community): anyone may read the public record of its requests through Open311
    /// without a key. False: only clients with one of the community's keys.
    pub public_reads: bool,
}

/// The Open311 public-read setting of every community the caller administers.
#[utoipa::path(get, path = "/api/v1/open311/public_reads", operation_id = "list_open311_public_reads", tag = "accounts",
    responses((status = 200, description = "One setting per community", body = [PublicReadsSetting]), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_open311_public_reads(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<PublicReadsSetting>>, ApiError> {
    Ok(Json(public::settings(&state.app, &auth).await?))
}

/// Turns a community's Open311 public reads on or off (its admins); the change is in the audit log.
#[utoipa::path(put, path = "/api/v1/open311/public_reads/{community_id}", operation_id = "update_open311_public_reads",
    tag = "accounts",
    params(("community_id" = i64, Path, description = "Community id")),
    request_body = PublicReadsBody,
    responses((status = 200, description = "Saved", body = PublicReadsSetting), (status = 401), (status = 403),
              (status = 404), (status = 422, description = "public_reads is missing or not a boolean")),
    security(("bearer" = [])))]
pub async fn update_open311_public_reads(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(community_id): ApiPath<i64>,
    ApiJson(body): ApiJson<PublicReadsBody>,
) -> Result<Json<PublicReadsSetting>, ApiError> {
    Ok(Json(public::set(&state.app, &auth, community_id, body.public_reads).await?))
}

//! Photos of requests: what the resident saw, and what was done. Checked by content, stripped of metadata, kept
//! by hash, and shown only to those who may see one of the requests they belong to.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiPath};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use wujia_app::requests::may_view;
use wujia_core::media::{ImageType, PhotoError, clean_photo};
use wujia_store::{Photo, RequestRow};

/// Photos per request.
pub(crate) const MAX_PHOTOS: usize = 9;

/// Adds a photo (the image itself as the body: JPEG, PNG or WebP, at most 10 MB). Location and other metadata are
/// removed before it is kept. The lead handler's photos show what was done.
#[utoipa::path(post, path = "/api/v1/requests/{id}/photos", operation_id = "create_request_photo", tag = "requests",
    params(("id" = i64, Path, description = "Request id")), request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, description = "Kept"), (status = 415, description = "Not an image"), (status = 413, description = "Too large")),
    security(("bearer" = [])))]
pub async fn create_request_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body.map_err(|_| ApiError::PayloadTooLarge)?;
    let r = state.store.request(id).await?;
    if !may_view(&auth, &r)? {
        return Err(ApiError::NotFound);
    }
    if state.store.photos(id).await?.len() >= MAX_PHOTOS {
        return Err(ApiError::field("photo", "每件诉求最多 9 张照片 / at most 9 photos per request"));
    }
    let (kind, clean) = clean(body.to_vec()).await?;
    let photo = attach(&state, &auth, &r, kind, clean).await?;
    let hash = photo.blob.clone();
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": photo.id, "url": format!("/api/v1/photos/{hash}"), "media_type": photo.media_type, "stage": photo.stage}),
        ),
    ))
}

/// Checks a photo and strips its metadata, off the async threads.
pub(crate) async fn clean(bytes: Vec<u8>) -> Result<(ImageType, Vec<u8>), ApiError> {
    tokio::task::spawn_blocking(move || clean_photo(&bytes))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| match e {
            PhotoError::TooLarge => ApiError::PayloadTooLarge,
            other => ApiError::UnsupportedFile(other.to_string()),
        })
}

/// Stores a cleaned photo and records it on a request; the lead handler's photos show what was done.
pub(crate) async fn attach(
    state: &AppState,
    auth: &Auth,
    r: &RequestRow,
    kind: ImageType,
    clean: Vec<u8>,
) -> Result<Photo, ApiError> {
    let size = clean.len() as i64;
    let hash = keep(state, clean).await?;
    let stage = if r.lead_id == Some(auth.user.id) { "resolution" } else { "intake" };
    Ok(state
        .store
        .add_photo(r, &hash, kind.mime(), size, stage, auth.change(state, "request.photo", Some(r.community_id)))
        .await?)
}

/// A request's photos.
#[utoipa::path(get, path = "/api/v1/requests/{id}/photos", operation_id = "list_request_photos", tag = "requests",
    params(("id" = i64, Path, description = "Request id")), responses((status = 200, description = "Photos")), security(("bearer" = [])))]
pub async fn list_request_photos(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = state.store.request(id).await?;
    if !may_view(&auth, &r)? {
        return Err(ApiError::NotFound);
    }
    let photos: Vec<Value> = state
        .store
        .photos(id)
        .await?
        .into_iter()
        .map(|p| json!({"id": p.id, "url": format!("/api/v1/photos/{}", p.blob), "media_type": p.media_type, "stage": p.stage, "created_at": p.created_at}))
        .collect();
    Ok(Json(json!(photos)))
}

/// A photo's bytes, for those who may see one of its requests.
#[utoipa::path(get, path = "/api/v1/photos/{blob}", operation_id = "get_photo", tag = "requests",
    params(("blob" = String, Path, description = "SHA-256 of the photo")), responses((status = 200, description = "The image")),
    security(("bearer" = [])))]
pub async fn get_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(blob): ApiPath<String>,
) -> Result<Response, ApiError> {
    let owners = state.store.photo_owners(&blob).await?;
    let mut media = None;
    for (request, kind) in owners {
        if may_view(&auth, &state.store.request(request).await?)? {
            media = Some(kind);
            break;
        }
    }
    serve(&state, blob, media.ok_or(ApiError::NotFound)?).await
}

/// Keeps a cleaned photo by its hash, off the async threads; returns the hash.
pub(crate) async fn keep(state: &AppState, clean: Vec<u8>) -> Result<String, ApiError> {
    let blobs = state.blobs.clone();
    tokio::task::spawn_blocking(move || blobs.put(&clean))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("storing a photo: {e}")))
}

/// Answers with a kept photo's bytes; the caller has checked who may see it.
pub(crate) async fn serve(state: &AppState, blob: String, media: String) -> Result<Response, ApiError> {
    let blobs = state.blobs.clone();
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&blob))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("reading a photo: {e}")))?
        .ok_or(ApiError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, media), (header::CACHE_CONTROL, "private, max-age=86400".to_string())], bytes)
        .into_response())
}

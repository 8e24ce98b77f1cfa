//! Photos of requests: what the resident saw, and what was done. Decoded and re-encoded by the application layer
//! (`wujia_app::photos`), kept by hash with a preview, and shown only to those who may see one of the requests they
//! belong to. The helpers here serve every kind of photo (requests, patrols, activities) the same way.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiPath, ApiQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::AppError;
use wujia_app::photos::{CleanPhoto, KeptPhoto};
use wujia_app::requests::may_view;
use wujia_core::media::{ImageType, sniff};
use wujia_store::{Photo, RequestRow};

/// Photos per request.
pub(crate) const MAX_PHOTOS: usize = 9;

/// Adds a photo (the image itself as the body: JPEG, PNG or WebP, at most 10 MB, 40 megapixels and 12,000 pixels
/// on a side). It is decoded and kept re-encoded as a JPEG of at most 2048 pixels on its longest side, without
/// location or any other metadata, with a preview of at most 320 pixels (`?size=preview`). The lead handler's
/// photos show what was done.
#[utoipa::path(post, path = "/api/v1/requests/{id}/photos", operation_id = "create_request_photo", tag = "requests",
    params(("id" = i64, Path, description = "Request id")), request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, description = "Kept"), (status = 415, description = "Not a JPEG, PNG or WebP image"),
        (status = 413, description = "Too large"),
        (status = 422, description = "Too many pixels, cut short or damaged (field `photo`)")),
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
    let clean = take_in(body.to_vec()).await?;
    let photo = attach(&state, &auth, &r, clean).await?;
    Ok((StatusCode::CREATED, Json(photo_json(&photo))))
}

fn photo_json(p: &Photo) -> Value {
    let url = format!("/api/v1/photos/{}", p.blob);
    json!({"id": p.id, "preview_url": format!("{url}?size=preview"), "url": url, "media_type": p.media_type,
        "stage": p.stage, "created_at": p.created_at})
}

/// Decodes and re-encodes a photo (off the async threads); a refusal names the field `photo`.
pub(crate) async fn take_in(bytes: Vec<u8>) -> Result<CleanPhoto, ApiError> {
    Ok(wujia_app::photos::take_in(bytes).await.map_err(AppError::from)?)
}

/// Keeps a re-encoded photo and its preview; returns where it is kept.
pub(crate) async fn keep(state: &AppState, photo: CleanPhoto) -> Result<KeptPhoto, ApiError> {
    Ok(wujia_app::photos::keep(&state.blobs, &state.store, photo).await?)
}

/// Keeps a re-encoded photo and records it on a request; the lead handler's photos show what was done.
pub(crate) async fn attach(
    state: &AppState,
    auth: &Auth,
    r: &RequestRow,
    clean: CleanPhoto,
) -> Result<Photo, ApiError> {
    let kept = keep(state, clean).await?;
    let stage = if r.lead_id == Some(auth.user.id) { "resolution" } else { "intake" };
    Ok(state
        .store
        .add_photo(
            r,
            &kept.blob,
            kept.media_type(),
            kept.size,
            stage,
            auth.change(state, "request.photo", Some(r.community_id)),
        )
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
    let photos: Vec<Value> = state.store.photos(id).await?.iter().map(photo_json).collect();
    Ok(Json(json!(photos)))
}

/// `?size=preview` for the small picture shown in lists and timelines.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// `preview`: the small picture (at most 320 pixels on its longest side; a photo kept before previews existed
    /// is answered at its own size); `full` (the default): the photo, at most 2048 pixels on its longest side.
    #[param(inline)]
    pub size: Option<PhotoSize>,
}

/// Which picture of a photo.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PhotoSize {
    /// The photo.
    #[default]
    Full,
    /// Its preview.
    Preview,
}

/// A photo's bytes (JPEG), for those who may see one of its requests.
#[utoipa::path(get, path = "/api/v1/photos/{blob}", operation_id = "get_photo", tag = "requests",
    params(("blob" = String, Path, description = "SHA-256 of the photo"), PhotoQuery),
    responses((status = 200, description = "The image, `inline` with a safe file name", content_type = "image/jpeg")),
    security(("bearer" = [])))]
pub async fn get_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(blob): ApiPath<String>,
    ApiQuery(q): ApiQuery<PhotoQuery>,
) -> Result<Response, ApiError> {
    let mut allowed = false;
    for (request, _) in state.store.photo_owners(&blob).await? {
        if may_view(&auth, &state.store.request(request).await?)? {
            allowed = true;
            break;
        }
    }
    if !allowed {
        return Err(ApiError::NotFound);
    }
    serve(&state, blob, q.size.unwrap_or_default()).await
}

/// Answers with a kept photo (or its preview); the caller has checked who may see it. The type is the one its bytes
/// are (photos kept before re-encoding may be PNG or WebP), never taken from what was uploaded.
pub(crate) async fn serve(state: &AppState, blob: String, size: PhotoSize) -> Result<Response, ApiError> {
    let (blob, name) = match size {
        PhotoSize::Full => (blob.clone(), format!("photo-{}", short(&blob))),
        PhotoSize::Preview => match state.store.preview_of(&blob).await? {
            Some(preview) => (preview, format!("photo-{}-preview", short(&blob))),
            None => (blob.clone(), format!("photo-{}", short(&blob))),
        },
    };
    let blobs = state.blobs.clone();
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&blob))
        .await
        .map_err(|e| ApiError::Internal(format!("reading a photo: {e}")))?
        .map_err(|e| ApiError::Internal(format!("reading a photo: {e}")))?
        .ok_or(ApiError::NotFound)?;
    let (media, disposition) = match sniff(&bytes) {
        Some(kind) => (kind.mime(), format!("inline; filename=\"{name}.{}\"", extension(kind))),
        // Not a picture by its content: never shown in the page, only offered as a download.
        None => ("application/octet-stream", format!("attachment; filename=\"{name}.bin\"")),
    };
    let disposition =
        HeaderValue::from_str(&disposition).map_err(|e| ApiError::Internal(format!("a photo's file name: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400")),
        ],
        bytes,
    )
        .into_response())
}

/// The first characters of a blob's hash (hex, so safe in a header), enough to tell photos apart.
fn short(blob: &str) -> &str {
    blob.get(..12).unwrap_or(blob)
}

fn extension(kind: ImageType) -> &'static str {
    match kind {
        ImageType::Jpeg => "jpg",
        ImageType::Png => "png",
        ImageType::Webp => "webp",
    }
}

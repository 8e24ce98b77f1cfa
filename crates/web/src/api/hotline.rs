//! Orders transferred from the city's 12345 hotline, imported from the city's XLSX: all or none, and an order
//! already taken in is not taken in twice.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use wujia_app::requests::hotline::{self, HotlineImport};

/// `?community_id=&dry_run=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotlineQuery {
    /// The community.
    pub community_id: Option<i64>,
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports 12345 orders (columns 工单编号, 受理时间, 诉求类别, 诉求内容, 地址, 联系人, 联系电话, 主办单位, 协办单位, 办结时限).
/// The city's deadline, when given, is the resolution deadline.
#[utoipa::path(post, path = "/api/v1/requests/imports", operation_id = "import_hotline_orders", tag = "requests", params(HotlineQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "What the import did", body = HotlineImport),
              (status = 422, description = "Every bad row with its column")), security(("bearer" = [])))]
pub async fn import_hotline_orders(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<HotlineQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<HotlineImport>, ApiError> {
    let body = body.map_err(|_| ApiError::PayloadTooLarge)?;
    Ok(Json(hotline::import_orders(&state.app, &auth, q.community_id, body.to_vec(), q.dry_run).await?))
}

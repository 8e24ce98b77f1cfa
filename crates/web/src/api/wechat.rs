//! The WeChat Official Account as staff work with it: binding codes for households, and the enquiries of
//! followers not yet bound, which staff attach to a household.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use wujia_app::requests::RequestView;
use wujia_app::wechat::{self, BindingCode, EnquiryView};

/// Issues a one-time WeChat binding code for a household (six digits, valid 7 days): a member follows the
/// community's service account and sends `绑定 123456` to write to the community from WeChat.
#[utoipa::path(post, path = "/api/v1/households/{id}/wechat_codes", operation_id = "create_wechat_code", tag = "registry",
    params(("id" = i64, Path, description = "Household id")),
    responses((status = 201, description = "The code, shown once", body = BindingCode)), security(("bearer" = [])))]
pub async fn create_wechat_code(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<BindingCode>), ApiError> {
    Ok((StatusCode::CREATED, Json(wechat::issue_code(&state.app, &auth, id).await?)))
}

/// `?open=false` for attached enquiries too.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnquiryQuery {
    /// Only enquiries not yet attached (the default).
    pub open: Option<bool>,
}

/// Messages from WeChat followers not bound to a household, newest first; senders are masked.
#[utoipa::path(get, path = "/api/v1/wechat/enquiries", operation_id = "list_wechat_enquiries", tag = "requests",
    params(EnquiryQuery), responses((status = 200, description = "Enquiries", body = Vec<EnquiryView>)),
    security(("bearer" = [])))]
pub async fn list_wechat_enquiries(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<EnquiryQuery>,
) -> Result<Json<Vec<EnquiryView>>, ApiError> {
    Ok(Json(wechat::enquiries(&state.app, &auth, q.open.unwrap_or(true)).await?))
}

/// The household an enquiry concerns.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AttachBody {
    /// The household.
    pub household_id: i64,
}

/// Attaches an unbound follower's enquiry to a household: it becomes a request of that household, channel `wechat`.
#[utoipa::path(post, path = "/api/v1/wechat/enquiries/{id}/request", operation_id = "create_wechat_enquiry_request", tag = "requests",
    params(("id" = i64, Path, description = "Enquiry id")), request_body = AttachBody,
    responses((status = 201, description = "The request it became", body = RequestView),
        (status = 409, description = "Attached already"), (status = 422, description = "Unknown household")),
    security(("bearer" = [])))]
pub async fn create_wechat_enquiry_request(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AttachBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    Ok((StatusCode::CREATED, Json(wechat::attach(&state.app, &auth, id, b.household_id).await?)))
}

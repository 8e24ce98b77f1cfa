//! The one place where failures become HTTP responses: RFC 9457 problem details for the API.
//!
//! Client mistakes name the field (and the row of a file). Server faults are logged with their cause and
//! answered with a generic message; internal text never reaches the client.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wujia_app::AppError;
use wujia_core::accounts::Denied;
use wujia_core::registry::FieldError;
use wujia_core::transfer::{FileError, RowError};
use wujia_store::StoreError;

pub use wujia_app::FieldIssue;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session or token.
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated, but the rules do not allow it.
    #[error("not permitted")]
    Forbidden,
    /// No such record (or not visible to the caller).
    #[error("not found")]
    NotFound,
    /// Input that fails validation, field by field.
    #[error("validation failed")]
    Validation(Vec<FieldIssue>),
    /// A request that cannot be understood, with the field when known.
    #[error("bad request: {detail}")]
    BadRequest {
        /// The offending field.
        field: Option<String>,
        /// What is wrong.
        detail: String,
    },
    /// The state changed underneath, or a unique value is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many attempts.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Body too large.
    #[error("payload too large")]
    PayloadTooLarge,
    /// A file of the wrong kind or encoding.
    #[error("unsupported file: {0}")]
    UnsupportedFile(String),
    /// A server fault; the text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldIssue { field: field.into(), message: message.into(), row: None }])
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "需要登录 / Authentication required"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "无权执行此操作 / Not permitted"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not-found", "记录不存在 / Not found"),
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation", "输入有误 / Invalid input"),
            Self::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad-request", "请求无法解析 / Bad request"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "冲突 / Conflict"),
            Self::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too-many-requests", "尝试次数过多 / Too many attempts")
            }
            Self::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "内容过大 / Payload too large")
            }
            Self::UnsupportedFile(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-file", "文件无法读取 / Unsupported file")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "服务器内部错误 / Internal error"),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// A sentence for the person, safe to show.
    pub fn detail(&self) -> String {
        match self {
            Self::Validation(issues) => issues
                .iter()
                .map(|i| match i.row {
                    Some(r) => format!("第 {r} 行「{}」:{}", i.field, i.message),
                    None => format!("{}: {}", i.field, i.message),
                })
                .collect::<Vec<_>>()
                .join("; "),
            Self::BadRequest { detail, .. } | Self::Conflict(detail) | Self::UnsupportedFile(detail) => detail.clone(),
            Self::TooManyRequests { retry_after } => {
                format!("请 {retry_after} 秒后再试 / try again in {retry_after} seconds")
            }
            other => other.parts().2.to_string(),
        }
    }

    /// The field issues, for forms.
    pub fn issues(&self) -> Vec<FieldIssue> {
        match self {
            Self::Validation(i) => i.clone(),
            Self::BadRequest { field: Some(f), detail } => {
                vec![FieldIssue { field: f.clone(), message: detail.clone(), row: None }]
            }
            _ => Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldIssue>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let (status, code, title) = self.parts();
        let body = Problem {
            kind: format!("/problems/{code}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            errors: self.issues(),
        };
        let mut res = (status, Json(body)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Self::TooManyRequests { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(errors) => Self::Validation(errors.into_iter().map(Into::into).collect()),
            StoreError::Rows(errors) => Self::Validation(errors.into_iter().map(Into::into).collect()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Forbidden => Self::Forbidden,
            AppError::NotFound => Self::NotFound,
            AppError::Validation(issues) => Self::Validation(issues),
            AppError::Conflict(m) => Self::Conflict(m),
            AppError::File(f) => f.into(),
            AppError::Store(s) => s.into(),
            AppError::Internal(m) => Self::Internal(m),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors.into_iter().map(Into::into).collect())
    }
}

impl From<Vec<RowError>> for ApiError {
    fn from(errors: Vec<RowError>) -> Self {
        Self::Validation(errors.into_iter().map(Into::into).collect())
    }
}

impl From<FileError> for ApiError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::TooLarge { .. } => Self::PayloadTooLarge,
            FileError::WrongType | FileError::Encoding | FileError::Damaged(_) => Self::UnsupportedFile(e.to_string()),
            FileError::MissingColumn(_) | FileError::Empty => {
                Self::Validation(vec![FieldIssue { field: "file".into(), message: e.to_string(), row: Some(1) }])
            }
        }
    }
}

/// JSON body extractor whose rejections are problem details naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => {
            // serde's path comes first: "username: missing field" or "missing field `username` at line …".
            let text = e.body_text();
            let detail = text.split_once("target type: ").map_or(text.as_str(), |(_, d)| d).to_string();
            let field = detail
                .split_once(": ")
                .map(|(f, _)| f.to_string())
                .filter(|f| !f.contains(' '))
                .or_else(|| detail.split('`').nth(1).map(str::to_string));
            match field {
                Some(f) => ApiError::Validation(vec![FieldIssue { field: f, message: detail, row: None }]),
                None => ApiError::BadRequest { field: None, detail },
            }
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::BadRequest {
            field: None,
            detail: "请求体不是合法的 JSON / body is not valid JSON".into(),
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest {
            field: None,
            detail: "需要 Content-Type: application/json / expected Content-Type: application/json".into(),
        },
        JsonRejection::BytesRejection(_) => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest { field: None, detail: "请求体无法读取 / unreadable body".into() },
    }
}

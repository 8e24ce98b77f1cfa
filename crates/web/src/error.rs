//! The one place where failures become HTTP responses: RFC 9457 problem details for the API.
//!
//! Client mistakes name the field (and the row of a file). Server faults are logged with their cause and
//! answered with a generic message; internal text never reaches the client.

use crate::i18n::Lang;
use axum::Json;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wujia_app::AppError;
use wujia_app::photos::Refusal;
use wujia_app::wechat::AttachRefusal;
use wujia_core::accounts::{Denied, KeyRefusal};
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
    /// An API key that is revoked or expired (401), or used beyond its scope (403).
    #[error("API key refused")]
    Key(#[source] KeyRefusal),
    /// No such record (or not visible to the caller).
    #[error("not found")]
    NotFound,
    /// The route exists, but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
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
    /// Too many failed logins from this address or on this account.
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
    /// A photo refused (field `photo`): not a picture, too large, too many pixels, cut short or damaged.
    #[error("photo refused: {0}")]
    Photo(Refusal),
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
            Self::Key(r) if r.is_dead() => Self::Unauthorized.parts(),
            Self::Key(_) => Self::Forbidden.parts(),
            Self::NotFound => (StatusCode::NOT_FOUND, "not-found", "记录不存在 / Not found"),
            Self::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "不支持此请求方法 / Method not allowed")
            }
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
            Self::Photo(Refusal::TooLarge) => ApiError::PayloadTooLarge.parts(),
            Self::Photo(Refusal::NotAnImage) => ApiError::UnsupportedFile(String::new()).parts(),
            Self::Photo(Refusal::TooManyPixels | Refusal::Truncated | Refusal::Damaged) => {
                ApiError::Validation(Vec::new()).parts()
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
            Self::TooManyRequests { retry_after } => format!(
                "登录失败次数太多,为保护账号请 {retry_after} 秒后再试 / \
                 Too many failed logins: to protect the account, please try again in {retry_after} seconds"
            ),
            Self::Key(refusal) => {
                let key = match refusal {
                    KeyRefusal::Revoked => "apikeys.refused_revoked",
                    KeyRefusal::Expired => "apikeys.refused_expired",
                    KeyRefusal::Open311Only => "apikeys.refused_open311_only",
                    KeyRefusal::ReadOnly => "apikeys.refused_read_only",
                };
                format!("{} / {}", Lang::Zh.t(key), Lang::En.t(key))
            }
            Self::Photo(refusal) => photo_message(*refusal),
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
            Self::Photo(refusal) => vec![FieldIssue::new("photo", photo_message(*refusal))],
            _ => Vec::new(),
        }
    }
}

/// An error followed by its sources, for the log.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Why a photo was refused, from the catalogue in Chinese and English (the API answers in both).
fn photo_message(refusal: Refusal) -> String {
    let key = match refusal {
        Refusal::TooLarge => "photo.too_large",
        Refusal::NotAnImage => "photo.not_an_image",
        Refusal::TooManyPixels => "photo.too_many_pixels",
        Refusal::Truncated => "photo.truncated",
        Refusal::Damaged => "photo.damaged",
    };
    both_languages(key)
}

/// A catalogue message in Chinese and English, as the API answers.
fn both_languages(key: &str) -> String {
    format!("{} / {}", Lang::Zh.t(key), Lang::En.t(key))
}

/// An RFC 9457 problem: the body of every API failure, sent as `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation", "title": "输入有误 / Invalid input", "status": 422,
    "detail": "name: 不能为空 / required", "errors": [{"field": "name", "message": "不能为空 / required"}],
}))]
pub struct Problem {
    /// The kind of problem: `/problems/{code}`, a page that explains it and what to do.
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong this time, safe to show to the person.
    pub detail: String,
    /// The fields at fault (and rows of a file), when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldIssue>,
}

/// Every kind of problem: its status and the code in its `type` URI (`/problems/{code}`).
pub const PROBLEM_KINDS: [(StatusCode, &str); 11] = [
    (StatusCode::BAD_REQUEST, "bad-request"),
    (StatusCode::UNAUTHORIZED, "unauthorized"),
    (StatusCode::FORBIDDEN, "forbidden"),
    (StatusCode::NOT_FOUND, "not-found"),
    (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
    (StatusCode::CONFLICT, "conflict"),
    (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
    (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-file"),
    (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
    (StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
    (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
];

impl ApiError {
    /// The problem this error is answered with.
    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        Problem {
            kind: format!("/problems/{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: self.issues(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let mut res = (self.status(), Json(self.problem())).into_response();
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
            // Where another community holds the number, the answer is a correction on the field, as for a
            // mistyped number, so that it says nothing about that community (see wujia_store::ID_CARD_NOT_REGISTRABLE).
            StoreError::IdCardTaken { in_community: true } => Self::Conflict(wujia_store::ID_CARD_IN_COMMUNITY.into()),
            StoreError::IdCardTaken { in_community: false } => {
                Self::field("id_card", wujia_store::ID_CARD_NOT_REGISTRABLE)
            }
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
            AppError::Photo(p) => match p.refusal() {
                Some(refusal) => Self::Photo(refusal),
                None => Self::Internal(error_chain(&p)),
            },
            AppError::Enquiry(AttachRefusal::UnknownHousehold) => {
                Self::Validation(vec![FieldIssue::new("household_id", both_languages("wechat.unknown_household"))])
            }
            AppError::Enquiry(AttachRefusal::AttachedAlready) => {
                Self::Conflict(both_languages("wechat.attached_already"))
            }
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
            FileError::TooManyRows { .. }
            | FileError::TooManyColumns { .. }
            | FileError::TooManyCells { .. }
            | FileError::CellTooLong { .. }
            | FileError::Unpacks { .. } => {
                Self::Validation(vec![FieldIssue { field: "file".into(), message: e.to_string(), row: e.row() }])
            }
        }
    }
}

/// JSON body extractor whose rejections are problem details naming the field. A string (or key) holding a
/// control character is refused naming its field (`answers.楼层`, `items[2].note`) before the body is read into
/// `T`, so no handler sees one.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || (v.starts_with("application/") && v.ends_with("+json")));
        if !is_json {
            return Err(ApiError::BadRequest {
                field: None,
                detail: "需要 Content-Type: application/json / expected Content-Type: application/json".into(),
            });
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(_) => return Err(ApiError::PayloadTooLarge),
        };
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let Some(field) = forbidden_in(&value, "")
        {
            return Err(ApiError::field(&field, wujia_core::text::FORBIDDEN_MESSAGE));
        }
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// The path of the first string or key in `v` holding a forbidden character, as serde names fields.
fn forbidden_in(v: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if wujia_core::text::has_forbidden(s) => {
            Some(if path.is_empty() { "body".into() } else { path.into() })
        }
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| forbidden_in(item, &format!("{path}[{i}]")))
        }
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if wujia_core::text::has_forbidden(k) { Some(here) } else { forbidden_in(item, &here) }
        }),
        _ => None,
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let detail = text.split_once("target type: ").map_or(text.as_str(), |(_, d)| d).to_string();
            match field_of(&detail) {
                Some(f) => {
                    let message = detail.strip_prefix(&format!("{f}: ")).unwrap_or(&detail).to_string();
                    ApiError::Validation(vec![FieldIssue { field: f, message, row: None }])
                }
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

/// The field a serde error names: its path comes first ("username: invalid type …"), or the message quotes it
/// ("missing field `username` at line …").
fn field_of(detail: &str) -> Option<String> {
    detail
        .split_once(": ")
        .map(|(f, _)| f.to_string())
        .filter(|f| !f.contains(' '))
        .or_else(|| detail.split('`').nth(1).map(str::to_string))
}

/// Path parameters extractor whose rejections are problems naming the parameter (`/households/abc` → `id`).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Self(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let names: Vec<String> = match RawPathParams::from_request_parts(parts, state).await {
                    Ok(raw) => raw.iter().map(|(k, _)| k.to_string()).collect(),
                    Err(_) => Vec::new(),
                };
                Err(path_rejection(e.into_kind(), &names))
            }
            Err(_) => Err(ApiError::Internal("a path extractor on a route without parameters".into())),
        }
    }
}

fn path_rejection(kind: ErrorKind, names: &[String]) -> ApiError {
    let (field, value, expected) = match kind {
        ErrorKind::ParseErrorAtKey { key, value, expected_type } => (Some(key), value, expected_type),
        ErrorKind::ParseErrorAtIndex { index, value, expected_type } => {
            (names.get(index).cloned(), value, expected_type)
        }
        ErrorKind::ParseError { value, expected_type } => (names.first().cloned(), value, expected_type),
        ErrorKind::InvalidUtf8InPathParam { key } => {
            return ApiError::BadRequest { field: Some(key), detail: "不是合法的 UTF-8 / not valid UTF-8".into() };
        }
        ErrorKind::DeserializeError { key, message, .. } => {
            return ApiError::BadRequest { field: Some(key), detail: message };
        }
        other => return ApiError::Internal(format!("path parameters: {other}")),
    };
    let what = match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            "应为整数 / expected an integer"
        }
        "f32" | "f64" => "应为数字 / expected a number",
        "bool" => "应为 true 或 false / expected true or false",
        _ => "格式不对 / malformed",
    };
    ApiError::BadRequest { field, detail: format!("「{value}」{what}") }
}

/// Query string extractor whose rejections are problems naming the parameter (`?limit=x` → `limit`).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::try_from_uri(&parts.uri) {
            Ok(Query(v)) => Ok(Self(v)),
            Err(rejection) => {
                // "Failed to deserialize query string: limit: invalid digit found in string"
                let text = rejection.body_text();
                let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d).to_string();
                Err(ApiError::BadRequest { field: field_of(&detail), detail })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_a_listed_problem_kind() {
        let errors = [
            ApiError::Unauthorized,
            ApiError::Forbidden,
            ApiError::Key(KeyRefusal::Expired),
            ApiError::Key(KeyRefusal::ReadOnly),
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::Validation(Vec::new()),
            ApiError::BadRequest { field: None, detail: String::new() },
            ApiError::Conflict(String::new()),
            ApiError::TooManyRequests { retry_after: 1 },
            ApiError::PayloadTooLarge,
            ApiError::UnsupportedFile(String::new()),
            ApiError::Internal(String::new()),
        ];
        assert_eq!(errors.len(), PROBLEM_KINDS.len() + 2, "each kind once, and both faces of a refused key");
        let refusals =
            [Refusal::TooLarge, Refusal::NotAnImage, Refusal::TooManyPixels, Refusal::Truncated, Refusal::Damaged];
        for e in errors.iter().chain(&refusals.map(ApiError::Photo)) {
            let p = e.problem();
            let code = p.kind.strip_prefix("/problems/").unwrap();
            assert!(PROBLEM_KINDS.contains(&(e.status(), code)), "{e:?} is {} {code}", p.status);
        }
    }

    #[test]
    fn a_refused_photo_names_the_field_in_both_languages() {
        let p = ApiError::Photo(Refusal::Truncated).problem();
        assert_eq!((p.status, p.errors[0].field.as_str()), (422, "photo"));
        assert!(p.detail.contains("没有传完整") && p.detail.contains("did not arrive whole"), "{}", p.detail);
    }
}

//! Every way an Open311 call fails, with the status GeoReport v2 gives it and the sentence the client reads
//! (from the catalogue's `open311` table, in the caller's language). The one place Open311 words its errors.

use super::render::Fmt;
use crate::error::ApiError;
use crate::i18n::Lang;
use axum::http::{HeaderMap, StatusCode, header};
use wujia_app::AppError;

/// A failed Open311 call.
#[derive(Debug)]
pub(super) enum Fault {
    /// The path does not end in `.json` or `.xml`.
    NoFormat,
    /// No such resource under `/open311/v2`.
    UnknownResource,
    /// No active service with this code.
    UnknownService(String),
    /// A request posted under a code that is not an active service.
    ServiceNotOffered(String),
    /// No such request (or token) in the communities the client may read.
    UnknownRequest(String),
    /// No community with this `jurisdiction_id`.
    UnknownJurisdiction(String),
    /// A write without a valid key, or a read with a key that is not valid.
    KeyRefused,
    /// The community answers reads from its key holders only.
    ReadsClosed,
    /// `start_date` or `end_date` is not a w3 date-time.
    BadDate(&'static str),
    /// `end_date` before `start_date`.
    DatesReversed,
    /// `status` is not `open` or `closed`.
    BadStatus,
    /// A POST without `service_code`.
    NoServiceCode,
    /// A POST without `address_string` nor `lat` and `long`.
    NoLocation,
    /// `lat` or `long` is not a coordinate.
    BadCoordinates { field: String, why: String },
    /// Refused by the application (its own field-named sentence), or failed inside it.
    App(ApiError),
}

impl From<AppError> for Fault {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Forbidden => Self::KeyRefused,
            e => Self::App(e.into()),
        }
    }
}

impl From<ApiError> for Fault {
    fn from(e: ApiError) -> Self {
        Self::App(e)
    }
}

impl Fault {
    /// The status GeoReport v2 gives it: 400 for what the client sent, 403 for keys, 404 for what is not there.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::NoFormat | Self::UnknownResource | Self::UnknownService(_) | Self::UnknownRequest(_) => {
                StatusCode::NOT_FOUND
            }
            Self::UnknownJurisdiction(_) => StatusCode::NOT_FOUND,
            Self::KeyRefused | Self::ReadsClosed => StatusCode::FORBIDDEN,
            Self::BadDate(_)
            | Self::DatesReversed
            | Self::BadStatus
            | Self::NoServiceCode
            | Self::ServiceNotOffered(_)
            | Self::NoLocation
            | Self::BadCoordinates { .. } => StatusCode::BAD_REQUEST,
            // A key that has expired or was revoked keeps its 401, which says why.
            Self::App(e) => match e.status() {
                StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
                s => s,
            },
        }
    }

    /// The sentence for the client.
    pub(super) fn description(&self, lang: Lang) -> String {
        let t = |key: &str| lang.t(key).to_string();
        match self {
            Self::NoFormat => t("open311.no_format"),
            Self::UnknownResource => t("open311.unknown_resource"),
            Self::UnknownService(code) => format!("{}: {code}", t("open311.unknown_service")),
            Self::ServiceNotOffered(code) => format!("service_code: {}: {code}", t("open311.unknown_service")),
            Self::UnknownRequest(id) => format!("{}: {id}", t("open311.unknown_request")),
            Self::UnknownJurisdiction(id) => format!("{}: {id}", t("open311.unknown_jurisdiction")),
            Self::KeyRefused => t("open311.key_refused"),
            Self::ReadsClosed => t("open311.reads_closed"),
            Self::BadDate(field) => format!("{field}: {}", t("open311.bad_date")),
            Self::DatesReversed => format!("end_date: {}", t("open311.dates_reversed")),
            Self::BadStatus => format!("status: {}", t("open311.bad_status")),
            Self::NoServiceCode => format!("service_code: {}", t("open311.no_service_code")),
            Self::NoLocation => format!("address_string: {}", t("open311.no_location")),
            Self::BadCoordinates { field, why } => format!("{field}: {why}"),
            Self::App(e) => {
                if let ApiError::Internal(cause) = e {
                    tracing::error!(%cause, "Open311 call failed");
                }
                e.detail()
            }
        }
    }
}

/// A failed call and how to answer it.
pub(super) struct Answer {
    pub(super) fault: Fault,
    pub(super) fmt: Fmt,
    pub(super) lang: Lang,
}

/// The language of an Open311 answer: English when the client's `Accept-Language` puts it first, else as for
/// pages (the language cookie, Chinese by default).
pub(super) fn language(headers: &HeaderMap) -> Lang {
    let first = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match first.as_deref() {
        Some(tag) if tag == "en" || tag.starts_with("en-") => Lang::En,
        Some(tag) if tag == "zh" || tag.starts_with("zh-") => Lang::Zh,
        _ => Lang::from_headers(headers),
    }
}

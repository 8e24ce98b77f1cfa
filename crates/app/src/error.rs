//! Why a use case did not happen. The faces map these to their own answers (RFC 9457 problems, form errors,
//! command-line messages) in one place each; the cause of a fault is kept as the source, never shown.

use serde::Serialize;
use wujia_core::accounts::Denied;
use wujia_core::registry::FieldError;
use wujia_core::transfer::{FileError, RowError};
use wujia_store::StoreError;

/// A use case's result.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// One problem with one field, optionally in one row of a file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldIssue {
    /// Field name (`id_card`) or file column (`身份证号`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Row number in the file, for imports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
}

impl FieldIssue {
    /// A problem with one field.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into(), row: None }
    }
}

impl From<FieldError> for FieldIssue {
    fn from(e: FieldError) -> Self {
        Self { field: e.field, message: e.message, row: None }
    }
}

impl From<RowError> for FieldIssue {
    fn from(e: RowError) -> Self {
        Self { field: e.column, message: e.message, row: Some(e.row) }
    }
}

/// Why a use case was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The rules do not allow it.
    #[error("not permitted")]
    Forbidden,
    /// No such record, or not one the caller may know of: the two read the same.
    #[error("not found")]
    NotFound,
    /// Input that fails validation, field by field.
    #[error("validation failed")]
    Validation(Vec<FieldIssue>),
    /// The record changed underneath, or a unique value is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A file that cannot be read as a table.
    #[error("file: {0}")]
    File(#[from] FileError),
    /// A photo refused (not a picture, too many pixels, cut short), or one that could not be kept.
    #[error("photo: {0}")]
    Photo(#[from] crate::photos::PhotoError),
    /// An unbound follower's WeChat enquiry that cannot be attached as asked.
    #[error("wechat enquiry: {0}")]
    Enquiry(#[from] crate::wechat::AttachRefusal),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[source] StoreError),
    /// Something the application itself could not do (a stopped writer); the text is for the log.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldIssue::new(field, message)])
    }

    /// A domain rule's refusal, whose text begins with the field at fault (`slot: 该时段已约满 / …`).
    pub fn refused(rule: impl std::fmt::Display, default_field: &str) -> Self {
        let text = rule.to_string();
        match text.split_once(": ") {
            Some((field, message)) if is_field_name(field) => Self::field(field, message),
            _ => Self::field(default_field, text),
        }
    }
}

/// A field as the API names it: `due`, `actions[1].owner`.
fn is_field_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(errors) => Self::Validation(errors.into_iter().map(Into::into).collect()),
            StoreError::Rows(errors) => Self::Validation(errors.into_iter().map(Into::into).collect()),
            other => Self::Store(other),
        }
    }
}

impl From<Vec<RowError>> for AppError {
    fn from(errors: Vec<RowError>) -> Self {
        Self::Validation(errors.into_iter().map(Into::into).collect())
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors.into_iter().map(Into::into).collect())
    }
}

impl From<Denied> for AppError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: AppError) -> Vec<(String, String)> {
        match e {
            AppError::Validation(issues) => issues.into_iter().map(|i| (i.field, i.message)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_rules_refusal_names_the_field_its_text_begins_with() {
        let e = AppError::refused("slot: 该时段已约满 / this slot is fully booked", "action");
        assert_eq!(fields(e), [("slot".to_string(), "该时段已约满 / this slot is fully booked".to_string())]);
    }

    #[test]
    fn a_refusal_without_a_field_falls_on_the_default_one() {
        let e = AppError::refused("整改完成后才能复查: re-inspect after the rectification", "action");
        assert_eq!(fields(e)[0].0, "action");
    }
}

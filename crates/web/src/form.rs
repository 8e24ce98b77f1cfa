//! Multipart forms with photos, read the same way for the API and the pages.

use crate::auth::Auth;
use crate::error::ApiError;
use axum::extract::Multipart;
use std::collections::HashMap;

/// A multipart form: its text fields and the bytes of its photo fields, in order.
#[derive(Debug, Default)]
pub struct PhotoForm {
    /// Text fields by name (the last value wins).
    pub fields: HashMap<String, String>,
    /// Photos, in the order sent; empty file inputs are skipped.
    pub photos: Vec<Vec<u8>>,
}

impl PhotoForm {
    /// Reads a form whose file fields are named `photo` or `photos`. A text field holding a control character
    /// (other than newline and tab) is refused naming the field.
    pub async fn read(mut multipart: Multipart) -> Result<Self, ApiError> {
        let mut form = Self::default();
        let unreadable = || ApiError::BadRequest {
            field: Some("photos".into()),
            detail: "上传内容无法读取 / the upload could not be read".into(),
        };
        while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
            let name = field.name().unwrap_or("").to_string();
            if name == "photo" || name == "photos" {
                let bytes = field.bytes().await.map_err(|_| ApiError::PayloadTooLarge)?;
                if !bytes.is_empty() {
                    form.photos.push(bytes.to_vec());
                }
            } else {
                let text = field.text().await.map_err(|_| unreadable())?;
                if wujia_core::text::has_forbidden(&name) || wujia_core::text::has_forbidden(&text) {
                    let name: String = name.chars().filter(|c| !wujia_core::text::is_forbidden(*c)).collect();
                    return Err(ApiError::field(&name, wujia_core::text::FORBIDDEN_MESSAGE));
                }
                form.fields.insert(name, text);
            }
        }
        Ok(form)
    }

    /// Reads a form sent from a page and checks its CSRF token before anything else looks at it.
    pub async fn read_submitted(multipart: Multipart, auth: &Auth) -> Result<Self, ApiError> {
        let form = Self::read(multipart).await?;
        auth.check_csrf(form.fields.get("csrf").map_or("", String::as_str))?;
        Ok(form)
    }

    /// A trimmed text field, `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// An id field; a present value that is not a number is an error naming the field.
    pub fn id(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| ApiError::field(name, "须为数字编号 / must be a numeric id")),
        }
    }

    /// A yes/no field (`true`, `1`, `on`, `yes`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.text(name), Some("true" | "1" | "on" | "yes"))
    }
}

/// Turns a core error whose text is `field: message` into a validation problem naming that field.
pub fn field_error(e: impl std::fmt::Display) -> ApiError {
    let text = e.to_string();
    match text.split_once(": ") {
        Some((field, message)) if !field.contains(' ') => ApiError::field(field, message),
        _ => ApiError::field("input", text),
    }
}

//! The edge every text input passes: query strings and form bodies (pages' forms, Open311's posts) are checked
//! here for control characters before any handler reads them; JSON bodies are checked by `ApiJson` and multipart
//! forms by `PhotoForm`, with the same rule (`wujia_core::text`). A forbidden character is a 422 naming the field.

use crate::MAX_JSON_BYTES;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wujia_core::text::{FORBIDDEN_MESSAGE, has_forbidden};

/// The first name or value in URL-encoded pairs holding a forbidden character, named by the pair's name.
pub fn forbidden_pair(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded)
        .find(|(k, v)| has_forbidden(k) || has_forbidden(v))
        .map(|(k, _)| k.chars().filter(|c| !wujia_core::text::is_forbidden(*c)).collect())
}

fn refused(field: String) -> Response {
    ApiError::field(&field, FORBIDDEN_MESSAGE).into_response()
}

/// Refuses a request whose query string or URL-encoded body holds a control character.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    if let Some(field) = req.uri().query().and_then(|q| forbidden_pair(q.as_bytes())) {
        return refused(field);
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_JSON_BYTES).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    if let Some(field) = forbidden_pair(&bytes) {
        return refused(field);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_pair_with_a_control_character_is_named() {
        assert_eq!(forbidden_pair(b"a=1&username=zhang%00li&b=%01"), Some("username".into()));
        assert_eq!(forbidden_pair(b"note=%E6%8A%A4%0D%0A%09x"), None, "line breaks and tabs are text");
        assert_eq!(forbidden_pair(b"q%01=x"), Some("q".into()));
    }
}

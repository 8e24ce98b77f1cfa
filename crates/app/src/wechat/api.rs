//! WeChat's server API as far as the callback needs it: the access token (fetched, cached until shortly before it
//! expires, fetched again once when WeChat says it is invalid or expired) and the media of a message.

use super::account::Account;
use crate::Clock;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::Mutex;

/// WeChat's answers meaning the access token is not (or no longer) valid.
const TOKEN_INVALID: [i64; 2] = [40001, 42001];
/// How long before WeChat's stated expiry a token is fetched again.
const TOKEN_MARGIN: Duration = Duration::minutes(5);
/// How long one call to WeChat may take.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// Largest media file fetched (WeChat limits voice to 2 MB and images to 10 MB).
const MAX_MEDIA_BYTES: usize = 10 * 1024 * 1024;

/// Why WeChat's API did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The call failed or timed out.
    #[error("calling WeChat's API")]
    Http(#[source] reqwest::Error),
    /// WeChat answered with an error code.
    #[error("WeChat's API answered {code}: {message}")]
    Refused {
        /// `errcode`.
        code: i64,
        /// `errmsg`.
        message: String,
    },
    /// The answer was not what WeChat documents.
    #[error("WeChat's API answered something unreadable")]
    Unreadable(#[source] serde_json::Error),
    /// A media file over [`MAX_MEDIA_BYTES`].
    #[error("the media file is over {MAX_MEDIA_BYTES} bytes")]
    TooLarge,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<i64>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// A media file: its bytes and the type WeChat gave.
#[derive(Debug, Clone)]
pub struct Media {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `Content-Type` as WeChat sent it.
    pub media_type: String,
}

/// The client of one account's API, shared by all requests on this node.
pub struct WechatApi {
    account: Account,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    token: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl WechatApi {
    /// A client for `account`.
    pub fn new(account: Account, clock: Arc<dyn Clock>) -> Self {
        Self { account, http: reqwest::Client::new(), clock, token: Mutex::new(None) }
    }

    /// The account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// A valid access token: the cached one, or a fresh one when `refresh` or when it is about to expire.
    async fn access_token(&self, refresh: bool) -> Result<String, ApiError> {
        let mut cached = self.token.lock().await;
        let now = self.clock.now();
        if let Some((token, until)) = cached.as_ref()
            && !refresh
            && *until > now
        {
            return Ok(token.clone());
        }
        let url = format!("{}/cgi-bin/token", self.account.api_base);
        let answer: TokenAnswer = self
            .http
            .get(url)
            .timeout(CALL_TIMEOUT)
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", &self.account.appid),
                ("secret", &self.account.secret),
            ])
            .send()
            .await
            .map_err(ApiError::Http)?
            .json()
            .await
            .map_err(ApiError::Http)?;
        let (Some(token), Some(expires_in)) = (answer.access_token, answer.expires_in) else {
            return Err(ApiError::Refused { code: answer.errcode, message: answer.errmsg });
        };
        *cached = Some((token.clone(), now + Duration::seconds(expires_in) - TOKEN_MARGIN));
        Ok(token)
    }

    /// A message's media file (`/cgi-bin/media/get`); a token WeChat calls invalid or expired is fetched again once.
    pub async fn media(&self, media_id: &str) -> Result<Media, ApiError> {
        let mut refresh = false;
        loop {
            let token = self.access_token(refresh).await?;
            let url = format!("{}/cgi-bin/media/get", self.account.api_base);
            let response = self
                .http
                .get(url)
                .timeout(CALL_TIMEOUT)
                .query(&[("access_token", token.as_str()), ("media_id", media_id)])
                .send()
                .await
                .map_err(ApiError::Http)?;
            let media_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            if response.content_length().is_some_and(|n| n > MAX_MEDIA_BYTES as u64) {
                return Err(ApiError::TooLarge);
            }
            let bytes = response.bytes().await.map_err(ApiError::Http)?;
            if bytes.len() > MAX_MEDIA_BYTES {
                return Err(ApiError::TooLarge);
            }
            // Errors come as JSON (text/plain or application/json); media never does.
            if media_type.starts_with("application/json") || media_type.starts_with("text/plain") {
                let e: ErrorAnswer = serde_json::from_slice(&bytes).map_err(ApiError::Unreadable)?;
                if TOKEN_INVALID.contains(&e.errcode) && !refresh {
                    refresh = true;
                    continue;
                }
                return Err(ApiError::Refused { code: e.errcode, message: e.errmsg });
            }
            return Ok(Media { bytes: bytes.to_vec(), media_type });
        }
    }
}

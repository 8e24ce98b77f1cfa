//! The WeChat Official Account's callback, `/wechat/callback`: GET answers WeChat's URL verification, POST takes a
//! follower's message (plain or safe mode) to [`wujia_app::wechat::receive`] and sends the passive reply, in
//! Chinese as followers read it. What is not WeChat's (a wrong signature, a stale timestamp, a body that is not
//! its XML, an envelope for another account) is refused with a 4xx before anything is written.

use crate::AppState;
use crate::i18n::Lang;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rand::RngCore;
use serde::Deserialize;
use wujia_app::wechat::Answer;
use wujia_core::channels::wechat::{
    EnvelopeError, Incoming, Outer, check_stamp, open, reply_text, sealed_reply, signed,
};

/// The query WeChat signs its callbacks with.
#[derive(Debug, Default, Deserialize)]
struct Signed {
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
    msg_signature: Option<String>,
}

/// The callback's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/wechat/callback", get(verify).post(receive))
}

/// Why a callback was refused; the status is what WeChat (or whoever sent it) sees, the reason goes to the log.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("no WeChat account is configured")]
    NoAccount,
    #[error("the signature, timestamp or nonce is missing")]
    Unsigned,
    #[error("the timestamp is stale or not a number")]
    Stale(#[source] wujia_core::channels::wechat::StampError),
    #[error("the signature is wrong")]
    WrongSignature,
    #[error("the body is not a WeChat message")]
    Malformed(#[source] wujia_core::channels::wechat::MessageError),
    #[error("a safe-mode message arrived but no EncodingAESKey is configured")]
    NoKey,
    #[error("the envelope does not open")]
    Envelope(#[source] EnvelopeError),
    #[error("the envelope's addressee differs from the message's")]
    Addressee,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::NoAccount => StatusCode::NOT_FOUND,
            Self::Unsigned | Self::Malformed(_) | Self::Addressee => StatusCode::BAD_REQUEST,
            Self::NoKey
            | Self::Envelope(EnvelopeError::NotBase64(_) | EnvelopeError::Length | EnvelopeError::NotText) => {
                StatusCode::BAD_REQUEST
            }
            Self::Stale(_) | Self::WrongSignature | Self::Envelope(_) => StatusCode::FORBIDDEN,
        };
        tracing::info!(error = %crate::error::error_chain(&self), %status, "a WeChat callback was refused");
        status.into_response()
    }
}

fn account(state: &AppState) -> Result<&wujia_app::wechat::WechatApi, Refused> {
    state.wechat.as_deref().ok_or(Refused::NoAccount)
}

/// Checks the timestamp and the signature over token, timestamp and nonce; returns (timestamp, nonce).
fn checked<'q>(state: &AppState, token: &str, q: &'q Signed) -> Result<(&'q str, &'q str), Refused> {
    let (Some(signature), Some(timestamp), Some(nonce)) = (&q.signature, &q.timestamp, &q.nonce) else {
        return Err(Refused::Unsigned);
    };
    check_stamp(timestamp.as_str(), state.clock.now().timestamp()).map_err(Refused::Stale)?;
    if !signed(signature, &[token, timestamp.as_str(), nonce.as_str()]) {
        return Err(Refused::WrongSignature);
    }
    Ok((timestamp.as_str(), nonce.as_str()))
}

/// URL verification (服务器配置): echoes `echostr` when WeChat's signature holds.
async fn verify(State(state): State<AppState>, Query(q): Query<Signed>) -> Result<Response, Refused> {
    let api = account(&state)?;
    checked(&state, &api.account().token, &q)?;
    let echo = q.echostr.clone().ok_or(Refused::Unsigned)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response())
}

/// A follower's message: checked, opened, answered once (retries get the same answer), replied to.
async fn receive(State(state): State<AppState>, Query(q): Query<Signed>, body: String) -> Result<Response, Refused> {
    let api = account(&state)?;
    let account = api.account();
    let (timestamp, nonce) = checked(&state, &account.token, &q)?;
    let outer = Outer::parse(&body).map_err(Refused::Malformed)?;
    let safe = q.encrypt_type.as_deref() == Some("aes");
    let message = if safe {
        let key = account.key.as_ref().ok_or(Refused::NoKey)?;
        let encrypt = outer.encrypt.as_deref().ok_or(Refused::Unsigned)?;
        let signature = q.msg_signature.as_deref().ok_or(Refused::Unsigned)?;
        if !signed(signature, &[account.token.as_str(), timestamp, nonce, encrypt]) {
            return Err(Refused::WrongSignature);
        }
        let inner = open(key, &account.appid, encrypt).map_err(Refused::Envelope)?;
        let message = Incoming::parse(&inner).map_err(Refused::Malformed)?;
        if message.to != outer.to {
            return Err(Refused::Addressee);
        }
        message
    } else {
        outer.plain().map_err(Refused::Malformed)?
    };
    let answer = match wujia_app::wechat::receive(&state.app, api, &state.blobs, &message).await {
        Ok(a) => a,
        Err(e) => {
            // WeChat delivers the message again; nothing of it was kept.
            tracing::error!(error = %crate::error::error_chain(&e), "a WeChat message could not be answered");
            return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    let Some(text) = worded(&answer) else {
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "success").into_response());
    };
    let now = state.clock.now().timestamp();
    let reply = reply_text(&message.from, &message.to, now, &text);
    let reply = match (&account.key, safe) {
        (Some(key), true) => {
            let mut random = [0u8; 16];
            rand::rng().fill_bytes(&mut random);
            sealed_reply(key, &account.appid, &account.token, &reply, now, nonce, random)
        }
        _ => reply,
    };
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], reply).into_response())
}

/// The passive reply's words, from the catalogue in Chinese (WeChat followers read Chinese); `None` for none.
fn worded(answer: &Answer) -> Option<String> {
    let t = |key: &str| Lang::Zh.t(key).to_string();
    let missing = |m: bool| if m { t("wechat.media_missing") } else { String::new() };
    Some(match answer {
        Answer::Taken { number, resolve_due, media_missing } => {
            let due = resolve_due.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string();
            t("wechat.taken").replace("{number}", number).replace("{due}", &due) + &missing(*media_missing)
        }
        Answer::Added { number, media_missing } => {
            t("wechat.added").replace("{number}", number) + &missing(*media_missing)
        }
        Answer::Bound { address } => t("wechat.bound").replace("{address}", address),
        Answer::AlreadyBound => t("wechat.already_bound"),
        Answer::WrongCode => t("wechat.wrong_code"),
        Answer::TooManyTries => t("wechat.too_many_tries"),
        Answer::Unbound => t("wechat.unbound"),
        Answer::NotBound => t("wechat.not_bound"),
        Answer::Enquiry => t("wechat.enquiry"),
        Answer::Welcome => t("wechat.welcome"),
        Answer::NotTakenIn => t("wechat.not_taken_in"),
        Answer::Silent => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_but_silence_is_worded_from_the_catalogue() {
        let due = chrono::DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().to_utc();
        let taken = worded(&Answer::Taken { number: "WT-2026-000007".into(), resolve_due: due, media_missing: false });
        let taken = taken.unwrap();
        assert!(taken.contains("WT-2026-000007") && taken.contains("2026-12-03 18:00"), "{taken}");
        for a in [
            Answer::AlreadyBound,
            Answer::WrongCode,
            Answer::TooManyTries,
            Answer::Unbound,
            Answer::NotBound,
            Answer::Enquiry,
            Answer::Welcome,
            Answer::NotTakenIn,
        ] {
            let w = worded(&a).unwrap();
            assert!(!w.starts_with("wechat."), "{a:?} is not in the catalogue");
        }
        assert_eq!(worded(&Answer::Silent), None);
    }
}

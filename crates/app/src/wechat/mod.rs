//! The community's WeChat Official Account (服务号): what a follower's message does, and how staff bind followers
//! to households and take in the enquiries of those not yet bound.
//!
//! A follower is bound to a household by a one-time code staff issue (on the household page or through the API)
//! and the follower sends as `绑定 123456`. Binding creates a resident account of that household for the follower
//! (it has no password anyone knows: it writes only through WeChat), so that every request a follower raises goes
//! through [`crate::requests::take_in`] with a real [`Caller`], channel `wechat`, and is answered like any other.
//!
//! **Where a bound follower's message goes.** Her text, photo, voice or location joins her latest request raised
//! through WeChat when that request is not yet resolved and was received within [`JOINS_WITHIN`] (a photo sent
//! after the text that describes it joins it); otherwise it becomes a new request. Photos and voice are fetched
//! from WeChat's media API within [`MEDIA_BUDGET`] and kept on the request (photos re-encoded by
//! [`crate::photos`]); when fetching fails or is slow, the request stands, the reply says the attachment was not
//! kept, and the request's history records it, so that the passive reply always leaves within WeChat's 5 seconds.
//!
//! **Retries.** WeChat delivers a message again when it had no answer within 5 seconds. Each message is claimed
//! by its `MsgId` in the database (a primary key, so one delivery wins on every node and either database); a
//! repeated delivery gets the same answer, and one arriving while the first is still being answered waits for it.
//! A claim left unanswered for 8 seconds (its node stopped) is taken over by the next delivery.

mod account;
mod api;

pub use account::{Account, AccountError, DEFAULT_API_BASE};
pub use api::{ApiError, Media, WechatApi};

use crate::requests::{RequestView, TakeIn, take_in};
use crate::{App, AppError, Caller, Result};
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wujia_core::accounts::{Action, Scope, hash_password};
use wujia_core::channels::wechat::{Body, Incoming, OpenId};
use wujia_core::requests::Channel;
use wujia_store::{BlobStore, MessageClaim, NewWechatResident, RequestRow, StoreError, WechatEnquiry};

/// The category a follower's message is taken in under (意见建议); the dispatcher files it where it belongs.
pub const INTAKE_CATEGORY: &str = "other.general.suggestion";
/// A bound follower's message joins her unresolved WeChat request received this recently.
pub const JOINS_WITHIN: Duration = Duration::hours(24);
/// How long a binding code stays valid.
pub const CODE_VALID: Duration = Duration::days(7);
/// Wrong binding codes a follower may send within a day before binding is refused for the rest of it.
pub const MAX_BIND_FAILURES: i64 = 5;
/// How long fetching and keeping a message's photo or voice may take before the reply leaves without it.
pub const MEDIA_BUDGET: std::time::Duration = std::time::Duration::from_millis(3000);
/// How long a repeated delivery waits for the answer the first one is giving.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_millis(4000);
/// A message claimed this long ago and still unanswered was left by a node that stopped while answering it.
/// WeChat delivers a message at most three times, about 5 s apart: the third delivery takes such a claim over.
const ABANDONED_AFTER: Duration = Duration::seconds(8);

/// What Wujia answers a follower; the faces word it (in Chinese, as WeChat shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// A new request was taken in.
    Taken {
        /// Its number.
        number: String,
        /// Its time limit.
        resolve_due: DateTime<Utc>,
        /// The photo or voice could not be kept.
        media_missing: bool,
    },
    /// The message joined the follower's open request.
    Added {
        /// The request's number.
        number: String,
        /// The photo or voice could not be kept.
        media_missing: bool,
    },
    /// The follower is now bound to the household.
    Bound {
        /// The household's address.
        address: String,
    },
    /// The follower was bound already.
    AlreadyBound,
    /// The code is wrong, used or expired.
    WrongCode,
    /// Too many wrong codes today.
    TooManyTries,
    /// The binding was ended.
    Unbound,
    /// Asked to unbind, but not bound.
    NotBound,
    /// An unbound follower's message, kept for staff.
    Enquiry,
    /// A new follower.
    Welcome,
    /// A kind of message Wujia does not take in (video, link …).
    NotTakenIn,
    /// Nothing to say (unfollowing, other events, or a delivery whose answer is still being given).
    Silent,
}

/// Who is writing: a follower, and the resident account writing for them when bound.
#[derive(Debug, Clone)]
pub struct Follower {
    /// The follower.
    pub openid: OpenId,
    /// The bound resident, as use cases see her.
    pub resident: Option<Caller>,
}

/// The follower behind an openid.
pub async fn follower(app: &App, openid: &OpenId) -> Result<Follower> {
    let Some(binding) = app.store.wechat_binding(openid.as_str()).await? else {
        return Ok(Follower { openid: openid.clone(), resident: None });
    };
    let user = app.store.user(binding.user_id).await?;
    if !user.active {
        return Ok(Follower { openid: openid.clone(), resident: None });
    }
    let actor = app.store.actor(&user).await?;
    Ok(Follower { openid: openid.clone(), resident: Some(Caller { user, actor, key: None }) })
}

/// Answers a message from WeChat, once per message however often WeChat delivers it.
pub async fn receive(app: &App, api: &WechatApi, blobs: &BlobStore, message: &Incoming) -> Result<Answer> {
    let key = message.dedupe_key();
    let now = app.clock.now();
    match app.store.claim_wechat_message(&key, now, now - ABANDONED_AFTER).await? {
        MessageClaim::Answered(stored) => return stored_answer(&stored),
        MessageClaim::Answering => return answer_of_other_delivery(app, &key).await,
        MessageClaim::Ours => {}
    }
    match answer(app, api, blobs, message).await {
        Ok(a) => {
            let stored = serde_json::to_string(&a).map_err(|e| AppError::Internal(format!("an answer: {e}")))?;
            app.store.answer_wechat_message(&key, &stored).await?;
            Ok(a)
        }
        Err(e) => {
            // Let WeChat's next delivery try again from the start.
            if let Err(release) = app.store.release_wechat_message(&key).await {
                tracing::error!(error = %release, "a failed WeChat message stays claimed; its retries go unanswered");
            }
            Err(e)
        }
    }
}

fn stored_answer(stored: &str) -> Result<Answer> {
    serde_json::from_str(stored).map_err(|e| AppError::Internal(format!("a stored WeChat answer is unreadable: {e}")))
}

async fn answer_of_other_delivery(app: &App, key: &str) -> Result<Answer> {
    let until = tokio::time::Instant::now() + ANSWER_WAIT;
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if let Some(stored) = app.store.wechat_answer(key).await? {
            return stored_answer(&stored);
        }
    }
    // WeChat delivers once more; the answer will be there.
    Ok(Answer::Silent)
}

/// A keyword a follower may send.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Keyword {
    /// `绑定 123456`.
    Bind(String),
    /// `解除绑定` or `解绑`.
    Unbind,
}

fn keyword(text: &str) -> Option<Keyword> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("绑定") {
        return Some(Keyword::Bind(rest.chars().filter(|c| !c.is_whitespace()).collect()));
    }
    matches!(text, "解除绑定" | "解绑").then_some(Keyword::Unbind)
}

async fn answer(app: &App, api: &WechatApi, blobs: &BlobStore, message: &Incoming) -> Result<Answer> {
    let follower = follower(app, &message.from).await?;
    if let Body::Text { content } = &message.body {
        match keyword(content) {
            Some(Keyword::Bind(code)) => return bind(app, &follower, &code).await,
            Some(Keyword::Unbind) => return unbind(app, &follower).await,
            None => {}
        }
    }
    match (&message.body, &follower.resident) {
        (Body::Event { event }, _) => Ok(if event == "subscribe" { Answer::Welcome } else { Answer::Silent }),
        (Body::Other { .. }, _) => Ok(Answer::NotTakenIn),
        (body, None) => {
            let (kind, content) = describe(body);
            app.store.add_wechat_enquiry(follower.openid.as_str(), kind, &content, app.clock.now()).await?;
            Ok(Answer::Enquiry)
        }
        (body, Some(resident)) => take(app, api, blobs, resident, body).await,
    }
}

/// The kind of a message and the words it puts on a request.
fn describe(body: &Body) -> (&'static str, String) {
    match body {
        Body::Text { content } => ("text", content.trim().to_string()),
        Body::Image { .. } => ("image", "(居民通过微信发来照片)".into()),
        Body::Voice { recognition, .. } => {
            ("voice", recognition.clone().unwrap_or_else(|| "(居民通过微信发来语音)".into()))
        }
        Body::Location { latitude, longitude, label } => {
            ("location", format!("位置:{label}(纬度 {latitude},经度 {longitude})"))
        }
        Body::Event { event } => ("event", event.clone()),
        Body::Other { msg_type } => ("other", msg_type.clone()),
    }
}

async fn intake_category(app: &App) -> Result<i64> {
    app.store
        .categories()
        .await?
        .into_iter()
        .find(|c| c.code == INTAKE_CATEGORY && c.active)
        .map(|c| c.id)
        .ok_or_else(|| AppError::Internal(format!("the category {INTAKE_CATEGORY} for WeChat messages is missing")))
}

async fn take(app: &App, api: &WechatApi, blobs: &BlobStore, resident: &Caller, body: &Body) -> Result<Answer> {
    let now = app.clock.now();
    let (kind, description) = describe(body);
    // WeChat allows 2,048 bytes of text; a request holds 2,000 characters.
    let description: String = description.chars().take(2000).collect();
    if description.is_empty() {
        return Ok(Answer::NotTakenIn);
    }
    let open = app.store.open_wechat_request(resident.user.id, now - JOINS_WITHIN).await?;
    let (request, joined) = match open {
        Some(r) => {
            let mut change = resident.change(now, "request.wechat_message", Some(r.community_id));
            change.entity = "request".into();
            change.entity_id = r.id.to_string();
            change.after = serde_json::json!({"kind": kind, "text": description});
            app.store.record(&change).await?;
            (r, true)
        }
        None => {
            let new = TakeIn { category_id: intake_category(app).await?, description, ..TakeIn::default() };
            let view = take_in(app, resident, &new, Some(Channel::Wechat)).await?;
            (app.store.request(view.id).await?, false)
        }
    };
    let media_missing = match body {
        Body::Image { media_id } => !keep_media(app, api, blobs, resident, &request, media_id, true).await?,
        Body::Voice { media_id, .. } => !keep_media(app, api, blobs, resident, &request, media_id, false).await?,
        _ => false,
    };
    Ok(if joined {
        Answer::Added { number: request.number, media_missing }
    } else {
        Answer::Taken { number: request.number, resolve_due: request.resolve_due, media_missing }
    })
}

/// Why a message's photo or voice was not kept.
#[derive(Debug, thiserror::Error)]
enum MediaError {
    #[error("fetching the media")]
    Api(#[from] ApiError),
    #[error("keeping the media")]
    App(#[from] AppError),
    #[error("writing the media")]
    Blob(#[source] std::io::Error),
    #[error("the media task failed")]
    Task(#[source] tokio::task::JoinError),
    #[error("the request has its {0} photos already")]
    Full(usize),
    #[error("fetching and keeping the media took over {MEDIA_BUDGET:?}")]
    Slow,
}

/// Photos a request may carry.
const MAX_PHOTOS: usize = 9;

/// Fetches and keeps a message's photo or voice within [`MEDIA_BUDGET`]; true when kept. A failure is logged and
/// recorded on the request (staff ask the resident again); only a failure to record it is an error.
async fn keep_media(
    app: &App,
    api: &WechatApi,
    blobs: &BlobStore,
    resident: &Caller,
    request: &RequestRow,
    media_id: &str,
    photo: bool,
) -> Result<bool> {
    let kept =
        match tokio::time::timeout(MEDIA_BUDGET, fetch_and_keep(app, api, blobs, resident, request, media_id, photo))
            .await
        {
            Ok(result) => result,
            Err(_) => Err(MediaError::Slow),
        };
    let Err(e) = kept else { return Ok(true) };
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::warn!(request = request.id, error = %chain, "a WeChat photo or voice message was not kept");
    let mut change = resident.change(app.clock.now(), "request.media_missing", Some(request.community_id));
    change.entity = "request".into();
    change.entity_id = request.id.to_string();
    change.after = serde_json::json!({"kind": if photo { "image" } else { "voice" }, "reason": chain});
    app.store.record(&change).await?;
    Ok(false)
}

async fn fetch_and_keep(
    app: &App,
    api: &WechatApi,
    blobs: &BlobStore,
    resident: &Caller,
    request: &RequestRow,
    media_id: &str,
    photo: bool,
) -> std::result::Result<(), MediaError> {
    if photo {
        let held = app.store.photos(request.id).await.map_err(AppError::from)?.len();
        if held >= MAX_PHOTOS {
            return Err(MediaError::Full(held));
        }
    }
    let media = api.media(media_id).await?;
    let now = app.clock.now();
    if photo {
        let clean = crate::photos::take_in(media.bytes).await.map_err(AppError::from)?;
        let kept = crate::photos::keep(blobs, &app.store, clean).await?;
        let change = resident.change(now, "request.photo", Some(request.community_id));
        app.store
            .add_photo(request, &kept.blob, kept.media_type(), kept.size, "intake", change)
            .await
            .map_err(AppError::from)?;
    } else {
        let size = media.bytes.len() as i64;
        let store = blobs.clone();
        let blob = tokio::task::spawn_blocking(move || store.put(&media.bytes))
            .await
            .map_err(MediaError::Task)?
            .map_err(MediaError::Blob)?;
        let mut change = resident.change(now, "request.voice", Some(request.community_id));
        change.entity = "request".into();
        change.entity_id = request.id.to_string();
        change.after = serde_json::json!({"voice": blob, "media_type": media.media_type, "size": size});
        app.store.record(&change).await.map_err(AppError::from)?;
    }
    Ok(())
}

fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(format!("wechat-binding:{code}").as_bytes()))
}

async fn bind(app: &App, follower: &Follower, code: &str) -> Result<Answer> {
    if follower.resident.is_some() {
        return Ok(Answer::AlreadyBound);
    }
    let now = app.clock.now();
    let openid = follower.openid.as_str();
    if app.store.wechat_bind_failures(openid, now - Duration::days(1)).await? >= MAX_BIND_FAILURES {
        return Ok(Answer::TooManyTries);
    }
    let mut secret = [0u8; 32];
    let mut salt = [0u8; 16];
    let mut name = [0u8; 6];
    rand::rng().fill_bytes(&mut secret);
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut name);
    let password_hash = hash_password(&hex::encode(secret), &salt)
        .map_err(|e| AppError::Internal(format!("hashing a WeChat resident's password: {e}")))?;
    let new = NewWechatResident {
        username: format!("wx-{}", hex::encode(name)),
        display_name: format!("微信住户 {}", follower.openid.masked()),
        password_hash,
    };
    match app.store.bind_wechat(openid, &code_hash(code), &new, now).await {
        Ok(Some((_, household))) => {
            let h = app.store.household(household, app.clock.today()).await?;
            Ok(Answer::Bound { address: h.address })
        }
        Ok(None) => {
            app.store.record_wechat_bind_failure(openid, now).await?;
            Ok(Answer::WrongCode)
        }
        // Another delivery bound the follower, or took the code, at the same moment.
        Err(StoreError::Conflict(_)) => {
            Ok(if app.store.wechat_binding(openid).await?.is_some() { Answer::AlreadyBound } else { Answer::WrongCode })
        }
        Err(e) => Err(e.into()),
    }
}

async fn unbind(app: &App, follower: &Follower) -> Result<Answer> {
    let Some(resident) = &follower.resident else { return Ok(Answer::NotBound) };
    let Some(binding) = app.store.wechat_binding_of(resident.user.id).await? else { return Ok(Answer::NotBound) };
    let community = resident.actor.communities.first().copied();
    let change = resident.change(app.clock.now(), "wechat.unbind", community);
    Ok(if app.store.unbind_wechat(&binding, change).await? { Answer::Unbound } else { Answer::NotBound })
}

/// A binding code staff hand to a household.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BindingCode {
    /// Six digits the resident sends to the account as `绑定 123456`.
    pub code: String,
    /// The household.
    pub household_id: i64,
    /// Until when it can be used.
    pub expires_at: DateTime<Utc>,
}

/// Issues a one-time binding code for a household, for staff who may issue its sign-up codes.
pub async fn issue_code(app: &App, caller: &Caller, household: i64) -> Result<BindingCode> {
    let h = app.store.household(household, app.clock.today()).await?;
    crate::registry::visible(caller, Action::IssueSignupCode, Scope::household(h.community_id, h.building_id, h.id))?;
    let expires_at = app.clock.now() + CODE_VALID;
    // A draw that collides with an open code is drawn again.
    for _ in 0..5 {
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let change = caller.change(app.clock.now(), "wechat.code_issue", Some(h.community_id));
        match app.store.issue_wechat_code(h.id, &code_hash(&code), expires_at, change).await {
            Ok(()) => return Ok(BindingCode { code, household_id: h.id, expires_at }),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal("no free WeChat binding code in five draws".into()))
}

/// An unbound follower's message as staff see it: the sender masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnquiryView {
    /// Id.
    pub id: i64,
    /// The sender, masked (`oAbC****yz`).
    pub from: String,
    /// `text`, `image`, `voice` or `location`.
    pub kind: String,
    /// What was sent (for a photo or voice, a note that one was sent).
    pub content: String,
    /// When.
    pub received_at: DateTime<Utc>,
    /// The household it was attached to.
    pub household_id: Option<i64>,
    /// The request it became.
    pub request_id: Option<i64>,
}

impl EnquiryView {
    fn of(e: WechatEnquiry) -> Self {
        let from = OpenId::parse(&e.openid).map_or_else(|| "****".to_string(), |o| o.masked());
        Self {
            id: e.id,
            from,
            kind: e.kind,
            content: e.content,
            received_at: e.received_at,
            household_id: e.household_id,
            request_id: e.request_id,
        }
    }
}

/// Unbound followers' enquiries, newest first (only those not yet attached when `open`), for request staff.
pub async fn enquiries(app: &App, caller: &Caller, open: bool) -> Result<Vec<EnquiryView>> {
    let community = caller.community(None)?;
    caller.require(Action::ViewRequests, Scope::community(community))?;
    Ok(app.store.wechat_enquiries(open, 200).await?.into_iter().map(EnquiryView::of).collect())
}

/// Why staff could not attach an enquiry; the faces word it from their catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttachRefusal {
    /// The household named does not exist (field `household_id`).
    #[error("there is no such household")]
    UnknownHousehold,
    /// Someone attached the enquiry first.
    #[error("the enquiry was attached already")]
    AttachedAlready,
}

/// Attaches an enquiry to a household: it becomes a request of that household with channel `wechat`.
pub async fn attach(app: &App, caller: &Caller, id: i64, household: i64) -> Result<RequestView> {
    let community = caller.community(None)?;
    caller.require(Action::ViewRequests, Scope::community(community))?;
    let h = match app.store.household(household, app.clock.today()).await {
        Ok(h) => h,
        Err(StoreError::NotFound) => return Err(AttachRefusal::UnknownHousehold.into()),
        Err(e) => return Err(e.into()),
    };
    caller.require(Action::SubmitRequest, Scope::household(h.community_id, h.building_id, h.id))?;
    let enquiry = app.store.wechat_enquiry(id).await?;
    if enquiry.attached_at.is_some() {
        return Err(AttachRefusal::AttachedAlready.into());
    }
    app.store.claim_wechat_enquiry(id, h.id, caller.user.id, app.clock.now()).await.map_err(|e| match e {
        StoreError::Conflict(_) => AttachRefusal::AttachedAlready.into(),
        other => AppError::from(other),
    })?;
    let content = if enquiry.content.trim().is_empty() { &enquiry.kind } else { &enquiry.content };
    let description: String = content.chars().take(2000).collect();
    let new = TakeIn {
        category_id: intake_category(app).await?,
        description,
        household_id: Some(h.id),
        channel: Some(Channel::Wechat.code().into()),
        ..TakeIn::default()
    };
    let view = match take_in(app, caller, &new, Some(Channel::Wechat)).await {
        Ok(v) => v,
        Err(e) => {
            app.store.release_wechat_enquiry(id).await?;
            return Err(e);
        }
    };
    app.store
        .link_wechat_enquiry(id, view.id, caller.change(app.clock.now(), "wechat.enquiry_attach", Some(h.community_id)))
        .await?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_and_unbinding_keywords_are_recognised() {
        assert_eq!(keyword("绑定 123456"), Some(Keyword::Bind("123456".into())));
        assert_eq!(keyword(" 绑定123 456 "), Some(Keyword::Bind("123456".into())));
        assert_eq!(keyword("绑定\u{3000}654321"), Some(Keyword::Bind("654321".into())));
        assert_eq!(keyword("解除绑定"), Some(Keyword::Unbind));
        assert_eq!(keyword("解绑"), Some(Keyword::Unbind));
        assert_eq!(keyword("楼道灯坏了"), None);
        assert_eq!(keyword("我想绑定 123456"), None);
    }

    #[test]
    fn answers_survive_being_stored_for_retries() {
        let a =
            Answer::Taken { number: "WT-2026-000001".into(), resolve_due: DateTime::UNIX_EPOCH, media_missing: true };
        assert_eq!(stored_answer(&serde_json::to_string(&a).unwrap()).unwrap(), a);
        assert_eq!(stored_answer(r#"{"answer":"enquiry"}"#).unwrap(), Answer::Enquiry);
        assert!(stored_answer("{").is_err());
    }
}

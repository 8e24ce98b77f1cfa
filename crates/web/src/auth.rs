//! Who is asking: sessions (cookie or bearer), API tokens, login with throttling, CSRF.

use crate::AppState;
use crate::client::ClientAddr;
use crate::error::ApiError;
use crate::i18n::Lang;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use wujia_app::Caller;
use wujia_core::accounts::api_keys::{check_alive, use_worth_recording};
use wujia_core::accounts::throttle::{self, Standing, ThrottleScope};
use wujia_core::accounts::{
    Action, Actor, Scope, Surface, WeakPassword, Weakness, check_password_strength, hash_password, verify_password,
};
use wujia_store::{ApiKeyGrant, Change, User};

/// The session cookie.
pub const SESSION_COOKIE: &str = "wujia_session";
/// Prefix of long-lived API tokens, so they are recognisable in secret scanners.
pub const API_TOKEN_PREFIX: &str = "wjt_";
/// How often an attempt re-reads its throttle records when concurrent attempts keep changing them first.
const CHARGE_TRIES: usize = 4;
/// The longest username kept in a throttle record (real ones are at most 32 characters).
const MAX_THROTTLED_USERNAME: usize = 64;

/// A fresh random token, hex-encoded.
pub fn new_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Tokens are stored only as their SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password off the async threads (Argon2id is deliberately slow).
pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        hash_password(&password, &salt)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Checks the strength of a new password for the account with `own_names` (its username and display name); a
/// refusal says why in `lang`, from the catalogue (the strength estimator's own English feedback is never shown).
pub fn check_new_password(password: &str, own_names: &[&str], lang: Lang) -> Result<(), String> {
    check_password_strength(password, own_names).map_err(|e| password_refusal(e, lang))
}

fn password_refusal(e: WeakPassword, lang: Lang) -> String {
    let key = match e {
        WeakPassword::TooShort => "password.too_short",
        WeakPassword::TooLong => "password.too_long",
        WeakPassword::TooSimple => "password.too_simple",
        WeakPassword::Guessable(why) => {
            let why = match why {
                Weakness::OwnName => "password.why_own_name",
                Weakness::Common => "password.why_common",
                Weakness::KeyboardPattern => "password.why_keyboard",
                Weakness::Repeats => "password.why_repeats",
                Weakness::Sequence => "password.why_sequence",
                Weakness::Dates => "password.why_dates",
                Weakness::Word => "password.why_word",
                Weakness::Other => "password.why_other",
            };
            return lang.t("password.guessable").replace("{why}", lang.t(why));
        }
    };
    lang.t(key).to_string()
}

async fn verify_blocking(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Browser cookie: state-changing requests need the CSRF token.
    Cookie,
    /// `Authorization: Bearer` with a session token.
    BearerSession,
    /// `Authorization: Bearer` with an API token.
    ApiToken,
}

/// The authenticated caller, with how it authenticated.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The account and its assignments, as the use cases see it.
    pub caller: Caller,
    /// Hash of the session token, when authenticated by session.
    pub session: Option<String>,
    /// The session's CSRF token.
    pub csrf: String,
    /// How.
    pub via: Via,
    /// The API key the caller came with, if any.
    pub api_key: Option<ApiKeyGrant>,
}

impl std::ops::Deref for Auth {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl Auth {
    /// The authenticated account as the use cases take it.
    pub fn new(user: User, actor: Actor, session: Option<String>, csrf: String, via: Via) -> Self {
        Self { caller: Caller { user, actor, key: None }, session, csrf, via, api_key: None }
    }

    /// The account behind an API key, narrowed to the key's scope.
    fn for_key(user: User, actor: Actor, grant: ApiKeyGrant) -> Self {
        let caller = Caller { user, actor, key: Some(grant.scope) };
        Self { caller, session: None, csrf: String::new(), via: Via::ApiToken, api_key: Some(grant) }
    }

    /// Refuses a key used where its scope does not reach: an Open311 key outside `/open311/v2`, a read key
    /// sending a change. Sessions pass.
    fn admit(&self, surface: Surface, writes: bool) -> Result<(), ApiError> {
        match &self.api_key {
            Some(k) => k.scope.admits(surface, writes).map_err(ApiError::Key),
            None => Ok(()),
        }
    }

    /// Checks a permission.
    pub fn require(&self, action: Action, scope: Scope) -> Result<(), ApiError> {
        self.caller.require(action, scope).map_err(ApiError::from)
    }

    /// Checks a form's CSRF token (cookie sessions only; bearer requests cannot be forged cross-site).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), ApiError> {
        if self.via != Via::Cookie || constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// A change made by this account now, to be completed by the store.
    pub fn change(&self, state: &AppState, action: &str, community: Option<i64>) -> Change {
        self.caller.change(state.clock.now(), action, community)
    }

    /// The community the caller is working in: the requested one if assigned, else the first.
    pub fn community(&self, requested: Option<i64>) -> Result<i64, ApiError> {
        self.caller.community(requested).map_err(ApiError::from)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request was not authenticated: API callers get a 401 problem, pages a redirect to login.
pub enum AuthRejection {
    /// For `/api/…`.
    Api(ApiError),
    /// For pages.
    Login(String),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Login(next) => Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response(),
        }
    }
}

/// Percent-encodes a string for a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sessions and tokens this node looked up recently; see [`crate::Config::session_cache_seconds`].
pub struct SessionCache {
    ttl: std::time::Duration,
    entries: std::sync::RwLock<std::collections::HashMap<String, (std::time::Instant, Auth)>>,
}

impl SessionCache {
    /// A cache keeping entries for `ttl`.
    pub fn new(ttl: std::time::Duration) -> Self {
        Self { ttl, entries: std::sync::RwLock::default() }
    }

    fn get(&self, key: &str) -> Option<Auth> {
        let entries = self.entries.read().ok()?;
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, a)| a.clone())
    }

    fn put(&self, key: String, auth: &Auth) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            // Bounded: stale entries are dropped wholesale when the map grows large.
            if entries.len() > 10_000 {
                entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            }
            entries.insert(key, (std::time::Instant::now(), auth.clone()));
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

/// Resolves the caller, if any.
pub async fn authenticate(state: &AppState, parts: &mut Parts) -> Result<Option<Auth>, ApiError> {
    let auth = resolve(state, parts).await?;
    if let Some(auth) = &auth {
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        // Everything that reads this extractor is the JSON API or a page; Open311 takes its key by parameter.
        auth.admit(Surface::Api, unsafe_method)?;
        // Cookie-authenticated API writes must carry the CSRF token in a header.
        if auth.via == Via::Cookie && unsafe_method && is_api(parts) {
            let header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            auth.check_csrf(header)?;
        }
    }
    Ok(auth)
}

async fn resolve(state: &AppState, parts: &Parts) -> Result<Option<Auth>, ApiError> {
    let now = state.clock.now();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let cookie = CookieJar::from_headers(&parts.headers).get(SESSION_COOKIE).map(|c| c.value().to_string());
    let key = match (&bearer, &cookie) {
        (Some(t), _) => format!("b:{}", token_hash(t)),
        (None, Some(c)) => format!("c:{}", token_hash(c)),
        (None, None) => return Ok(None),
    };
    if let Some(hit) = state.sessions.get(&key) {
        // A cached key still expires on time; a revocation on this node empties the cache.
        if let Some(k) = &hit.api_key {
            check_alive(None, k.expires_at, now).map_err(ApiError::Key)?;
        }
        return Ok(Some(hit));
    }
    let auth = if let Some(token) = bearer {
        let hash = token_hash(&token);
        if token.starts_with(API_TOKEN_PREFIX) {
            match state.store.api_key_grant(&hash).await? {
                Some(grant) => key_auth(state, grant).await?,
                None => return Err(ApiError::Unauthorized),
            }
        } else {
            match state.store.session(&hash, now).await? {
                Some((u, csrf)) => session_auth(state, u, hash, csrf, Via::BearerSession).await?,
                None => return Err(ApiError::Unauthorized),
            }
        }
    } else {
        let Some(cookie) = cookie else { return Ok(None) };
        let hash = token_hash(&cookie);
        match state.store.session(&hash, now).await? {
            Some((u, csrf)) => session_auth(state, u, hash, csrf, Via::Cookie).await?,
            None => return Ok(None),
        }
    };
    state.sessions.put(key, &auth);
    Ok(Some(auth))
}

async fn session_auth(state: &AppState, user: User, hash: String, csrf: String, via: Via) -> Result<Auth, ApiError> {
    let actor = state.store.actor(&user).await?;
    Ok(Auth::new(user, actor, Some(hash), csrf, via))
}

/// The account behind a live API key, narrowed to its scope. A revoked or expired key is refused saying so; a
/// use is written down at most once a minute, so reading with a key does not write on every request.
async fn key_auth(state: &AppState, grant: ApiKeyGrant) -> Result<Auth, ApiError> {
    let now = state.clock.now();
    check_alive(grant.revoked_at, grant.expires_at, now).map_err(ApiError::Key)?;
    if use_worth_recording(grant.last_used_at, now) {
        state.store.record_api_token_use(grant.id, now).await?;
    }
    let user = state.store.user(grant.user_id).await?;
    let actor = state.store.actor(&user).await?;
    Ok(Auth::for_key(user, actor, grant))
}

/// The path as the client sent it (nested routers see only the rest of it).
fn original_uri(parts: &Parts) -> &axum::http::Uri {
    parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0)
}

fn is_api(parts: &Parts) -> bool {
    original_uri(parts).path().starts_with("/api/")
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_api = is_api(parts);
        match authenticate(state, parts).await {
            Ok(Some(a)) => Ok(a),
            Ok(None) if is_api => Err(AuthRejection::Api(ApiError::Unauthorized)),
            Ok(None) => {
                let next = original_uri(parts).path_and_query().map_or("/", |p| p.as_str()).to_string();
                Err(AuthRejection::Login(next))
            }
            Err(ApiError::Unauthorized) if !is_api => Err(AuthRejection::Login("/".into())),
            Err(e) => Err(AuthRejection::Api(e)),
        }
    }
}

/// Checks a username and password from the client at `client` and opens a session; returns the user, the token
/// and the CSRF token. Attempts are throttled by address and by account (see [`wujia_core::accounts::throttle`]):
/// a throttled attempt is refused before its password is checked.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    client: ClientAddr,
) -> Result<(User, String, String), ApiError> {
    let now = state.clock.now();
    let username = username.trim();
    if username.is_empty() || password.is_empty() {
        return Err(ApiError::Validation(vec![crate::error::FieldIssue {
            field: if username.is_empty() { "username" } else { "password" }.into(),
            message: "不能为空 / required".into(),
            row: None,
        }]));
    }
    let throttled: String = username.chars().take(MAX_THROTTLED_USERNAME).collect();
    let address = throttle::address_subject(client.0);
    let (charged, standing) = charge_attempt(state, &throttled, &address, now).await?;
    let user = state.store.user_by_username(username).await?;
    // Verify against a fixed hash when the user is unknown, so timing does not reveal which usernames exist.
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let ok = verify_blocking(password.to_string(), hash).await?;
    let user = match user {
        Some(u) if ok && u.active => u,
        // The attempt stays charged as a failure.
        _ => return Err(ApiError::Unauthorized),
    };
    for scope in charged {
        let subject = scope.subject(&throttled, &address);
        if scope == ThrottleScope::AccountFromAddress {
            state.store.record_login_success(&subject, now).await?;
        } else {
            let previous = standing.get(scope).map(|r| r.last_failure_at);
            state.store.uncharge_login_attempt(scope, &subject, now, previous).await?;
        }
    }
    let token = new_token(32);
    let csrf = new_token(16);
    let expires = now + Duration::hours(state.config.session_hours);
    state.store.create_session(&token_hash(&token), user.id, &csrf, now, expires).await?;
    Ok((user, token, csrf))
}

/// Admits one attempt and charges it to its throttle records as a failure, or says how long to wait. Returns
/// the scopes charged and the records as they stood, for a correct password to take the charge back.
async fn charge_attempt(
    state: &AppState,
    username: &str,
    address: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<ThrottleScope>, Standing), ApiError> {
    for _ in 0..CHARGE_TRIES {
        let standing = state.store.login_standing(username, address).await?;
        standing.admit(now).map_err(|t| ApiError::TooManyRequests { retry_after: t.retry_after })?;
        let mut charged = Vec::new();
        for scope in standing.scopes(now) {
            let record = standing.get(scope);
            let subject = scope.subject(username, address);
            let seen = record.map(|r| r.failures);
            if !state.store.charge_login_attempt(scope, &subject, seen, throttle::charged(record, now), now).await? {
                break;
            }
            charged.push(scope);
        }
        if charged.len() == standing.scopes(now).len() {
            return Ok((charged, standing));
        }
        // Another attempt changed a record first: take back this one's charges and weigh it again.
        for scope in charged {
            let previous = standing.get(scope).map(|r| r.last_failure_at);
            state.store.uncharge_login_attempt(scope, &scope.subject(username, address), now, previous).await?;
        }
    }
    // Attempts keep racing for the same records: that is a burst, and bursts wait.
    Err(ApiError::TooManyRequests { retry_after: 1 })
}

/// An Argon2id hash of a random string, used to spend the same time on unknown usernames.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J3S1S5eT3pFkzBWMUUEvfA1ZtyeG1LSV5xwnjc7Qz3Q";

/// The session cookie for a token.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .build()
}

/// The account behind an Open311 `api_key` (an API key of any scope, within its scope), with its assignments.
/// `writes` says whether the request takes something in.
pub async fn api_key_auth(state: &AppState, key: &str, writes: bool) -> Result<Option<Auth>, ApiError> {
    if !key.starts_with(API_TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(grant) = state.store.api_key_grant(&token_hash(key)).await? else { return Ok(None) };
    let auth = key_auth(state, grant).await?;
    auth.admit(Surface::Open311, writes)?;
    Ok(Some(auth))
}

/// The account behind a calendar-feed token, with its assignments.
pub async fn calendar_auth(state: &AppState, token: &str) -> Result<Option<Auth>, ApiError> {
    let Some(user) = state.store.calendar_token_user(&token_hash(token)).await? else { return Ok(None) };
    let actor = state.store.actor(&user).await?;
    Ok(Some(Auth::new(user, actor, None, String::new(), Via::ApiToken)))
}

//! The inbox, outside channels (group robots), the duty roster and the record of deliveries.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiQuery, FieldIssue};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Role, Scope};

/// The caller's messages, newest first, with the unread count.
#[utoipa::path(get, path = "/api/v1/inbox", operation_id = "list_inbox", tag = "notifications",
    responses((status = 200, description = "{\"unread\", \"items\"}")), security(("bearer" = [])))]
pub async fn list_inbox(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let items = state.store.inbox(auth.user.id, 100).await?;
    Ok(Json(json!({"unread": state.store.unread(auth.user.id).await?, "items": items})))
}

/// Marks every message read.
#[utoipa::path(post, path = "/api/v1/inbox/read", operation_id = "update_inbox", tag = "notifications",
    responses((status = 204, description = "Read")), security(("bearer" = [])))]
pub async fn update_inbox(State(state): State<AppState>, auth: Auth) -> Result<StatusCode, ApiError> {
    state.store.mark_read(auth.user.id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommunityParam {
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

fn dispatcher(auth: &Auth, community: Option<i64>) -> Result<i64, ApiError> {
    let c = auth.community(community)?;
    auth.require(Action::DispatchRequests, Scope::community(c))?;
    Ok(c)
}

/// The community's outside channels (the targets are shown only to those who manage them).
#[utoipa::path(get, path = "/api/v1/notification_channels", operation_id = "list_notification_channels", tag = "notifications",
    params(CommunityParam), responses((status = 200, description = "Channels")), security(("bearer" = [])))]
pub async fn list_notification_channels(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Value>, ApiError> {
    let c = dispatcher(&auth, q.community_id)?;
    Ok(Json(json!(state.store.channels(c).await?)))
}

/// A new outside channel.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChannelBody {
    /// The community.
    pub community_id: Option<i64>,
    /// Name, e.g. 物业值班群.
    pub name: String,
    /// `wecom`, `dingtalk` or `feishu` (group robots), or `email`.
    pub kind: String,
    /// The robot's webhook URL, or the e-mail addresses (comma-separated).
    pub target: String,
    /// `duty` (every emergency), `property` (emergencies the property company handles) or `all` (every new request).
    pub purpose: String,
}

/// Adds an outside channel: a group robot or e-mail addresses.
#[utoipa::path(post, path = "/api/v1/notification_channels", operation_id = "create_notification_channel", tag = "notifications",
    request_body = ChannelBody, responses((status = 201, description = "Created"), (status = 422, description = "Invalid fields")),
    security(("bearer" = [])))]
pub async fn create_notification_channel(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ChannelBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c = dispatcher(&auth, b.community_id)?;
    let mut issues = Vec::new();
    let mut bad = |field: &str, message: &str| {
        issues.push(FieldIssue { field: field.into(), message: message.into(), row: None })
    };
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        bad("name", "名称为 1–40 个字符 / 1–40 characters");
    }
    let target = b.target.trim();
    match b.kind.as_str() {
        "wecom" | "dingtalk" | "feishu" => {
            if !(target.starts_with("https://") || target.starts_with("http://")) || target.len() > 500 {
                bad("target", "应为机器人的 Webhook 地址 / must be the robot's webhook URL");
            } else if let Err(refusal) = webhook_host(target, &state.config.webhook_allow_hosts) {
                bad("target", refusal.message());
            }
        }
        "email" => {
            if state.config.smtp.is_none() {
                bad("kind", "本服务器未配置发信服务器 (WUJIA_SMTP_URL) / no SMTP server is configured here");
            }
            if target.len() > 500 || crate::mail::recipients(target).is_err() {
                bad("target", "应为电子邮件地址，多个以逗号分隔 / e-mail addresses, separated by commas");
            }
        }
        _ => {
            bad("kind", "应为 wecom、dingtalk、feishu 或 email / must be wecom, dingtalk, feishu or email");
            if !(target.starts_with("https://") || target.starts_with("http://"))
                && crate::mail::recipients(target).is_err()
            {
                bad("target", "应为 Webhook 地址或电子邮件地址 / a webhook URL or e-mail addresses");
            }
        }
    }
    if !["duty", "property", "all"].contains(&b.purpose.as_str()) {
        bad("purpose", "应为 duty、property 或 all / must be duty, property or all");
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let channel = state
        .store
        .create_channel(
            c,
            name,
            &b.kind,
            target,
            &b.purpose,
            auth.change(&state, "notification_channel.create", Some(c)),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(channel))))
}

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DutyQuery {
    /// From (RFC 3339); default now.
    pub from: Option<DateTime<Utc>>,
    /// To (RFC 3339); default seven days later.
    pub to: Option<DateTime<Utc>>,
    /// The community.
    pub community_id: Option<i64>,
}

/// The duty roster (值班表) for a period.
#[utoipa::path(get, path = "/api/v1/duty", operation_id = "list_duty_shifts", tag = "notifications", params(DutyQuery),
    responses((status = 200, description = "Shifts")), security(("bearer" = [])))]
pub async fn list_duty_shifts(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DutyQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewRequests, Scope::community(c))?;
    let from = q.from.unwrap_or_else(|| state.clock.now());
    let to = q.to.unwrap_or(from + Duration::days(7));
    Ok(Json(json!(state.store.duty(c, from, to).await?)))
}

/// A duty shift.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DutyBody {
    /// The community.
    pub community_id: Option<i64>,
    /// Who is on duty.
    pub user_id: i64,
    /// From (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    /// Until (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<Utc>,
    /// Note.
    #[serde(default)]
    pub note: String,
}

/// Puts someone on duty; emergencies in that time reach them at once.
#[utoipa::path(post, path = "/api/v1/duty", operation_id = "create_duty_shift", tag = "notifications", request_body = DutyBody,
    responses((status = 201, description = "Created"), (status = 422, description = "Invalid fields")), security(("bearer" = [])))]
pub async fn create_duty_shift(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<DutyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c = dispatcher(&auth, b.community_id)?;
    if b.ends_at <= b.starts_at || b.ends_at - b.starts_at > Duration::days(7) {
        return Err(ApiError::field("ends_at", "须晚于开始时间且不超过 7 天 / must be after the start, within 7 days"));
    }
    let user =
        state.store.user(b.user_id).await.map_err(|_| ApiError::field("user_id", "账号不存在 / unknown account"))?;
    let actor = state.store.actor(&user).await?;
    if !user.active || !actor.communities.contains(&c) || matches!(user.role(), Role::Resident | Role::Volunteer) {
        return Err(ApiError::field("user_id", "须为本社区在岗的工作人员 / must be active staff of this community"));
    }
    let id = state
        .store
        .add_duty(
            c,
            b.user_id,
            b.starts_at,
            b.ends_at,
            b.note.trim(),
            auth.change(&state, "duty_shift.create", Some(c)),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

/// Deliveries to outside channels, newest first, with their attempts and errors.
#[utoipa::path(get, path = "/api/v1/deliveries", operation_id = "list_deliveries", tag = "notifications", params(CommunityParam),
    responses((status = 200, description = "Deliveries")), security(("bearer" = [])))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Value>, ApiError> {
    let c = dispatcher(&auth, q.community_id)?;
    let mut rows = state.store.deliveries(c, 200).await?;
    for d in &mut rows {
        // Robot URLs carry their secret key, in the query (WeCom, DingTalk) or in the path (Feishu): only the
        // scheme and host are shown. E-mail targets are addresses and stay.
        if let Ok(url) = reqwest::Url::parse(&d.target)
            && url.has_host()
        {
            d.target = url.origin().ascii_serialization();
        }
    }
    Ok(Json(json!(rows)))
}

/// Why a webhook URL may not be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebhookRefusal {
    /// Not a URL with a host.
    Malformed,
    /// Loopback, private, link-local (cloud metadata) or otherwise not on the public internet.
    Private,
}

impl WebhookRefusal {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Malformed => "应为机器人的 Webhook 地址 / must be the robot's webhook URL",
            Self::Private => {
                "Webhook 地址指向本机或内网;如确需使用,请管理员在 WUJIA_WEBHOOK_ALLOW_HOSTS 中允许该主机 / \
                 the webhook points at this machine or a private network: an admin may allow the host in \
                 WUJIA_WEBHOOK_ALLOW_HOSTS"
            }
        }
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared, documentation or
/// unspecified, nor an IPv4 address wrapped in IPv6).
pub(crate) fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks a webhook URL's host before it is stored or called: a host an admin allowed (`WUJIA_WEBHOOK_ALLOW_HOSTS`,
/// `host` or `host:port`) passes; an address that is not public, or a name such as `localhost`, is refused.
/// Returns the host and port to resolve.
pub(crate) fn webhook_host(url: &str, allow: &[String]) -> Result<(String, u16), WebhookRefusal> {
    let url = reqwest::Url::parse(url).map_err(|_| WebhookRefusal::Malformed)?;
    let name = url.host_str().ok_or(WebhookRefusal::Malformed)?.to_ascii_lowercase();
    let port = url.port_or_known_default().ok_or(WebhookRefusal::Malformed)?;
    let bare = name.trim_start_matches('[').trim_end_matches(']').to_string();
    if allowed(allow, &bare, port) {
        return Ok((bare, port));
    }
    let private = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => !is_public(ip),
        Err(_) => {
            let d = bare.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost") || !d.contains('.')
        }
    };
    if private { Err(WebhookRefusal::Private) } else { Ok((bare, port)) }
}

fn allowed(allow: &[String], host: &str, port: u16) -> bool {
    allow
        .iter()
        .map(|a| a.trim())
        .any(|a| a.eq_ignore_ascii_case(host) || a.eq_ignore_ascii_case(&format!("{host}:{port}")))
}

/// Checks a webhook URL just before it is called: the host is checked again and every address it resolves to
/// must be public (a public name may point at a private address), unless an admin allowed the host.
pub(crate) async fn check_webhook(url: &str, allow: &[String]) -> Result<(), String> {
    let (host, port) = webhook_host(url, allow).map_err(|r| r.message().to_string())?;
    if allowed(allow, &host, port) {
        return Ok(());
    }
    let addrs = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| "the webhook's host could not be resolved".to_string())?;
    for a in addrs {
        if !is_public(a.ip()) {
            return Err(WebhookRefusal::Private.message().to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_to_private_addresses_are_refused_unless_allowed() {
        let none: Vec<String> = Vec::new();
        for bad in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://10.1.2.3/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00::1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://intranet/",
        ] {
            assert_eq!(webhook_host(bad, &none), Err(WebhookRefusal::Private), "{bad}");
        }
        assert!(webhook_host("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", &none).is_ok());
        assert!(webhook_host("https://8.8.8.8/", &none).is_ok());
        let allow = vec!["127.0.0.1".to_string()];
        assert!(webhook_host("http://127.0.0.1:8080/hook", &allow).is_ok());
        assert_eq!(webhook_host("http://127.0.0.2/hook", &allow), Err(WebhookRefusal::Private));
    }
}

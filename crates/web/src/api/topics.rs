//! Deliberation (协商议事) over HTTP: topics, support, discussion, the meeting, the vote and its ballots, the public
//! notice with its objection period, and the progress residents follow.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::form::field_error;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::period::beijing_time;
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::deliberation::{DeliberationError, TopicStatus, VoteMode, after_count, check_vote, tally};
use wujia_store::{Topic, TopicUpdate};

fn staff(auth: &Auth, community: i64) -> bool {
    auth.can(Action::ManageReception, Scope::community(community))
}

/// The caller's household, with the right to take part for it.
async fn own_household(state: &AppState, auth: &Auth, community: i64) -> Result<i64, ApiError> {
    let h = auth.actor.household.ok_or(ApiError::Forbidden)?;
    let hh = state.store.household(h, state.clock.today()).await?;
    if hh.community_id != community {
        return Err(ApiError::NotFound);
    }
    auth.require(Action::TakePart, Scope::household(hh.community_id, hh.building_id, hh.id))?;
    Ok(h)
}

async fn topic_for(state: &AppState, auth: &Auth, id: i64) -> Result<Topic, ApiError> {
    let t = state.store.topic(id).await?;
    if !auth.actor.communities.contains(&t.community_id) && auth.role() != Role::Admin {
        return Err(ApiError::NotFound);
    }
    Ok(t)
}

/// A topic as shown: the count is shown once counted, or live for an open vote.
pub(crate) async fn topic_json(state: &AppState, auth: &Auth, t: &Topic) -> Result<Value, ApiError> {
    let mut v = json!(t);
    v["vote_options"] = json!(t.options());
    v["result"] = t.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or(Value::Null);
    v["threshold"] = json!(state.store.topic_threshold(t.community_id).await?);
    let is_staff = staff(auth, t.community_id);
    let notes: Vec<Value> = state
        .store
        .topic_notes(t.id)
        .await?
        .into_iter()
        .map(|n| {
            let mut j = json!(n);
            if n.hidden && !is_staff {
                j["text"] = json!("（该留言已被隐藏）");
            }
            j
        })
        .collect();
    v["notes"] = json!(notes);
    let ballots = state.store.ballots(t.id).await?;
    if let Some(h) = auth.actor.household {
        v["my_household_voted"] =
            json!(ballots.iter().any(|b| b.0 == format!("h:{h}") || b.0.starts_with(&format!("h:{h}:"))));
    }
    if t.state() == TopicStatus::Voting && !t.secret {
        let choices: Vec<String> = ballots.iter().map(|b| b.1.clone()).collect();
        v["live"] = json!(tally(&t.options(), &choices, u32::try_from(t.quorum.unwrap_or(1)).unwrap_or(1)));
    }
    Ok(v)
}

/// A topic to propose.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TopicBody {
    /// Title.
    pub title: String,
    /// What is proposed and why.
    pub body: String,
    /// The community.
    pub community_id: Option<i64>,
}

/// Proposes a topic: a resident's is tabled once enough households support it; staff topics are tabled at once.
#[utoipa::path(post, path = "/api/v1/topics", operation_id = "create_topic", tag = "deliberation", request_body = TopicBody,
    responses((status = 201, description = "Proposed")), security(("bearer" = [])))]
pub async fn create_topic(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<TopicBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let t = propose(&state, &auth, &b).await?;
    Ok((StatusCode::CREATED, Json(topic_json(&state, &auth, &t).await?)))
}

pub(crate) async fn propose(state: &AppState, auth: &Auth, b: &TopicBody) -> Result<Topic, ApiError> {
    let c = auth.community(b.community_id)?;
    let (title, body) = (b.title.trim(), b.body.trim());
    if title.is_empty() || title.chars().count() > 100 {
        return Err(ApiError::field("title", "请填写议题（最多 100 字）/ give the topic a title"));
    }
    if body.is_empty() || body.chars().count() > 3000 {
        return Err(ApiError::field("body", "请说明议题内容（最多 3000 字）/ describe the topic"));
    }
    let by_staff = staff(auth, c);
    let household = if by_staff { None } else { Some(own_household(state, auth, c).await?) };
    Ok(state
        .store
        .create_topic(c, (title, body), household, by_staff, auth.change(state, "topic.create", Some(c)))
        .await?)
}

/// Topics of the caller's community, newest first.
#[utoipa::path(get, path = "/api/v1/topics", operation_id = "list_topics", tag = "deliberation",
    responses((status = 200, description = "Topics")), security(("bearer" = [])))]
pub async fn list_topics(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<Topic>>, ApiError> {
    let c = auth.community(None)?;
    Ok(Json(state.store.topics(c).await?))
}

/// A topic with its discussion, updates and the count.
#[utoipa::path(get, path = "/api/v1/topics/{id}", operation_id = "get_topic", tag = "deliberation",
    params(("id" = i64, Path, description = "Topic")), responses((status = 200, description = "The topic")), security(("bearer" = [])))]
pub async fn get_topic(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let t = topic_for(&state, &auth, id).await?;
    Ok(Json(topic_json(&state, &auth, &t).await?))
}

/// The caller's household supports a topic.
#[utoipa::path(post, path = "/api/v1/topics/{id}/supports", operation_id = "create_topic_support", tag = "deliberation",
    params(("id" = i64, Path, description = "Topic")), responses((status = 201, description = "Supported"), (status = 409, description = "Already")),
    security(("bearer" = [])))]
pub async fn create_topic_support(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let t = support(&state, &auth, id).await?;
    Ok((StatusCode::CREATED, Json(topic_json(&state, &auth, &t).await?)))
}

pub(crate) async fn support(state: &AppState, auth: &Auth, id: i64) -> Result<Topic, ApiError> {
    let t = topic_for(state, auth, id).await?;
    if t.state() != TopicStatus::Proposed && t.state() != TopicStatus::Tabled {
        return Err(field_error(DeliberationError::OutOfOrder));
    }
    let h = own_household(state, auth, t.community_id).await?;
    let threshold = state.store.topic_threshold(t.community_id).await?;
    Ok(state.store.support_topic(&t, h, threshold, auth.change(state, "topic.support", Some(t.community_id))).await?)
}

/// A comment in the discussion.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CommentBody {
    /// Text.
    pub text: String,
}

/// Adds a comment to the discussion.
#[utoipa::path(post, path = "/api/v1/topics/{id}/comments", operation_id = "create_topic_comment", tag = "deliberation",
    params(("id" = i64, Path, description = "Topic")), request_body = CommentBody, responses((status = 201, description = "Added")),
    security(("bearer" = [])))]
pub async fn create_topic_comment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CommentBody>,
) -> Result<StatusCode, ApiError> {
    comment(&state, &auth, id, &b.text).await?;
    Ok(StatusCode::CREATED)
}

pub(crate) async fn comment(state: &AppState, auth: &Auth, id: i64, text: &str) -> Result<(), ApiError> {
    let t = topic_for(state, auth, id).await?;
    if !staff(auth, t.community_id) {
        own_household(state, auth, t.community_id).await?;
    }
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 1000 {
        return Err(ApiError::field("text", "请填写留言（最多 1000 字）/ write the comment"));
    }
    Ok(state
        .store
        .add_topic_note(&t, "comment", text, auth.change(state, "topic.comment", Some(t.community_id)))
        .await?)
}

/// Hides a comment (moderation).
#[utoipa::path(post, path = "/api/v1/topics/{id}/comments/{comment}/hidden", operation_id = "update_topic_comment", tag = "deliberation",
    params(("id" = i64, Path, description = "Topic"), ("comment" = i64, Path, description = "Comment")),
    responses((status = 204, description = "Hidden")), security(("bearer" = [])))]
pub async fn update_topic_comment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, cid)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let t = topic_for(&state, &auth, id).await?;
    auth.require(Action::ManageReception, Scope::community(t.community_id))?;
    state.store.hide_comment(&t, cid, auth.change(&state, "topic.moderate", Some(t.community_id))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A step on a topic.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TopicAction {
    /// `meeting` (with `at`, `minutes`), `open_vote` (with `mode`, `options`, `quorum`, `secret`, `closes_at`), `count`
    /// (with `objection_days`), `objection` (with `text`), `start`, `progress` (with `text`), `complete`.
    pub action: String,
    /// Meeting time (Beijing, `2024-03-12T19:00`).
    pub at: Option<String>,
    /// Minutes of the meeting.
    pub minutes: Option<String>,
    /// `per_household` or `per_resident`.
    pub mode: Option<String>,
    /// Options.
    pub options: Option<Vec<String>>,
    /// Ballots needed.
    pub quorum: Option<u32>,
    /// Secret ballot.
    #[serde(default)]
    pub secret: bool,
    /// Voting closes (Beijing time).
    pub closes_at: Option<String>,
    /// Days of the objection period after the count (default 7).
    pub objection_days: Option<i64>,
    /// Text of an objection or a progress update.
    pub text: Option<String>,
    /// Version last read.
    pub version: i64,
}

/// Takes a topic a step further: the meeting, the vote, the count and public notice, objections, progress.
#[utoipa::path(post, path = "/api/v1/topics/{id}/actions", operation_id = "update_topic", tag = "deliberation",
    params(("id" = i64, Path, description = "Topic")), request_body = TopicAction,
    responses((status = 200, description = "Done"), (status = 422, description = "Not allowed now")), security(("bearer" = [])))]
pub async fn update_topic(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TopicAction>,
) -> Result<Json<Value>, ApiError> {
    let t = act(&state, &auth, id, &b).await?;
    Ok(Json(topic_json(&state, &auth, &t).await?))
}

pub(crate) async fn act(state: &AppState, auth: &Auth, id: i64, b: &TopicAction) -> Result<Topic, ApiError> {
    let t = topic_for(state, auth, id).await?;
    let now = state.clock.now();
    let status = t.state();
    if b.version != t.version {
        return Err(ApiError::Conflict("议题已被他人更新，请刷新 / the topic was changed by someone else".into()));
    }
    let change = auth.change(state, &format!("topic.{}", b.action), Some(t.community_id));
    let text = || b.text.as_deref().map(str::trim).filter(|x| !x.is_empty() && x.chars().count() <= 1000);
    // Objections come from residents during the public notice.
    if b.action == "objection" {
        if !staff(auth, t.community_id) {
            own_household(state, auth, t.community_id).await?;
        }
        if status != TopicStatus::Publicized || t.objection_until.is_none_or(|u| now > u) {
            return Err(field_error(DeliberationError::PeriodOver));
        }
        let text = text().ok_or_else(|| ApiError::field("text", "请写明异议 / write the objection"))?;
        state.store.add_topic_note(&t, "objection", text, change).await?;
        return Ok(state.store.topic(id).await?);
    }
    auth.require(Action::ManageReception, Scope::community(t.community_id))?;
    let mut u = TopicUpdate::default();
    match b.action.as_str() {
        "meeting" => {
            if !matches!(status, TopicStatus::Tabled | TopicStatus::Voting) {
                return Err(field_error(DeliberationError::OutOfOrder));
            }
            let at = beijing_time("at", b.at.as_deref().unwrap_or_default())?;
            let minutes = b.minutes.as_deref().map(str::trim).unwrap_or_default();
            if minutes.chars().count() > 5000 {
                return Err(ApiError::field("minutes", "纪要最多 5000 字 / at most 5000 characters"));
            }
            u.meeting = Some((at, minutes.to_string()));
        }
        "open_vote" => {
            let mode = VoteMode::parse(b.mode.as_deref().unwrap_or("per_household"))
                .ok_or_else(|| ApiError::field("mode", "应为 per_household 或 per_resident"))?;
            let closes = beijing_time("closes_at", b.closes_at.as_deref().unwrap_or_default())?;
            let options =
                check_vote(status, b.options.as_deref().unwrap_or_default(), b.quorum.unwrap_or(0), closes, now)
                    .map_err(field_error)?;
            u.status = Some(TopicStatus::Voting.code().into());
            u.vote = Some((mode.code().into(), options, i64::from(b.quorum.unwrap_or(0)), b.secret, closes));
        }
        "count" => {
            if status != TopicStatus::Voting {
                return Err(field_error(DeliberationError::NotVoting));
            }
            if t.vote_closes_at.is_some_and(|c| now < c) {
                return Err(field_error(DeliberationError::StillOpen));
            }
            let choices: Vec<String> = state.store.ballots(t.id).await?.into_iter().map(|b| b.1).collect();
            let result = tally(&t.options(), &choices, u32::try_from(t.quorum.unwrap_or(1)).unwrap_or(1));
            let days = b.objection_days.unwrap_or(7).clamp(1, 30);
            u.status = Some(after_count(&result).code().into());
            u.result = Some((json!(result), now + Duration::days(days)));
        }
        "start" => {
            if status != TopicStatus::Publicized || t.objection_until.is_some_and(|until| now <= until) {
                return Err(field_error(DeliberationError::OutOfOrder));
            }
            u.status = Some(TopicStatus::InProgress.code().into());
        }
        "progress" => {
            if status != TopicStatus::InProgress {
                return Err(field_error(DeliberationError::OutOfOrder));
            }
            let text = text().ok_or_else(|| ApiError::field("text", "请写明进展 / describe the progress"))?;
            state.store.add_topic_note(&t, "progress", text, change).await?;
            return Ok(state.store.topic(id).await?);
        }
        "complete" => {
            if status != TopicStatus::InProgress {
                return Err(field_error(DeliberationError::OutOfOrder));
            }
            u.status = Some(TopicStatus::Completed.code().into());
        }
        _ => return Err(ApiError::field("action", "未知操作 / unknown action")),
    }
    Ok(state.store.update_topic(&t, &u, change).await?)
}

/// A ballot.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BallotBody {
    /// The option chosen.
    pub choice: String,
    /// The voting household (staff entering a paper ballot); residents vote for their own.
    pub household_id: Option<i64>,
    /// The voting resident (votes of one per resident).
    pub resident_id: Option<i64>,
}

/// Casts a ballot online for the caller's household (or as a resident of it), or enters a paper ballot (staff);
/// a household or resident votes once.
#[utoipa::path(post, path = "/api/v1/topics/{id}/ballots", operation_id = "create_ballot", tag = "deliberation",
    params(("id" = i64, Path, description = "Topic")), request_body = BallotBody,
    responses((status = 201, description = "Counted"), (status = 422, description = "Voted already, closed, or not open")),
    security(("bearer" = [])))]
pub async fn create_ballot(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<BallotBody>,
) -> Result<StatusCode, ApiError> {
    vote(&state, &auth, id, &b).await?;
    Ok(StatusCode::CREATED)
}

pub(crate) async fn vote(state: &AppState, auth: &Auth, id: i64, b: &BallotBody) -> Result<(), ApiError> {
    let t = topic_for(state, auth, id).await?;
    let is_staff = staff(auth, t.community_id);
    let (household, channel) = match (is_staff, b.household_id) {
        (true, Some(h)) => (h, "paper"),
        (_, _) => (own_household(state, auth, t.community_id).await?, "online"),
    };
    let hh = state
        .store
        .household(household, state.clock.today())
        .await
        .map_err(|_| ApiError::field("household_id", "住户不存在 / unknown household"))?;
    if hh.community_id != t.community_id {
        return Err(ApiError::field("household_id", "住户不在本社区 / the household is in another community"));
    }
    let mode = t.vote_mode.as_deref().and_then(VoteMode::parse).unwrap_or(VoteMode::PerHousehold);
    let (key, resident) = match mode {
        VoteMode::PerHousehold => (format!("h:{household}"), None),
        VoteMode::PerResident => {
            let r = b.resident_id.ok_or_else(|| {
                ApiError::field("resident_id", "一人一票：请选择投票的居民 / choose the voting resident")
            })?;
            if !hh.residents.iter().any(|x| x.id == r) {
                return Err(ApiError::field("resident_id", "不是本户居民 / not a resident of this household"));
            }
            (format!("h:{household}:r:{r}"), Some(r))
        }
    };
    Ok(state
        .store
        .cast_ballot(
            &t,
            (&key, household, resident),
            b.choice.trim(),
            channel,
            auth.change(state, "topic.ballot", Some(t.community_id)),
        )
        .await?)
}

/// Community settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SettingsBody {
    /// Households whose support tables a resident's topic.
    pub topic_threshold: i64,
}

/// Sets how many households must support a resident's topic before it is tabled.
#[utoipa::path(patch, path = "/api/v1/communities/{id}/settings", operation_id = "update_community_settings", tag = "deliberation",
    params(("id" = i64, Path, description = "Community")), request_body = SettingsBody, responses((status = 204, description = "Saved")),
    security(("bearer" = [])))]
pub async fn update_community_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SettingsBody>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageStructure, Scope::community(id))?;
    if !(1..=1000).contains(&b.topic_threshold) {
        return Err(ApiError::field("topic_threshold", "附议户数 1 到 1000 / 1 to 1000 households"));
    }
    state.store.set_topic_threshold(id, b.topic_threshold, auth.change(&state, "community.settings", Some(id))).await?;
    Ok(StatusCode::NO_CONTENT)
}

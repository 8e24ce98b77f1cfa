//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.

pub(crate) mod accounts;
pub(crate) mod activities;
pub(crate) mod api_keys;
mod audit;
pub(crate) mod batches;
pub(crate) mod cases;
pub(crate) mod catalogue;
pub(crate) mod dashboard;
pub(crate) mod duty;
mod hotline;
pub(crate) mod households;
pub(crate) mod meetings;
pub(crate) mod notifications;
mod open311;
pub(crate) mod patrol;
pub(crate) mod photos;
pub(crate) mod proposals;
pub(crate) mod reception;
pub(crate) mod registry;
pub(crate) mod reports;
pub(crate) mod requests;
pub(crate) mod search;
pub(crate) mod sessions;
mod structure;
pub(crate) mod topics;
pub(crate) mod volunteers;
mod wechat;

use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::{any, get};
use std::sync::Arc;
use utoipa::openapi::content::{Content, ContentBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub use accounts::UserOut;

/// The document's frame: its information, schemas and security; the paths come from the routes in [`api`].
#[derive(OpenApi)]
#[openapi(
    info(title = "Wujia 吾家 API", description = "Community governance: registry, accounts and audit.", version = "1"),
    components(schemas(
        crate::error::FieldIssue, wujia_app::registry::Resident, proposals::ScanBody, proposals::DecisionBody, sessions::LoginBody, sessions::PasswordBody,
        accounts::UserOut, accounts::NewUserBody, accounts::UserPatch, api_keys::NewApiKeyBody, api_keys::ApiKeyOut, api_keys::IssuedApiKey, registry::ResidentBody,
        registry::TagBody, registry::SignupBody, structure::CommunityBody, structure::CompoundBody, structure::BuildingBody,
        structure::WorkerBody, structure::HouseholdBody, wujia_app::requests::TakeIn, requests::ActionBody,
        notifications::ChannelBody, notifications::DutyBody, batches::KnowledgeBody, batches::BatchBody, batches::AnswerBody,
        catalogue::NewCategoryBody, catalogue::CategoryPatch, catalogue::LimitBody, catalogue::DayBody,
        wujia_app::patrol::NewZone, patrol::MemberBody, wujia_app::patrol::NewCheckpoint, wujia_app::patrol::NewPlan, wujia_app::patrol::CheckIn,
        wujia_app::patrol::NewMeeting, wujia_app::patrol::Attendee, wujia_app::patrol::NewAction, wujia_app::patrol::Minutes, wujia_app::patrol::ActionProgress,
        wujia_app::reception::NewDay, wujia_app::reception::NewBooking, wujia_app::reception::NewDemand, wujia_app::reception::NewVisit, wujia_app::reception::DemandAnswer,
        volunteers::ApplicationBody, volunteers::DecisionBody, volunteers::ShiftBody, volunteers::SignupBody,
        volunteers::AttendanceBody, topics::TopicBody, topics::CommentBody, topics::TopicAction, topics::BallotBody,
        topics::SettingsBody, activities::ActivityBody, activities::RegistrationBody, activities::RegistrationAction,
        activities::CheckinBody, activities::ActivityPatch,
    )),
    modifiers(&BearerAuth),
    tags((name = "sessions"), (name = "registry"), (name = "accounts"), (name = "audit"), (name = "requests"), (name = "notifications"), (name = "patrol"), (name = "reception"), (name = "volunteers"), (name = "deliberation"), (name = "activities"), (name = "dashboard"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = doc.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Declares on every operation the problems it can answer with (`application/problem+json`, the `Problem` schema,
/// an example), as shared responses under `components/responses`, and a described success where the operation
/// declares none. What an operation declares itself stays; a problem status it declares without a body gets the
/// problem body.
struct ProblemResponses;

/// One shared problem response: its status, its name under `components/responses`, and the error of its example.
fn problem_responses() -> Vec<(StatusCode, &'static str, ApiError)> {
    vec![
        (
            StatusCode::BAD_REQUEST,
            "BadRequest",
            ApiError::BadRequest {
                field: Some("id".into()), detail: "「abc」应为整数 / expected an integer".into()
            },
        ),
        (StatusCode::UNAUTHORIZED, "Unauthorized", ApiError::Unauthorized),
        (StatusCode::FORBIDDEN, "Forbidden", ApiError::Forbidden),
        (StatusCode::NOT_FOUND, "NotFound", ApiError::NotFound),
        (
            StatusCode::CONFLICT,
            "Conflict",
            ApiError::Conflict("记录已被修改,请刷新后重试 / the record changed; reload and retry".into()),
        ),
        (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", ApiError::PayloadTooLarge),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedFile",
            ApiError::UnsupportedFile("不是 CSV 或 XLSX 文件 / not a CSV or XLSX file".into()),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            ApiError::field("phone", "手机号应为 11 位 / a mobile number has 11 digits"),
        ),
        (StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", ApiError::TooManyRequests { retry_after: 900 }),
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal", ApiError::Internal(String::new())),
    ]
}

/// The problem content of a response: the schema and an example.
fn problem_content(example: &ApiError) -> Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(<Problem as utoipa::ToSchema>::name())))
        .example(serde_json::to_value(example.problem()).ok())
        .build()
}

/// The statuses an operation can answer with a problem, from what it takes: input can be malformed (400) or
/// invalid (422), bodies too large (413) or files unreadable (415); secured operations need a caller (401) with the
/// right (403); ids can name nothing (404); changes can collide (409). Anything can fail inside (500).
fn problem_statuses(path: &str, method: &str, op: &Operation) -> Vec<StatusCode> {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_body = op.request_body.is_some();
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let names_ids = path.contains('{') || params.iter().any(|p| p.name == "id" || p.name.ends_with("_id"));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let file = op.request_body.as_ref().is_some_and(|b| b.content.keys().any(|k| k != "application/json"));
    let mut out = Vec::new();
    if has_body || !params.is_empty() {
        out.push(StatusCode::BAD_REQUEST);
    }
    if secured {
        out.extend([StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN]);
    }
    if names_ids {
        out.push(StatusCode::NOT_FOUND);
    }
    if secured && method != "get" {
        out.push(StatusCode::CONFLICT);
    }
    if has_body {
        out.push(StatusCode::PAYLOAD_TOO_LARGE);
    }
    if file {
        out.push(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    if has_body || has_query {
        out.push(StatusCode::UNPROCESSABLE_ENTITY);
    }
    out.push(StatusCode::INTERNAL_SERVER_ERROR);
    out
}

impl Modify for ProblemResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let shared = problem_responses();
        let components = doc.components.get_or_insert_with(Default::default);
        let mut schemas =
            vec![(<Problem as utoipa::ToSchema>::name().into_owned(), <Problem as utoipa::PartialSchema>::schema())];
        <Problem as utoipa::ToSchema>::schemas(&mut schemas);
        components.schemas.extend(schemas);
        for (status, name, example) in &shared {
            let title = example.problem().title;
            let response = ResponseBuilder::new()
                .description(format!("{} {title}", status.as_u16()))
                .content("application/problem+json", problem_content(example))
                .build();
            components.responses.insert(name.to_string(), RefOr::T(response));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                let statuses = problem_statuses(path, method, op);
                let responses = &mut op.responses.responses;
                if !responses.keys().any(|k| k.starts_with('2')) {
                    let ok = ResponseBuilder::new().description("成功 / Success").build();
                    responses.insert("200".into(), RefOr::T(ok));
                }
                for (status, name, example) in &shared {
                    let key = status.as_u16().to_string();
                    match responses.get_mut(&key) {
                        // Declared by the operation with its own description: it gets the problem body.
                        Some(RefOr::T(r)) if r.content.is_empty() => {
                            r.content.insert("application/problem+json".into(), problem_content(example));
                        }
                        Some(_) => {}
                        None if statuses.contains(status) => {
                            responses.insert(key, RefOr::Ref(Ref::from_response_name(*name)));
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

/// The largest form with photos: four photos at the largest size, and the fields.
pub(crate) const PHOTO_FORM_BYTES: usize = 4 * wujia_core::media::MAX_PHOTO_BYTES + 64 * 1024;

/// All `/api/v1` routes and the OpenAPI document that describes them, from one list: each handler's
/// `#[utoipa::path]` gives both its route and its operation, so the two cannot drift.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sessions::create_session, sessions::delete_session))
        .routes(routes!(sessions::get_me))
        .routes(routes!(sessions::change_password))
        .routes(routes!(registry::get_registry_summary))
        .routes(routes!(wechat::create_wechat_code))
        .routes(routes!(wechat::list_wechat_enquiries))
        .routes(routes!(wechat::create_wechat_enquiry_request))
        .routes(routes!(registry::import_residents).layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES)))
        .routes(routes!(registry::get_import_template))
        .routes(routes!(registry::export_residents))
        .routes(routes!(registry::list_communities, structure::create_community))
        .routes(routes!(registry::list_compounds, structure::create_compound))
        .routes(routes!(registry::list_buildings, structure::create_building))
        .routes(routes!(structure::update_building_social_worker))
        .routes(routes!(registry::list_units))
        .routes(routes!(structure::create_household))
        .routes(routes!(registry::search_households))
        .routes(routes!(registry::get_household))
        .routes(routes!(registry::create_resident))
        .routes(routes!(registry::create_signup_code))
        .routes(routes!(registry::get_resident, registry::update_resident))
        .routes(routes!(registry::reveal_id_card))
        .routes(routes!(registry::list_tags, registry::create_tag))
        .routes(routes!(registry::create_signup))
        .routes(routes!(accounts::list_users, accounts::create_user))
        .routes(routes!(accounts::update_user))
        .routes(routes!(api_keys::list_api_tokens, api_keys::create_api_token))
        .routes(routes!(api_keys::revoke_api_token))
        .routes(routes!(open311::list_open311_public_reads))
        .routes(routes!(open311::update_open311_public_reads))
        .routes(routes!(audit::list_events))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(requests::list_categories, catalogue::create_category))
        .routes(routes!(catalogue::update_category))
        .routes(routes!(catalogue::list_calendar_days))
        .routes(routes!(catalogue::import_calendar_days))
        .routes(routes!(catalogue::update_calendar_day))
        .routes(routes!(requests::list_requests, requests::create_request))
        .routes(routes!(requests::get_requests_summary))
        .routes(
            routes!(hotline::import_hotline_orders).layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES)),
        )
        .routes(routes!(requests::get_request))
        .routes(routes!(requests::update_request))
        .routes(
            routes!(photos::list_request_photos, photos::create_request_photo)
                .layer(axum::extract::DefaultBodyLimit::max(wujia_core::media::MAX_PHOTO_BYTES + 1024)),
        )
        .routes(routes!(photos::get_photo))
        .routes(routes!(batches::list_knowledge, batches::create_knowledge))
        .routes(routes!(batches::create_request_batch))
        .routes(routes!(batches::get_request_batch))
        .routes(routes!(batches::update_request_batch))
        .routes(routes!(notifications::list_inbox))
        .routes(routes!(notifications::update_inbox))
        .routes(routes!(notifications::list_notification_channels, notifications::create_notification_channel))
        .routes(routes!(notifications::list_duty_shifts, notifications::create_duty_shift))
        .routes(routes!(notifications::list_deliveries))
        .routes(routes!(patrol::list_zones, patrol::create_zone))
        .routes(routes!(patrol::update_zone_member))
        .routes(routes!(patrol::create_checkpoint))
        .routes(routes!(patrol::list_patrol_plans, patrol::create_patrol_plan))
        .routes(routes!(patrol::list_patrol_rounds))
        .routes(routes!(meetings::get_patrol_calendar))
        .routes(routes!(patrol::get_patrol_round))
        .routes(routes!(patrol::create_patrol_checkin))
        .routes(routes!(patrol::update_patrol_round))
        .routes(
            routes!(patrol::list_patrol_findings, patrol::create_patrol_finding)
                .layer(axum::extract::DefaultBodyLimit::max(PHOTO_FORM_BYTES)),
        )
        .routes(routes!(patrol::get_patrol_finding))
        .routes(routes!(patrol::get_patrol_photo))
        .routes(routes!(patrol::get_patrol_summary))
        .routes(routes!(cases::list_patrol_cases))
        .routes(routes!(cases::get_patrol_case))
        .routes(routes!(cases::create_case_step).layer(axum::extract::DefaultBodyLimit::max(PHOTO_FORM_BYTES)))
        .routes(routes!(cases::get_patrol_board))
        .routes(
            routes!(cases::list_building_baselines, cases::create_building_baseline)
                .layer(axum::extract::DefaultBodyLimit::max(PHOTO_FORM_BYTES)),
        )
        .routes(routes!(meetings::list_meetings, meetings::create_meeting))
        .routes(routes!(meetings::get_meeting_calendar))
        .routes(routes!(meetings::get_meeting))
        .routes(routes!(meetings::create_meeting_minutes))
        .routes(routes!(meetings::list_meeting_actions))
        .routes(routes!(meetings::update_meeting_action))
        .routes(routes!(meetings::create_calendar_token))
        .routes(routes!(households::list_my_households))
        .routes(routes!(topics::list_topics, topics::create_topic))
        .routes(routes!(topics::get_topic))
        .routes(routes!(topics::create_topic_support))
        .routes(routes!(topics::create_topic_comment))
        .routes(routes!(topics::update_topic_comment))
        .routes(routes!(topics::update_topic))
        .routes(routes!(topics::create_ballot))
        .routes(routes!(topics::update_community_settings))
        .routes(routes!(dashboard::get_dashboard))
        .routes(routes!(proposals::list_proposals))
        .routes(routes!(proposals::create_proposal_scan))
        .routes(routes!(proposals::get_proposal))
        .routes(routes!(proposals::create_proposal_decision))
        .routes(routes!(search::search_records))
        .routes(routes!(duty::get_duty_wall))
        .routes(routes!(duty::get_duty_wall_stream))
        .routes(routes!(reports::get_governance_report))
        .routes(routes!(reports::export_governance_report))
        .routes(routes!(activities::list_activities, activities::create_activity))
        .routes(routes!(activities::get_activity_calendar))
        .routes(routes!(activities::get_activities_summary))
        .routes(routes!(activities::list_recommended_activities))
        .routes(routes!(activities::get_activity, activities::update_activity))
        .routes(routes!(activities::list_activity_invitations))
        .routes(routes!(activities::create_activity_registration))
        .routes(routes!(activities::update_activity_registration))
        .routes(routes!(activities::create_activity_checkin))
        .routes(
            routes!(activities::create_activity_photo)
                .layer(axum::extract::DefaultBodyLimit::max(wujia_core::media::MAX_PHOTO_BYTES + 1024)),
        )
        .routes(routes!(activities::export_activity_attendance))
        .routes(routes!(activities::get_activity_photo))
        .routes(routes!(reception::list_reception_days, reception::create_reception_day))
        .routes(routes!(reception::get_reception_calendar))
        .routes(routes!(reception::get_reception_day))
        .routes(routes!(reception::create_reception_booking))
        .routes(routes!(reception::create_reception_visit))
        .routes(routes!(reception::list_reception_demands))
        .routes(routes!(reception::update_reception_demand))
        .routes(routes!(reception::get_reception_summary))
        .routes(routes!(volunteers::list_volunteers, volunteers::create_volunteer))
        .routes(routes!(volunteers::get_volunteers_summary))
        .routes(routes!(volunteers::update_volunteer))
        .routes(routes!(volunteers::get_volunteer_record))
        .routes(routes!(volunteers::list_shifts, volunteers::create_shift))
        .routes(routes!(volunteers::create_shift_signup))
        .routes(routes!(volunteers::update_shift_signup))
        .split_for_parts();
    ProblemResponses.modify(&mut doc);
    (router, doc)
}

/// All `/api/v1` routes (with their prefix), the document at `/api/v1/openapi.json`, and problems for the rest.
pub fn routes() -> Router<AppState> {
    let (router, doc) = api();
    let doc = Arc::new(doc);
    let not_found = || async { ApiError::NotFound };
    router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .route("/api/v1/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .route("/api/v1", any(not_found))
        .route("/api/v1/{*rest}", any(not_found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_verb_underscore_resource() {
        let doc = serde_json::to_value(api().1).unwrap();
        let verbs = [
            "get", "list", "create", "update", "delete", "search", "import", "export", "reveal", "verify", "change",
            "revoke",
        ];
        let mut n = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{path} has no operationId"));
                let verb = id.split('_').next().unwrap();
                assert!(verbs.contains(&verb) && id.contains('_'), "{path}: {id}");
                n += 1;
            }
        }
        assert!(n >= 58, "{n} operations");
    }
}

//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.

pub(crate) mod accounts;
pub(crate) mod activities;
mod audit;
pub(crate) mod batches;
pub(crate) mod cases;
pub(crate) mod catalogue;
pub(crate) mod dashboard;
pub(crate) mod duty;
mod hotline;
pub(crate) mod households;
pub(crate) mod meetings;
mod notifications;
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

use crate::AppState;
use axum::Json;
use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use accounts::UserOut;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Wujia 吾家 API", description = "Community governance: registry, accounts and audit.", version = "1"),
    paths(
        sessions::create_session, sessions::delete_session, sessions::get_me, sessions::change_password,
        registry::get_registry_summary, registry::list_communities, registry::list_compounds, registry::list_buildings,
        registry::list_units, registry::search_households, registry::get_household, registry::create_resident,
        registry::get_resident, registry::update_resident, registry::reveal_id_card, registry::list_tags,
        registry::create_tag, registry::import_residents, registry::get_import_template, registry::export_residents,
        registry::create_signup_code, registry::create_signup, structure::create_community, structure::create_compound,
        structure::create_building, structure::update_building_social_worker, structure::create_household,
        accounts::list_users, accounts::create_user, accounts::update_user, accounts::create_api_token,
        audit::list_events, audit::verify_audit, requests::list_categories, requests::create_request, requests::list_requests,
        requests::get_request, requests::update_request, requests::get_requests_summary, notifications::list_inbox,
        notifications::update_inbox, notifications::list_notification_channels, notifications::create_notification_channel,
        notifications::list_duty_shifts, notifications::create_duty_shift, notifications::list_deliveries,
        batches::list_knowledge, batches::create_knowledge, batches::create_request_batch, batches::get_request_batch,
        batches::update_request_batch, catalogue::create_category, catalogue::update_category, catalogue::list_calendar_days,
        catalogue::update_calendar_day, catalogue::import_calendar_days, hotline::import_hotline_orders, photos::create_request_photo,
        photos::list_request_photos, photos::get_photo, patrol::list_zones, patrol::create_zone, patrol::update_zone_member,
        patrol::create_checkpoint, patrol::create_patrol_plan, patrol::list_patrol_plans, patrol::list_patrol_rounds,
        patrol::get_patrol_round, patrol::create_patrol_checkin, patrol::update_patrol_round, patrol::create_patrol_finding,
        patrol::list_patrol_findings, patrol::get_patrol_finding, patrol::get_patrol_photo, patrol::get_patrol_summary,
        cases::list_patrol_cases, cases::get_patrol_case, cases::create_case_step, cases::get_patrol_board,
        cases::create_building_baseline, cases::list_building_baselines, meetings::create_meeting, meetings::list_meetings,
        meetings::get_meeting, meetings::create_meeting_minutes, meetings::list_meeting_actions, meetings::update_meeting_action,
        meetings::create_calendar_token, meetings::get_patrol_calendar, meetings::get_meeting_calendar,
        reception::create_reception_day, reception::list_reception_days, reception::get_reception_day,
        reception::create_reception_booking, reception::create_reception_visit, reception::update_reception_demand,
        reception::list_reception_demands, reception::get_reception_summary, reception::get_reception_calendar,
        volunteers::create_volunteer, volunteers::list_volunteers, volunteers::update_volunteer, volunteers::get_volunteer_record,
        volunteers::create_shift, volunteers::list_shifts, volunteers::create_shift_signup, volunteers::update_shift_signup,
        volunteers::get_volunteers_summary, households::list_my_households, topics::create_topic, topics::list_topics,
        topics::get_topic, topics::create_topic_support, topics::create_topic_comment, topics::update_topic_comment,
        topics::update_topic, topics::create_ballot, topics::update_community_settings, activities::create_activity,
        activities::list_activities, activities::get_activity, activities::list_activity_invitations,
        activities::create_activity_registration, activities::update_activity_registration, activities::create_activity_checkin,
        activities::update_activity, activities::create_activity_photo, activities::get_activity_photo,
        activities::get_activities_summary, activities::list_recommended_activities, activities::get_activity_calendar,
        activities::export_activity_attendance, dashboard::get_dashboard, reports::get_governance_report, proposals::list_proposals, proposals::get_proposal,
        proposals::create_proposal_scan, proposals::create_proposal_decision,
        reports::export_governance_report, duty::get_duty_wall, duty::get_duty_wall_stream, search::search_records,
    ),
    components(schemas(
        crate::error::FieldIssue, crate::view::ResidentOut, proposals::ScanBody, proposals::DecisionBody, sessions::LoginBody, sessions::PasswordBody,
        accounts::UserOut, accounts::NewUserBody, accounts::UserPatch, accounts::TokenBody, registry::ResidentBody,
        registry::TagBody, registry::SignupBody, structure::CommunityBody, structure::CompoundBody, structure::BuildingBody,
        structure::WorkerBody, structure::HouseholdBody, wujia_app::requests::TakeIn, requests::ActionBody,
        notifications::ChannelBody, notifications::DutyBody, batches::KnowledgeBody, batches::BatchBody, batches::AnswerBody,
        catalogue::NewCategoryBody, catalogue::CategoryPatch, catalogue::LimitBody, catalogue::DayBody,
        catalogue::CalendarImported, catalogue::CalendarWarning,
        patrol::ZoneBody, patrol::MemberBody, patrol::CheckpointBody, patrol::PlanBody, patrol::CheckinBody,
        meetings::MeetingBody, meetings::Attendee, meetings::ActionBody, meetings::MinutesBody, meetings::ActionPatch,
        reception::ReceptionDayBody, reception::BookingBody, reception::DemandBody, reception::VisitBody, reception::DemandPatch,
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

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The largest form with photos: four photos at the largest size, and the fields.
pub(crate) const PHOTO_FORM_BYTES: usize = 4 * wujia_core::media::MAX_PHOTO_BYTES + 64 * 1024;

/// All `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/sessions", post(sessions::create_session).delete(sessions::delete_session))
        .route("/me", get(sessions::get_me))
        .route("/me/password", post(sessions::change_password))
        .route("/registry/summary", get(registry::get_registry_summary))
        .route(
            "/registry/imports",
            post(registry::import_residents).layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES)),
        )
        .route("/registry/template", get(registry::get_import_template))
        .route("/registry/export", get(registry::export_residents))
        .route("/communities", get(registry::list_communities).post(structure::create_community))
        .route("/communities/{id}/compounds", get(registry::list_compounds).post(structure::create_compound))
        .route("/compounds/{id}/buildings", get(registry::list_buildings).post(structure::create_building))
        .route("/buildings/{id}/social_worker", axum::routing::put(structure::update_building_social_worker))
        .route("/buildings/{id}/units", get(registry::list_units))
        .route("/units/{id}/households", post(structure::create_household))
        .route("/households", get(registry::search_households))
        .route("/households/{id}", get(registry::get_household))
        .route("/households/{id}/residents", post(registry::create_resident))
        .route("/households/{id}/signup_codes", post(registry::create_signup_code))
        .route("/residents/{id}", get(registry::get_resident).put(registry::update_resident))
        .route("/residents/{id}/id_card", post(registry::reveal_id_card))
        .route("/tags", get(registry::list_tags).post(registry::create_tag))
        .route("/signup", post(registry::create_signup))
        .route("/users", get(accounts::list_users).post(accounts::create_user))
        .route("/users/{id}", axum::routing::patch(accounts::update_user))
        .route("/api_tokens", post(accounts::create_api_token))
        .route("/audit/events", get(audit::list_events))
        .route("/audit/verify", get(audit::verify_audit))
        .route("/categories", get(requests::list_categories).post(catalogue::create_category))
        .route("/categories/{id}", axum::routing::patch(catalogue::update_category))
        .route("/calendar", get(catalogue::list_calendar_days))
        .route("/calendar/import", post(catalogue::import_calendar_days))
        .route("/calendar/{date}", axum::routing::put(catalogue::update_calendar_day))
        .route("/requests", get(requests::list_requests).post(requests::create_request))
        .route("/requests/summary", get(requests::get_requests_summary))
        .route(
            "/requests/imports",
            post(hotline::import_hotline_orders).layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES)),
        )
        .route("/requests/{id}", get(requests::get_request))
        .route("/requests/{id}/actions", post(requests::update_request))
        .route(
            "/requests/{id}/photos",
            get(photos::list_request_photos)
                .post(photos::create_request_photo)
                .layer(axum::extract::DefaultBodyLimit::max(wujia_core::media::MAX_PHOTO_BYTES + 1024)),
        )
        .route("/photos/{blob}", get(photos::get_photo))
        .route("/knowledge", get(batches::list_knowledge).post(batches::create_knowledge))
        .route("/request_batches", post(batches::create_request_batch))
        .route("/request_batches/{id}", get(batches::get_request_batch))
        .route("/request_batches/{id}/answer", post(batches::update_request_batch))
        .route("/inbox", get(notifications::list_inbox))
        .route("/inbox/read", post(notifications::update_inbox))
        .route(
            "/notification_channels",
            get(notifications::list_notification_channels).post(notifications::create_notification_channel),
        )
        .route("/duty", get(notifications::list_duty_shifts).post(notifications::create_duty_shift))
        .route("/deliveries", get(notifications::list_deliveries))
        .route("/zones", get(patrol::list_zones).post(patrol::create_zone))
        .route("/zones/{id}/members/{user_id}", axum::routing::put(patrol::update_zone_member))
        .route("/zones/{id}/checkpoints", post(patrol::create_checkpoint))
        .route("/patrol/plans", get(patrol::list_patrol_plans).post(patrol::create_patrol_plan))
        .route("/patrol/rounds", get(patrol::list_patrol_rounds))
        .route("/patrol/rounds.ics", get(meetings::get_patrol_calendar))
        .route("/patrol/rounds/{id}", get(patrol::get_patrol_round))
        .route("/patrol/rounds/{id}/checkins", post(patrol::create_patrol_checkin))
        .route("/patrol/rounds/{id}/completion", post(patrol::update_patrol_round))
        .route(
            "/patrol/findings",
            get(patrol::list_patrol_findings)
                .post(patrol::create_patrol_finding)
                .layer(axum::extract::DefaultBodyLimit::max(PHOTO_FORM_BYTES)),
        )
        .route("/patrol/findings/{id}", get(patrol::get_patrol_finding))
        .route("/patrol/photos/{blob}", get(patrol::get_patrol_photo))
        .route("/patrol/summary", get(patrol::get_patrol_summary))
        .route("/patrol/cases", get(cases::list_patrol_cases))
        .route("/patrol/cases/{id}", get(cases::get_patrol_case))
        .route(
            "/patrol/cases/{id}/steps",
            post(cases::create_case_step).layer(axum::extract::DefaultBodyLimit::max(PHOTO_FORM_BYTES)),
        )
        .route("/patrol/board", get(cases::get_patrol_board))
        .route(
            "/buildings/{id}/baselines",
            get(cases::list_building_baselines)
                .post(cases::create_building_baseline)
                .layer(axum::extract::DefaultBodyLimit::max(PHOTO_FORM_BYTES)),
        )
        .route("/meetings", get(meetings::list_meetings).post(meetings::create_meeting))
        .route("/meetings.ics", get(meetings::get_meeting_calendar))
        .route("/meetings/{id}", get(meetings::get_meeting))
        .route("/meetings/{id}/minutes", post(meetings::create_meeting_minutes))
        .route("/meeting_actions", get(meetings::list_meeting_actions))
        .route("/meeting_actions/{id}", axum::routing::patch(meetings::update_meeting_action))
        .route("/me/calendar_token", post(meetings::create_calendar_token))
        .route("/my/households", get(households::list_my_households))
        .route("/topics", get(topics::list_topics).post(topics::create_topic))
        .route("/topics/{id}", get(topics::get_topic))
        .route("/topics/{id}/supports", post(topics::create_topic_support))
        .route("/topics/{id}/comments", post(topics::create_topic_comment))
        .route("/topics/{id}/comments/{comment}/hidden", post(topics::update_topic_comment))
        .route("/topics/{id}/actions", post(topics::update_topic))
        .route("/topics/{id}/ballots", post(topics::create_ballot))
        .route("/communities/{id}/settings", axum::routing::patch(topics::update_community_settings))
        .route("/dashboard", get(dashboard::get_dashboard))
        .route("/proposals", get(proposals::list_proposals))
        .route("/proposals/scan", post(proposals::create_proposal_scan))
        .route("/proposals/{id}", get(proposals::get_proposal))
        .route("/proposals/{id}/decision", post(proposals::create_proposal_decision))
        .route("/search", get(search::search_records))
        .route("/duty_wall", get(duty::get_duty_wall))
        .route("/duty_wall/stream", get(duty::get_duty_wall_stream))
        .route("/reports/governance", get(reports::get_governance_report))
        .route("/reports/governance.xlsx", get(reports::export_governance_report))
        .route("/activities", get(activities::list_activities).post(activities::create_activity))
        .route("/activities.ics", get(activities::get_activity_calendar))
        .route("/activities/summary", get(activities::get_activities_summary))
        .route("/activities/recommended", get(activities::list_recommended_activities))
        .route("/activities/{id}", get(activities::get_activity).patch(activities::update_activity))
        .route("/activities/{id}/invitations", get(activities::list_activity_invitations))
        .route("/activities/{id}/registrations", post(activities::create_activity_registration))
        .route("/activities/{id}/registrations/{registration}", post(activities::update_activity_registration))
        .route("/activities/{id}/checkins", post(activities::create_activity_checkin))
        .route(
            "/activities/{id}/photos",
            post(activities::create_activity_photo)
                .layer(axum::extract::DefaultBodyLimit::max(wujia_core::media::MAX_PHOTO_BYTES + 1024)),
        )
        .route("/activities/{id}/attendance.xlsx", get(activities::export_activity_attendance))
        .route("/activity_photos/{blob}", get(activities::get_activity_photo))
        .route("/reception_days", get(reception::list_reception_days).post(reception::create_reception_day))
        .route("/reception_days.ics", get(reception::get_reception_calendar))
        .route("/reception_days/{id}", get(reception::get_reception_day))
        .route("/reception_days/{id}/bookings", post(reception::create_reception_booking))
        .route("/reception_days/{id}/visits", post(reception::create_reception_visit))
        .route("/reception_demands", get(reception::list_reception_demands))
        .route("/reception_demands/{id}", axum::routing::patch(reception::update_reception_demand))
        .route("/reception/summary", get(reception::get_reception_summary))
        .route("/volunteers", get(volunteers::list_volunteers).post(volunteers::create_volunteer))
        .route("/volunteers/summary", get(volunteers::get_volunteers_summary))
        .route("/volunteers/{id}", axum::routing::patch(volunteers::update_volunteer))
        .route("/volunteers/{id}/record", get(volunteers::get_volunteer_record))
        .route("/shifts", get(volunteers::list_shifts).post(volunteers::create_shift))
        .route("/shifts/{id}/signups", post(volunteers::create_shift_signup))
        .route("/shifts/{id}/signups/{volunteer_id}/attendance", post(volunteers::update_shift_signup))
        .fallback(|| async { crate::error::ApiError::NotFound })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_verb_underscore_resource() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let verbs =
            ["get", "list", "create", "update", "delete", "search", "import", "export", "reveal", "verify", "change"];
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

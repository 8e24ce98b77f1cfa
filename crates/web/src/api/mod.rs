//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.

pub(crate) mod accounts;
mod audit;
mod batches;
mod catalogue;
mod hotline;
mod notifications;
pub(crate) mod photos;
pub(crate) mod registry;
pub(crate) mod requests;
pub(crate) mod sessions;
mod structure;

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
        catalogue::update_calendar_day, hotline::import_hotline_orders, photos::create_request_photo,
        photos::list_request_photos, photos::get_photo,
    ),
    components(schemas(
        crate::error::FieldIssue, crate::view::ResidentOut, sessions::LoginBody, sessions::PasswordBody,
        accounts::UserOut, accounts::NewUserBody, accounts::UserPatch, accounts::TokenBody, registry::ResidentBody,
        registry::TagBody, registry::SignupBody, structure::CommunityBody, structure::CompoundBody, structure::BuildingBody,
        structure::WorkerBody, structure::HouseholdBody, requests::NewRequestBody, requests::ActionBody,
        notifications::ChannelBody, notifications::DutyBody, batches::KnowledgeBody, batches::BatchBody, batches::AnswerBody,
        catalogue::NewCategoryBody, catalogue::CategoryPatch, catalogue::LimitBody, catalogue::DayBody,
    )),
    modifiers(&BearerAuth),
    tags((name = "sessions"), (name = "registry"), (name = "accounts"), (name = "audit"), (name = "requests"), (name = "notifications"))
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

//! Reception days (吾家有应): sessions, bookings by slot, the desk's queue of visits, demands answered on the spot
//! or turned into service requests, the figures, and the iCalendar feed. The use cases are `wujia_app::reception`;
//! this is their JSON and iCalendar face.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Duration;
use wujia_app::period::PeriodQuery;
use wujia_app::reception::{
    self, BookingView, DayDetail, DayView, DaysQuery, DemandAnswer, DemandView, DemandsQuery, NewBooking, NewDay,
    NewVisit, ReceptionSummary, VisitView,
};

/// Schedules a reception day.
#[utoipa::path(post, path = "/api/v1/reception_days", operation_id = "create_reception_day", tag = "reception",
    request_body = NewDay, responses((status = 201, description = "Scheduled", body = DayView), (status = 422, description = "Invalid")),
    security(("bearer" = [])))]
pub async fn create_reception_day(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<NewDay>,
) -> Result<(StatusCode, Json<DayView>), ApiError> {
    Ok((StatusCode::CREATED, Json(reception::hold_day(&state.app, &auth, &b).await?)))
}

/// Reception days, newest first; residents see them to book.
#[utoipa::path(get, path = "/api/v1/reception_days", operation_id = "list_reception_days", tag = "reception", params(DaysQuery),
    responses((status = 200, description = "Reception days", body = [DayView])), security(("bearer" = [])))]
pub async fn list_reception_days(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<DayView>>, ApiError> {
    Ok(Json(reception::days(&state.app, &auth, &q).await?))
}

/// A reception day: its slots with places left, and, for those who run it, its bookings and visits.
#[utoipa::path(get, path = "/api/v1/reception_days/{id}", operation_id = "get_reception_day", tag = "reception",
    params(("id" = i64, Path, description = "Reception day")), responses((status = 200, description = "The day", body = DayDetail)), security(("bearer" = [])))]
pub async fn get_reception_day(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DayDetail>, ApiError> {
    Ok(Json(reception::day(&state.app, &auth, id).await?))
}

/// Books a slot: a resident for their household from the portal, or staff on a resident's behalf.
#[utoipa::path(post, path = "/api/v1/reception_days/{id}/bookings", operation_id = "create_reception_booking", tag = "reception",
    params(("id" = i64, Path, description = "Reception day")), request_body = NewBooking,
    responses((status = 201, description = "Booked", body = BookingView), (status = 422, description = "Slot full, already booked, or not a slot")),
    security(("bearer" = [])))]
pub async fn create_reception_booking(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NewBooking>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    Ok((StatusCode::CREATED, Json(reception::book(&state.app, &auth, id, &b).await?)))
}

/// Registers a visit (from a booking or a walk-in) with its demands, and gives the next queue number.
#[utoipa::path(post, path = "/api/v1/reception_days/{id}/visits", operation_id = "create_reception_visit", tag = "reception",
    params(("id" = i64, Path, description = "Reception day")), request_body = NewVisit,
    responses((status = 201, description = "Registered", body = VisitView)), security(("bearer" = [])))]
pub async fn create_reception_visit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NewVisit>,
) -> Result<(StatusCode, Json<VisitView>), ApiError> {
    Ok((StatusCode::CREATED, Json(reception::register(&state.app, &auth, id, &b).await?)))
}

/// Answers a demand (on the spot, or later by the party that owns it), or turns it into a service request.
#[utoipa::path(patch, path = "/api/v1/reception_demands/{id}", operation_id = "update_reception_demand", tag = "reception",
    params(("id" = i64, Path, description = "Demand")), request_body = DemandAnswer,
    responses((status = 200, description = "Saved", body = DemandView), (status = 409, description = "Changed meanwhile")), security(("bearer" = [])))]
pub async fn update_reception_demand(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DemandAnswer>,
) -> Result<Json<DemandView>, ApiError> {
    Ok(Json(reception::answer(&state.app, &auth, id, &b).await?))
}

/// Demands not yet answered back to the resident, oldest first.
#[utoipa::path(get, path = "/api/v1/reception_demands", operation_id = "list_reception_demands", tag = "reception", params(DemandsQuery),
    responses((status = 200, description = "Open demands", body = [DemandView])), security(("bearer" = [])))]
pub async fn list_reception_demands(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DemandsQuery>,
) -> Result<Json<Vec<DemandView>>, ApiError> {
    Ok(Json(reception::open_demands(&state.app, &auth, &q).await?))
}

/// Reception-day figures: sessions (regular and themed), visits, demands, the answered share and time to answer,
/// by party and theme.
#[utoipa::path(get, path = "/api/v1/reception/summary", operation_id = "get_reception_summary", tag = "reception", params(PeriodQuery),
    responses((status = 200, description = "Figures", body = ReceptionSummary)), security(("bearer" = [])))]
pub async fn get_reception_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<ReceptionSummary>, ApiError> {
    Ok(Json(reception::summary(&state.app, &auth, &q).await?))
}

/// Reception days and deliberation meetings of the caller's communities as iCalendar; a resident's own bookings
/// are marked with their slot.
#[utoipa::path(get, path = "/api/v1/reception_days.ics", operation_id = "get_reception_calendar", tag = "reception",
    params(super::meetings::FeedQuery), responses((status = 200, description = "text/calendar")), security(("bearer" = [])))]
pub async fn get_reception_calendar(
    State(state): State<AppState>,
    crate::pages::MaybeAuth(auth): crate::pages::MaybeAuth,
    ApiQuery(q): ApiQuery<super::meetings::FeedQuery>,
) -> Result<axum::response::Response, ApiError> {
    use icalendar::{Calendar, Component, Event, EventLike};
    let auth = super::meetings::feed_auth(&state, auth, &q).await?;
    let mut cal = Calendar::new();
    cal.name("吾家 · 居民接待日");
    let mine = reception::my_bookings(&state.app, &auth).await?;
    for d in reception::calendar_days(&state.app, &auth).await? {
        let booked = mine.iter().find(|b| b.booking.session_id == d.id);
        let (start, end, summary) = match booked {
            Some(b) => (b.booking.slot_start, b.slot_end, format!("{}（我的预约）", d.title)),
            None => (d.starts_at, d.ends_at, d.title.clone()),
        };
        cal.push(
            Event::new()
                .uid(&format!("reception-{}@wujia", d.id))
                .summary(&summary)
                .starts(start)
                .ends(end)
                .location(&d.place)
                .done(),
        );
    }
    // Deliberation meetings belong to the same calendar of self-governance.
    for c in auth.actor.communities.clone() {
        for t in state.store.topics(c).await? {
            if let Some(at) = t.meeting_at {
                cal.push(
                    Event::new()
                        .uid(&format!("topic-{}@wujia", t.id))
                        .summary(&format!("议事会：{}", t.title))
                        .starts(at)
                        .ends(at + Duration::hours(2))
                        .done(),
                );
            }
        }
    }
    Ok(super::meetings::ics(cal.done()))
}

//! Orders transferred from the city's 12345 hotline, imported from the city's XLSX: all or none, and an order
//! already taken in is not taken in twice.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Scope};
use wujia_core::registry::{AddressQuery, PhoneNumber};
use wujia_core::requests::{Channel, hotline};
use wujia_core::transfer::{RowError, read_table};
use wujia_store::NewRequest;

/// `?community_id=&dry_run=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotlineQuery {
    /// The community.
    pub community_id: Option<i64>,
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports 12345 orders (columns 工单编号, 受理时间, 诉求类别, 诉求内容, 地址, 联系人, 联系电话, 主办单位, 协办单位, 办结时限).
/// The city's deadline, when given, is the resolution deadline.
#[utoipa::path(post, path = "/api/v1/requests/imports", operation_id = "import_hotline_orders", tag = "requests", params(HotlineQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "{\"orders\", \"created\", \"already_known\", \"dry_run\"}"),
              (status = 422, description = "Every bad row with its column")), security(("bearer" = [])))]
pub async fn import_hotline_orders(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<HotlineQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|_| ApiError::PayloadTooLarge)?;
    let community = auth.community(q.community_id)?;
    auth.require(Action::DispatchRequests, Scope::community(community))?;
    let bytes = body.to_vec();
    let orders = tokio::task::spawn_blocking(move || {
        let table = read_table(&bytes).map_err(ApiError::from)?;
        hotline::parse_orders(&table).map_err(ApiError::from)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let categories = state.store.categories().await?;
    let known = state.store.known_external_numbers(community).await?;
    let calendar = state.store.calendar().await?;
    let code =
        state.store.communities().await?.into_iter().find(|c| c.id == community).map(|c| c.code).unwrap_or_default();
    let mut errors = Vec::new();
    let mut items = Vec::new();
    let mut already = 0;
    for o in &orders {
        if known.contains(&o.external_no) {
            already += 1;
            continue;
        }
        let category =
            categories.iter().find(|c| c.active && c.is_leaf() && (c.code == o.category || c.name_zh == o.category));
        let Some(category) = category else {
            errors.push(RowError {
                row: o.row,
                column: "诉求类别".into(),
                message: format!("未知类别「{}」,请使用第三级类别名称或代码 / unknown category", o.category),
            });
            continue;
        };
        let phone = match o.contact_phone.as_str() {
            "" => None,
            p => match PhoneNumber::parse(p) {
                Ok(n) => Some(n.as_str().to_string()),
                Err(e) => {
                    errors.push(RowError { row: o.row, column: "联系电话".into(), message: e.to_string() });
                    continue;
                }
            },
        };
        let household = if AddressQuery::parse(&o.address).is_some_and(|a| a.is_complete()) {
            match state.store.search(community, &o.address, 2).await?.as_slice() {
                [hit] => Some(state.store.household(hit.household_id, state.clock.today()).await?),
                _ => None,
            }
        } else {
            None
        };
        let sla = category.sla();
        let description = if o.lead_unit.is_empty() && o.co_units.is_empty() {
            o.description.clone()
        } else {
            format!("{}(12345 主办:{};协办:{})", o.description, o.lead_unit, o.co_units)
        };
        let new = NewRequest {
            community_id: community,
            category_id: category.id,
            channel: Channel::Hotline12345.code().into(),
            description,
            household_id: household.as_ref().map(|h| h.id),
            building_id: household.as_ref().map(|h| h.building_id),
            location: household.as_ref().map_or_else(|| o.address.clone(), |h| h.address.clone()),
            contact_name: o.contact_name.clone(),
            contact_phone: phone,
            answers: json!({"主办单位": o.lead_unit, "协办单位": o.co_units}).to_string(),
            external_no: Some(o.external_no.clone()),
            submitted_by: Some(auth.user.id),
            received_at: o.received_at,
            respond_due: sla.respond.deadline(&calendar, o.received_at),
            resolve_due: o.city_deadline.unwrap_or_else(|| sla.resolve.deadline(&calendar, o.received_at)),
        };
        let notices = crate::notify::on_create(
            &state,
            community,
            new.household_id,
            category,
            &new.location,
            &new.description,
            state.clock.now(),
        )
        .await?;
        items.push((new, notices));
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let would_create = items.len();
    let created = if q.dry_run || items.is_empty() {
        0
    } else {
        let change = auth.change(&state, "request.create", Some(community));
        let items: Vec<_> = items.into_iter().map(|(n, notices)| (n, notices, code.clone(), change.clone())).collect();
        state.store.create_requests(&items).await?.len()
    };
    Ok(Json(
        json!({"orders": orders.len(), "created": created, "would_create": would_create, "already_known": already, "dry_run": q.dry_run}),
    ))
}

//! Orders transferred from the city's 12345 hotline, imported from the city's file: all or none, and an order
//! already taken in is not taken in twice. The database holds each order number once per community, so two
//! imports of one file at once cannot both write it: the later one is a conflict naming the order.

use crate::{App, AppError, Caller, Result, notify};
use serde::Serialize;
use wujia_core::accounts::{Action, Scope};
use wujia_core::registry::{AddressQuery, PhoneNumber};
use wujia_core::requests::{Channel, hotline};
use wujia_core::transfer::{RowError, read_table};
use wujia_store::{NewRequest, RequestToWrite};

/// What an import did, or would do on a dry run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotlineImport {
    /// Orders in the file.
    pub orders: usize,
    /// Requests created.
    pub created: usize,
    /// Requests the import creates (or would create on a dry run).
    pub would_create: usize,
    /// Orders already taken in earlier, left as they are.
    pub already_known: usize,
    /// Nothing was written.
    pub dry_run: bool,
}

/// Imports 12345 orders (columns 工单编号, 受理时间, 诉求类别, 诉求内容, 地址, 联系人, 联系电话, 主办单位, 协办单位,
/// 办结时限) into `community`. The city's deadline, when given, is the resolution deadline.
pub async fn import_orders(
    app: &App,
    caller: &Caller,
    community: Option<i64>,
    file: Vec<u8>,
    dry_run: bool,
) -> Result<HotlineImport> {
    let community = caller.community(community)?;
    caller.require(Action::DispatchRequests, Scope::community(community))?;
    let now = app.clock.now();
    let orders = tokio::task::spawn_blocking(move || {
        let table = read_table(&file)?;
        hotline::parse_orders(&table, now).map_err(AppError::from)
    })
    .await
    .map_err(|e| AppError::Internal(format!("the order reader stopped: {e}")))??;
    let categories = app.store.categories().await?;
    let known = app.store.known_external_numbers(community).await?;
    let calendar = app.store.calendar().await?;
    if !app.store.communities().await?.iter().any(|c| c.id == community) {
        return Err(AppError::NotFound);
    }
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
            match app.store.households_at_address(community, &o.address, 2).await?.as_slice() {
                [hit] => Some(app.store.household(hit.household_id, app.clock.today()).await?),
                _ => None,
            }
        } else {
            None
        };
        let sla = category.sla();
        let description = o.request_description();
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
            answers: serde_json::json!({"主办单位": o.lead_unit, "协办单位": o.co_units}).to_string(),
            external_no: Some(o.external_no.clone()),
            submitted_by: Some(caller.user.id),
            received_at: o.received_at,
        };
        let respond_due = super::deadline(&calendar, sla.respond, o.received_at);
        let resolve_due = o.city_deadline.unwrap_or_else(|| super::deadline(&calendar, sla.resolve, o.received_at));
        let notices = notify::on_create(
            app,
            community,
            new.household_id,
            category,
            &new.location,
            &new.description,
            app.clock.now(),
        )
        .await?;
        items.push((new, respond_due, resolve_due, notices));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors.into_iter().map(Into::into).collect()));
    }
    let would_create = items.len();
    let created = if dry_run || items.is_empty() {
        0
    } else {
        let change = caller.change(app.clock.now(), "request.create", Some(community));
        let items: Vec<RequestToWrite> = items
            .into_iter()
            .map(|(request, respond_due, resolve_due, notices)| RequestToWrite {
                request,
                respond_due,
                resolve_due,
                notices,
                change: change.clone(),
            })
            .collect();
        app.store.create_requests(&items).await?.len()
    };
    Ok(HotlineImport { orders: orders.len(), created, would_create, already_known: already, dry_run })
}

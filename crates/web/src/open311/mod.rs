//! Open311 GeoReport v2 at `/open311/v2`: services are the catalogue's leaf categories; requests come in with an
//! `api_key` that an admin issues (`wujia apikey create NAME`). JSON and XML, with the spec's error format.

use crate::AppState;
use crate::auth::{Auth, api_key_auth};
use crate::error::{ApiError, ApiPath, ApiQuery};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use wujia_app::requests::{TakeIn, may_view, take_in};
use wujia_core::requests::{Channel, Status};
use wujia_core::text::Coordinates;
use wujia_store::{Category, RequestFilter, RequestRow};

/// Response format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Json,
    Xml,
}

/// An Open311 error: `[{"code": 400, "description": "…"}]`.
struct O311Error {
    status: StatusCode,
    description: String,
    fmt: Fmt,
}

impl O311Error {
    fn new(status: StatusCode, fmt: Fmt, description: impl Into<String>) -> Self {
        Self { status, description: description.into(), fmt }
    }

    fn from_api(e: ApiError, fmt: Fmt) -> Self {
        if let ApiError::Internal(cause) = &e {
            tracing::error!(%cause, "internal error");
        }
        let status = match e.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            s => s,
        };
        Self::new(status, fmt, e.detail())
    }
}

impl IntoResponse for O311Error {
    fn into_response(self) -> Response {
        let code = self.status.as_u16();
        match self.fmt {
            Fmt::Json => {
                (self.status, axum::Json(json!([{"code": code, "description": self.description}]))).into_response()
            }
            Fmt::Xml => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>{code}</code><description>{}</description></error></errors>",
                    escape(&self.description)
                );
                (self.status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
            }
        }
    }
}

fn split(file: &str) -> Result<(&str, Fmt), O311Error> {
    match file.rsplit_once('.') {
        Some((name, "json")) => Ok((name, Fmt::Json)),
        Some((name, "xml")) => Ok((name, Fmt::Xml)),
        _ => Err(O311Error::new(StatusCode::NOT_FOUND, Fmt::Json, "use a .json or .xml path")),
    }
}

/// Renders a list of flat records as JSON or as GeoReport XML (`<outer><inner>…</inner></outer>`).
fn render_list(fmt: Fmt, outer: &str, inner: &str, items: Vec<Value>) -> Response {
    match fmt {
        Fmt::Json => axum::Json(Value::Array(items)).into_response(),
        Fmt::Xml => {
            let mut xml = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><{outer}>");
            for item in &items {
                xml.push_str(&format!("<{inner}>"));
                xml_fields(&mut xml, item);
                xml.push_str(&format!("</{inner}>"));
            }
            xml.push_str(&format!("</{outer}>"));
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
        }
    }
}

fn xml_fields(xml: &mut String, v: &Value) {
    if let Value::Object(map) = v {
        for (k, v) in map {
            match v {
                Value::Null => xml.push_str(&format!("<{k}/>")),
                Value::Array(items) => {
                    xml.push_str(&format!("<{k}>"));
                    let singular = k.strip_suffix('s').unwrap_or(k);
                    for item in items {
                        xml.push_str(&format!("<{singular}>"));
                        match item {
                            Value::Object(_) => xml_fields(xml, item),
                            other => xml.push_str(&escape(&scalar(other))),
                        }
                        xml.push_str(&format!("</{singular}>"));
                    }
                    xml.push_str(&format!("</{k}>"));
                }
                Value::Object(_) => {
                    xml.push_str(&format!("<{k}>"));
                    xml_fields(xml, v);
                    xml.push_str(&format!("</{k}>"));
                }
                other => xml.push_str(&format!("<{k}>{}</{k}>", escape(&scalar(other)))),
            }
        }
    }
}

/// Text as XML 1.0 character data: markup escaped, and the characters XML cannot carry at all (control
/// characters other than tab and line breaks, U+FFFE, U+FFFF) left out. Intake refuses them; text stored before
/// it did must still not make the document one that parsers reject.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn group_of<'a>(c: &Category, all: &'a [Category]) -> Option<&'a Category> {
    let parent = all.iter().find(|p| Some(p.id) == c.parent_id)?;
    all.iter().find(|g| Some(g.id) == parent.parent_id).or(Some(parent))
}

fn questions(c: &Category) -> Vec<String> {
    serde_json::from_str(&c.questions).unwrap_or_default()
}

fn service(c: &Category, all: &[Category]) -> Value {
    json!({
        "service_code": c.code,
        "service_name": c.name_zh,
        "description": c.name_en,
        "metadata": !questions(c).is_empty(),
        "type": "realtime",
        "keywords": c.urgency,
        "group": group_of(c, all).map(|g| g.name_zh.clone()).unwrap_or_default(),
    })
}

async fn leaves(state: &AppState) -> Result<Vec<Category>, ApiError> {
    Ok(state.store.categories().await?)
}

/// `GET services.{fmt}` and `GET requests.{fmt}`.
async fn get_root(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Response {
    let (name, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let result = match name {
        "services" => {
            async {
                let all = leaves(&state).await.map_err(|e| O311Error::from_api(e, fmt))?;
                let items = all.iter().filter(|c| c.active && c.is_leaf()).map(|c| service(c, &all)).collect();
                Ok(render_list(fmt, "services", "service", items))
            }
            .await
        }
        "requests" => list_requests(&state, &q, fmt).await,
        "discovery" => Ok(discovery(fmt)),
        _ => Err(O311Error::new(StatusCode::NOT_FOUND, fmt, "unknown resource")),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn discovery(fmt: Fmt) -> Response {
    let v = json!({
        "changeset": "2024-02-26T00:00:00Z",
        "contact": "吾家 Wujia",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": "/open311/v2", "type": "production", "formats": ["application/json", "text/xml"]}],
    });
    match fmt {
        Fmt::Json => axum::Json(v).into_response(),
        Fmt::Xml => render_list(fmt, "discovery", "entry", vec![v]),
    }
}

/// `GET services/{code}.{fmt}`: the service definition with the category's questions as attributes.
async fn get_service(State(state): State<AppState>, ApiPath(file): ApiPath<String>) -> Response {
    let (code, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let all = match leaves(&state).await {
        Ok(a) => a,
        Err(e) => return O311Error::from_api(e, fmt).into_response(),
    };
    let Some(c) = all.iter().find(|c| c.code == code && c.active && c.is_leaf()) else {
        return O311Error::new(StatusCode::NOT_FOUND, fmt, format!("service_code {code} not found")).into_response();
    };
    let attributes: Vec<Value> = questions(c)
        .iter()
        .enumerate()
        .map(|(i, q)| {
            json!({"variable": true, "code": format!("q{}", i + 1), "datatype": "string", "required": false,
                   "datatype_description": "", "order": i + 1, "description": q})
        })
        .collect();
    let def = json!({"service_code": c.code, "attributes": attributes});
    match fmt {
        Fmt::Json => axum::Json(def).into_response(),
        Fmt::Xml => {
            let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><service_definition>");
            xml_fields(&mut xml, &def);
            xml.push_str("</service_definition>");
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
        }
    }
}

/// The client behind `api_key`; `writes` when the request takes something in (a read key may not).
async fn client(state: &AppState, key: Option<&str>, fmt: Fmt, writes: bool) -> Result<Auth, O311Error> {
    let denied = || O311Error::new(StatusCode::FORBIDDEN, fmt, "api_key is missing or invalid");
    let key = key.filter(|k| !k.is_empty()).ok_or_else(denied)?;
    api_key_auth(state, key, writes).await.map_err(|e| O311Error::from_api(e, fmt))?.ok_or_else(denied)
}

/// `POST requests.{fmt}`: a new request, form-encoded as the spec says.
async fn post_root(State(state): State<AppState>, ApiPath(file): ApiPath<String>, body: Bytes) -> Response {
    let (name, fmt) = match split(&file) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    if name != "requests" {
        return O311Error::new(StatusCode::NOT_FOUND, fmt, "only requests can be posted").into_response();
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let result = async {
        let auth = client(&state, get("api_key").as_deref(), fmt, true).await?;
        let code = get("service_code").ok_or_else(|| O311Error::new(StatusCode::BAD_REQUEST, fmt, "service_code is required"))?;
        let all = leaves(&state).await.map_err(|e| O311Error::from_api(e, fmt))?;
        let category = all
            .iter()
            .find(|c| c.code == code && c.active && c.is_leaf())
            .ok_or_else(|| O311Error::new(StatusCode::BAD_REQUEST, fmt, format!("service_code {code} not found")))?;
        let location = match (get("address_string"), get("lat"), get("long")) {
            (Some(a), _, _) => a,
            (None, Some(lat), Some(long)) => Coordinates::parse(&lat, &long)
                .map_err(|(field, why)| O311Error::new(StatusCode::BAD_REQUEST, fmt, format!("{field}: {why}")))?
                .to_string(),
            _ => return Err(O311Error::new(StatusCode::BAD_REQUEST, fmt, "a location is required: address_string, or lat and long")),
        };
        let qs = questions(category);
        let mut answers = serde_json::Map::new();
        for (k, v) in &form {
            if let Some(code) = k.strip_prefix("attribute[").and_then(|k| k.strip_suffix(']'))
                && let Some(q) = code.strip_prefix('q').and_then(|n| n.parse::<usize>().ok()).and_then(|n| qs.get(n.wrapping_sub(1)))
            {
                answers.insert(q.clone(), json!(v));
            }
        }
        let name = [get("last_name"), get("first_name")].into_iter().flatten().collect::<Vec<_>>().join("");
        let body = TakeIn {
            category_id: category.id,
            description: get("description").unwrap_or_default(),
            channel: None,
            household_id: None,
            location: Some(location),
            contact_name: Some(name),
            contact_phone: get("phone"),
            answers,
            external_no: get("device_id").or(get("account_id")),
            community_id: get("jurisdiction_id").and_then(|j| j.parse().ok()),
        };
        let row = take_in(&state.app, &auth, &body, Some(Channel::Open311)).await.map_err(|e| O311Error::from_api(e.into(), fmt))?;
        Ok(render_list(fmt, "service_requests", "request", vec![json!({
            "service_request_id": row.number, "token": row.number,
            "service_notice": format!("已受理,{} 前响应 / received; response due {}", beijing(row.respond_due), row.respond_due.to_rfc3339()),
            "account_id": Value::Null,
        })]))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string()
}

fn request_record(r: &RequestRow, cats: &[Category], names: &HashMap<i64, String>) -> Value {
    let open = Status::from_code(&r.status).is_some_and(Status::is_open);
    let cat = cats.iter().find(|c| c.id == r.category_id);
    json!({
        "service_request_id": r.number,
        "status": if open { "open" } else { "closed" },
        "status_notes": r.resolution.clone().unwrap_or_default(),
        "service_name": cat.map(|c| c.name_zh.clone()).unwrap_or_default(),
        "service_code": cat.map(|c| c.code.clone()).unwrap_or_default(),
        "description": r.description,
        "agency_responsible": r.lead_id.and_then(|l| names.get(&l).cloned()).unwrap_or_default(),
        "service_notice": "",
        "requested_datetime": r.received_at.to_rfc3339(),
        "updated_datetime": r.closed_at.or(r.followed_up_at).or(r.resolved_at).or(r.responded_at).unwrap_or(r.received_at).to_rfc3339(),
        "expected_datetime": r.resolve_due.to_rfc3339(),
        "address": r.location,
        "address_id": r.household_id.map(|h| h.to_string()).unwrap_or_default(),
        "zipcode": "",
        "lat": Value::Null,
        "long": Value::Null,
        "media_url": "",
    })
}

/// The catalogue and the names of the accounts handling `rows`, which request records are shown with.
async fn lookups(
    state: &AppState,
    fmt: Fmt,
    rows: &[RequestRow],
) -> Result<(Vec<Category>, HashMap<i64, String>), O311Error> {
    let err = |e: wujia_store::StoreError| O311Error::from_api(e.into(), fmt);
    let cats = state.store.categories().await.map_err(err)?;
    let leads: Vec<i64> = rows.iter().filter_map(|r| r.lead_id).collect();
    let names = state.store.display_names(&leads).await.map_err(err)?;
    Ok((cats, names))
}

async fn visible_requests(
    state: &AppState,
    auth: &Auth,
    f: RequestFilter,
    fmt: Fmt,
) -> Result<Vec<RequestRow>, O311Error> {
    let community = auth.community(None).map_err(|e| O311Error::from_api(e, fmt))?;
    let rows = state.store.requests(community, &f).await.map_err(|e| O311Error::from_api(e.into(), fmt))?;
    let mut seen = Vec::with_capacity(rows.len());
    for r in rows {
        if may_view(auth, &r).map_err(|e| O311Error::from_api(e.into(), fmt))? {
            seen.push(r);
        }
    }
    Ok(seen)
}

/// The requests with these numbers that the client may see, in the order asked; unknown numbers are left out.
async fn numbered_requests(
    state: &AppState,
    auth: &Auth,
    numbers: &[&str],
    fmt: Fmt,
) -> Result<Vec<RequestRow>, O311Error> {
    let community = auth.community(None).map_err(|e| O311Error::from_api(e, fmt))?;
    let mut rows = Vec::new();
    for n in numbers {
        match state.store.request_by_number(community, n).await {
            Ok(r) => {
                let seen = may_view(auth, &r).map_err(|e| O311Error::from_api(e.into(), fmt))?;
                if seen && !rows.iter().any(|x: &RequestRow| x.id == r.id) {
                    rows.push(r);
                }
            }
            Err(wujia_store::StoreError::NotFound) => {}
            Err(e) => return Err(O311Error::from_api(e.into(), fmt)),
        }
    }
    Ok(rows)
}

async fn list_requests(state: &AppState, q: &HashMap<String, String>, fmt: Fmt) -> Result<Response, O311Error> {
    let auth = client(state, q.get("api_key").map(String::as_str), fmt, false).await?;
    // GeoReport v2: asking for ids overrides every other argument.
    if let Some(ids) = q.get("service_request_id").filter(|s| !s.trim().is_empty()) {
        let wanted: Vec<&str> = ids.split(',').map(str::trim).filter(|s| !s.is_empty()).take(200).collect();
        let rows = numbered_requests(state, &auth, &wanted, fmt).await?;
        let (cats, names) = lookups(state, fmt, &rows).await?;
        let records = rows.iter().map(|r| request_record(r, &cats, &names)).collect();
        return Ok(render_list(fmt, "service_requests", "request", records));
    }
    let date = |k: &str| -> Result<Option<DateTime<Utc>>, O311Error> {
        match q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|_| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
                })
                .map(Some)
                .map_err(|_| O311Error::new(StatusCode::BAD_REQUEST, fmt, format!("{k} must be a w3 date-time"))),
        }
    };
    let mut f = RequestFilter { from: date("start_date")?, to: date("end_date")?, limit: 1000, ..Default::default() };
    match q.get("status").map(String::as_str) {
        None | Some("") => {}
        Some("open") => f.statuses = Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.code().to_string()).collect(),
        Some("closed") => {
            f.statuses = Status::ALL.iter().filter(|s| !s.is_open()).map(|s| s.code().to_string()).collect()
        }
        Some(_) => return Err(O311Error::new(StatusCode::BAD_REQUEST, fmt, "status must be open or closed")),
    }
    f.category_code = q.get("service_code").filter(|s| !s.is_empty()).cloned();
    let rows = visible_requests(state, &auth, f, fmt).await?;
    let (cats, names) = lookups(state, fmt, &rows).await?;
    Ok(render_list(fmt, "service_requests", "request", rows.iter().map(|r| request_record(r, &cats, &names)).collect()))
}

async fn one(state: &AppState, key: Option<&str>, number: &str, fmt: Fmt, token: bool) -> Result<Response, O311Error> {
    let auth = client(state, key, fmt, false).await?;
    let rows = numbered_requests(state, &auth, &[number], fmt).await?;
    let r = rows.first().ok_or_else(|| O311Error::new(StatusCode::NOT_FOUND, fmt, format!("{number} not found")))?;
    if token {
        return Ok(render_list(
            fmt,
            "service_requests",
            "request",
            vec![json!({"service_request_id": r.number, "token": r.number})],
        ));
    }
    let (cats, names) = lookups(state, fmt, std::slice::from_ref(r)).await?;
    Ok(render_list(fmt, "service_requests", "request", vec![request_record(r, &cats, &names)]))
}

async fn one_from_path(state: &AppState, file: &str, q: &HashMap<String, String>, token: bool) -> Response {
    match split(file) {
        Ok((id, fmt)) => one(state, q.get("api_key").map(String::as_str), id, fmt, token)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(e) => e.into_response(),
    }
}

/// `GET requests/{id}.{fmt}`.
async fn get_request(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Response {
    one_from_path(&state, &file, &q, false).await
}

/// `GET tokens/{token}.{fmt}`: requests are realtime, so a token is the request number itself.
async fn get_token(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Response {
    one_from_path(&state, &file, &q, true).await
}

/// The Open311 routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(get_root).post(post_root))
        .route("/open311/v2/services/{file}", get(get_service))
        .route("/open311/v2/requests/{file}", get(get_request))
        .route("/open311/v2/tokens/{file}", get(get_token))
}

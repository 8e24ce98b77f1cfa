//! Open311 GeoReport v2 at `/open311/v2`, as its clients speak it: services are the catalogue's leaf categories;
//! requests come in with an `api_key` (in the form body or the query string) that an admin issues; reads need no
//! key and show the public record only, unless a community keeps them to its key holders. JSON and XML, with the
//! spec's status codes and error lists.

mod fault;
mod render;

use crate::AppState;
use crate::auth::{Auth, api_key_auth};
use crate::i18n::Lang;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use fault::{Answer, Fault, language};
use render::{Fmt, split};
use serde_json::{Value, json};
use wujia_app::AppError;
use wujia_app::requests::public::{self, PublicQuery, PublicRequest, Reader, Service};
use wujia_app::requests::{TakeIn, take_in};
use wujia_core::requests::Channel;
use wujia_core::text::Coordinates;

/// When this interface last changed, for discovery.
const CHANGESET: &str = "2026-12-01T00:00:00Z";

/// At most this many ids in one `service_request_id` list.
const MAX_IDS: usize = 200;

/// The parameters of a call: the form body first, then the query string (clients put `api_key` and
/// `jurisdiction_id` in either).
struct Params(Vec<(String, String)>);

impl Params {
    fn of(query: Option<&str>, body: &[u8]) -> Self {
        let mut all: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        all.extend(form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned());
        Self(all)
    }

    /// The first non-empty value of `name`, trimmed.
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.trim()).find(|v| !v.is_empty())
    }

    /// A comma-separated list.
    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// `jurisdiction_id`: a community's id.
    fn jurisdiction(&self) -> Result<Option<i64>, Fault> {
        match self.get("jurisdiction_id") {
            None => Ok(None),
            Some(j) => j.parse().map(Some).map_err(|_| Fault::UnknownJurisdiction(j.to_string())),
        }
    }

    /// A w3 date-time (`2024-05-01T00:00:00Z`, any offset) or a date (midnight UTC).
    fn date(&self, name: &'static str) -> Result<Option<DateTime<Utc>>, Fault> {
        let Some(s) = self.get(name) else { return Ok(None) };
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()))
            .map(Some)
            .map_err(|_| Fault::BadDate(name))
    }
}

/// One call's context: its format and language, for the answer and for its errors.
struct Call {
    fmt: Fmt,
    lang: Lang,
}

impl Call {
    fn answer(&self, result: Result<Response, Fault>) -> Response {
        result.unwrap_or_else(|fault| Answer { fault, fmt: self.fmt, lang: self.lang }.into_response())
    }
}

/// The file of a path and its call, or the 404 for a path without a format.
fn call<'a>(file: &'a str, headers: &HeaderMap) -> Result<(&'a str, Call), Box<Response>> {
    let lang = language(headers);
    match split(file) {
        Some((name, fmt)) => Ok((name, Call { fmt, lang })),
        None => Err(Box::new(Answer { fault: Fault::NoFormat, fmt: Fmt::Json, lang }.into_response())),
    }
}

fn w3(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn service_record(s: &Service) -> Value {
    json!({
        "service_code": s.code,
        "service_name": s.name_zh,
        "description": s.name_en,
        "metadata": !s.questions.is_empty(),
        "type": "realtime",
        "keywords": s.urgency,
        "group": s.group,
    })
}

fn request_record(r: &PublicRequest) -> Value {
    json!({
        "service_request_id": r.number,
        "status": if r.open { "open" } else { "closed" },
        "status_notes": r.status_notes,
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.agency,
        "service_notice": "",
        "requested_datetime": w3(r.requested_at),
        "updated_datetime": w3(r.updated_at),
        "expected_datetime": w3(r.expected_at),
        "address": r.place,
        "zipcode": "",
        "lat": Value::Null,
        "long": Value::Null,
        "media_url": "",
    })
}

fn requests_answer(fmt: Fmt, records: &[PublicRequest]) -> Response {
    render::list(fmt, "service_requests", "request", records.iter().map(request_record).collect())
}

/// `GET discovery.{fmt}`, `GET services.{fmt}` and `GET requests.{fmt}`.
async fn get_root(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (name, call) = match call(&file, &headers) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let params = Params::of(query.as_deref(), &[]);
    let result = match name {
        "discovery" => Ok(discovery(&state, &headers, call.fmt)),
        "services" => list_services(&state, call.fmt).await,
        "requests" => list_requests(&state, &params, call.fmt).await,
        _ => Err(Fault::UnknownResource),
    };
    call.answer(result)
}

/// Where this server answers and how: GeoReport's discovery document.
fn discovery(state: &AppState, headers: &HeaderMap, fmt: Fmt) -> Response {
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let v = json!({
        "changeset": CHANGESET,
        "contact": "吾家 Wujia",
        "key_service": format!("{scheme}://{host}/admin/api-keys"),
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{scheme}://{host}/open311/v2"),
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    render::document(fmt, "discovery", v)
}

async fn list_services(state: &AppState, fmt: Fmt) -> Result<Response, Fault> {
    let services = public::services(&state.app).await?;
    Ok(render::list(fmt, "services", "service", services.iter().map(service_record).collect()))
}

/// `GET services/{code}.{fmt}`: the service definition with the category's questions as attributes.
async fn get_service(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (code, call) = match call(&file, &headers) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let result = async {
        let s = public::service(&state.app, code).await.map_err(|e| match e {
            AppError::NotFound => Fault::UnknownService(code.to_string()),
            e => e.into(),
        })?;
        let attributes: Vec<Value> = s
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                json!({"variable": true, "code": format!("q{}", i + 1), "datatype": "string", "required": false,
                       "datatype_description": "", "order": i + 1, "description": q})
            })
            .collect();
        Ok(render::document(call.fmt, "service_definition", json!({"service_code": s.code, "attributes": attributes})))
    }
    .await;
    call.answer(result)
}

/// The client behind `api_key`, when one is given; a key that is not valid is refused, not ignored.
async fn client(state: &AppState, params: &Params, writes: bool) -> Result<Option<Auth>, Fault> {
    match params.get("api_key") {
        None => Ok(None),
        Some(key) => api_key_auth(state, key, writes).await?.map(Some).ok_or(Fault::KeyRefused),
    }
}

/// A refusal of a read: a community that keeps its reads to key holders answers 403 with its own sentence.
fn read_fault(e: AppError) -> Fault {
    match e {
        AppError::Forbidden => Fault::ReadsClosed,
        e => e.into(),
    }
}

fn reader(auth: Option<&Auth>) -> Reader<'_> {
    auth.map_or(Reader::Anyone, |a| Reader::Client(a))
}

async fn list_requests(state: &AppState, params: &Params, fmt: Fmt) -> Result<Response, Fault> {
    let auth = client(state, params, false).await?;
    let jurisdiction = params.jurisdiction()?;
    // GeoReport v2: asking for ids overrides every other argument.
    let ids = params.list("service_request_id");
    if !ids.is_empty() {
        let wanted: Vec<&str> = ids.iter().map(String::as_str).take(MAX_IDS).collect();
        let records =
            public::numbered(&state.app, reader(auth.as_ref()), jurisdiction, &wanted).await.map_err(read_fault)?;
        return Ok(requests_answer(fmt, &records));
    }
    let (from, to) = (params.date("start_date")?, params.date("end_date")?);
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(Fault::DatesReversed);
    }
    let statuses = params.list("status");
    let open = match (statuses.iter().any(|s| s == "open"), statuses.iter().any(|s| s == "closed")) {
        _ if statuses.iter().any(|s| s != "open" && s != "closed") => return Err(Fault::BadStatus),
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let q = PublicQuery { jurisdiction, service_codes: params.list("service_code"), open, from, to };
    let records = public::list(&state.app, reader(auth.as_ref()), &q).await.map_err(read_fault)?;
    Ok(requests_answer(fmt, &records))
}

/// `GET requests/{id}.{fmt}` and `GET tokens/{token}.{fmt}`: requests are realtime, so a token is the request
/// number itself.
async fn one(state: &AppState, file: &str, query: Option<&str>, headers: &HeaderMap, token: bool) -> Response {
    let (number, call) = match call(file, headers) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let params = Params::of(query, &[]);
    let result = async {
        let auth = client(state, &params, false).await?;
        let r =
            public::one(&state.app, reader(auth.as_ref()), params.jurisdiction()?, number).await.map_err(
                |e| match e {
                    AppError::NotFound => Fault::UnknownRequest(number.to_string()),
                    e => read_fault(e),
                },
            )?;
        Ok(if token {
            render::list(
                call.fmt,
                "service_requests",
                "request",
                vec![json!({"service_request_id": r.number, "token": r.number})],
            )
        } else {
            requests_answer(call.fmt, std::slice::from_ref(&r))
        })
    }
    .await;
    call.answer(result)
}

async fn get_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    one(&state, &file, query.as_deref(), &headers, false).await
}

async fn get_token(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    one(&state, &file, query.as_deref(), &headers, true).await
}

/// `POST requests.{fmt}`: a new request, form-encoded as the spec says; `api_key` in the body or the query.
async fn post_root(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (name, call) = match call(&file, &headers) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let result = async {
        if name != "requests" {
            return Err(Fault::UnknownResource);
        }
        let params = Params::of(query.as_deref(), &body);
        let auth = client(&state, &params, true).await?.ok_or(Fault::KeyRefused)?;
        let created = create_request(&state, &auth, &params, call.lang).await?;
        Ok(render::list(call.fmt, "service_requests", "request", vec![created]))
    }
    .await;
    call.answer(result)
}

/// Takes the request in and answers with its id (GeoReport: an id, or a token when the id comes later — ours
/// are realtime, so an id only).
async fn create_request(state: &AppState, auth: &Auth, params: &Params, lang: Lang) -> Result<Value, Fault> {
    let code = params.get("service_code").ok_or(Fault::NoServiceCode)?;
    let service = public::service(&state.app, code).await.map_err(|e| match e {
        // An unknown service in a request is a fault of the request: 400.
        AppError::NotFound => Fault::ServiceNotOffered(code.to_string()),
        e => e.into(),
    })?;
    let location = match (params.get("address_string"), params.get("lat"), params.get("long")) {
        (Some(a), _, _) => a.to_string(),
        (None, Some(lat), Some(long)) => Coordinates::parse(lat, long)
            .map_err(|(field, why)| Fault::BadCoordinates { field: field.to_string(), why: why.to_string() })?
            .to_string(),
        _ => return Err(Fault::NoLocation),
    };
    let mut answers = serde_json::Map::new();
    for (k, v) in &params.0 {
        if let Some(code) = k.strip_prefix("attribute[").and_then(|k| k.strip_suffix(']'))
            && let Some(q) = code
                .strip_prefix('q')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| service.questions.get(n.wrapping_sub(1)))
        {
            answers.insert(q.clone(), json!(v));
        }
    }
    let body = TakeIn {
        category_id: service.category_id,
        description: params.get("description").unwrap_or_default().to_string(),
        channel: None,
        household_id: None,
        location: Some(location),
        contact_name: Some(contact_name(params.get("first_name"), params.get("last_name"))),
        contact_phone: params.get("phone").map(str::to_string),
        answers,
        external_no: params.get("device_id").or(params.get("account_id")).map(str::to_string),
        community_id: params.jurisdiction()?,
    };
    let row = take_in(&state.app, auth, &body, Some(Channel::Open311)).await?;
    let due = row.respond_due.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M");
    Ok(json!({
        "service_request_id": row.number,
        "service_notice": format!("{} {due}", lang.t("open311.received")),
        "account_id": Value::Null,
    }))
}

/// A name as its people write it: `胡桂兰` (family name first, no space), `Zach Williams`.
fn contact_name(first: Option<&str>, last: Option<&str>) -> String {
    match (first, last) {
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => format!("{f} {l}"),
        (f, l) => [l, f].into_iter().flatten().collect(),
    }
}

/// The Open311 routes. `service/{code}` answers as `services/{code}`: the `open311` client asks there.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(get_root).post(post_root))
        .route("/open311/v2/services/{file}", get(get_service))
        .route("/open311/v2/service/{file}", get(get_service))
        .route("/open311/v2/requests/{file}", get(get_request))
        .route("/open311/v2/tokens/{file}", get(get_token))
}

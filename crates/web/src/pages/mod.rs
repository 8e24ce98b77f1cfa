//! Server-rendered pages: the staff console and the resident portal. Every page works without JavaScript.

mod account;
mod activities;
mod admin;
mod api_keys;
mod batches;
mod calendar;
mod dashboard;
mod inbox;
mod patrol;
mod problems;
mod proposals;
mod reception;
mod registry;
mod requests;
mod topics;
mod volunteers;

use crate::AppState;
use crate::auth::{Auth, authenticate};
use crate::error::ApiError;
use crate::i18n::{LANG_COOKIE, Lang};
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use wujia_core::accounts::{Action, Role, Scope};

/// The large-text, high-contrast preference cookie.
pub const A11Y_COOKIE: &str = "wujia_large";
/// The pre-login CSRF cookie (double-submit), for the login and sign-up forms.
pub const FORM_CSRF_COOKIE: &str = "wujia_form_csrf";

/// One navigation entry.
pub struct NavItem {
    href: &'static str,
    label: String,
    active: bool,
}

/// What every page's frame needs.
pub struct Layout {
    lang: Lang,
    title: String,
    user_name: Option<String>,
    role_label: String,
    csrf: String,
    large: bool,
    nav: Vec<NavItem>,
    path: String,
    show_search: bool,
    query: String,
}

impl Layout {
    /// A message in the page's language.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        self.lang.t(key)
    }
}

/// The request's language, preferences and caller, for building a [`Layout`].
pub struct PageContext {
    /// Language.
    pub lang: Lang,
    large: bool,
    path: String,
    form_csrf: Option<String>,
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers, parts.uri.path_and_query().map_or("/", |p| p.as_str())))
    }
}

impl PageContext {
    fn from_headers(headers: &HeaderMap, path: &str) -> Self {
        let jar = CookieJar::from_headers(headers);
        Self {
            lang: Lang::from_headers(headers),
            large: jar.get(A11Y_COOKIE).is_some_and(|c| c.value() == "1"),
            path: path.to_string(),
            form_csrf: jar.get(FORM_CSRF_COOKIE).map(|c| c.value().to_string()),
        }
    }

    /// The frame for a page titled by catalogue key `title_key`.
    pub fn layout(&self, title: &str, auth: Option<&Auth>) -> Layout {
        let lang = self.lang;
        let mut nav = Vec::new();
        if let Some(a) = auth {
            let any = |action: Action| a.actor.communities.iter().any(|c| a.can(action, Scope::community(*c)));
            if matches!(a.role(), Role::Resident | Role::Volunteer) {
                nav.push(("/portal", "nav.portal"));
            }
            if any(Action::ViewSummary) {
                nav.push(("/dashboard", "nav.dashboard"));
            }
            if any(Action::ViewAddresses) && a.role() != Role::Resident {
                nav.push(("/console", "nav.registry"));
            }
            if !a.actor.communities.is_empty() {
                nav.push((
                    "/requests",
                    if matches!(a.role(), Role::Resident | Role::Volunteer) {
                        "nav.my_requests"
                    } else {
                        "nav.requests"
                    },
                ));
            }
            if !a.actor.buildings.is_empty() {
                nav.push(("/my/households", "nav.my_households"));
            }
            if any(Action::ViewReception) || a.actor.household.is_some() {
                nav.push(("/reception", "nav.reception"));
            }
            if any(Action::ViewReception) || a.actor.household.is_some() {
                nav.push(("/topics", "nav.topics"));
            }
            if any(Action::ManageActivities) || a.actor.household.is_some() {
                nav.push(("/activities", "nav.activities"));
            }
            if any(Action::ManageVolunteers) {
                nav.push(("/volunteers", "nav.volunteers"));
            } else if a.actor.household.is_some() {
                nav.push(("/volunteer", "nav.volunteer"));
            }
            if any(Action::ViewPatrol) || any(Action::PatrolRounds) {
                nav.push(("/patrol", "nav.patrol"));
            }
            if any(Action::ImportRegistry) || any(Action::ExportRegistry) || a.role() == Role::SocialWorker {
                nav.push(("/registry/import", "nav.import"));
            }
            nav.push(("/inbox", "nav.inbox"));
            if a.can(Action::ManageAccounts, Scope::DEPLOYMENT) {
                nav.push(("/admin/users", "nav.users"));
                nav.push(("/admin/api-keys", "nav.apikeys"));
                nav.push(("/admin/calendar", "nav.calendar"));
            }
            if a.can(Action::ViewAudit, Scope::DEPLOYMENT) {
                nav.push(("/admin/audit", "nav.audit"));
            }
        }
        let current = self.path.split('?').next().unwrap_or("/");
        Layout {
            lang,
            title: title.to_string(),
            user_name: auth.map(|a| a.user.display_name.clone()),
            role_label: auth.map(|a| lang.t(&format!("role.{}", a.role().code())).to_string()).unwrap_or_default(),
            csrf: auth.map(|a| a.csrf.clone()).or_else(|| self.form_csrf.clone()).unwrap_or_default(),
            large: self.large,
            show_search: auth.is_some_and(|a| {
                a.role().is_staff_side()
                    && a.actor.communities.iter().any(|c| a.can(Action::ViewAddresses, Scope::community(*c)))
            }),
            nav: nav
                .into_iter()
                .map(|(href, key)| NavItem { href, label: lang.t(key).to_string(), active: current.starts_with(href) })
                .collect(),
            path: self.path.clone(),
            query: String::new(),
        }
    }
}

/// Renders a template, or a plain 500 when rendering fails.
pub fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    l: Layout,
    heading: String,
    lines: Vec<String>,
    highlight: Option<String>,
    is_error: bool,
    back_href: String,
    back_label: String,
}

/// A page that says one thing, such as an error or a code issued once.
pub fn message(
    ctx: &PageContext,
    auth: Option<&Auth>,
    status: StatusCode,
    heading: &str,
    lines: Vec<String>,
    highlight: Option<String>,
    back: &str,
) -> Response {
    let page = MessagePage {
        l: ctx.layout(heading, auth),
        heading: heading.to_string(),
        lines,
        highlight,
        is_error: status.is_client_error() || status.is_server_error(),
        back_href: back.to_string(),
        back_label: ctx.lang.t("common.back").to_string(),
    };
    (status, render(page)).into_response()
}

/// A rendered page, or the error as a page.
pub fn page_or_error(ctx: &PageContext, auth: &Auth, result: Result<impl Template, ApiError>) -> Response {
    match result {
        Ok(page) => render(page),
        Err(e) => error_page(ctx, Some(auth), e),
    }
}

/// A page shown again with the error on it and the error's status (a form with its mistake), or the error page
/// when the page itself cannot be built.
pub fn page_with_error(ctx: &PageContext, auth: &Auth, e: ApiError, page: Result<impl Template, ApiError>) -> Response {
    match page {
        Ok(p) => (e.status(), render(p)).into_response(),
        Err(_) => error_page(ctx, Some(auth), e),
    }
}

/// A moment as Beijing people read it: `2024-03-05 14:30`.
pub(crate) fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string()
}

/// An error shown as a page in the viewer's language.
pub fn error_page(ctx: &PageContext, auth: Option<&Auth>, e: ApiError) -> Response {
    if let ApiError::Internal(cause) = &e {
        tracing::error!(%cause, "internal error");
    }
    let heading = match e.status() {
        StatusCode::NOT_FOUND => ctx.lang.t("error.not_found"),
        StatusCode::FORBIDDEN => ctx.lang.t("error.forbidden"),
        StatusCode::INTERNAL_SERVER_ERROR => ctx.lang.t("error.internal"),
        _ => ctx.lang.t("error.bad_input"),
    };
    let lines = match &e {
        ApiError::Internal(_) => vec![ctx.lang.t("error.internal_hint").to_string()],
        other => vec![other.detail()],
    };
    message(ctx, auth, e.status(), heading, lines, None, "/")
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only same-site relative paths are followed after login or a preference change.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn pref_cookie(name: &'static str, value: &'static str) -> Cookie<'static> {
    Cookie::build((name, value)).path("/").same_site(SameSite::Lax).permanent().build()
}

async fn set_lang(
    jar: CookieJar,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(n): Query<Next>,
) -> Response {
    let value = if code == "en" { "en" } else { "zh" };
    (jar.add(pref_cookie(LANG_COOKIE, value)), Redirect::to(&safe_next(n.next.as_deref()))).into_response()
}

async fn toggle_large(jar: CookieJar, Query(n): Query<Next>) -> Response {
    let on = jar.get(A11Y_COOKIE).is_some_and(|c| c.value() == "1");
    let jar = jar.add(pref_cookie(A11Y_COOKIE, if on { "0" } else { "1" }));
    (jar, Redirect::to(&safe_next(n.next.as_deref()))).into_response()
}

/// The caller if logged in; pages that also serve visitors use it.
pub struct MaybeAuth(pub Option<Auth>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    /// A stale or unknown token makes a visitor; a failure to look the session up is a fault, never "anonymous".
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match authenticate(state, parts).await {
            Ok(auth) => Ok(Self(auth)),
            Err(ApiError::Unauthorized) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

/// Where a logged-in account starts.
pub fn home_of(a: &Auth) -> &'static str {
    if a.user.must_change_password {
        "/account/password"
    } else if matches!(a.role(), Role::Resident | Role::Volunteer) {
        "/portal"
    } else if a.role() == Role::Patrol {
        "/patrol"
    } else {
        "/console"
    }
}

async fn index(MaybeAuth(auth): MaybeAuth) -> Response {
    match auth {
        Some(a) => Redirect::to(home_of(&a)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../assets/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../assets/app.js"),
    )
        .into_response()
}

/// All page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/lang/{code}", get(set_lang))
        .route("/a11y", get(toggle_large))
        .route("/problems/{code}", get(problems::get_problem))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .merge(account::routes())
        .merge(registry::routes())
        .merge(admin::routes())
        .merge(api_keys::routes())
        .merge(calendar::routes())
        .merge(requests::routes())
        .merge(inbox::routes())
        .merge(patrol::routes())
        .merge(reception::routes())
        .merge(reception::my_routes())
        .merge(topics::routes())
        .merge(activities::routes())
        .merge(dashboard::routes())
        .merge(dashboard::report_routes())
        .merge(dashboard::wall_routes())
        .merge(volunteers::routes())
        .merge(proposals::routes())
        .merge(batches::routes())
}

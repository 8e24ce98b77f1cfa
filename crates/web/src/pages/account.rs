//! Logging in and out, changing a password, signing up with a code, and the resident portal.

use super::{FORM_CSRF_COOKIE, Layout, MaybeAuth, PageContext, error_page, home_of, render, safe_next};
use crate::AppState;
use crate::api::registry::{SignupBody, signup};
use crate::api::sessions::change_own_password;
use crate::auth::{Auth, SESSION_COOKIE, login, new_token, session_cookie};
use crate::client::ClientAddr;
use crate::error::{ApiError, FieldIssue};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    error: Option<String>,
    next: String,
    username: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// Makes sure the visitor has a pre-login CSRF cookie, and the layout carries it.
fn with_form_csrf(jar: CookieJar, ctx: &mut PageContext) -> CookieJar {
    if ctx.form_csrf.is_some() {
        return jar;
    }
    let token = new_token(16);
    ctx.form_csrf = Some(token.clone());
    jar.add(Cookie::build((FORM_CSRF_COOKIE, token)).path("/").http_only(true).same_site(SameSite::Strict).build())
}

fn form_csrf_ok(ctx: &PageContext, submitted: &str) -> bool {
    ctx.form_csrf.as_deref().is_some_and(|c| !c.is_empty() && c == submitted)
}

async fn login_page(
    MaybeAuth(auth): MaybeAuth,
    mut ctx: PageContext,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Some(a) = auth {
        return Redirect::to(home_of(&a)).into_response();
    }
    let jar = with_form_csrf(jar, &mut ctx);
    let page = LoginPage {
        l: ctx.layout(ctx.lang.t("login.title"), None),
        error: None,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    };
    (jar, render(page)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

async fn login_submit(
    State(state): State<AppState>,
    client: ClientAddr,
    mut ctx: PageContext,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Response {
    let fail = |ctx: &PageContext, status: StatusCode, msg: String| {
        let page = LoginPage {
            l: ctx.layout(ctx.lang.t("login.title"), None),
            error: Some(msg),
            next: safe_next(Some(&f.next)),
            username: f.username.clone(),
        };
        (status, render(page)).into_response()
    };
    if !form_csrf_ok(&ctx, &f.csrf) {
        let jar = with_form_csrf(jar, &mut ctx);
        let page = fail(&ctx, StatusCode::FORBIDDEN, ctx.lang.t("login.expired").to_string());
        return (jar, page).into_response();
    }
    match login(&state, &f.username, &f.password, client).await {
        Ok((user, token, _)) => {
            let jar = jar.add(session_cookie(&state, token)).remove(Cookie::from(FORM_CSRF_COOKIE));
            let to = if user.must_change_password {
                "/account/password".to_string()
            } else if f.next.is_empty() || f.next == "/" {
                "/".to_string()
            } else {
                safe_next(Some(&f.next))
            };
            (jar, Redirect::to(&to)).into_response()
        }
        Err(ApiError::Unauthorized) => fail(&ctx, StatusCode::UNAUTHORIZED, ctx.lang.t("login.failed").to_string()),
        Err(ApiError::TooManyRequests { retry_after }) => {
            let message = ctx.lang.t("login.throttled").replace("{seconds}", &retry_after.to_string());
            let mut page = fail(&ctx, StatusCode::TOO_MANY_REQUESTS, message);
            if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after.to_string()) {
                page.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            page
        }
        Err(ApiError::Validation(_)) => {
            fail(&ctx, StatusCode::UNPROCESSABLE_ENTITY, ctx.lang.t("login.missing").to_string())
        }
        Err(e) => error_page(&ctx, None, e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    if let Some(s) = &auth.session
        && let Err(e) = state.store.delete_session(s).await
    {
        return error_page(&ctx, Some(&auth), e.into());
    }
    state.forget_sessions();
    (jar.remove(Cookie::build(SESSION_COOKIE).path("/").build()), Redirect::to("/login")).into_response()
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    l: Layout,
    must_change: bool,
    done: bool,
    errors: Vec<FieldIssue>,
}

async fn password_page(ctx: PageContext, auth: Auth) -> Response {
    render(PasswordPage {
        l: ctx.layout(ctx.lang.t("password.title"), Some(&auth)),
        must_change: auth.user.must_change_password,
        done: false,
        errors: vec![],
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn password_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let result = change_own_password(&state, &auth, &f.current_password, &f.new_password, ctx.lang).await;
    let (status, done, errors) = match result {
        Ok(()) => (StatusCode::OK, true, vec![]),
        Err(e @ ApiError::Validation(_)) => (StatusCode::UNPROCESSABLE_ENTITY, false, e.issues()),
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    let page = PasswordPage {
        l: ctx.layout(ctx.lang.t("password.title"), Some(&auth)),
        must_change: auth.user.must_change_password && !done,
        done,
        errors,
    };
    (status, render(page)).into_response()
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    l: Layout,
    errors: Vec<FieldIssue>,
    code: String,
    display_name: String,
    username: String,
}

async fn signup_page(mut ctx: PageContext, jar: CookieJar) -> Response {
    let jar = with_form_csrf(jar, &mut ctx);
    let page = SignupPage {
        l: ctx.layout(ctx.lang.t("signup.title"), None),
        errors: vec![],
        code: String::new(),
        display_name: String::new(),
        username: String::new(),
    };
    (jar, render(page)).into_response()
}

#[derive(Deserialize)]
struct SignupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn signup_submit(
    State(state): State<AppState>,
    mut ctx: PageContext,
    jar: CookieJar,
    Form(f): Form<SignupForm>,
) -> Response {
    let body = SignupBody {
        code: f.code.clone(),
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        password: f.password,
    };
    let result = if form_csrf_ok(&ctx, &f.csrf) {
        signup(&state, &body, ctx.lang).await.map(|_| ())
    } else {
        Err(ApiError::Forbidden)
    };
    match result {
        Ok(()) => Redirect::to("/login?next=/portal").into_response(),
        Err(e) => {
            let status = e.status();
            let mut errors = e.issues();
            if errors.is_empty() {
                errors.push(FieldIssue { field: "form".into(), message: e.detail(), row: None });
            }
            let jar = with_form_csrf(jar, &mut ctx);
            let page = SignupPage {
                l: ctx.layout(ctx.lang.t("signup.title"), None),
                errors,
                code: f.code,
                display_name: f.display_name,
                username: f.username,
            };
            (status, jar, render(page)).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    l: Layout,
    display_name: String,
    address: Option<String>,
    members: Vec<(String, String)>,
    worker: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct PortalParams {
    sent: Option<String>,
}

async fn portal(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<PortalParams>,
) -> Response {
    let mut page = PortalPage {
        notice: p.sent.map(|_| ctx.lang.t("portal.message_sent").to_string()),
        l: ctx.layout(ctx.lang.t("portal.title"), Some(&auth)),
        display_name: auth.user.display_name.clone(),
        address: None,
        members: vec![],
        worker: None,
    };
    if let Some(h) = auth.actor.household {
        let result = async {
            let household = state.store.household(h, state.clock.today()).await?;
            let building = state.store.building(household.building_id).await?;
            Ok::<_, ApiError>((household, building))
        }
        .await;
        match result {
            Ok((household, building)) => {
                page.address = Some(household.address.clone());
                page.members = household
                    .residents
                    .iter()
                    .map(|r| (r.name.clone(), crate::view::relation_label(&r.relation, ctx.lang)))
                    .collect();
                page.worker = building.social_worker_name;
            }
            Err(e) => return error_page(&ctx, Some(&auth), e),
        }
    }
    render(page)
}

/// Login, logout, password, sign-up and portal routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/account/password", get(password_page).post(password_submit))
        .route("/signup", get(signup_page).post(signup_submit))
        .route("/portal", get(portal))
        .route("/portal/message", axum::routing::post(message_worker))
}

#[derive(Deserialize)]
struct MessageForm {
    csrf: String,
    text: String,
}

/// A resident writes to their building social worker; the message reaches the worker's inbox and is audited.
async fn message_worker(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<MessageForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let result = async {
        let h = auth.actor.household.ok_or(ApiError::Forbidden)?;
        let household = state.store.household(h, state.clock.today()).await?;
        let building = state.store.building(household.building_id).await?;
        let worker = building
            .social_worker_id
            .ok_or_else(|| ApiError::field("text", "本楼暂无包楼社工 / no building social worker yet"))?;
        let text = f.text.trim();
        if text.is_empty() || text.chars().count() > 500 {
            return Err(ApiError::field(
                "text",
                "请写下想说的话（最多 500 字）/ write your message (at most 500 characters)",
            ));
        }
        let now = state.clock.now();
        let notices = wujia_store::Notices {
            inbox: vec![(
                worker,
                format!("{}（{}）的留言", auth.user.display_name, household.address),
                text.to_string(),
                format!("/households/{h}"),
            )],
            outside: vec![],
        };
        let mut change = auth.change(&state, "household.message", Some(household.community_id));
        change.entity = "household".into();
        change.entity_id = h.to_string();
        change.after = serde_json::json!({"to": worker, "text": text});
        state.store.record(&change).await?;
        state.store.notify(&notices, None, now).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/portal?sent=1").into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

//! Admin pages: accounts and the audit log (API keys have their own page).

use super::{Layout, PageContext, error_page, page_or_error, render};
use crate::AppState;
use crate::api::accounts::{NewUserBody, add_user};
use crate::auth::Auth;
use crate::error::{ApiError, FieldIssue};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wujia_core::accounts::{Action, Role, Scope};
use wujia_store::{StoreError, User};

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<(User, String)>,
    roles: Vec<(String, String)>,
    notices: Vec<String>,
    errors: Vec<FieldIssue>,
}

async fn users_page_with(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    notices: Vec<String>,
    errors: Vec<FieldIssue>,
) -> Result<UsersPage, ApiError> {
    auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| {
            let role = ctx.lang.t(&format!("role.{}", u.role.code())).to_string();
            (u, role)
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.code().to_string(), ctx.lang.t(&format!("role.{}", r.code())).to_string()))
        .collect();
    Ok(UsersPage { l: ctx.layout(ctx.lang.t("users.title"), Some(auth)), users, roles, notices, errors })
}

async fn users_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    match users_page_with(&state, &ctx, &auth, vec![], vec![]).await {
        Ok(p) => render(p),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    household_id: String,
}

async fn create_user(State(state): State<AppState>, ctx: PageContext, auth: Auth, Form(f): Form<UserForm>) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let household_id = match f.household_id.trim() {
        "" => None,
        h => match h.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return respond(
                    &state,
                    &ctx,
                    &auth,
                    vec![],
                    vec![FieldIssue {
                        field: "household_id".into(),
                        message: ctx.lang.t("users.household_invalid").into(),
                        row: None,
                    }],
                )
                .await;
            }
        },
    };
    // Staff-side accounts created here work in the admin's first community; more can be assigned by API.
    let communities = match Role::from_code(&f.role) {
        Some(r) if r.is_staff_side() && r != Role::Admin => auth.actor.communities.iter().take(1).copied().collect(),
        _ => vec![],
    };
    let body = NewUserBody {
        username: f.username,
        display_name: f.display_name,
        role: f.role,
        password: None,
        organization: Some(f.organization),
        communities,
        household_id,
    };
    match add_user(&state, &auth, &body, ctx.lang).await {
        Ok((user, generated)) => {
            let notice = format!(
                "{} {} · {}: {}",
                ctx.lang.t("users.created"),
                user.username,
                ctx.lang.t("users.initial_password"),
                generated.unwrap_or_default()
            );
            respond(&state, &ctx, &auth, vec![notice], vec![]).await
        }
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let issues = if let ApiError::Conflict(m) = &e {
                vec![FieldIssue { field: "username".into(), message: m.clone(), row: None }]
            } else {
                e.issues()
            };
            respond(&state, &ctx, &auth, vec![], issues).await
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

async fn respond(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    notices: Vec<String>,
    errors: Vec<FieldIssue>,
) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    match users_page_with(state, ctx, auth, notices, errors).await {
        Ok(p) => (status, render(p)).into_response(),
        Err(e) => error_page(ctx, Some(auth), e),
    }
}

#[derive(Deserialize)]
struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

async fn set_active(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ActiveForm>,
) -> Response {
    let result = async {
        auth.check_csrf(&f.csrf)?;
        auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
        let active = f.active == "1";
        if id == auth.user.id && !active {
            return Err(ApiError::Conflict(ctx.lang.t("users.not_self").into()));
        }
        state
            .store
            .set_active(id, active, auth.change(&state, if active { "user.enable" } else { "user.disable" }, None))
            .await?;
        state.forget_sessions();
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/users").into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

struct EventRow {
    seq: i64,
    time: String,
    actor: String,
    action: String,
    record: String,
    after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    chain_ok: bool,
    chain_status: String,
    events: Vec<EventRow>,
    older: Option<i64>,
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

async fn audit(State(state): State<AppState>, ctx: PageContext, auth: Auth, Query(q): Query<AuditQuery>) -> Response {
    let result = async {
        auth.require(Action::ViewAudit, Scope::DEPLOYMENT)?;
        let (chain_ok, chain_status) = match state.store.verify_audit().await {
            Ok(n) => (true, format!("{} ({n})", ctx.lang.t("audit.chain_ok"))),
            Err(StoreError::Tampered(t)) => {
                (false, format!("{} #{}: {}", ctx.lang.t("audit.chain_broken"), t.seq, t.reason))
            }
            Err(e) => return Err(ApiError::from(e)),
        };
        let events = state.store.events(q.before, None, 100).await?;
        let older = events.last().map(|e| e.seq).filter(|s| *s > 1);
        let events = events
            .into_iter()
            .map(|e| EventRow {
                seq: e.seq,
                time: e.at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string(),
                actor: e.actor,
                action: e.action,
                record: format!("{} {}", e.entity, e.entity_id),
                after: e.after.chars().take(160).collect(),
            })
            .collect();
        Ok(AuditPage { l: ctx.layout(ctx.lang.t("audit.title"), Some(&auth)), chain_ok, chain_status, events, older })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

/// Admin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/{id}/active", post(set_active))
        .route("/admin/audit", get(audit))
}

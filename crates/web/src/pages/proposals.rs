//! The page of acting before the complaint (未诉先办): what the detector proposes, with its evidence, and the
//! staff's decisions and outcomes.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::api::proposals::{DecisionBody, decide, list, scan};
use crate::auth::Auth;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;
use wujia_core::accounts::{Action, Role, Scope};

/// The proposals routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/proposals", get(proposals_page))
        .route("/proposals/scan", post(scan_post))
        .route("/proposals/{id}/decision", post(decision_post))
}

/// One proposal as the page shows it.
struct Row {
    id: i64,
    version: i64,
    status: String,
    status_label: String,
    kind_label: String,
    pattern_label: String,
    title: String,
    evidence: String,
    detected: String,
    note: String,
    due: String,
    outcome: String,
    effect: String,
}

#[derive(Template)]
#[template(path = "proposals.html")]
struct ProposalsPage {
    l: Layout,
    status: String,
    rows: Vec<Row>,
    owners: Vec<(i64, String)>,
    can_decide: bool,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct Params {
    status: Option<String>,
    created: Option<usize>,
}

async fn view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    p: &Params,
    error: Option<String>,
) -> Result<ProposalsPage, ApiError> {
    let c = auth.community(None)?;
    let lang = ctx.lang;
    let status = p.status.clone().unwrap_or_default();
    let items = list(state, auth, Some(c), Some(status.as_str())).await?;
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let rows = items
        .iter()
        .map(|v| {
            let e = &v["effect"];
            let effect = format!(
                "{} {} → {} {}{}",
                lang.t("proposal.before"),
                e["before"],
                lang.t("proposal.after"),
                e["after"],
                if e["complete"].as_bool() == Some(true) { "" } else { lang.t("proposal.so_far") }
            );
            Row {
                id: v["id"].as_i64().unwrap_or_default(),
                version: v["version"].as_i64().unwrap_or_default(),
                status: text(v, "status"),
                status_label: lang.t(&format!("proposal.status_{}", text(v, "status"))).to_string(),
                kind_label: lang.t(&format!("proposal.kind_{}", text(v, "kind"))).to_string(),
                pattern_label: lang.t(&format!("proposal.pattern_{}", text(v, "pattern"))).to_string(),
                title: text(v, "title"),
                evidence: text(v, "evidence"),
                detected: v["detected_at"].as_str().and_then(|s| s.parse().ok()).map(super::when).unwrap_or_default(),
                note: text(v, "note"),
                due: text(v, "due"),
                outcome: text(v, "outcome"),
                effect,
            }
        })
        .collect();
    let can_decide = auth.can(Action::DispatchRequests, Scope::community(c));
    let owners = if can_decide {
        state
            .store
            .community_accounts(c, &[Role::Staff, Role::SocialWorker])
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ProposalsPage {
        l: ctx.layout(lang.t("proposal.title"), Some(auth)),
        status,
        rows,
        owners,
        can_decide,
        error,
        notice: p.created.map(|n| lang.t("proposal.scanned").replace("{n}", &n.to_string())),
    })
}

async fn proposals_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<Params>,
) -> Response {
    let result = view(&state, &ctx, &auth, &p, None).await;
    super::page_or_error(&ctx, &auth, result)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn scan_post(State(state): State<AppState>, ctx: PageContext, auth: Auth, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    match scan(&state, &auth, None).await {
        Ok(n) => Redirect::to(&format!("/proposals?created={n}")).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    version: i64,
    #[serde(default)]
    text: String,
    owner_id: Option<String>,
    due: Option<String>,
}

async fn decision_post(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = DecisionBody {
        note: if f.decision == "accept" { f.text.clone() } else { String::new() },
        reason: if f.decision == "dismiss" { f.text.clone() } else { String::new() },
        outcome: if f.decision == "complete" { f.text.clone() } else { String::new() },
        decision: f.decision,
        owner_id: f.owner_id.and_then(|s| s.parse().ok()),
        due: f.due,
        version: f.version,
    };
    match decide(&state, &auth, id, &body).await {
        Ok(_) => Redirect::to(&format!("/proposals#proposal-{id}")).into_response(),
        Err(e) => {
            let page = view(&state, &ctx, &auth, &Params::default(), Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

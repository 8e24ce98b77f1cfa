//! The in-app inbox.

use super::{Layout, PageContext, error_page, page_or_error};
use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

struct Message {
    title: String,
    body: String,
    link: String,
    when: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    l: Layout,
    unread: i64,
    items: Vec<Message>,
}

async fn inbox(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = async {
        let items = state.store.inbox(auth.user.id, 100).await?;
        let unread = state.store.unread(auth.user.id).await?;
        let items = items
            .into_iter()
            .map(|m| Message {
                when: m.created_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string(),
                unread: m.read_at.is_none(),
                // Only our own paths are linked.
                link: if m.link.starts_with('/') && !m.link.starts_with("//") { m.link } else { "/inbox".into() },
                title: m.title,
                body: m.body,
            })
            .collect();
        Ok::<_, ApiError>(InboxPage { l: ctx.layout(ctx.lang.t("inbox.title"), Some(&auth)), unread, items })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn read_all(State(state): State<AppState>, ctx: PageContext, auth: Auth, Form(f): Form<CsrfForm>) -> Response {
    let result = async {
        auth.check_csrf(&f.csrf)?;
        state.store.mark_read(auth.user.id, state.clock.now()).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/inbox").into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

/// Inbox routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/inbox", get(inbox)).route("/inbox/read", post(read_all))
}

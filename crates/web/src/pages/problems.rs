//! The pages behind the problem `type` URIs (`/problems/{code}`): what each kind of problem means and what to do.

use super::{MaybeAuth, PageContext, error_page, render};
use crate::error::{ApiError, PROBLEM_KINDS};
use askama::Template;
use axum::extract::Path;
use axum::response::Response;

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    l: super::Layout,
    code: String,
    status: u16,
    title: String,
    meaning: String,
    action: String,
    /// Every kind: code, title, status.
    kinds: Vec<(&'static str, String, u16)>,
}

/// `GET /problems/{code}`; an unknown code is not found.
pub async fn get_problem(ctx: PageContext, MaybeAuth(auth): MaybeAuth, Path(code): Path<String>) -> Response {
    let Some((status, code)) = PROBLEM_KINDS.iter().find(|(_, c)| *c == code) else {
        return error_page(&ctx, auth.as_ref(), ApiError::NotFound);
    };
    let t = |part: &str| ctx.lang.t(&format!("problem.{code}.{part}")).to_string();
    let title = t("title");
    render(ProblemPage {
        l: ctx.layout(&title, auth.as_ref()),
        code: code.to_string(),
        status: status.as_u16(),
        meaning: t("meaning"),
        action: t("action"),
        title,
        kinds: PROBLEM_KINDS
            .iter()
            .map(|(s, c)| (*c, ctx.lang.t(&format!("problem.{c}.title")).to_string(), s.as_u16()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, catalogue_keys};

    #[test]
    fn every_problem_kind_is_explained_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let keys = catalogue_keys(lang);
            for (_, code) in PROBLEM_KINDS {
                for part in ["title", "meaning", "action"] {
                    let key = format!("problem.{code}.{part}");
                    assert!(keys.contains(&key), "{lang:?} lacks {key}");
                }
            }
        }
    }
}

//! Deadline alerts as a job: each running request's due alerts go to the handler (and, once overdue or with nobody
//! handling it, to the community's staff). The alert's claim and its messages are written in one transaction, so
//! a crash loses none and none goes out twice.

use crate::{App, Result};
use wujia_core::requests::{DeadlineAlert, DeadlineKind, Deadlines, Stage, due_alerts};
use wujia_store::{Notices, RequestRow};

/// Raises the deadline alerts due now, each once; returns how many were raised.
pub async fn raise_deadline_alerts(app: &App) -> Result<usize> {
    let now = app.clock.now();
    let mut raised = 0;
    for (r, raised_before) in app.store.requests_awaiting_alerts().await? {
        let deadlines = Deadlines {
            received_at: r.received_at,
            respond_due: r.respond_due,
            responded_at: r.responded_at,
            resolve_due: r.resolve_due,
            resolved_at: r.resolved_at,
        };
        for alert in due_alerts(&deadlines, now).into_iter().filter(|a| !raised_before.iter().any(|k| k == a.code())) {
            let notices = notices(app, &r, alert).await?;
            if app.store.raise_alert(r.id, alert.code(), &notices, now).await? {
                raised += 1;
            }
        }
    }
    Ok(raised)
}

async fn notices(app: &App, r: &RequestRow, alert: DeadlineAlert) -> Result<Notices> {
    let what = match alert.deadline {
        DeadlineKind::Respond => "响应",
        DeadlineKind::Resolve => "办结",
    };
    let overdue = alert.stage == Stage::Overdue;
    let title = if overdue {
        format!("诉求 {} 已超过{what}时限", r.number)
    } else {
        format!("诉求 {} 即将到达{what}时限", r.number)
    };
    let body = format!("{}:{}", r.location, r.description);
    let mut to: Vec<i64> = r.lead_id.into_iter().collect();
    if overdue || r.lead_id.is_none() {
        to.extend(app.store.accounts_in(r.community_id, "staff").await?);
    }
    to.sort_unstable();
    to.dedup();
    let link = format!("/requests/{}", r.id);
    Ok(Notices {
        inbox: to.into_iter().map(|u| (u, title.clone(), body.clone(), link.clone())).collect(),
        outside: vec![],
    })
}

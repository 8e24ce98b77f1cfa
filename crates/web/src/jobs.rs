//! Background work claimed from the database, so any number of nodes can run it and each item runs once:
//! deliveries to outside channels (with retries and a record of every attempt), deadline alerts, patrol rounds
//! generated from plans, and missed rounds flagged to zone leaders; and, once a day on each node, a warning in the log
//! when the holiday calendar lacks a year it needs.

use crate::AppState;
use crate::error::ApiError;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use wujia_store::{Delivery, Notices};

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobReport {
    /// Deliveries that went out.
    pub delivered: usize,
    /// Deliveries that failed and will be retried.
    pub retried: usize,
    /// Deliveries that failed for good.
    pub failed: usize,
    /// Deadline alerts raised.
    pub alerts: usize,
    /// Patrol rounds generated from plans.
    pub rounds_generated: u64,
    /// Missed patrol rounds flagged to their zone leaders.
    pub missed_rounds: usize,
    /// Volunteers reminded of tomorrow's shifts.
    pub shift_reminders: usize,
    /// Activity places offered from the waiting list that were not confirmed in time.
    pub expired_offers: usize,
    /// Records (re)indexed for search from the event log.
    pub indexed: usize,
    /// Registrations reminded of tomorrow's activities.
    pub activity_reminders: usize,
    /// New proposals from the detector (未诉先办).
    pub proposals: usize,
    /// Login throttle records with nothing left to remember, deleted.
    pub login_records_pruned: u64,
    /// The jobs that failed this time (each is logged with its cause; the others ran).
    pub failed_jobs: Vec<&'static str>,
}

impl JobReport {
    /// Runs one job on its own: a failure is logged with the job's name and noted, and the next job still runs.
    async fn run<T: Default>(&mut self, name: &'static str, job: impl Future<Output = Result<T, ApiError>>) -> T {
        match job.await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(job = name, error = %e, "background job failed");
                self.failed_jobs.push(name);
                T::default()
            }
        }
    }
}

/// Waits before retry `n` (after `n` failures); `None` after the last.
fn backoff(attempts: i64) -> Option<Duration> {
    [1, 5, 15, 60, 180].get(attempts as usize).map(|m| Duration::minutes(*m))
}

/// The robot message formats of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书).
pub fn robot_payload(kind: &str, title: &str, body: &str) -> Option<Value> {
    let text = format!("{title}\n{body}");
    match kind {
        "wecom" | "dingtalk" => Some(json!({"msgtype": "text", "text": {"content": text}})),
        "feishu" => Some(json!({"msg_type": "text", "content": {"text": text}})),
        _ => None,
    }
}

async fn deliver(
    client: &reqwest::Client,
    mailer: Option<&crate::mail::Mailer>,
    allow_hosts: &[String],
    d: &Delivery,
) -> Result<(), String> {
    if d.kind == "email" {
        let mailer = mailer.ok_or("no SMTP server is configured (WUJIA_SMTP_URL)")?;
        return mailer.send(&d.target, &d.title, &d.body).await.map_err(|e| e.to_string());
    }
    let payload =
        robot_payload(&d.kind, &d.title, &d.body).ok_or_else(|| format!("cannot deliver to a {} channel", d.kind))?;
    crate::api::notifications::check_webhook(&d.target, allow_hosts).await?;
    // The error without its URL: the URL holds the robot's key, and the error is logged and shown.
    let res = client
        .post(&d.target)
        .json(&payload)
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    // The robots answer 200 with an error code in the body when they refuse a message.
    let code = body
        .get("errcode")
        .or_else(|| body.get("code"))
        .or_else(|| body.get("StatusCode"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if code != 0 {
        return Err(format!(
            "refused with code {code}: {}",
            body.get("errmsg").or_else(|| body.get("msg")).unwrap_or(&Value::Null)
        ));
    }
    Ok(())
}

/// Runs every job that is due once. Each job runs and fails on its own: the report says which failed.
pub async fn run_jobs_once(state: &AppState) -> Result<JobReport, ApiError> {
    let mut report = JobReport::default();
    let now = state.clock.now();
    let (delivered, retried, failed) = report.run("deliveries", deliver_outbox(state, now)).await;
    (report.delivered, report.retried, report.failed) = (delivered, retried, failed);
    report.alerts = report.run("deadline_alerts", deadline_alerts(state)).await;
    // Rounds for the coming week exist before anyone opens them; the generation is idempotent across nodes.
    let today = state.clock.today();
    report.rounds_generated = report
        .run("patrol_rounds", async { Ok(state.store.ensure_rounds(today, today + Duration::days(7)).await?) })
        .await;
    report.missed_rounds =
        report.run("missed_rounds", async { Ok(state.store.flag_missed_rounds(now).await?.len()) }).await;
    report.shift_reminders = report.run("shift_reminders", async { Ok(state.store.remind_shifts(now).await?) }).await;
    report.expired_offers = report.run("activity_offers", crate::api::activities::expire_offers(state)).await;
    report.activity_reminders =
        report.run("activity_reminders", async { Ok(state.store.remind_activities(now).await?) }).await;
    report.indexed = report.run("search_index", state.search.catch_up(&state.store)).await;
    report.proposals = report.run("proposals", scan_proposals(state)).await;
    report.login_records_pruned =
        report.run("login_throttle", async { Ok(state.store.prune_login_throttle(now).await?) }).await;
    Ok(report)
}

/// Sends what the outbox holds that is due: (delivered, to be retried, failed for good).
async fn deliver_outbox(state: &AppState, now: DateTime<Utc>) -> Result<(usize, usize, usize), ApiError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mailer = match &state.config.smtp {
        Some(smtp) => match crate::mail::Mailer::new(smtp) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::error!(error = %e, "the SMTP settings are unusable; e-mail deliveries wait");
                None
            }
        },
        None => None,
    };
    let (mut delivered, mut retried, mut failed) = (0, 0, 0);
    for d in state.store.claim_deliveries(now, now + Duration::minutes(2), 50).await? {
        match deliver(&client, mailer.as_ref(), &state.config.webhook_allow_hosts, &d).await {
            Ok(()) => {
                state.store.record_delivery(d.id, now, None, None).await?;
                delivered += 1;
            }
            Err(e) => {
                let retry = backoff(d.attempts).map(|b| now + b);
                tracing::warn!(delivery = d.id, error = %e, "delivery failed");
                state.store.record_delivery(d.id, now, Some(&e), retry).await?;
                if retry.is_some() {
                    retried += 1;
                } else {
                    failed += 1;
                }
            }
        }
    }
    Ok((delivered, retried, failed))
}

/// Runs the detector over each community's last [`LOOKBACK_DAYS`](crate::api::proposals::LOOKBACK_DAYS) once an
/// hour, whichever node claims the run first.
async fn scan_proposals(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let mut created = 0;
    for c in state.store.communities().await? {
        if !state.store.claim_proposal_scan(c.id, now, Duration::hours(1)).await? {
            continue;
        }
        let change = wujia_store::Change::system(now, Some(c.id), "proposal.detect");
        let since = now - Duration::days(crate::api::proposals::LOOKBACK_DAYS);
        created += state.store.scan_proposals(c.id, since, change).await?;
    }
    Ok(created)
}

/// Warns the handler when three quarters of a limit have passed, and tells supervisors (community staff) once a
/// deadline is missed. Each alert is sent once; paused requests are skipped.
async fn deadline_alerts(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let mut raised = 0;
    for r in state.store.running_requests().await? {
        let mut alerts: Vec<(&str, bool)> = Vec::new();
        if r.responded_at.is_none() {
            let warn_at = r.respond_due - (r.respond_due - r.received_at) / 4;
            alerts.push(("respond_overdue", now > r.respond_due));
            alerts.push(("respond_warning", now >= warn_at && now <= r.respond_due));
        }
        if r.resolved_at.is_none() {
            let warn_at = r.resolve_due - (r.resolve_due - r.received_at) / 4;
            alerts.push(("resolve_overdue", now > r.resolve_due));
            alerts.push(("resolve_warning", now >= warn_at && now <= r.resolve_due));
        }
        for (kind, due) in alerts {
            if !due || !state.store.claim_alert(r.id, kind, now).await? {
                continue;
            }
            let overdue = kind.ends_with("overdue");
            let what = if kind.starts_with("respond") { "响应" } else { "办结" };
            let title = if overdue {
                format!("诉求 {} 已超过{what}时限", r.number)
            } else {
                format!("诉求 {} 即将到达{what}时限", r.number)
            };
            let body = format!("{}:{}", r.location, r.description);
            let mut to: Vec<i64> = r.lead_id.into_iter().collect();
            if overdue || r.lead_id.is_none() {
                to.extend(state.store.accounts_in(r.community_id, "staff").await?);
            }
            to.sort_unstable();
            to.dedup();
            let notices = Notices {
                inbox: to
                    .into_iter()
                    .map(|u| (u, title.clone(), body.clone(), format!("/requests/{}", r.id)))
                    .collect(),
                outside: vec![],
            };
            state.store.notify(&notices, Some(r.id), now).await?;
            raised += 1;
        }
    }
    Ok(raised)
}

/// Logs a warning when the holiday calendar lacks this year, or from December next year (working-day deadlines
/// there count weekends only), and returns the gap.
pub async fn check_calendar(state: &AppState) -> Result<Option<wujia_core::requests::CalendarGap>, ApiError> {
    let gap = wujia_core::requests::calendar_gap(state.clock.today(), &state.store.calendar_years().await?);
    if let Some(gap) = gap {
        let warning = crate::api::catalogue::CalendarWarning::new(gap, crate::i18n::Lang::Zh);
        tracing::warn!(year = gap.year, urgency = warning.urgency, page = %warning.href, "{}", warning.message);
    }
    Ok(gap)
}

/// Runs the jobs every `every` until the process ends; checks the holiday calendar at start and then once a
/// (Beijing) day. Each fails on its own.
pub fn spawn_jobs(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut calendar_checked = None;
        loop {
            tick.tick().await;
            let today = state.clock.today();
            if calendar_checked != Some(today) {
                match check_calendar(&state).await {
                    Ok(_) => calendar_checked = Some(today),
                    Err(e) => tracing::error!(error = %e, "the holiday calendar check failed"),
                }
            }
            if let Err(e) = run_jobs_once(&state).await {
                tracing::error!(error = %e, "background jobs failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_formats_follow_each_platform() {
        assert_eq!(
            robot_payload("wecom", "紧急诉求", "地库喷淋管爆裂").unwrap()["text"]["content"],
            "紧急诉求\n地库喷淋管爆裂"
        );
        assert_eq!(robot_payload("dingtalk", "a", "b").unwrap()["msgtype"], "text");
        assert_eq!(robot_payload("feishu", "a", "b").unwrap()["content"]["text"], "a\nb");
        assert!(robot_payload("fax", "a", "b").is_none());
    }

    #[test]
    fn retries_back_off_then_stop() {
        assert_eq!(backoff(0), Some(Duration::minutes(1)));
        assert_eq!(backoff(4), Some(Duration::minutes(180)));
        assert_eq!(backoff(5), None);
    }
}

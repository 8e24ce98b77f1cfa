//! Background work claimed from the database, so any number of nodes can run it and each item runs once:
//! deliveries to outside channels (with retries and a record of every attempt), deadline alerts, patrol rounds
//! generated from plans, and missed rounds flagged to zone leaders; and, once a day on each node, a warning in the log
//! when the holiday calendar lacks a year it needs.

use crate::AppState;
use crate::error::ApiError;
use chrono::Duration;
use serde::Serialize;
use serde_json::{Value, json};
use wujia_app::outbox::{Courier, Drain, NotDelivered};
use wujia_store::Delivery;

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

/// The robot message formats of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书).
pub fn robot_payload(kind: &str, title: &str, body: &str) -> Option<Value> {
    let text = format!("{title}\n{body}");
    match kind {
        "wecom" | "dingtalk" => Some(json!({"msgtype": "text", "text": {"content": text}})),
        "feishu" => Some(json!({"msg_type": "text", "content": {"text": text}})),
        _ => None,
    }
}

/// The outbox's courier on this node: group robots over HTTP (to allowed hosts only) and e-mail over SMTP.
struct WebCourier<'a> {
    client: reqwest::Client,
    mailer: Option<crate::mail::Mailer>,
    allow_hosts: &'a [String],
}

impl Courier for WebCourier<'_> {
    async fn send(&self, d: &Delivery) -> Result<(), NotDelivered> {
        self.deliver(d).await.map_err(NotDelivered)
    }
}

impl WebCourier<'_> {
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        if d.kind == "email" {
            let mailer = self.mailer.as_ref().ok_or("no SMTP server is configured (WUJIA_SMTP_URL)")?;
            return mailer.send(&d.target, &d.title, &d.body, &d.stable_id()).await.map_err(|e| e.to_string());
        }
        let payload = robot_payload(&d.kind, &d.title, &d.body)
            .ok_or_else(|| format!("cannot deliver to a {} channel", d.kind))?;
        crate::api::notifications::check_webhook(&d.target, self.allow_hosts).await?;
        // The robots' text messages have no field for it; the header is the same on every retry of this message.
        // The error without its URL: the URL holds the robot's key, and the error is logged and shown.
        let res = self
            .client
            .post(&d.target)
            .header("Idempotency-Key", d.stable_id())
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
}

/// Runs every job that is due once. Each job runs and fails on its own: the report says which failed.
pub async fn run_jobs_once(state: &AppState) -> Result<JobReport, ApiError> {
    let mut report = JobReport::default();
    let now = state.clock.now();
    let drained = report.run("deliveries", deliver_outbox(state, Drain::default())).await;
    (report.delivered, report.retried, report.failed) = (drained.delivered, drained.retried, drained.failed);
    report.alerts = report
        .run("deadline_alerts", async { Ok(wujia_app::deadlines::raise_deadline_alerts(&state.app).await?) })
        .await;
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

/// Sends what the outbox holds that is due, through this node's robots client and mail server.
pub async fn deliver_outbox(state: &AppState, drain: Drain) -> Result<wujia_app::outbox::Drained, ApiError> {
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
    let courier = WebCourier { client, mailer, allow_hosts: &state.config.webhook_allow_hosts };
    Ok(wujia_app::outbox::drain_outbox(&state.app, &courier, drain).await?)
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
}

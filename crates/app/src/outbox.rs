//! Draining the outbox as a job: several senders at once, each claiming one message at a time (emergencies first,
//! one message per channel at once, so a slow or failing channel holds up only its own messages), renewing its
//! hold while a receiver is slow, and recording the outcome only while the claim is still its own. Failed messages
//! wait longer after each failure, each on its own.

use crate::{App, Result};
use chrono::Duration;
use wujia_store::{Attempt, Claim, Delivery};

/// Why a channel did not take a message. The text is kept with the attempt and shown to staff, so it must not
/// hold the channel's secret (a robot's key is in its URL).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotDelivered(pub String);

/// Carries one message to its channel: group robots over HTTP, e-mail over SMTP. The faces that can reach the
/// outside world provide one.
pub trait Courier: Sync {
    /// Sends `delivery`, with [`Delivery::stable_id`] where the channel can carry it, so that a receiver can
    /// tell a retry from a new message.
    fn send(&self, delivery: &Delivery) -> impl Future<Output = Result<(), NotDelivered>> + Send;
}

/// How the outbox drains.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// Messages in flight at once (to different channels).
    pub senders: usize,
    /// How long a claim keeps a message from other nodes; renewed while the message is being sent.
    pub hold: Duration,
    /// How often a sender renews its hold while a receiver is slow.
    pub renew_every: std::time::Duration,
    /// How long one run goes on claiming, so that the other jobs get their turn.
    pub run_for: std::time::Duration,
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            senders: 8,
            hold: Duration::seconds(30),
            renew_every: std::time::Duration::from_secs(10),
            run_for: std::time::Duration::from_secs(8),
        }
    }
}

/// What one run of the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Delivered.
    pub delivered: usize,
    /// Failed, to be tried again.
    pub retried: usize,
    /// Failed for the last time.
    pub failed: usize,
    /// Sent after the hold ran out and another node took the message over: its outcome is that node's to record.
    pub lost: usize,
}

impl std::ops::AddAssign for Drained {
    fn add_assign(&mut self, o: Self) {
        self.delivered += o.delivered;
        self.retried += o.retried;
        self.failed += o.failed;
        self.lost += o.lost;
    }
}

/// Waits before retry `n` (after `n` failures); `None` after the last.
fn backoff(attempts: i64) -> Option<Duration> {
    let minutes: &[i64] = &[1, 5, 15, 60, 180];
    usize::try_from(attempts).ok().and_then(|n| minutes.get(n)).map(|m| Duration::minutes(*m))
}

/// Sends what is due until nothing is, or until the run's time is up.
pub async fn drain_outbox(app: &App, courier: &impl Courier, drain: Drain) -> Result<Drained> {
    let until = tokio::time::Instant::now() + drain.run_for;
    let senders = (0..drain.senders.max(1)).map(|_| sender(app, courier, drain, until));
    let mut total = Drained::default();
    let mut fault = None;
    for result in futures_util::future::join_all(senders).await {
        match result {
            Ok(done) => total += done,
            Err(e) => {
                if let Some(earlier) = fault.replace(e) {
                    tracing::error!(error = %earlier, "an outbox sender failed");
                }
            }
        }
    }
    match fault {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

async fn sender(app: &App, courier: &impl Courier, drain: Drain, until: tokio::time::Instant) -> Result<Drained> {
    let mut done = Drained::default();
    while tokio::time::Instant::now() < until {
        let now = app.clock.now();
        let Some(claim) = app.store.claim_delivery(now, now + drain.hold).await? else { break };
        let sent = send_holding(app, courier, &claim, drain).await?;
        let now = app.clock.now();
        let attempt = match &sent {
            Ok(()) => Attempt::Sent,
            Err(e) => {
                tracing::warn!(delivery = claim.delivery().id, error = %e, "delivery failed");
                match backoff(claim.delivery().attempts) {
                    Some(wait) => Attempt::Retry { error: &e.0, at: now + wait },
                    None => Attempt::GaveUp { error: &e.0 },
                }
            }
        };
        if !app.store.finish_claim(&claim, now, attempt).await? {
            tracing::warn!(delivery = claim.delivery().id, "the hold on a delivery ran out while it was sent");
            done.lost += 1;
            continue;
        }
        match attempt {
            Attempt::Sent => done.delivered += 1,
            Attempt::Retry { .. } => done.retried += 1,
            Attempt::GaveUp { .. } => done.failed += 1,
        }
    }
    Ok(done)
}

/// Sends a claimed message once, renewing the claim's hold while the receiver takes its time.
async fn send_holding(
    app: &App,
    courier: &impl Courier,
    claim: &Claim,
    drain: Drain,
) -> Result<Result<(), NotDelivered>> {
    let send = courier.send(claim.delivery());
    tokio::pin!(send);
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + drain.renew_every, drain.renew_every);
    loop {
        tokio::select! {
            sent = &mut send => return Ok(sent),
            _ = renew.tick() => {
                let now = app.clock.now();
                if !app.store.renew_claim(claim, now + drain.hold).await? {
                    tracing::warn!(delivery = claim.delivery().id, "the hold on a delivery ran out while it was sent");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_stop() {
        assert_eq!(backoff(0), Some(Duration::minutes(1)));
        assert_eq!(backoff(4), Some(Duration::minutes(180)));
        assert_eq!(backoff(5), None);
        assert_eq!(backoff(-1), None);
    }
}

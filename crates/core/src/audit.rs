//! The tamper-evident event log: each event's hash covers its fields and the previous event's hash.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that precedes the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change, exactly as stored. Every field takes part in the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When it happened, at microsecond precision.
    pub at: DateTime<Utc>,
    /// The account that acted; `None` for the system itself (migrations, demo loading).
    pub actor_id: Option<i64>,
    /// The actor's username at the time.
    pub actor: String,
    /// The community the change belongs to, if any.
    pub community_id: Option<i64>,
    /// What was done, e.g. `resident.update`.
    pub action: String,
    /// The kind of record, e.g. `resident`.
    pub entity: String,
    /// The record's id.
    pub entity_id: String,
    /// The record before the change as JSON (`null` when created).
    pub before: String,
    /// The record after the change as JSON (`null` when deleted or for a read).
    pub after: String,
}

/// Rounds a time to what both databases store exactly, so hashes survive a round trip.
pub fn event_time(now: DateTime<Utc>) -> DateTime<Utc> {
    now.trunc_subsecs(6)
}

/// The hash of `event` chained onto `prev`.
pub fn chain_hash(prev: &str, event: &EventRecord) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(prev.as_bytes());
    field(&event.seq.to_le_bytes());
    field(event.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string().as_bytes());
    field(event.actor_id.map(|i| i.to_string()).unwrap_or_default().as_bytes());
    field(event.actor.as_bytes());
    field(event.community_id.map(|i| i.to_string()).unwrap_or_default().as_bytes());
    field(event.action.as_bytes());
    field(event.entity.as_bytes());
    field(event.entity_id.as_bytes());
    field(event.before.as_bytes());
    field(event.after.as_bytes());
    hex::encode(h.finalize())
}

/// The first event whose stored hashes do not match its content or its predecessor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} has been tampered with: {reason}")]
pub struct Tampered {
    /// The event's position.
    pub seq: i64,
    /// What does not match.
    pub reason: &'static str,
}

/// Checks a chain incrementally, event by event, so a long log need not be held in memory.
#[derive(Debug)]
pub struct ChainVerifier {
    prev: String,
    next_seq: i64,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { prev: GENESIS.to_string(), next_seq: 1, checked: 0 }
    }
}

impl ChainVerifier {
    /// Checks the next stored event with its stored `prev_hash` and `hash`.
    pub fn check(&mut self, event: &EventRecord, prev_hash: &str, hash: &str) -> Result<(), Tampered> {
        let seq = event.seq;
        if seq != self.next_seq {
            return Err(Tampered { seq, reason: "an event is missing before this one" });
        }
        if prev_hash != self.prev {
            return Err(Tampered { seq, reason: "its link to the previous event is broken" });
        }
        if chain_hash(prev_hash, event) != hash {
            return Err(Tampered { seq, reason: "its content does not match its hash" });
        }
        self.prev = hash.to_string();
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// How many events were verified.
    pub fn checked(&self) -> u64 {
        self.checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(n: i64) -> Vec<(EventRecord, String, String)> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let e = EventRecord {
                    seq,
                    at: DateTime::from_timestamp(1_700_000_000 + seq, 123_456_000).unwrap(),
                    actor_id: Some(1),
                    actor: "admin".into(),
                    community_id: Some(1),
                    action: "resident.update".into(),
                    entity: "resident".into(),
                    entity_id: seq.to_string(),
                    before: r#"{"phone":"13800000000"}"#.into(),
                    after: r#"{"phone":"13900000000"}"#.into(),
                };
                let hash = chain_hash(&prev, &e);
                let row = (e, prev.clone(), hash.clone());
                prev = hash;
                row
            })
            .collect()
    }

    fn verify(rows: &[(EventRecord, String, String)]) -> Result<u64, Tampered> {
        let mut v = ChainVerifier::default();
        for (e, p, h) in rows {
            v.check(e, p, h)?;
        }
        Ok(v.checked())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&events(5)), Ok(5));
    }

    #[test]
    fn a_changed_field_is_reported_at_its_event() {
        let mut rows = events(5);
        rows[2].0.after = r#"{"phone":"13700000000"}"#.into();
        assert_eq!(verify(&rows).unwrap_err().seq, 3);
    }

    #[test]
    fn a_rehashed_event_breaks_the_next_link() {
        let mut rows = events(5);
        rows[1].0.actor = "mallory".into();
        rows[1].2 = chain_hash(&rows[1].1, &rows[1].0);
        let err = verify(&rows).unwrap_err();
        assert_eq!(err.seq, 3);
        assert_eq!(err.reason, "its link to the previous event is broken");
    }

    #[test]
    fn a_deleted_event_is_reported() {
        let mut rows = events(5);
        rows.remove(3);
        assert_eq!(verify(&rows).unwrap_err().seq, 5);
    }
}

//! Login throttling: how long a login attempt must wait after failed ones.
//!
//! # Why three subjects, and not a lock on the account
//!
//! Locking an account after N wrong passwords hands its owner's access to whoever knows the username: five
//! guesses from anywhere, repeated every quarter of an hour, keep a social worker out of her console for good.
//! Throttling only by account also leaves the cheaper attack open: one address trying one or two passwords on
//! each of many accounts ("spraying") is never slowed. So an attempt is weighed against three records, each
//! counting failed attempts and the time of the last one:
//!
//! - **the client address** ([`ThrottleScope::Address`]), whatever account it tries: this is what slows a
//!   spraying address, and it never touches anyone elsewhere;
//! - **the account from that address** ([`ThrottleScope::AccountFromAddress`]): an attacker guessing one known
//!   account is slowed, but the owner, from her own address, is not affected by it at all;
//! - **the account overall** ([`ThrottleScope::Account`]), with a much higher allowance: the only defence
//!   against guessing one account from very many addresses. Because it could again be used to keep the owner
//!   out, it does not apply to an address from which the account logged in successfully in the last
//!   [`KNOWN_ADDRESS_DAYS`] days: the owner's usual addresses always get their own, unshared allowance.
//!
//! Each subject has some free failures; after them, the next attempt is allowed only `2^k` seconds after the
//! last failure (`k` failures past the allowance), capped at [`MAX_WAIT_SECONDS`]. A quiet hour
//! ([`FORGET_AFTER_SECONDS`]) forgets a subject's failures, so typing mistakes in an office behind one address
//! do not add up over a day. An attempt made while throttled is refused without checking the password and is
//! not counted: hammering does not extend anyone's wait.
//!
//! An attempt is charged to all three records *before* its password is checked, each charge conditional on the
//! record being as it was read, so that several nodes and concurrent requests cannot all slip through the same
//! opening; a correct password then takes back its charge ([`ThrottleScope`] records are counts of failures).

use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;

/// Failed attempts after which the address and the account-from-address records start to wait.
pub const FREE_FAILURES: u32 = 5;
/// Failed attempts after which the account overall starts to wait, from addresses it was not seen at.
pub const FREE_ACCOUNT_FAILURES: u32 = 50;
/// The longest wait between attempts.
pub const MAX_WAIT_SECONDS: i64 = 15 * 60;
/// A subject without a failure for this long starts again from nothing.
pub const FORGET_AFTER_SECONDS: i64 = 60 * 60;
/// An address the account logged in from successfully within this many days is exempt from its overall record.
pub const KNOWN_ADDRESS_DAYS: i64 = 30;

/// The address a throttle counts by: an IPv4 address, or the /64 network of an IPv6 address (one household or
/// phone is given a whole /64, and could otherwise try from a fresh address every time).
pub fn address_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// What a throttle record counts failures of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleScope {
    /// One client address, whatever account it tries.
    Address,
    /// One account, tried from one client address.
    AccountFromAddress,
    /// One account, from everywhere.
    Account,
}

impl ThrottleScope {
    /// Every scope, in the order an attempt is weighed against them.
    pub const ALL: [Self; 3] = [Self::Address, Self::AccountFromAddress, Self::Account];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::AccountFromAddress => "account_address",
            Self::Account => "account",
        }
    }

    /// The subject a record of this scope is kept under: the address, the username, or both.
    pub fn subject(self, username: &str, address: &str) -> String {
        match self {
            Self::Address => address.to_string(),
            Self::AccountFromAddress => format!("{username} {address}"),
            Self::Account => username.to_string(),
        }
    }

    /// The scope of a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    fn free_failures(self) -> u32 {
        match self {
            Self::Address | Self::AccountFromAddress => FREE_FAILURES,
            Self::Account => FREE_ACCOUNT_FAILURES,
        }
    }
}

/// A stored scope code that names no scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown login throttle scope {0:?}")]
pub struct UnknownScope(pub String);

impl TryFrom<String> for ThrottleScope {
    type Error = UnknownScope;

    fn try_from(code: String) -> Result<Self, UnknownScope> {
        Self::from_code(&code).ok_or(UnknownScope(code))
    }
}

/// What is remembered of one subject's attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRecord {
    /// Failed attempts, as stored (see [`ThrottleRecord::remembered`]).
    pub failures: u32,
    /// When the last failed attempt was made.
    pub last_failure_at: DateTime<Utc>,
    /// When an attempt last succeeded (kept for [`ThrottleScope::AccountFromAddress`] only).
    pub last_success_at: Option<DateTime<Utc>>,
}

impl ThrottleRecord {
    /// Failures still counted at `now`: none after a quiet [`FORGET_AFTER_SECONDS`].
    pub fn remembered(&self, now: DateTime<Utc>) -> u32 {
        if now - self.last_failure_at >= Duration::seconds(FORGET_AFTER_SECONDS) { 0 } else { self.failures }
    }

    /// How long from `now` until the next attempt is allowed; zero when it is.
    fn wait(&self, scope: ThrottleScope, now: DateTime<Utc>) -> Duration {
        let failures = self.remembered(now);
        let Some(past) = failures.checked_sub(scope.free_failures()) else { return Duration::zero() };
        let seconds = if past >= 20 { MAX_WAIT_SECONDS } else { (1i64 << past).min(MAX_WAIT_SECONDS) };
        (self.last_failure_at + Duration::seconds(seconds) - now).max(Duration::zero())
    }

    /// True when the account logged in successfully from this address recently.
    fn known(&self, now: DateTime<Utc>) -> bool {
        self.last_success_at.is_some_and(|at| now - at < Duration::days(KNOWN_ADDRESS_DAYS))
    }
}

/// The failures to store when an attempt is charged to a record: one more than those remembered.
pub fn charged(record: Option<&ThrottleRecord>, now: DateTime<Utc>) -> u32 {
    record.map_or(0, |r| r.remembered(now)).saturating_add(1)
}

/// An attempt refused because it came too soon after failed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed logins: try again in {retry_after} seconds")]
pub struct Throttled {
    /// Whole seconds to wait (at least one).
    pub retry_after: u64,
}

/// The records one login attempt is weighed against.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// The client address's record.
    pub address: Option<ThrottleRecord>,
    /// The account's record from this address.
    pub account_from_address: Option<ThrottleRecord>,
    /// The account's overall record.
    pub account: Option<ThrottleRecord>,
}

impl Standing {
    /// The record of one scope.
    pub fn get(&self, scope: ThrottleScope) -> Option<&ThrottleRecord> {
        match scope {
            ThrottleScope::Address => self.address.as_ref(),
            ThrottleScope::AccountFromAddress => self.account_from_address.as_ref(),
            ThrottleScope::Account => self.account.as_ref(),
        }
    }

    /// The scopes this attempt is charged to: the overall account record is skipped from a known address.
    pub fn scopes(&self, now: DateTime<Utc>) -> Vec<ThrottleScope> {
        let known = self.account_from_address.as_ref().is_some_and(|r| r.known(now));
        ThrottleScope::ALL.into_iter().filter(|s| !(known && *s == ThrottleScope::Account)).collect()
    }

    /// Whether an attempt may be made at `now`, and if not, how long to wait (the longest of the waits).
    pub fn admit(&self, now: DateTime<Utc>) -> Result<(), Throttled> {
        let wait = self
            .scopes(now)
            .into_iter()
            .filter_map(|s| self.get(s).map(|r| r.wait(s, now)))
            .max()
            .unwrap_or_else(Duration::zero);
        if wait <= Duration::zero() {
            return Ok(());
        }
        // Round up: an answer of "0 seconds" would invite an attempt that is still too early.
        let millis = u64::try_from(wait.num_milliseconds()).unwrap_or(u64::MAX);
        Err(Throttled { retry_after: millis.div_ceil(1000).max(1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 2, 26, 1, 30, 0).unwrap()
    }

    fn failed(failures: u32, seconds_ago: i64) -> Option<ThrottleRecord> {
        Some(ThrottleRecord {
            failures,
            last_failure_at: now() - Duration::seconds(seconds_ago),
            last_success_at: None,
        })
    }

    #[test]
    fn the_free_failures_pass_then_waits_double_up_to_the_cap() {
        let wait = |failures| Standing { address: failed(failures, 0), ..Default::default() }.admit(now());
        assert_eq!(wait(FREE_FAILURES - 1), Ok(()));
        let waits: Vec<u64> =
            (FREE_FAILURES..FREE_FAILURES + 12).map(|f| wait(f).expect_err("throttled").retry_after).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(wait(u32::MAX).expect_err("throttled").retry_after, 900);
    }

    #[test]
    fn the_wait_counts_from_the_last_failure_and_a_quiet_hour_forgets() {
        let standing = |ago| Standing { account_from_address: failed(FREE_FAILURES + 3, ago), ..Default::default() };
        assert_eq!(standing(3).admit(now()), Err(Throttled { retry_after: 5 }));
        assert_eq!(standing(8).admit(now()), Ok(()));
        let old = failed(FREE_FAILURES + 10, FORGET_AFTER_SECONDS);
        assert_eq!(old.as_ref().map(|r| r.remembered(now())), Some(0));
        assert_eq!(charged(old.as_ref(), now()), 1);
        assert_eq!(charged(failed(7, 1).as_ref(), now()), 8);
        assert_eq!(charged(None, now()), 1);
    }

    #[test]
    fn the_account_overall_allows_many_more_failures_and_spares_known_addresses() {
        let mut standing = Standing { account: failed(FREE_FAILURES + 5, 0), ..Default::default() };
        assert_eq!(standing.admit(now()), Ok(()), "a handful of failures elsewhere does not slow a clean address");
        standing.account = failed(FREE_ACCOUNT_FAILURES + 3, 0);
        assert_eq!(standing.admit(now()), Err(Throttled { retry_after: 8 }));
        assert!(standing.scopes(now()).contains(&ThrottleScope::Account));
        standing.account_from_address = Some(ThrottleRecord {
            failures: 0,
            last_failure_at: now() - Duration::days(3),
            last_success_at: Some(now() - Duration::days(2)),
        });
        assert_eq!(standing.admit(now()), Ok(()), "the owner's usual address is not kept out");
        assert!(!standing.scopes(now()).contains(&ThrottleScope::Account));
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(address_subject(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(address_subject(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(address_subject(ip("2001:db8:1:2::1")), address_subject(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(address_subject(ip("2001:db8:1:2::1")), address_subject(ip("2001:db8:1:3::1")));
    }

    #[test]
    fn subjects_keep_scopes_apart() {
        assert_eq!(ThrottleScope::Address.subject("zhangli", "203.0.113.7"), "203.0.113.7");
        assert_eq!(ThrottleScope::Account.subject("zhangli", "203.0.113.7"), "zhangli");
        // A username never holds a space, so the pair cannot collide with another pair.
        assert_eq!(ThrottleScope::AccountFromAddress.subject("zhangli", "203.0.113.7"), "zhangli 203.0.113.7");
        for scope in ThrottleScope::ALL {
            assert_eq!(ThrottleScope::try_from(scope.code().to_string()), Ok(scope));
        }
        assert!(ThrottleScope::try_from("user".to_string()).is_err());
    }
}

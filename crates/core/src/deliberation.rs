//! Deliberation (协商议事): topics proposed by residents and tabled once enough households support them, discussed,
//! put to a vote — one per household or one per resident, with a quorum, open or secret, ballots online or from
//! paper — and the result published as a public notice (公示) with an objection period, then followed to the end.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a topic stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicStatus {
    /// Proposed by a resident, gathering support.
    Proposed,
    /// Enough households support it (or staff put it forward): open for discussion and a vote.
    Tabled,
    /// Being voted on.
    Voting,
    /// The result is published; objections may be raised until the period ends.
    Publicized,
    /// The vote did not reach its quorum.
    Failed,
    /// Being carried out.
    InProgress,
    /// Done.
    Completed,
}

impl TopicStatus {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Tabled => "tabled",
            Self::Voting => "voting",
            Self::Publicized => "publicized",
            Self::Failed => "failed",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }

    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        [Self::Proposed, Self::Tabled, Self::Voting, Self::Publicized, Self::Failed, Self::InProgress, Self::Completed]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// One vote per household or per resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteMode {
    /// 一户一票.
    PerHousehold,
    /// 一人一票.
    PerResident,
}

impl VoteMode {
    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "per_household" => Some(Self::PerHousehold),
            "per_resident" => Some(Self::PerResident),
            _ => None,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::PerHousehold => "per_household",
            Self::PerResident => "per_resident",
        }
    }
}

/// Why a step is refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliberationError {
    /// Voting on a topic that was not tabled.
    #[error("status: 议题尚未达到附议户数，不能表决 / the topic does not have enough support to be put to a vote")]
    NotTabled,
    /// Fewer than two options, more than ten, blank or repeated ones.
    #[error("options: 表决选项应为 2 到 10 个且互不相同 / two to ten different options")]
    BadOptions,
    /// A vote that closes before it opens.
    #[error("closes_at: 截止时间须晚于现在 / must be in the future")]
    BadClose,
    /// A quorum of nothing.
    #[error("quorum: 法定票数至少为 1 / at least one ballot")]
    BadQuorum,
    /// The vote is not open.
    #[error("status: 表决未在进行中 / the vote is not open")]
    NotVoting,
    /// The vote has closed.
    #[error("closes_at: 表决已截止 / the vote has closed")]
    Closed,
    /// A ballot for no option of the vote.
    #[error("option: 不是本次表决的选项 / not an option of this vote")]
    UnknownOption,
    /// The household or resident voted already.
    #[error("voter: 已投过票，不能重复投票 / has voted already")]
    AlreadyVoted,
    /// Closing before the deadline.
    #[error("closes_at: 表决截止后才能计票 / count the vote after it closes")]
    StillOpen,
    /// An objection after the period.
    #[error("objection_until: 公示期已过 / the objection period is over")]
    PeriodOver,
    /// A step out of order.
    #[error("status: 当前阶段不能进行此操作 / not possible at this stage")]
    OutOfOrder,
}

/// A topic proposed by a resident is tabled once `supports` households back it; staff topics are tabled at once.
pub fn tabled(by_staff: bool, supports: u32, threshold: u32) -> bool {
    by_staff || supports >= threshold
}

/// Checks a vote's options, quorum and deadline; returns the options trimmed.
pub fn check_vote(
    status: TopicStatus,
    options: &[String],
    quorum: u32,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DeliberationError> {
    if status != TopicStatus::Tabled {
        return Err(DeliberationError::NotTabled);
    }
    let opts: Vec<String> = options.iter().map(|o| o.trim().to_string()).collect();
    let mut unique = opts.clone();
    unique.sort();
    unique.dedup();
    if !(2..=10).contains(&opts.len())
        || unique.len() != opts.len()
        || opts.iter().any(|o| o.is_empty() || o.chars().count() > 100)
    {
        return Err(DeliberationError::BadOptions);
    }
    if quorum == 0 {
        return Err(DeliberationError::BadQuorum);
    }
    if closes_at <= now {
        return Err(DeliberationError::BadClose);
    }
    Ok(opts)
}

/// May this ballot be cast now?
pub fn may_cast(
    status: TopicStatus,
    closes_at: DateTime<Utc>,
    options: &[String],
    option: &str,
    voted: bool,
    now: DateTime<Utc>,
) -> Result<(), DeliberationError> {
    if status != TopicStatus::Voting {
        Err(DeliberationError::NotVoting)
    } else if now >= closes_at {
        Err(DeliberationError::Closed)
    } else if !options.iter().any(|o| o == option) {
        Err(DeliberationError::UnknownOption)
    } else if voted {
        Err(DeliberationError::AlreadyVoted)
    } else {
        Ok(())
    }
}

/// The count of a vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Ballots per option, in the vote's order.
    pub counts: Vec<(String, u32)>,
    /// Ballots cast.
    pub ballots: u32,
    /// The quorum was reached.
    pub quorum_met: bool,
    /// The option with most ballots, if the quorum was met and there is no tie.
    pub winner: Option<String>,
}

/// Counts the ballots.
pub fn tally(options: &[String], ballots: &[String], quorum: u32) -> Tally {
    let counts: Vec<(String, u32)> =
        options.iter().map(|o| (o.clone(), ballots.iter().filter(|b| *b == o).count() as u32)).collect();
    let total = ballots.len() as u32;
    let quorum_met = total >= quorum;
    let best = counts.iter().map(|c| c.1).max().unwrap_or(0);
    let leaders: Vec<&(String, u32)> = counts.iter().filter(|c| c.1 == best).collect();
    let winner = (quorum_met && leaders.len() == 1 && best > 0).then(|| leaders[0].0.clone());
    Tally { counts, ballots: total, quorum_met, winner }
}

/// The status after counting: published, or failed for want of a quorum.
pub fn after_count(t: &Tally) -> TopicStatus {
    if t.quorum_met { TopicStatus::Publicized } else { TopicStatus::Failed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, d, 2, 0, 0).unwrap()
    }

    fn opts() -> Vec<String> {
        vec!["同意".into(), "不同意".into(), "弃权".into()]
    }

    #[test]
    fn a_topic_is_tabled_once_enough_households_support_it() {
        assert!(!tabled(false, 9, 10));
        assert!(tabled(false, 10, 10));
        assert!(tabled(true, 0, 10));
    }

    #[test]
    fn a_vote_needs_a_tabled_topic_distinct_options_a_quorum_and_a_future_close() {
        assert_eq!(check_vote(TopicStatus::Proposed, &opts(), 10, t(10), t(1)), Err(DeliberationError::NotTabled));
        assert_eq!(
            check_vote(TopicStatus::Tabled, &["同意".into(), " 同意".into()], 10, t(10), t(1)),
            Err(DeliberationError::BadOptions)
        );
        assert_eq!(check_vote(TopicStatus::Tabled, &opts(), 0, t(10), t(1)), Err(DeliberationError::BadQuorum));
        assert_eq!(check_vote(TopicStatus::Tabled, &opts(), 10, t(1), t(2)), Err(DeliberationError::BadClose));
        assert_eq!(check_vote(TopicStatus::Tabled, &opts(), 10, t(10), t(1)).unwrap().len(), 3);
    }

    #[test]
    fn no_double_votes_no_late_votes_no_unknown_options() {
        let o = opts();
        assert_eq!(may_cast(TopicStatus::Voting, t(10), &o, "同意", false, t(5)), Ok(()));
        assert_eq!(may_cast(TopicStatus::Voting, t(10), &o, "同意", true, t(5)), Err(DeliberationError::AlreadyVoted));
        assert_eq!(may_cast(TopicStatus::Voting, t(10), &o, "同意", false, t(10)), Err(DeliberationError::Closed));
        assert_eq!(
            may_cast(TopicStatus::Voting, t(10), &o, "随便", false, t(5)),
            Err(DeliberationError::UnknownOption)
        );
        assert_eq!(
            may_cast(TopicStatus::Publicized, t(10), &o, "同意", false, t(5)),
            Err(DeliberationError::NotVoting)
        );
    }

    #[test]
    fn the_count_needs_a_quorum_and_a_clear_winner() {
        let o = opts();
        let ballots: Vec<String> = ["同意", "同意", "不同意"].iter().map(|s| s.to_string()).collect();
        let r = tally(&o, &ballots, 3);
        assert_eq!((r.ballots, r.quorum_met, r.winner.as_deref()), (3, true, Some("同意")));
        assert_eq!(after_count(&r), TopicStatus::Publicized);
        let r = tally(&o, &ballots, 4);
        assert_eq!((r.quorum_met, r.winner.as_deref()), (false, None));
        assert_eq!(after_count(&r), TopicStatus::Failed);
        let tie: Vec<String> = ["同意", "不同意"].iter().map(|s| s.to_string()).collect();
        assert_eq!(tally(&o, &tie, 1).winner, None);
    }

    proptest! {
        #[test]
        fn counts_add_up_and_a_winner_has_the_most(ballots in proptest::collection::vec(0usize..3, 0..60), quorum in 1u32..40) {
            let o = opts();
            let cast: Vec<String> = ballots.iter().map(|i| o[*i].clone()).collect();
            let r = tally(&o, &cast, quorum);
            prop_assert_eq!(r.counts.iter().map(|c| c.1).sum::<u32>(), r.ballots);
            prop_assert_eq!(r.quorum_met, r.ballots >= quorum);
            if let Some(w) = &r.winner {
                let wc = r.counts.iter().find(|c| &c.0 == w).unwrap().1;
                prop_assert!(r.counts.iter().all(|c| &c.0 == w || c.1 < wc));
            }
        }
    }
}

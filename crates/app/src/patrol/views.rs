//! What a caller is shown of patrols: zones with their squads and routes, plans, rounds with where they stand now,
//! findings with their photos, and the order pillar's figures.

use crate::{AppError, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use wujia_core::patrol::FindingType;
use wujia_core::patrol::figures::PatrolFigures;
use wujia_core::patrol::plans::RoundStatus;
use wujia_store::{Checkin, Checkpoint, Finding, Plan, Round, ZoneMember};

/// A squad member of a zone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    /// Account.
    pub user_id: i64,
    /// Name.
    pub display_name: String,
    /// Role code of the account.
    pub role: String,
    /// Leads the squad.
    pub leader: bool,
}

impl From<ZoneMember> for MemberView {
    fn from(m: ZoneMember) -> Self {
        Self { user_id: m.user_id, display_name: m.display_name, role: m.role, leader: m.leader }
    }
}

/// A checkpoint on a zone's route.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckpointView {
    /// Id.
    pub id: i64,
    /// Zone.
    pub zone_id: i64,
    /// Name, e.g. 3号院7号楼1单元.
    pub name: String,
    /// The code printed on its QR sticker.
    pub code: String,
    /// The building it stands at.
    pub building_id: Option<i64>,
    /// Place on the route, from 1.
    pub position: i64,
}

impl From<Checkpoint> for CheckpointView {
    fn from(c: Checkpoint) -> Self {
        Self {
            id: c.id,
            zone_id: c.zone_id,
            name: c.name,
            code: c.code,
            building_id: c.building_id,
            position: c.position,
        }
    }
}

/// A checkpoint just added, with the page its sticker opens.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AddedCheckpoint {
    /// The checkpoint.
    pub checkpoint: CheckpointView,
    /// The page the QR sticker opens.
    pub scan_url: String,
}

/// A zone with its squad and route.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ZoneView {
    /// Id.
    pub id: i64,
    /// Name, e.g. 一片区（1–3号院）.
    pub name: String,
    /// The squad.
    pub members: Vec<MemberView>,
    /// The route, in order.
    pub checkpoints: Vec<CheckpointView>,
}

/// A zone as just created.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewZoneView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
}

/// A patrol plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    /// Id.
    pub id: i64,
    /// Zone patrolled.
    pub zone_id: i64,
    /// Name, e.g. 早晚巡查.
    pub name: String,
    /// Start times, Beijing time, e.g. `["07:30", "19:00"]`.
    pub times: Vec<String>,
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub weekdays: Vec<u8>,
    /// Minutes to finish a round.
    pub window_minutes: i64,
    /// Finding type codes checked on each round.
    pub checklist: Vec<String>,
    /// Generates rounds.
    pub active: bool,
}

impl TryFrom<Plan> for PlanView {
    type Error = AppError;

    /// A plan whose stored schedule cannot be read is a fault, not an empty schedule.
    fn try_from(p: Plan) -> Result<Self> {
        let broken = |what: &str| AppError::Internal(format!("patrol plan {} has unreadable {what}", p.id));
        let times = serde_json::from_str(&p.times).map_err(|_| broken("times"))?;
        let weekdays = serde_json::from_str(&p.weekdays).map_err(|_| broken("weekdays"))?;
        let checklist = serde_json::from_str(&p.checklist).map_err(|_| broken("checklist"))?;
        Ok(Self {
            id: p.id,
            zone_id: p.zone_id,
            name: p.name,
            times,
            weekdays,
            window_minutes: p.window_minutes,
            checklist,
            active: p.active,
        })
    }
}

/// A round, with where it stands now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Plan.
    pub plan_id: i64,
    /// Plan name.
    pub plan_name: String,
    /// Zone.
    pub zone_id: i64,
    /// Zone name.
    pub zone_name: String,
    /// Beijing date.
    pub date: NaiveDate,
    /// `morning`, `afternoon` or `evening`.
    pub shift: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Deadline.
    pub due_at: DateTime<Utc>,
    /// Finished.
    pub completed_at: Option<DateTime<Utc>>,
    /// Finished by.
    pub completed_by: Option<i64>,
    /// When leaders were told it was missed.
    pub missed_flagged_at: Option<DateTime<Utc>>,
    /// Checkpoints checked in.
    pub checked: i64,
    /// Checkpoints on the route.
    pub checkpoints: i64,
    /// `planned`, `in_progress`, `done` or `missed`, as of now.
    #[schema(value_type = String, example = "in_progress")]
    pub status: RoundStatus,
}

impl RoundView {
    /// The round as it stands at `now`.
    pub fn at(r: Round, now: DateTime<Utc>) -> Self {
        let status = RoundStatus::of(usize::try_from(r.checked).unwrap_or(0), r.completed_at, r.due_at, now);
        Self {
            id: r.id,
            community_id: r.community_id,
            plan_id: r.plan_id,
            plan_name: r.plan_name,
            zone_id: r.zone_id,
            zone_name: r.zone_name,
            date: r.date,
            shift: r.shift,
            starts_at: r.starts_at,
            due_at: r.due_at,
            completed_at: r.completed_at,
            completed_by: r.completed_by,
            missed_flagged_at: r.missed_flagged_at,
            checked: r.checked,
            checkpoints: r.checkpoints,
            status,
        }
    }

    /// Check-ins are still taken.
    pub fn open(&self) -> bool {
        matches!(self.status, RoundStatus::Planned | RoundStatus::InProgress)
    }
}

/// How a check-in was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckinMethod {
    /// The QR sticker was scanned.
    Qr,
    /// The checkpoint was tapped on the list.
    Tap,
}

impl CheckinMethod {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Self::Qr => "qr",
            Self::Tap => "tap",
        }
    }

    fn parse(code: &str) -> Result<Self> {
        match code {
            "qr" => Ok(Self::Qr),
            "tap" => Ok(Self::Tap),
            other => Err(AppError::Internal(format!("unknown check-in method {other:?}"))),
        }
    }
}

/// A check-in at a checkpoint.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckinView {
    /// Checkpoint.
    pub checkpoint_id: i64,
    /// Who checked in.
    pub user_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// How.
    pub method: CheckinMethod,
    /// Checklist items found fine here.
    pub checklist: Vec<String>,
}

impl TryFrom<Checkin> for CheckinView {
    type Error = AppError;

    fn try_from(c: Checkin) -> Result<Self> {
        let checklist = serde_json::from_str(&c.checklist).map_err(|_| {
            AppError::Internal(format!("check-in at checkpoint {} has an unreadable checklist", c.checkpoint_id))
        })?;
        Ok(Self {
            checkpoint_id: c.checkpoint_id,
            user_id: c.user_id,
            at: c.at,
            method: CheckinMethod::parse(&c.method)?,
            checklist,
        })
    }
}

/// A round with its route, check-ins, checklist and findings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundDetail {
    /// The round.
    #[serde(flatten)]
    pub round: RoundView,
    /// The route.
    pub checkpoints: Vec<CheckpointView>,
    /// Check-ins so far.
    pub checkins: Vec<CheckinView>,
    /// Finding type codes to check.
    pub checklist: Vec<String>,
    /// Findings recorded on this round.
    pub findings: Vec<FindingView>,
}

impl RoundDetail {
    /// The check-in at a checkpoint, if made.
    pub fn checkin_at(&self, checkpoint: i64) -> Option<&CheckinView> {
        self.checkins.iter().find(|k| k.checkpoint_id == checkpoint)
    }
}

/// A check-in just made: the round after it, and where.
#[derive(Debug, Clone)]
pub struct CheckedIn {
    /// The round after the check-in.
    pub round: RoundView,
    /// The checkpoint checked in at.
    pub checkpoint: CheckpointView,
}

/// A recorded finding with its photos.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FindingView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Zone.
    pub zone_id: Option<i64>,
    /// Round it was found on.
    pub round_id: Option<i64>,
    /// Type code (`window_guard`, `illegal_construction`, `corridor_clutter`, …).
    #[schema(value_type = String, example = "corridor_clutter")]
    pub kind: FindingType,
    /// `public`, `building`, `unit` or `household`.
    pub place_kind: String,
    /// Where, in words.
    pub place_text: String,
    /// Building.
    pub building_id: Option<i64>,
    /// Unit.
    pub unit_id: Option<i64>,
    /// Household.
    pub household_id: Option<i64>,
    /// Note.
    pub note: String,
    /// Put right on the spot.
    pub fixed_on_spot: bool,
    /// The same problem was found at this spot before.
    pub recurrence: bool,
    /// Recorded by.
    pub recorded_by: i64,
    /// Recorded.
    pub recorded_at: DateTime<Utc>,
    /// The rectification case it opened.
    pub case_id: Option<i64>,
    /// The photos' addresses.
    pub photos: Vec<String>,
}

impl FindingView {
    /// A finding with the hashes of its photos. A type code the product does not know is a fault.
    pub fn new(f: Finding, photo_blobs: impl IntoIterator<Item = String>) -> Result<Self> {
        let kind = FindingType::parse(&f.kind)
            .ok_or_else(|| AppError::Internal(format!("finding {} has unknown type {:?}", f.id, f.kind)))?;
        Ok(Self {
            id: f.id,
            community_id: f.community_id,
            zone_id: f.zone_id,
            round_id: f.round_id,
            kind,
            place_kind: f.place_kind,
            place_text: f.place_text,
            building_id: f.building_id,
            unit_id: f.unit_id,
            household_id: f.household_id,
            note: f.note,
            fixed_on_spot: f.fixed_on_spot,
            recurrence: f.recurrence,
            recorded_by: f.recorded_by,
            recorded_at: f.recorded_at,
            case_id: f.case_id,
            photos: photo_blobs.into_iter().map(|b| format!("/api/v1/patrol/photos/{b}")).collect(),
        })
    }
}

/// A finding as recorded: new, or the one recorded before under the same `client_id`.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The finding.
    pub finding: FindingView,
    /// False when it had been recorded before (an offline phone sending again).
    pub created: bool,
}

/// The order pillar's figures for a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PatrolSummary {
    /// Round completion, findings, rectification and joint-meeting actions.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub figures: PatrolFigures,
    /// First Beijing date.
    pub from: NaiveDate,
    /// Last Beijing date, inclusive.
    pub to: NaiveDate,
    /// Community.
    pub community_id: i64,
    /// Open illegal-construction cases now.
    pub open_illegal_construction_cases: i64,
}

/// What a checkpoint's QR sticker opens: the checkpoint, and the round of its zone open now, if any.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The zone's name.
    pub zone: String,
    /// The checkpoint.
    pub checkpoint: CheckpointView,
    /// The round that takes check-ins now.
    pub round: Option<RoundView>,
}

/// A checkpoint's sticker: the checkpoint and its zone's name.
#[derive(Debug, Clone)]
pub struct Sticker {
    /// The zone's name.
    pub zone: String,
    /// The checkpoint.
    pub checkpoint: CheckpointView,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(times: &str) -> Plan {
        Plan {
            id: 7,
            community_id: 1,
            zone_id: 2,
            name: "早晚巡查".into(),
            times: times.into(),
            weekdays: "[1,2,3,4,5,6,7]".into(),
            window_minutes: 120,
            checklist: r#"["corridor_clutter"]"#.into(),
            active: true,
        }
    }

    #[test]
    fn a_plan_reads_its_schedule_and_an_unreadable_one_is_a_fault_not_an_empty_schedule() {
        let p = PlanView::try_from(plan(r#"["07:30","19:00"]"#)).unwrap();
        assert_eq!(
            (p.times.len(), p.weekdays.len(), p.checklist.as_slice()),
            (2, 7, ["corridor_clutter".to_string()].as_slice())
        );
        match PlanView::try_from(plan("07:30")) {
            Err(AppError::Internal(m)) => assert!(m.contains("plan 7") && m.contains("times"), "{m}"),
            other => panic!("expected a fault, got {other:?}"),
        }
    }

    #[test]
    fn a_check_in_method_the_product_does_not_know_is_a_fault() {
        let checkin = |method: &str| Checkin {
            checkpoint_id: 3,
            user_id: 4,
            at: DateTime::<Utc>::UNIX_EPOCH,
            method: method.into(),
            checklist: "[]".into(),
        };
        assert_eq!(CheckinView::try_from(checkin("qr")).unwrap().method, CheckinMethod::Qr);
        assert_eq!(CheckinView::try_from(checkin("tap")).unwrap().method, CheckinMethod::Tap);
        assert!(matches!(CheckinView::try_from(checkin("nfc")), Err(AppError::Internal(_))));
    }
}

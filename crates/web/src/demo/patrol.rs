//! The demo's order pillar: squads, routes and plans for the four zones, 胡阿姨's outward window guard from the
//! morning round that found it to the re-inspection that closed it, four weeks of morning and evening rounds
//! (one evening missed), findings handled on the spot, and the tri-party joint meetings with their actions.
//! Everything goes through the same checks as live use, on a clock that walks through the history.

use super::{beijing, demo_accounts};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::form::PhotoForm;
use crate::{AppState, Config, FixedClock};
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use wujia_app::patrol::{
    ActionProgress, Attendee, CheckIn, FindingView, Minutes, NewAction, NewMeeting, check_in, finish, hold,
    record_finding, record_progress, schedule,
};
use wujia_core::patrol::plans::Schedule;
use wujia_store::Store;

struct Patrol {
    state: AppState,
    clock: Arc<FixedClock>,
    accounts: HashMap<String, Auth>,
}

impl Patrol {
    fn who(&self, username: &str) -> Result<&Auth, ApiError> {
        self.accounts.get(username).ok_or_else(|| ApiError::Internal(format!("demo account {username} is missing")))
    }

    fn change(&self, username: &str, action: &str, community: i64) -> Result<wujia_store::Change, ApiError> {
        Ok(self.who(username)?.change(&self.state, action, Some(community)))
    }

    async fn finding(
        &self,
        username: &str,
        at: DateTime<Utc>,
        fields: &[(&str, String)],
        photo: bool,
    ) -> Result<FindingView, ApiError> {
        self.clock.set(at);
        let form = PhotoForm {
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            photos: if photo { vec![site_photo()] } else { vec![] },
        };
        let report = crate::api::patrol::finding_report(form)?;
        Ok(record_finding(&self.state.app, self.who(username)?, report).await?.finding)
    }

    async fn step(&self, at: DateTime<Utc>, case: i64, fields: &[(&str, &str)], photo: bool) -> Result<(), ApiError> {
        self.clock.set(at);
        let form = PhotoForm {
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            photos: if photo { vec![site_photo()] } else { vec![] },
        };
        let report = crate::api::cases::step_report(form)?;
        wujia_app::patrol::record_step(&self.state.app, self.who("zhangli")?, case, report).await?;
        Ok(())
    }
}

/// A plain photo of a facade: sky, wall and the ground.
fn site_photo() -> Vec<u8> {
    wujia_core::media::banded_png(160, 120, &[[186, 210, 230], [214, 200, 180], [214, 200, 180], [120, 120, 110]])
}

/// Loads the patrol history into a store that holds the demo community and its request history; photos are kept
/// under `blob_dir`. Returns how many findings were recorded.
pub async fn load_patrol_history(store: &Store, blob_dir: &Path) -> Result<usize, ApiError> {
    let clock = Arc::new(FixedClock::new(beijing(2023, 4, 25, 9, 0)));
    let config = Config { blob_dir: blob_dir.to_path_buf(), ..Config::default() };
    let state = AppState::with_clock(store.clone(), config, clock.clone());
    let p = Patrol { state, clock, accounts: demo_accounts(store).await? };
    let community =
        *p.who("zhangli")?.actor.communities.first().ok_or_else(|| ApiError::Internal("no demo community".into()))?;
    let zones = store.zones(community).await?;
    let zone = |name: &str| {
        zones.iter().find(|z| z.name == name).cloned().ok_or_else(|| ApiError::Internal(format!("no zone {name}")))
    };

    // Squads, routes and plans: morning 7:30 and evening 19:00, every day, weekends included.
    let members = [
        ("第一片区", "patrol_li", true),
        ("第二片区", "patrol_ma", true),
        ("第三片区", "zhangli", true),
        ("第四片区", "zhangli", true),
        ("第四片区", "vol_wang", false),
    ];
    for (z, user, leader) in members {
        let id = p.who(user)?.user.id;
        store.set_zone_member(&zone(z)?, id, leader, p.change("zhangli", "zone.member", community)?).await?;
    }
    let compounds = store.compounds(community).await?;
    let mut routes: HashMap<i64, Vec<i64>> = HashMap::new();
    for (z, numbers) in
        [("第一片区", vec![1, 2]), ("第二片区", vec![3]), ("第三片区", vec![4, 5]), ("第四片区", vec![6])]
    {
        let zone = zone(z)?;
        for n in numbers {
            let Some(c) = compounds.iter().find(|c| c.number == n) else { continue };
            let buildings = store.buildings(c.id).await?;
            let mut points = vec![(format!("{}号院大门", n), None)];
            points.extend(buildings.iter().step_by(3).map(|b| (format!("{}号院{}号楼", n, b.number), Some(b.id))));
            for (name, building) in points {
                let code = crate::auth::new_token(8);
                let cp = store
                    .create_checkpoint(
                        &zone,
                        &name,
                        building,
                        &code,
                        p.change("zhangli", "checkpoint.create", community)?,
                    )
                    .await?;
                routes.entry(zone.id).or_default().push(cp.id);
            }
        }
        let schedule = Schedule::parse(&["07:30".into(), "19:00".into()], &[1, 2, 3, 4, 5, 6, 7], 120)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let checklist: Vec<String> =
            wujia_core::patrol::FindingType::checklist().iter().map(|t| t.code().to_string()).collect();
        store
            .create_plan(
                &zone,
                "早晚巡查",
                &schedule,
                &checklist,
                p.change("zhangli", "patrol_plan.create", community)?,
            )
            .await?;
    }
    let mut findings = 0;

    // 胡阿姨, 3号院7号楼, fits an outward window guard in the first weeks after moving in.
    let hu = store
        .search(community, "3号院7号楼1单元102", 1)
        .await?
        .first()
        .map(|h| h.household_id)
        .ok_or_else(|| ApiError::Internal("no household for 胡阿姨".into()))?;
    let f = p
        .finding(
            "patrol_ma",
            beijing(2023, 5, 8, 7, 48),
            &[
                ("kind", "window_guard".into()),
                ("household_id", hu.to_string()),
                ("note", "一层外扩护栏，破坏外立面和保温层".into()),
            ],
            true,
        )
        .await?;
    findings += 1;
    let case = f.case_id.ok_or_else(|| ApiError::Internal("the window guard opened no case".into()))?;
    for (day, note) in [(8, "上门告知，闭门不见"), (9, "再次上门，胡阿姨不愿开门"), (11, "第三次上门，仍被拒绝")]
    {
        p.step(
            beijing(2023, 5, day, 18, 30),
            case,
            &[("action", "visit"), ("outcome", "refused"), ("note", note)],
            false,
        )
        .await?;
    }
    let m1 = schedule(
        &p.state.app,
        p.who("zhangli")?,
        &NewMeeting {
            title: "2023年5月三方联席会".into(),
            starts_at: "2023-05-12T14:00".into(),
            place: Some("社区议事厅".into()),
            community_id: None,
        },
    )
    .await?;
    p.clock.set(beijing(2023, 5, 12, 16, 0));
    hold(&p.state.app, p.who("zhangli")?, m1.id, &Minutes {
        attendance: vec![Attendee { party: "community".into(), name: "张丽".into() }, Attendee { party: "property".into(), name: "王经理".into() }, Attendee { party: "developer".into(), name: "赵工".into() }],
        minutes: "议定：外扩护栏由社区带设计图纸和既往案例再次入户做工作，住户同意后由物业拆除；开发商提供外立面和保温层设计说明。".into(),
        actions: vec![
            NewAction { title: "提供外立面、保温层设计图纸和漏水案例".into(), party: "developer".into(), owner: "赵工".into(), due: Some("2023-05-14".into()), case_id: Some(case) },
            NewAction { title: "住户同意后拆除3号院7号楼外扩护栏".into(), party: "property".into(), owner: "王经理".into(), due: Some("2023-05-20".into()), case_id: Some(case) },
        ],
    }).await?;
    let actions = store.actions_of_meeting(m1.id).await?;
    p.clock.set(beijing(2023, 5, 13, 10, 0));
    record_progress(
        &p.state.app,
        p.who("kaifa")?,
        actions[0].id,
        &ActionProgress { progress: "图纸和案例已交社区".into(), done: true, version: actions[0].version },
    )
    .await?;
    p.step(
        beijing(2023, 5, 15, 19, 0),
        case,
        &[
            ("action", "visit"),
            ("outcome", "agreed"),
            ("deadline", "2023-05-20"),
            ("note", "带着设计图纸和既往案例上门，讲清外扩护栏破坏外立面和保温层、易致漏水，胡阿姨同意拆除"),
        ],
        false,
    )
    .await?;
    p.step(
        beijing(2023, 5, 18, 9, 0),
        case,
        &[("action", "handle"), ("handled_by", "property"), ("note", "物业上门拆除外扩护栏")],
        false,
    )
    .await?;
    p.clock.set(beijing(2023, 5, 18, 12, 0));
    record_progress(
        &p.state.app,
        p.who("wuye")?,
        actions[1].id,
        &ActionProgress { progress: "已拆除".into(), done: true, version: actions[1].version },
    )
    .await?;
    p.step(
        beijing(2023, 5, 19, 8, 0),
        case,
        &[("action", "reinspect"), ("passed", "true"), ("note", "复查：外立面恢复交付时原貌")],
        true,
    )
    .await?;
    p.step(beijing(2023, 5, 19, 8, 5), case, &[("action", "close")], false).await?;

    // Four weeks of rounds before the article: every morning and evening, one evening missed and flagged.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let start = beijing(2024, 1, 29, 0, 0).with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let end = start + Duration::days(27);
    store.ensure_rounds(start, end).await?;
    let squad: HashMap<&str, &str> =
        [("第一片区", "patrol_li"), ("第二片区", "patrol_ma"), ("第三片区", "zhangli"), ("第四片区", "vol_wang")]
            .into_iter()
            .collect();
    let rounds = store.rounds(community, None, start, end).await?;
    let clutter = [
        ("corridor_clutter", "楼道堆放纸箱，已劝导清理"),
        ("laundry", "公共绿地晾晒被褥，已劝导收回"),
        ("ebike_charging", "楼道飞线充电，已劝导停止"),
    ];
    for r in &rounds {
        if r.zone_name == "第三片区" && r.date == start + Duration::days(17) && r.shift == "evening" {
            continue; // the evening round nobody walked
        }
        let who = squad.get(r.zone_name.as_str()).copied().unwrap_or("zhangli");
        let route = routes.get(&r.zone_id).cloned().unwrap_or_default();
        let mut t = r.starts_at + Duration::minutes(rng.random_range(0..10));
        for cp in route {
            p.clock.set(t);
            let tap = CheckIn { checkpoint_id: Some(cp), code: None, checklist: vec![] };
            check_in(&p.state.app, p.who(who)?, r.id, &tap).await?;
            t += Duration::minutes(rng.random_range(4..12));
        }
        if rng.random_range(0..6) == 0 {
            let (kind, note) = clutter[rng.random_range(0..clutter.len())];
            let building = store.checkpoint(routes[&r.zone_id][1]).await?.building_id;
            p.finding(
                who,
                t,
                &[
                    ("kind", kind.into()),
                    ("building_id", building.map(|b| b.to_string()).unwrap_or_default()),
                    ("place_text", "单元楼道".into()),
                    ("note", note.into()),
                    ("fixed_on_spot", "true".into()),
                    ("round_id", r.id.to_string()),
                ],
                false,
            )
            .await?;
            findings += 1;
        }
        p.clock.set(t + Duration::minutes(3));
        finish(&p.state.app, p.who(who)?, r.id).await?;
    }
    p.clock.set(beijing(2024, 2, 25, 21, 0));
    store.flag_missed_rounds(beijing(2024, 2, 25, 21, 0)).await?;
    // A broken lamp found on the last evening, still with the property company.
    let f = p
        .finding(
            "patrol_li",
            beijing(2024, 2, 25, 19, 40),
            &[
                ("kind", "damaged_facility".into()),
                ("place_text", "1号院南门路灯".into()),
                ("note", "路灯不亮，已报物业".into()),
            ],
            true,
        )
        .await?;
    findings += 1;
    if let Some(c) = f.case_id {
        p.step(
            beijing(2024, 2, 25, 20, 0),
            c,
            &[
                ("action", "visit"),
                ("outcome", "agreed"),
                ("deadline", "2024-02-28"),
                ("note", "物业确认两日内更换灯具"),
            ],
            false,
        )
        .await?;
        p.step(beijing(2024, 2, 25, 20, 5), c, &[("action", "handle"), ("handled_by", "property")], false).await?;
    }
    let m2 = schedule(
        &p.state.app,
        p.who("zhangli")?,
        &NewMeeting {
            title: "2024年2月三方联席会".into(),
            starts_at: "2024-02-20T14:00".into(),
            place: Some("社区议事厅".into()),
            community_id: None,
        },
    )
    .await?;
    p.clock.set(beijing(2024, 2, 20, 16, 0));
    hold(
        &p.state.app,
        p.who("zhangli")?,
        m2.id,
        &Minutes {
            attendance: vec![
                Attendee { party: "community".into(), name: "张丽".into() },
                Attendee { party: "property".into(), name: "王经理".into() },
                Attendee { party: "developer".into(), name: "赵工".into() },
            ],
            minutes: "通报一月巡查情况：零违建保持；楼道堆物以劝导为主。议定春节后集中清理地下车库杂物。".into(),
            actions: vec![NewAction {
                title: "春节后集中清理地下车库杂物".into(),
                party: "property".into(),
                owner: "王经理".into(),
                due: Some("2024-03-15".into()),
                case_id: None,
            }],
        },
    )
    .await?;
    schedule(
        &p.state.app,
        p.who("zhangli")?,
        &NewMeeting {
            title: "2024年3月三方联席会".into(),
            starts_at: "2024-03-19T14:00".into(),
            place: Some("社区议事厅".into()),
            community_id: None,
        },
    )
    .await?;
    Ok(findings)
}

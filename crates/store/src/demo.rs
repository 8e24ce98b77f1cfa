//! Loading the demo community into an empty database.

use crate::audit::append_event;
use crate::registry::insert_resident;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use wujia_core::demo::{Demo, DemoAccount, ORIGINS};
use wujia_core::registry::{BUILTIN_TAGS, ResidentDraft, format_address};

impl Store {
    /// Creates a community with its origin communities and built-in tags; returns its id.
    pub async fn create_community(
        &self,
        name: &str,
        code: &str,
        street: &str,
        district: &str,
        origins: &[&str],
        change: Change,
    ) -> Result<i64> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO communities (name, code, street, district, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(name)
            .bind(code)
            .bind(street)
            .bind(district)
            .bind(change.at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| crate::on_unique(e, "community code is taken"))?;
            for o in origins {
                sqlx::query("INSERT INTO origin_communities (community_id, name) VALUES ($1, $2)").bind(id).bind(*o).execute(&mut *tx).await?;
            }
            for (code, zh, en) in BUILTIN_TAGS {
                sqlx::query("INSERT INTO tags (community_id, code, name_zh, name_en) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(*code).bind(*zh).bind(*en).execute(&mut *tx).await?;
            }
            let change = Change {
                community_id: Some(id),
                entity: "community".into(),
                entity_id: id.to_string(),
                after: serde_json::json!({"name": name, "code": code, "street": street, "district": district, "origins": origins}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Loads the demo community, its accounts (with the given password hashes) and its residents in one
    /// transaction. Refuses when the database already holds a community.
    pub async fn load_demo(&self, demo: &Demo, accounts: &[(DemoAccount, String)], now: DateTime<Utc>) -> Result<i64> {
        if !self.is_empty().await? {
            return Err(StoreError::Conflict("the database already holds a community".into()));
        }
        let system = Change {
            at: now,
            actor_id: None,
            actor: "system".into(),
            community_id: None,
            action: "community.create".into(),
            entity: "community".into(),
            entity_id: String::new(),
            before: serde_json::Value::Null,
            after: serde_json::Value::Null,
        };
        let community =
            self.create_community(demo.name, demo.code, demo.street, demo.district, &ORIGINS, system.clone()).await?;
        let origins = self.origins(community).await?;
        let tags = self.tags(community).await?;
        let tag_id: HashMap<&str, i64> = tags.iter().map(|t| (t.code.as_str(), t.id)).collect();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let mut zone_ids = Vec::new();
            for (name, _) in &demo.zones {
                let id: i64 = sqlx::query_scalar("INSERT INTO zones (community_id, name) VALUES ($1, $2) RETURNING id")
                    .bind(community).bind(name).fetch_one(&mut *tx).await?;
                zone_ids.push(id);
            }
            let mut user_ids: HashMap<&str, i64> = HashMap::new();
            for (a, hash) in accounts {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (username, display_name, password_hash, role, organization, active, must_change_password, created_at) \
                     VALUES ($1, $2, $3, $4, $5, TRUE, FALSE, $6) RETURNING id",
                )
                .bind(&a.username).bind(&a.display_name).bind(hash).bind(a.role.code()).bind(&a.organization).bind(now)
                .fetch_one(&mut *tx).await?;
                if a.role.is_staff_side() && a.role != wujia_core::accounts::Role::Admin {
                    sqlx::query("INSERT INTO user_communities (user_id, community_id) VALUES ($1, $2)").bind(id).bind(community).execute(&mut *tx).await?;
                }
                if let Some(z) = a.zone {
                    sqlx::query("INSERT INTO zone_members (zone_id, user_id, leader) VALUES ($1, $2, $3)")
                        .bind(zone_ids[z]).bind(id).bind(true).execute(&mut *tx).await?;
                }
                user_ids.insert(a.username.as_str(), id);
            }
            let mut unit_ids: HashMap<(u32, u32, u32), (i64, i64)> = HashMap::new();
            for c in &demo.compounds {
                let compound: i64 = sqlx::query_scalar("INSERT INTO compounds (community_id, number, name) VALUES ($1, $2, $3) RETURNING id")
                    .bind(community).bind(i64::from(c.number)).bind(&c.name).fetch_one(&mut *tx).await?;
                let zone = demo.zones.iter().position(|(_, cs)| cs.contains(&c.number)).map(|z| zone_ids[z]);
                for &(b, units, floors) in &c.buildings {
                    let worker = accounts.iter().find(|(a, _)| a.buildings.contains(&(c.number, b))).and_then(|(a, _)| user_ids.get(a.username.as_str()).copied());
                    let building: i64 = sqlx::query_scalar(
                        "INSERT INTO buildings (community_id, compound_id, number, floors, zone_id, social_worker_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(community).bind(compound).bind(i64::from(b)).bind(i64::from(floors)).bind(zone).bind(worker)
                    .fetch_one(&mut *tx).await?;
                    for u in 1..=units {
                        let unit: i64 = sqlx::query_scalar("INSERT INTO units (building_id, number) VALUES ($1, $2) RETURNING id")
                            .bind(building).bind(i64::from(u)).fetch_one(&mut *tx).await?;
                        unit_ids.insert((c.number, b, u), (building, unit));
                    }
                }
            }
            let compound_name: HashMap<u32, &str> = demo.compounds.iter().map(|c| (c.number, c.name.as_str())).collect();
            let mut household_ids: HashMap<(u32, u32, u32, &str), i64> = HashMap::new();
            let mut residents = 0usize;
            for h in &demo.households {
                let (building, unit) = unit_ids[&(h.compound, h.building, h.unit)];
                let address = format_address(compound_name[&h.compound], h.building, h.unit, &h.room);
                let origin_id = origins[h.origin].0;
                let household: i64 = sqlx::query_scalar(
                    "INSERT INTO households (community_id, building_id, unit_id, room, address, origin_id, move_in_date, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(community).bind(building).bind(unit).bind(&h.room).bind(&address).bind(origin_id).bind(h.move_in).bind(now)
                .fetch_one(&mut *tx).await?;
                household_ids.insert((h.compound, h.building, h.unit, h.room.as_str()), household);
                for m in &h.members {
                    let draft = ResidentDraft {
                        name: m.name.clone(),
                        gender: m.gender,
                        birth_date: m.birth,
                        id_card: Some(m.id_card.clone()),
                        phone: m.phone.as_deref().and_then(|p| wujia_core::registry::PhoneNumber::parse(p).ok()),
                        origin: None,
                        move_in_date: Some(h.move_in),
                        relation: m.relation,
                        wedding_date: m.wedding,
                        tags: Vec::new(),
                    };
                    let id = insert_resident!(tx, self, community, household, &draft, Some(origin_id), now);
                    for t in &m.tags {
                        sqlx::query("INSERT INTO resident_tags (resident_id, tag_id) VALUES ($1, $2)").bind(id).bind(tag_id[t]).execute(&mut *tx).await?;
                    }
                    residents += 1;
                }
            }
            for (a, _) in accounts {
                if let Some((c, b, u, room)) = &a.household {
                    sqlx::query("UPDATE users SET household_id = $1 WHERE id = $2")
                        .bind(household_ids[&(*c, *b, *u, room.as_str())]).bind(user_ids[a.username.as_str()]).execute(&mut *tx).await?;
                }
            }
            let change = Change {
                community_id: Some(community),
                action: "demo.load".into(),
                entity: "community".into(),
                entity_id: community.to_string(),
                after: serde_json::json!({"households": demo.households.len(), "residents": residents, "accounts": accounts.len()}),
                ..system
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.analyze().await?;
        Ok(community)
    }
}

//! Each community's Open311 public-read setting.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};

impl Store {
    /// Every community's id with whether it answers Open311 reads from anyone, by id.
    pub async fn open311_public_reads(&self) -> Result<Vec<(i64, bool)>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, (i64, bool)>(
            "SELECT id, open311_public_reads FROM communities ORDER BY id",
        )
        .fetch_all(pool)
        .await?))
    }

    /// Turns a community's Open311 public reads on or off, with its event.
    pub async fn update_open311_public_reads(&self, community_id: i64, open: bool, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin().await?;
            let before: Option<bool> =
                sqlx::query_scalar("SELECT open311_public_reads FROM communities WHERE id = $1")
                    .bind(community_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let before = before.ok_or(StoreError::NotFound)?;
            sqlx::query("UPDATE communities SET open311_public_reads = $1 WHERE id = $2")
                .bind(open)
                .bind(community_id)
                .execute(&mut *tx)
                .await?;
            let change = Change {
                community_id: Some(community_id),
                entity: "community".into(),
                entity_id: community_id.to_string(),
                before: serde_json::json!({"open311_public_reads": before}),
                after: serde_json::json!({"open311_public_reads": open}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            Ok(())
        })
    }
}

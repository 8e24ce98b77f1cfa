//! Which preview blob belongs to which photo blob. Both are content-addressed, so a photo kept twice has one
//! preview, and the pair is written once.

use crate::{Result, Store, with_db};

impl Store {
    /// Records `preview` as the preview of `photo`; recording the same photo again changes nothing.
    pub async fn record_preview(&self, photo: &str, preview: &str) -> Result<()> {
        with_db!(self, write, pool, _pg => sqlx::query(
            "INSERT INTO photo_previews (photo, preview) VALUES ($1, $2) ON CONFLICT (photo) DO NOTHING")
            .bind(photo)
            .bind(preview)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// The preview blob of a photo blob, if one was kept.
    pub async fn preview_of(&self, photo: &str) -> Result<Option<String>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar("SELECT preview FROM photo_previews WHERE photo = $1")
            .bind(photo)
            .fetch_optional(pool)
            .await?))
    }
}

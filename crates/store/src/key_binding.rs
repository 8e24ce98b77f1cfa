//! A database is bound to the secret key its personal data is sealed with. The first start under a key records
//! the key's fingerprint (after checking that the data already sealed opens with it); every later start compares,
//! so a database restored without its key is refused at once, naming the key it needs.

use crate::secret::KeyFingerprint;
use crate::{Result, Store, StoreError, with_db};

/// The key given does not open this database's personal data.
#[derive(Debug, thiserror::Error)]
#[error(
    "this database's personal data is sealed with the secret key whose fingerprint is {}, but the key given has \
     fingerprint {given}: start with that key (the secret.key file kept with the backup, or WUJIA_SECRET_KEY)",
    needed.as_ref().map_or("not recorded (sealed before fingerprints were kept)", KeyFingerprint::as_str)
)]
pub struct WrongKey {
    /// The fingerprint the database records; `None` for data sealed before fingerprints were recorded.
    pub needed: Option<KeyFingerprint>,
    /// The fingerprint of the key this start was given.
    pub given: KeyFingerprint,
}

impl Store {
    /// Records the key's fingerprint on the first start, or refuses a key other than the recorded one.
    pub(crate) async fn bind_key(&self) -> Result<()> {
        let given = self.inner.fingerprint.clone();
        let recorded = match self.recorded_fingerprint().await? {
            Some(recorded) => recorded,
            None => {
                // Data sealed before fingerprints were kept must open with this key before the key is recorded.
                let sealed: Option<String> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
                    "SELECT id_card_enc FROM residents WHERE id_card_enc IS NOT NULL LIMIT 1",
                )
                .fetch_optional(pool)
                .await?);
                if sealed.is_some_and(|s| self.cipher().decrypt(&s).is_none()) {
                    return Err(WrongKey { needed: None, given }.into());
                }
                // Two nodes starting at once both insert; the first wins and the other compares with it below.
                with_db!(self, write, pool, _pg => {
                    sqlx::query(
                        "INSERT INTO key_fingerprint (id, fingerprint) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(given.as_str())
                    .execute(pool)
                    .await?;
                });
                self.recorded_fingerprint().await?.ok_or(StoreError::NotFound)?
            }
        };
        if recorded == given { Ok(()) } else { Err(WrongKey { needed: Some(recorded), given }.into()) }
    }

    async fn recorded_fingerprint(&self) -> Result<Option<KeyFingerprint>> {
        let text: Option<String> = with_db!(self, write, pool, _pg => sqlx::query_scalar(
            "SELECT fingerprint FROM key_fingerprint WHERE id = 1",
        )
        .fetch_optional(pool)
        .await?);
        text.map(|t| {
            KeyFingerprint::parse(&t)
                .ok_or_else(|| sqlx::Error::Decode(format!("key_fingerprint holds {t:?}").into()).into())
        })
        .transpose()
    }

    /// The fingerprint of the key this store was opened with.
    pub fn key_fingerprint(&self) -> &KeyFingerprint {
        &self.inner.fingerprint
    }
}

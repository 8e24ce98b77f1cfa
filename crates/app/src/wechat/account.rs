//! The account Wujia answers for, as configured (`WUJIA_WECHAT_*`).

use wujia_core::channels::wechat::{AesKey, KeyError};

/// WeChat's own API.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";

/// A WeChat Official Account: what its developer page shows. Secrets are not printed by `Debug`.
#[derive(Clone)]
pub struct Account {
    /// The AppID (`wx…`).
    pub appid: String,
    /// The AppSecret, for access tokens.
    pub secret: String,
    /// The Token WeChat signs callbacks with.
    pub token: String,
    /// The EncodingAESKey, for safe mode; `None` answers in plain mode only.
    pub key: Option<AesKey>,
    /// Where WeChat's API is (tests point it at a stand-in).
    pub api_base: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("appid", &self.appid)
            .field("secret", &"***")
            .field("token", &"***")
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("api_base", &self.api_base)
            .finish()
    }
}

/// Why an account's settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A setting is empty.
    #[error("WUJIA_WECHAT_{0} is empty")]
    Empty(&'static str),
    /// The EncodingAESKey is not one.
    #[error("WUJIA_WECHAT_AES_KEY is not an EncodingAESKey")]
    Key(#[source] KeyError),
}

impl Account {
    /// The account from its settings; `aes_key` empty or absent means plain mode only.
    pub fn new(
        appid: &str,
        secret: &str,
        token: &str,
        aes_key: Option<&str>,
        api_base: Option<&str>,
    ) -> Result<Self, AccountError> {
        let required = |v: &str, name| {
            let v = v.trim();
            if v.is_empty() { Err(AccountError::Empty(name)) } else { Ok(v.to_string()) }
        };
        let key = match aes_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => Some(AesKey::parse(k).map_err(AccountError::Key)?),
            None => None,
        };
        Ok(Self {
            appid: required(appid, "APPID")?,
            secret: required(secret, "SECRET")?,
            token: required(token, "TOKEN")?,
            key,
            api_base: api_base
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .unwrap_or(DEFAULT_API_BASE)
                .trim_end_matches('/')
                .to_string(),
        })
    }
}

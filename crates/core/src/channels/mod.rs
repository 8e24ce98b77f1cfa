//! The channels residents already use to reach the community, spoken by Wujia: the WeChat Official Account.

pub mod wechat;

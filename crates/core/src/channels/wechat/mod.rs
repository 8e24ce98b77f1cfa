//! The WeChat Official Account (服务号) callback protocol, with no I/O: the signatures WeChat puts on a callback,
//! the safe-mode envelope (AES-256-CBC with the EncodingAESKey), the messages a follower sends, parsed into
//! [`Incoming`], and the passive reply. The web face checks and opens what arrives; the application layer decides
//! what it means.

mod envelope;
mod message;
mod signature;

pub use envelope::{AesKey, EnvelopeError, KeyError, open, seal};
pub use message::{Body, Incoming, MAX_BODY_BYTES, MessageError, OpenId, Outer, reply_text, sealed_reply};
pub use signature::{MAX_CLOCK_SKEW_SECONDS, StampError, check_stamp, sign, signed};

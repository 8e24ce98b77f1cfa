//! E-mail over SMTP for the outbox: a notification channel of kind `email` names one or more addresses, and each
//! delivery is one message sent through the server in `WUJIA_SMTP_URL`.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Mailboxes};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes out: the SMTP server and the sender.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://user:password@host:587?tls=required`, `smtps://…:465`, or `smtp://host:25` for a relay on the
    /// local network (the URL forms of lettre's `from_url`).
    pub url: String,
    /// The sender, e.g. `吾家 <noreply@example.org>`.
    pub from: String,
}

/// Why an address list or a message was refused.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The addresses do not parse.
    #[error("invalid address: {0}")]
    Address(String),
    /// The SMTP URL does not parse.
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    /// The message could not be built.
    #[error("message: {0}")]
    Message(String),
    /// The server refused or could not be reached.
    #[error("SMTP: {0}")]
    Send(String),
}

/// Parses a channel's target: one or more addresses separated by commas.
pub fn recipients(target: &str) -> Result<Mailboxes, MailError> {
    let boxes: Mailboxes =
        target.parse().map_err(|e: lettre::address::AddressError| MailError::Address(e.to_string()))?;
    if boxes.iter().next().is_none() {
        return Err(MailError::Address("no address".into()));
    }
    Ok(boxes)
}

/// A connection setting for sending mail; built once per job run.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for the configured server.
    pub fn new(config: &SmtpConfig) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(std::time::Duration::from_secs(15)))
            .build();
        let from = config.from.parse().map_err(|e: lettre::address::AddressError| MailError::Address(e.to_string()))?;
        Ok(Self { transport, from })
    }

    /// Sends one plain-text message to every address of `target`. `stable_id` becomes its `Message-ID` (at the
    /// sender's domain), the same on every retry, so mail clients and archives can drop a duplicate.
    pub async fn send(&self, target: &str, subject: &str, body: &str, stable_id: &str) -> Result<(), MailError> {
        let message_id = format!("<{stable_id}@{}>", self.from.email.domain());
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN);
        for to in recipients(target)? {
            builder = builder.to(to);
        }
        let message = builder.body(body.to_string()).map_err(|e| MailError::Message(e.to_string()))?;
        self.transport.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_names_one_or_more_addresses() {
        assert_eq!(recipients("duty@example.org").unwrap().iter().count(), 1);
        assert_eq!(recipients("物业值班 <wuye@example.org>, jiedao@example.org").unwrap().iter().count(), 2);
        assert!(recipients("not an address").is_err());
        assert!(recipients("").is_err());
    }
}

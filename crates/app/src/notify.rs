//! Who hears of what: residents of every status change of their request, handlers of what they are given, the
//! person on duty and the duty groups of every emergency at once, supervisors of every missed deadline.

use crate::{App, Result};
use chrono::{DateTime, Utc};
use wujia_core::requests::{Command, Status, Urgency};
use wujia_store::{Category, Notices, Outgoing, Priority, RequestRow};

fn status_zh(code: &str) -> &'static str {
    Status::from_code(code).map_or("", Status::zh)
}

/// Notices for a request being taken in; `{number}` and `{id}` are filled in by the store.
pub(crate) async fn on_create(
    app: &App,
    community: i64,
    household: Option<i64>,
    category: &Category,
    location: &str,
    description: &str,
    now: DateTime<Utc>,
) -> Result<Notices> {
    let mut n = Notices::default();
    let link = "/requests/{id}".to_string();
    if let Some(h) = household {
        for user in app.store.household_accounts(h).await? {
            n.inbox.push((
                user,
                "您的诉求已受理 {number}".into(),
                format!("{}:{description}", category.name_zh),
                link.clone(),
            ));
        }
    }
    let emergency = category.urgency == Urgency::Emergency.code();
    let text = format!("【{}】{{number}} {location}:{description}", category.name_zh);
    if emergency {
        let title = format!("紧急诉求 {}", "{number}");
        for shift in app.store.duty(community, now, now + chrono::Duration::seconds(1)).await? {
            n.inbox.push((shift.user_id, title.clone(), text.clone(), link.clone()));
        }
        if category.handler == "property" {
            for user in app.store.accounts_in(community, "property").await? {
                n.inbox.push((user, title.clone(), text.clone(), link.clone()));
            }
        }
    }
    for c in app.store.channels(community).await? {
        let wanted = c.active
            && match c.purpose.as_str() {
                "all" => true,
                "duty" => emergency,
                "property" => emergency && category.handler == "property",
                _ => false,
            };
        if wanted {
            n.outside.push(Outgoing {
                channel_id: c.id,
                title: if emergency { "紧急诉求 {number}".into() } else { "新诉求 {number}".into() },
                body: text.clone(),
                priority: if emergency { Priority::Emergency } else { Priority::Routine },
            });
        }
    }
    Ok(n)
}

/// Notices for a workflow action that took `before` to `after`.
pub(crate) async fn on_action(
    app: &App,
    before: &RequestRow,
    after: &RequestRow,
    command: &Command,
) -> Result<Notices> {
    let mut n = Notices::default();
    let link = format!("/requests/{}", after.id);
    if before.status != after.status
        && let Some(h) = after.household_id
    {
        let body = match command {
            Command::Resolve { resolution } => format!("办理结果:{resolution}"),
            Command::Respond { note } => note.clone(),
            _ => format!("当前状态:{}", status_zh(&after.status)),
        };
        for user in app.store.household_accounts(h).await? {
            n.inbox.push((
                user,
                format!("诉求 {} {}", after.number, status_zh(&after.status)),
                body.clone(),
                link.clone(),
            ));
        }
    }
    let new_lead = after.lead_id.filter(|l| Some(*l) != before.lead_id);
    let reopened = after.reopen_count > before.reopen_count;
    if let Some(lead) = new_lead.or(if reopened { after.lead_id } else { None }) {
        let title = if reopened {
            format!("诉求 {} 回访不满意,已重新办理", after.number)
        } else {
            format!("您有新的诉求 {}", after.number)
        };
        n.inbox.push((lead, title, format!("{}:{}", after.location, after.description), link.clone()));
    }
    Ok(n)
}

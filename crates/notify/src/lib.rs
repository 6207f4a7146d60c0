//! Notifications: how an alert reaches people within seconds.
//!
//! - [`AlertHub`]: an in-process broadcast of every [`AlertUpdate`], for the web banner (server-
//!   sent events) and the crisis view; slow listeners skip updates rather than slow the engine.
//! - Webhooks ([`WebhookTarget`]): a generic JSON body signed with HMAC-SHA256 in the header
//!   `X-Switchboard-Signature: sha256=<hex>`, or the incoming-webhook formats of Slack and
//!   Microsoft Teams (an Adaptive Card); retried with exponential backoff and jitter on network
//!   errors, `429` and `5xx`, never on other `4xx`.
//! - Email over SMTP ([`EmailTarget`], `lettre` with rustls and ring).
//!
//! Only openings and escalations notify people ([`alert::UpdateKind::notifies`]); every update
//! goes to the hub. Secrets come from the environment, resolved once by [`NotifyConfig::resolve`].

pub mod email;
pub mod webhook;

use alert::{AlertUpdate, Severity};
use serde::Deserialize;
use tokio::sync::broadcast;

pub use email::{EmailConfig, EmailTarget, SmtpSecurity};
pub use webhook::{WebhookConfig, WebhookFormat, WebhookTarget, sign};

/// The header carrying a generic webhook's signature.
pub const SIGNATURE_HEADER: &str = "X-Switchboard-Signature";

/// Why a notification could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// A setting is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// The receiver refused or could not be reached after every retry.
    #[error("{target}: {message}")]
    Delivery {
        /// Where it was going.
        target: String,
        /// What went wrong last.
        message: String,
    },
}

/// Where notifications go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Webhooks (generic signed JSON, Slack or Teams).
    pub webhooks: Vec<WebhookConfig>,
    /// Email over SMTP.
    pub email: Option<EmailConfig>,
}

impl NotifyConfig {
    /// Reads the secrets named in the settings through `env` (the process environment in
    /// production) and builds the notifier.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Notifier, NotifyError> {
        let webhooks = self
            .webhooks
            .iter()
            .map(|config| config.resolve(&env))
            .collect::<Result<Vec<_>, _>>()?;
        let email = self
            .email
            .as_ref()
            .map(|config| config.resolve(&env))
            .transpose()?;
        Notifier::new(webhooks, email)
    }
}

/// Sends alert updates to every configured target.
#[derive(Debug, Clone)]
pub struct Notifier {
    client: reqwest::Client,
    webhooks: Vec<WebhookTarget>,
    email: Option<EmailTarget>,
}

impl Notifier {
    /// A notifier for these targets.
    pub fn new(
        webhooks: Vec<WebhookTarget>,
        email: Option<EmailTarget>,
    ) -> Result<Notifier, NotifyError> {
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|error| {
                NotifyError::Config(format!("cannot build the HTTP client ({error})"))
            })?;
        Ok(Notifier {
            client,
            webhooks,
            email,
        })
    }

    /// Whether any target is configured.
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.email.is_none()
    }

    /// Sends one update to every target whose minimum severity it reaches, all at once;
    /// returns the failures (each already logged).
    pub async fn notify(&self, update: &AlertUpdate) -> Vec<NotifyError> {
        if !update.kind.notifies() {
            return Vec::new();
        }
        let mut tasks = tokio::task::JoinSet::new();
        for target in &self.webhooks {
            if update.alert.severity < target.min_severity {
                continue;
            }
            let (client, target, update) = (self.client.clone(), target.clone(), update.clone());
            tasks.spawn(async move { target.send(&client, &update).await });
        }
        if let Some(email) = &self.email
            && update.alert.severity >= email.min_severity
        {
            let (email, update) = (email.clone(), update.clone());
            tasks.spawn(async move { email.send(&update).await });
        }
        let mut failures = Vec::new();
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "Notification failed.");
                    failures.push(error);
                }
                Err(error) => failures.push(NotifyError::Delivery {
                    target: "task".to_owned(),
                    message: error.to_string(),
                }),
            }
        }
        failures
    }
}

/// The in-process stream of alert updates, for the web banner and the crisis view.
#[derive(Debug, Clone)]
pub struct AlertHub {
    sender: broadcast::Sender<AlertUpdate>,
}

impl AlertHub {
    /// A hub keeping up to `capacity` updates for slow listeners.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        AlertHub { sender }
    }

    /// A new listener, receiving every update published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AlertUpdate> {
        self.sender.subscribe()
    }

    /// Publishes an update to every listener (none listening is fine).
    pub fn publish(&self, update: AlertUpdate) {
        let _listeners = self.sender.send(update);
    }
}

impl Default for AlertHub {
    fn default() -> Self {
        AlertHub::new(256)
    }
}

/// One line for a person: severity, title and count.
pub fn headline(update: &AlertUpdate) -> String {
    let alert = &update.alert;
    let what = match update.kind {
        alert::UpdateKind::Opened => "New alert",
        alert::UpdateKind::Escalated => "Alert escalated",
        alert::UpdateKind::Updated => "Alert updated",
        alert::UpdateKind::Resolved => "Alert resolved",
    };
    format!(
        "{what} [{}] {} ({} posts)",
        alert.severity.as_str(),
        alert.title,
        alert.count
    )
}

/// The default minimum severity that notifies people.
pub const fn default_min_severity() -> Severity {
    Severity::Warning
}

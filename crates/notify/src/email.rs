//! Email over SMTP with `lettre` (rustls with ring; no OpenSSL).
//!
//! One plain-text message per notifying update, to every configured recipient. The password
//! comes from the environment. `security = "none"` exists for a relay on the same host and for
//! tests; use `tls` or `starttls` anywhere else.

use alert::{AlertUpdate, Severity};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::header::ContentType,
    transport::smtp::authentication::Credentials,
};
use serde::Deserialize;

use crate::{NotifyError, default_min_severity, headline};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// TLS from the start (port 465).
    Tls,
    /// STARTTLS upgrade (port 587).
    #[default]
    Starttls,
    /// No encryption: a local relay or a test server only.
    None,
}

/// Email as written in the settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server's host name.
    pub host: String,
    /// The SMTP port.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// The sender, e.g. `Switchboard <switchboard@trust.nhs.uk>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The SMTP user name (empty: no login).
    pub username: String,
    /// The environment variable holding the SMTP password.
    pub password_env: String,
    /// The lowest severity sent.
    pub min_severity: Severity,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            from: String::new(),
            to: Vec::new(),
            username: String::new(),
            password_env: "SWITCHBOARD_SMTP_PASSWORD".to_owned(),
            min_severity: default_min_severity(),
        }
    }
}

impl EmailConfig {
    /// Reads the password through `env` and builds the transport.
    pub fn resolve(
        &self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<EmailTarget, NotifyError> {
        let config_error = |what: String| NotifyError::Config(what);
        if self.host.is_empty() || self.from.is_empty() || self.to.is_empty() {
            return Err(config_error(
                "email needs `host`, `from` and at least one address in `to`".to_owned(),
            ));
        }
        let builder = match self.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host),
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host)
            }
            SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &self.host,
            )),
        }
        .map_err(|error| config_error(format!("bad SMTP host {} ({error})", self.host)))?;
        let mut builder = builder.port(self.port);
        if !self.username.is_empty() {
            let password = env(&self.password_env).ok_or_else(|| {
                config_error(format!(
                    "the environment variable {} (the SMTP password) is not set",
                    self.password_env
                ))
            })?;
            builder = builder.credentials(Credentials::new(self.username.clone(), password));
        }
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        Ok(EmailTarget {
            transport: builder.build(),
            from: self.from.clone(),
            to: self.to.clone(),
            min_severity: self.min_severity,
        })
    }
}

/// An SMTP destination ready to send.
#[derive(Clone)]
pub struct EmailTarget {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
    to: Vec<String>,
    /// The lowest severity sent.
    pub min_severity: Severity,
}

impl std::fmt::Debug for EmailTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailTarget")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

impl EmailTarget {
    /// Sends `update` to every recipient.
    pub async fn send(&self, update: &AlertUpdate) -> Result<(), NotifyError> {
        let failure = |message: String| NotifyError::Delivery {
            target: format!("email to {}", self.to.join(", ")),
            message,
        };
        let alert = &update.alert;
        let mut text = format!(
            "{}\n\nScope: {}\nPosts: {}\nFirst seen: {}\nLast seen: {}\n",
            headline(update),
            alert.scope,
            alert.count,
            alert.first_seen,
            alert.last_seen
        );
        for post in &alert.posts {
            text.push_str(&format!(
                "\n- @{} ({}): {}",
                post.author,
                post.url.as_deref().unwrap_or(&post.id),
                post.text
            ));
        }
        let from = self
            .from
            .parse()
            .map_err(|error| failure(format!("bad sender {} ({error})", self.from)))?;
        let mut message = Message::builder()
            .from(from)
            .subject(headline(update))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            let mailbox = to
                .parse()
                .map_err(|error| failure(format!("bad recipient {to} ({error})")))?;
            message = message.to(mailbox);
        }
        let message = message
            .body(text)
            .map_err(|error| failure(error.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| tracing::info!(alert = alert.id, "Alert emailed."))
            .map_err(|error| failure(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::{
        io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
        net::TcpListener,
    };

    use super::*;
    use crate::Notifier;

    /// Enough of SMTP to accept one message; returns the port and the DATA received.
    async fn smtp_server() -> (u16, Arc<Mutex<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let data: Arc<Mutex<String>> = Arc::default();
        let received = data.clone();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            write
                .write_all(b"220 localhost ESMTP test\r\n")
                .await
                .unwrap();
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                    } else {
                        let mut data = received.lock().unwrap();
                        data.push_str(&line);
                        data.push('\n');
                    }
                    continue;
                }
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250-localhost\r\n250 8BITMIME\r\n",
                    "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.1.0 ok\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    }
                    _ => b"502 not implemented\r\n",
                };
                write.write_all(reply).await.unwrap();
            }
        });
        (port, data)
    }

    #[tokio::test]
    async fn an_alert_is_emailed_over_smtp() {
        let (port, data) = smtp_server().await;
        let config = EmailConfig {
            host: "127.0.0.1".to_owned(),
            port,
            security: SmtpSecurity::None,
            from: "Switchboard <switchboard@example.invalid>".to_owned(),
            to: vec!["comms@example.invalid".to_owned()],
            ..EmailConfig::default()
        };
        let email = config.resolve(&|_| None).unwrap();
        let notifier = Notifier::new(Vec::new(), Some(email)).unwrap();
        let failures = notifier.notify(&crate::webhook::tests::update()).await;
        assert!(failures.is_empty(), "{failures:?}");
        let data = data.lock().unwrap().clone();
        assert!(data.contains("Subject: New alert [critical]"), "{data}");
        assert!(data.contains("To: comms@example.invalid"), "{data}");
    }
}

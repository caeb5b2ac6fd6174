//! Mail reports: a `[mail.NAME]` table of `parc.toml` says who is told,
//! when, and through what — the local MTA (sendmail), or SMTP with
//! STARTTLS or implicit TLS, with authentication.

use anyhow::{anyhow, bail, Context, Result};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SendmailTransport, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// Recipients.
    pub to: Vec<String>,
    /// The sender.
    pub from: String,
    /// The subject; `{job}`, `{status}` (OK, UNCHANGED, FAILED, SKIPPED) and `{date}` are replaced.
    #[serde(default = "default_subject")]
    pub subject: String,
    /// When a run is mailed: `always`, `failure` (failed runs only), `change` (when the outcome differs from the previous run's).
    #[serde(default)]
    pub when: When,
    /// Attach the run's text log.
    #[serde(default = "yes")]
    pub attach_log: bool,
    /// `sendmail` (the local MTA), `smtp` (STARTTLS, required), `smtps` (implicit TLS).
    #[serde(default)]
    pub transport: MailTransport,
    /// The sendmail program (default `/usr/sbin/sendmail`).
    #[serde(default)]
    pub sendmail: Option<PathBuf>,
    /// SMTP server.
    #[serde(default)]
    pub host: Option<String>,
    /// SMTP port (default 587 for smtp, 465 for smtps).
    #[serde(default)]
    pub port: Option<u16>,
    /// The SMTP login (`user`, `password_file` or `password_env`).
    #[serde(flatten)]
    pub login: crate::secret::Login,
    /// An extra trust root for the SMTP server's certificate (PEM).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Seconds the SMTP conversation may take (default 30).
    #[serde(default)]
    pub timeout: Option<u64>,
}

fn default_subject() -> String {
    "[parc] {job} {status} {date}".into()
}

fn yes() -> bool {
    true
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum When {
    #[default]
    Always,
    Failure,
    Change,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    #[default]
    Sendmail,
    Smtp,
    Smtps,
}

/// One mail: subject, body, and optionally a text attachment.
pub struct Mail {
    pub subject: String,
    pub body: String,
    pub attachment: Option<(String, String)>,
}

/// What is wrong with a mail table.
#[derive(Debug, thiserror::Error)]
#[error("mail.{table}: {why}")]
pub struct BadMail {
    pub table: String,
    pub why: MailWhy,
}

#[derive(Debug, thiserror::Error)]
pub enum MailWhy {
    #[error("`to` names no recipient")]
    NoRecipient,
    #[error("{0:?} is not a mail address: {1}")]
    Address(String, lettre::address::AddressError),
    #[error("transport {0:?} needs a host")]
    NoHost(MailTransport),
}

impl MailConfig {
    pub fn check(&self, name: &str) -> Result<(), BadMail> {
        let bad = |why| BadMail { table: name.to_string(), why };
        if self.to.is_empty() {
            return Err(bad(MailWhy::NoRecipient));
        }
        for address in self.to.iter().chain([&self.from]) {
            address.parse::<Mailbox>().map_err(|e| bad(MailWhy::Address(address.clone(), e)))?;
        }
        if self.transport != MailTransport::Sendmail && self.host.is_none() {
            return Err(bad(MailWhy::NoHost(self.transport)));
        }
        Ok(())
    }

    /// Sends `mail`; an error says which step failed (address, connection, TLS, login, refusal).
    pub fn send(&self, mail: &Mail) -> Result<()> {
        let mut builder = Message::builder().from(self.from.parse().context("from")?).subject(&mail.subject);
        for to in &self.to {
            builder = builder.to(to.parse().with_context(|| format!("to {to:?}"))?);
        }
        let body = SinglePart::plain(mail.body.clone());
        let message = match &mail.attachment {
            Some((name, text)) => builder.multipart(
                MultiPart::mixed()
                    .singlepart(body)
                    .singlepart(Attachment::new(name.clone()).body(text.clone(), ContentType::TEXT_PLAIN)),
            ),
            None => builder.singlepart(body),
        }
        .context("cannot make the mail")?;
        match self.transport {
            MailTransport::Sendmail => {
                let program = self.sendmail.clone().unwrap_or_else(|| "/usr/sbin/sendmail".into());
                SendmailTransport::new_with_command(program.as_os_str())
                    .send(&message)
                    .map_err(|e| anyhow!("sendmail ({}): {e}", program.display()))?;
            }
            MailTransport::Smtp | MailTransport::Smtps => {
                let host = self.host.as_deref().ok_or_else(|| anyhow!("no SMTP host"))?;
                let implicit = self.transport == MailTransport::Smtps;
                let port = self.port.unwrap_or(if implicit { 465 } else { 587 });
                let mut tls = TlsParameters::builder(host.to_string());
                if let Some(ca) = &self.ca_file {
                    let pem = std::fs::read(ca).with_context(|| format!("cannot read ca_file {}", ca.display()))?;
                    tls = tls.add_root_certificate(
                        Certificate::from_pem(&pem).with_context(|| format!("ca_file {}", ca.display()))?,
                    );
                }
                let tls = tls.build_rustls().context("TLS settings")?;
                let mut smtp = SmtpTransport::builder_dangerous(host)
                    .port(port)
                    .tls(if implicit { Tls::Wrapper(tls) } else { Tls::Required(tls) })
                    .timeout(Some(Duration::from_secs(self.timeout.unwrap_or(30))));
                if let Some(user) = &self.login.user {
                    let password = self.login.password()?.unwrap_or_default();
                    smtp = smtp.credentials(Credentials::new(user.clone(), password));
                }
                smtp.build()
                    .send(&message)
                    .map_err(|e| anyhow!("SMTP {host}:{port}: {}", crate::problem::error_chain(&e)))?;
            }
        }
        Ok(())
    }
}

/// The mail settings `name` refers to; an error when there is no such table.
pub fn lookup<'a>(mail: &'a std::collections::BTreeMap<String, MailConfig>, name: &str) -> Result<&'a MailConfig> {
    match mail.get(name) {
        Some(m) => Ok(m),
        None => bail!("no [mail.{name}] table in the configuration"),
    }
}

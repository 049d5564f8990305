//! Per-recipient messages from a variant rendered once: the personal parts (greeting and
//! unsubscribe link) are rendered as markers and substituted for each recipient, so a send of
//! thousands costs one mrml render per variant. Templates that use other recipient fields
//! (`recipient.attributes.…`) are rendered per recipient instead.
//!
//! Every message carries the standard headers of a bulk sender: a `Message-ID` derived from
//! edition, office and recipient (a resent message keeps its ID), `List-Id`,
//! `List-Unsubscribe` (HTTPS one-click with a signed token, and mailto) and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).

use lettre::address::Envelope;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sha2::{Digest, Sha256};

use super::unsubscribe;
use crate::audience::Recipient;
use crate::config::{Config, Office};
use crate::edition::Edition;
use crate::render::{self, i18n::Labels, Personal, RenderError, Rendered, Templates, Variant};

/// Markers that stand for the personal parts in a variant rendered once. Private-use
/// characters: they survive HTML escaping, wrapping and never occur in editors' text.
const GREETING: &str = "\u{E000}greeting\u{E000}";
const UNSUBSCRIBE: &str = "\u{E000}unsubscribe\u{E000}";

/// The headers a DKIM signature covers: a forwarder that changes any of them breaks it.
pub const SIGNED_HEADERS: [&str; 7] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// Reads the DKIM key (which, like a password, must be readable by its owner only).
pub fn dkim_config(settings: &crate::config::Dkim) -> Result<lettre::message::dkim::DkimConfig, String> {
    use lettre::message::dkim::{
        DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
    };
    let file = &settings.key_file;
    let key = super::relay::Secret::load("", Some(file))?
        .ok_or_else(|| format!("cannot read the DKIM key {}", file.display()))?;
    let algorithm = if settings.ed25519 {
        DkimSigningAlgorithm::Ed25519
    } else {
        DkimSigningAlgorithm::Rsa
    };
    let key = DkimSigningKey::new(key.expose().trim(), algorithm).map_err(|e| {
        format!(
            "the DKIM key {} cannot be used ({e:?}); RSA keys must be PKCS#1 PEM (openssl genrsa -traditional)",
            file.display()
        )
    })?;
    let headers = SIGNED_HEADERS
        .iter()
        .map(|h| HeaderName::new_from_ascii_str(h))
        .collect();
    let relaxed = DkimCanonicalization {
        header: DkimCanonicalizationType::Relaxed,
        body: DkimCanonicalizationType::Relaxed,
    };
    Ok(DkimConfig::new(
        settings.selector.clone(),
        settings.domain.clone(),
        key,
        headers,
        relaxed,
    ))
}

/// Everything about the sender that every message of a send shares.
pub struct Sender<'a> {
    pub config: &'a Config,
    pub edition: &'a Edition,
    pub office: Option<&'a Office>,
    pub key: &'a unsubscribe::Key,
    /// `[TEST] ` for `send --test`.
    pub subject_prefix: String,
    pub dkim: Option<&'a lettre::message::dkim::DkimConfig>,
}

impl Sender<'_> {
    fn office_id(&self) -> &str {
        self.office.map_or("", |o| o.id.as_str())
    }

    fn domain(&self) -> String {
        self.from().email.domain().to_string()
    }

    pub fn from(&self) -> Mailbox {
        self.office
            .map_or_else(|| self.config.sender.clone(), |o| o.from.clone())
    }

    /// `<3f2a…@example.org>`: the same for the same edition, office and recipient.
    pub fn message_id(&self, email: &str) -> String {
        let digest = Sha256::digest(format!(
            "{}\n{}\n{}",
            self.edition.id,
            self.office_id(),
            email.to_lowercase()
        ));
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("<{hex}.{}@{}>", self.edition.id, self.domain())
    }

    pub fn unsubscribe_url(&self, email: &str) -> String {
        let base = self.config.base_url.as_str().trim_end_matches('/');
        format!("{base}/unsubscribe/{}", self.key.token(self.office_id(), email))
    }
}

/// A variant ready for many recipients.
pub struct Prepared {
    pub rendered: Rendered,
    /// Rendered per recipient instead (templates use recipient fields).
    per_recipient: bool,
}

pub fn prepare(
    edition: &Edition,
    variant: &Variant,
    config: &Config,
    templates: &Templates,
) -> Result<Prepared, RenderError> {
    let labels = templates.labels(&variant.language)?;
    let preview = Personal::preview(config, edition, variant, labels);
    let personal = Personal {
        greeting: GREETING.into(),
        unsubscribe_url: UNSUBSCRIBE.into(),
        ..preview
    };
    let rendered = render::render(edition, variant, config, templates, &personal)?;
    Ok(Prepared {
        rendered,
        per_recipient: templates.uses_recipient,
    })
}

/// The message for one recipient, with its envelope.
pub fn message(
    prepared: &Prepared,
    recipient: &Recipient,
    sender: &Sender<'_>,
    templates: &Templates,
    labels: &Labels,
) -> Result<(Envelope, Vec<u8>, String), RenderError> {
    let email = recipient.email.as_str();
    let unsubscribe_url = sender.unsubscribe_url(email);
    let (html, text) = if prepared.per_recipient {
        let variant = &prepared.rendered.variant;
        let preview = Personal::preview(sender.config, sender.edition, variant, labels);
        let mut personal = Personal::for_recipient(&preview, recipient, labels);
        personal.unsubscribe_url = unsubscribe_url.clone();
        let r = render::render(sender.edition, variant, sender.config, templates, &personal)?;
        (r.html, r.text)
    } else {
        let greeting = labels.greeting(recipient.name.as_deref());
        let r = &prepared.rendered;
        let html = r
            .html
            .replace(GREETING, &handlebars::html_escape(&greeting))
            .replace(UNSUBSCRIBE, &handlebars::html_escape(&unsubscribe_url));
        let text = r
            .text
            .replace(GREETING, &greeting)
            .replace(UNSUBSCRIBE, &unsubscribe_url);
        (html, text)
    };
    let message_id = sender.message_id(email);
    let err = |m: String| RenderError::Message {
        variant: prepared.rendered.variant.id(),
        message: m,
    };
    let to = Mailbox::new(recipient.name.clone(), recipient.email.address().clone());
    let domain = sender.domain();
    let list = sender.office.map_or_else(
        || format!("info-flash.{domain}"),
        |o| format!("{}.info-flash.{domain}", o.id),
    );
    let header = |name: &str, value: String| {
        HeaderName::new_from_ascii(name.to_string())
            .map(|n| HeaderValue::new(n, value))
            .map_err(|e| err(e.to_string()))
    };
    let mut builder = Message::builder()
        .from(sender.from())
        .to(to)
        .subject(format!("{}{}", sender.subject_prefix, prepared.rendered.view.subject))
        .date_now()
        .message_id(Some(message_id.clone()))
        .raw_header(header(
            "List-Id",
            format!("\"{}\" <{list}>", prepared.rendered.view.series.replace('"', "'")),
        )?)
        .raw_header(header(
            "List-Unsubscribe",
            format!("<{unsubscribe_url}>, <mailto:unsubscribe@{domain}?subject=unsubscribe>"),
        )?)
        .raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into())?)
        .raw_header(header(
            "Content-Language",
            prepared.rendered.variant.language.to_string(),
        )?);
    let reply_to = sender
        .office
        .and_then(|o| o.reply_to.clone())
        .or_else(|| sender.config.reply_to.clone());
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to);
    }
    let mut message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|e| err(e.to_string()))?;
    if let Some(dkim) = sender.dkim {
        message.sign(dkim);
    }
    Ok((message.envelope().clone(), message.formatted(), message_id))
}

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
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::unsubscribe;
use crate::audience::Recipient;
use crate::edition::Edition;
use crate::render::RenderSettings;
use crate::render::{self, i18n::Labels, Personal, RenderError, Rendered, Templates, Variant};
use crate::types::Office;
use crate::types::{message_id_hash, EmailAddress};

/// Markers that stand for the personal parts in a variant rendered once. Plain ASCII letters
/// and digits, because they pass through HTML escaping, attribute values (mrml escapes
/// non-ASCII characters in an `href`), wrapping and encoders unchanged, and no editor writes
/// them.
const GREETING: &str = "XinfoflashGreeting7f3aX";
const UNSUBSCRIBE: &str = "XinfoflashUnsubscribe7f3aX";

/// The headers a DKIM signature covers: a forwarder that changes any of them breaks it. Each
/// is named twice ("over-signed", RFC 6376 8.15): the second names an instance that does not
/// exist, so a second From, Subject or List-Id added on the way, or a Reply-To added to a
/// message that had none, breaks the signature too.
pub const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
    "Content-Language",
];

/// The signing key in the form lettre takes (PKCS#1 PEM for RSA, the base64 seed for
/// Ed25519), from the forms keys are usually kept in: what `openssl genpkey` writes (PKCS#8
/// PEM, RSA or Ed25519, RFC 8410/8463), `openssl genrsa -traditional` (PKCS#1 PEM) or a bare
/// base64 Ed25519 seed. A PKCS#8 key says its own algorithm; `algorithm` in the settings must
/// agree with it.
fn signing_key(text: &str, ed25519_configured: bool) -> Result<(String, bool), String> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{DecodePrivateKey, ObjectIdentifier, PrivateKeyInfo, SecretDocument};
    const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let text = text.trim();
    if !text.starts_with("-----BEGIN PRIVATE KEY-----") {
        // PKCS#1 RSA, or a bare Ed25519 seed: lettre reads these as they are.
        return Ok((text.to_string(), ed25519_configured));
    }
    let (_, document) = SecretDocument::from_pem(text).map_err(|e| format!("not a PEM private key ({e})"))?;
    let info: PrivateKeyInfo<'_> = document
        .decode_msg()
        .map_err(|e| format!("not a PKCS#8 private key ({e})"))?;
    let ed25519 = if info.algorithm.oid == ED25519 {
        true
    } else if info.algorithm.oid == RSA {
        false
    } else {
        return Err(format!(
            "a key of algorithm {}; DKIM keys are RSA or Ed25519",
            info.algorithm.oid
        ));
    };
    if ed25519 != ed25519_configured {
        let (key, setting) = if ed25519 {
            ("an Ed25519", "ed25519")
        } else {
            ("an RSA", "rsa")
        };
        return Err(format!(
            "{key} key: set `algorithm = \"{setting}\"` under [delivery.dkim]"
        ));
    }
    if ed25519 {
        // RFC 8410: the private key is an OCTET STRING holding the 32-byte seed.
        let seed = match info.private_key {
            [0x04, 0x20, seed @ ..] if seed.len() == 32 => seed,
            _ => return Err("an Ed25519 key whose seed is not 32 bytes".to_string()),
        };
        use base64::Engine as _;
        return Ok((base64::engine::general_purpose::STANDARD.encode(seed), true));
    }
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| format!("not an RSA key ({e})"))?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| format!("cannot be re-encoded ({e})"))?;
    Ok((pem.to_string(), false))
}

/// Reads the DKIM key (which, like a password, must be readable by its owner only).
pub fn dkim_config(settings: &super::settings::Dkim) -> Result<lettre::message::dkim::DkimConfig, String> {
    use lettre::message::dkim::{
        DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
    };
    let file = &settings.key_file;
    let key = super::secrets::Secret::load("", Some(file))?
        .ok_or_else(|| format!("cannot read the DKIM key {}", file.display()))?;
    let (key, ed25519) =
        signing_key(key.expose(), settings.ed25519).map_err(|e| format!("the DKIM key {} is {e}", file.display()))?;
    let algorithm = if ed25519 {
        DkimSigningAlgorithm::Ed25519
    } else {
        DkimSigningAlgorithm::Rsa
    };
    let key = DkimSigningKey::new(&key, algorithm).map_err(|e| {
        format!(
            "the DKIM key {} cannot be used ({e:?}): give a PEM private key as `openssl genpkey -algorithm ed25519` or `openssl genpkey -algorithm rsa` writes it",
            file.display()
        )
    })?;
    let headers = SIGNED_HEADERS
        .iter()
        .flat_map(|h| [h, h])
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
    pub settings: &'a RenderSettings,
    pub edition: &'a Edition,
    pub office: Option<&'a Office>,
    pub key: &'a unsubscribe::Key,
    /// `[TEST] ` for `send --test`.
    pub subject_prefix: String,
    /// A proof (`send --test`): its unsubscribe link carries a proof's token, which changes
    /// nothing.
    pub proof: bool,
    pub dkim: Option<&'a lettre::message::dkim::DkimConfig>,
}

impl Sender<'_> {
    /// The sender's domain as an A-label: it names the Message-ID and the List-Id, which are
    /// ASCII whatever the domain is written in.
    fn domain(&self) -> String {
        let domain = self.from().email.domain().to_string();
        crate::types::canonical_domain(&domain).unwrap_or(domain)
    }

    /// `List-Id: Info Flash <info-flash.example.org>` (RFC 2919): the series as a phrase,
    /// quoted or encoded as a whole by the same encoder as a display name (never an encoded
    /// word inside quotes), then the office's or the team's list id.
    fn list_id(&self, series: &str) -> HeaderValue {
        let domain = self.domain();
        let id = self.office.map_or_else(
            || format!("info-flash.{domain}"),
            |o| format!("{}.info-flash.{domain}", o.id),
        );
        let mut encoded = String::new();
        let name = HeaderName::new_from_ascii_str("List-Id");
        {
            let mut w = email_encoding::headers::writer::EmailWriter::new(&mut encoded, "List-Id: ".len(), 0, false);
            // Writing to a String cannot fail.
            let _ = email_encoding::headers::quoted_string::encode(series, &mut w);
        }
        encoded.push_str(&format!(" <{id}>"));
        HeaderValue::dangerous_new_pre_encoded(name, format!("{series} <{id}>"), encoded)
    }

    pub fn from(&self) -> Mailbox {
        self.office
            .map_or_else(|| self.settings.sender.clone(), |o| o.from.clone())
    }

    /// `<3f2a….EDITION@example.org>`: the same for the same edition, office and recipient.
    pub fn message_id(&self, address: &EmailAddress) -> String {
        let hex = message_id_hash(&self.edition.id, self.office.map(|o| &o.id), address);
        format!("<{hex}.{}@{}>", self.edition.id, self.domain())
    }

    /// The one-click link for `address`, whose token names the variant's `language` so that
    /// the pages it leads to speak it.
    pub fn unsubscribe_url(&self, address: &EmailAddress, language: &crate::types::Language) -> String {
        let today = chrono::Utc::now().date_naive();
        let office = self.office.map(|o| &o.id);
        let token = if self.proof {
            self.key.proof_token(office, language, address, today)
        } else {
            self.key.token_in(office, language, address, today)
        };
        crate::links::Links::new(&self.settings.base_url).unsubscribe(&token)
    }
}

/// A variant ready for many recipients.
pub struct Prepared {
    pub rendered: Rendered,
    /// The HTML and text parts, encoded once with only their personal lines left open; `None`
    /// when the templates use recipient fields and so each message is rendered on its own.
    bodies: Option<(BodyTemplate, BodyTemplate)>,
}

/// A body part rendered with markers, split at them so that a recipient's message costs the
/// encoding of their own few values: the text in between is encoded once per variant. The
/// encoding is lettre's choice for the variant. Quoted-printable pieces are joined by soft line
/// breaks (`=` CRLF), which decode to nothing; 7bit stays 7bit unless a recipient's value is
/// not ASCII or makes a line too long (then lettre encodes that message whole); base64 is
/// encoded in one pass over the filled-in text.
struct BodyTemplate {
    encoding: ContentTransferEncoding,
    pieces: Vec<Piece>,
}

enum Piece {
    /// Text between markers: encoded already (quoted-printable) or CRLF text (7bit, base64).
    Fixed(Vec<u8>),
    /// A marker, to be replaced by the recipient's value.
    Personal(&'static str),
}

/// The longest 7bit line, without its CRLF, that lettre leaves unencoded (RFC 5322 allows
/// 998; lettre keeps 7bit lines readable in any client, and so do we).
const MAX_LINE: usize = 75;

impl BodyTemplate {
    fn new(text: &str) -> BodyTemplate {
        let text = text.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n");
        let encoding = match Body::new(text.clone()).encoding() {
            ContentTransferEncoding::SevenBit => ContentTransferEncoding::SevenBit,
            ContentTransferEncoding::Base64 => ContentTransferEncoding::Base64,
            _ => ContentTransferEncoding::QuotedPrintable,
        };
        let fixed = |segment: &str| {
            Piece::Fixed(if encoding == ContentTransferEncoding::QuotedPrintable {
                quoted_printable::encode(segment)
            } else {
                segment.as_bytes().to_vec()
            })
        };
        let mut pieces = Vec::new();
        let mut rest = text.as_str();
        while let Some((at, marker)) = [GREETING, UNSUBSCRIBE]
            .into_iter()
            .filter_map(|m| rest.find(m).map(|at| (at, m)))
            .min()
        {
            if at > 0 {
                pieces.push(fixed(&rest[..at]));
            }
            pieces.push(Piece::Personal(marker));
            rest = &rest[at + marker.len()..];
        }
        if !rest.is_empty() {
            pieces.push(fixed(rest));
        }
        BodyTemplate { encoding, pieces }
    }

    /// The body for one recipient: `fill` gives the value of a marker.
    fn body(&self, fill: impl Fn(&str) -> String) -> Body {
        let qp = self.encoding == ContentTransferEncoding::QuotedPrintable;
        let size = self.pieces.iter().map(|p| match p {
            Piece::Fixed(bytes) => bytes.len(),
            Piece::Personal(_) => 400,
        });
        let mut out = Vec::with_capacity(size.sum());
        let mut values = Vec::new();
        for piece in &self.pieces {
            let value;
            let bytes = match piece {
                Piece::Fixed(bytes) => bytes.as_slice(),
                Piece::Personal(marker) if qp => {
                    value = quoted_printable::encode(fill(marker));
                    value.as_slice()
                }
                Piece::Personal(marker) => {
                    let filled = fill(marker);
                    values.push((out.len(), out.len() + filled.len(), filled.is_ascii()));
                    out.extend_from_slice(filled.as_bytes());
                    continue;
                }
            };
            if qp && !bytes.is_empty() && !out.is_empty() && !out.ends_with(b"\r\n") {
                soft_break(&mut out);
            }
            out.extend_from_slice(bytes);
        }
        match self.encoding {
            ContentTransferEncoding::QuotedPrintable => Body::dangerous_pre_encoded(out, self.encoding),
            ContentTransferEncoding::SevenBit => {
                let fits = values.iter().all(|&(start, end, ascii)| {
                    let line_start = out[..start].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    let line_end = out[end..]
                        .iter()
                        .position(|&b| b == b'\r')
                        .map_or(out.len(), |i| end + i);
                    ascii && line_end - line_start <= MAX_LINE && !out[start..end].contains(&b'\n')
                });
                if fits {
                    Body::dangerous_pre_encoded(out, self.encoding)
                } else {
                    Body::new(String::from_utf8_lossy(&out).into_owned())
                }
            }
            // Base64 is valid for any bytes, so lettre cannot refuse it.
            _ => Body::new_with_encoding(out, self.encoding).unwrap_or_else(Body::new),
        }
    }
}

/// Ends the open quoted-printable line of `out` with a soft line break, first splitting it
/// when the `=` would make it longer than RFC 2045's 76 characters (the encoder fills a last
/// line to 76, not knowing that more follows). Never splits an `=XX` escape.
fn soft_break(out: &mut Vec<u8>) {
    const MAX: usize = 76;
    let start = memchr::memrchr(b'\n', out).map_or(0, |i| i + 1);
    if out.len() - start >= MAX {
        let mut at = start + MAX - 1;
        while at > start + 2 && (out[at - 1] == b'=' || out[at - 2] == b'=') {
            at -= 1;
        }
        out.splice(at..at, *b"=\r\n");
    }
    out.extend_from_slice(b"=\r\n");
}

pub fn prepare(
    edition: &Edition,
    variant: &Variant,
    settings: &RenderSettings,
    templates: &Templates,
) -> Result<Prepared, RenderError> {
    let labels = templates.labels(&variant.language)?;
    let preview = Personal::preview(settings, edition, variant, labels);
    let personal = Personal {
        greeting: GREETING.into(),
        unsubscribe_url: UNSUBSCRIBE.into(),
        ..preview
    };
    let rendered = render::render(edition, variant, settings, templates, &personal)?;
    let bodies =
        (!templates.uses_recipient).then(|| (BodyTemplate::new(&rendered.html), BodyTemplate::new(&rendered.text)));
    Ok(Prepared { rendered, bodies })
}

/// The message for one recipient, with its envelope.
pub fn message(
    prepared: &Prepared,
    recipient: &Recipient,
    sender: &Sender<'_>,
    templates: &Templates,
    labels: &Labels,
) -> Result<(Envelope, Vec<u8>, String), RenderError> {
    let unsubscribe_url = sender.unsubscribe_url(&recipient.email, &prepared.rendered.variant.language);
    let (html, text) = match &prepared.bodies {
        Some((html, text)) => {
            let greeting = labels.greeting(recipient.name.as_deref());
            let (greeting_html, url_html) = (
                handlebars::html_escape(&greeting),
                handlebars::html_escape(&unsubscribe_url),
            );
            (
                html.body(|marker| {
                    if marker == GREETING {
                        greeting_html.to_string()
                    } else {
                        url_html.to_string()
                    }
                }),
                text.body(|marker| {
                    if marker == GREETING {
                        greeting.clone()
                    } else {
                        unsubscribe_url.clone()
                    }
                }),
            )
        }
        None => {
            let variant = &prepared.rendered.variant;
            let preview = Personal::preview(sender.settings, sender.edition, variant, labels);
            let mut personal = Personal::for_recipient(&preview, recipient, labels);
            personal.unsubscribe_url = unsubscribe_url.clone();
            let r = render::render(sender.edition, variant, sender.settings, templates, &personal)?;
            (Body::new(r.html), Body::new(r.text))
        }
    };
    let message_id = sender.message_id(&recipient.email);
    let err = |m: String| RenderError::Message {
        variant: prepared.rendered.variant.id(),
        message: m,
    };
    let to = Mailbox::new(recipient.name.clone(), recipient.email.address().clone());
    let domain = sender.domain();
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
        .raw_header(sender.list_id(&prepared.rendered.view.series))
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
        .or_else(|| sender.settings.reply_to.clone());
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to);
    }
    let parts = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html));
    let mut message = with_signable_content_type(builder, &parts).map_err(|e| err(e.to_string()))?;
    if let Some(dkim) = sender.dkim {
        message.sign(dkim);
    }
    let bytes = message.formatted();
    if let Some(length) = longest_header_line(&bytes).filter(|&l| l > MAX_HEADER_LINE) {
        // The edges refuse long names and subjects; this is the last guard, for this one
        // recipient, before a server cuts or refuses the message.
        return Err(err(format!(
            "a header line of {length} octets; RFC 5322 allows {MAX_HEADER_LINE}: shorten the recipient's name"
        )));
    }
    Ok((message.envelope().clone(), bytes, message_id))
}

/// The message with `parts` as its body and their `Content-Type` among the message's own
/// headers. lettre writes a multipart's `Content-Type` with the part, outside the headers its
/// DKIM signer hashes, so a signature that names it would not verify; here it is a header of
/// the message like any other, and the parts, already encoded, are the body.
fn with_signable_content_type(
    builder: lettre::message::MessageBuilder,
    parts: &MultiPart,
) -> Result<Message, lettre::error::Error> {
    let formatted = parts.formatted();
    let body_start = memchr::memmem::find(&formatted, b"\r\n\r\n").map_or(0, |i| i + 4);
    let mut builder = builder.header(lettre::message::header::MIME_VERSION_1_0);
    if let Some(content_type) = parts.headers().get::<ContentType>() {
        builder = builder.header(content_type);
    }
    // Every part is quoted-printable, base64 or short-lined ASCII: the whole is 7bit.
    builder.body(Body::dangerous_pre_encoded(
        formatted[body_start..].to_vec(),
        ContentTransferEncoding::SevenBit,
    ))
}

/// RFC 5322 2.1.1: no line longer than this, without its CRLF.
const MAX_HEADER_LINE: usize = 998;

/// The longest line of a message's header block, without its CRLF.
fn longest_header_line(message: &[u8]) -> Option<usize> {
    let end = memchr::memmem::find(message, b"\r\n\r\n").unwrap_or(message.len());
    message[..end]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).len())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(body: &Body) -> String {
        let raw: &[u8] = body.as_ref();
        match body.encoding() {
            ContentTransferEncoding::QuotedPrintable => {
                String::from_utf8(quoted_printable::decode(raw, quoted_printable::ParseMode::Strict).unwrap()).unwrap()
            }
            other => panic!("unexpected encoding {other:?}"),
        }
    }

    fn fill(line: &str) -> String {
        line.replace(GREETING, "Dear José Müller,")
            .replace(UNSUBSCRIBE, "https://x.example/u/t=1")
    }

    #[test]
    fn a_body_encoded_in_pieces_decodes_to_the_filled_in_text_with_short_lines() {
        let long = "word = value ".repeat(30);
        let text = format!(
            "Info Flash N°22 \n{GREETING}\n{long}{UNSUBSCRIBE}{long} \nRead {UNSUBSCRIBE} here\n\nThe end, trailing\t"
        );
        let template = BodyTemplate::new(&text);
        assert_eq!(template.encoding, ContentTransferEncoding::QuotedPrintable);
        let body = template.body(fill);
        assert_eq!(body.encoding(), ContentTransferEncoding::QuotedPrintable);
        assert_eq!(decoded(&body), fill(&text).replace('\n', "\r\n"));
        assert!(
            String::from_utf8_lossy(body.as_ref()).lines().all(|l| l.len() <= 76),
            "quoted-printable lines are at most 76 characters"
        );
    }

    #[test]
    fn quoted_printable_lines_stay_within_76_characters_wherever_a_personal_part_falls() {
        // A personal part after a line the encoder filled to 76 (with escapes at every offset
        // near the end) once made a 77-character line.
        for filler in 60..80 {
            for tail in ["", "é", "=", "éé", "a=b"] {
                let text = format!(
                    "{}{tail}{UNSUBSCRIBE}{}{tail}{GREETING}x",
                    "a".repeat(filler),
                    "ü".repeat(filler / 3)
                );
                let template = BodyTemplate::new(&text);
                let body = template.body(fill);
                let raw = String::from_utf8_lossy(body.as_ref()).into_owned();
                assert!(raw.lines().all(|l| l.len() <= 76), "{filler} {tail:?}:\n{raw}");
                assert_eq!(decoded(&body), fill(&text));
            }
        }
    }

    #[test]
    fn ascii_text_stays_7bit_unless_the_recipient_makes_it_otherwise() {
        let text = format!("{GREETING}\nPlain words.\n{UNSUBSCRIBE}\n");
        let template = BodyTemplate::new(&text);
        assert_eq!(template.encoding, ContentTransferEncoding::SevenBit);
        let ascii = template.body(|l| l.replace(GREETING, "Dear Ann,").replace(UNSUBSCRIBE, "u"));
        assert_eq!(ascii.encoding(), ContentTransferEncoding::SevenBit);
        assert_eq!(
            String::from_utf8_lossy(ascii.as_ref()),
            "Dear Ann,\r\nPlain words.\r\nu\r\n"
        );
        let accented = template.body(fill);
        assert_eq!(accented.encoding(), ContentTransferEncoding::QuotedPrintable);
        assert_eq!(decoded(&accented), fill(&text).replace('\n', "\r\n"));

        // A value that pushes its line past the limit cannot stay 7bit either.
        let near_limit = format!("{}{UNSUBSCRIBE}\nshort\n", "a".repeat(40));
        let template = BodyTemplate::new(&near_limit);
        assert_eq!(template.encoding, ContentTransferEncoding::SevenBit);
        let short = template.body(|_| "b".repeat(35));
        assert_eq!(short.encoding(), ContentTransferEncoding::SevenBit);
        let long = template.body(|_| "b".repeat(36));
        assert_ne!(long.encoding(), ContentTransferEncoding::SevenBit);
    }

    #[test]
    fn mostly_non_latin_text_is_base64_with_the_recipient_filled_in() {
        let text = format!("{GREETING}\n{}\n{UNSUBSCRIBE}\n", "نشرة المعلومات ".repeat(40));
        let template = BodyTemplate::new(&text);
        assert_eq!(template.encoding, ContentTransferEncoding::Base64);
        let body = template.body(fill);
        assert_eq!(body.encoding(), ContentTransferEncoding::Base64);
        use base64::Engine as _;
        let joined: String = String::from_utf8_lossy(body.as_ref()).split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(joined).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), fill(&text).replace('\n', "\r\n"));
    }
}

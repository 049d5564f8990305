//! The MIME message: multipart/alternative with the text part first and the HTML part last
//! (clients show the last part they understand), built with lettre.

use std::time::SystemTime;

use chrono::{NaiveTime, TimeZone};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::{RenderError, RenderSettings, Rendered};
use crate::edition::Edition;

/// Size in bytes of the HTML part as it will travel in the message (after lettre chooses and
/// applies its transfer encoding) — the size Gmail's 102 KB clipping applies to.
pub fn encoded_html_size(rendered: &Rendered) -> usize {
    rendered.html_body.len()
}

/// A complete message for `rendered` addressed to `to`, dated at 08:00 on the edition's date
/// in its time zone so that previews are reproducible.
pub fn build(
    rendered: &Rendered,
    edition: &Edition,
    settings: &RenderSettings,
    to: Mailbox,
) -> Result<Message, RenderError> {
    let err = |message: String| RenderError::Message {
        variant: rendered.variant.id(),
        message,
    };
    let eight = NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default();
    let date = edition
        .time_zone
        .from_local_datetime(&edition.date.and_time(eight))
        .earliest()
        .map_or(SystemTime::UNIX_EPOCH, SystemTime::from);
    let domain = settings.sender.email.domain().to_string();
    let mut builder = Message::builder()
        .from(settings.sender.clone())
        .to(to)
        .subject(rendered.view.subject.clone())
        .date(date)
        .message_id(Some(format!("<{}.{}@{domain}>", edition.id, rendered.variant.id())));
    if let Some(reply_to) = &settings.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(rendered.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(rendered.html.clone()),
                ),
        )
        .map_err(|e| err(e.to_string()))
}

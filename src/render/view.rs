//! View structs: what templates and the text writer see. Built from the edition model for one
//! variant — language chosen, regions filtered, dates formatted, Markdown rendered — so that
//! templates only place ready text and never reach into the domain model.

use std::collections::BTreeMap;

use serde::Serialize;

use super::i18n::Labels;
use super::{Personal, RenderSettings, Scope, Variant};
use crate::calendar::ics;
use crate::edition::{Edition, Item, Localized, Markdown, Session};
use crate::links::Links;
use crate::markdown;
use crate::types::{Language, Network};

/// Plain-text width: lines stay below 78 columns (RFC 5322's recommendation), leaving room
/// for the quoting `> ` of replies.
pub const TEXT_WIDTH: usize = 76;

#[derive(Debug, Clone, Serialize)]
pub struct EmailView {
    pub lang: String,
    /// `ltr` or `rtl`.
    pub dir: &'static str,
    /// `left` or `right`, following `dir`.
    pub align: &'static str,
    pub subject: String,
    /// The inbox preview line.
    pub preheader: String,
    pub series: String,
    pub number: String,
    pub date: String,
    /// The office or regions of a regional variant, in the reader's language.
    pub region: Option<String>,
    /// "Dear Ann," or the polite form when the name is unknown.
    pub greeting: String,
    pub recipient: RecipientView,
    pub intro: Option<Rich>,
    pub items: Vec<ItemView>,
    pub days: Option<DaysView>,
    pub view_online_url: String,
    pub unsubscribe_url: String,
    /// The sender's postal address, in every footer (CAN-SPAM; Gmail and Yahoo expect a bulk
    /// sender to be identifiable).
    pub postal_address: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// What templates may use of the recipient: the name and the list's other columns.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientView {
    pub name: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// Markdown rendered both ways.
#[derive(Debug, Clone, Serialize)]
pub struct Rich {
    /// Sanitised HTML, inserted raw by the templates.
    pub html: String,
    /// Plain text, unwrapped paragraphs and lists (the text writer wraps it).
    pub text: String,
}

impl Rich {
    fn from(md: &Markdown) -> Option<Rich> {
        Rich::with_width(md, TEXT_WIDTH)
    }

    /// For text that the text part indents (session notes): wrapped narrower so that the
    /// indented lines still fit.
    fn with_width(md: &Markdown, width: usize) -> Option<Rich> {
        (!md.text.trim().is_empty()).then(|| Rich {
            html: markdown::to_html(&md.text),
            text: markdown::to_text(&md.text, width),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub id: String,
    pub kind: &'static str,
    /// Empty when the label is hidden.
    pub label: String,
    pub title: String,
    /// "31 March – 2 April 2026 | Hainan, China" for events.
    pub meta: Option<String>,
    pub body: Option<Rich>,
    pub eligibility: Option<Rich>,
    pub sessions: Vec<SessionView>,
    pub deadlines: Vec<DeadlineView>,
    pub links: Vec<LinkView>,
    pub contacts: Vec<ContactView>,
    /// "Add to calendar" for an event's days (its sessions have their own).
    pub calendar_url: Option<String>,
    /// The calendar file behind `calendar_url`, written by `build`.
    #[serde(skip)]
    pub invite: Option<Invite>,
    /// The item rendered by its kind's template; filled in by the renderer.
    pub mjml: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// "ENGLISH", "Asia and the Pacific", or the session's own name.
    pub heading: String,
    /// "Thursday 15 January 2026, 09:30–10:30 CET (Paris)".
    pub when: String,
    pub link: Option<LinkView>,
    pub note: Option<Rich>,
    /// "Add to calendar", for a session with a time.
    pub calendar_url: Option<String>,
    #[serde(skip)]
    pub invite: Option<Invite>,
}

/// A calendar file of the variant: its name under `calendar/` and its entry.
#[derive(Debug, Clone)]
pub struct Invite {
    pub file: String,
    pub entry: ics::Entry,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeadlineView {
    pub what: String,
    pub date: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub text: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    pub name: Option<String>,
    pub email: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DaysView {
    pub label: String,
    pub title: String,
    pub intro: Option<Rich>,
    pub days: Vec<DayView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayView {
    pub name: String,
    pub date: String,
    pub url: String,
    pub image_url: Option<String>,
    pub image_alt: Option<String>,
}

/// Picks the text of `variant`'s language.
struct Pick<'a> {
    variant: &'a Variant,
    labels: &'a Labels,
    /// An office's own zone, when the variant is an office's: its readers also get their
    /// local time.
    office_zone: Option<chrono_tz::Tz>,
    /// `https://…/archive/<edition>/<variant>/calendar/`
    calendar_base: String,
    /// `<edition>` and the sender's domain, for calendar UIDs.
    edition_id: &'a str,
    domain: String,
}

impl Pick<'_> {
    fn text(&self, l: &Localized<String>) -> String {
        l.get(&self.variant.language).clone()
    }

    fn rich(&self, l: &Localized<Markdown>) -> Option<Rich> {
        Rich::from(l.get(&self.variant.language))
    }

    fn session_when(&self, s: &Session) -> String {
        let date = self.labels.date(s.date);
        let span = |start: chrono::DateTime<chrono_tz::Tz>, end: Option<chrono::DateTime<chrono_tz::Tz>>| match end {
            Some(end) => format!("{}–{}", start.format("%H:%M"), end.format("%H:%M")),
            None => start.format("%H:%M").to_string(),
        };
        match (s.start, s.end) {
            (Some(start), end) => {
                let mut when = format!(
                    "{date}{}{} {} ({})",
                    self.labels.get("comma"),
                    span(start, end),
                    super::i18n::zone_label(&start),
                    self.labels.city(s.time_zone)
                );
                let office = self
                    .office_zone
                    .filter(|z| start.with_timezone(z).naive_local() != start.naive_local());
                if let Some(zone) = office {
                    let local = start.with_timezone(&zone);
                    let mut time = span(local, end.map(|e| e.with_timezone(&zone)));
                    if local.date_naive() != s.date {
                        time = format!("{} {time}", self.labels.day_month(local.date_naive()));
                    }
                    let local = self
                        .labels
                        .get("local_time")
                        .replace("{time}", &time)
                        .replace("{city}", &self.labels.city(zone));
                    when = format!("{when} {local}");
                }
                when
            }
            (None, _) => format!(
                "{date}{}{}",
                self.labels.get("comma"),
                self.labels.get("time_to_be_announced")
            ),
        }
    }

    /// The "Add to calendar" link and file of an entry: `name` is unique within the edition.
    fn invite(&self, name: String, entry: impl FnOnce(String) -> ics::Entry) -> (Option<String>, Option<Invite>) {
        let uid = format!("{}-{}@{}", self.edition_id, name, self.domain);
        let file = format!("{name}.ics");
        let url = format!("{}{file}", self.calendar_base);
        (
            Some(url),
            Some(Invite {
                file,
                entry: entry(uid),
            }),
        )
    }
}

impl EmailView {
    pub fn build(
        edition: &Edition,
        variant: &Variant,
        settings: &RenderSettings,
        labels: &Labels,
        personal: &Personal,
    ) -> EmailView {
        let pick = Pick {
            variant,
            labels,
            office_zone: match &variant.scope {
                Scope::Office { id, .. } => settings.network.offices.get(id).and_then(|o| o.time_zone),
                _ => None,
            },
            calendar_base: Links::new(&settings.base_url).calendar_folder(&edition.id, variant.id()),
            edition_id: edition.id.as_str(),
            domain: settings.sender.email.domain().to_string(),
        };
        let language = &variant.language;
        let series = pick.text(&edition.series);
        // The footer says which newsletter this is: the edition's own series.
        let mut footer_labels = labels.all().clone();
        if let Some(reason) = footer_labels.get_mut("footer_reason") {
            *reason = reason.replace("{series}", &series);
        }
        let number = labels.number(edition.number);
        let subject = match &edition.subject {
            Some(s) => pick.text(s),
            None => format!("{series} {number}"),
        };
        let items: Vec<ItemView> = edition
            .items
            .iter()
            .filter(|item| variant.scope.shows(item))
            .map(|item| item_view(item, &pick, &settings.network))
            .collect();
        let preheader = items.iter().map(|i| i.title.as_str()).collect::<Vec<_>>().join(" · ");
        let days = edition.days.as_ref().filter(|d| !d.days.is_empty()).map(|d| DaysView {
            label: d
                .label
                .as_ref()
                .map_or_else(|| labels.get("days_label").to_string(), |l| pick.text(l)),
            title: d
                .title
                .as_ref()
                .map_or_else(|| labels.get("days_title").to_string(), |t| pick.text(t)),
            intro: d.intro.as_ref().and_then(|i| pick.rich(i)),
            days: d
                .days
                .iter()
                .map(|day| DayView {
                    name: pick.text(&day.name),
                    date: labels.short_date(day.date),
                    url: day.link.to_string(),
                    image_url: day.image.as_ref().map(|i| i.url.to_string()),
                    image_alt: day.image.as_ref().map(|i| pick.text(&i.alt)),
                })
                .collect(),
        });
        let rtl = language.is_right_to_left();
        EmailView {
            lang: language.to_string(),
            dir: if rtl { "rtl" } else { "ltr" },
            align: if rtl { "right" } else { "left" },
            subject,
            preheader,
            series,
            number,
            date: labels.date(edition.date),
            region: scope_name(&variant.scope, &settings.network, language),
            greeting: personal.greeting.clone(),
            recipient: RecipientView {
                name: personal.name.clone(),
                attributes: personal.attributes.clone(),
            },
            intro: edition.intro.as_ref().and_then(|i| pick.rich(i)),
            items,
            days,
            view_online_url: personal.view_online_url.clone(),
            unsubscribe_url: personal.unsubscribe_url.clone(),
            postal_address: settings.postal_address.clone(),
            labels: footer_labels,
        }
    }
}

impl EmailView {
    /// The calendar files behind the variant's "Add to calendar" links.
    pub fn invites(&self) -> impl Iterator<Item = &Invite> {
        self.items.iter().flat_map(|item| {
            item.invite
                .iter()
                .chain(item.sessions.iter().filter_map(|s| s.invite.as_ref()))
        })
    }
}

/// "Santiago office" for an office's edition, region names for a regional variant.
fn scope_name(scope: &Scope, network: &Network, language: &Language) -> Option<String> {
    match scope {
        Scope::All => None,
        Scope::Office { id, .. } => network.offices.get(id).map(|o| o.names.name_in(language).to_string()),
        Scope::Regions(regions) => {
            let names: Vec<&str> = regions
                .iter()
                .filter_map(|r| network.regions.get(r))
                .map(|r| r.name_in(language))
                .collect();
            Some(names.join(", "))
        }
    }
}

fn item_view(item: &Item, pick: &Pick<'_>, network: &Network) -> ItemView {
    let labels = pick.labels;
    let language = &pick.variant.language;
    let label = match &item.label {
        Some(l) => pick.text(l),
        None => labels.get(item.kind.label_key()).to_string(),
    };
    let dates = item.dates.map(|d| labels.date_range(d.starts, d.ends));
    let place = item.place.as_ref().map(|p| pick.text(p));
    let meta = match (dates, place.clone()) {
        (Some(d), Some(p)) => Some(format!("{d} | {p}")),
        (d, p) => d.or(p),
    };
    let title = pick.text(&item.title);
    let sessions = item
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| match &s.region {
            Some(region) => pick
                .variant
                .scope
                .includes(&crate::edition::Regions::Only(vec![region.clone()])),
            None => true,
        })
        .map(|(index, s)| {
            let heading = match (&s.name, &s.language, &s.region) {
                (Some(name), _, _) => pick.text(name),
                (None, Some(l), _) => labels.get(&format!("lang_{l}")).to_uppercase(),
                (None, None, Some(r)) => network
                    .regions
                    .get(r)
                    .map_or_else(|| r.to_string(), |r| r.name_in(language).to_string()),
                (None, None, None) => String::new(),
            };
            let link = s.link.as_ref().map(|l| {
                let text = pick.text(&l.text);
                LinkView {
                    text: if text.is_empty() {
                        labels.get("register").to_string()
                    } else {
                        text
                    },
                    url: l.url.to_string(),
                }
            });
            let note = s
                .note
                .as_ref()
                .and_then(|n| Rich::with_width(n.get(language), TEXT_WIDTH - 2));
            // Numbered over all the item's sessions, so that a session keeps its file and UID
            // in every variant.
            let (calendar_url, invite) = match s.start {
                Some(start) => pick.invite(format!("{}-{}", item.id, index + 1), |uid| ics::Entry {
                    uid,
                    summary: if heading.is_empty() {
                        title.clone()
                    } else {
                        format!("{title} — {heading}")
                    },
                    description: link
                        .as_ref()
                        .map_or_else(|| title.clone(), |l| format!("{}: {}", l.text, l.url)),
                    // The item's place is the event's, not necessarily its sessions' (often online).
                    location: None,
                    url: link.as_ref().map(|l| l.url.clone()),
                    when: ics::When::Timed {
                        start: start.with_timezone(&chrono::Utc),
                        end: s.end.map(|e| e.with_timezone(&chrono::Utc)),
                    },
                }),
                None => (None, None),
            };
            SessionView {
                heading,
                when: pick.session_when(s),
                link,
                note,
                calendar_url,
                invite,
            }
        })
        .collect();
    let (calendar_url, invite) = match item.dates {
        Some(d) => pick.invite(item.id.to_string(), |uid| ics::Entry {
            uid,
            summary: title.clone(),
            description: item.links.first().map_or_else(|| title.clone(), |l| l.url.to_string()),
            location: place.clone(),
            url: item.links.first().map(|l| l.url.to_string()),
            when: ics::When::Days {
                first: d.starts,
                last: d.ends,
            },
        }),
        _ => (None, None),
    };
    ItemView {
        id: item.id.to_string(),
        kind: item.kind.name(),
        label,
        title,
        meta,
        body: pick.rich(&item.body),
        eligibility: item.eligibility.as_ref().and_then(|e| pick.rich(e)),
        sessions,
        deadlines: item
            .deadlines
            .iter()
            .map(|d| DeadlineView {
                what: pick.text(&d.what),
                date: labels.date(d.date),
            })
            .collect(),
        links: item
            .links
            .iter()
            .map(|l| LinkView {
                text: pick.text(&l.text),
                url: l.url.to_string(),
            })
            .collect(),
        contacts: item
            .contacts
            .iter()
            .map(|c| ContactView {
                name: c.name.clone(),
                email: c.email.to_string(),
            })
            .collect(),
        calendar_url,
        invite,
        mjml: String::new(),
    }
}

//! View structs: what templates and the text writer see. Built from the edition model for one
//! variant — language chosen, regions filtered, dates formatted, Markdown rendered — so that
//! templates only place ready text and never reach into the domain model.

use std::collections::BTreeMap;

use serde::Serialize;

use super::i18n::Labels;
use super::{Personal, RenderSettings, Scope, Variant};
use crate::calendar::ics;
use crate::edition::{Edition, EventRow, Href, Item, ItemKind, Localized, Markdown, Session};
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
    /// A line under the title ("Jointly organized by …").
    pub subtitle: Option<String>,
    pub date: String,
    /// The office or regions of a regional variant, in the reader's language.
    pub region: Option<String>,
    /// "Dear Ann," or the polite form when the name is unknown.
    pub greeting: String,
    pub recipient: RecipientView,
    pub intro: Option<Rich>,
    pub items: Vec<ItemView>,
    pub days: Option<DaysView>,
    /// The contents' link to the days block, on the variant's archive page.
    pub days_url: String,
    /// The closing or signature, after the items and the days; not in the contents.
    pub closing: Option<Rich>,
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
    /// Where the title leads, when it is a link.
    pub title_url: Option<String>,
    /// The item on the variant's archive page (`…/archive/<edition>/<variant>/#<id>`): the
    /// contents link there, since an `#id` alone leads nowhere in most inboxes.
    pub contents_url: String,
    /// "31 March – 2 April 2026 | Hainan, China" for events.
    pub meta: Option<String>,
    pub body: Option<Rich>,
    pub eligibility: Option<Rich>,
    pub sessions: Vec<SessionView>,
    pub deadlines: Vec<DeadlineView>,
    pub links: Vec<LinkView>,
    pub contacts: Vec<ContactView>,
    /// The rows of an event list, those of the variant's regions.
    pub events: Vec<EventView>,
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
    /// "Language: English · also in: French, Arabic", for a session with `also_in`.
    pub languages: Option<String>,
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

/// A link; `url` is `None` while its address is to be announced (`tba` then says so).
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub text: String,
    pub url: Option<String>,
    /// "link to be announced" for a link without an address yet; empty otherwise.
    pub tba: String,
}

impl LinkView {
    fn new(text: String, href: &Href, labels: &Labels) -> LinkView {
        LinkView {
            text,
            url: href.url().map(ToString::to_string),
            tba: if href.is_tba() {
                labels.get("link_tba").to_string()
            } else {
                String::new()
            },
        }
    }
}

/// One row of an event list.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    /// "21 January 2026", "3 – 5 March 2026", "21 January 2026, 18:00 CET (Paris)".
    pub date: String,
    pub title: String,
    pub url: Option<String>,
    /// "link to be announced" when the row's link is `tba`.
    pub tba: String,
    pub place: Option<String>,
    /// The region's name in the reader's language; `None` for every region.
    pub region: Option<String>,
    /// The row's calendar file; the date links to it.
    pub calendar_url: String,
    #[serde(skip)]
    pub invite: Option<Invite>,
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
    /// `https://…/archive/<edition>/<variant>/`, where the contents links lead.
    page: String,
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

    /// Whether a session or event row for `region` (`None`: every region) is in the variant.
    fn concerns(&self, region: Option<&crate::types::Region>) -> bool {
        region.is_none_or(|r| {
            self.variant
                .scope
                .includes(&crate::edition::Regions::Only(vec![r.clone()]))
        })
    }

    fn session_when(&self, s: &Session) -> String {
        let date = self.labels.date(s.date);
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
        let page = Links::new(&settings.base_url).variant_page(&edition.id, variant.id());
        let pick = Pick {
            variant,
            labels,
            office_zone: match &variant.scope {
                Scope::Office { id, .. } => settings.network.offices.get(id).and_then(|o| o.time_zone),
                _ => None,
            },
            calendar_base: Links::new(&settings.base_url).calendar_folder(&edition.id, variant.id()),
            page: page.clone(),
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
            // An event list none of whose rows concern the variant's regions says nothing.
            .filter(|item| item.kind != ItemKind::Events.name() || !item.events.is_empty())
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
            subtitle: edition.subtitle.as_ref().map(|s| pick.text(s)),
            date: labels.date(edition.date),
            region: scope_name(&variant.scope, &settings.network, language),
            // The edition's own greeting is for every reader, named or not.
            greeting: edition
                .greeting
                .as_ref()
                .map_or_else(|| personal.greeting.clone(), |g| pick.text(g)),
            recipient: RecipientView {
                name: personal.name.clone(),
                attributes: personal.attributes.clone(),
            },
            intro: edition.intro.as_ref().and_then(|i| pick.rich(i)),
            items,
            days,
            days_url: format!("{page}#international-days"),
            closing: edition.closing.as_ref().and_then(|c| pick.rich(c)),
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
                .chain(item.events.iter().filter_map(|e| e.invite.as_ref()))
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
        .filter(|(_, s)| pick.concerns(s.region.as_ref()))
        .map(|(index, s)| {
            let heading = match (&s.name, &s.language, &s.region) {
                (Some(name), _, _) => pick.text(name),
                (None, Some(l), _) => language_name(labels, l).to_uppercase(),
                (None, None, Some(r)) => region_name(network, r, language),
                (None, None, None) => String::new(),
            };
            let link = s.link.as_ref().map(|l| {
                let text = pick.text(&l.text);
                let text = if text.is_empty() {
                    labels.get("register").to_string()
                } else {
                    text
                };
                LinkView::new(text, &l.url, labels)
            });
            // The heading names the spoken language unless the session has a name of its own.
            let languages = match (&s.language, s.also_in.is_empty()) {
                (Some(spoken), false) => {
                    let key = if s.name.is_some() {
                        "session_languages"
                    } else {
                        "session_also_in"
                    };
                    Some(
                        labels
                            .get(key)
                            .replace("{language}", &language_name(labels, spoken))
                            .replace("{others}", &language_names(labels, &s.also_in)),
                    )
                }
                _ => None,
            };
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
                        .and_then(|l| Some(format!("{}: {}", l.text, l.url.as_ref()?)))
                        .unwrap_or_else(|| title.clone()),
                    // The item's place is the event's, not necessarily its sessions' (often online).
                    location: None,
                    url: link.as_ref().and_then(|l| l.url.clone()),
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
                languages,
                link,
                note,
                calendar_url,
                invite,
            }
        })
        .collect();
    let first_url = item.links.iter().find_map(|l| l.url.url()).map(ToString::to_string);
    let (calendar_url, invite) = match item.dates {
        Some(d) => pick.invite(item.id.to_string(), |uid| ics::Entry {
            uid,
            summary: title.clone(),
            description: first_url.clone().unwrap_or_else(|| title.clone()),
            location: place.clone(),
            url: first_url.clone(),
            when: ics::When::Days {
                first: d.starts,
                last: d.ends,
            },
        }),
        _ => (None, None),
    };
    let events = event_views(item, pick, network);
    ItemView {
        id: item.id.to_string(),
        kind: item.kind.name(),
        label,
        title_url: item.title_link.as_ref().map(ToString::to_string),
        contents_url: format!("{}#{}", pick.page, item.id),
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
            .map(|l| LinkView::new(pick.text(&l.text), &l.url, labels))
            .collect(),
        contacts: item
            .contacts
            .iter()
            .map(|c| ContactView {
                name: c.name.clone(),
                email: c.email.to_string(),
            })
            .collect(),
        events,
        calendar_url,
        invite,
        mjml: String::new(),
    }
}

/// A region's name in the reader's language.
fn region_name(network: &Network, region: &crate::types::Region, language: &Language) -> String {
    network
        .regions
        .get(region)
        .map_or_else(|| region.to_string(), |r| r.name_in(language).to_string())
}

/// A language's name in the reader's language ("Anglais").
fn language_name(labels: &Labels, language: &Language) -> String {
    labels.get(&format!("lang_{language}")).to_string()
}

/// "French, Spanish, Arabic", with the reader's language's comma.
fn language_names(labels: &Labels, languages: &[Language]) -> String {
    let names: Vec<String> = languages.iter().map(|l| language_name(labels, l)).collect();
    names.join(labels.get("comma"))
}

/// The rows of an event list that concern the variant's regions, each with its calendar
/// file, numbered over all the rows so that a row keeps its file and UID in every variant.
fn event_views(item: &Item, pick: &Pick<'_>, network: &Network) -> Vec<EventView> {
    let labels = pick.labels;
    let language = &pick.variant.language;
    item.events
        .iter()
        .enumerate()
        .filter(|(_, e)| pick.concerns(e.region.as_ref()))
        .map(|(index, e)| {
            let title = pick.text(&e.title);
            let place = e.place.as_ref().map(|p| pick.text(p));
            let url = e.link.as_ref().and_then(Href::url).map(ToString::to_string);
            let (calendar_url, invite) = pick.invite(format!("{}-{}", item.id, index + 1), |uid| ics::Entry {
                uid,
                summary: title.clone(),
                description: url.clone().unwrap_or_else(|| title.clone()),
                location: place.clone(),
                url: url.clone(),
                when: event_when(e),
            });
            EventView {
                date: event_date(e, pick),
                title,
                url,
                tba: if e.link.as_ref().is_some_and(Href::is_tba) {
                    labels.get("link_tba").to_string()
                } else {
                    String::new()
                },
                place,
                region: e.region.as_ref().map(|r| region_name(network, r, language)),
                calendar_url: calendar_url.unwrap_or_default(),
                invite,
            }
        })
        .collect()
}

fn event_when(e: &EventRow) -> ics::When {
    match e.start {
        Some(start) => ics::When::Timed {
            start: start.with_timezone(&chrono::Utc),
            end: e.end.map(|t| t.with_timezone(&chrono::Utc)),
        },
        None => ics::When::Days {
            first: e.dates.starts,
            last: e.dates.ends,
        },
    }
}

/// "09:30–10:30", or "09:30" without an end.
fn span(start: chrono::DateTime<chrono_tz::Tz>, end: Option<chrono::DateTime<chrono_tz::Tz>>) -> String {
    match end {
        Some(end) => format!("{}–{}", start.format("%H:%M"), end.format("%H:%M")),
        None => start.format("%H:%M").to_string(),
    }
}

/// "21 January 2026", "3 – 5 March 2026", or with its time: "21 January 2026, 18:00 CET (Paris)".
fn event_date(e: &EventRow, pick: &Pick<'_>) -> String {
    let labels = pick.labels;
    let date = if e.dates.starts == e.dates.ends {
        labels.short_date(e.dates.starts)
    } else {
        labels.date_range(e.dates.starts, e.dates.ends)
    };
    match e.start {
        Some(start) => {
            let time = span(start, e.end);
            format!(
                "{date}{}{time} {} ({})",
                labels.get("comma"),
                super::i18n::zone_label(&start),
                labels.city(e.time_zone)
            )
        }
        None => date,
    }
}

//! Every public link infoflash writes — into an email, an archive page or the feed — built in
//! one place from `base_url`: the archive, a variant's page and its calendar files, the feed,
//! the unsubscribe links. What `build` writes, what `send` links to and what `serve` answers
//! must agree, so no other module formats these paths. It must not know where the files lie
//! on disk (that is [`crate::site`]'s) nor sign anything (that is
//! [`crate::deliver::unsubscribe`]'s).
//!
//! ```
//! # use infoflash::links::Links;
//! let base: url::Url = "https://news.example.org/flash/".parse().unwrap();
//! let links = Links::new(&base);
//! assert_eq!(links.variant_page("2026-01-info-flash-22", "fr"), "https://news.example.org/flash/archive/2026-01-info-flash-22/fr/");
//! assert_eq!(links.unsubscribe("TOKEN"), "https://news.example.org/flash/unsubscribe/TOKEN");
//! ```

/// The public addresses under one `base_url`.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// `base_url` without its trailing slash.
    base: &'a str,
}

impl<'a> Links<'a> {
    pub fn new(base_url: &'a url::Url) -> Links<'a> {
        Links {
            base: base_url.as_str().trim_end_matches('/'),
        }
    }

    /// The archive's index: `BASE/archive/`.
    pub fn archive(&self) -> String {
        format!("{}/archive/", self.base)
    }

    /// The Atom feed of the archive.
    pub fn feed(&self) -> String {
        format!("{}/archive/feed.xml", self.base)
    }

    /// A variant's page in the archive: `BASE/archive/EDITION/VARIANT/`.
    pub fn variant_page(&self, edition: impl std::fmt::Display, variant: impl std::fmt::Display) -> String {
        format!("{}/archive/{edition}/{variant}/", self.base)
    }

    /// The folder of a variant's `.ics` files: `BASE/archive/EDITION/VARIANT/calendar/`.
    pub fn calendar_folder(&self, edition: impl std::fmt::Display, variant: impl std::fmt::Display) -> String {
        format!("{}calendar/", self.variant_page(edition, variant))
    }

    /// A one-click unsubscribe link for a signed `token` (`preview` in a preview).
    pub fn unsubscribe(&self, token: &str) -> String {
        format!("{}/unsubscribe/{token}", self.base)
    }
}

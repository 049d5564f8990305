//! `infoflash serve` over loopback with a real HTTP client: one-click unsubscribe (RFC 8058),
//! refused tokens and bodies, a hundred parallel unsubscribes, the archive, the preview, and
//! the end-to-end promise: after an unsubscribe through the service, `send` (to Postfix's
//! smtp-sink) no longer mails that address.

mod common;

use std::path::Path;

use common::smtp::*;
use common::web::Service;
use common::*;
use infoflash::deliver::unsubscribe::Key;

const KEY: &str = "a test key that is long enough, 32+ bytes";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn post(url: &str, body: &str) -> (u16, String) {
    let mut response = agent().post(url).send(body).expect("the service answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap_or_default())
}

fn get(url: &str) -> (u16, String) {
    let mut response = agent().get(url).call().expect("the service answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap_or_default())
}

fn token(email: &str, issued: chrono::NaiveDate) -> String {
    Key::from_bytes(KEY.as_bytes()).token(None, &email.parse().unwrap(), issued)
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn suppression(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("recipients/suppression.csv")).unwrap()
}

#[test]
fn one_click_unsubscribes_exactly_that_address_and_a_repeat_is_harmless() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let url = format!("{}/unsubscribe/{}", server.base, token("Ann.Lee@example.org", today()));
    let (status, page) = post(&url, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("unsubscribed"), "{page}");
    assert!(!page.contains("ann.lee"), "a page must not show the address");
    let (again, _) = post(&url, "List-Unsubscribe=One-Click");
    assert_eq!(again, 200);
    let list = suppression(dir.path());
    let entries: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(entries.len(), 1, "{list}");
    assert!(
        entries[0].starts_with("ann.lee@example.org,unsubscribed (one-click),"),
        "{list}"
    );
}

#[test]
fn forged_altered_and_expired_tokens_get_403_and_change_nothing() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let genuine = token("bob@example.org", today());
    let (payload, signature) = genuine.split_once('.').unwrap();
    let forged = Key::from_bytes(b"somebody else's key, 32 bytes long").token(
        None,
        &"bob@example.org".parse().unwrap(),
        today(),
    );
    let altered = format!("{payload}.{}", &signature[2..]);
    let expired = token("bob@example.org", today() - chrono::Duration::days(500));
    for bad in [forged.as_str(), altered.as_str(), expired.as_str(), "nonsense"] {
        let url = format!("{}/unsubscribe/{bad}", server.base);
        assert_eq!(post(&url, "List-Unsubscribe=One-Click").0, 403, "{bad}");
        assert_eq!(get(&url).0, 403, "{bad}");
    }
    assert_eq!(suppression(dir.path()), "email,reason,date\n");
}

#[test]
fn a_validly_signed_token_that_names_a_whole_domain_suppresses_nothing() {
    // Signed with the service's own key, as a token of an older release could have been: the
    // payload names `*@example.com`, which is not one mailbox.
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let signed = |address: &str| {
        let payload = format!("2\n{}\n\n{address}", today().format("%Y-%m-%d"));
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(KEY.as_bytes()).unwrap();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!(
            "{}/unsubscribe/{}.{signature}",
            server.base,
            URL_SAFE_NO_PAD.encode(&payload)
        )
    };
    assert_eq!(post(&signed("*@example.com"), "List-Unsubscribe=One-Click").0, 403);
    assert_eq!(suppression(dir.path()), "email,reason,date\n");
    // The same construction for one mailbox is accepted: the test signs what the key signs.
    assert_eq!(post(&signed("carol@example.com"), "List-Unsubscribe=One-Click").0, 200);
    assert!(suppression(dir.path()).contains("carol@example.com"));
}

#[test]
fn a_get_shows_a_button_that_posts_and_never_unsubscribes_by_itself() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let t = token("carla@example.org", today());
    let (status, page) = get(&format!("{}/unsubscribe/{t}", server.base));
    assert_eq!(status, 200);
    assert!(page.contains("<form method=\"post\""), "{page}");
    assert!(page.contains("name=\"List-Unsubscribe\" value=\"One-Click\""), "{page}");
    assert_eq!(suppression(dir.path()), "email,reason,date\n", "a GET changed the list");
}

#[test]
fn wrong_and_oversized_bodies_are_refused() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let url = format!("{}/unsubscribe/{}", server.base, token("dan@example.org", today()));
    assert_eq!(post(&url, "unsubscribe please").0, 400);
    assert_eq!(post(&url, &"x".repeat(100_000)).0, 413);
    assert_eq!(suppression(dir.path()), "email,reason,date\n");
}

#[test]
fn requests_beyond_the_rate_get_429_and_the_service_answers_again_after_a_pause() {
    let dir = common::web::built_project();
    let server = Service::start_with_rate(dir.path(), Some(KEY), 5);
    let url = format!("{}/archive/", server.base);
    let codes: Vec<u16> = (0..40).map(|_| get(&url).0).collect();
    assert!(codes.contains(&200), "{codes:?}");
    let refused = codes.iter().filter(|&&c| c == 429).count();
    assert!(
        refused >= 20,
        "40 requests at once against 5 a second: only {refused} refused: {codes:?}"
    );
    assert!(codes.iter().all(|&c| c == 200 || c == 429), "{codes:?}");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(get(&url).0, 200, "still refused after a pause");
}

#[test]
fn a_hundred_parallel_unsubscribes_lose_none() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    std::thread::scope(|s| {
        for i in 0..100 {
            let base = &server.base;
            s.spawn(move || {
                let url = format!("{base}/unsubscribe/{}", token(&format!("p{i}@example.org"), today()));
                assert_eq!(post(&url, "List-Unsubscribe=One-Click").0, 200);
            });
        }
    });
    let list = suppression(dir.path());
    for i in 0..100 {
        assert!(list.contains(&format!("\np{i}@example.org,")), "p{i} lost:\n{list}");
    }
    assert_eq!(list.lines().count(), 101);
}

#[test]
fn the_archive_and_the_preview_are_served_and_the_preview_follows_the_file() {
    let dir = common::web::built_project();
    let mut server = Service::start(dir.path(), Some(KEY));
    let (status, index) = get(&format!("{}/archive/", server.base));
    assert_eq!(status, 200);
    assert!(index.contains("href=\"2026-01-info-flash-22/fr/\""), "{index}");
    let (status, feed) = get(&format!("{}/archive/feed.xml", server.base));
    assert_eq!(status, 200);
    assert!(feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""), "{feed}");
    let (status, page) = get(&format!("{}/archive/2026-01-info-flash-22/fr/", server.base));
    assert_eq!(status, 200);
    assert!(page.contains("lang=\"fr\"") && page.contains("id=\"webinar-emergencies-and-disaster\""));
    let (status, ics) = get(&format!(
        "{}/archive/2026-01-info-flash-22/en/calendar/webinar-emergencies-and-disaster-1.ics",
        server.base
    ));
    assert_eq!(status, 200);
    assert!(ics.starts_with("BEGIN:VCALENDAR"));

    let (status, list) = get(&format!("{}/preview/", server.base));
    assert_eq!(status, 200);
    assert!(list.contains("/preview/2026-01-info-flash-22"), "{list}");
    let preview = format!("{}/preview/2026-01-info-flash-22?lang=es", server.base);
    let (status, page) = get(&preview);
    assert_eq!(status, 200);
    assert!(
        page.contains("check: no problems") && page.contains("lang=\"es\""),
        "{page}"
    );
    // The editor saves a change with a slip in it: the next reload shows both.
    let file = dir.path().join("editions/2026-01-info-flash-22.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen(
        "4th session of the ASPnet Webinar Series",
        "Fifth session, on Friday 20 January 2026",
        1,
    );
    assert_ne!(text, changed);
    std::fs::write(&file, changed).unwrap();
    let (_, page) = get(&preview);
    assert!(page.contains("20 January 2026 is a Tuesday, not a Friday"), "{page}");
    let (_, english) = get(&format!("{}/preview/2026-01-info-flash-22", server.base));
    assert!(
        english.contains("Fifth session, on Friday 20 January 2026"),
        "{english}"
    );
    assert_eq!(get(&format!("{}/preview/..%2Fsecrets", server.base)).0, 404);
    assert_eq!(server.stop(), Some(0), "SIGTERM stops the service cleanly");
}

#[test]
fn after_an_unsubscribe_through_the_service_send_no_longer_mails_that_address() {
    let sink = Sink::start(&[]);
    let dir = common::smtp::project(sink.port, 3, &[]);
    // First edition: everyone gets it; the List-Unsubscribe link is in each message.
    let out = send(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let message = sink
        .messages()
        .into_iter()
        .find(|m| m.contains("X-Rcpt-Args: <person1@example.org>"))
        .expect("person1 got the first edition");
    let link = message
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .and_then(|l| l.split('>').next())
        .expect("a List-Unsubscribe header")
        .to_string();
    let token = link.rsplit('/').next().unwrap();
    // The service runs in the same project, so it checks tokens with the key send used.
    let server = Service::start(dir.path(), None);
    let (status, _) = post(
        &format!("{}/unsubscribe/{token}", server.base),
        "List-Unsubscribe=One-Click",
    );
    assert_eq!(status, 200);

    // The next edition goes to everyone else, and not to person1.
    let next = dir.path().join(OFFICE_EDITION.replace("flash-3", "flash-4"));
    let text = std::fs::read_to_string(dir.path().join(OFFICE_EDITION)).unwrap();
    std::fs::write(&next, text.replace("number = 3", "number = 4")).unwrap();
    let next_name = next.strip_prefix(dir.path()).unwrap().to_str().unwrap().to_string();
    let out = infoflash(dir.path(), &["send", &next_name]);
    assert!(out.status.success(), "{}", stderr(&out));
    let second: Vec<String> = sink
        .messages()
        .into_iter()
        .filter(|m| m.contains("office-flash-4@"))
        .collect();
    assert_eq!(second.len(), 2, "the second edition went to the two others");
    assert!(
        second.iter().all(|m| !m.contains("<person1@example.org>")),
        "person1 was mailed again"
    );
}

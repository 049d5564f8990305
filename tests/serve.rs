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
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

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
    let mut server = Service::start_with(dir.path(), Some(KEY), &["--preview"], &[]);
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

/// A request written by hand (`request` is everything after the request line's path), from
/// `source` (any 127.x.y.z address: another client on the same machine); the status and the
/// whole response.
fn raw(base: &str, source: &str, request: &str) -> (u16, String) {
    let target: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let from: std::net::SocketAddr = format!("{source}:0").parse().unwrap();
    socket.bind(&from.into()).unwrap();
    socket.connect(&target.into()).unwrap();
    let mut stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    (status, response)
}

fn header<'a>(response: &'a ureq::http::Response<ureq::Body>, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn office_token(office: &str, email: &str) -> String {
    Key::from_bytes(KEY.as_bytes()).token(Some(&office.parse().unwrap()), &email.parse().unwrap(), today())
}

#[test]
fn a_one_click_sent_as_multipart_form_data_unsubscribes() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let url = format!("{}/unsubscribe/{}", server.base, token("multi@example.org", today()));
    let body =
        "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0undary--\r\n";
    let mut response = agent()
        .post(&url)
        .header("Content-Type", "multipart/form-data; boundary=b0undary")
        .send(body)
        .unwrap();
    let page = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status().as_u16(), 200, "{page}");
    assert!(suppression(dir.path()).contains("multi@example.org,unsubscribed (one-click)"));
    // A multipart body without the field is still refused.
    let wrong = "--b0undary\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nOne-Click\r\n--b0undary--\r\n";
    let url = format!("{}/unsubscribe/{}", server.base, token("other@example.org", today()));
    let response = agent()
        .post(&url)
        .header("Content-Type", "multipart/form-data; boundary=b0undary")
        .send(wrong)
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(!suppression(dir.path()).contains("other@example.org"));
}

#[test]
fn a_flood_of_archive_requests_starves_neither_unsubscribes_nor_other_clients() {
    let dir = common::web::built_project();
    let server = Service::start_with_rate(dir.path(), Some(KEY), 5);
    let feed = "GET /archive/feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let flood: Vec<u16> = (0..40).map(|_| raw(&server.base, "127.0.0.1", feed).0).collect();
    assert!(
        flood.iter().filter(|&&c| c == 429).count() >= 20,
        "the flood was not limited: {flood:?}"
    );
    // The flooding client's unsubscribes have a budget of their own.
    for i in 0..5 {
        let t = token(&format!("u{i}@example.org"), today());
        let body = "List-Unsubscribe=One-Click";
        let request = format!(
            "POST /unsubscribe/{t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (status, response) = raw(&server.base, "127.0.0.1", &request);
        assert_eq!(status, 200, "unsubscribe {i} starved by the archive flood: {response}");
    }
    // Another client is not refused because of the first one's flood.
    let (status, _) = raw(&server.base, "127.0.0.2", feed);
    assert_eq!(status, 200, "a second client was refused for the first one's flood");
}

#[test]
#[cfg(unix)]
fn a_symlink_in_the_archive_is_never_followed() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), None);
    // The service made the key file; a link in the archive points at the state folder.
    assert!(dir.path().join("state/unsubscribe.key").is_file());
    let archive = dir.path().join("out/archive");
    std::os::unix::fs::symlink(dir.path().join("state"), archive.join("x")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("state/unsubscribe.key"), archive.join("key.txt")).unwrap();
    std::os::unix::fs::symlink(archive.join("2026-01-info-flash-22"), archive.join("inside")).unwrap();
    for path in [
        "x/unsubscribe.key",
        "key.txt",
        "x/",
        "x",
        "inside/en/",
        "%78/unsubscribe.key",
    ] {
        let (status, body) = get(&format!("{}/archive/{path}", server.base));
        assert_eq!(status, 404, "/archive/{path}: {body}");
        assert!(body.len() < 100, "/archive/{path} served something: {body}");
    }
    assert_eq!(
        get(&format!("{}/archive/2026-01-info-flash-22/en/", server.base)).0,
        200
    );
}

#[test]
fn half_sent_requests_and_silent_connections_are_closed() {
    let dir = common::web::built_project();
    let server = Service::start_with(
        dir.path(),
        Some(KEY),
        &["--header-timeout", "1", "--idle-timeout", "2"],
        &[],
    );
    let address = server.base.trim_start_matches("http://").to_string();
    let t = token("slow@example.org", today());
    let mut sockets = Vec::new();
    for i in 0..60 {
        let mut s = TcpStream::connect(&address).unwrap();
        let half = match i % 3 {
            // The head, never finished.
            0 => "GET /archive/ HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_string(),
            // Nothing at all.
            1 => String::new(),
            // The head, and a body that never comes.
            _ => format!("POST /unsubscribe/{t} HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\nList-"),
        };
        s.write_all(half.as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        sockets.push(s);
    }
    let started = Instant::now();
    for (i, mut s) in sockets.into_iter().enumerate() {
        let mut rest = Vec::new();
        let closed = s.read_to_end(&mut rest).is_ok();
        assert!(closed, "connection {i} still open after {:?}", started.elapsed());
    }
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    // Served as ever afterwards, and nothing was unsubscribed by the half body.
    assert_eq!(get(&format!("{}/archive/", server.base)).0, 200);
    assert_eq!(suppression(dir.path()), "email,reason,date\n");
}

#[test]
fn every_response_carries_the_security_headers() {
    let dir = common::web::built_project();
    let server = Service::start_with(dir.path(), Some(KEY), &["--preview"], &[]);
    let t = token("head@example.org", today());
    let pages = [
        ("/archive/", false),
        ("/archive/feed.xml", false),
        ("/archive/no-such-thing", false),
        ("/nowhere", false),
        (&*format!("/unsubscribe/{t}"), true),
        ("/unsubscribe/forged", true),
        ("/preview/", true),
    ];
    for (path, private) in pages {
        let response = agent().get(&format!("{}{path}", server.base)).call().unwrap();
        let csp = header(&response, "content-security-policy");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
            "{path}: {csp:?}"
        );
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer", "{path}");
        if private {
            assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
        }
    }
    let response = agent()
        .post(&format!("{}/unsubscribe/{t}", server.base))
        .send("List-Unsubscribe=One-Click")
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert!(header(&response, "content-security-policy").contains("frame-ancestors 'none'"));
}

#[test]
fn the_preview_is_served_only_when_asked_and_off_loopback_only_with_its_token() {
    let dir = common::web::built_project();
    let plain = Service::start(dir.path(), Some(KEY));
    assert_eq!(get(&format!("{}/preview/", plain.base)).0, 404);
    assert_eq!(get(&format!("{}/preview/2026-01-info-flash-22", plain.base)).0, 404);

    let refused = Service::try_start(dir.path(), Some(KEY), &["--preview", "--listen", "0.0.0.0:0"], &[]);
    let Err(message) = refused else {
        panic!("--preview started on 0.0.0.0 without a token")
    };
    assert!(message.contains("INFOFLASH_PREVIEW_TOKEN"), "{message}");

    let secret = "a preview token, 16+ characters";
    let open = Service::start_with(
        dir.path(),
        Some(KEY),
        &["--preview", "--listen", "0.0.0.0:0"],
        &[("INFOFLASH_PREVIEW_TOKEN", secret)],
    );
    let edition = format!("{}/preview/2026-01-info-flash-22", open.base);
    assert_eq!(get(&format!("{}/preview/", open.base)).0, 404);
    assert_eq!(get(&edition).0, 404);
    assert_eq!(get(&format!("{edition}?token=a%20preview%20token")).0, 404);
    let encoded = secret.replace(' ', "%20").replace(',', "%2C").replace('+', "%2B");
    let (status, list) = get(&format!("{}/preview/?token={encoded}", open.base));
    assert_eq!(status, 200, "{list}");
    assert!(
        list.contains("/preview/2026-01-info-flash-22?token="),
        "links lose the token: {list}"
    );
    let (status, page) = get(&format!("{edition}?lang=fr&token={encoded}"));
    assert_eq!(status, 200);
    assert!(page.contains("lang=\"fr\""));
    assert!(!open.log().contains(secret), "the token was logged");
}

#[test]
fn a_folder_without_its_slash_stays_in_the_archive_and_odd_paths_are_404() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    for (path, to) in [
        // Relative, so that they hold under a base_url's path too.
        ("/archive/2026-01-info-flash-22", "./2026-01-info-flash-22/"),
        ("/archive/2026-01-info-flash-22/fr", "./fr/"),
        ("/archive", "./archive/"),
    ] {
        let response = no_redirects.get(&format!("{}{path}", server.base)).call().unwrap();
        assert!(response.status().is_redirection(), "{path}: {}", response.status());
        assert_eq!(header(&response, "location"), to, "{path}");
    }
    // Followed, the redirect lands on the page.
    let (status, page) = get(&format!("{}/archive/2026-01-info-flash-22/fr", server.base));
    assert_eq!(status, 200);
    assert!(page.contains("lang=\"fr\""));
    let long = "a".repeat(300);
    for path in [
        format!("/archive/{long}"),
        format!("/archive/2026-01-info-flash-22/{long}/x"),
        "/archive/%ff".to_string(),
        "/archive/%00".to_string(),
        "/archive/a%2f..%2f..%2fstate".to_string(),
        "/archive/feed.xml/".to_string(),
        format!("/{long}"),
        "/unsubscribe/%ff".to_string(),
        format!("/preview/{long}"),
    ] {
        let (status, body) = get(&format!("{}{path}", server.base));
        assert!(status == 404 || status == 403, "{path}: {status} {body}");
        assert!(status < 500, "{path}: {status}");
    }
    assert_eq!(get(&format!("{}/archive/{long}", server.base)).0, 404);
}

#[test]
fn unsubscribe_pages_speak_the_readers_language() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let key = Key::from_bytes(KEY.as_bytes());
    let reader: infoflash::types::EmailAddress = "polyglot@example.org".parse().unwrap();
    let expected = [
        ("en", "Unsubscribe"),
        ("fr", "Se désinscrire"),
        ("es", "Darse de baja"),
        ("ar", "إلغاء الاشتراك"),
        ("ru", "Отписаться"),
        ("zh", "退订"),
    ];
    for (code, words) in expected {
        let t = key.token_in(None, &code.parse().unwrap(), &reader, today());
        let (status, page) = get(&format!("{}/unsubscribe/{t}", server.base));
        assert_eq!(status, 200);
        let dir_attr = if code == "ar" { "rtl" } else { "ltr" };
        assert!(
            page.contains(&format!("<html lang=\"{code}\" dir=\"{dir_attr}\">")),
            "{code}: {page}"
        );
        assert!(page.contains(words), "{code}: {page}");
    }
    // The answer to the POST is in the token's language too.
    let t = key.token_in(None, &"ar".parse().unwrap(), &reader, today());
    let (_, done) = post(
        &format!("{}/unsubscribe/{t}", server.base),
        "List-Unsubscribe=One-Click",
    );
    assert!(
        done.contains("تم إلغاء الاشتراك") && done.contains("dir=\"rtl\""),
        "{done}"
    );
    // An older token has no language: the browser's, else the sending office's.
    let old = token("older@example.org", today());
    let mut response = agent()
        .get(&format!("{}/unsubscribe/{old}", server.base))
        .header("Accept-Language", "de-DE, fr;q=0.8, en;q=0.5")
        .call()
        .unwrap();
    let page = response.body_mut().read_to_string().unwrap();
    assert!(page.contains("lang=\"fr\""), "{page}");
    let (_, page) = get(&format!(
        "{}/unsubscribe/{}",
        server.base,
        office_token("santiago", "o@example.org")
    ));
    assert!(
        page.contains("lang=\"es\"") && page.contains("Oficina Regional de la UNESCO en Santiago"),
        "{page}"
    );
    // A refused token gets its page in the browser's language.
    let mut response = agent()
        .get(&format!("{}/unsubscribe/forged", server.base))
        .header("Accept-Language", "ru")
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert!(response
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("Ссылка недействительна"));
}

#[test]
fn each_unsubscribe_is_logged_once_with_the_address_hashed() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), Some(KEY));
    let url = format!(
        "{}/unsubscribe/{}",
        server.base,
        token("Logged.Person@example.org", today())
    );
    assert_eq!(post(&url, "List-Unsubscribe=One-Click").0, 200);
    assert_eq!(post(&url, "List-Unsubscribe=One-Click").0, 200);
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("unsubscribe: address")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains("added to the suppression list"), "{log}");
    assert!(lines[1].contains("already on it"), "{log}");
    let hashed = |l: &str| {
        l.split("address ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap()
            .to_string()
    };
    assert_eq!(hashed(lines[0]), hashed(lines[1]), "one address, one pseudonym");
    assert_eq!(hashed(lines[0]).len(), 12);
    let lower = log.to_lowercase();
    assert!(
        !lower.contains("logged.person") && !lower.contains("example.org"),
        "{log}"
    );
}

#[test]
fn a_changed_key_file_is_read_again_and_logged() {
    let dir = common::web::built_project();
    let server = Service::start(dir.path(), None);
    let file = dir.path().join("state/unsubscribe.key");
    let first = std::fs::read(&file).unwrap();
    let old = Key::from_bytes(&first).token(None, &"k1@example.org".parse().unwrap(), today());
    assert_eq!(get(&format!("{}/unsubscribe/{old}", server.base)).0, 200);
    // Rotated as an operator would: a new file renamed into place.
    let rotated = b"a brand new key of 32 bytes......";
    std::fs::write(dir.path().join("state/new.key"), rotated).unwrap();
    std::fs::rename(dir.path().join("state/new.key"), &file).unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    let new = Key::from_bytes(rotated).token(None, &"k2@example.org".parse().unwrap(), today());
    assert_eq!(
        post(
            &format!("{}/unsubscribe/{new}", server.base),
            "List-Unsubscribe=One-Click"
        )
        .0,
        200
    );
    assert_eq!(get(&format!("{}/unsubscribe/{old}", server.base)).0, 403);
    let log = server.log();
    assert!(log.contains("unsubscribe key file") && log.contains("changed"), "{log}");
    assert!(!log.contains("a brand new key"), "the key was logged: {log}");
    // A key file that goes missing keeps the key in use (and is not made anew).
    std::fs::remove_file(&file).unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(get(&format!("{}/unsubscribe/{new}", server.base)).0, 200);
    assert!(!file.exists());
}

#[test]
fn a_one_click_from_an_office_suppresses_for_that_office_only_and_scope_all_for_everyone() {
    let dir = common::web::scoped_project();
    let server = Service::start(dir.path(), Some(KEY));
    assert_eq!(common::web::audience(dir.path(), None), (0, 2));
    let url = format!(
        "{}/unsubscribe/{}",
        server.base,
        office_token("santiago", "Ann@example.org")
    );
    let (status, page) = post(&url, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Oficina Regional de la UNESCO en Santiago"), "{page}");
    let list = suppression(dir.path());
    assert!(list.starts_with("email,reason,date,scope\n"), "{list}");
    assert!(list.contains(",santiago\n"), "{list}");
    assert_eq!(
        common::web::audience(dir.path(), Some("santiago")),
        (1, 1),
        "santiago still mails ann"
    );
    assert_eq!(
        common::web::audience(dir.path(), None),
        (0, 2),
        "the international team stopped mailing ann"
    );
    assert_eq!(
        common::web::audience(dir.path(), Some("bangkok")),
        (0, 1),
        "bangkok stopped mailing ann"
    );
    // From the same office's page, the second button stops everything.
    let (status, _) = post(&url, "List-Unsubscribe=One-Click&scope=all");
    assert_eq!(status, 200);
    assert_eq!(common::web::audience(dir.path(), None), (1, 1));
    assert_eq!(common::web::audience(dir.path(), Some("bangkok")), (1, 0));
    assert_eq!(common::web::audience(dir.path(), Some("santiago")), (1, 1));
}

/// The token of the first unsubscribe link of a message (its `List-Unsubscribe` header).
fn unsubscribe_token(message: &str) -> String {
    message
        .split("/unsubscribe/")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("an unsubscribe link")
        .to_string()
}

#[test]
fn the_link_in_a_sent_message_opens_pages_in_its_language_naming_the_office_in_it() {
    let project = copy_project(&root());
    std::fs::write(project.path().join("recipients/suppression.csv"), "email,reason,date\n").unwrap();
    let sent = std::process::Command::new(env!("CARGO_BIN_EXE_infoflash"))
        .args([
            "send",
            "editions/2026-01-info-flash-22.toml",
            "--office",
            "santiago",
            "--rate",
            "1000",
        ])
        .current_dir(project.path())
        .env("INFOFLASH_UNSUBSCRIBE_KEY", KEY)
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    let message = eml_files(&project.path().join("outbox"))
        .into_iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .find(|m| m.contains("Content-Language: es"))
        .expect("a Spanish message");
    let token = unsubscribe_token(&message);
    let server = Service::start(project.path(), Some(KEY));
    let (status, page) = get(&format!("{}/unsubscribe/{token}", server.base));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<html lang=\"es\""), "{page}");
    assert!(page.contains("Oficina Regional de la UNESCO en Santiago"), "{page}");
}

/// Sends proofs of the sample edition (`send --test ADDR ARGS`) into the outbox, signed with
/// `KEY`, and returns the project with the proofs' files.
fn proofs(args: &[&str]) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let project = copy_project(&root());
    let mut all = vec![
        "send",
        "editions/2026-01-info-flash-22.toml",
        "--test",
        "editor@example.org",
    ];
    all.extend_from_slice(args);
    let sent = std::process::Command::new(env!("CARGO_BIN_EXE_infoflash"))
        .args(&all)
        .current_dir(project.path())
        .env("INFOFLASH_UNSUBSCRIBE_KEY", KEY)
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    let files = eml_files(&project.path().join("outbox"));
    (project, files)
}

#[test]
fn a_proofs_unsubscribe_link_says_it_is_a_proof_and_changes_nothing() {
    let (project, files) = proofs(&["--office", "santiago", "--language", "es"]);
    // One proof: the office's Spanish variant, filed apart from real messages.
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(project.path().join("outbox"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["2026-01-info-flash-22/test/es-santiago/1.eml"]);
    let message = std::fs::read_to_string(&files[0]).unwrap();
    assert!(message.contains("aspnet-santiago@example.org"), "not from the office");
    let token = unsubscribe_token(&message);
    let before = suppression(project.path());
    let server = Service::start(project.path(), Some(KEY));
    let url = format!("{}/unsubscribe/{token}", server.base);
    let (status, page) = get(&url);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Mensaje de prueba"), "{page}");
    assert!(!page.contains("<form"), "a proof's page offers a button: {page}");
    let (status, page) = post(&url, "List-Unsubscribe=One-Click&scope=all");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Mensaje de prueba"), "{page}");
    assert_eq!(
        suppression(project.path()),
        before,
        "a proof's link changed the suppression list"
    );
    // The same reader's token of a real message does unsubscribe: the test can fail.
    let real = Key::from_bytes(KEY.as_bytes()).token(
        Some(&"santiago".parse().unwrap()),
        &"editor@example.org".parse().unwrap(),
        today(),
    );
    let (status, _) = post(
        &format!("{}/unsubscribe/{real}", server.base),
        "List-Unsubscribe=One-Click",
    );
    assert_eq!(status, 200);
    assert!(suppression(project.path()).contains("editor@example.org"));
}

#[test]
fn a_test_send_without_language_sends_every_variant_of_the_office_with_proof_tokens() {
    let (project, files) = proofs(&["--office", "santiago"]);
    let key = Key::from_bytes(KEY.as_bytes());
    assert!(files.len() > 1, "{files:?}");
    for file in &files {
        let relative = file
            .strip_prefix(project.path().join("outbox"))
            .unwrap()
            .display()
            .to_string();
        assert!(
            relative.starts_with("2026-01-info-flash-22/test/") && relative.contains("-santiago/"),
            "{relative}"
        );
        let message = std::fs::read_to_string(file).unwrap();
        let who = key
            .verify(&unsubscribe_token(&message), today())
            .expect("a genuine token");
        assert!(who.proof, "{relative} carries a real unsubscribe token");
    }
}

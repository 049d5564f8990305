//! Several relays (`[[delivery.relays]]`) against two real smtp-sink servers: messages spread
//! by weight, each relay's own pace respected, and a relay that answers 4xx or goes down
//! part-way taken out of rotation with its messages delivered by the other, once each.

mod common;

use std::time::{Duration, SystemTime};

use common::smtp::*;

/// The project of `common::smtp::project`, sending through `relays` (TOML tables) instead of
/// its single relay.
fn project_with_relays(n: usize, relays: &str) -> tempfile::TempDir {
    let dir = project(1, n, &[("rate", "1000"), ("max_attempts", "3")]);
    let settings = std::fs::read_to_string(dir.path().join("infoflash.toml")).unwrap();
    let settings = settings.replace("relay = \"smtp://127.0.0.1:1\"\n", "");
    std::fs::write(dir.path().join("infoflash.toml"), format!("{settings}\n{relays}")).unwrap();
    dir
}

fn relay(port: u16, extra: &str) -> String {
    format!("[[delivery.relays]]\nurl = \"smtp://127.0.0.1:{port}\"\n{extra}\n")
}

fn total(sinks: &[&Sink]) -> std::collections::HashMap<String, usize> {
    let mut all = std::collections::HashMap::new();
    for sink in sinks {
        for (address, n) in sink.received() {
            *all.entry(address).or_default() += n;
        }
    }
    all
}

#[test]
fn messages_are_spread_by_weight() {
    let (a, b) = (Sink::start(&[]), Sink::start(&[]));
    let dir = project_with_relays(200, &(relay(a.port, "weight = 3") + &relay(b.port, "weight = 1")));
    let out = send(dir.path(), &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (to_a, to_b) = (a.received().len(), b.received().len());
    assert_eq!(to_a + to_b, 200);
    assert!((135..=165).contains(&to_a), "weights 3:1 gave {to_a}:{to_b}");
    assert!(total(&[&a, &b]).values().all(|&n| n == 1));
    // The summary names where it sent: both relays, not the settings' default outbox.
    let summary = common::stdout(&out);
    let both = format!(
        "sent through SMTP (smtp://127.0.0.1:{}, smtp://127.0.0.1:{})",
        a.port, b.port
    );
    assert!(summary.contains(&both), "{summary}");
}

#[test]
fn a_relay_answering_4xx_leaves_the_rotation_and_the_other_delivers_everything() {
    let good = Sink::start(&[]);
    let throttling = Sink::start(&["-r", "RCPT"]);
    let dir = project_with_relays(100, &(relay(good.port, "") + &relay(throttling.port, "")));
    let out = send(dir.path(), &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(good.received().len(), 100);
    assert!(throttling.received().is_empty());
    let s = status(dir.path());
    assert_eq!(
        (s["delivered"].as_u64(), s["deferred"].as_u64()),
        (Some(100), Some(0)),
        "{s}"
    );
}

#[test]
fn a_relay_that_goes_down_part_way_hands_its_messages_to_the_other_once_each() {
    let a = Sink::start(&[]);
    let mut b = Sink::start(&[]);
    let dir = project_with_relays(400, &(relay(a.port, "rate = 100") + &relay(b.port, "rate = 100")));
    let sender = std::thread::spawn({
        let dir = dir.path().to_path_buf();
        move || send(&dir, &[])
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while b.received().len() < 40 {
        assert!(std::time::Instant::now() < deadline, "relay b never got 40 messages");
        std::thread::sleep(Duration::from_millis(10));
    }
    b.kill();
    let out = sender.join().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let all = total(&[&a, &b]);
    assert_eq!(all.len(), 400, "someone was never delivered");
    let repeats: usize = all.values().map(|n| n - 1).sum();
    assert!(
        repeats <= 2,
        "{repeats} messages went twice: more than relay b's 2 connections in flight"
    );
    assert_eq!(status(dir.path())["delivered"].as_u64(), Some(400));
}

#[test]
fn each_relay_keeps_to_its_own_rate_while_the_other_takes_the_rest() {
    let (slow, fast) = (Sink::start(&[]), Sink::start(&[]));
    let dir = project_with_relays(150, &(relay(slow.port, "rate = 20\nburst = 2") + &relay(fast.port, "")));
    let out = send(dir.path(), &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(slow.received().len() + fast.received().len(), 150);
    let mut times: Vec<SystemTime> = std::fs::read_dir(slow.dump.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().modified().unwrap())
        .collect();
    times.sort();
    let busiest = (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t < times[i] + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        busiest <= 22,
        "the slow relay got {busiest} messages in one second (rate 20, burst 2)"
    );
    assert!(
        fast.received().len() > slow.received().len(),
        "the unlimited relay should take the rest"
    );
}

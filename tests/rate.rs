//! The global pace, measured where it matters: by the server. smtp-sink stamps every message it
//! accepts (its dump file's modification time), and the test checks the achieved rate and every
//! 1-second window against the configured rate and burst, with one connection and with eight.
//!
//! These tests live in their own test binary so that they run after the others and do not share
//! the two cores with the browser tests: the pace is what is measured, not the machine.

mod common;

use std::time::{Duration, SystemTime};

use common::smtp::*;

const RATE: usize = 100;
/// The default burst: a tenth of the rate.
const BURST: usize = RATE / 10;
const SECONDS: usize = 20;

fn arrival_times(sink: &Sink) -> Vec<SystemTime> {
    let mut times: Vec<SystemTime> = std::fs::read_dir(sink.dump.path())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().modified().unwrap())
        .collect();
    times.sort();
    times
}

/// The most messages in any window `[t, t + 1 s)` that starts at an arrival.
fn busiest_second(times: &[SystemTime]) -> usize {
    let mut end = 0;
    let mut most = 0;
    for (start, t) in times.iter().enumerate() {
        let limit = *t + Duration::from_secs(1);
        while end < times.len() && times[end] < limit {
            end += 1;
        }
        most = most.max(end - start);
    }
    most
}

/// The two pace tests take turns: each measures its own sender, not a neighbour's load.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn sends_at_the_configured_pace(connections: usize) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let sink = Sink::start(&[]);
    let n = RATE * SECONDS;
    let dir = project(
        sink.port,
        n,
        &[("rate", &RATE.to_string()), ("connections", &connections.to_string())],
    );
    // The journal on tmpfs: what is measured is the pace, not the disk's fsync stalls (a
    // WAL checkpoint on a busy shared disk can hold every worker for half a second).
    let state = tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
    let settings = std::fs::read_to_string(dir.path().join("infoflash.toml")).unwrap();
    std::fs::write(
        dir.path().join("infoflash.toml"),
        format!("{settings}state = \"{}\"\n", state.path().display()),
    )
    .unwrap();
    let out = send(dir.path(), &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let times = arrival_times(&sink);
    assert_eq!(times.len(), n);
    let span = times[n - 1].duration_since(times[0]).unwrap().as_secs_f64();
    // The burst arrives at once; the rest at the rate.
    let achieved = (n - BURST) as f64 / span;
    assert!(
        (achieved / RATE as f64 - 1.0).abs() <= 0.02,
        "{connections} connection(s): {achieved:.2} messages/s over {span:.2} s, asked for {RATE}"
    );
    let busiest = busiest_second(&times);
    eprintln!("{connections} connection(s): {achieved:.2} messages/s, busiest second {busiest}");
    assert!(
        busiest <= RATE + BURST,
        "{connections} connection(s): {busiest} messages in one second, more than {RATE} + {BURST}"
    );
}

#[test]
fn one_connection_sends_at_the_configured_rate_and_never_above_rate_plus_burst() {
    sends_at_the_configured_pace(1);
}

#[test]
fn eight_connections_share_one_pace_and_never_exceed_rate_plus_burst() {
    sends_at_the_configured_pace(8);
}

#[test]
fn the_busiest_second_counts_a_burst_in_a_sliding_window() {
    let t0 = SystemTime::UNIX_EPOCH;
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    // Five at 0.9 s and five at 1.1 s: no calendar second holds more than five, one window ten.
    let times: Vec<_> = (0..5).map(|_| at(900)).chain((0..5).map(|_| at(1100))).collect();
    assert_eq!(busiest_second(&times), 10);
    assert_eq!(busiest_second(&[at(0), at(1000), at(2000)]), 1);
}

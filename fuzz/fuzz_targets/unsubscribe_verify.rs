//! Unsubscribe tokens. Any string given to `Key::verify` is refused or accepted without a
//! panic, and only a token signed with the key is accepted. The input also drives a round
//! trip: a token made for an office, an address and a day verifies to that office and an
//! address with the same key exactly while it is at most `MAX_AGE_DAYS` old.
#![no_main]

use chrono::{Days, NaiveDate};
use infoflash::deliver::unsubscribe::{Key, MAX_AGE_DAYS};
use infoflash::types::{EmailAddress, OfficeId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = Key::from_bytes(b"0123456789abcdef0123456789abcdef");
    let today = NaiveDate::from_ymd_opt(2026, 1, 13).unwrap();
    let text = String::from_utf8_lossy(data);
    if let Some((office, address)) = key.verify(&text, today) {
        // Accepted: then it must be exactly what the key signs for some day.
        let issued = (0..=MAX_AGE_DAYS as u64)
            .map(|d| today.checked_sub_days(Days::new(d)).unwrap())
            .find(|&day| key.token(office.as_ref(), &address, day) == text);
        assert!(issued.is_some(), "accepted a token the key did not make: {text:?}");
    }
    // Another key never accepts it.
    let other = Key::from_bytes(b"another key, 32 bytes long......");
    assert_eq!(other.verify(&text, today), None, "accepted under another key: {text:?}");

    // Round trip: office \0 email \0 two bytes of issue day and two of age.
    let mut parts = text.splitn(3, '\0');
    let (Some(office), Some(email), Some(days)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    // Office ids are slugs from the settings; the international team has none.
    let office: Option<OfficeId> = match office {
        "" => None,
        id => match id.parse() {
            Ok(id) => Some(id),
            Err(_) => return,
        },
    };
    let days = days.as_bytes();
    let (Some(&a), Some(&b), Some(&c), Some(&d)) = (days.first(), days.get(1), days.get(2), days.get(3)) else {
        return;
    };
    let issued = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + Days::new(u64::from(u16::from_le_bytes([a, b])));
    let age = i64::from(u16::from_le_bytes([c, d]) % 1000) - 100;
    let on = if age >= 0 {
        issued.checked_add_days(Days::new(age as u64)).unwrap()
    } else {
        issued.checked_sub_days(Days::new((-age) as u64)).unwrap()
    };
    let Ok(address) = email.parse::<EmailAddress>() else {
        return;
    };
    let token = key.token(office.as_ref(), &address, issued);
    let verified = key.verify(&token, on);
    if (0..=MAX_AGE_DAYS).contains(&age) {
        let verified = verified.map(|(o, a)| (o, a.key().to_string()));
        assert_eq!(verified, Some((office, address.key().to_string())), "token {token:?}");
    } else {
        assert_eq!(verified, None, "an expired or future token verified: {token:?} on {on}");
    }
});

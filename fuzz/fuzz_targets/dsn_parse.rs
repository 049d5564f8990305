//! Delivery status notifications: any bytes as a message give a DSN (recipients, deliveries,
//! unreadable parts) or a reason it is not a bounce, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dsn) = infoflash::audience::bounces::parse_dsn(data) {
        for r in &dsn.recipients {
            let _ = r.address.to_string();
        }
    }
});

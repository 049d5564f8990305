//! The edition loader: any text, valid TOML or not, gives an edition or a report of
//! diagnostics (with file, line and column), never a panic. The report is also displayed, as
//! `infoflash check` would print it.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use infoflash::config::{Config, EMBEDDED};
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::parse(EMBEDDED, Path::new("infoflash.toml"), Path::new("")).expect("the embedded settings parse")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("editions/2026-01-info-flash-22.toml");
    match infoflash::edition::parse(text, path, &CONFIG.edition) {
        Ok((edition, report)) => {
            assert!(!edition.languages.is_empty(), "an edition without a language");
            let _ = report.to_string();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

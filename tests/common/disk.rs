//! A small tmpfs a test mounts (root only, as CI runs): a folder that fills up, or turns
//! read-only, under a running command.

use std::path::Path;
use std::process::Command;

/// A small tmpfs the test mounts (and unmounts when dropped): a state folder that fills up.
pub struct SmallDisk(pub tempfile::TempDir);

impl SmallDisk {
    pub fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "this test mounts a small tmpfs and needs root for it (CI runs as root)"
        );
        SmallDisk(dir)
    }

    pub fn remount_read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.0.path())
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

pub fn with_state_in(dir: &Path, state: &Path) {
    let settings = std::fs::read_to_string(dir.join("infoflash.toml")).unwrap();
    std::fs::write(
        dir.join("infoflash.toml"),
        format!("{settings}state = \"{}\"\n", state.display()),
    )
    .unwrap();
}

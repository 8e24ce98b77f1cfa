//! The data directory on disk: it holds the database, the uploads and (by default) the secret key, so only the
//! account that runs Wujia may read it (PIPL: personal data is kept from the machine's other users too).

use anyhow::{Context, Result};
use std::path::Path;

/// Creates `dir` readable by its owner only, or narrows an existing one that others could read.
pub fn prepare(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        narrow(dir, 0o700)?;
        // What an earlier version left readable to others inside it: the database files and the key.
        for name in ["wujia.db", "wujia.db-wal", "wujia.db-shm", "secret.key"] {
            let path = dir.join(name);
            if path.exists() {
                narrow(&path, 0o600)?;
            }
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(())
}

/// Makes an SQLite database file (and its journal files, once they exist) readable by its owner only.
pub fn protect_sqlite(url: &str) -> Result<()> {
    let Some(path) = url.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p)) else {
        return Ok(());
    };
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        if Path::new(&file).exists() {
            narrow(Path::new(&file), 0o600)?;
        }
    }
    Ok(())
}

/// Removes the permissions beyond `mode` that group and others hold on `path`, logging the change.
fn narrow(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.permissions();
        if current.mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .with_context(|| format!("making {} readable by its owner only", path.display()))?;
            tracing::info!(path = %path.display(), was = format!("{:o}", current.mode() & 0o777), "made readable by its owner only");
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

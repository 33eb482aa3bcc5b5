//! The recent-address list of the address entry: most recent first, no duplicates, a few
//! entries, kept in a small text file (one address a line).

use std::path::Path;

/// How many addresses are remembered.
pub const MAX_RECENT: usize = 8;

/// Longest line kept (an address is short; this stops a damaged file from filling the list).
const MAX_LINE: usize = 512;

/// Recent addresses, most recent first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recent {
    entries: Vec<String>,
}

impl Recent {
    /// Reads the file's text: blank, overlong and duplicate lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut recent = Self::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.len() > MAX_LINE || recent.entries.iter().any(|e| e == line)
            {
                continue;
            }
            if recent.entries.len() == MAX_RECENT {
                break;
            }
            recent.entries.push(line.to_owned());
        }
        recent
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut text = self.entries.join("\n");
        text.push('\n');
        text
    }

    /// Puts `entry` first (moving it if it is already there) and forgets the oldest beyond
    /// [`MAX_RECENT`].
    pub fn add(&mut self, entry: &str) {
        let entry = entry.trim();
        if entry.is_empty() || entry.len() > MAX_LINE || entry.contains('\n') {
            return;
        }
        self.entries.retain(|e| e != entry);
        self.entries.insert(0, entry.to_owned());
        self.entries.truncate(MAX_RECENT);
    }

    /// Removes `entry`.
    pub fn remove(&mut self, entry: &str) {
        self.entries.retain(|e| e != entry);
    }

    /// The addresses, most recent first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Loads the list from `path`; a missing or unreadable file is an empty list.
    pub fn load(path: &Path) -> Self {
        std::fs::read_to_string(path)
            .map(|t| Self::parse(&t))
            .unwrap_or_default()
    }

    /// Saves the list to `path`, creating its directory.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_recent_first_without_duplicates() {
        let mut r = Recent::default();
        r.add("rtsp://a/1");
        r.add("rtsp://b/2");
        r.add("  rtsp://a/1 ");
        assert_eq!(r.entries(), ["rtsp://a/1", "rtsp://b/2"]);
        for i in 0..20 {
            r.add(&format!("rtsp://h/{i}"));
        }
        assert_eq!(r.entries().len(), MAX_RECENT);
        assert_eq!(r.entries().first().map(String::as_str), Some("rtsp://h/19"));
        r.remove("rtsp://h/19");
        assert_eq!(r.entries().first().map(String::as_str), Some("rtsp://h/18"));
        r.add("");
        r.add("two\nlines");
        assert_eq!(r.entries().len(), MAX_RECENT - 1);
    }

    #[test]
    fn file_text_round_trips_and_damage_is_skipped() {
        let text = "rtsp://a/1\n\n  localhost 1300 5008 movie.Mjpeg\nrtsp://a/1\n";
        let r = Recent::parse(text);
        assert_eq!(
            r.entries(),
            ["rtsp://a/1", "localhost 1300 5008 movie.Mjpeg"]
        );
        assert_eq!(Recent::parse(&r.to_text()), r);
        let long = "x".repeat(MAX_LINE + 1);
        assert!(Recent::parse(&long).entries().is_empty());
    }

    #[test]
    fn load_and_save() {
        let dir = std::env::temp_dir().join(format!("rtsp-player-recent-{}", std::process::id()));
        let path = dir.join("sub").join("recent");
        assert!(Recent::load(&path).entries().is_empty());
        let mut r = Recent::default();
        r.add("rtsp://x/y");
        r.save(&path).unwrap();
        assert_eq!(Recent::load(&path), r);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

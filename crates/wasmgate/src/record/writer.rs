//! Writes a HAR file that is complete after every entry.
//!
//! The file always ends with the closing `]}}` of the document. Each new entry is written
//! over that tail, with the tail after it, in one write: a run that ends by `--timeout`,
//! a trap or Ctrl-C (the process exits between two writes) leaves a valid HAR file with
//! every entry finished so far. Memory: one serialised entry at a time, never the whole
//! document.

use super::har::{Creator, Entry};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What closes the document; every append overwrites it and writes it again.
const TAIL: &[u8] = b"\n]}}\n";

/// An open HAR file, positioned before its tail.
pub(crate) struct HarWriter {
    file: File,
    path: PathBuf,
    /// Whether an entry was written (the next one needs a separating comma).
    any: bool,
}

impl HarWriter {
    /// Creates (or truncates) `path` with a complete document holding `entries`.
    pub(crate) fn create(path: &Path, entries: &[Entry]) -> std::io::Result<Self> {
        let mut file = File::create(path)?;
        let creator = Creator {
            name: "wasmgate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        };
        let head = format!(
            "{{\"log\":{{\"version\":\"1.2\",\"creator\":{},\"entries\":[",
            serde_json::to_string(&creator).map_err(std::io::Error::other)?
        );
        file.write_all(head.as_bytes())?;
        file.write_all(TAIL)?;
        file.flush()?;
        let mut writer = Self {
            file,
            path: path.to_path_buf(),
            any: false,
        };
        for e in entries {
            writer.append(e)?;
        }
        Ok(writer)
    }

    /// Writes `entry` over the tail, then the tail again, in one write.
    pub(crate) fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        let json = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        let mut chunk = Vec::with_capacity(json.len() + TAIL.len() + 2);
        chunk.extend_from_slice(if self.any { b",\n" } else { b"\n" });
        chunk.extend_from_slice(&json);
        chunk.extend_from_slice(TAIL);
        self.file.seek(SeekFrom::End(-(TAIL.len() as i64)))?;
        self.file.write_all(&chunk)?;
        self.file.flush()?;
        self.any = true;
        Ok(())
    }

    /// The file's path, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::har::Har;

    fn entry(url: &str) -> Entry {
        let json = serde_json::json!({
            "startedDateTime": "2026-01-01T00:00:00.000Z",
            "time": 1.5,
            "request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1",
                "cookies": [], "headers": [], "queryString": [], "headersSize": -1, "bodySize": 0},
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                "cookies": [], "headers": [], "content": {"size": 0, "mimeType": ""},
                "redirectURL": "", "headersSize": -1, "bodySize": 0},
            "cache": {},
            "timings": {"send": 0, "wait": 1, "receive": 0.5}
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_file_is_a_complete_document_after_every_entry() {
        let dir = std::env::temp_dir().join(format!("wasmgate-har-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.har");
        let mut w = HarWriter::create(&path, &[]).unwrap();
        let read = || -> Har { serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap() };
        assert_eq!(read().log.entries.len(), 0);
        assert_eq!(read().log.version, "1.2");
        w.append(&entry("http://a/1")).unwrap();
        assert_eq!(read().log.entries.len(), 1);
        w.append(&entry("http://a/2")).unwrap();
        let har = read();
        assert_eq!(har.log.entries[1].request.url, "http://a/2");
        drop(w);
        // Continuing a file: what it had, then more.
        let mut w = HarWriter::create(&path, &har.log.entries).unwrap();
        w.append(&entry("http://a/3")).unwrap();
        assert_eq!(read().log.entries.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

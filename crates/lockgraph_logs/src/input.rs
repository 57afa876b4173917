//! Inputs: opening (plain, gzip, zstd), ordering rotated sets, and bounded line reading.

use crate::Error;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Longest line kept; the rest of a longer line is skipped (and a warning counted).
pub const MAX_LINE: usize = 1 << 20;

const BUF: usize = 256 * 1024;

/// Opens a log for reading: `-` is standard input; gzip (`1f 8b`) and zstd (`28 b5 2f fd`) are
/// recognised by their magic bytes, whatever the file is called; anything else is read as is.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>, Error> {
    let open_err = |e: io::Error| Error::Open {
        path: path.display().to_string(),
        source: e,
    };
    if path.as_os_str() == "-" {
        return wrap(Box::new(BufReader::with_capacity(BUF, io::stdin())), path);
    }
    let file = File::open(path).map_err(open_err)?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(open_err(io::Error::other("is a directory")));
    }
    wrap(Box::new(BufReader::with_capacity(BUF, file)), path)
}

fn wrap(mut inner: Box<dyn BufRead + Send>, path: &Path) -> Result<Box<dyn BufRead + Send>, Error> {
    let head = loop {
        match inner.fill_buf() {
            Ok(b) => break b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Open {
                    path: path.display().to_string(),
                    source: e,
                });
            }
        }
    };
    if head.starts_with(&[0x1f, 0x8b]) {
        let dec = flate2::bufread::MultiGzDecoder::new(inner);
        return Ok(Box::new(Prefetch::spawn(dec)));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let dec = zstd::stream::read::Decoder::with_buffer(inner).map_err(|e| Error::Open {
            path: path.display().to_string(),
            source: e,
        })?;
        return Ok(Box::new(Prefetch::spawn(dec)));
    }
    // Plain text too: copying from the page cache is a third of the work of a fast parse.
    Ok(Box::new(Prefetch::spawn(inner)))
}

/// Reads (and decompresses) on a thread of its own, a few chunks ahead of the parser, so that
/// reading, decompression and parsing use both cores. Dropping it stops the thread.
struct Prefetch {
    chunks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    spare: std::sync::mpsc::SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Prefetch {
    fn spawn(mut source: impl Read + Send + 'static) -> Prefetch {
        let (chunk_tx, chunks) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
        let (spare, spare_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        std::thread::spawn(move || {
            loop {
                let mut chunk = spare_rx.try_recv().unwrap_or_default();
                chunk.resize(BUF, 0);
                let mut filled = 0;
                // Fill the chunk (decoders return little at a time).
                let result = loop {
                    match source.read(&mut chunk[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == chunk.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                chunk.truncate(filled);
                let end = filled == 0 || result.is_err();
                if filled > 0 && chunk_tx.send(Ok(chunk)).is_err() {
                    return;
                }
                if let Err(e) = result {
                    let _ = chunk_tx.send(Err(e));
                }
                if end {
                    return;
                }
            }
        });
        Prefetch {
            chunks,
            spare,
            current: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Prefetch {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.current.len() && !self.done {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    let old = std::mem::replace(&mut self.current, chunk);
                    let _ = self.spare.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        Ok(&self.current[self.pos.min(self.current.len())..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.current.len());
    }
}

/// Orders log files oldest first: by the first timestamp in each file when every file has one
/// (read from the first lines, any format), else by name with rotation suffixes understood —
/// `postgresql.log.2.gz`, `postgresql.log.1`, `postgresql.log` — and PostgreSQL's dated names
/// (`postgresql-2024-05-01_000000.log`) sorting as they read. `-` (stdin) is never opened here.
pub fn order_inputs(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    /// First timestamp, name key, path.
    type Keyed = (Option<f64>, (String, u64, String), PathBuf);
    let mut keyed: Vec<Keyed> = paths
        .into_iter()
        .map(|p| {
            let ts = if p.as_os_str() == "-" {
                None
            } else {
                first_timestamp(&p)
            };
            (ts, name_key(&p), p)
        })
        .collect();
    let all_ts = keyed.iter().all(|k| k.0.is_some());
    keyed.sort_by(|a, b| {
        let by_name = || a.1.cmp(&b.1);
        if all_ts {
            a.0.unwrap_or(0.0)
                .total_cmp(&b.0.unwrap_or(0.0))
                .then_with(by_name)
        } else {
            by_name()
        }
    });
    keyed.into_iter().map(|k| k.2).collect()
}

/// (base name, reversed rotation number, full name): `x.log.2.gz` sorts before `x.log.1`, before
/// `x.log`.
fn name_key(p: &Path) -> (String, u64, String) {
    let full = p.to_string_lossy().into_owned();
    let mut base = full.as_str();
    for ext in [".gz", ".zst", ".zstd", ".bz2", ".xz"] {
        if let Some(b) = base.strip_suffix(ext) {
            base = b;
            break;
        }
    }
    let mut rotation = 0u64;
    if let Some(dot) = base.rfind('.') {
        let n = &base[dot + 1..];
        if !n.is_empty() && n.len() <= 6 && n.bytes().all(|c| c.is_ascii_digit()) {
            rotation = n.parse().unwrap_or(0);
            base = &base[..dot];
        }
    }
    (base.to_string(), u64::MAX - rotation, full)
}

/// The first timestamp of a log, as seconds (time zone ignored: one server writes one zone).
fn first_timestamp(p: &Path) -> Option<f64> {
    let mut r = open_input(p).ok()?;
    let mut line = Vec::new();
    for _ in 0..200 {
        line.clear();
        let n = r
            .by_ref()
            .take(64 * 1024)
            .read_until(b'\n', &mut line)
            .ok()?;
        if n == 0 {
            return None;
        }
        let head = &line[..line.len().min(512)];
        for start in 0..head.len().saturating_sub(18) {
            if head[start].is_ascii_digit()
                && (start == 0 || !head[start - 1].is_ascii_digit())
                && let Some(s) = seconds(&head[start..])
            {
                return Some(s);
            }
        }
    }
    None
}

/// `YYYY-MM-DD HH:MM:SS[.fff]` → seconds since 1970 (proleptic Gregorian, no zone).
pub(crate) fn seconds(b: &[u8]) -> Option<f64> {
    let end = crate::prefix::parse_timestamp(b, 0)?;
    let s = std::str::from_utf8(&b[..end]).ok()?;
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac: f64 = s
        .get(19..)
        .and_then(|r| r.split(' ').next())
        .filter(|f| f.starts_with('.'))
        .and_then(|f| format!("0{f}").parse().ok())
        .unwrap_or(0.0);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + se) as f64 + frac)
}

/// What [`LineReader::next_line`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineInfo {
    /// 1-based line number.
    pub number: u32,
    /// The line was longer than [`MAX_LINE`] and was cut.
    pub truncated: bool,
}

/// Reads lines from a `BufRead` into a reused buffer, never holding more than [`MAX_LINE`] bytes
/// of one line. A read error is reported after the bytes read before it.
pub(crate) struct LineReader<R> {
    inner: R,
    line: u32,
    pub bytes: u64,
    pending_error: Option<io::Error>,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineReader {
            inner,
            line: 0,
            bytes: 0,
            pending_error: None,
            done: false,
        }
    }

    /// Numbers the next line `first` (reading from the middle of a file).
    pub(crate) fn start_at(&mut self, first: u32) {
        self.line = first.saturating_sub(1);
    }

    /// The number of the last line read.
    pub(crate) fn line(&self) -> u32 {
        self.line
    }

    /// Reads the next line (without `\n` or `\r\n`) into `buf`.
    pub(crate) fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineInfo>> {
        buf.clear();
        if let Some(e) = self.pending_error.take() {
            self.done = true;
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let mut any = false;
        let mut truncated = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if any {
                        self.pending_error = Some(e);
                        break;
                    }
                    self.done = true;
                    return Err(e);
                }
            };
            if avail.is_empty() {
                if !any {
                    self.done = true;
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (take, used, found) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, i + 1, true),
                None => (avail.len(), avail.len(), false),
            };
            let room = MAX_LINE.saturating_sub(buf.len());
            if take > room {
                truncated = true;
            }
            buf.extend_from_slice(&avail[..take.min(room)]);
            self.inner.consume(used);
            self.bytes += used as u64;
            if found {
                break;
            }
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        self.line = self.line.saturating_add(1);
        Ok(Some(LineInfo {
            number: self.line,
            truncated,
        }))
    }
}

impl<R: BufRead> LineReader<R> {
    /// Calls `f` with every remaining line (without `\n` or `\r\n`), straight from the reader's
    /// buffer when the line is whole in it (no copy). A read error ends the input after the
    /// bytes read before it.
    pub(crate) fn for_each_line(&mut self, mut f: impl FnMut(&[u8], LineInfo)) -> io::Result<()> {
        if self.done {
            return Ok(());
        }
        let mut carry: Vec<u8> = Vec::new();
        let mut carry_truncated = false;
        let mut in_carry = false;
        let line = &mut self.line;
        let mut emit = |bytes: &[u8], truncated: bool| {
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            *line = line.saturating_add(1);
            f(
                bytes,
                LineInfo {
                    number: *line,
                    truncated,
                },
            );
        };
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if in_carry {
                        emit(&carry, carry_truncated);
                    }
                    self.done = true;
                    return Err(e);
                }
            };
            if avail.is_empty() {
                if in_carry {
                    emit(&carry, carry_truncated);
                }
                self.done = true;
                return Ok(());
            }
            let n = avail.len();
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', avail) {
                if in_carry {
                    let room = MAX_LINE.saturating_sub(carry.len());
                    carry_truncated |= nl > room;
                    carry.extend_from_slice(&avail[..nl.min(room)]);
                    emit(&carry, carry_truncated);
                    carry.clear();
                    carry_truncated = false;
                    in_carry = false;
                } else if nl - start > MAX_LINE {
                    emit(&avail[start..start + MAX_LINE], true);
                } else {
                    emit(&avail[start..nl], false);
                }
                start = nl + 1;
            }
            if start < n {
                let rest = &avail[start..];
                let room = MAX_LINE.saturating_sub(carry.len());
                carry_truncated |= rest.len() > room;
                carry.extend_from_slice(&rest[..rest.len().min(room)]);
                in_carry = true;
            }
            self.bytes += n as u64;
            self.inner.consume(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lines_crlf_and_overlong() {
        let mut data = b"a\r\nb\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        data.extend_from_slice(b"\nlast");
        let mut r = LineReader::new(io::BufReader::with_capacity(1000, &data[..]));
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(info) = r.next_line(&mut buf).unwrap() {
            got.push((info.number, buf.len(), info.truncated));
        }
        assert_eq!(
            got,
            vec![
                (1, 1, false),
                (2, 1, false),
                (3, MAX_LINE, true),
                (4, 4, false)
            ]
        );
        assert_eq!(r.bytes, data.len() as u64);
    }

    #[test]
    fn compressed_inputs_by_magic() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"2024-05-01 12:00:00 UTC [1] LOG:  x\n";
        let gz = dir.path().join("a.log.1"); // no .gz name on purpose
        let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), Default::default());
        enc.write_all(text).unwrap();
        enc.finish().unwrap();
        let zst = dir.path().join("b.zst");
        std::fs::write(&zst, zstd::encode_all(&text[..], 3).unwrap()).unwrap();
        for p in [&gz, &zst] {
            let mut s = String::new();
            open_input(p).unwrap().read_to_string(&mut s).unwrap();
            assert_eq!(s.as_bytes(), text);
        }
        // Many chunks through the decompressing thread, byte for byte.
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i} {}\n", i.wrapping_mul(2_654_435_761)).into_bytes())
            .collect();
        let gz = dir.path().join("big.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), Default::default());
        enc.write_all(&big).unwrap();
        enc.finish().unwrap();
        let mut got = Vec::new();
        open_input(&gz).unwrap().read_to_end(&mut got).unwrap();
        assert!(got == big, "{} vs {} bytes", got.len(), big.len());
        assert!(open_input(&dir.path().join("missing")).is_err());
        assert!(open_input(dir.path()).is_err());
    }

    #[test]
    fn rotated_sets_in_time_order() {
        let names = [
            "postgresql.log",
            "postgresql.log.1",
            "postgresql.log.2.gz",
            "postgresql.log.10",
        ];
        let got = order_inputs(names.iter().map(PathBuf::from).collect());
        let got: Vec<String> = got.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            got,
            vec![
                "postgresql.log.10",
                "postgresql.log.2.gz",
                "postgresql.log.1",
                "postgresql.log"
            ]
        );
        // With timestamps, content wins over names.
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        let b = dir.path().join("b.csv");
        std::fs::write(&a, "2024-05-02 00:00:00.000 UTC [1] LOG:  later\n").unwrap();
        std::fs::write(&b, "2024-05-01 23:59:59.999 UTC,\"u\",\"d\",1\n").unwrap();
        assert_eq!(order_inputs(vec![a.clone(), b.clone()]), vec![b, a]);
    }

    #[test]
    fn civil_seconds() {
        assert_eq!(seconds(b"1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(seconds(b"2000-03-01 00:00:01.5 UTC"), Some(951_868_801.5));
    }
}

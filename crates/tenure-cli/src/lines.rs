//! Reading request lines in constant memory.

use std::io::{self, BufRead, Read};

/// Longest request line accepted, in bytes (newline excluded): room for an identity and
/// a resource at their own size limit each, plus framing.
pub(crate) const MAX_LINE_BYTES: usize = 2 * tenure::limits::MAX_ENTITY_JSON_BYTES + 64 * 1024;

/// One line read by [`Lines`].
pub(crate) enum LineText<'a> {
    /// The line, without its line ending.
    Text(&'a str),
    /// Longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// Not UTF-8.
    NotUtf8,
}

/// Reads lines one at a time into one reused buffer, never holding more than
/// [`MAX_LINE_BYTES`] + 1 bytes of a line.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    /// How many lines have been read.
    number: usize,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line with its 1-based number, or `None` at the end of input.
    pub(crate) fn next_line(&mut self) -> Option<(usize, io::Result<LineText<'_>>)> {
        self.buf.clear();
        let limit = (MAX_LINE_BYTES + 2) as u64; // the line, "\r\n"
        let read = match (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
        {
            Ok(0) => return None,
            Ok(read) => read,
            Err(e) => return Some((self.number + 1, Err(e))),
        };
        self.number += 1;
        let mut line: &[u8] = &self.buf[..read];
        let complete = line.ends_with(b"\n");
        if complete {
            line = &line[..line.len() - 1];
        }
        if line.ends_with(b"\r") {
            line = &line[..line.len() - 1];
        }
        // A byte-order mark may start the file (editors on Windows write one).
        if self.number == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        let text = if line.len() > MAX_LINE_BYTES {
            LineText::TooLong
        } else {
            match std::str::from_utf8(line) {
                Ok(text) => LineText::Text(text),
                Err(_) => LineText::NotUtf8,
            }
        };
        Some((self.number, Ok(text)))
    }
}

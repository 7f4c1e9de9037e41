//! The log lines of the logs view, laid out for a million lines: messages live in one text
//! arena with an ASCII-lowercased twin (same byte offsets), so filtering is a scan of one string
//! and drawing a frame borrows slices instead of cloning lines.

use crate::model::LogLine;

#[derive(Debug, Default)]
pub struct LogBuffer {
    times: Vec<f64>,
    streams: Vec<u32>,
    stream_names: Vec<String>,
    text: String,
    lower: String,
    /// Byte offset where each line starts in `text` (lines end with `\n`); one extra entry
    /// marks the end.
    starts: Vec<usize>,
    /// Lines passing the filter, as indices into the buffer.
    visible: Vec<u32>,
    filter: String,
}

/// Grows by at least a quarter, not double: with a million lines the slack of doubling would
/// cost more than the memory budget.
fn grow_string(s: &mut String, extra: usize) {
    let need = s.len() + extra;
    if need > s.capacity() {
        let target = need.max(s.capacity() + s.capacity() / 4);
        s.reserve_exact(target - s.len());
    }
}

fn grow_vec<T>(v: &mut Vec<T>, extra: usize) {
    let need = v.len() + extra;
    if need > v.capacity() {
        let target = need.max(v.capacity() + v.capacity() / 4);
        v.reserve_exact(target - v.len());
    }
}

/// Words that make a line count as an error for "jump to first error".
const ERROR_WORDS: [&str; 4] = ["error", "fail", "exception", "fatal"];

impl LogBuffer {
    pub fn new() -> Self {
        Self {
            starts: vec![0],
            ..Self::default()
        }
    }

    pub fn clear(&mut self) {
        *self = LogBuffer::new();
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Appends lines (oldest first); the filter is applied to the new ones only.
    pub fn extend<I: IntoIterator<Item = LogLine>>(&mut self, lines: I) {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        let lines: Vec<LogLine> = lines.into_iter().collect();
        let bytes: usize = lines.iter().map(|l| l.message.len() + 1).sum();
        grow_string(&mut self.text, bytes);
        grow_string(&mut self.lower, bytes);
        grow_vec(&mut self.times, lines.len());
        grow_vec(&mut self.streams, lines.len());
        grow_vec(&mut self.starts, lines.len());
        if self.filter.is_empty() {
            grow_vec(&mut self.visible, lines.len());
        }
        for line in lines {
            let stream = match self.stream_names.iter().rposition(|s| *s == line.stream) {
                Some(i) => i as u32,
                None => {
                    self.stream_names.push(line.stream);
                    (self.stream_names.len() - 1) as u32
                }
            };
            let index = self.times.len() as u32;
            self.times.push(line.t);
            self.streams.push(stream);
            // Newlines inside a message would break the one-row-per-line layout; a newline
            // between lines keeps a filter match from spanning two of them.
            let message = line.message.trim_end_matches(['\n', '\r']);
            let lower_start = self.lower.len();
            if message.contains('\n') {
                let flat = message.replace(['\n', '\r'], " ");
                self.text.push_str(&flat);
                self.lower.push_str(&flat);
            } else {
                self.text.push_str(message);
                self.lower.push_str(message);
            }
            self.lower[lower_start..].make_ascii_lowercase();
            let matched =
                self.filter.is_empty() || self.lower[lower_start..].contains(&self.filter);
            self.text.push('\n');
            self.lower.push('\n');
            self.starts.push(self.text.len());
            if matched {
                self.visible.push(index);
            }
        }
    }

    /// Keeps only lines containing `filter` (case-insensitive for ASCII).
    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_ascii_lowercase();
        self.visible.clear();
        if self.filter.is_empty() {
            self.visible.extend(0..self.times.len() as u32);
            return;
        }
        // One pass over the arena: find each occurrence, map it to its line, skip to the next
        // line — far faster than a search per line when matches are rare.
        let mut from = 0;
        while let Some(pos) = self.lower[from..].find(&self.filter) {
            let at = from + pos;
            let line = self.starts.partition_point(|s| *s <= at) - 1;
            self.visible.push(line as u32);
            from = self.starts[line + 1];
            if from >= self.lower.len() {
                break;
            }
        }
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Number of lines passing the filter.
    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    /// The `n`-th visible line: (time, stream, message), borrowed.
    pub fn visible(&self, n: usize) -> Option<(f64, &str, &str)> {
        let i = *self.visible.get(n)? as usize;
        Some(self.line(i))
    }

    fn line(&self, i: usize) -> (f64, &str, &str) {
        let stream = self
            .stream_names
            .get(self.streams[i] as usize)
            .map_or("", String::as_str);
        (
            self.times[i],
            stream,
            &self.text[self.starts[i]..self.starts[i + 1] - 1],
        )
    }

    fn visible_lower(&self, n: usize) -> &str {
        let i = self.visible[n] as usize;
        &self.lower[self.starts[i]..self.starts[i + 1] - 1]
    }

    /// The next visible line at or after `from` (wrapping) whose text contains `needle`.
    pub fn find(&self, needle: &str, from: usize, forward: bool) -> Option<usize> {
        let needle = needle.to_ascii_lowercase();
        let n = self.visible.len();
        if needle.is_empty() || n == 0 {
            return None;
        }
        (0..n)
            .map(|k| {
                if forward {
                    (from + k) % n
                } else {
                    (from + n - k % n) % n
                }
            })
            .find(|&v| self.visible_lower(v).contains(&needle))
    }

    /// The first visible line that looks like an error.
    pub fn first_error(&self) -> Option<usize> {
        (0..self.visible.len()).find(|&v| {
            ERROR_WORDS
                .iter()
                .any(|w| self.visible_lower(v).contains(w))
        })
    }

    /// All visible lines as text, for saving to a file.
    pub fn export(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.visible.len() * 32);
        for n in 0..self.visible.len() {
            if let Some((t, stream, msg)) = self.visible(n) {
                out.push_str(&format!(
                    "{}\t{stream}\t{msg}\n",
                    super::format::timestamp(t)
                ));
            }
        }
        out
    }

    /// Heap bytes held (arenas and indices), for the memory budget of big logs.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.lower.capacity()
            + self.times.capacity() * size_of::<f64>()
            + self.streams.capacity() * size_of::<u32>()
            + self.starts.capacity() * size_of::<usize>()
            + self.visible.capacity() * size_of::<u32>()
            + self
                .stream_names
                .iter()
                .map(|s| s.capacity() + size_of::<String>())
                .sum::<usize>()
    }

    /// Time of the newest line, to ask only for newer ones when following.
    pub fn newest(&self) -> Option<f64> {
        self.times.last().copied()
    }
}

//! Comment removal, one physical line at a time, exactly as `config_text_file_load` does it.
//!
//! `;` starts a comment to the end of the line, `\;` is a literal semicolon (the backslash goes), `;--` opens a
//! block comment that nests (up to 128 levels) and `--;` closes one. Asterisk works on a C string with
//! `memmove`; this module works on a byte vector the same way, so quirks carry over: a `--;` outside any block
//! comment drives the nesting count below zero and Asterisk then ignores every following line until a `;--`.

use memchr::memchr;

/// Asterisk's `MAX_NESTED_COMMENTS`.
pub(crate) const MAX_NESTED_COMMENTS: usize = 128;

/// Comment nesting carried from line to line.
#[derive(Debug, Default)]
pub(crate) struct CommentState {
    depth: i32,
    /// Line where each open block comment started.
    starts: Vec<u32>,
}

/// Something noteworthy found while stripping a line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CommentEvent {
    /// `--;` outside a block comment.
    StrayEnd,
    /// `;--` beyond the nesting limit.
    TooDeep,
}

impl CommentState {
    /// Line where the innermost open block comment started, if one is open at end of file.
    pub(crate) fn unterminated(&self) -> Option<u32> {
        if self.depth > 0 {
            self.starts.last().copied()
        } else {
            None
        }
    }

    /// True when the next line starts inside a comment.
    pub(crate) fn in_comment(&self) -> bool {
        self.depth != 0
    }

    /// Strips comments from `line` (without its newline). Returns the text Asterisk processes, if any, and
    /// what went wrong.
    pub(crate) fn strip<'a>(
        &mut self,
        line: &'a [u8],
        lineno: u32,
        events: &mut Vec<CommentEvent>,
    ) -> Option<std::borrow::Cow<'a, [u8]>> {
        // Fast path: nothing to do on a line without ';' outside a block comment.
        if self.depth == 0 && memchr(b';', line).is_none() {
            return Some(std::borrow::Cow::Borrowed(line));
        }
        if self.depth != 0 && memchr(b';', line).is_none() {
            return None;
        }
        // A C string: the bytes and a terminating NUL.
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line);
        buf.push(0);
        let mut process: Option<usize> = if self.depth != 0 { None } else { Some(0) };
        let mut next = 0usize;
        let at = |buf: &Vec<u8>, i: usize| buf.get(i).copied().unwrap_or(0);
        while let Some(cp) = strchr(&buf, next, b';') {
            if cp > next && buf[cp - 1] == b'\\' {
                // Escaped semicolon: drop the backslash and go on after the ';'.
                buf.remove(cp - 1);
                next = cp;
            } else if at(&buf, cp + 1) == b'-'
                && at(&buf, cp + 2) == b'-'
                && at(&buf, cp + 3) != b'-'
            {
                if (self.depth as i64) < MAX_NESTED_COMMENTS as i64 {
                    buf[cp] = 0;
                    next = cp + 3;
                    self.depth += 1;
                    self.starts.push(lineno);
                } else {
                    // Asterisk loops forever here; we log and treat the ';' as a plain character.
                    events.push(CommentEvent::TooDeep);
                    next = cp + 1;
                }
            } else if cp >= next + 2 && buf[cp - 1] == b'-' && buf[cp - 2] == b'-' {
                if self.depth <= 0 {
                    events.push(CommentEvent::StrayEnd);
                }
                self.depth -= 1;
                self.starts.pop();
                next = cp + 1;
                if self.depth == 0 {
                    match process {
                        Some(start) => {
                            // Move what follows the comment over the end of what preceded it.
                            let old_end = start + strlen(&buf, start);
                            let tail_len = strlen(&buf, next) + 1;
                            let tail = buf[next..next + tail_len].to_vec();
                            buf.truncate(old_end);
                            buf.extend_from_slice(&tail);
                            next = old_end;
                        }
                        None => process = Some(next),
                    }
                }
            } else if self.depth == 0 {
                // A plain comment: the line ends here.
                buf[cp] = 0;
                break;
            } else {
                next = cp + 1;
            }
        }
        let start = process?;
        let len = strlen(&buf, start);
        buf.truncate(start + len);
        buf.drain(..start);
        Some(std::borrow::Cow::Owned(buf))
    }
}

fn strchr(buf: &[u8], from: usize, wanted: u8) -> Option<usize> {
    let slice = buf.get(from..)?;
    let end = memchr(0, slice).unwrap_or(slice.len());
    memchr(wanted, &slice[..end]).map(|i| from + i)
}

fn strlen(buf: &[u8], from: usize) -> usize {
    let slice = &buf[from..];
    memchr(0, slice).unwrap_or(slice.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&str]) -> (Vec<Option<String>>, Vec<CommentEvent>, CommentState) {
        let mut state = CommentState::default();
        let mut events = Vec::new();
        let out = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                state
                    .strip(l.as_bytes(), i as u32 + 1, &mut events)
                    .map(|b| String::from_utf8(b.into_owned()).unwrap())
            })
            .collect();
        (out, events, state)
    }

    #[test]
    fn line_comment_and_escape() {
        let (out, ev, _) = run(&["a = b ; c", "p = s3cr\\;et ; x", "; whole", "plain"]);
        assert_eq!(
            out,
            [
                Some("a = b ".into()),
                Some("p = s3cr;et ".into()),
                Some("".into()),
                Some("plain".into())
            ]
        );
        assert!(ev.is_empty());
    }

    #[test]
    fn block_comments_span_lines_and_nest() {
        let (out, ev, state) = run(&[
            "a=1 ;-- start",
            "type=bogus ;-- nested",
            "still --; inside",
            "x --; b=2",
            "c=3",
        ]);
        assert_eq!(
            out,
            [
                Some("a=1 ".into()),
                None,
                None,
                Some(" b=2".into()),
                Some("c=3".into())
            ]
        );
        assert!(ev.is_empty());
        assert_eq!(state.unterminated(), None);
    }

    #[test]
    fn block_comment_inside_one_line() {
        let (out, _, _) = run(&["key = ;-- hidden --; value"]);
        assert_eq!(out, [Some("key =  value".into())]);
    }

    #[test]
    fn separator_lines_are_line_comments() {
        let (out, ev, state) = run(&[";----------;", "a=1 ;--- not a block", "b=2"]);
        assert_eq!(
            out,
            [Some("".into()), Some("a=1 ".into()), Some("b=2".into())]
        );
        assert!(ev.is_empty());
        assert!(!state.in_comment());
    }

    #[test]
    fn stray_end_hides_following_lines_like_asterisk() {
        let (out, ev, _) = run(&["x--;y", "a=1", ";-- reopen", "b=2"]);
        assert_eq!(out[0].as_deref(), Some("x--;y"));
        assert_eq!(out[1], None);
        assert_eq!(out[2], None);
        assert_eq!(out[3].as_deref(), Some("b=2"));
        assert_eq!(ev, [CommentEvent::StrayEnd]);
    }

    #[test]
    fn unterminated_is_reported() {
        let (_, _, state) = run(&["a=1", ";-- open", "b"]);
        assert_eq!(state.unterminated(), Some(2));
    }

    #[test]
    fn nesting_limit_does_not_hang() {
        let line = ";--".repeat(200);
        let (_, ev, _) = run(&[&line]);
        assert!(ev.contains(&CommentEvent::TooDeep));
    }
}

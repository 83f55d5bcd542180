//! func_sprintf.c: `SPRINTF(format,arg1[,arg2...])`, up to 100 arguments (the last takes the rest of the
//! text, commas included).
//!
//! The format is scanned with func_sprintf.c's state machine: a `%`, flags from `#0- +'I`, a width, a
//! precision, a length modifier (`h`, `hh`, `l`, `ll`, `L`, `q`, `j`, `z`, `t`) and a conversion. `d i o u
//! x X c` read their argument with `%30d`, `e E f F g G a A` with `%30lf`, `s` takes it as it is, `%%` is a
//! `%`; each conversion is then formatted by `snprintf` ([`super::printf`]). An argument that is not a
//! number, a missing one for a number, or any other conversion (`*` widths included) fails the call. A
//! conversion that writes a NUL (`%c` of 0) ends there, since Asterisk continues at the first NUL.

use super::printf::{self, Spec};
use super::{Call, Outcome, arg, scan};
use crate::asterisk::args::separate_args;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    Flag,
    Width,
    Precision,
    Length,
    Conversion,
}

/// `SPRINTF(format,args...)`.
pub(crate) fn sprintf(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 101);
    let format = arg(&args, 0);
    let values = args.get(1..).unwrap_or_default();
    let limit = call.len().saturating_sub(1);
    let mut text: Vec<u8> = Vec::new();
    let mut next_value = 0usize;
    let mut state = State::Text;
    let mut start = 0usize;
    let mut i = 0usize;
    while i < format.len() {
        let c = format[i];
        let mut current = state;
        // Each state may hand the same byte on to the next one, as the C switch falls through.
        loop {
            match current {
                State::Text => {
                    if c == b'%' {
                        state = State::Flag;
                        start = i;
                    } else {
                        text.push(c);
                    }
                    break;
                }
                State::Flag => {
                    if b"#0- +'I".contains(&c) {
                        break;
                    }
                    state = State::Width;
                    current = State::Width;
                }
                State::Width => {
                    if !c.is_ascii_digit() {
                        state = if c == b'.' {
                            State::Precision
                        } else {
                            State::Length
                        };
                        if c != b'.' {
                            current = State::Length;
                            continue;
                        }
                    }
                    break;
                }
                State::Precision => {
                    if c.is_ascii_digit() {
                        break;
                    }
                    state = State::Length;
                    current = State::Length;
                }
                State::Length => {
                    if c == b'h' || c == b'l' {
                        if format.get(i + 1) == Some(&c) {
                            i += 1;
                        }
                        state = State::Conversion;
                        break;
                    }
                    if b"Lqjzt".contains(&c) {
                        state = State::Conversion;
                        break;
                    }
                    state = State::Conversion;
                    current = State::Conversion;
                }
                State::Conversion => {
                    let spec_text = &format[start..=i];
                    let piece = if b"diouxXc".contains(&c) {
                        let Some(value) = values.get(next_value) else {
                            call.issue("SPRINTF() has more format specifiers than arguments!");
                            return Ok(false);
                        };
                        next_value += 1;
                        let Some((number, _)) = scan::int(value, 30) else {
                            call.issue(
                                "SPRINTF: an argument is not an integer number for its format",
                            );
                            return Ok(false);
                        };
                        Spec::parse(spec_text).map(|s| printf::int(&s, number, limit))
                    } else if b"eEfFgGaA".contains(&c) {
                        let Some(value) = values.get(next_value) else {
                            call.issue("SPRINTF() has more format specifiers than arguments!");
                            return Ok(false);
                        };
                        next_value += 1;
                        let Some(number) = scan::double(value) else {
                            call.issue(
                                "SPRINTF: an argument is not a floating point number for its format",
                            );
                            return Ok(false);
                        };
                        Spec::parse(spec_text).map(|s| printf::double(&s, number, limit))
                    } else if c == b's' {
                        let value = values.get(next_value).map(Vec::as_slice);
                        next_value += 1;
                        Spec::parse(spec_text).map(|s| printf::string(&s, value, limit))
                    } else if c == b'%' {
                        Some(b"%".to_vec())
                    } else {
                        call.issue("SPRINTF: format type not supported");
                        return Ok(false);
                    };
                    let Some(mut piece) = piece else {
                        call.issue("SPRINTF: format type not supported");
                        return Ok(false);
                    };
                    if let Some(nul) = memchr::memchr(0, &piece) {
                        piece.truncate(nul);
                    }
                    text.extend_from_slice(&piece);
                    state = State::Text;
                    break;
                }
            }
        }
        if text.len() > limit {
            text.truncate(limit);
        }
        i += 1;
    }
    out.extend_from_slice(&text);
    Ok(true)
}

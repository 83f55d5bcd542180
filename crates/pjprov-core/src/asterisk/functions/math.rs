//! func_math.c: `MATH`, `INC`, `DEC`, `MIN`, `MAX`, `ABS`, `DIGIT_SUM`.
//!
//! `MATH(number1 op number2[,type])` finds *one* operator, in this order: `*`, `/`, `%`, `^`, `AND`, `XOR`,
//! `OR`, `>` (`>=`, `>>`), `<` (`<=`, `<<`), `==`, `+`, `-` — the first of those present, wherever it is,
//! after a leading `-` of the first number has been set aside. Both sides are read with `%30lf` (so
//! `2-3*4` is `2*4`). Arithmetic is in `double`; `/` by zero *or a negative number* gives 0; `%`, the
//! shifts and the bitwise operators work on both numbers converted to `int`. Comparisons give `TRUE` or
//! `FALSE`, everything else is printed as the type asks: `f`/`float` (`%f`, the default), `i`/`int`,
//! `h`/`hex`, `c`/`char`. Conversions of out-of-range doubles behave as on x86-64 (`INT_MIN`), and so do
//! shifts (the count is taken modulo 32); `INT_MIN % -1`, which crashes Asterisk, is 0.
//!
//! `MIN`, `MAX` and `ABS` print a whole number with `%d` and anything else with `%f`, into a 12-byte
//! buffer: `MAX(123456.5,1)` is `123456.5000`. `INC(var)` and `DEC(var)` read the variable (a whole
//! number, blanks before it allowed, nothing after), and assign and return the new value.

use super::printf::{self, Spec};
use super::{Call, Outcome, VAR_BUF_SIZE, arg, is_c_space, is_empty, scan};
use crate::asterisk::args::separate_args;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Div,
    Mul,
    Sub,
    Mod,
    Pow,
    ShiftLeft,
    ShiftRight,
    And,
    Xor,
    Or,
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
}

/// Finds the operator as func_math.c does: the two operands' texts, or `None` for the second when there
/// is no operator.
fn split_operator(expr: &[u8]) -> (Option<Op>, &[u8], Option<&[u8]>) {
    let find = |needle: &[u8]| memchr::memmem::find(expr, needle);
    let single = |c: u8| memchr::memchr(c, expr);
    let at =
        |i: usize, op_len: usize| (&expr[..i], Some(expr.get(i + op_len..).unwrap_or_default()));
    for (c, op) in [
        (b'*', Op::Mul),
        (b'/', Op::Div),
        (b'%', Op::Mod),
        (b'^', Op::Pow),
    ] {
        if let Some(i) = single(c) {
            let (a, b) = at(i, 1);
            return (Some(op), a, b);
        }
    }
    for (word, op) in [(&b"AND"[..], Op::And), (b"XOR", Op::Xor), (b"OR", Op::Or)] {
        if let Some(i) = find(word) {
            let (a, b) = at(i, word.len());
            return (Some(op), a, b);
        }
    }
    for (c, plain, with_eq, doubled) in [
        (b'>', Op::Gt, Op::Ge, Op::ShiftRight),
        (b'<', Op::Lt, Op::Le, Op::ShiftLeft),
    ] {
        if let Some(i) = single(c) {
            let (op, len) = match expr.get(i + 1) {
                Some(b'=') => (with_eq, 2),
                Some(&next) if next == c => (doubled, 2),
                _ => (plain, 1),
            };
            let (a, b) = at(i, len);
            return (Some(op), a, b);
        }
    }
    if let Some(i) = single(b'=') {
        if expr.get(i + 1) == Some(&b'=') {
            let (a, b) = at(i, 2);
            return (Some(Op::Eq), a, b);
        }
        return (None, &expr[..i], None);
    }
    for (c, op) in [(b'+', Op::Add), (b'-', Op::Sub)] {
        if let Some(i) = single(c) {
            let (a, b) = at(i, 1);
            return (Some(op), a, b);
        }
    }
    (None, expr, None)
}

/// C's `(int)` of a double on x86-64: `INT_MIN` when out of range or NaN.
pub(crate) fn to_int(value: f64) -> i32 {
    if value.is_nan() || value <= f64::from(i32::MIN) - 1.0 || value >= f64::from(i32::MAX) + 1.0 {
        i32::MIN
    } else {
        value as i32
    }
}

/// C's `(unsigned int)` of a double on x86-64 (a 64-bit conversion, then its low 32 bits).
fn to_uint(value: f64) -> u32 {
    let wide = if value.is_nan() || value.abs() >= 9_223_372_036_854_775_808.0 {
        i64::MIN
    } else {
        value as i64
    };
    wide as u32
}

/// `MATH(expression[,type])`.
pub(crate) fn math(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        call.issue("Syntax: MATH(<number1><op><number 2>[,<type_of_result>]) - missing argument!");
        return Ok(false);
    }
    let args = separate_args(data, b',', true, 2);
    let mut expr = arg(&args, 0);
    let negative = expr.first() == Some(&b'-');
    if negative {
        expr = &expr[1..];
    }
    let (op, left, right) = split_operator(expr);
    let conversion = match args.get(1).map(|t| t.to_ascii_lowercase()) {
        None => b'f',
        Some(t) if t == b"float" || t == b"f" => b'f',
        Some(t) if t == b"int" || t == b"i" => b'i',
        Some(t) if t == b"hex" || t == b"h" => b'x',
        Some(t) if t == b"char" || t == b"c" => b'c',
        Some(_) => {
            call.issue("Unknown type of result requested");
            return Ok(false);
        }
    };
    let (Some(op), Some(right)) = (op, right) else {
        call.issue("MATH: supply all the parameters (number1, operator, number2)");
        return Ok(false);
    };
    let (Some(mut a), Some(b)) = (scan::double(left), scan::double(right)) else {
        call.issue("MATH: an operand is not a valid number");
        return Ok(false);
    };
    if negative {
        a = 0.0 - a;
    }
    let (ia, ib) = (to_int(a), to_int(b));
    let truth = |t: bool| -> &'static [u8] { if t { b"TRUE" } else { b"FALSE" } };
    let value = match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => {
            if b <= 0.0 {
                0.0
            } else {
                a / b
            }
        }
        Op::Mod => {
            if ib == 0 {
                0.0
            } else {
                f64::from(ia.wrapping_rem(ib))
            }
        }
        Op::Pow => a.powf(b),
        Op::ShiftLeft => f64::from(ia.wrapping_shl(ib as u32)),
        Op::ShiftRight => f64::from(ia.wrapping_shr(ib as u32)),
        Op::And => f64::from(ia & ib),
        Op::Xor => f64::from(ia ^ ib),
        Op::Or => f64::from(ia | ib),
        Op::Gt => return write(out, truth(a > b)),
        Op::Lt => return write(out, truth(a < b)),
        Op::Ge => return write(out, truth(a >= b)),
        Op::Le => return write(out, truth(a <= b)),
        Op::Eq => return write(out, truth(a == b)),
    };
    let spec = Spec::plain(conversion);
    let text = match conversion {
        b'f' => printf::double(&spec, value, VAR_BUF_SIZE),
        b'i' => printf::int(&spec, to_int(value), VAR_BUF_SIZE),
        b'x' => printf::int(&spec, to_uint(value) as i32, VAR_BUF_SIZE),
        _ => printf::int(&spec, i32::from(to_int(value) as u8), VAR_BUF_SIZE),
    };
    write(out, &text)
}

fn write(out: &mut Vec<u8>, text: &[u8]) -> Outcome {
    out.extend_from_slice(text);
    Ok(true)
}

/// `INC(var)`.
pub(crate) fn inc(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    crement(call, data, out, 1)
}

/// `DEC(var)`.
pub(crate) fn dec(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    crement(call, data, out, -1)
}

fn crement(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>, by: i32) -> Outcome {
    if data.is_empty() {
        call.issue("Syntax: INC/DEC(<variable name>) - missing argument!");
        return Ok(false);
    }
    let value = std::str::from_utf8(data)
        .ok()
        .and_then(|name| call.r.variable_value(name, call.scope));
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        call.issue("INC/DEC: the variable doesn't exist or is empty");
        return Ok(false);
    };
    let value = value.as_bytes();
    // sscanf("%30d%1c"): EOF (all blanks) leaves 0, a number must be all there is.
    let number = if value.iter().all(|&b| is_c_space(b)) {
        0
    } else {
        match scan::int(value, 30) {
            Some((n, [])) => n,
            _ => {
                call.issue("INC/DEC: the variable is not a whole number");
                return Ok(false);
            }
        }
    };
    let text = number.wrapping_add(by).to_string();
    call.r.assign(call.scope, data, text.as_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(true)
}

/// `MIN(num1,num2)` and `MAX(num1,num2)`: either may be empty.
fn extreme(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>, max: bool) -> Outcome {
    let args = separate_args(data, b',', true, 2);
    let (first, second) = (args.first(), args.get(1));
    if is_empty(first) && is_empty(second) {
        call.issue("Missing argument for number(s).");
        return Ok(false);
    }
    let parse = |a: &Vec<u8>| scan::double(a);
    let a = match first.filter(|a| !a.is_empty()) {
        Some(a) => match parse(a) {
            Some(v) => Some(v),
            None => {
                call.issue("MIN/MAX: an argument is not a valid number");
                return Ok(false);
            }
        },
        None => None,
    };
    let b = match second.filter(|b| !b.is_empty()) {
        Some(b) => match parse(b) {
            Some(v) => v,
            None => {
                call.issue("MIN/MAX: an argument is not a valid number");
                return Ok(false);
            }
        },
        None => a.unwrap_or(0.0),
    };
    let result = match a {
        None => b,
        Some(a) if max => {
            if a < b {
                b
            } else {
                a
            }
        }
        Some(a) => {
            if a > b {
                b
            } else {
                a
            }
        }
    };
    whole_or_float(result, out)
}

/// `%d` when the value is a whole `int`, else `%f`.
fn whole_or_float(value: f64, out: &mut Vec<u8>) -> Outcome {
    let whole = to_int(value);
    if f64::from(whole) == value {
        out.extend_from_slice(whole.to_string().as_bytes());
    } else {
        out.extend_from_slice(&printf::double(&Spec::plain(b'f'), value, VAR_BUF_SIZE));
    }
    Ok(true)
}

/// `MIN(num1,num2)`.
pub(crate) fn min(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    extreme(call, data, out, false)
}

/// `MAX(num1,num2)`.
pub(crate) fn max(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    extreme(call, data, out, true)
}

/// `ABS(num)`.
pub(crate) fn abs(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 1);
    match args
        .first()
        .filter(|a| !a.is_empty())
        .and_then(|a| scan::double(a))
    {
        Some(value) => whole_or_float(value.abs(), out),
        None => {
            call.issue("Bad or missing argument for number");
            Ok(false)
        }
    }
}

/// `DIGIT_SUM(num)`: the sum of the decimal digits in the text, whatever else it holds.
pub(crate) fn digit_sum(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        call.issue("Missing argument for number");
        return Ok(false);
    }
    let sum = data
        .iter()
        .filter(|b| b.is_ascii_digit())
        .fold(0i32, |acc, &d| acc.wrapping_add(i32::from(d - b'0')));
    out.extend_from_slice(sum.to_string().as_bytes());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_found_in_func_math_order() {
        assert_eq!(
            split_operator(b"2-3*4"),
            (Some(Op::Mul), &b"2-3"[..], Some(&b"4"[..]))
        );
        assert_eq!(
            split_operator(b"170 AND 63"),
            (Some(Op::And), &b"170 "[..], Some(&b" 63"[..]))
        );
        assert_eq!(
            split_operator(b"1XOR2"),
            (Some(Op::Xor), &b"1"[..], Some(&b"2"[..]))
        );
        assert_eq!(
            split_operator(b"1>>2"),
            (Some(Op::ShiftRight), &b"1"[..], Some(&b"2"[..]))
        );
        assert_eq!(
            split_operator(b"1>=2"),
            (Some(Op::Ge), &b"1"[..], Some(&b"2"[..]))
        );
        assert_eq!(split_operator(b"1=2"), (None, &b"1"[..], None));
        assert_eq!(
            split_operator(b"1==2"),
            (Some(Op::Eq), &b"1"[..], Some(&b"2"[..]))
        );
        assert_eq!(
            split_operator(b"3--2"),
            (Some(Op::Sub), &b"3"[..], Some(&b"-2"[..]))
        );
        assert_eq!(split_operator(b"12"), (None, &b"12"[..], None));
    }

    #[test]
    fn conversions_as_on_x86_64() {
        assert_eq!(to_int(1e10), i32::MIN);
        assert_eq!(to_int(f64::NAN), i32::MIN);
        assert_eq!(to_int(-2.9), -2);
        assert_eq!(to_uint(-1.0), u32::MAX);
        assert_eq!(to_uint(4_294_967_296.0), 0);
        assert_eq!(to_uint(f64::NAN), 0);
    }
}

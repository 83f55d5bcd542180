//! The `sscanf` conversions the functions use, as glibc does them: `%Nd` (`strtol` on at most N
//! characters, stored into an `int` by truncation), `%30lf` and `%30f` (`strtod`/`strtof` on at most 30
//! characters: decimal and hexadecimal floats, `inf`, `infinity`, `nan`, `nan(...)`). Leading white space
//! is skipped and not counted in the width.

use super::is_c_space;

fn skip_space(text: &[u8]) -> &[u8] {
    let n = text.iter().take_while(|&&b| is_c_space(b)).count();
    &text[n..]
}

/// `sscanf(text, "%<width>d")`: the value and the rest of the text.
pub(crate) fn int(text: &[u8], width: usize) -> Option<(i32, &[u8])> {
    let text = skip_space(text);
    let limit = text.len().min(width);
    let mut i = 0;
    let negative = match text.first() {
        Some(b'-') if limit > 0 => {
            i = 1;
            true
        }
        Some(b'+') if limit > 0 => {
            i = 1;
            false
        }
        _ => false,
    };
    let digits = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while i < limit && text[i].is_ascii_digit() {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(text[i] - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits {
        return None;
    }
    let value = match (overflow, negative) {
        (true, false) => i64::MAX,
        (true, true) => i64::MIN,
        (false, false) => value,
        (false, true) => -value,
    };
    // strtol's long, stored into an int: the low 32 bits.
    Some((value as i32, &text[i..]))
}

/// `sscanf(text, "%30lf")`.
pub(crate) fn double(text: &[u8]) -> Option<f64> {
    let text = skip_space(text);
    let text = &text[..text.len().min(30)];
    strtod(text).map(|(value, _)| value)
}

/// `sscanf(text, "%30f")`.
pub(crate) fn float(text: &[u8]) -> Option<f32> {
    let text = skip_space(text);
    let text = &text[..text.len().min(30)];
    parse(text).map(|(number, _)| number.to_f32())
}

/// `strtod`: the value and how many bytes it used, or `None` when no number starts `text`.
pub(crate) fn strtod(text: &[u8]) -> Option<(f64, usize)> {
    parse(text).map(|(number, used)| (number.to_f64(), used))
}

/// A number as `strtod` reads it, before rounding to a type.
enum Number {
    Decimal {
        negative: bool,
        text: String,
    },
    Hex {
        negative: bool,
        mantissa: u64,
        sticky: bool,
        exp2: i64,
    },
    Infinity {
        negative: bool,
    },
    NaN {
        negative: bool,
    },
}

impl Number {
    fn to_f64(&self) -> f64 {
        match self {
            Number::Decimal { negative, text } => sign(*negative, text.parse().unwrap_or(0.0)),
            Number::Hex {
                negative,
                mantissa,
                sticky,
                exp2,
            } => sign(*negative, compose(*mantissa, *sticky, *exp2, 53, -1074)),
            Number::Infinity { negative } => sign(*negative, f64::INFINITY),
            Number::NaN { negative } => sign(*negative, f64::NAN),
        }
    }

    fn to_f32(&self) -> f32 {
        match self {
            Number::Decimal { negative, text } => {
                let value: f32 = text.parse().unwrap_or(0.0);
                if *negative { -value } else { value }
            }
            Number::Hex {
                negative,
                mantissa,
                sticky,
                exp2,
            } => {
                // Rounded to 24 bits at f32's exponent range, then exact in f64 and in f32.
                let value = compose(*mantissa, *sticky, *exp2, 24, -149) as f32;
                if *negative { -value } else { value }
            }
            Number::Infinity { negative } => {
                if *negative {
                    f32::NEG_INFINITY
                } else {
                    f32::INFINITY
                }
            }
            Number::NaN { negative } => {
                if *negative {
                    -f32::NAN
                } else {
                    f32::NAN
                }
            }
        }
    }
}

fn sign(negative: bool, value: f64) -> f64 {
    if negative { -value } else { value }
}

fn starts_with_ignore_case(text: &[u8], word: &[u8]) -> bool {
    text.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
}

fn parse(text: &[u8]) -> Option<(Number, usize)> {
    let start = text.len() - skip_space(text).len();
    let mut at = start;
    let negative = match text.get(at) {
        Some(b'-') => {
            at += 1;
            true
        }
        Some(b'+') => {
            at += 1;
            false
        }
        _ => false,
    };
    let rest = &text[at..];
    if starts_with_ignore_case(rest, b"infinity") {
        return Some((Number::Infinity { negative }, at + 8));
    }
    if starts_with_ignore_case(rest, b"inf") {
        return Some((Number::Infinity { negative }, at + 3));
    }
    if starts_with_ignore_case(rest, b"nan") {
        let mut used = at + 3;
        if text.get(used) == Some(&b'(') {
            let inner = text[used + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if text.get(used + 1 + inner) == Some(&b')') {
                used += inner + 2;
            }
        }
        return Some((Number::NaN { negative }, used));
    }
    if rest.len() > 1
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && let Some((number, used)) = parse_hex(&rest[2..], negative)
    {
        return Some((number, at + 2 + used));
    }
    parse_decimal(rest, negative).map(|(number, used)| (number, at + used))
}

fn parse_decimal(text: &[u8], negative: bool) -> Option<(Number, usize)> {
    let int_digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = int_digits;
    let mut frac_digits = 0;
    if text.get(at) == Some(&b'.') {
        frac_digits = text[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if int_digits + frac_digits > 0 {
            at += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let mut number = String::with_capacity(at + 8);
    number.push_str(std::str::from_utf8(&text[..int_digits]).unwrap_or("0"));
    if int_digits == 0 {
        number.push('0');
    }
    if frac_digits > 0 {
        number.push('.');
        number.push_str(
            std::str::from_utf8(&text[int_digits + 1..int_digits + 1 + frac_digits]).unwrap_or("0"),
        );
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        let mut e = at + 1;
        let exp_negative = match text.get(e) {
            Some(b'-') => {
                e += 1;
                true
            }
            Some(b'+') => {
                e += 1;
                false
            }
            _ => false,
        };
        let digits = text[e.min(text.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            // Exponents beyond any double's range saturate: the value is 0 or infinite either way.
            let exponent = text[e..e + digits].iter().fold(0i64, |acc, &d| {
                (acc * 10 + i64::from(d - b'0')).min(1_000_000)
            });
            number.push('e');
            if exp_negative {
                number.push('-');
            }
            number.push_str(&exponent.to_string());
            at = e + digits;
        }
    }
    Some((
        Number::Decimal {
            negative,
            text: number,
        },
        at,
    ))
}

/// After `0x`: hex digits, an optional `.` and more, an optional `p` exponent. `None` when no digit follows
/// (then `strtod` reads the `0` alone).
fn parse_hex(text: &[u8], negative: bool) -> Option<(Number, usize)> {
    let mut mantissa: u64 = 0;
    let mut sticky = false;
    let mut exp2: i64 = 0;
    let mut digits = 0;
    let mut at = 0;
    let mut seen_point = false;
    while let Some(&b) = text.get(at) {
        if b == b'.' && !seen_point {
            seen_point = true;
            at += 1;
            continue;
        }
        let Some(d) = (b as char).to_digit(16) else {
            break;
        };
        digits += 1;
        if mantissa >> 60 == 0 {
            mantissa = (mantissa << 4) | u64::from(d);
            if seen_point {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp2 += 4;
            }
        }
        at += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(text.get(at), Some(b'p' | b'P')) {
        let mut e = at + 1;
        let exp_negative = match text.get(e) {
            Some(b'-') => {
                e += 1;
                true
            }
            Some(b'+') => {
                e += 1;
                false
            }
            _ => false,
        };
        let count = text[e.min(text.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if count > 0 {
            let exponent = text[e..e + count].iter().fold(0i64, |acc, &d| {
                (acc * 10 + i64::from(d - b'0')).min(1_000_000)
            });
            exp2 += if exp_negative { -exponent } else { exponent };
            at = e + count;
        }
    }
    Some((
        Number::Hex {
            negative,
            mantissa,
            sticky,
            exp2,
        },
        at,
    ))
}

/// `mantissa × 2^exp2` (with `sticky` for lost non-zero bits) rounded to nearest-even with `bits`
/// significant bits and no bit below `2^min_exp`, as an `f64` (exact: `bits` ≤ 53).
fn compose(mantissa: u64, sticky: bool, exp2: i64, bits: i64, min_exp: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    let width = 64 - i64::from(mantissa.leading_zeros());
    // Drop bits beyond the precision, or below the smallest subnormal.
    let shift = (width - bits).max(min_exp - exp2);
    let (m, e) = if shift <= 0 {
        (mantissa, exp2)
    } else if shift >= 64 {
        let half_or_more = shift == 64 && mantissa >> 63 == 1;
        let above_half = half_or_more && (mantissa << 1 != 0 || sticky);
        (u64::from(above_half), exp2 + shift)
    } else {
        let kept = mantissa >> shift;
        let dropped = mantissa & ((1u64 << shift) - 1);
        let half = 1u64 << (shift - 1);
        let round_up = dropped > half || (dropped == half && (sticky || kept & 1 == 1));
        (kept + u64::from(round_up), exp2 + shift)
    };
    if m == 0 {
        return 0.0;
    }
    // m ≤ 2^bits: scale by powers of two in steps that stay exact.
    let mut value = m as f64;
    let mut e = e;
    while e > 0 {
        let step = e.min(1000);
        value *= 2f64.powi(step as i32);
        e -= step;
        if value.is_infinite() {
            return value;
        }
    }
    while e < 0 {
        let step = (-e).min(1000);
        value /= 2f64.powi(step as i32);
        e += step;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_like_glibc_scanf() {
        assert_eq!(int(b" 12x", 30).map(|v| v.0), Some(12));
        assert_eq!(int(b"123", 2).map(|v| (v.0, v.1)), Some((12, &b"3"[..])));
        assert_eq!(
            int(b"-12", 2).map(|v| v.0),
            Some(-1),
            "the sign counts in the width"
        );
        assert_eq!(int(b"-", 30), None);
        assert_eq!(int(b"x", 30), None);
        assert_eq!(
            int(b"4294967297", 30).map(|v| v.0),
            Some(1),
            "long truncated to int"
        );
        assert_eq!(int(b"99999999999999999999", 30).map(|v| v.0), Some(-1));
    }

    #[test]
    fn doubles_like_strtod() {
        assert_eq!(double(b" 3.5"), Some(3.5));
        assert_eq!(double(b"170 "), Some(170.0));
        assert_eq!(double(b"1e3x"), Some(1000.0));
        assert_eq!(double(b"1e"), Some(1.0));
        assert_eq!(double(b".5"), Some(0.5));
        assert_eq!(double(b"5."), Some(5.0));
        assert_eq!(double(b"."), None);
        assert_eq!(double(b"-"), None);
        assert_eq!(double(b"abc"), None);
        assert_eq!(double(b"0x1p3"), Some(8.0));
        assert_eq!(double(b"0x.8"), Some(0.5));
        assert_eq!(double(b"0x"), Some(0.0));
        assert_eq!(double(b"-0x10"), Some(-16.0));
        assert_eq!(double(b"INF"), Some(f64::INFINITY));
        assert_eq!(double(b"-infinity"), Some(f64::NEG_INFINITY));
        assert!(double(b"nan(123)").is_some_and(f64::is_nan));
        assert!(double(b"-nan").is_some_and(|v| v.is_nan() && v.is_sign_negative()));
        assert_eq!(double(b"1e400"), Some(f64::INFINITY));
        assert_eq!(double(b"1e-400"), Some(0.0));
        // Only 30 characters are read.
        let long = format!("1{}", "0".repeat(40));
        assert_eq!(double(long.as_bytes()), Some(1e29));
    }

    #[test]
    fn hex_floats_round_to_nearest_even() {
        assert_eq!(strtod(b"0x1.fffffffffffff8p0").map(|v| v.0), Some(2.0));
        assert_eq!(
            strtod(b"0x1.fffffffffffff7p0").map(|v| v.0),
            Some(1.9999999999999998)
        );
        assert_eq!(strtod(b"0x1p-1074").map(|v| v.0), Some(f64::from_bits(1)));
        assert_eq!(strtod(b"0x1p-1076").map(|v| v.0), Some(0.0));
        assert_eq!(strtod(b"0x1p1024").map(|v| v.0), Some(f64::INFINITY));
        assert_eq!(strtod(b"0x123456789abcdef0123p0").map(|v| v.1), Some(23));
    }

    #[test]
    fn floats_are_single_precision() {
        assert_eq!(float(b"0.1"), Some(0.1f32));
        assert_eq!(float(b"16777217"), Some(16_777_216.0));
        assert_eq!(float(b"x"), None);
    }
}

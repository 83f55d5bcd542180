//! One `printf` conversion as glibc's `snprintf` formats it on x86-64, for `SPRINTF` and `MATH`: flags
//! `-0+ #'I`, a width, a precision, the length modifiers `hh h l ll L q j z t`, and the conversions
//! `d i o u x X c` (of an `int`), `e E f F g G a A` (of a `double`) and `s`.
//!
//! The C.UTF-8 locale Asterisk runs in has no thousands separator, so `'` and `I` change nothing. An
//! `int` passed where a 64-bit length modifier asks for a `long` arrives zero-extended (that is how an
//! `int` travels in a 64-bit register), so `%ld` of -1 prints 4294967295.

/// A conversion specification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Spec {
    pub left: bool,
    pub zero: bool,
    pub plus: bool,
    pub space: bool,
    pub alt: bool,
    pub width: usize,
    pub precision: Option<usize>,
    pub length: Length,
    pub conversion: u8,
}

/// The length modifier, as far as it changes what an `int` argument prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Length {
    /// `hh`
    Char,
    /// `h`
    Short,
    #[default]
    Int,
    /// `l`, `ll`, `L`, `q`, `j`, `z`, `t`
    Wide,
}

/// Widths and precisions are cut here: the output of a `.read` function is at most 4095 bytes, and a
/// double has no more than 1100 significant decimals, so a larger precision only adds zeros no one sees.
const MAX_PRECISION: usize = 4200;

impl Spec {
    /// A plain `%c`-style spec (no flags, no width): what `MATH` uses.
    pub fn plain(conversion: u8) -> Spec {
        Spec {
            conversion,
            ..Spec::default()
        }
    }

    /// Parses `%[flags][width][.precision][length]conversion`; `None` when `spec` is not one.
    pub fn parse(spec: &[u8]) -> Option<Spec> {
        let mut s = Spec::default();
        let rest = spec.strip_prefix(b"%")?;
        let mut i = 0;
        while let Some(&c) = rest.get(i) {
            match c {
                b'-' => s.left = true,
                b'0' => s.zero = true,
                b'+' => s.plus = true,
                b' ' => s.space = true,
                b'#' => s.alt = true,
                b'\'' | b'I' => {}
                _ => break,
            }
            i += 1;
        }
        let (width, used) = number(&rest[i..]);
        s.width = width;
        i += used;
        if rest.get(i) == Some(&b'.') {
            let (precision, used) = number(&rest[i + 1..]);
            s.precision = Some(precision.min(MAX_PRECISION));
            i += 1 + used;
        }
        match rest.get(i..).unwrap_or_default() {
            [b'h', b'h', ..] => {
                s.length = Length::Char;
                i += 2;
            }
            [b'l', b'l', ..] => {
                s.length = Length::Wide;
                i += 2;
            }
            [b'h', ..] => {
                s.length = Length::Short;
                i += 1;
            }
            [b'l' | b'L' | b'q' | b'j' | b'z' | b't', ..] => {
                s.length = Length::Wide;
                i += 1;
            }
            _ => {}
        }
        s.conversion = *rest.get(i)?;
        (i + 1 == rest.len()).then_some(s)
    }
}

/// Digits as a number (saturating: a width past any buffer pads the whole buffer anyway).
fn number(text: &[u8]) -> (usize, usize) {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = text[..digits].iter().fold(0usize, |acc, &d| {
        acc.saturating_mul(10).saturating_add(usize::from(d - b'0'))
    });
    (value, digits)
}

/// Lays out `sign`, `prefix` and `body` in the field: spaces on the left or right, or zeros after the
/// prefix. No more than `limit` bytes are produced.
fn field(
    spec: &Spec,
    sign: &[u8],
    prefix: &[u8],
    body: &[u8],
    zeros: bool,
    limit: usize,
) -> Vec<u8> {
    let len = sign.len() + prefix.len() + body.len();
    let pad = spec.width.saturating_sub(len).min(limit);
    let mut out = Vec::with_capacity((len + pad).min(limit));
    if spec.left {
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
        out.resize(out.len() + pad, b' ');
    } else if zeros {
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.resize(out.len() + pad, b'0');
        out.extend_from_slice(body);
    } else {
        out.resize(pad, b' ');
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
    }
    out.truncate(limit);
    out
}

/// An integer conversion (`d i o u x X c`) of the `int` `value`.
pub(crate) fn int(spec: &Spec, value: i32, limit: usize) -> Vec<u8> {
    if spec.conversion == b'c' {
        let byte = [value as u8];
        return field(spec, b"", b"", &byte, false, limit);
    }
    let signed = matches!(spec.conversion, b'd' | b'i');
    let (negative, magnitude): (bool, u64) = match (spec.length, signed) {
        (Length::Char, true) => split_sign(i64::from(value as i8)),
        (Length::Short, true) => split_sign(i64::from(value as i16)),
        (Length::Int, true) => split_sign(i64::from(value)),
        (Length::Wide, true) => split_sign(i64::from(value as u32)),
        (Length::Char, false) => (false, u64::from(value as u8)),
        (Length::Short, false) => (false, u64::from(value as u16)),
        (Length::Int | Length::Wide, false) => (false, u64::from(value as u32)),
    };
    let mut digits = match spec.conversion {
        b'o' => format!("{magnitude:o}"),
        b'x' => format!("{magnitude:x}"),
        b'X' => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    }
    .into_bytes();
    if spec.precision == Some(0) && magnitude == 0 {
        digits.clear();
    }
    if let Some(precision) = spec.precision
        && digits.len() < precision
    {
        let mut padded = vec![b'0'; precision - digits.len()];
        padded.extend_from_slice(&digits);
        digits = padded;
    }
    if spec.conversion == b'o' && spec.alt && digits.first() != Some(&b'0') {
        digits.insert(0, b'0');
    }
    let prefix: &[u8] = match spec.conversion {
        b'x' if spec.alt && magnitude != 0 => b"0x",
        b'X' if spec.alt && magnitude != 0 => b"0X",
        _ => b"",
    };
    let sign: &[u8] = if !signed {
        b""
    } else if negative {
        b"-"
    } else if spec.plus {
        b"+"
    } else if spec.space {
        b" "
    } else {
        b""
    };
    let zeros = spec.zero && !spec.left && spec.precision.is_none();
    field(spec, sign, prefix, &digits, zeros, limit)
}

fn split_sign(value: i64) -> (bool, u64) {
    (value < 0, value.unsigned_abs())
}

/// `%s` of `value` (`None`: a NULL pointer, which glibc prints as `(null)` when the precision allows).
pub(crate) fn string(spec: &Spec, value: Option<&[u8]>, limit: usize) -> Vec<u8> {
    let body: &[u8] = match value {
        Some(v) => v,
        None if spec.precision.is_none_or(|p| p >= 6) => b"(null)",
        None => b"",
    };
    let body = &body[..body.len().min(spec.precision.unwrap_or(usize::MAX))];
    field(spec, b"", b"", body, false, limit)
}

/// A floating conversion (`e E f F g G a A`) of `value`.
pub(crate) fn double(spec: &Spec, value: f64, limit: usize) -> Vec<u8> {
    let upper = spec.conversion.is_ascii_uppercase();
    let sign: &[u8] = if value.is_sign_negative() {
        b"-"
    } else if spec.plus {
        b"+"
    } else if spec.space {
        b" "
    } else {
        b""
    };
    if !value.is_finite() {
        let word: &[u8] = match (value.is_nan(), upper) {
            (true, false) => b"nan",
            (true, true) => b"NAN",
            (false, false) => b"inf",
            (false, true) => b"INF",
        };
        return field(spec, sign, b"", word, false, limit);
    }
    let magnitude = value.abs();
    let (prefix, body): (&[u8], Vec<u8>) = match spec.conversion.to_ascii_lowercase() {
        b'f' => (b"", fixed(magnitude, spec.precision.unwrap_or(6), spec.alt)),
        b'e' => (
            b"",
            exponential(magnitude, spec.precision.unwrap_or(6), spec.alt, upper),
        ),
        b'g' => (b"", general(magnitude, spec.precision, spec.alt, upper)),
        _ => (
            if upper { b"0X" } else { b"0x" },
            hexadecimal(magnitude, spec.precision, spec.alt, upper),
        ),
    };
    let zeros = spec.zero && !spec.left;
    field(spec, sign, prefix, &body, zeros, limit)
}

/// `%.<precision>f` of a non-negative finite value.
fn fixed(value: f64, precision: usize, alt: bool) -> Vec<u8> {
    let mut text = format!("{value:.precision$}").into_bytes();
    if alt && precision == 0 {
        text.push(b'.');
    }
    text
}

/// `%.<precision>e` of a non-negative finite value.
fn exponential(value: f64, precision: usize, alt: bool, upper: bool) -> Vec<u8> {
    let text = format!("{value:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut out = mantissa.as_bytes().to_vec();
    if alt && precision == 0 {
        out.push(b'.');
    }
    out.push(if upper { b'E' } else { b'e' });
    out.push(if exponent < 0 { b'-' } else { b'+' });
    out.extend_from_slice(format!("{:02}", exponent.unsigned_abs()).as_bytes());
    out
}

/// The decimal exponent of a non-negative finite value once rounded to `precision + 1` digits.
fn exponent_after_rounding(value: f64, precision: usize) -> i32 {
    if value == 0.0 {
        return 0;
    }
    let text = format!("{value:.precision$e}");
    text.split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0)
}

/// `%.<precision>g` of a non-negative finite value.
fn general(value: f64, precision: Option<usize>, alt: bool, upper: bool) -> Vec<u8> {
    let p = match precision {
        None => 6,
        Some(0) => 1,
        Some(p) => p,
    };
    let x = exponent_after_rounding(value, p - 1);
    let mut out = if x < -4 || i64::from(x) >= p as i64 {
        exponential(value, p - 1, alt, upper)
    } else {
        let decimals = (p as i64 - 1 - i64::from(x)).max(0) as usize;
        fixed(value, decimals, alt)
    };
    if !alt {
        let split = out
            .iter()
            .position(|&b| b == b'e' || b == b'E')
            .unwrap_or(out.len());
        let (number, suffix) = out.split_at(split);
        let mut number = number.to_vec();
        if number.contains(&b'.') {
            while number.last() == Some(&b'0') {
                number.pop();
            }
            if number.last() == Some(&b'.') {
                number.pop();
            }
        }
        number.extend_from_slice(suffix);
        out = number;
    }
    out
}

/// `%a` of a non-negative finite value (without the `0x`): glibc writes a leading `1` for normal values,
/// `0` for zero and subnormals (with the exponent -1022), and rounds to nearest-even.
fn hexadecimal(value: f64, precision: Option<usize>, alt: bool, upper: bool) -> Vec<u8> {
    let bits = value.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let mut fraction = bits & ((1u64 << 52) - 1);
    let (mut leading, exponent) = match (biased, fraction) {
        (0, 0) => (0u64, 0i64),
        (0, _) => (0, -1022),
        _ => (1, biased - 1023),
    };
    // 13 hex digits hold the 52 fraction bits.
    let digits = match precision {
        None => {
            let mut n = 13;
            while n > 0 && (fraction >> ((13 - n) * 4)) & 0xf == 0 {
                n -= 1;
            }
            n
        }
        Some(p) => p,
    };
    if digits < 13 {
        let dropped_bits = (13 - digits) * 4;
        let kept = fraction >> dropped_bits;
        let dropped = fraction & ((1u64 << dropped_bits) - 1);
        let half = 1u64 << (dropped_bits - 1);
        let lsb = if digits == 0 { leading & 1 } else { kept & 1 };
        let mut kept = kept;
        if dropped > half || (dropped == half && lsb == 1) {
            kept += 1;
            if digits == 0 || kept >> (digits * 4) != 0 {
                // The carry reaches the leading digit (glibc prints 0x2p+0 rather than renormalising).
                leading += 1;
                kept = if digits == 0 {
                    0
                } else {
                    kept & ((1u64 << (digits * 4)) - 1)
                };
            }
        }
        fraction = kept;
    }
    let mut out = format!("{leading:x}").into_bytes();
    if digits > 0 || alt {
        out.push(b'.');
    }
    if digits > 0 {
        let shown = digits.min(13);
        let text = format!("{:0width$x}", fraction, width = shown);
        out.extend_from_slice(text.as_bytes());
        out.resize(out.len() + (digits - shown), b'0');
    }
    out.push(b'p');
    out.push(if exponent < 0 { b'-' } else { b'+' });
    out.extend_from_slice(exponent.unsigned_abs().to_string().as_bytes());
    if upper {
        out.make_ascii_uppercase();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(spec: &str, value: f64) -> String {
        let spec = Spec::parse(spec.as_bytes()).expect(spec);
        String::from_utf8(double(&spec, value, 4095)).unwrap()
    }

    fn i(spec: &str, value: i32) -> String {
        let spec = Spec::parse(spec.as_bytes()).expect(spec);
        String::from_utf8(int(&spec, value, 4095)).unwrap()
    }

    #[test]
    fn specs_parse_like_printf() {
        let s = Spec::parse(b"%-+08.3lld").unwrap();
        assert!(s.left && s.plus && s.zero);
        assert_eq!((s.width, s.precision, s.length), (8, Some(3), Length::Wide));
        assert_eq!(Spec::parse(b"%5"), None);
        assert_eq!(Spec::parse(b"%dd"), None);
        assert_eq!(Spec::parse(b"%.f").unwrap().precision, Some(0));
    }

    #[test]
    fn integers_as_glibc_prints_them() {
        assert_eq!(i("%d", -42), "-42");
        assert_eq!(i("%5d", 42), "   42");
        assert_eq!(i("%-5d", 42), "42   ");
        assert_eq!(i("%05d", -42), "-0042");
        assert_eq!(i("%+d", 42), "+42");
        assert_eq!(i("% d", 42), " 42");
        assert_eq!(i("%.3d", 7), "007");
        assert_eq!(
            i("%08.3d", 7),
            "     007",
            "a precision turns the 0 flag off"
        );
        assert_eq!(i("%.0d", 0), "");
        assert_eq!(i("%x", 255), "ff");
        assert_eq!(i("%#X", 255), "0XFF");
        assert_eq!(i("%#x", 0), "0");
        assert_eq!(i("%#o", 8), "010");
        assert_eq!(i("%#.0o", 0), "0");
        assert_eq!(i("%u", -1), "4294967295");
        assert_eq!(i("%hd", 65535), "-1");
        assert_eq!(i("%hhu", 257), "1");
        assert_eq!(i("%ld", -1), "4294967295");
        assert_eq!(i("%c", 65), "A");
        assert_eq!(i("%3c", 65), "  A");
        assert_eq!(i("%d", i32::MIN), "-2147483648");
    }

    #[test]
    fn doubles_as_glibc_prints_them() {
        assert_eq!(f("%f", 1.5), "1.500000");
        assert_eq!(f("%.2f", 0.125), "0.12", "ties go to even");
        assert_eq!(f("%.0f", 2.5), "2");
        assert_eq!(f("%.0f", 3.5), "4");
        assert_eq!(f("%#.0f", 3.0), "3.");
        assert_eq!(f("%f", -0.0), "-0.000000");
        assert_eq!(f("%08.2f", -1.23456), "-0001.23");
        assert_eq!(f("%e", 1234.5), "1.234500e+03");
        assert_eq!(f("%.2E", 0.000123), "1.23E-04");
        assert_eq!(f("%e", 0.0), "0.000000e+00");
        assert_eq!(f("%e", 1e300), "1.000000e+300");
        assert_eq!(f("%g", 100000.0), "100000");
        assert_eq!(f("%g", 1000000.0), "1e+06");
        assert_eq!(f("%g", 0.0001), "0.0001");
        assert_eq!(f("%g", 0.00001), "1e-05");
        assert_eq!(f("%g", 1.5), "1.5");
        assert_eq!(f("%#g", 1.5), "1.50000");
        assert_eq!(f("%.3g", 999.9), "1e+03");
        assert_eq!(f("%G", 1e-10), "1E-10");
        assert_eq!(f("%g", 0.0), "0");
        assert_eq!(f("%a", 1.0), "0x1p+0");
        assert_eq!(f("%a", 3.0), "0x1.8p+1");
        assert_eq!(f("%A", 0.5), "0X1P-1");
        assert_eq!(f("%a", 0.0), "0x0p+0");
        assert_eq!(f("%.0a", 1.5), "0x2p+0");
        assert_eq!(f("%.1a", 1.0), "0x1.0p+0");
        assert_eq!(f("%a", f64::from_bits(1)), "0x0.0000000000001p-1022");
        assert_eq!(f("%f", f64::INFINITY), "inf");
        assert_eq!(f("%05F", f64::NEG_INFINITY), " -INF");
        assert_eq!(f("%+f", f64::NAN), "+nan");
        assert_eq!(f("%f", -f64::NAN), "-nan");
        assert_eq!(f("%.3f", 1e20), "100000000000000000000.000");
    }

    #[test]
    fn strings_and_limits() {
        let s = |spec: &str, v: Option<&[u8]>| {
            String::from_utf8(string(&Spec::parse(spec.as_bytes()).unwrap(), v, 4095)).unwrap()
        };
        assert_eq!(s("%s", Some(b"abc")), "abc");
        assert_eq!(s("%.2s", Some(b"abc")), "ab");
        assert_eq!(s("%5s", Some(b"abc")), "  abc");
        assert_eq!(s("%-5s", Some(b"abc")), "abc  ");
        assert_eq!(s("%s", None), "(null)");
        assert_eq!(s("%.3s", None), "");
        let wide = Spec::parse(b"%999999999999999999999d").unwrap();
        assert_eq!(int(&wide, 1, 10), b"          ");
    }
}

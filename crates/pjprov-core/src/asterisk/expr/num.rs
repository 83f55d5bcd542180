//! x87 80-bit `long double` emulation: arithmetic (exact, via `rustc_apfloat`),
//! `strtold`, `printf("%.18Lg")` and the libm functions used by `op_func`.
//!
//! SQRT and the transcendental functions (COS ... LOG10, POW, ATAN2) are computed in `f64` and
//! widened: their results can differ from glibc's x87 ones from the 16th significant digit.
//! Templates compute line numbers and offsets with `$[...]`, not trigonometry: the arithmetic,
//! which they do use, is exact.

use rustc_apfloat::FloatConvert;
use rustc_apfloat::ieee::{Double, X87DoubleExtended as X};
use rustc_apfloat::{Float, Round, Status};
use std::cmp::Ordering;

/// Raw 80-bit pattern (sign:1, exponent:15, significand:64 with explicit integer bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct F80(pub u128);

const EXP_MAX: u16 = 0x7fff;
const BIAS: i64 = 16383;

impl F80 {
    pub const ZERO: F80 = F80(0);

    pub fn from_parts(neg: bool, exp: u16, sig: u64) -> F80 {
        F80(((neg as u128) << 79) | ((exp as u128) << 64) | sig as u128)
    }
    pub fn sign(self) -> bool {
        (self.0 >> 79) & 1 == 1
    }
    pub fn exp(self) -> u16 {
        ((self.0 >> 64) & 0x7fff) as u16
    }
    pub fn sig(self) -> u64 {
        self.0 as u64
    }
    pub fn is_nan(self) -> bool {
        self.exp() == EXP_MAX && (self.sig() << 1) != 0
    }
    pub fn is_inf(self) -> bool {
        self.exp() == EXP_MAX && (self.sig() << 1) == 0
    }
    pub fn is_zero(self) -> bool {
        self.exp() == 0 && self.sig() == 0
    }
    pub fn is_finite(self) -> bool {
        self.exp() != EXP_MAX
    }
    /// The x87 "real indefinite" produced by invalid operations (prints as `-nan`).
    pub fn default_nan() -> F80 {
        F80::from_parts(true, EXP_MAX, 0xC000_0000_0000_0000)
    }
    pub fn infinity(neg: bool) -> F80 {
        F80::from_parts(neg, EXP_MAX, 1 << 63)
    }
    fn quiet(self) -> F80 {
        F80(self.0 | (1u128 << 62))
    }
    fn x(self) -> X {
        X::from_bits(self.0)
    }
    fn from_x(x: X) -> F80 {
        F80(x.to_bits())
    }
    pub fn from_i64(v: i64) -> F80 {
        F80::from_x(X::from_i128(v as i128).value)
    }
    pub fn neg(self) -> F80 {
        F80(self.0 ^ (1u128 << 79))
    }
    pub fn abs(self) -> F80 {
        F80(self.0 & !(1u128 << 79))
    }
    /// C comparison semantics (unordered when a NaN is involved).
    pub fn cmp(self, other: F80) -> Option<Ordering> {
        if self.is_nan() || other.is_nan() {
            return None;
        }
        self.x().partial_cmp(&other.x())
    }
    pub fn eq(self, other: F80) -> bool {
        self.cmp(other) == Some(Ordering::Equal)
    }
    pub fn lt(self, other: F80) -> bool {
        self.cmp(other) == Some(Ordering::Less)
    }
    pub fn gt(self, other: F80) -> bool {
        self.cmp(other) == Some(Ordering::Greater)
    }
    pub fn le(self, other: F80) -> bool {
        matches!(self.cmp(other), Some(Ordering::Less | Ordering::Equal))
    }
    pub fn ge(self, other: F80) -> bool {
        matches!(self.cmp(other), Some(Ordering::Greater | Ordering::Equal))
    }
    /// `x != 0` in C (true for NaN).
    pub fn truthy(self) -> bool {
        !self.is_zero()
    }

    fn binop(self, b: F80, f: impl Fn(X, X) -> rustc_apfloat::StatusAnd<X>) -> F80 {
        if let Some(n) = nan_operand(self, b) {
            return n;
        }
        let r = f(self.x(), b.x());
        if r.status.contains(Status::INVALID_OP) || r.value.is_nan() {
            return F80::default_nan();
        }
        F80::from_x(r.value)
    }
    pub fn add(self, b: F80) -> F80 {
        self.binop(b, |x, y| x.add_r(y, Round::NearestTiesToEven))
    }
    pub fn sub(self, b: F80) -> F80 {
        self.binop(b, |x, y| x.sub_r(y, Round::NearestTiesToEven))
    }
    pub fn mul(self, b: F80) -> F80 {
        self.binop(b, |x, y| x.mul_r(y, Round::NearestTiesToEven))
    }
    pub fn div(self, b: F80) -> F80 {
        self.binop(b, |x, y| x.div_r(y, Round::NearestTiesToEven))
    }
    /// `fmodl` (exact; x87 `fprem` semantics for the special cases).
    pub fn fmod(self, b: F80) -> F80 {
        self.remainder_special(b)
            .unwrap_or_else(|| F80::from_x(self.x().c_fmod(b.x()).value))
    }
    /// `remainderl` (IEEE remainder, exact).
    pub fn remainder(self, b: F80) -> F80 {
        self.remainder_special(b)
            .unwrap_or_else(|| F80::from_x(self.x().ieee_rem(b.x()).value))
    }
    /// The special cases `fmodl` and `remainderl` share: a NaN operand, an infinite dividend or a zero
    /// divisor (NaN), an infinite divisor or a zero dividend (the dividend).
    fn remainder_special(self, b: F80) -> Option<F80> {
        if let Some(n) = nan_operand(self, b) {
            return Some(n);
        }
        if self.is_inf() || b.is_zero() {
            return Some(F80::default_nan());
        }
        if b.is_inf() || self.is_zero() {
            return Some(self);
        }
        None
    }
    fn round_int(self, mode: Round) -> F80 {
        if !self.is_finite() || self.is_zero() {
            return self;
        }
        let r = self.x().round_to_integral(mode).value;
        // keep the sign of zero results (floorl(-0.5) == -0, ceill(-0.5) == -0)
        let r = F80::from_x(r);
        if r.is_zero() && self.sign() != r.sign() {
            r.neg()
        } else {
            r
        }
    }
    pub fn floor(self) -> F80 {
        self.round_int(Round::TowardNegative)
    }
    pub fn ceil(self) -> F80 {
        self.round_int(Round::TowardPositive)
    }
    pub fn trunc(self) -> F80 {
        self.round_int(Round::TowardZero)
    }
    pub fn round(self) -> F80 {
        self.round_int(Round::NearestTiesToAway)
    }
    pub fn rint(self) -> F80 {
        self.round_int(Round::NearestTiesToEven)
    }
    /// `sqrtl`, through `f64` (exact for perfect squares; may differ from x87 from the 16th digit).
    pub fn sqrt(self) -> F80 {
        if self.is_nan() {
            return self.quiet();
        }
        if self.is_zero() {
            return self;
        }
        if self.sign() {
            return F80::default_nan();
        }
        if self.is_inf() {
            return self;
        }
        from_f64(to_f64(self).sqrt())
    }

    /// (significand, exponent) with value = significand * 2^exponent, for finite values.
    fn unpack(self) -> (u64, i64) {
        let e = self.exp() as i64;
        let e = if e == 0 { 1 } else { e };
        (self.sig(), e - BIAS - 63)
    }
}

/// x87 NaN propagation: a NaN operand is returned (quieted); with two NaNs, the one
/// with the larger significand.
fn nan_operand(a: F80, b: F80) -> Option<F80> {
    match (a.is_nan(), b.is_nan()) {
        (false, false) => None,
        (true, false) => Some(a.quiet()),
        (false, true) => Some(b.quiet()),
        (true, true) => {
            let (sa, sb) = (a.sig() << 1, b.sig() << 1);
            // larger significand wins; on a tie the positive NaN (as observed on x86-64)
            Some(if sb > sa || (sb == sa && !b.sign()) {
                b.quiet()
            } else {
                a.quiet()
            })
        }
    }
}

// ---------------------------------------------------------------- strtold

/// `strtold` applied to a numeric string (only digits and dots). `Err(())` means ERANGE.
pub fn strtold_digits(s: &[u8]) -> Result<F80, ()> {
    let int_len = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut frac: &[u8] = &[];
    if s.get(int_len) == Some(&b'.') {
        let rest = &s[int_len + 1..];
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        frac = &rest[..n];
    }
    let int = &s[..int_len];
    if int.is_empty() && frac.is_empty() {
        return Ok(F80::ZERO);
    }
    let mut text = String::with_capacity(int.len() + frac.len() + 2);
    if int.is_empty() {
        text.push('0');
    } else {
        text.push_str(std::str::from_utf8(int).unwrap_or("0"));
    }
    if !frac.is_empty() {
        text.push('.');
        text.push_str(std::str::from_utf8(frac).unwrap_or("0"));
    }
    match X::from_str_r(&text, Round::NearestTiesToEven) {
        Ok(r) => {
            if r.status.intersects(Status::OVERFLOW | Status::UNDERFLOW) {
                Err(())
            } else {
                Ok(F80::from_x(r.value))
            }
        }
        Err(_) => Ok(F80::ZERO),
    }
}

// ---------------------------------------------------------------- printf("%.18Lg")

/// Minimal little-endian base-2^32 big integer used for exact decimal conversion.
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        Big(vec![v as u32, (v >> 32) as u32])
    }
    fn mul_small(&mut self, k: u32) {
        let mut carry = 0u64;
        for d in self.0.iter_mut() {
            let t = *d as u64 * k as u64 + carry;
            *d = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }
    fn shl(&mut self, bits: u64) {
        let words = (bits / 32) as usize;
        let b = (bits % 32) as u32;
        if b != 0 {
            let mut carry = 0u32;
            for d in self.0.iter_mut() {
                let nd = (*d << b) | carry;
                carry = *d >> (32 - b);
                *d = nd;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        if words > 0 {
            let mut v = vec![0u32; words];
            v.append(&mut self.0);
            self.0 = v;
        }
    }
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    /// Decimal digits (values 0..=9), most significant first.
    fn into_digits(mut self) -> Vec<u8> {
        self.trim();
        let mut chunks: Vec<u32> = Vec::new();
        while !self.0.is_empty() {
            let mut rem = 0u64;
            for d in self.0.iter_mut().rev() {
                let cur = (rem << 32) | *d as u64;
                *d = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            chunks.push(rem as u32);
            self.trim();
        }
        let mut out = Vec::with_capacity(chunks.len() * 9);
        for (i, c) in chunks.iter().rev().enumerate() {
            let s = if i == 0 {
                c.to_string()
            } else {
                format!("{c:09}")
            };
            out.extend(s.bytes().map(|b| b - b'0'));
        }
        if out.is_empty() {
            out.push(0);
        }
        out
    }
}

/// Formats like glibc `printf("%.18Lg", x)` for an x87 long double.
pub fn format_g18(x: F80) -> String {
    format_g(x, 18)
}

pub fn format_g(x: F80, prec: usize) -> String {
    let neg = x.sign();
    let sign = if neg { "-" } else { "" };
    if x.is_nan() {
        return format!("{sign}nan");
    }
    if x.is_inf() {
        return format!("{sign}inf");
    }
    if x.is_zero() {
        return format!("{sign}0");
    }
    let (mut sig, mut e2) = x.unpack();
    let tz = sig.trailing_zeros();
    sig >>= tz;
    e2 += tz as i64;
    let mut big = Big::from_u64(sig);
    let k: i64 = if e2 >= 0 {
        big.shl(e2 as u64);
        0
    } else {
        let mut m = -e2;
        while m >= 13 {
            big.mul_small(1_220_703_125); // 5^13
            m -= 13;
        }
        for _ in 0..m {
            big.mul_small(5);
        }
        e2
    };
    let mut d = big.into_digits();
    let p = prec.max(1);
    let mut xexp = d.len() as i64 - 1 + k;
    if d.len() > p {
        let rd = d[p];
        let rest = d[p + 1..].iter().any(|&c| c != 0);
        d.truncate(p);
        if rd > 5 || (rd == 5 && (rest || d[p - 1] % 2 == 1)) {
            let mut i = p;
            loop {
                if i == 0 {
                    d.insert(0, 1);
                    d.truncate(p);
                    xexp += 1;
                    break;
                }
                i -= 1;
                if d[i] == 9 {
                    d[i] = 0;
                } else {
                    d[i] += 1;
                    break;
                }
            }
        }
    }
    while d.len() > 1 && d.last() == Some(&0) {
        d.pop();
    }
    let digit = |v: u8| (b'0' + v) as char;
    let mut out = String::from(sign);
    if xexp < -4 || xexp >= p as i64 {
        out.push(digit(d[0]));
        if d.len() > 1 {
            out.push('.');
            d[1..].iter().for_each(|&v| out.push(digit(v)));
        }
        out.push('e');
        out.push(if xexp < 0 { '-' } else { '+' });
        let a = xexp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else if xexp >= 0 {
        let ilen = xexp as usize + 1;
        for i in 0..ilen {
            out.push(digit(*d.get(i).unwrap_or(&0)));
        }
        if d.len() > ilen {
            out.push('.');
            d[ilen..].iter().for_each(|&v| out.push(digit(v)));
        }
    } else {
        out.push_str("0.");
        for _ in 0..(-xexp - 1) {
            out.push('0');
        }
        d.iter().for_each(|&v| out.push(digit(v)));
    }
    out
}

// ---------------------------------------------------------------- libm

/// The nearest `f64`.
fn to_f64(x: F80) -> f64 {
    let mut loses_info = false;
    let d: Double = x
        .x()
        .convert_r(Round::NearestTiesToEven, &mut loses_info)
        .value;
    f64::from_bits(d.to_bits() as u64)
}

/// The exact `long double` of an `f64`.
fn from_f64(v: f64) -> F80 {
    if v.is_nan() {
        return F80::default_nan();
    }
    let mut loses_info = false;
    let d = Double::from_bits(u128::from(v.to_bits()));
    F80::from_x(d.convert_r(Round::NearestTiesToEven, &mut loses_info).value)
}

/// Which libm function to evaluate.
#[derive(Clone, Copy, Debug)]
pub enum Fun {
    Cos,
    Sin,
    Tan,
    Acos,
    Asin,
    Atan,
    Exp,
    Exp2,
    Exp10,
    Log,
    Log2,
    Log10,
}

/// Unary glibc long double functions (special cases follow glibc 2.36 on x86-64).
pub fn unary(f: Fun, x: F80) -> F80 {
    if x.is_nan() {
        // glibc's acosl clears the sign of a NaN argument
        return if matches!(f, Fun::Acos) {
            x.quiet().abs()
        } else {
            x.quiet()
        };
    }
    let neg = x.sign();
    match f {
        Fun::Cos | Fun::Sin | Fun::Tan if x.is_inf() => return F80::default_nan(),
        Fun::Sin | Fun::Tan | Fun::Asin | Fun::Atan if x.is_zero() => return x,
        Fun::Cos if x.is_zero() => return F80::from_i64(1),
        Fun::Acos | Fun::Asin if x.is_inf() => return F80::default_nan().abs(),
        Fun::Exp | Fun::Exp2 | Fun::Exp10 if x.is_inf() => {
            return if neg { F80::ZERO } else { x };
        }
        Fun::Exp | Fun::Exp2 | Fun::Exp10 if x.is_zero() => return F80::from_i64(1),
        Fun::Log | Fun::Log2 | Fun::Log10 => {
            if x.is_zero() {
                return F80::infinity(true);
            }
            if neg {
                return F80::default_nan().abs();
            }
            if x.is_inf() {
                return x;
            }
            if x.eq(F80::from_i64(1)) {
                return F80::ZERO;
            }
        }
        Fun::Atan if x.is_inf() => {
            let r = from_f64(std::f64::consts::FRAC_PI_2);
            return if neg { r.neg() } else { r };
        }
        _ => {}
    }
    if matches!(f, Fun::Acos | Fun::Asin) && x.abs().gt(F80::from_i64(1)) {
        return F80::default_nan().abs();
    }
    if matches!(f, Fun::Exp | Fun::Exp2 | Fun::Exp10) {
        // clamp far outside the representable range (avoids huge big-float work)
        let lim = F80::from_i64(20000);
        if x.gt(lim) {
            return F80::infinity(false);
        }
        if x.lt(lim.neg()) {
            return F80::ZERO;
        }
    }
    let v = to_f64(x);
    let r = match f {
        Fun::Cos => v.cos(),
        Fun::Sin => v.sin(),
        Fun::Tan => v.tan(),
        Fun::Acos => v.acos(),
        Fun::Asin => v.asin(),
        Fun::Atan => v.atan(),
        Fun::Exp => v.exp(),
        Fun::Exp2 => v.exp2(),
        Fun::Exp10 => 10f64.powf(v),
        Fun::Log => v.ln(),
        Fun::Log2 => v.log2(),
        Fun::Log10 => v.log10(),
    };
    from_f64(r)
}

/// `atan2l(y, x)`.
pub fn atan2(y: F80, x: F80) -> F80 {
    if let Some(n) = nan_operand(y, x) {
        return n;
    }
    from_f64(to_f64(y).atan2(to_f64(x)))
}

/// `powl(x, y)`.
pub fn pow(x: F80, y: F80) -> F80 {
    let one = F80::from_i64(1);
    if y.is_zero() || x.eq(one) {
        return one;
    }
    if let Some(n) = nan_operand(x, y) {
        return n;
    }
    let y_int = y.is_finite() && y.trunc().eq(y);
    let y_odd = y_int && {
        let h = y.mul(F80::from_parts(false, (BIAS - 1) as u16, 1 << 63)); // y/2
        !h.trunc().eq(h)
    };
    if y.is_inf() {
        let ax = x.abs();
        if ax.eq(one) {
            return one;
        }
        let big = ax.gt(one);
        return if big != y.sign() {
            F80::infinity(false)
        } else {
            F80::ZERO
        };
    }
    if x.is_zero() {
        let rneg = x.sign() && y_odd;
        return if y.sign() {
            F80::infinity(rneg)
        } else {
            F80::from_parts(rneg, 0, 0)
        };
    }
    if x.is_inf() {
        let rneg = x.sign() && y_odd;
        return if y.sign() {
            F80::from_parts(rneg, 0, 0)
        } else {
            F80::infinity(rneg)
        };
    }
    if x.sign() && !y_int {
        return F80::default_nan();
    }
    let rneg = x.sign() && y_odd;
    if x.abs().eq(one) {
        return if rneg { one.neg() } else { one };
    }
    // screen results far outside the exponent range (log2|result| = y * log2|x|)
    let (sx, ex) = x.unpack();
    let l2 = ((sx as f64).log2() + ex as f64) * approx_f64(y);
    if l2 > 17000.0 {
        return F80::infinity(rneg);
    }
    if l2 < -17000.0 {
        return F80::from_parts(rneg, 0, 0);
    }
    let r = from_f64(to_f64(x.abs()).powf(to_f64(y)));
    if rneg { r.neg() } else { r }
}

fn approx_f64(x: F80) -> f64 {
    let (s, e) = x.unpack();
    let v = (s as f64) * 2f64.powi(e.clamp(-2000, 2000) as i32);
    if x.sign() { -v } else { v }
}

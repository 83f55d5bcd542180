//! Evaluator for Asterisk dialplan expressions (`$[ ... ]`), modelled byte-for-byte on
//! Asterisk 22.10.1 `ast_str_expr()` (main/ast_expr2.fl + main/ast_expr2.y) running on
//! x86-64 glibc with the `C.UTF-8` locale that `asterisk` selects at start-up, with no
//! channel (as in res_phoneprov).
//!
//! Structure: a flex-compatible lexer ([`lex`]), an LALR-equivalent shift/reduce
//! operator-precedence parser built from `nom` token parsers (explicit stack, no
//! recursion, bison's 10000-entry stack limit reproduced), the `op_*` semantics, an x87
//! 80-bit `long double` emulation ([`num`]) and a POSIX-ERE front end for the regex
//! operators ([`ere`]).
//!
//! Verified by differential testing against Asterisk's own generated scanner/parser
//! (main/ast_expr2f.c + ast_expr2.c built stand-alone, C.UTF-8, glibc 2.36): >100k random
//! expressions, token soups, regexes and special floating-point values.
//!
//! Known differences from Asterisk:
//! * SQRT and the transcendental functions (COS … LOG10, POW, ATAN2) are computed in double
//!   precision and widened, so results can differ from glibc's x87 ones from the 16th printed
//!   digit. +, -, *, /, %, FLOOR, CEIL, ROUND, RINT, TRUNC, REMAINDER, ABS, strtold and
//!   `%.18Lg` are exact.
//! * Asterisk reads uninitialised memory when a math function gets a *string* argument
//!   (`COS(abc)`, `ATAN2(1,)`): we use a fixed tiny positive denormal, which reproduces
//!   every pointer-independent result (COS→1, CEIL→1, ACOS→π/2, EXP→1 …) but not the
//!   address-dependent ones (SIN, LOG, …), nor results of `malloc` garbage.
//! * A numeric string whose conversion overflowed (> ~4930 digits) becomes a NULL string
//!   in C; where Asterisk would then crash (strcoll/strtold on NULL) we use "", and a
//!   NULL final result yields an empty value (Asterisk appends its previous buffer).
//! * Regex: POSIX leftmost-longest overall matches are exact; the first subexpression is
//!   chosen by leftmost-first priority among paths giving that match, which differs from
//!   glibc for groups that can match the empty string inside repetitions/alternations.
//!   Back-references (`\1`) are reported as a regcomp error (Asterisk evaluates them).
//!   Character classes are exact for ASCII, Unicode approximations beyond; `\b \< \>` use
//!   ASCII word characters. More than 200 nested groups → "Memory exhausted" (glibc
//!   recurses without limit).
//! * Syntax-error messages in [`Evaluation::error`] reproduce bison's text; inputs longer
//!   than 200 bytes get an offset instead of the input/caret lines.

use std::borrow::Cow;

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{digit1, one_of};
use nom::combinator::{map, opt, recognize};
use nom::sequence::{delimited, pair};

use num::{F80, Fun};

/// Result of evaluating an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// Exactly the bytes `ast_str_expr` would put in the output.
    pub value: Vec<u8>,
    /// Human-readable summary of what Asterisk would log at WARNING/ERROR level while
    /// evaluating (syntax errors, non-numeric arguments, division by zero, regex errors ...).
    /// Like Asterisk's log it may quote the expression, so it may hold the values substituted into it.
    pub error: Option<String>,
    /// The same problems without any text of the expression: what a diagnostic may show.
    pub summary: Option<String>,
}

/// Evaluates the text between `$[` and `]` (already variable-substituted by the caller) and
/// returns exactly the bytes Asterisk's `ast_str_expr` would append to the output, plus a
/// human-readable message when Asterisk would log a syntax/evaluation error.
pub fn evaluate(expr: &[u8]) -> Evaluation {
    // Asterisk works on a C string: nothing after a NUL byte is seen.
    let input = match expr.iter().position(|&b| b == 0) {
        Some(p) => &expr[..p],
        None => expr,
    };
    let toks = lex(input);
    let mut log = Log::default();
    let outcome = Machine::new(input, &toks, &mut log).run();
    let value = match outcome {
        Outcome::Abort => b"0".to_vec(),
        Outcome::Empty => Vec::new(),
        Outcome::Value(Val::Num(x)) => num::format_g18(x).into_bytes(),
        Outcome::Value(Val::NumStr(s) | Val::Str(s)) => s.into_owned(),
        Outcome::Value(Val::NullNum) => {
            log.push_static("result is a NULL string (numeric overflow): Asterisk appends nothing");
            Vec::new()
        }
    };
    Evaluation {
        value,
        error: joined(&log.full),
        summary: joined(&log.safe),
    }
}

fn joined(messages: &[String]) -> Option<String> {
    (!messages.is_empty()).then(|| messages.join("; "))
}

/// What Asterisk would log, twice: as it logs it, and without the expression's text.
#[derive(Default)]
struct Log {
    full: Vec<String>,
    safe: Vec<String>,
}

impl Log {
    fn push_static(&mut self, message: &str) {
        self.full.push(message.to_owned());
        self.safe.push(message.to_owned());
    }
}

// ====================================================================== lexer

/// Token kinds (bison terminals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Or,
    And,
    Eq,
    Gt,
    Lt,
    Ge,
    Le,
    Ne,
    Plus,
    Minus,
    Mult,
    Div,
    Mod,
    Cond,
    ColonColon,
    Compl,
    Colon,
    EqTilde,
    TildeTilde,
    Comma,
    Lp,
    Rp,
    Token,
    End,
}

impl Kind {
    /// Name as printed by bison, after Asterisk's `expr2_token_subst()`.
    fn bison_name(self) -> &'static str {
        match self {
            Kind::Or => "'|'",
            Kind::And => "'&'",
            Kind::Eq => "'='",
            Kind::Gt => "'>'",
            Kind::Lt => "'<'",
            Kind::Ge => "'>='",
            Kind::Le => "'<='",
            Kind::Ne => "'!='",
            Kind::Plus => "'+'",
            Kind::Minus => "'-'",
            Kind::Mult => "'*'",
            Kind::Div => "'/'",
            Kind::Mod => "'%'",
            Kind::Cond => "'?'",
            Kind::ColonColon => "'::'",
            Kind::Compl => "'!'",
            Kind::Colon => "':'",
            // "TOK_EQTILDE" is mangled by the prefix match on "TOK_EQ"
            Kind::EqTilde => "'='TILDE",
            Kind::TildeTilde => "TOK_TILDETILDE",
            Kind::Comma => "','",
            Kind::Lp => "'('",
            Kind::Rp => "')'",
            Kind::Token => "'<token>'",
            Kind::End => "$end",
        }
    }

    /// Precedence level of binary operators (bison `%left` lines, 1 = lowest).
    fn binop_prec(self) -> Option<u8> {
        Some(match self {
            Kind::Cond | Kind::ColonColon => 2,
            Kind::Or => 3,
            Kind::And => 4,
            Kind::Eq | Kind::Gt | Kind::Lt | Kind::Ge | Kind::Le | Kind::Ne => 5,
            Kind::Plus | Kind::Minus => 6,
            Kind::Mult | Kind::Div | Kind::Mod => 7,
            Kind::Colon | Kind::EqTilde | Kind::TildeTilde => 9,
            _ => return None,
        })
    }
}

/// Precedence of the unary rules (`%prec TOK_COMPL`, right associative).
const UNARY_PREC: u8 = 8;

/// A lexed token: kind plus the byte range of its text in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
    /// `TOKEN` produced by the `[0-9]+(\.[0-9]+)?` rule (AST_EXPR_numeric_string).
    numeric: bool,
}

type LexRes<'a, O> = nom::IResult<&'a [u8], O>;

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".';\\_^#@".contains(&c) || c >= 0x80
}

/// `([a-zA-Z0-9\.';\\_^#@]|[\x80-\xff]|($[^{]))+` — returns the match length (0 = none).
fn word_len(s: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match s.get(i) {
            Some(&c) if is_word_byte(c) => i += 1,
            Some(b'$') if s.get(i + 1).is_some_and(|&n| n != b'{') => i += 2,
            _ => return i,
        }
    }
}

fn lex_operator(i: &[u8]) -> LexRes<'_, Kind> {
    alt((
        alt((
            map(tag("||"), |_| Kind::Or),
            map(tag("&&"), |_| Kind::And),
            map(tag("=="), |_| Kind::Eq),
            map(tag("=~"), |_| Kind::EqTilde),
            map(tag("~~"), |_| Kind::TildeTilde),
            map(tag(">="), |_| Kind::Ge),
            map(tag("<="), |_| Kind::Le),
            map(tag("!="), |_| Kind::Ne),
            map(tag("::"), |_| Kind::ColonColon),
        )),
        map(one_of("|&=><+,-*/%?!:()"), |c| match c {
            '|' => Kind::Or,
            '&' => Kind::And,
            '=' => Kind::Eq,
            '>' => Kind::Gt,
            '<' => Kind::Lt,
            '+' => Kind::Plus,
            ',' => Kind::Comma,
            '-' => Kind::Minus,
            '*' => Kind::Mult,
            '/' => Kind::Div,
            '%' => Kind::Mod,
            '?' => Kind::Cond,
            '!' => Kind::Compl,
            ':' => Kind::Colon,
            '(' => Kind::Lp,
            _ => Kind::Rp,
        }),
    ))
    .parse(i)
}

fn lex_quoted(i: &[u8]) -> LexRes<'_, &[u8]> {
    recognize(delimited(tag("\""), take_while(|c| c != b'"'), tag("\""))).parse(i)
}

fn lex_number(i: &[u8]) -> LexRes<'_, &[u8]> {
    recognize(pair(digit1, opt(pair(tag("."), digit1)))).parse(i)
}

/// Bytes that end a `${...}` token in flex's `trail` start condition.
fn is_trail_stop(c: u8) -> bool {
    b"-\t\r \n$():?%/+=*<>!|&".contains(&c)
}

/// Tokenises like the flex scanner in ast_expr2.fl (longest match, first rule wins ties,
/// unmatched bytes are ECHOed — i.e. dropped — by flex's default rule).
fn lex(input: &[u8]) -> Vec<Tok> {
    enum St {
        Initial,
        Var { start: usize, curly: i64 },
        Trail { start: usize },
    }
    let mut toks = Vec::new();
    let mut pos = 0usize;
    let mut st = St::Initial;
    let push = |toks: &mut Vec<Tok>, kind, start, end, numeric| {
        toks.push(Tok {
            kind,
            start,
            end,
            numeric,
        })
    };
    loop {
        let rest = &input[pos..];
        match st {
            St::Initial => {
                if rest.is_empty() {
                    break;
                }
                if let Ok((r, k)) = lex_operator(rest) {
                    let len = rest.len() - r.len();
                    push(&mut toks, k, pos, pos + len, false);
                    pos += len;
                } else if rest.starts_with(b"${") {
                    st = St::Var {
                        start: pos,
                        curly: 0,
                    };
                    pos += 2;
                } else if let Ok((r, _)) =
                    one_of::<_, _, nom::error::Error<&[u8]>>(" \t\r\n").parse(rest)
                {
                    pos += rest.len() - r.len();
                } else if let Ok((r, _)) = lex_quoted(rest) {
                    let len = rest.len() - r.len();
                    push(&mut toks, Kind::Token, pos, pos + len, false);
                    pos += len;
                } else {
                    let w = word_len(rest);
                    let n = lex_number(rest).map_or(0, |(r, _)| rest.len() - r.len());
                    if w > 0 && rest[w..].starts_with(b"${") {
                        st = St::Var {
                            start: pos,
                            curly: 0,
                        };
                        pos += w + 2;
                    } else if n > 0 && n >= w {
                        push(&mut toks, Kind::Token, pos, pos + n, true);
                        pos += n;
                    } else if w > 0 {
                        push(&mut toks, Kind::Token, pos, pos + w, false);
                        pos += w;
                    } else {
                        pos += 1; // flex default rule: ECHO
                    }
                }
            }
            St::Var { start, curly } => {
                match rest.iter().position(|&c| c == b'{' || c == b'}') {
                    // no brace left: every byte is ECHOed, then EOF in <var>
                    None => break,
                    Some(p) => {
                        pos += p + 1;
                        if rest[p] == b'}' {
                            st = if curly - 1 < 0 {
                                St::Trail { start }
                            } else {
                                St::Var {
                                    start,
                                    curly: curly - 1,
                                }
                            };
                        } else {
                            st = St::Var {
                                start,
                                curly: curly + 1,
                            };
                        }
                    }
                }
            }
            St::Trail { start } => {
                if rest.is_empty() {
                    push(&mut toks, Kind::Token, start, pos, false);
                    break;
                }
                let run = take_while1::<_, _, nom::error::Error<&[u8]>>(|c| !is_trail_stop(c))
                    .parse(rest)
                    .map_or(0, |(r, _)| rest.len() - r.len());
                if rest[run..].starts_with(b"${") {
                    pos += run + 2;
                    st = St::Var { start, curly: 0 };
                } else if run == 0 {
                    // `unput(c)` leaves yytext unterminated: strdup() copies the whole rest
                    // of the buffer into the token, and scanning resumes at `c`.
                    push(&mut toks, Kind::Token, start, input.len(), false);
                    st = St::Initial;
                } else {
                    pos += run;
                    push(&mut toks, Kind::Token, start, pos, false);
                    st = St::Initial;
                }
            }
        }
    }
    toks.push(Tok {
        kind: Kind::End,
        start: input.len(),
        end: input.len(),
        numeric: false,
    });
    toks
}

// ====================================================================== token stream for nom

/// A slice of tokens usable as `nom` input.
#[derive(Clone, Copy, Debug)]
struct Toks<'t>(&'t [Tok]);

impl<'t> nom::Input for Toks<'t> {
    type Item = Tok;
    type Iter = std::iter::Copied<std::slice::Iter<'t, Tok>>;
    type IterIndices = std::iter::Enumerate<Self::Iter>;

    fn input_len(&self) -> usize {
        self.0.len()
    }
    fn take(&self, index: usize) -> Self {
        Toks(&self.0[..index])
    }
    fn take_from(&self, index: usize) -> Self {
        Toks(&self.0[index..])
    }
    fn take_split(&self, index: usize) -> (Self, Self) {
        let (a, b) = self.0.split_at(index);
        (Toks(b), Toks(a))
    }
    fn position<P>(&self, predicate: P) -> Option<usize>
    where
        P: Fn(Self::Item) -> bool,
    {
        self.0.iter().position(|t| predicate(*t))
    }
    fn iter_elements(&self) -> Self::Iter {
        self.0.iter().copied()
    }
    fn iter_indices(&self) -> Self::IterIndices {
        self.iter_elements().enumerate()
    }
    fn slice_index(&self, count: usize) -> Result<usize, nom::Needed> {
        if self.0.len() >= count {
            Ok(count)
        } else {
            Err(nom::Needed::new(count - self.0.len()))
        }
    }
}

type TRes<'t, O> = nom::IResult<Toks<'t>, O>;

/// One token satisfying `pred`.
fn tok_if<'t>(
    pred: impl Fn(Kind) -> bool,
) -> impl Parser<Toks<'t>, Output = Tok, Error = nom::error::Error<Toks<'t>>> {
    move |i: Toks<'t>| match i.0.first() {
        Some(t) if pred(t.kind) => Ok((Toks(&i.0[1..]), *t)),
        _ => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        ))),
    }
}

fn tok<'t>(k: Kind) -> impl Parser<Toks<'t>, Output = Tok, Error = nom::error::Error<Toks<'t>>> {
    tok_if(move |x| x == k)
}

/// What can start an operand (the shifts available in "expecting expr" states).
#[derive(Clone, Copy, Debug)]
enum Operand {
    /// `TOKEN (` — function call head.
    Call(Tok),
    /// plain `TOKEN`, reduced immediately to `expr`.
    Token(Tok),
    Lp,
    Minus,
    Compl,
}

fn operand_start(i: Toks<'_>) -> TRes<'_, Operand> {
    alt((
        map(pair(tok(Kind::Token), tok(Kind::Lp)), |(t, _)| {
            Operand::Call(t)
        }),
        map(tok(Kind::Token), Operand::Token),
        map(tok(Kind::Lp), |_| Operand::Lp),
        map(tok(Kind::Minus), |_| Operand::Minus),
        map(tok(Kind::Compl), |_| Operand::Compl),
    ))
    .parse(i)
}

/// A binary operator (including `?`) that can follow an `expr`.
fn infix_op(i: Toks<'_>) -> TRes<'_, Kind> {
    map(
        tok_if(|k| k != Kind::ColonColon && k.binop_prec().is_some()),
        |t| t.kind,
    )
    .parse(i)
}

// ====================================================================== values

/// `struct val`: a number, a numeric string, or a string.
#[derive(Clone, Debug)]
enum Val<'a> {
    Num(F80),
    NumStr(Cow<'a, [u8]>),
    Str(Cow<'a, [u8]>),
    /// AST_EXPR_numeric_string whose `u.s` was freed and set to NULL by a failed
    /// (ERANGE) `to_number()`.
    NullNum,
}

/// Stand-in for reading `u.i` of a string value (the union holds a `char *`): a small
/// positive denormal, which is what calloc'ed lexer tokens give on x86-64.
fn garbage_number() -> F80 {
    F80::from_parts(false, 0, 0x0000_7f00_0000_1010)
}

fn make_str<'a>(s: Cow<'a, [u8]>) -> Val<'a> {
    // isint loop in make_str(): all bytes digits or '.', and not empty (a leading '-' fails
    // the loop because index 0 is checked again).
    if !s.is_empty() && s.iter().all(|&c| c.is_ascii_digit() || c == b'.') {
        Val::NumStr(s)
    } else {
        Val::Str(s)
    }
}

fn int_max() -> F80 {
    F80::from_i64(i32::MAX as i64)
}

fn quad_min() -> F80 {
    F80::from_i64(i64::MIN)
}

/// glibc `atoi()` == `(int) strtol(s, NULL, 10)`.
fn atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut v: i128 = 0;
    let mut sat = false;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v * 10 + (s[i] - b'0') as i128;
        if v > i64::MAX as i128 + 1 {
            sat = true;
            break;
        }
        i += 1;
    }
    let l: i64 = if sat {
        if neg { i64::MIN } else { i64::MAX }
    } else if neg {
        (-v).max(i64::MIN as i128) as i64
    } else {
        v.min(i64::MAX as i128) as i64
    };
    l as i32
}

struct Ctx<'l> {
    log: &'l mut Log,
}

impl Ctx<'_> {
    /// A message that quotes nothing of the expression.
    fn warn(&mut self, m: &str) {
        self.log.push_static(m);
    }

    /// A message that quotes the expression (`full`), and its summary without that text.
    fn warn_quoting(&mut self, full: String, safe: &str) {
        self.log.full.push(full);
        self.log.safe.push(safe.to_owned());
    }

    /// `to_number()`: converts numeric strings in place; false for strings.
    fn coerce_number(&mut self, v: &mut Val<'_>) -> bool {
        match v {
            Val::Num(_) => true,
            Val::Str(_) | Val::NullNum => false,
            Val::NumStr(s) => match num::strtold_digits(s) {
                Ok(x) => {
                    *v = Val::Num(x);
                    true
                }
                Err(()) => {
                    self.warn_quoting(
                        format!(
                            "Conversion of {} to number under/overflowed!",
                            String::from_utf8_lossy(s)
                        ),
                        "conversion of a value to a number under/overflowed",
                    );
                    *v = Val::NullNum;
                    false
                }
            },
        }
    }

    /// Reads `u.i` after an (unchecked) `to_number()`.
    fn raw_number(v: &Val<'_>) -> F80 {
        match v {
            Val::Num(x) => *x,
            Val::NullNum => F80::ZERO,
            _ => garbage_number(),
        }
    }

    fn is_zero_or_null(&mut self, v: &mut Val<'_>) -> bool {
        match v {
            Val::Num(x) => x.is_zero(),
            Val::NullNum => true,
            Val::NumStr(s) | Val::Str(s) => {
                if s.is_empty() {
                    return true;
                }
                self.coerce_number(v) && matches!(v, Val::Num(x) if x.is_zero())
            }
        }
    }
}

fn to_string(v: Val<'_>) -> Cow<'_, [u8]> {
    match v {
        Val::Num(x) => Cow::Owned(num::format_g18(x).into_bytes()),
        Val::NumStr(s) | Val::Str(s) => s,
        Val::NullNum => Cow::Borrowed(&[]),
    }
}

fn is_string(v: &Val<'_>) -> bool {
    matches!(v, Val::Str(_))
}

fn strip_quotes(s: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    if s.first() == Some(&b'"') && s.last() == Some(&b'"') {
        Cow::Owned(s.iter().copied().filter(|&c| c != b'"').collect())
    } else {
        s
    }
}

fn num(x: F80) -> Val<'static> {
    Val::Num(x)
}

fn bool_num(b: bool) -> Val<'static> {
    Val::Num(F80::from_i64(b as i64))
}

#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Gt,
    Lt,
    Ge,
    Le,
    Ne,
}

impl Ctx<'_> {
    fn op_or<'a>(&mut self, mut a: Val<'a>, b: Val<'a>) -> Val<'a> {
        if self.is_zero_or_null(&mut a) { b } else { a }
    }

    fn op_and<'a>(&mut self, mut a: Val<'a>, mut b: Val<'a>) -> Val<'a> {
        if self.is_zero_or_null(&mut a) || self.is_zero_or_null(&mut b) {
            num(F80::ZERO)
        } else {
            a
        }
    }

    fn op_cmp<'a>(&mut self, op: Cmp, mut a: Val<'a>, mut b: Val<'a>) -> Val<'a> {
        if is_string(&a) || is_string(&b) {
            let (sa, sb) = (to_string(a), to_string(b));
            // strcoll() in C.UTF-8 is a plain byte comparison
            let o = sa.as_ref().cmp(sb.as_ref());
            use std::cmp::Ordering::*;
            bool_num(match op {
                Cmp::Eq => o == Equal,
                Cmp::Gt => o == Greater,
                Cmp::Lt => o == Less,
                Cmp::Ge => o != Less,
                Cmp::Le => o != Greater,
                Cmp::Ne => o != Equal,
            })
        } else {
            self.coerce_number(&mut a);
            self.coerce_number(&mut b);
            let (x, y) = (Self::raw_number(&a), Self::raw_number(&b));
            bool_num(match op {
                Cmp::Eq => x.eq(y),
                Cmp::Gt => x.gt(y),
                Cmp::Lt => x.lt(y),
                Cmp::Ge => x.ge(y),
                Cmp::Le => x.le(y),
                Cmp::Ne => !x.eq(y),
            })
        }
    }

    fn op_cond<'a>(&mut self, mut a: Val<'a>, b: Val<'a>, c: Val<'a>) -> Val<'a> {
        let take_b = if let Val::Str(s) = &a {
            !s.is_empty() && s.as_ref() != b"\"\"" && s.as_ref() != b"0"
        } else {
            self.coerce_number(&mut a);
            Self::raw_number(&a).truthy()
        };
        if take_b { b } else { c }
    }

    fn chk_plus(a: F80, b: F80, r: F80) -> bool {
        let z = F80::ZERO;
        (a.gt(z) && b.gt(z) && r.le(z)) || (a.lt(z) && b.lt(z) && r.ge(z))
    }

    fn chk_minus(a: F80, b: F80, r: F80) -> bool {
        if b.eq(quad_min()) {
            return a.ge(F80::ZERO);
        }
        Self::chk_plus(a, b.neg(), r)
    }

    fn op_plus<'a>(&mut self, mut a: Val<'a>, mut b: Val<'a>) -> Val<'a> {
        if !self.coerce_number(&mut a) {
            self.warn("non-numeric argument");
            return if !self.coerce_number(&mut b) {
                num(F80::ZERO)
            } else {
                b
            };
        } else if !self.coerce_number(&mut b) {
            return a;
        }
        let (x, y) = (Self::raw_number(&a), Self::raw_number(&b));
        let r = x.add(y);
        if Self::chk_plus(x, y, r) {
            self.warn("overflow");
        }
        num(r)
    }

    fn op_minus<'a>(&mut self, mut a: Val<'a>, mut b: Val<'a>) -> Val<'a> {
        if !self.coerce_number(&mut a) {
            self.warn("non-numeric argument");
            return if !self.coerce_number(&mut b) {
                num(F80::ZERO)
            } else {
                num(F80::ZERO.sub(Self::raw_number(&b)))
            };
        } else if !self.coerce_number(&mut b) {
            self.warn("non-numeric argument");
            return a;
        }
        let (x, y) = (Self::raw_number(&a), Self::raw_number(&b));
        let r = x.sub(y);
        if Self::chk_minus(x, y, r) {
            self.warn("overflow");
        }
        num(r)
    }

    fn op_negate<'a>(&mut self, mut a: Val<'a>) -> Val<'a> {
        if !self.coerce_number(&mut a) {
            self.warn("non-numeric argument");
            return num(F80::ZERO);
        }
        let x = Self::raw_number(&a);
        let r = x.neg();
        if Self::chk_minus(F80::ZERO, x, r) {
            self.warn("overflow");
        }
        num(r)
    }

    fn op_compl<'a>(&mut self, a: Val<'a>) -> Val<'a> {
        let v1: i32 = match &a {
            Val::Num(x) => x.truthy() as i32,
            Val::NullNum => 0,
            Val::Str(s) | Val::NumStr(s) => {
                if s.is_empty() || s.as_ref() == b"0" {
                    0
                } else {
                    atoi(s)
                }
            }
        };
        bool_num(v1 == 0)
    }

    fn op_times<'a>(&mut self, mut a: Val<'a>, mut b: Val<'a>) -> Val<'a> {
        if !self.coerce_number(&mut a) || !self.coerce_number(&mut b) {
            self.warn("non-numeric argument");
            return num(F80::ZERO);
        }
        let (x, y) = (Self::raw_number(&a), Self::raw_number(&b));
        let r = x.mul(y);
        if !x.eq(F80::ZERO) && !r.div(x).eq(y) {
            self.warn("overflow");
        }
        num(r)
    }

    fn op_div<'a>(&mut self, mut a: Val<'a>, mut b: Val<'a>) -> Val<'a> {
        if !self.coerce_number(&mut a) {
            self.warn("non-numeric argument");
            return num(F80::ZERO);
        } else if !self.coerce_number(&mut b) {
            self.warn("non-numeric argument");
            return num(int_max());
        }
        let (x, y) = (Self::raw_number(&a), Self::raw_number(&b));
        if y.eq(F80::ZERO) {
            self.warn("division by zero");
            return num(int_max());
        }
        let r = x.div(y);
        if x.eq(quad_min()) && y.eq(F80::from_i64(-1)) {
            self.warn("overflow");
        }
        num(r)
    }

    fn op_rem<'a>(&mut self, mut a: Val<'a>, mut b: Val<'a>) -> Val<'a> {
        if !self.coerce_number(&mut a) || !self.coerce_number(&mut b) {
            self.warn("non-numeric argument");
            return num(F80::ZERO);
        }
        let (x, y) = (Self::raw_number(&a), Self::raw_number(&b));
        if y.eq(F80::ZERO) {
            self.warn("div by zero");
            return b;
        }
        num(x.fmod(y))
    }

    /// `:` (anchored) and `=~` (unanchored) regex match operators.
    fn op_regex<'a>(&mut self, a: Val<'a>, b: Val<'a>, anchored: bool) -> Val<'a> {
        let subject = strip_quotes(to_string(a));
        let pattern = strip_quotes(to_string(b));
        let re = match ere::Regex::new(&pattern) {
            Ok(re) => re,
            Err(e) => {
                let message = format!("regcomp() error : {}", e.message());
                self.warn(&message);
                return Val::Str(Cow::Borrowed(&[]));
            }
        };
        match re.exec(&subject, anchored) {
            Some(m) => match m.group1 {
                Some((s, e)) => make_str(Cow::Owned(subject[s..e].to_vec())),
                None => num(F80::from_i64((m.end - m.start) as i64)),
            },
            None => {
                if re.nsub() == 0 {
                    num(F80::ZERO)
                } else {
                    Val::Str(Cow::Borrowed(&[]))
                }
            }
        }
    }

    fn op_tildetilde<'a>(&mut self, a: Val<'a>, b: Val<'a>) -> Val<'a> {
        let sa = strip_quotes(to_string(a));
        let sb = strip_quotes(to_string(b));
        let mut v = sa.into_owned();
        v.extend_from_slice(&sb);
        make_str(Cow::Owned(v))
    }

    fn op_func<'a>(&mut self, name: Val<'a>, mut args: Vec<Val<'a>>) -> Val<'a> {
        let name = to_string(name);
        let shown = String::from_utf8_lossy(&name).into_owned();
        if !name
            .iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        {
            self.warn_quoting(
                format!("Error! '{shown}' is not possibly a function name!"),
                "a function name is not made of A-Z, 0-9 and _",
            );
            return num(F80::ZERO);
        }
        let unary = |f: fn(F80) -> F80| (1usize, Some(f), None::<fn(F80, F80) -> F80>);
        let binary = |f: fn(F80, F80) -> F80| (2usize, None, Some(f));
        let (arity, f1, f2) = match name.as_ref() {
            b"COS" => unary(|x| num::unary(Fun::Cos, x)),
            b"SIN" => unary(|x| num::unary(Fun::Sin, x)),
            b"TAN" => unary(|x| num::unary(Fun::Tan, x)),
            b"ACOS" => unary(|x| num::unary(Fun::Acos, x)),
            b"ASIN" => unary(|x| num::unary(Fun::Asin, x)),
            b"ATAN" => unary(|x| num::unary(Fun::Atan, x)),
            b"ATAN2" => binary(num::atan2),
            b"POW" => binary(num::pow),
            b"SQRT" => unary(F80::sqrt),
            b"FLOOR" => unary(F80::floor),
            b"CEIL" => unary(F80::ceil),
            b"ROUND" => unary(F80::round),
            b"RINT" => unary(F80::rint),
            b"TRUNC" => unary(F80::trunc),
            b"EXP" => unary(|x| num::unary(Fun::Exp, x)),
            b"EXP2" => unary(|x| num::unary(Fun::Exp2, x)),
            b"EXP10" => unary(|x| num::unary(Fun::Exp10, x)),
            b"LOG" => unary(|x| num::unary(Fun::Log, x)),
            b"LOG2" => unary(|x| num::unary(Fun::Log2, x)),
            b"LOG10" => unary(|x| num::unary(Fun::Log10, x)),
            b"REMAINDER" => binary(F80::remainder),
            // `x < 0 ? x * -1 : x`
            b"ABS" => unary(|x| {
                if x.lt(F80::ZERO) {
                    x.mul(F80::from_i64(-1))
                } else {
                    x
                }
            }),
            _ => {
                // No channel in res_phoneprov: custom dialplan functions are never run.
                self.warn("Hey! chan is NULL.");
                self.warn_quoting(
                    format!("Error! '{shown}' doesn't appear to be an available function!"),
                    "not an available function",
                );
                return num(F80::ZERO);
            }
        };
        if args.len() != arity {
            self.warn_quoting(
                format!("Wrong args to {shown}() function"),
                "wrong number of arguments to a function",
            );
            return num(F80::ZERO);
        }
        for a in args.iter_mut() {
            self.coerce_number(a);
        }
        let x = Self::raw_number(&args[0]);
        match (f1, f2) {
            (Some(f), _) => num(f(x)),
            (_, Some(f)) => num(f(x, Self::raw_number(&args[1]))),
            _ => num(F80::ZERO),
        }
    }
}

// ====================================================================== parser

/// Bison's YYMAXDEPTH: the parse aborts ("memory exhausted") when the state stack would
/// hold this many entries (state 0 plus 9999 symbols).
const MAX_SYMBOLS: usize = 9999;

/// Grammar symbols on the explicit parse stack (mirrors bison's stack one-to-one).
enum Sym<'a> {
    Expr(Val<'a>),
    Op(Kind),
    FuncName(Val<'a>),
    Lp,
    Args(Vec<Val<'a>>),
}

enum Outcome<'a> {
    Value(Val<'a>),
    /// `start: /* empty */` — the empty string.
    Empty,
    /// yyparse() failed before `start` was reduced (syntax error / memory exhausted):
    /// `io.val` stays NULL → "0".
    Abort,
}

/// The state the parser is in when the stack top is an `expr`.
enum ExprCtx {
    /// `start: expr .`
    Top,
    /// a completed rule that can be reduced, with its precedence
    Rule(u8),
    /// `( expr . )`
    Paren,
    /// `expr ? expr . :: expr`
    CondMid,
    /// `TOKEN ( expr .` or `arglist , expr .`
    Arg,
}

struct Machine<'a, 't, 'l> {
    input: &'a [u8],
    rest: Toks<'t>,
    stack: Vec<Sym<'a>>,
    ctx: Ctx<'l>,
}

enum Step<'a> {
    Continue,
    Done(Outcome<'a>),
}

impl<'a, 't, 'l> Machine<'a, 't, 'l> {
    fn new(input: &'a [u8], toks: &'t [Tok], log: &'l mut Log) -> Self {
        Machine {
            input,
            rest: Toks(toks),
            stack: Vec::new(),
            ctx: Ctx { log },
        }
    }

    fn lookahead(&self) -> Tok {
        self.rest.0.first().copied().unwrap_or(Tok {
            kind: Kind::End,
            start: self.input.len(),
            end: self.input.len(),
            numeric: false,
        })
    }

    fn token_val(&self, t: Tok) -> Val<'a> {
        let s = Cow::Borrowed(&self.input[t.start..t.end]);
        if t.numeric {
            Val::NumStr(s)
        } else {
            Val::Str(s)
        }
    }

    fn push(&mut self, s: Sym<'a>) -> Result<(), Outcome<'a>> {
        self.stack.push(s);
        if self.stack.len() >= MAX_SYMBOLS {
            self.syntax_error_msg("memory exhausted", self.lookahead());
            return Err(Outcome::Abort);
        }
        Ok(())
    }

    fn syntax_error_msg(&mut self, msg: &str, at: Tok) {
        // Asterisk prints the whole input and a caret line; keep that for short inputs.
        const SHOW: usize = 200;
        if self.input.len() <= SHOW {
            let caret: String = " ".repeat(at.start) + "^";
            self.ctx.warn_quoting(
                format!(
                    "syntax error: {msg}; Input:\n{}\n{caret}",
                    String::from_utf8_lossy(self.input)
                ),
                &format!("syntax error: {msg}"),
            );
        } else {
            self.ctx.warn_quoting(
                format!(
                    "syntax error: {msg}; at byte offset {} of a {}-byte expression",
                    at.start,
                    self.input.len()
                ),
                &format!("syntax error: {msg}"),
            );
        }
    }

    fn syntax_error(&mut self, at: Tok, expecting: &[&str]) -> Step<'a> {
        let mut m = format!("syntax error, unexpected {}", at.kind.bison_name());
        if !expecting.is_empty() {
            m.push_str(", expecting ");
            m.push_str(&expecting.join(" or "));
        }
        self.syntax_error_msg(&m, at);
        Step::Done(Outcome::Abort)
    }

    fn expr_ctx(&self) -> ExprCtx {
        let n = self.stack.len();
        match n.checked_sub(2).map(|i| &self.stack[i]) {
            None => ExprCtx::Top,
            Some(Sym::Op(Kind::Cond)) => ExprCtx::CondMid,
            Some(Sym::Op(Kind::ColonColon)) => ExprCtx::Rule(2),
            Some(Sym::Op(Kind::Comma)) => ExprCtx::Arg,
            Some(Sym::Op(Kind::Compl)) => ExprCtx::Rule(UNARY_PREC),
            Some(Sym::Op(Kind::Minus)) => {
                if n >= 3 && matches!(self.stack[n - 3], Sym::Expr(_)) {
                    ExprCtx::Rule(6)
                } else {
                    ExprCtx::Rule(UNARY_PREC)
                }
            }
            Some(Sym::Op(k)) => ExprCtx::Rule(k.binop_prec().unwrap_or(0)),
            Some(Sym::Lp) => {
                if n >= 3 && matches!(self.stack[n - 3], Sym::FuncName(_)) {
                    ExprCtx::Arg
                } else {
                    ExprCtx::Paren
                }
            }
            Some(_) => ExprCtx::Top,
        }
    }

    fn pop_expr(&mut self) -> Val<'a> {
        match self.stack.pop() {
            Some(Sym::Expr(v)) => v,
            _ => Val::Str(Cow::Borrowed(&[])),
        }
    }

    fn pop_op(&mut self) -> Kind {
        match self.stack.pop() {
            Some(Sym::Op(k)) => k,
            _ => Kind::End,
        }
    }

    /// Reduces the rule ending at the stack top (`expr OP expr`, `- expr`, `! expr`,
    /// `expr ? expr :: expr`).
    fn reduce_rule(&mut self) {
        let b = self.pop_expr();
        let op = self.pop_op();
        let unary = !matches!(self.stack.last(), Some(Sym::Expr(_)));
        let r = match op {
            Kind::Compl => self.ctx.op_compl(b),
            Kind::Minus if unary => self.ctx.op_negate(b),
            Kind::ColonColon => {
                let mid = self.pop_expr();
                self.pop_op(); // `?`
                let a = self.pop_expr();
                self.ctx.op_cond(a, mid, b)
            }
            k => {
                let a = self.pop_expr();
                let c = &mut self.ctx;
                match k {
                    Kind::Or => c.op_or(a, b),
                    Kind::And => c.op_and(a, b),
                    Kind::Eq => c.op_cmp(Cmp::Eq, a, b),
                    Kind::Gt => c.op_cmp(Cmp::Gt, a, b),
                    Kind::Lt => c.op_cmp(Cmp::Lt, a, b),
                    Kind::Ge => c.op_cmp(Cmp::Ge, a, b),
                    Kind::Le => c.op_cmp(Cmp::Le, a, b),
                    Kind::Ne => c.op_cmp(Cmp::Ne, a, b),
                    Kind::Plus => c.op_plus(a, b),
                    Kind::Minus => c.op_minus(a, b),
                    Kind::Mult => c.op_times(a, b),
                    Kind::Div => c.op_div(a, b),
                    Kind::Mod => c.op_rem(a, b),
                    Kind::Colon => c.op_regex(a, b, true),
                    Kind::EqTilde => c.op_regex(a, b, false),
                    Kind::TildeTilde => c.op_tildetilde(a, b),
                    _ => a,
                }
            }
        };
        self.stack.push(Sym::Expr(r));
    }

    /// `arglist: expr` / `arglist: arglist , expr` / `arglist: arglist ,`.
    fn reduce_arg(&mut self) {
        let v = match self.stack.last() {
            Some(Sym::Expr(_)) => self.pop_expr(),
            _ => Val::Str(Cow::Borrowed(&[])), // `arglist ,` → make_str("")
        };
        if let Some(Sym::Op(Kind::Comma)) = self.stack.last() {
            self.stack.pop();
            if let Some(Sym::Args(list)) = self.stack.last_mut() {
                list.push(v);
                return;
            }
        }
        self.stack.push(Sym::Args(vec![v]));
    }

    /// After shifting `)` on `TOKEN ( arglist`: reduce the function call.
    fn reduce_call(&mut self) {
        self.stack.pop(); // `)`
        let args = match self.stack.pop() {
            Some(Sym::Args(a)) => a,
            _ => Vec::new(),
        };
        self.stack.pop(); // `(`
        let name = match self.stack.pop() {
            Some(Sym::FuncName(v)) => v,
            _ => Val::Str(Cow::Borrowed(&[])),
        };
        let r = self.ctx.op_func(name, args);
        self.stack.push(Sym::Expr(r));
    }

    fn shift_op(&mut self, k: Kind) -> Result<(), Outcome<'a>> {
        self.rest = Toks(&self.rest.0[1..]);
        self.push(Sym::Op(k))
    }

    fn step(&mut self) -> Result<Step<'a>, Outcome<'a>> {
        let la = self.lookahead();
        const OPERAND: &[&str] = &["'-'", "'!'", "'('", "'<token>'"];
        const ARGS: &[&str] = &["','", "')'"];
        match self.stack.last() {
            Some(Sym::Expr(_)) => {
                let infix = infix_op(self.rest).ok().map(|(_, k)| k);
                match self.expr_ctx() {
                    ExprCtx::Rule(p) => {
                        let reduce = match la.kind.binop_prec() {
                            Some(pl) => p >= pl,
                            None => true,
                        };
                        if reduce {
                            self.reduce_rule();
                        } else if let Some(k) = infix {
                            self.shift_op(k)?;
                        } else {
                            return Ok(self.syntax_error(la, &[]));
                        }
                    }
                    ExprCtx::Paren => {
                        if let Some(k) = infix {
                            self.shift_op(k)?;
                        } else if la.kind == Kind::Rp {
                            self.rest = Toks(&self.rest.0[1..]);
                            self.push(Sym::Op(Kind::Rp))?;
                            self.stack.pop();
                            let v = self.pop_expr();
                            self.stack.pop(); // `(`
                            self.stack.push(Sym::Expr(v));
                        } else {
                            return Ok(self.syntax_error(la, &[]));
                        }
                    }
                    ExprCtx::CondMid => {
                        if let Some(k) = infix {
                            self.shift_op(k)?;
                        } else if la.kind == Kind::ColonColon {
                            self.shift_op(Kind::ColonColon)?;
                        } else {
                            return Ok(self.syntax_error(la, &[]));
                        }
                    }
                    ExprCtx::Arg => {
                        if let Some(k) = infix {
                            self.shift_op(k)?;
                        } else {
                            // default reduction to arglist; the Args state decides next
                            self.reduce_arg();
                        }
                    }
                    ExprCtx::Top => {
                        if let Some(k) = infix {
                            self.shift_op(k)?;
                        } else {
                            // `start: expr` is the default reduction: its action stores the
                            // result in `io.val` *before* the syntax error is detected in the
                            // accept state, so the value survives the failed parse.
                            let v = self.pop_expr();
                            if la.kind != Kind::End {
                                self.syntax_error(la, &["$end"]);
                            }
                            return Ok(Step::Done(Outcome::Value(v)));
                        }
                    }
                }
            }
            Some(Sym::Args(_)) => match la.kind {
                Kind::Comma => self.shift_op(Kind::Comma)?,
                Kind::Rp => {
                    self.rest = Toks(&self.rest.0[1..]);
                    self.push(Sym::Op(Kind::Rp))?;
                    self.reduce_call();
                }
                _ => return Ok(self.syntax_error(la, ARGS)),
            },
            top => {
                let after_comma = matches!(top, Some(Sym::Op(Kind::Comma)));
                let empty = top.is_none();
                match operand_start(self.rest) {
                    Ok((rest, op)) => {
                        self.rest = rest;
                        match op {
                            Operand::Call(t) => {
                                self.push(Sym::FuncName(self.token_val(t)))?;
                                self.push(Sym::Lp)?;
                            }
                            Operand::Token(t) => self.push(Sym::Expr(self.token_val(t)))?,
                            Operand::Lp => self.push(Sym::Lp)?,
                            Operand::Minus => self.push(Sym::Op(Kind::Minus))?,
                            Operand::Compl => self.push(Sym::Op(Kind::Compl))?,
                        }
                    }
                    Err(_) => {
                        if empty {
                            // `start: /* empty */` is reduced first (it sets `io.val` to "")
                            if la.kind != Kind::End {
                                self.syntax_error(la, &["$end"]);
                            }
                            return Ok(Step::Done(Outcome::Empty));
                        } else if after_comma {
                            // `arglist: arglist ,` (empty argument) is the default reduction
                            self.reduce_arg();
                        } else {
                            return Ok(self.syntax_error(la, OPERAND));
                        }
                    }
                }
            }
        }
        Ok(Step::Continue)
    }

    fn run(mut self) -> Outcome<'a> {
        loop {
            match self.step() {
                Ok(Step::Continue) => {}
                Ok(Step::Done(o)) => return o,
                Err(o) => return o,
            }
        }
    }
}

pub(crate) mod ere;
mod num;

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<(Kind, String)> {
        lex(s.as_bytes())
            .into_iter()
            .map(|t| {
                (
                    t.kind,
                    String::from_utf8_lossy(&s.as_bytes()[t.start..t.end]).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn lexer_longest_match_and_rule_order() {
        let k: Vec<Kind> = toks("a||b==c=~d~~e>=f<=g!=h::i")
            .iter()
            .map(|t| t.0)
            .collect();
        use Kind::*;
        assert_eq!(
            k,
            [
                Token, Or, Token, Eq, Token, EqTilde, Token, TildeTilde, Token, Ge, Token, Le,
                Token, Ne, Token, ColonColon, Token, End
            ]
        );
        let t = lex(b"12 12.5 12. 1.2.3 12a");
        let numeric: Vec<bool> = t.iter().take(5).map(|t| t.numeric).collect();
        assert_eq!(numeric, [true, true, false, false, false]);
    }

    #[test]
    fn lexer_variable_states_and_unput_quirk() {
        // after `}` the trail token swallows the rest of the buffer when `unput` is used
        assert_eq!(toks("${x} + 1")[0].1, "${x} + 1");
        assert_eq!(toks("${x}y")[0].1, "${x}y");
        assert_eq!(toks("a${b{c}} e")[0].1, "a${b{c}} e");
        assert_eq!(toks("a${b{c}}d e")[0].1, "a${b{c}}d");
        // unterminated `${` swallows everything
        assert_eq!(toks("1 + ${x")[2].0, Kind::End);
        // flex default rule drops unmatched bytes
        assert_eq!(toks("{[1]}").len(), 2);
        // `$` is literal inside words when not followed by `{`
        assert_eq!(toks("a$ b")[0].1, "a$ b");
    }

    #[test]
    fn printf_18lg_formatting() {
        let f = |v: i64| num::format_g18(F80::from_i64(v));
        assert_eq!(f(0), "0");
        assert_eq!(f(-42), "-42");
        assert_eq!(f(999_999_999_999_999_999), "999999999999999999");
        assert_eq!(f(1_000_000_000_000_000_000), "1e+18");
        assert_eq!(f(1_000_000_000_000_000_005), "1e+18"); // tie to even
        assert_eq!(f(1_000_000_000_000_000_015), "1.00000000000000002e+18");
        assert_eq!(
            num::format_g18(F80::from_parts(false, 0, 1)),
            "3.6451995318824746e-4951"
        );
        assert_eq!(
            num::format_g18(F80::from_parts(false, 0x7ffe, u64::MAX)),
            "1.18973149535723177e+4932"
        );
        assert_eq!(num::format_g18(F80::default_nan()), "-nan");
        assert_eq!(num::format_g18(F80::infinity(false)), "inf");
        assert_eq!(num::format_g18(F80::ZERO.neg()), "-0");
    }

    #[test]
    fn strtold_prefix_and_range_errors() {
        let p = |s: &str| num::strtold_digits(s.as_bytes()).map(num::format_g18);
        assert_eq!(p("1.2.3"), Ok("1.2".to_string()));
        assert_eq!(p(".5"), Ok("0.5".to_string()));
        assert_eq!(p(".."), Ok("0".to_string()));
        assert_eq!(
            p("0.1"),
            Ok("0.100000000000000000001".chars().take(3).collect())
        );
        assert!(p(&format!("1{}", "0".repeat(5000))).is_err());
        assert!(p(&format!("0.{}1", "0".repeat(5000))).is_err());
    }

    #[test]
    fn x87_special_values() {
        let one = F80::from_i64(1);
        let inf = F80::infinity(false);
        assert_eq!(inf.sub(inf), F80::default_nan());
        assert_eq!(F80::from_i64(-1).sqrt(), F80::default_nan());
        assert!(!num::unary(Fun::Log, F80::from_i64(-1)).sign()); // logl(-1) is +nan
        assert_eq!(num::unary(Fun::Log, F80::ZERO), F80::infinity(true));
        assert_eq!(num::pow(F80::default_nan(), F80::ZERO), one);
        assert_eq!(F80::from_i64(5).fmod(F80::ZERO), F80::default_nan());
        assert!(F80::from_i64(-1).ceil().is_finite());
        assert_eq!(
            num::format_g18(F80::from_i64(-5).fmod(F80::from_i64(3))),
            "-2"
        );
    }

    #[test]
    fn ere_parser_follows_glibc_error_codes() {
        let e = |p: &str| ere::Regex::new(p.as_bytes()).err().map(|e| e.message());
        assert_eq!(e("*a"), Some("Invalid preceding regular expression"));
        assert_eq!(e("a{1"), Some("Unmatched \\{"));
        assert_eq!(e("a{x}"), Some("Invalid content of \\{\\}"));
        assert_eq!(e("a{2,1}"), Some("Invalid content of \\{\\}"));
        assert_eq!(e("a{32768}"), Some("Regular expression too big"));
        assert_eq!(e("(a"), Some("Unmatched ( or \\("));
        assert_eq!(e("[b-a]"), Some("Invalid range end"));
        assert_eq!(e("[[:foo:]]"), Some("Invalid character class name"));
        assert_eq!(e("[[.ab.]]"), Some("Invalid collation character"));
        assert_eq!(e("[a"), Some("Unmatched [, [^, [:, [., or [="));
        assert_eq!(e("a\\"), Some("Trailing backslash"));
        assert_eq!(e("\\1"), Some("Invalid back reference"));
        assert_eq!(e("^*"), Some("Invalid preceding regular expression"));
        assert_eq!(e("a)"), None); // unmatched `)` is literal
        assert_eq!(e("a**"), None);
        assert_eq!(e("{,2}"), Some("Invalid preceding regular expression"));
    }

    #[test]
    fn ere_leftmost_longest() {
        let m = |p: &str, s: &str, anchored: bool| {
            ere::Regex::new(p.as_bytes())
                .ok()
                .and_then(|r| r.exec(s.as_bytes(), anchored))
                .map(|m| (m.start, m.end, m.group1))
        };
        assert_eq!(m("a|ab", "abc", true), Some((0, 2, None)));
        assert_eq!(m("x*|xyz", "xyz", true), Some((0, 3, None)));
        assert_eq!(m("(b+)", "abbbc", false), Some((1, 4, Some((1, 4)))));
        assert_eq!(m("b", "abc", true), None);
        assert_eq!(m("$|(a?)", "ba", true), Some((0, 0, Some((0, 0)))));
    }
}

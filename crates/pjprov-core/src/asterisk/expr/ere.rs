//! POSIX extended regular expressions as compiled by glibc `regcomp(REG_EXTENDED)` in a
//! UTF-8 locale: a parser that mirrors glibc's regcomp.c (same syntax decisions and
//! error codes), translated to a `regex-automata` pattern. Matching reproduces POSIX
//! leftmost-longest for the overall match; the first subexpression is taken from the
//! leftmost-first (Perl-priority) path among those producing that overall match.

use regex_automata::hybrid::dfa::DFA;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, meta};

/// glibc `regcomp()` error codes (message text as returned by `regerror()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Collate,
    Ctype,
    Escape,
    Subreg,
    Brack,
    Paren,
    Brace,
    BadBr,
    Range,
    Space,
    BadRpt,
    Size,
    /// Valid for glibc, but back-references cannot be expressed for the automaton.
    Unsupported,
}

impl Error {
    pub fn message(self) -> &'static str {
        match self {
            Error::Collate => "Invalid collation character",
            Error::Ctype => "Invalid character class name",
            Error::Escape => "Trailing backslash",
            Error::Subreg => "Invalid back reference",
            Error::Brack => "Unmatched [, [^, [:, [., or [=",
            Error::Paren => "Unmatched ( or \\(",
            Error::Brace => "Unmatched \\{",
            Error::BadBr => "Invalid content of \\{\\}",
            Error::Range => "Invalid range end",
            Error::Space => "Memory exhausted",
            Error::BadRpt => "Invalid preceding regular expression",
            Error::Size => "Regular expression too big",
            Error::Unsupported => {
                "back-references are not supported by pjprov (Asterisk would evaluate them)"
            }
        }
    }
}

const RE_DUP_MAX: i64 = 0x7fff;
/// Nesting bound for groups (glibc recurses without limit; we refuse instead of
/// overflowing the stack).
const MAX_NEST: usize = 200;

/// One pattern character: a valid UTF-8 sequence (as a code point) or a stray byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Char(u32),
    Byte(u8),
}

fn decode(s: &[u8], pos: usize) -> (Unit, usize) {
    let b = s[pos];
    if b < 0x80 {
        return (Unit::Char(b as u32), 1);
    }
    let len = match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (Unit::Byte(b), 1),
    };
    if pos + len <= s.len()
        && let Ok(st) = std::str::from_utf8(&s[pos..pos + len])
        && let Some(c) = st.chars().next()
    {
        return (Unit::Char(c as u32), len);
    }
    (Unit::Byte(b), 1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    LineFirst,
    LineLast,
    WordFirst,
    WordLast,
    WordDelim,
    NotWordDelim,
    BufFirst,
    BufLast,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Char(Unit),
    Alt,
    Star,
    Plus,
    Quest,
    OpenDup,
    CloseDup,
    Open,
    Close,
    Bracket,
    Period,
    Anchor(Anchor),
    Word(bool),
    Space(bool),
    BackRef(usize),
    BackSlash,
    End,
}

#[derive(Clone, Debug)]
enum Node {
    Empty,
    Lit(Unit),
    Any,
    Class(String),
    Anchor(Anchor),
    Group(Box<Node>),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

struct P<'p> {
    s: &'p [u8],
    pos: usize,
    tok: T,
    tok_len: usize,
    nsub: usize,
    completed: u32,
}

enum Elem {
    Sb(u8),
    Mb(u32),
    Coll(Vec<u8>),
    Equiv(Vec<u8>),
    Class(Vec<u8>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BT {
    Char(u8),
    OpenColl,
    OpenEquiv,
    OpenClass,
    Range,
    Close,
    NonMatch,
    End,
}

impl<'p> P<'p> {
    /// glibc `peek_token()` for RE_SYNTAX_POSIX_EXTENDED.
    fn peek(&self) -> (T, usize) {
        let s = self.s;
        let i = self.pos;
        if i >= s.len() {
            return (T::End, 0);
        }
        let (u, len) = decode(s, i);
        if u != Unit::Char(b'\\' as u32) {
            let t = match u {
                Unit::Char(c) if c < 0x80 => match c as u8 {
                    b'|' => T::Alt,
                    b'*' => T::Star,
                    b'+' => T::Plus,
                    b'?' => T::Quest,
                    b'{' => T::OpenDup,
                    b'}' => T::CloseDup,
                    b'(' => T::Open,
                    b')' => T::Close,
                    b'[' => T::Bracket,
                    b'.' => T::Period,
                    b'^' => T::Anchor(Anchor::LineFirst),
                    b'$' => T::Anchor(Anchor::LineLast),
                    _ => T::Char(u),
                },
                _ => T::Char(u),
            };
            return (t, len);
        }
        if i + 1 >= s.len() {
            return (T::BackSlash, 1);
        }
        let (u2, len2) = decode(s, i + 1);
        let t = match u2 {
            Unit::Char(c) if c < 0x80 => match c as u8 {
                d @ b'1'..=b'9' => T::BackRef((d - b'1') as usize),
                b'<' => T::Anchor(Anchor::WordFirst),
                b'>' => T::Anchor(Anchor::WordLast),
                b'b' => T::Anchor(Anchor::WordDelim),
                b'B' => T::Anchor(Anchor::NotWordDelim),
                b'w' => T::Word(false),
                b'W' => T::Word(true),
                b's' => T::Space(false),
                b'S' => T::Space(true),
                b'`' => T::Anchor(Anchor::BufFirst),
                b'\'' => T::Anchor(Anchor::BufLast),
                _ => T::Char(u2),
            },
            _ => T::Char(u2),
        };
        (t, 1 + len2)
    }

    fn fetch(&mut self) {
        self.pos += self.tok_len;
        let (t, l) = self.peek();
        self.tok = t;
        self.tok_len = l;
    }

    fn parse_reg_exp(&mut self, nest: usize) -> Result<Node, Error> {
        let mut alts = vec![self.parse_branch(nest)?];
        while self.tok == T::Alt {
            self.fetch();
            if self.tok != T::Alt && self.tok != T::End && (nest == 0 || self.tok != T::Close) {
                alts.push(self.parse_branch(nest)?);
            } else {
                alts.push(Node::Empty);
            }
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(alts)
        })
    }

    fn parse_branch(&mut self, nest: usize) -> Result<Node, Error> {
        let mut v = vec![self.parse_expression(nest)?];
        while self.tok != T::Alt && self.tok != T::End && (nest == 0 || self.tok != T::Close) {
            v.push(self.parse_expression(nest)?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Node::Empty)
        } else {
            Node::Concat(v)
        })
    }

    fn parse_expression(&mut self, nest: usize) -> Result<Node, Error> {
        let mut tree = match self.tok {
            T::Char(u) => Node::Lit(u),
            T::Open => self.parse_sub_exp(nest + 1)?,
            T::Bracket => self.parse_bracket()?,
            T::BackRef(n) => {
                if self.completed & (1 << n) == 0 {
                    return Err(Error::Subreg);
                }
                return Err(Error::Unsupported);
            }
            T::OpenDup | T::Star | T::Plus | T::Quest => return Err(Error::BadRpt),
            T::Close => Node::Lit(Unit::Char(b')' as u32)),
            T::CloseDup => Node::Lit(Unit::Char(b'}' as u32)),
            T::Anchor(a) => {
                self.fetch();
                // anchors cannot be followed by repetition operators
                return Ok(Node::Anchor(a));
            }
            T::Period => Node::Any,
            T::Word(neg) => Node::Class(if neg {
                format!("[^_{ALNUM}]")
            } else {
                format!("[_{ALNUM}]")
            }),
            T::Space(neg) => Node::Class(if neg {
                format!("[^{SPACE}]")
            } else {
                format!("[{SPACE}]")
            }),
            T::Alt | T::End => return Ok(Node::Empty),
            T::BackSlash => return Err(Error::Escape),
        };
        self.fetch();
        while matches!(self.tok, T::Star | T::Plus | T::Quest | T::OpenDup) {
            tree = self.parse_dup_op(tree)?;
        }
        Ok(tree)
    }

    fn parse_sub_exp(&mut self, nest: usize) -> Result<Node, Error> {
        if nest > MAX_NEST {
            return Err(Error::Space);
        }
        let idx = self.nsub;
        self.nsub += 1;
        self.fetch();
        let tree = if self.tok == T::Close {
            Node::Empty
        } else {
            let t = self.parse_reg_exp(nest)?;
            if self.tok != T::Close {
                return Err(Error::Paren);
            }
            t
        };
        if idx < 9 {
            self.completed |= 1 << idx;
        }
        Ok(Node::Group(Box::new(tree)))
    }

    /// glibc `fetch_number()`: -1 = no digits, -2 = invalid / end of pattern.
    fn fetch_number(&mut self) -> i64 {
        let mut num: i64 = -1;
        loop {
            self.fetch();
            if self.tok == T::End {
                return -2;
            }
            let c = match self.tok {
                T::Char(Unit::Char(c)) if c < 0x80 => Some(c as u8),
                _ => None,
            };
            if self.tok == T::CloseDup || c == Some(b',') {
                break;
            }
            num = match c {
                Some(d @ b'0'..=b'9') if num != -2 => {
                    if num == -1 {
                        (d - b'0') as i64
                    } else {
                        (RE_DUP_MAX + 1).min(num * 10 + (d - b'0') as i64)
                    }
                }
                _ => -2,
            };
        }
        num
    }

    fn parse_dup_op(&mut self, elem: Node) -> Result<Node, Error> {
        let (start, end): (i64, i64);
        if self.tok == T::OpenDup {
            let mut s = self.fetch_number();
            let mut e = 0;
            if s == -1 {
                if self.tok == T::Char(Unit::Char(b',' as u32)) {
                    s = 0; // {,m} == {0,m}
                } else {
                    return Err(Error::BadBr);
                }
            }
            if s != -2 {
                e = if self.tok == T::CloseDup {
                    s
                } else if self.tok == T::Char(Unit::Char(b',' as u32)) {
                    self.fetch_number()
                } else {
                    -2
                };
            }
            if s == -2 || e == -2 {
                return Err(if self.tok == T::End {
                    Error::Brace
                } else {
                    Error::BadBr
                });
            }
            if (e != -1 && s > e) || self.tok != T::CloseDup {
                return Err(Error::BadBr);
            }
            if RE_DUP_MAX < if e == -1 { s } else { e } {
                return Err(Error::Size);
            }
            start = s;
            end = e;
        } else {
            start = if self.tok == T::Plus { 1 } else { 0 };
            end = if self.tok == T::Quest { 1 } else { -1 };
        }
        self.fetch();
        if matches!(elem, Node::Empty) {
            return Ok(Node::Empty);
        }
        let max = if end == -1 { None } else { Some(end as u32) };
        Ok(Node::Repeat(Box::new(elem), start as u32, max))
    }

    // ------------------------------------------------------------ brackets

    fn peek_bracket(&self) -> (BT, usize) {
        let s = self.s;
        let i = self.pos;
        if i >= s.len() {
            return (BT::End, 0);
        }
        let c = s[i];
        if c == b'[' {
            let c2 = s.get(i + 1).copied().unwrap_or(0);
            return match c2 {
                b'.' => (BT::OpenColl, 2),
                b'=' => (BT::OpenEquiv, 2),
                b':' => (BT::OpenClass, 2),
                _ => (BT::Char(c), 1),
            };
        }
        match c {
            b'-' => (BT::Range, 1),
            b']' => (BT::Close, 1),
            b'^' => (BT::NonMatch, 1),
            _ => (BT::Char(c), 1),
        }
    }

    fn parse_bracket_element(
        &mut self,
        tok: BT,
        len: usize,
        accept_hyphen: bool,
    ) -> Result<Elem, Error> {
        if self.pos < self.s.len()
            && let (Unit::Char(c), ulen @ 2..) = decode(self.s, self.pos)
        {
            self.pos += ulen;
            return Ok(Elem::Mb(c));
        }
        self.pos += len;
        match tok {
            BT::OpenColl | BT::OpenEquiv | BT::OpenClass => {
                let delim = match tok {
                    BT::OpenColl => b'.',
                    BT::OpenEquiv => b'=',
                    _ => b':',
                };
                if self.pos >= self.s.len() {
                    return Err(Error::Brack);
                }
                let mut name = Vec::new();
                loop {
                    if name.len() >= 32 {
                        return Err(Error::Brack);
                    }
                    let ch = self.s[self.pos];
                    self.pos += 1;
                    if self.pos >= self.s.len() {
                        return Err(Error::Brack);
                    }
                    if ch == delim && self.s[self.pos] == b']' {
                        break;
                    }
                    name.push(ch);
                }
                self.pos += 1;
                Ok(match tok {
                    BT::OpenColl => Elem::Coll(name),
                    BT::OpenEquiv => Elem::Equiv(name),
                    _ => Elem::Class(name),
                })
            }
            BT::Range if !accept_hyphen => {
                if self.peek_bracket().0 != BT::Close {
                    return Err(Error::Range);
                }
                Ok(Elem::Sb(b'-'))
            }
            BT::Char(c) => Ok(Elem::Sb(c)),
            BT::Range => Ok(Elem::Sb(b'-')),
            BT::Close => Ok(Elem::Sb(b']')),
            BT::NonMatch => Ok(Elem::Sb(b'^')),
            BT::End => Err(Error::Brack),
        }
    }

    fn parse_bracket(&mut self) -> Result<Node, Error> {
        // skip '['
        self.pos += self.tok_len;
        let mut set = ClassSet::default();
        let mut non_match = false;
        let (mut tok, mut len) = self.peek_bracket();
        if tok == BT::NonMatch {
            non_match = true;
            self.pos += len;
            (tok, len) = self.peek_bracket();
        }
        if tok == BT::Close {
            tok = BT::Char(b']');
        }
        let mut first = true;
        loop {
            let start = self.parse_bracket_element(tok, len, first)?;
            first = false;
            let mut range_end = None;
            (tok, len) = self.peek_bracket();
            if !matches!(start, Elem::Class(_) | Elem::Equiv(_)) {
                if tok == BT::End {
                    return Err(Error::Brack);
                }
                if tok == BT::Range {
                    self.pos += len;
                    let (tok2, len2) = self.peek_bracket();
                    if tok2 == BT::End {
                        return Err(Error::Brack);
                    }
                    if tok2 == BT::Close {
                        self.pos -= len; // the '-' is a normal character
                        tok = BT::Char(b'-');
                    } else {
                        let end = self.parse_bracket_element(tok2, len2, true)?;
                        (tok, len) = self.peek_bracket();
                        range_end = Some(end);
                    }
                }
            }
            match range_end {
                Some(end) => set.add_range(&start, &end)?,
                None => set.add(&start)?,
            }
            if tok == BT::End {
                return Err(Error::Brack);
            }
            if tok == BT::Close {
                break;
            }
        }
        // the ']' is consumed by the caller's fetch (tok_len = 1)
        self.tok_len = 1;
        Ok(Node::Class(set.render(non_match)))
    }
}

/// Unicode approximations of glibc's C.UTF-8 character classes (ASCII part exact).
const ALNUM: &str = r"\p{Alphabetic}\p{Nd}";
const SPACE: &str =
    r"\t\n\x0B\x0C\r\x20\x{1680}\x{2000}-\x{2006}\x{2008}-\x{200A}\x{2028}\x{2029}\x{205F}\x{3000}";

fn class_items(name: &[u8]) -> Option<String> {
    Some(
        match name {
            b"alpha" => r"[[\p{Alphabetic}\p{Nd}]--[0-9]]",
            b"digit" => "0-9",
            b"alnum" => ALNUM,
            b"upper" => r"\p{Uppercase}",
            b"lower" => r"\p{Lowercase}",
            b"space" => SPACE,
            b"blank" => r"\t\x20\x{1680}\x{2000}-\x{2006}\x{2008}-\x{200A}\x{205F}\x{3000}",
            b"cntrl" => r"\x00-\x1F\x7F-\x{9F}\x{2028}\x{2029}",
            b"xdigit" => "0-9A-Fa-f",
            b"punct" => r"!-/:-@\[-`{-~[[\p{P}\p{S}]--[\x00-\x7F]]",
            b"graph" => r"!-~[[^\p{Z}\p{C}]--[\x00-\x7F]]",
            b"print" => r" -~[[^\p{Zl}\p{Zp}\p{C}]--[\x00-\x7F]]",
            _ => return None,
        }
        .to_string(),
    )
}

#[derive(Default)]
struct ClassSet {
    items: String,
}

fn cp_escape(c: u32) -> String {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() => ch.to_string(),
        _ => format!("\\x{{{c:X}}}"),
    }
}

fn btowc(b: u8) -> Option<u32> {
    (b < 0x80).then_some(b as u32)
}

impl ClassSet {
    fn add_byte(&mut self, b: u8) {
        if let Some(c) = btowc(b) {
            self.items.push_str(&cp_escape(c));
        }
    }

    fn add(&mut self, e: &Elem) -> Result<(), Error> {
        match e {
            Elem::Sb(b) => self.add_byte(*b),
            Elem::Mb(c) => self.items.push_str(&cp_escape(*c)),
            Elem::Coll(n) | Elem::Equiv(n) => {
                if n.len() != 1 {
                    return Err(Error::Collate);
                }
                self.add_byte(n[0]);
            }
            Elem::Class(n) => match class_items(n) {
                Some(s) => self.items.push_str(&s),
                None => return Err(Error::Ctype),
            },
        }
        Ok(())
    }

    fn add_range(&mut self, a: &Elem, b: &Elem) -> Result<(), Error> {
        let wc = |e: &Elem| -> Result<Option<u32>, Error> {
            Ok(match e {
                Elem::Sb(x) => btowc(*x),
                Elem::Mb(c) => Some(*c),
                Elem::Coll(n) => btowc(n.first().copied().unwrap_or(0)),
                _ => return Err(Error::Range),
            })
        };
        if matches!(a, Elem::Equiv(_) | Elem::Class(_))
            || matches!(b, Elem::Equiv(_) | Elem::Class(_))
        {
            return Err(Error::Range);
        }
        if matches!(a, Elem::Coll(n) if n.len() > 1) || matches!(b, Elem::Coll(n) if n.len() > 1) {
            return Err(Error::Collate);
        }
        let (Some(s), Some(e)) = (wc(a)?, wc(b)?) else {
            return Err(Error::Collate);
        };
        if s > e {
            return Err(Error::Range);
        }
        // surrogates cannot be written in a class; split around them
        let mut push = |lo: u32, hi: u32| {
            if lo <= hi {
                self.items
                    .push_str(&format!("{}-{}", cp_escape(lo), cp_escape(hi)));
            }
        };
        if s < 0xD800 && e > 0xDFFF {
            push(s, 0xD7FF);
            push(0xE000, e);
        } else if (0xD800..=0xDFFF).contains(&s) || (0xD800..=0xDFFF).contains(&e) {
            push(s, e.min(0xD7FF));
            push(s.max(0xE000), e);
        } else {
            push(s, e);
        }
        Ok(())
    }

    fn render(&self, non_match: bool) -> String {
        let uni = if self.items.is_empty() {
            None
        } else {
            Some(format!(
                "[{}{}]",
                if non_match { "^" } else { "" },
                self.items
            ))
        };
        if non_match {
            // raw (invalid UTF-8) bytes are never matched by a negated Unicode class
            return uni.unwrap_or_else(|| "(?s:.)".to_string());
        }
        // glibc never matches a stray (invalid UTF-8) byte through a bracket expression
        uni.unwrap_or_else(|| "[^\\x{0}-\\x{10FFFF}]".to_string())
    }
}

fn emit(n: &Node, out: &mut String) {
    match n {
        Node::Empty => out.push_str("(?:)"),
        Node::Lit(Unit::Char(c)) => out.push_str(&cp_escape(*c)),
        Node::Lit(Unit::Byte(b)) => out.push_str(&format!("(?-u:\\x{b:02X})")),
        Node::Any => out.push_str("(?s:.)"),
        Node::Class(s) => out.push_str(s),
        Node::Anchor(a) => out.push_str(match a {
            Anchor::LineFirst | Anchor::BufFirst => r"\A",
            Anchor::LineLast | Anchor::BufLast => r"\z",
            Anchor::WordFirst => r"(?-u:\b{start})",
            Anchor::WordLast => r"(?-u:\b{end})",
            Anchor::WordDelim => r"(?-u:\b)",
            Anchor::NotWordDelim => r"(?-u:\B)",
        }),
        Node::Group(sub) => {
            out.push('(');
            emit(sub, out);
            out.push(')');
        }
        Node::Concat(v) => {
            out.push_str("(?:");
            v.iter().for_each(|x| emit(x, out));
            out.push(')');
        }
        Node::Alt(v) => {
            out.push_str("(?:");
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                emit(x, out);
            }
            out.push(')');
        }
        Node::Repeat(sub, min, max) => {
            out.push_str("(?:");
            emit(sub, out);
            out.push(')');
            match max {
                Some(m) => out.push_str(&format!("{{{min},{m}}}")),
                None => out.push_str(&format!("{{{min},}}")),
            }
        }
    }
}

/// A compiled pattern.
pub struct Regex {
    nsub: usize,
    find: meta::Regex,
    longest: DFA,
    /// `(?:pat)\z`, for matches that end at the end of the subject
    caps_end: meta::Regex,
    /// `(?:pat)[a!]\z`, run on `subject[..end]` plus a sentinel byte with the same
    /// (ASCII) word-character class as `subject[end]`, so `$` and `\b` at `end` see
    /// the right context
    caps_mid: meta::Regex,
}

/// `regmatch_t rm[2]` of a successful `regexec()`.
pub struct Match {
    pub start: usize,
    pub end: usize,
    pub group1: Option<(usize, usize)>,
}

fn syntax_config() -> syntax::Config {
    syntax::Config::new()
        .utf8(false)
        .unicode(true)
        .nest_limit(4 * MAX_NEST as u32 + 50)
}

impl Regex {
    pub fn new(pattern: &[u8]) -> Result<Regex, Error> {
        let mut p = P {
            s: pattern,
            pos: 0,
            tok: T::End,
            tok_len: 0,
            nsub: 0,
            completed: 0,
        };
        let (t, l) = p.peek();
        p.tok = t;
        p.tok_len = l;
        let tree = p.parse_reg_exp(0)?;
        let mut pat = String::new();
        emit(&tree, &mut pat);
        let build = |pat: &str, kind: MatchKind| {
            meta::Regex::builder()
                .syntax(syntax_config())
                .configure(meta::Config::new().match_kind(kind).utf8_empty(false))
                .build(pat)
                .map_err(|_| Error::Size)
        };
        let find = build(&pat, MatchKind::LeftmostFirst)?;
        let caps_end = build(&format!("(?:{pat})\\z"), MatchKind::LeftmostFirst)?;
        let caps_mid = build(&format!("(?:{pat})(?-u:[a!])\\z"), MatchKind::LeftmostFirst)?;
        let longest = DFA::builder()
            .syntax(syntax_config())
            .configure(DFA::config().match_kind(MatchKind::All))
            .thompson(
                regex_automata::nfa::thompson::Config::new()
                    .utf8(false)
                    .which_captures(regex_automata::nfa::thompson::WhichCaptures::None),
            )
            .build(&pat)
            .map_err(|_| Error::Size)?;
        Ok(Regex {
            nsub: p.nsub,
            find,
            longest,
            caps_end,
            caps_mid,
        })
    }

    /// `re_nsub`.
    pub fn nsub(&self) -> usize {
        self.nsub
    }

    /// `regexec(…, 2, rm, 0)`; with `anchored` the match must start at offset 0.
    pub fn exec(&self, h: &[u8], anchored: bool) -> Option<Match> {
        let start = if anchored {
            0
        } else {
            self.find.find(Input::new(h))?.start()
        };
        let mut cache = self.longest.create_cache();
        let end = self
            .longest
            .try_search_fwd(
                &mut cache,
                &Input::new(h).range(start..).anchored(Anchored::Yes),
            )
            .ok()??
            .offset();
        let mut group1 = None;
        if self.nsub > 0 {
            let (re, hay): (&meta::Regex, std::borrow::Cow<'_, [u8]>) = if end == h.len() {
                (&self.caps_end, std::borrow::Cow::Borrowed(h))
            } else {
                let mut v = h[..end].to_vec();
                let c = h[end];
                v.push(if c.is_ascii_alphanumeric() || c == b'_' {
                    b'a'
                } else {
                    b'!'
                });
                (&self.caps_mid, std::borrow::Cow::Owned(v))
            };
            let mut c = re.create_captures();
            re.search_captures(
                &Input::new(&hay).range(start..).anchored(Anchored::Yes),
                &mut c,
            );
            group1 = c.get_group(1).map(|s| (s.start, s.end));
        }
        Some(Match { start, end, group1 })
    }
}

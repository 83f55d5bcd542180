//! `${...}` and `$[...]` templates: parsed once, rendered many times, byte for byte as Asterisk's
//! `ast_str_substitute_variables_full2` does.
//!
//! Parsing finds the same boundaries Asterisk finds (it counts `${`, `{` and `}` for variables, `$[`, `[` and
//! `]` for expressions, and substitutes the inside first when it holds another `${` or `$[`). Those
//! boundaries depend only on the template text, so they are computed once. At render time the inside is
//! substituted, then read as `NAME`, `NAME:offset:length` or `FUNC(args)[:offset:length]`.

use std::fmt;

use super::render::{Origin, RenderError, Renderer, Scope};

/// A parsed template.
pub struct Template {
    name: String,
    source: Box<[u8]>,
    nodes: Vec<Node>,
    /// Asterisk reads a template as a C string: nothing after a NUL byte.
    pub(crate) truncated_at_nul: bool,
    /// Made at render time from substituted text (`EVAL`'s argument, `CUT`'s `${varname}`, the string of
    /// `PP_EACH_USER`), not read from a file: its text may hold variable values, so diagnostics never quote
    /// it and name the node of the file template that made it instead.
    pub(crate) derived: bool,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .field("len", &self.source.len())
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Bytes copied as they are: `source[start..end]`.
    Text(u32, u32),
    /// `${inside}`.
    Var(Sub),
    /// `$[inside]`.
    Expr(Sub),
}

/// The inside of a `${...}` or `$[...]`, and where the whole node sits in the template.
#[derive(Debug, Clone)]
pub(crate) struct Sub {
    pub inside: Vec<Node>,
    /// The line of its `$`.
    pub line: u32,
    /// `source[span.0..span.1]` is the node as written, `$` to closing bracket: what diagnostics quote.
    pub span: (u32, u32),
    /// No closing bracket: Asterisk warns and takes the rest of the text.
    pub unterminated: bool,
}

impl Template {
    /// Parses `source`; `name` is used in diagnostics.
    pub fn parse(name: impl Into<String>, source: &[u8]) -> Template {
        Self::parse_as(name.into(), source, false)
    }

    /// Parses text made of substituted values (see [`Template::derived`]).
    pub(crate) fn derived(name: &str, source: &[u8]) -> Template {
        Self::parse_as(name.to_owned(), source, true)
    }

    fn parse_as(name: String, source: &[u8], derived: bool) -> Template {
        let (source, truncated_at_nul) = match memchr::memchr(0, source) {
            Some(nul) => (&source[..nul], true),
            None => (source, false),
        };
        let len = u32::try_from(source.len()).unwrap_or(u32::MAX);
        let source = &source[..len as usize];
        let nodes = parse_range(source, 0, len, 1, 0);
        Template {
            name,
            source: source.into(),
            nodes,
            truncated_at_nul,
            derived,
        }
    }

    /// The text when the template substitutes nothing (no `${` or `$[`): what rendering it gives.
    pub fn as_plain_text(&self) -> Option<&str> {
        if self.nodes.iter().all(|n| matches!(n, Node::Text(..))) {
            std::str::from_utf8(&self.source).ok()
        } else {
            None
        }
    }

    /// The name given at parse time.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The template text.
    pub fn source(&self) -> &[u8] {
        &self.source
    }

    #[cfg(test)]
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Renders with `renderer` in `scope` into `out`. `origin` is the node of a file template that made a
    /// derived template (`None` for a file template).
    pub(crate) fn render_into(
        &self,
        renderer: &Renderer<'_>,
        scope: &Scope<'_>,
        out: &mut Vec<u8>,
        origin: Option<Origin<'_>>,
    ) -> Result<(), RenderError> {
        renderer.render_nodes(self, &self.nodes, scope, out, origin)
    }

    /// True when the template has no `${` or `$[` at all.
    pub fn is_plain(&self) -> bool {
        self.nodes.iter().all(|n| matches!(n, Node::Text(..)))
    }

    /// Renders a template of text and plain `${NAME}`s alone (`NAME` letters, digits and `_`, no
    /// built-in) straight from `vars`, into `out`: what the renderer gives such a template in a config
    /// substitution (an unset variable is empty), without setting one up. False, and `out` empty, for any
    /// other template: it needs the renderer.
    pub(crate) fn render_plain_variables(
        &self,
        vars: &crate::vars::Vars,
        out: &mut Vec<u8>,
    ) -> bool {
        out.clear();
        for node in &self.nodes {
            let name: &[u8] = match node {
                Node::Text(start, end) => {
                    out.extend_from_slice(self.text(*start, *end));
                    continue;
                }
                Node::Var(sub) if !sub.unterminated => match sub.inside.as_slice() {
                    [Node::Text(start, end)] => self.text(*start, *end),
                    _ => b"",
                },
                _ => b"",
            };
            let plain =
                !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
            let Some(name) = std::str::from_utf8(name)
                .ok()
                .filter(|n| plain && !super::render::is_built_in(n))
            else {
                out.clear();
                return false;
            };
            if let Some(value) = vars.get(name) {
                out.extend_from_slice(value.as_bytes());
            }
        }
        if out.len() > super::MAX_OUTPUT {
            out.clear();
            return false;
        }
        true
    }

    pub(crate) fn text(&self, start: u32, end: u32) -> &[u8] {
        self.source
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}

/// How deep `${...${...}...}` may nest before the inside is kept as text (Asterisk would recurse until its
/// stack ends).
pub(crate) const MAX_NESTING: u32 = 256;

/// Parses `source[start..end]` into nodes; `line` is the line number at `start`.
fn parse_range(source: &[u8], start: u32, end: u32, mut line: u32, nesting: u32) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut at = start as usize;
    let end = end as usize;
    let byte = |i: usize| if i < end { source[i] } else { 0 };
    while at < end {
        let Some(dollar) = memchr::memchr(b'$', &source[at..end]).map(|i| at + i) else {
            push_text(&mut nodes, at, end);
            break;
        };
        let (open, close) = match byte(dollar + 1) {
            b'{' => (b'{', b'}'),
            b'[' => (b'[', b']'),
            _ => {
                // A lone '$' is plain text.
                push_text(&mut nodes, at, dollar + 1);
                line += count_lines(&source[at..dollar + 1]);
                at = dollar + 1;
                continue;
            }
        };
        push_text(&mut nodes, at, dollar);
        line += count_lines(&source[at..dollar]);
        let inner_start = dollar + 2;
        let mut scan = inner_start;
        let mut depth = 1u32;
        let mut needs_sub = false;
        while depth > 0 && scan < end {
            let c = source[scan];
            if c == b'$' && byte(scan + 1) == open {
                needs_sub = true;
                depth += 1;
                scan += 1;
            } else if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
            } else if c == b'$' && byte(scan + 1) == other(open) {
                needs_sub = true;
                scan += 1;
            }
            scan += 1;
        }
        let unterminated = depth > 0;
        let scan = scan.min(end);
        let inner_end = if unterminated { scan } else { scan - 1 };
        let inside = if needs_sub && nesting < MAX_NESTING {
            parse_range(
                source,
                inner_start as u32,
                inner_end as u32,
                line,
                nesting + 1,
            )
        } else if inner_end > inner_start {
            vec![Node::Text(inner_start as u32, inner_end as u32)]
        } else {
            Vec::new()
        };
        let sub = Sub {
            inside,
            line,
            span: (dollar as u32, scan as u32),
            unterminated,
        };
        nodes.push(if open == b'{' {
            Node::Var(sub)
        } else {
            Node::Expr(sub)
        });
        line += count_lines(&source[dollar..scan]);
        at = scan;
    }
    nodes
}

fn other(open: u8) -> u8 {
    if open == b'{' { b'[' } else { b'{' }
}

fn push_text(nodes: &mut Vec<Node>, start: usize, end: usize) {
    if end > start {
        nodes.push(Node::Text(start as u32, end as u32));
    }
}

fn count_lines(bytes: &[u8]) -> u32 {
    u32::try_from(memchr::memchr_iter(b'\n', bytes).count()).unwrap_or(u32::MAX)
}

/// `parse_variable_name`: splits `NAME:offset:length` (the `:` outside parentheses) and tells whether the
/// name is a function call.
pub(crate) struct VariableName<'a> {
    pub name: &'a [u8],
    pub offset: i32,
    pub length: i32,
    pub is_function: bool,
}

pub(crate) fn parse_variable_name(text: &[u8]) -> VariableName<'_> {
    let mut parens = 0i32;
    let mut is_function = false;
    for (i, &c) in text.iter().enumerate() {
        match c {
            b'(' => {
                is_function = true;
                parens += 1;
            }
            b')' => parens -= 1,
            b':' if parens == 0 => {
                let (offset, length) = scan_offset_length(&text[i + 1..]);
                return VariableName {
                    name: &text[..i],
                    offset,
                    length,
                    is_function,
                };
            }
            _ => {}
        }
    }
    VariableName {
        name: text,
        offset: 0,
        length: i32::MAX,
        is_function,
    }
}

/// `sscanf(text, "%30d:%30d", &offset, &length)` with offset 0 and length `INT_MAX` when absent.
fn scan_offset_length(text: &[u8]) -> (i32, i32) {
    let Some((offset, rest)) = scan_int(text) else {
        return (0, i32::MAX);
    };
    let rest = skip_blank(rest);
    match rest.strip_prefix(b":").and_then(scan_int) {
        Some((length, _)) => (offset, length),
        None => (offset, i32::MAX),
    }
}

fn skip_blank(text: &[u8]) -> &[u8] {
    let n = text.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &text[n..]
}

/// `%30d`: optional blanks, sign and up to 30 characters; the value is what glibc's `strtol` gives,
/// truncated to an `int`.
pub(crate) fn scan_int(text: &[u8]) -> Option<(i32, &[u8])> {
    let text = skip_blank(text);
    let mut i = 0;
    let negative = match text.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while i < text.len() && i < 30 && text[i].is_ascii_digit() {
        let d = i64::from(text[i] - b'0');
        match value.checked_mul(10).and_then(|v| v.checked_add(d)) {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    let value = match (overflow, negative) {
        (true, false) => i64::MAX,
        (true, true) => i64::MIN,
        (false, false) => value,
        (false, true) => -value,
    };
    // glibc stores the long into an int by truncation.
    Some((value as i32, &text[i..]))
}

/// `ast_str_substring`: `offset` < 0 counts from the end; `length` < 0 leaves that many off the end.
pub(crate) fn substring(value: &[u8], offset: i32, length: i32) -> &[u8] {
    let lr = value.len() as i64;
    let (mut offset, length) = (i64::from(offset), i64::from(length));
    if offset == 0 && length >= lr {
        return value;
    }
    if offset < 0 {
        offset = (lr + offset).max(0);
    }
    if offset >= lr {
        return &[];
    }
    let rest = &value[offset as usize..];
    let lr = rest.len() as i64;
    if length >= 0 && length < lr {
        &rest[..length as usize]
    } else if length < 0 {
        if lr > -length {
            &rest[..(lr + length) as usize]
        } else {
            &[]
        }
    } else {
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(t: &Template, nodes: &[Node]) -> String {
        let mut s = String::new();
        for n in nodes {
            match n {
                Node::Text(a, b) => s.push_str(&String::from_utf8_lossy(t.text(*a, *b))),
                Node::Var(sub) => s.push_str(&format!("V({})", shape(t, &sub.inside))),
                Node::Expr(sub) => s.push_str(&format!("E({})", shape(t, &sub.inside))),
            }
        }
        s
    }

    fn parsed(src: &str) -> String {
        let t = Template::parse("t", src.as_bytes());
        shape(&t, t.nodes())
    }

    proptest::proptest! {
        #[test]
        fn plain_variables_render_as_the_renderer_does(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "${MAC}", "${LABEL}", "${X_1}", "${NOPE}", "${EPOCH}", "${SERVER}", "${MAC:2}",
                    "${a b}", "${}", "${LEN(x)}", "$[1]", "${MAC", ".cfg", "a=", "$", "{", "}", "\n",
                ]),
                0..8,
            )
        ) {
            let source: String = pieces.concat();
            let template = Template::parse("t", source.as_bytes());
            let mut vars = crate::vars::Vars::new();
            vars.set("MAC", "0004f2aabbcc");
            vars.set("LABEL", "Front desk");
            vars.set("X_1", "");
            let mut out = Vec::new();
            if template.render_plain_variables(&vars, &mut out) {
                let (rendered, issues) = template.render_alone(&vars, None);
                proptest::prop_assert_eq!(Some(out), rendered.ok());
                proptest::prop_assert!(issues.is_empty());
            } else {
                proptest::prop_assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn plain_variables_are_the_common_patterns() {
        let mut vars = crate::vars::Vars::new();
        vars.set("MAC", "0004f2aabbcc");
        let mut out = Vec::new();
        for (source, plain) in [
            ("${MAC}.cfg", true),
            ("admin-${LABEL}", true),
            ("${TOLOWER(${MAC})}.cfg", false),
            ("${EPOCH}", false),
            ("${MAC:0:6}", false),
        ] {
            let template = Template::parse("t", source.as_bytes());
            assert_eq!(
                template.render_plain_variables(&vars, &mut out),
                plain,
                "{source}"
            );
        }
    }

    #[test]
    fn boundaries_match_asterisk() {
        assert_eq!(parsed("a=${MAC}\n"), "a=V(MAC)\n");
        assert_eq!(parsed("${TOLOWER(${MAC})}"), "V(TOLOWER(V(MAC)))");
        assert_eq!(parsed("$[${LINE} + 10]"), "E(V(LINE) + 10)");
        assert_eq!(parsed("cost $5 ${X}$"), "cost $5 V(X)$");
        assert_eq!(parsed("${A{b}c}d"), "V(A{b}c)d");
        assert_eq!(parsed("${IF($[1]?a:b)}"), "V(IF(E(1)?a:b))");
        assert_eq!(parsed("${UNCLOSED"), "V(UNCLOSED)");
        assert_eq!(parsed("$[1 + [2]]x"), "E(1 + [2])x");
        assert_eq!(parsed("${}"), "V()");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let src = "${".repeat(100_000) + &"}".repeat(100_000);
        let t = Template::parse("t", src.as_bytes());
        assert_eq!(t.nodes().len(), 1);
    }

    #[test]
    fn nul_truncates() {
        let t = Template::parse("t", b"a${X}\0${Y}");
        assert!(t.truncated_at_nul);
        assert_eq!(shape(&t, t.nodes()), "aV(X)");
    }

    #[test]
    fn lines_are_tracked() {
        let t = Template::parse("t", b"a\nb ${X}\n\n${Y}");
        let lines: Vec<u32> = t
            .nodes()
            .iter()
            .filter_map(|n| match n {
                Node::Var(sub) => Some(sub.line),
                _ => None,
            })
            .collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn spans_cover_the_node_as_written() {
        let t = Template::parse("t", b"a ${X:${Y}} $[1 + 2] ${UNCLOSED");
        let spans: Vec<&[u8]> = t
            .nodes()
            .iter()
            .filter_map(|n| match n {
                Node::Var(sub) | Node::Expr(sub) => Some(t.text(sub.span.0, sub.span.1)),
                Node::Text(..) => None,
            })
            .collect();
        assert_eq!(
            spans,
            [&b"${X:${Y}}"[..], &b"$[1 + 2]"[..], &b"${UNCLOSED"[..]]
        );
    }

    #[test]
    fn variable_names_and_substrings() {
        let v = parse_variable_name(b"MAC:0:6");
        assert_eq!(
            (v.name, v.offset, v.length, v.is_function),
            (&b"MAC"[..], 0, 6, false)
        );
        let v = parse_variable_name(b"MAC:-4");
        assert_eq!((v.offset, v.length), (-4, i32::MAX));
        let v = parse_variable_name(b"IF(a?b:c)");
        assert!(v.is_function && v.length == i32::MAX);
        let v = parse_variable_name(b"CUT(X,:,1):1:2");
        assert_eq!((v.name, v.offset, v.length), (&b"CUT(X,:,1)"[..], 1, 2));
        let v = parse_variable_name(b"X:abc");
        assert_eq!((v.offset, v.length), (0, i32::MAX));
        let v = parse_variable_name(b"X: 2 : 3");
        assert_eq!((v.offset, v.length), (2, 3));
    }

    #[test]
    fn substring_rules() {
        let s = b"0004F2AaBb04";
        assert_eq!(substring(s, 0, 6), b"0004F2");
        assert_eq!(substring(s, -4, i32::MAX), b"Bb04");
        assert_eq!(substring(s, 2, -2), b"04F2AaBb");
        assert_eq!(substring(s, -100, 3), b"000");
        assert_eq!(substring(s, 50, 3), b"");
        assert_eq!(substring(s, 0, -50), b"");
        assert_eq!(substring(b"abc", 1, 0), b"");
    }

    #[test]
    fn scan_int_is_strtol_truncated() {
        assert_eq!(scan_int(b"  -12x").map(|v| v.0), Some(-12));
        assert_eq!(scan_int(b"x"), None);
        assert_eq!(scan_int(b"99999999999999999999").map(|v| v.0), Some(-1));
    }
}

//! Error types for everything parsed at the edge: allow rules, request targets
//! and limit values. Each one quotes the input it rejected, because the user
//! usually typed it on a command line and needs to see which argument was wrong.

use std::fmt;

/// The grammar of an allow rule, repeated in every rule error so the user can
/// fix the rule without looking anything up.
const RULE_GRAMMAR: &str = "[METHOD[,METHOD…] ]SCHEME://HOST[:PORT][/PATH-PREFIX]";

/// Two working examples, shell-quoted as they would be typed.
const RULE_EXAMPLES: &str =
    "e.g. --allow https://api.example.com or --allow 'GET,POST https://*.example.com:8443/v1'";

/// Longest part of a rejected input quoted in an error, in bytes. A whole realistic
/// rule (methods, scheme, a host name of up to 253 characters, a path prefix) fits, so
/// a typo stays visible in context; a much longer input (a file pasted as a rule, a
/// 10 KB host) is cut here so one bad value cannot flood the terminal or a log.
pub(crate) const MAX_QUOTED: usize = 300;

/// `s` quoted as `{s:?}`; past [`MAX_QUOTED`] bytes, the quoted start (cut at a
/// character boundary), an ellipsis and the whole length: `"http://aaa"… (10240 bytes)`.
pub(crate) fn quoted(s: &str) -> String {
    if s.len() <= MAX_QUOTED {
        return format!("{s:?}");
    }
    let mut end = MAX_QUOTED;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &s[..end], s.len())
}

/// What was wrong with an allow rule, so callers and tests can branch on the
/// kind without parsing the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleErrorKind {
    /// The rule was empty or only whitespace.
    Empty,
    /// A Spin template such as `{{ host }}`; wasmgate has no variables to expand.
    Template,
    /// Spin's `self` host (the app itself); wasmgate runs no app to call back.
    SelfHost,
    /// No `://` separates the scheme from the host.
    MissingScheme,
    /// The scheme is malformed or looks like a typo of `http`/`https`.
    BadScheme,
    /// A method is not an HTTP token, or the method list has an empty entry.
    BadMethod,
    /// Nothing between `://` and the port or path.
    EmptyHost,
    /// The host is not a valid DNS name.
    BadHost,
    /// A `*` anywhere other than a whole `*` host or a leading `*.`.
    BadWildcard,
    /// A malformed IP literal or CIDR, or a numeric host that is not dotted IPv4.
    BadAddress,
    /// The port is not 1-65535, `*` or a non-empty `START..END` range.
    BadPort,
    /// The path prefix has spaces, a query, a fragment, or anything servers
    /// resolve differently (dot segments, `;`, backslashes, encoded `/`, …).
    BadPath,
    /// `user@host`: credentials don't belong in rules.
    UserInfo,
}

/// An allow rule that could not be parsed.
///
/// Display quotes the rule, says what was wrong and what was expected, and
/// shows an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    input: String,
    kind: RuleErrorKind,
    detail: String,
}

impl RuleError {
    pub(crate) fn new(input: &str, kind: RuleErrorKind, detail: impl Into<String>) -> Self {
        Self {
            input: input.to_owned(),
            kind,
            detail: detail.into(),
        }
    }

    /// What kind of mistake the rule has.
    pub fn kind(&self) -> RuleErrorKind {
        self.kind
    }

    /// The rule exactly as given.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The specific problem, without the grammar and examples.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The part of the grammar the mistake is about, so the hint is specific.
    fn where_clause(&self) -> &'static str {
        use RuleErrorKind::*;
        match self.kind {
            BadMethod => "METHOD is an HTTP method such as GET or POST",
            EmptyHost | BadHost | BadWildcard | BadAddress => {
                "HOST is a name, *.suffix, *, an IP address ([::1] for IPv6) or a CIDR (10.0.0.0/8, [fd00::/8])"
            }
            BadPort => "PORT is 1-65535, * or a range START..END (END excluded)",
            BadPath => {
                "PATH-PREFIX starts with / and has only URL path characters: no spaces, ?, #, ;, backslashes, . or .. segments, or encoded %, /, \\, ; or control characters"
            }
            Empty | Template | SelfHost | MissingScheme | BadScheme | UserInfo => {
                "SCHEME is http, https or *"
            }
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid allow rule {}: {}; expected {RULE_GRAMMAR} where {}, {RULE_EXAMPLES}",
            quoted(&self.input),
            self.detail,
            self.where_clause()
        )
    }
}

impl std::error::Error for RuleError {}

/// A request target (method and URL) that could not be parsed.
///
/// Display quotes the input and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    input: String,
    reason: String,
}

impl TargetError {
    pub(crate) fn new(input: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            reason: reason.into(),
        }
    }

    /// The rejected input (the URL, or the method when the method was wrong).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid request {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for TargetError {}

/// A flag value (duration, size or CIDR) that could not be parsed.
///
/// Display quotes the input, says what was expected and shows examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    what: &'static str,
    input: String,
    problem: String,
    examples: &'static str,
}

impl ValueError {
    pub(crate) fn new(
        what: &'static str,
        input: &str,
        problem: impl Into<String>,
        examples: &'static str,
    ) -> Self {
        Self {
            what,
            input: input.to_owned(),
            problem: problem.into(),
            examples,
        }
    }

    /// The value exactly as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {:?}: {}; e.g. {}",
            self.what, self.input, self.problem, self.examples
        )
    }
}

impl std::error::Error for ValueError {}

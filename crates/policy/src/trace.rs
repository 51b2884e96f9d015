//! The trace of one evaluation: every policy and statement considered, and
//! for each statement whether its principal, action, resource and each
//! condition matched, with the request's values beside the policy's.
//!
//! Evaluation records only compact flags (no allocation per statement beyond
//! one slot in a vector); the readable view is built when the trace is
//! serialized or rendered.

use serde::ser::{Serialize, Serializer};
use serde::Serialize as DeriveSerialize;

use crate::context::{derived, Context};
use crate::evaluate::{PolicyType, Request};
use crate::policy::{ActionSpec, Effect, Policy, ResourceSpec, Statement};
use crate::principal::{Grant, Principal};

/// How one statement fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementTrace {
    pub index: usize,
    /// `None` when the policy type has no principal element.
    pub principal: Option<bool>,
    /// How the principal element covers the caller (resource-based policies).
    pub grant: Option<Grant>,
    pub action: bool,
    pub resource: bool,
    /// Whether the conditions were evaluated (only when the rest matched).
    pub conditions_evaluated: bool,
    /// Whether every condition held.
    pub conditions: bool,
    /// Bit `i` set: condition `i` (of the first 64) did not hold.
    pub failed_conditions: u64,
    /// Whether the statement applies to the request.
    pub applies: bool,
}

/// One policy considered (stored compactly; read it through [`Trace::policies`]).
#[derive(Clone, Debug)]
pub(crate) struct PolicyRecord {
    policy_type: PolicyType,
    scp_level: Option<usize>,
    policy: Policy,
    name: Span,
    statements: (usize, usize),
}

/// One policy considered, as [`Trace::policies`] shows it.
#[derive(Clone, Copy, Debug)]
pub struct PolicyTrace<'a> {
    pub policy_type: PolicyType,
    pub name: &'a str,
    /// The SCP level (0 = organization root) for service control policies.
    pub scp_level: Option<usize>,
    pub policy: &'a Policy,
    pub statements: &'a [StatementTrace],
}

/// A `(start, end)` byte range in the trace's text buffer.
type Span = (usize, usize);

/// The request as it was evaluated, kept in one text buffer so that taking
/// the snapshot costs a handful of allocations whatever the context holds.
#[derive(Clone, Debug)]
struct RequestSnapshot {
    text: String,
    principal_arn: Option<Span>,
    action: Span,
    resource: Span,
    resource_account: Option<Span>,
    /// Context keys: key span and the range of their values in `values`.
    keys: Vec<(Span, (usize, usize))>,
    values: Vec<Span>,
}

impl RequestSnapshot {
    fn push(text: &mut String, s: &str) -> Span {
        let start = text.len();
        text.push_str(s);
        (start, text.len())
    }

    fn new(req: &Request<'_>, principal_arn: Option<&str>) -> RequestSnapshot {
        let ctx_len: usize = req
            .context
            .iter()
            .map(|(k, v)| k.len() + v.iter().map(String::len).sum::<usize>())
            .sum();
        let mut text = String::with_capacity(
            req.action.len()
                + req.resource.len()
                + principal_arn.map_or(0, str::len)
                + 12
                + ctx_len,
        );
        let principal_arn = principal_arn.map(|a| Self::push(&mut text, a));
        let action = Self::push(&mut text, req.action);
        let resource = Self::push(&mut text, req.resource);
        let resource_account = req.resource_account.map(|a| Self::push(&mut text, a));
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for (k, vs) in req.context.iter() {
            let key = Self::push(&mut text, k);
            let first = values.len();
            for v in vs {
                values.push(Self::push(&mut text, v));
            }
            keys.push((key, (first, values.len())));
        }
        RequestSnapshot {
            text,
            principal_arn,
            action,
            resource,
            resource_account,
            keys,
            values,
        }
    }

    fn get(&self, span: Span) -> &str {
        self.text.get(span.0..span.1).unwrap_or("")
    }

    /// The values of a context key (any case).
    fn context_values(&self, key: &str) -> Option<Vec<&str>> {
        self.keys
            .iter()
            .find(|(k, _)| self.get(*k).eq_ignore_ascii_case(key))
            .map(|(_, (a, b))| self.values[*a..*b].iter().map(|v| self.get(*v)).collect())
    }
}

/// Collects the trace while evaluating (one vector of statements for all policies).
pub(crate) struct TraceBuilder {
    policies: Vec<PolicyRecord>,
    statements: Vec<StatementTrace>,
    names: String,
}

impl TraceBuilder {
    pub(crate) fn with_capacity(policies: usize, statements: usize, names: usize) -> TraceBuilder {
        TraceBuilder {
            policies: Vec::with_capacity(policies),
            statements: Vec::with_capacity(statements),
            names: String::with_capacity(names),
        }
    }

    /// Starts a policy; statements pushed until the next call belong to it.
    pub(crate) fn begin_policy(
        &mut self,
        policy_type: PolicyType,
        name: &str,
        scp_level: Option<usize>,
        policy: &Policy,
    ) {
        let start = self.names.len();
        self.names.push_str(name);
        let first = self.statements.len();
        self.policies.push(PolicyRecord {
            policy_type,
            scp_level,
            policy: policy.clone(),
            name: (start, self.names.len()),
            statements: (first, first),
        });
    }

    pub(crate) fn push_statement(&mut self, t: StatementTrace) {
        self.statements.push(t);
        if let Some(p) = self.policies.last_mut() {
            p.statements.1 = self.statements.len();
        }
    }

    pub(crate) fn finish(
        self,
        req: &Request<'_>,
        principal_arn: Option<&str>,
        notes: Vec<&'static str>,
    ) -> Trace {
        Trace {
            principal: req.principal.clone(),
            request: RequestSnapshot::new(req, principal_arn),
            policies: self.policies,
            statements: self.statements,
            names: self.names,
            notes,
        }
    }
}

/// The whole evaluation, serializable for `explain` views and decision records.
#[derive(Clone, Debug)]
pub struct Trace {
    principal: Principal,
    request: RequestSnapshot,
    policies: Vec<PolicyRecord>,
    statements: Vec<StatementTrace>,
    names: String,
    /// Rules outside the statements that shaped the decision.
    pub notes: Vec<&'static str>,
}

impl Trace {
    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// `aws:PrincipalArn` of the caller, if it has one.
    pub fn principal_arn(&self) -> Option<&str> {
        self.request.principal_arn.map(|s| self.request.get(s))
    }

    /// The action evaluated.
    pub fn action(&self) -> &str {
        self.request.get(self.request.action)
    }

    /// The resource evaluated.
    pub fn resource(&self) -> &str {
        self.request.get(self.request.resource)
    }

    /// The account owning the resource.
    pub fn resource_account(&self) -> Option<&str> {
        self.request.resource_account.map(|s| self.request.get(s))
    }

    /// The request context as given (derived keys are not listed).
    pub fn context(&self) -> Context {
        let mut c = Context::new();
        for (k, (a, b)) in &self.request.keys {
            c.insert_values(
                self.request.get(*k),
                self.request.values[*a..*b]
                    .iter()
                    .map(|v| self.request.get(*v)),
            );
        }
        c
    }

    /// Every policy considered, in evaluation order.
    pub fn policies(&self) -> impl Iterator<Item = PolicyTrace<'_>> {
        self.policies.iter().map(|p| PolicyTrace {
            policy_type: p.policy_type,
            name: self.names.get(p.name.0..p.name.1).unwrap_or(""),
            scp_level: p.scp_level,
            policy: &p.policy,
            statements: self
                .statements
                .get(p.statements.0..p.statements.1)
                .unwrap_or(&[]),
        })
    }

    /// Statements that applied, with their policy and effect.
    pub fn applicable(&self) -> impl Iterator<Item = (PolicyTrace<'_>, &StatementTrace, Effect)> {
        self.policies().flat_map(|p| {
            p.statements
                .iter()
                .filter(|s| s.applies)
                .filter_map(move |s| p.policy.statement_effect(s.index).map(|e| (p, s, e)))
        })
    }

    /// A plain-text explanation, one line per statement.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "request: {} {} on {} (resource account {})\n",
            self.principal.arn(),
            self.action(),
            self.resource(),
            self.resource_account().unwrap_or("-")
        );
        for p in self.policies() {
            let level = p
                .scp_level
                .map(|l| format!(" level {l}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}{} \"{}\":\n",
                p.policy_type.label(),
                level,
                p.name
            ));
            if p.statements.is_empty() {
                out.push_str("  (no statements)\n");
            }
            for s in p.statements {
                let Some(st) = p.policy.statements().get(s.index) else {
                    continue;
                };
                let sid = st
                    .sid
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                let verdict = if s.applies {
                    "applies".to_string()
                } else {
                    format!("does not apply: {}", self.mismatches(st, s).join("; "))
                };
                out.push_str(&format!(
                    "  #{}{} {:?}: {}\n",
                    s.index, sid, st.effect, verdict
                ));
            }
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out
    }

    fn mismatches(&self, st: &Statement, s: &StatementTrace) -> Vec<String> {
        let mut why = Vec::new();
        if s.principal == Some(false) {
            why.push(format!(
                "principal {} not in {:?}",
                self.principal.arn(),
                st.text.principals
            ));
        }
        if !s.action {
            let not = if matches!(st.action, ActionSpec::NotAction(_)) {
                "NotAction "
            } else {
                ""
            };
            why.push(format!(
                "action {} not matched by {not}{:?}",
                self.action(),
                st.text.actions
            ));
        }
        if !s.resource {
            let not = if matches!(st.resource, ResourceSpec::NotResource(_)) {
                "NotResource "
            } else {
                ""
            };
            why.push(format!(
                "resource {} not matched by {not}{:?}",
                self.resource(),
                st.text.resources
            ));
        }
        if s.conditions_evaluated && !s.conditions {
            for (i, c) in st.conditions.iter().enumerate() {
                if i < 64 && s.failed_conditions & (1 << i) != 0 {
                    why.push(format!(
                        "condition {} {} {:?} failed (request: {})",
                        c.operator_name,
                        c.key,
                        c.raw_values,
                        self.request_values(&c.key)
                            .map_or("absent".to_string(), |v| format!("{v:?}"))
                    ));
                }
            }
        }
        if why.is_empty() {
            why.push("statement is inert (unknown condition operator)".into());
        }
        why
    }

    /// The request's values of a condition key (listed, else derived from the principal).
    fn request_values(&self, key: &str) -> Option<Vec<String>> {
        if let Some(v) = self.request.context_values(key) {
            return if v.is_empty() {
                None
            } else {
                Some(v.into_iter().map(str::to_string).collect())
            };
        }
        derived(&self.principal, self.principal_arn(), key).map(|v| vec![v.to_string()])
    }
}

/// The snapshot's context as a JSON map (a single value as a string, several as a list).
struct ContextView<'a>(&'a RequestSnapshot);

impl Serialize for ContextView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut map = serializer.serialize_map(Some(r.keys.len()))?;
        for (k, (a, b)) in &r.keys {
            let values: Vec<&str> = r.values[*a..*b].iter().map(|v| r.get(*v)).collect();
            if values.len() == 1 {
                map.serialize_entry(r.get(*k), values[0])?;
            } else {
                map.serialize_entry(r.get(*k), &values)?;
            }
        }
        map.end()
    }
}

#[derive(DeriveSerialize)]
struct RequestView<'a> {
    principal: String,
    principal_arn: Option<&'a str>,
    action: &'a str,
    resource: &'a str,
    resource_account: Option<&'a str>,
    context: ContextView<'a>,
}

#[derive(DeriveSerialize)]
struct ElementView<'a> {
    matched: bool,
    negated: bool,
    policy: &'a [String],
    request: &'a str,
}

#[derive(DeriveSerialize)]
struct PrincipalView<'a> {
    matched: bool,
    negated: bool,
    grant: Option<Grant>,
    policy: &'a [String],
    request: String,
}

#[derive(DeriveSerialize)]
struct ConditionView<'a> {
    operator: &'a str,
    key: &'a str,
    policy_values: &'a [String],
    request_values: Option<Vec<String>>,
    /// `None` when not evaluated.
    matched: Option<bool>,
}

#[derive(DeriveSerialize)]
struct StatementView<'a> {
    index: usize,
    sid: Option<&'a str>,
    effect: Effect,
    applies: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<PrincipalView<'a>>,
    action: ElementView<'a>,
    resource: ElementView<'a>,
    conditions: Vec<ConditionView<'a>>,
}

#[derive(DeriveSerialize)]
struct PolicyView<'a> {
    policy_type: PolicyType,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scp_level: Option<usize>,
    statements: Vec<StatementView<'a>>,
}

#[derive(DeriveSerialize)]
struct TraceView<'a> {
    request: RequestView<'a>,
    policies: Vec<PolicyView<'a>>,
    notes: &'a [&'static str],
}

impl Serialize for Trace {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let principal_text = self.principal.arn();
        let policies = self
            .policies()
            .map(|p| PolicyView {
                policy_type: p.policy_type,
                name: p.name,
                scp_level: p.scp_level,
                statements: p
                    .statements
                    .iter()
                    .filter_map(|s| {
                        let st = p.policy.statements().get(s.index)?;
                        Some(StatementView {
                            index: s.index,
                            sid: st.sid.as_deref(),
                            effect: st.effect,
                            applies: s.applies,
                            principal: s.principal.map(|matched| PrincipalView {
                                matched,
                                negated: st.principal.as_ref().is_some_and(|p| p.negated),
                                grant: s.grant,
                                policy: &st.text.principals,
                                request: principal_text.clone(),
                            }),
                            action: ElementView {
                                matched: s.action,
                                negated: matches!(st.action, ActionSpec::NotAction(_)),
                                policy: &st.text.actions,
                                request: self.action(),
                            },
                            resource: ElementView {
                                matched: s.resource,
                                negated: matches!(st.resource, ResourceSpec::NotResource(_)),
                                policy: &st.text.resources,
                                request: self.resource(),
                            },
                            conditions: st
                                .conditions
                                .iter()
                                .enumerate()
                                .map(|(i, c)| ConditionView {
                                    operator: &c.operator_name,
                                    key: &c.key,
                                    policy_values: &c.raw_values,
                                    request_values: self.request_values(&c.key),
                                    matched: s
                                        .conditions_evaluated
                                        .then(|| i >= 64 || s.failed_conditions & (1 << i) == 0),
                                })
                                .collect(),
                        })
                    })
                    .collect(),
            })
            .collect();
        TraceView {
            request: RequestView {
                principal: principal_text.clone(),
                principal_arn: self.principal_arn(),
                action: self.action(),
                resource: self.resource(),
                resource_account: self.resource_account(),
                context: ContextView(&self.request),
            },
            policies,
            notes: &self.notes,
        }
        .serialize(serializer)
    }
}

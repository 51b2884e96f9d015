//! The trace of one evaluation: every policy and statement considered, and
//! for each statement whether its principal, action, resource and each
//! condition matched, with the request's values beside the policy's.
//!
//! Evaluation records only compact flags (no allocation per statement beyond
//! one slot in a vector); the readable view is built when the trace is
//! serialized or rendered.

use serde::ser::{Serialize, Serializer};
use serde::Serialize as DeriveSerialize;

use crate::context::{lookup, Context};
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

/// One policy considered.
#[derive(Clone, Debug)]
pub struct PolicyTrace {
    pub policy_type: PolicyType,
    pub name: String,
    /// The SCP level (0 = organization root) for service control policies.
    pub scp_level: Option<usize>,
    pub(crate) policy: Policy,
    pub statements: Vec<StatementTrace>,
}

impl PolicyTrace {
    /// The policy that was evaluated.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// The whole evaluation, serializable for `explain` views and decision records.
#[derive(Clone, Debug)]
pub struct Trace {
    pub(crate) principal: Principal,
    pub(crate) principal_arn: Option<String>,
    pub(crate) action: String,
    pub(crate) resource: String,
    pub(crate) resource_account: Option<String>,
    pub(crate) context: Context,
    pub policies: Vec<PolicyTrace>,
    /// Rules outside the statements that shaped the decision.
    pub notes: Vec<&'static str>,
}

impl Trace {
    pub(crate) fn new(
        req: &Request<'_>,
        principal_arn: Option<&str>,
        policies: Vec<PolicyTrace>,
        notes: Vec<&'static str>,
    ) -> Trace {
        Trace {
            principal: req.principal.clone(),
            principal_arn: principal_arn.map(str::to_string),
            action: req.action.to_string(),
            resource: req.resource.to_string(),
            resource_account: req.resource_account.map(str::to_string),
            context: req.context.clone(),
            policies,
            notes,
        }
    }

    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The action evaluated.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The resource evaluated.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The request context (as given; derived keys are not listed).
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Statements that applied, with their effect: `(policy index, statement index, effect)`.
    pub fn applicable(&self) -> impl Iterator<Item = (&PolicyTrace, &StatementTrace, Effect)> {
        self.policies.iter().flat_map(|p| {
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
            self.action,
            self.resource,
            self.resource_account.as_deref().unwrap_or("-")
        );
        for p in &self.policies {
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
            for s in &p.statements {
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
                self.action, st.text.actions
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
                self.resource, st.text.resources
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

    /// The request's values of a condition key.
    fn request_values(&self, key: &str) -> Option<Vec<String>> {
        lookup(
            &self.context,
            &self.principal,
            self.principal_arn.as_deref(),
            key,
        )
        .map(|v| v.iter().map(str::to_string).collect())
    }
}

#[derive(DeriveSerialize)]
struct RequestView<'a> {
    principal: String,
    principal_arn: Option<&'a str>,
    action: &'a str,
    resource: &'a str,
    resource_account: Option<&'a str>,
    context: &'a Context,
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
            .policies
            .iter()
            .map(|p| PolicyView {
                policy_type: p.policy_type,
                name: &p.name,
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
                                request: &self.action,
                            },
                            resource: ElementView {
                                matched: s.resource,
                                negated: matches!(st.resource, ResourceSpec::NotResource(_)),
                                policy: &st.text.resources,
                                request: &self.resource,
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
                principal_arn: self.principal_arn.as_deref(),
                action: &self.action,
                resource: &self.resource,
                resource_account: self.resource_account.as_deref(),
                context: &self.context,
            },
            policies,
            notes: &self.notes,
        }
        .serialize(serializer)
    }
}

//! Rules as flat programs: the conditions of every rule in one array of fixed-size
//! nodes, evaluated on a normalised request ([`SlotValues`]).
//!
//! A rule's program is a header node (its effect and rule index) followed by its `WHO`
//! condition and its `WHAT` condition, each a tree written in prefix order: an `and`,
//! `or` or `not` node is followed by its operands, and every node knows the size of its
//! subtree so that an evaluation can skip an operand it does not need. Atoms refer to
//! attributes by slot, and a string literal of up to 16 bytes is stored in its node, so
//! comparing with it reads no other memory. Programs are laid out in the order the index posts them (rules under one
//! key next to each other), so the candidates of one probe are read from a few adjacent
//! cache lines.
//!
//! The tree evaluator over entities (`decide::eval`) is the reference: the linear scan
//! and the explanations use it, and the property tests check that both agree.

use crate::decide::eval::{any, Outcome, Truth};
use crate::ir::{self, Expr, Glob, Test};
use crate::vocabulary::{Effect, Literal};

use std::sync::Arc;

use super::layout::{Layout, SlotValues, Val};

/// What a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A rule header: `x` is the rule index, `y` 1 for a deny.
    Rule,
    Any,
    And,
    Or,
    Not,
    Has,
    /// The literal is inline (see [`Node::len`]) or `texts[x]`.
    EqStr,
    /// `x` is the integer.
    EqInt,
    /// `x` is 0 or 1.
    EqBool,
    /// `x` is the position in `lists`.
    In,
    /// `x` is the position in `globs`.
    Like,
    /// `lo = x`, `hi = y`.
    Range,
    EmptyRange,
}

/// The longest string literal stored in its node.
const INLINE: usize = 16;
/// [`Node::len`] of a string literal too long to be inline.
const LONG: u8 = u8::MAX;

/// One node: 24 bytes, eight to three cache lines.
#[derive(Debug, Clone, Copy)]
struct Node {
    kind: Kind,
    /// For [`Kind::EqStr`]: the inline literal's length in bytes, or [`LONG`].
    len: u8,
    /// For an atom, the attribute's slot; for a rule header, `and`, `or` or `not`, the
    /// number of nodes in its subtree, itself included (an atom's is 1).
    a: u32,
    /// An inline string literal, or `x` (bytes 0..8) and `y` (bytes 8..16).
    data: [u8; INLINE],
}

// Eight nodes to three cache lines: checked at compile time.
const _: () = assert!(std::mem::size_of::<Node>() == 24);

impl Node {
    fn new(kind: Kind, slot: u32, x: i64, y: i64) -> Node {
        let mut data = [0; INLINE];
        data[..8].copy_from_slice(&x.to_le_bytes());
        data[8..16].copy_from_slice(&y.to_le_bytes());
        Node {
            kind,
            len: 0,
            a: slot,
            data,
        }
    }

    /// Whether the node has operands (and so a subtree size).
    #[inline]
    fn is_composite(&self) -> bool {
        matches!(self.kind, Kind::Rule | Kind::And | Kind::Or | Kind::Not)
    }

    /// The number of nodes in this subtree, this one included.
    #[inline]
    fn size(&self) -> u32 {
        if self.is_composite() {
            self.a
        } else {
            1
        }
    }

    /// The attribute's slot (atoms).
    #[inline]
    fn slot(&self) -> u32 {
        self.a
    }

    #[inline]
    fn x(&self) -> i64 {
        let mut b = [0; 8];
        b.copy_from_slice(&self.data[..8]);
        i64::from_le_bytes(b)
    }

    #[inline]
    fn y(&self) -> i64 {
        let mut b = [0; 8];
        b.copy_from_slice(&self.data[8..16]);
        i64::from_le_bytes(b)
    }

    /// `x` as a position in a side table.
    #[inline]
    fn position(&self) -> usize {
        usize::try_from(self.x()).unwrap_or(usize::MAX)
    }
}

/// The literals of an `in` list, by kind.
#[derive(Debug, Clone, Default)]
struct InList {
    /// Strings, sorted.
    strs: Vec<Arc<str>>,
    /// Integers, sorted.
    ints: Vec<i64>,
    /// Which booleans: bit 0 false, bit 1 true.
    bools: u8,
}

/// Every rule's program.
#[derive(Debug, Clone, Default)]
pub(crate) struct Programs {
    nodes: Vec<Node>,
    /// String literals too long to be inline.
    texts: Vec<Arc<str>>,
    lists: Vec<InList>,
    globs: Vec<Glob>,
    /// Rule index → where its program starts in `nodes`.
    starts: Vec<u32>,
}

impl Programs {
    /// Writes the programs of `rules`, in the order `order` gives (each rule once).
    pub(crate) fn build(rules: &ir::RuleList, layout: &Layout, order: &[u32]) -> Programs {
        // Where each program goes, in `order`; then every rule is read once, in load order
        // (sequential reads), and its program written at its place.
        let sizes: Vec<usize> = rules
            .iter()
            .map(|r| 1 + expr_nodes(&r.who) + expr_nodes(&r.what))
            .collect();
        let mut starts = vec![0u32; rules.len()];
        let mut total = 0usize;
        for &r in order {
            // INVARIANT: node counts fit in u32 (bounded by the policy's size limits).
            starts[r as usize] = total as u32;
            total += sizes[r as usize];
        }
        let mut arena = vec![Node::new(Kind::Any, 0, 0, 0); total];
        let mut programs = Programs::default();
        for (r, rule) in rules.iter().enumerate() {
            programs.nodes.clear();
            programs.nodes.push(Node::new(
                Kind::Rule,
                0,
                r as i64,
                i64::from(rule.effect == Effect::Deny),
            ));
            programs.write(&rule.who, 0, layout);
            programs.write(&rule.what, 1, layout);
            let len = programs.nodes.len();
            programs.nodes[0].a = len as u32;
            let start = starts[r] as usize;
            if let Some(place) = arena.get_mut(start..start + len) {
                place.copy_from_slice(&programs.nodes);
            }
        }
        programs.nodes = arena;
        programs.starts = starts;
        programs
    }

    fn write(&mut self, expr: &Expr, side: usize, layout: &Layout) {
        let start = self.nodes.len();
        let node = Node::new;
        match expr {
            Expr::Any => self.nodes.push(node(Kind::Any, 0, 0, 0)),
            Expr::And(es) | Expr::Or(es) => {
                let kind = if matches!(expr, Expr::And(_)) {
                    Kind::And
                } else {
                    Kind::Or
                };
                self.nodes.push(node(kind, 0, 0, 0));
                es.iter().for_each(|e| self.write(e, side, layout));
            }
            Expr::Not(e) => {
                self.nodes.push(node(Kind::Not, 0, 0, 0));
                self.write(e, side, layout);
            }
            Expr::Atom(atom) => {
                // Every tested attribute has a slot: the layout was made from these rules.
                let slot = layout.slots[side].get(&atom.attribute).unwrap_or(u32::MAX);
                let n = match &atom.test {
                    Test::Has => node(Kind::Has, slot, 0, 0),
                    Test::Eq(Literal::Str(s)) => self.string_node(slot, s),
                    Test::Eq(Literal::Int(i)) => node(Kind::EqInt, slot, *i, 0),
                    Test::Eq(Literal::Bool(b)) => node(Kind::EqBool, slot, i64::from(*b), 0),
                    Test::In(ls) => {
                        let mut list = InList::default();
                        for l in ls {
                            match l {
                                Literal::Str(s) => list.strs.push(s.clone()),
                                Literal::Int(i) => list.ints.push(*i),
                                Literal::Bool(b) => list.bools |= 1 << u8::from(*b),
                            }
                        }
                        list.strs.sort_unstable();
                        list.strs.dedup();
                        list.ints.sort_unstable();
                        list.ints.dedup();
                        self.lists.push(list);
                        node(Kind::In, slot, self.lists.len() as i64 - 1, 0)
                    }
                    Test::Like(glob) => {
                        self.globs.push((**glob).clone());
                        node(Kind::Like, slot, self.globs.len() as i64 - 1, 0)
                    }
                    Test::Range { lo, hi } => node(Kind::Range, slot, *lo, *hi),
                    Test::EmptyRange => node(Kind::EmptyRange, slot, 0, 0),
                };
                self.nodes.push(n);
            }
        }
        if self.nodes[start].is_composite() {
            self.nodes[start].a = (self.nodes.len() - start) as u32;
        }
    }

    /// An equality with string `literal`: inline when it is short enough.
    fn string_node(&mut self, slot: u32, literal: &Arc<str>) -> Node {
        if literal.len() <= INLINE {
            let mut node = Node::new(Kind::EqStr, slot, 0, 0);
            node.data = [0; INLINE];
            node.data[..literal.len()].copy_from_slice(literal.as_bytes());
            // INVARIANT: at most INLINE (20) bytes.
            node.len = literal.len() as u8;
            node
        } else {
            self.texts.push(literal.clone());
            let mut node = Node::new(Kind::EqStr, slot, self.texts.len() as i64 - 1, 0);
            node.len = LONG;
            node
        }
    }

    /// The bytes of an [`Kind::EqStr`] node's literal.
    #[inline]
    fn literal<'p>(&'p self, node: &'p Node) -> &'p [u8] {
        if node.len == LONG {
            self.texts
                .get(node.position())
                .map_or(&[][..], |t| t.as_bytes())
        } else {
            &node.data[..usize::from(node.len).min(INLINE)]
        }
    }

    /// True for an index that has no programs (the reverse queries').
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The size of the program starting at `at` (0 past the end).
    #[inline]
    pub(crate) fn size_at(&self, at: u32) -> u32 {
        self.nodes.get(at as usize).map_or(0, Node::size)
    }

    /// Where the program of rule `r` starts.
    #[inline]
    pub(crate) fn start_of(&self, r: u32) -> u32 {
        self.starts[r as usize]
    }

    /// The rule whose program starts at `at`.
    #[inline]
    pub(crate) fn rule_at(&self, at: u32) -> u32 {
        // INVARIANT: the header's x is a rule index (a u32).
        self.nodes[at as usize].x() as u32
    }

    /// The outcome of the program at `at` on a request, with its rule index.
    #[inline]
    pub(crate) fn outcome<'a>(
        &self,
        at: u32,
        identity: &impl SlotValues<'a>,
        resource: &impl SlotValues<'a>,
    ) -> (u32, Outcome) {
        let at = at as usize;
        let header = self.nodes[at];
        let effect = if header.y() == 1 {
            Effect::Deny
        } else {
            Effect::Grant
        };
        // INVARIANT: the header's x is a rule index (a u32).
        let rule = header.x() as u32;
        let who = self.eval(at + 1, identity);
        if !crate::decide::eval::who_admits(effect, who) {
            return (rule, Outcome::NotApplied);
        }
        let what_at = at + 1 + self.nodes[at + 1].size() as usize;
        let what = self.eval(what_at, resource);
        (rule, crate::decide::eval::combine(effect, who, what))
    }

    /// The truth of rule `r`'s `WHO` condition.
    pub(crate) fn who<'a>(&self, r: u32, identity: &impl SlotValues<'a>) -> Truth {
        self.eval(self.start_of(r) as usize + 1, identity)
    }

    /// The truth of rule `r`'s `WHAT` condition.
    #[inline]
    pub(crate) fn what<'a>(&self, r: u32, resource: &impl SlotValues<'a>) -> Truth {
        let at = self.start_of(r) as usize + 1;
        let what_at = at + self.nodes[at].size() as usize;
        self.eval(what_at, resource)
    }

    /// Kleene evaluation of the subtree at `at`.
    fn eval<'a>(&self, at: usize, side: &impl SlotValues<'a>) -> Truth {
        let node = &self.nodes[at];
        match node.kind {
            Kind::Any => Truth::True,
            Kind::Not => !self.eval(at + 1, side),
            // `and` is `not any(not …)`, as in the tree evaluator.
            Kind::And => !any(self.operands(at).map(|i| !self.eval(i, side))),
            Kind::Or => any(self.operands(at).map(|i| self.eval(i, side))),
            Kind::Rule => Truth::Unknown,
            _ => self.atom(node, side.get(node.slot())),
        }
    }

    /// Where each operand of the `and`, `or` or `not` at `at` starts (lazily: `any`
    /// stops at the first operand that decides).
    fn operands(&self, at: usize) -> impl Iterator<Item = usize> + '_ {
        let end = at + self.nodes[at].size() as usize;
        // `successors` computes one step ahead, so the step past the last operand may be
        // at the end of the array: `get`, not indexing.
        std::iter::successors(Some(at + 1), move |&i| {
            self.nodes.get(i).map(|n| i + n.size() as usize)
        })
        .take_while(move |&i| i < end)
    }

    #[inline]
    fn atom(&self, node: &Node, value: Val<'_>) -> Truth {
        if node.kind == Kind::Has {
            return Truth::from_bool(value != Val::Absent);
        }
        match (node.kind, value) {
            (_, Val::Absent) => Truth::Unknown,
            (Kind::EqStr, Val::Str(s)) => Truth::from_bool(s.as_bytes() == self.literal(node)),
            (Kind::EqStr, Val::Set(items)) => Truth::from_bool(set_has(items, self.literal(node))),
            (Kind::EqInt, Val::Int(i)) => Truth::from_bool(i == node.x()),
            (Kind::EqBool, Val::Bool(b)) => Truth::from_bool(i64::from(b) == node.x()),
            (Kind::In, value) => match self.lists.get(node.position()) {
                Some(list) => in_list(list, value),
                None => Truth::Unknown,
            },
            (Kind::Like, Val::Str(s)) => Truth::from_bool(
                self.globs
                    .get(node.position())
                    .is_some_and(|g| g.is_match(s)),
            ),
            (Kind::Like, Val::Set(items)) => Truth::from_bool(
                self.globs
                    .get(node.position())
                    .is_some_and(|g| items.iter().any(|s| g.is_match(s))),
            ),
            (Kind::Range, Val::Int(i)) => Truth::from_bool(node.x() <= i && i <= node.y()),
            (Kind::EmptyRange, Val::Int(_)) => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

/// `value in list`: true when it equals some literal, else unknown when some literal
/// cannot be compared with it, else false (as `any` of the equalities).
fn in_list(list: &InList, value: Val<'_>) -> Truth {
    let (found, others) = match value {
        Val::Absent => return Truth::Unknown,
        Val::Str(s) => (
            list.strs.binary_search_by(|l| (**l).cmp(s)).is_ok(),
            !list.ints.is_empty() || list.bools != 0,
        ),
        Val::Set(items) => (
            list.strs.iter().any(|l| set_has(items, l.as_bytes())),
            !list.ints.is_empty() || list.bools != 0,
        ),
        Val::Int(i) => (
            list.ints.binary_search(&i).is_ok(),
            !list.strs.is_empty() || list.bools != 0,
        ),
        Val::Bool(b) => (
            list.bools & (1 << u8::from(b)) != 0,
            !list.strs.is_empty() || !list.ints.is_empty(),
        ),
    };
    let rest = if others { Truth::Unknown } else { Truth::False };
    any([Truth::from_bool(found), rest].into_iter())
}

/// The number of nodes `expr` is written as.
fn expr_nodes(expr: &Expr) -> usize {
    match expr {
        Expr::Any | Expr::Atom(_) => 1,
        Expr::Not(e) => 1 + expr_nodes(e),
        Expr::And(es) | Expr::Or(es) => 1 + es.iter().map(expr_nodes).sum::<usize>(),
    }
}

/// Whether a set (sorted, unique) holds `literal` (strings order as their bytes do).
#[inline]
fn set_has(items: &[String], literal: &[u8]) -> bool {
    items
        .binary_search_by(|x| x.as_bytes().cmp(literal))
        .is_ok()
}

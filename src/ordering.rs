//! Listener ordering: one pure function, [`order`], that turns `before`/`after` constraints
//! into a fixed order (a stable topological sort). It owns no I/O and knows nothing about
//! napi or JavaScript; `js/ordering.rs` is the thin export. The chain runner never sorts;
//! it asks for an order once before a run of a chain whose array changed.
//!
//! Rules:
//! - `before: ["x"]` puts the item before every item whose id is `"x"`; `after` the reverse.
//! - `"*"` in `before` puts the item in the *first* tier (before every item not in that tier),
//!   `"*"` in `after` puts it in the *last* tier. Inside a tier the ordinary rules apply.
//! - References to ids that are not in the list, to the empty id, or to the item itself are
//!   ignored. Several items may share an id; a reference then applies to each of them.
//! - Ties are broken by insertion order and nothing moves without a reason: items are taken
//!   in insertion order and each is placed right after the predecessors it still waits for
//!   (a depth-first topological sort). Unconstrained lists keep their order exactly, and a
//!   listener declaring `before: ["x"]` lands directly in front of `x` without disturbing
//!   the relative order of the items around it.
//! - Contradictory constraints are a [`OrderError::Cycle`] naming the ids around the cycle.

use std::collections::HashMap;
use std::fmt;

/// One listener's ordering constraints, as given by `fn.options`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
  /// The listener id (`options.id`, else the function name; may be empty).
  pub id: String,
  /// Ids this item must run before; `"*"` means before all others.
  pub before: Vec<String>,
  /// Ids this item must run after; `"*"` means after all others.
  pub after: Vec<String>,
}

/// Why no order exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
  /// The constraints form a cycle. `ids` follows the cycle's edges (each id must run before
  /// the next one, and the last before the first); `indices` are the items' input positions.
  Cycle { ids: Vec<String>, indices: Vec<usize> },
}

impl fmt::Display for OrderError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Self::Cycle { ids, .. } => {
        let mut path: Vec<String> = ids.iter().map(|id| display_id(id)).collect();
        if let Some(first) = path.first().cloned() {
          path.push(first);
        }
        write!(f, "ordering cycle: {}", path.join(" -> "))
      }
    }
  }
}

impl std::error::Error for OrderError {}

fn display_id(id: &str) -> String {
  if id.is_empty() {
    "(anonymous)".to_string()
  } else {
    id.to_string()
  }
}

const STAR: &str = "*";

/// Orders `items` and returns their input indices in run order.
///
/// # Errors
/// [`OrderError::Cycle`] when the constraints contradict each other (including an item that
/// says both `before: ["*"]` and `after: ["*"]`).
pub fn order(items: &[Item]) -> Result<Vec<usize>, OrderError> {
  let n = items.len();
  let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
  for (i, item) in items.iter().enumerate() {
    if !item.id.is_empty() && item.id != STAR {
      by_id.entry(item.id.as_str()).or_default().push(i);
    }
  }

  // tier 0: before '*', 1: unconstrained, 2: after '*'. Both stars is its own contradiction.
  let mut tier = vec![1u8; n];
  for (i, item) in items.iter().enumerate() {
    let first = item.before.iter().any(|s| s == STAR);
    let last = item.after.iter().any(|s| s == STAR);
    if first && last {
      return Err(cycle(items, vec![i]));
    }
    tier[i] = if first { 0 } else if last { 2 } else { 1 };
  }

  // preds[b] holds a when a must run before b (sorted, deduplicated, no self-references).
  let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
  let targets = |ids: &[String]| -> Vec<usize> {
    ids
      .iter()
      .filter(|s| *s != STAR)
      .flat_map(|s| by_id.get(s.as_str()).map(Vec::as_slice).unwrap_or(&[]))
      .copied()
      .collect()
  };
  for (i, item) in items.iter().enumerate() {
    for j in targets(&item.before) {
      preds[j].push(i);
    }
    for j in targets(&item.after) {
      preds[i].push(j);
    }
  }
  for (i, p) in preds.iter_mut().enumerate() {
    p.retain(|&j| j != i);
    p.sort_unstable();
    p.dedup();
  }

  // Depth-first, tier by tier, roots in insertion order: an item is placed right after
  // the predecessors it still waits for, so nothing moves unless a constraint demands it.
  const NEW: u8 = 0;
  const ON_STACK: u8 = 1;
  const PLACED: u8 = 2;
  let mut state = vec![NEW; n];
  let mut out = Vec::with_capacity(n);
  for t in 0..=2u8 {
    for root in (0..n).filter(|&i| tier[i] == t) {
      if state[root] != NEW {
        continue;
      }
      state[root] = ON_STACK;
      let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
      while let Some(top) = stack.last_mut() {
        let (node, next) = *top;
        let Some(&p) = preds[node].get(next) else {
          state[node] = PLACED;
          out.push(node);
          stack.pop();
          continue;
        };
        top.1 += 1;
        if tier[p] > tier[node] {
          // p must precede node, but node's tier precedes p's tier.
          return Err(cycle(items, vec![p, node]));
        }
        match state[p] {
          NEW => {
            state[p] = ON_STACK;
            stack.push((p, 0));
          }
          ON_STACK => {
            // stack runs from successors to predecessors; reverse it for edge order
            let from = stack.iter().position(|&(s, _)| s == p).unwrap_or(0);
            let mut path: Vec<usize> = stack[from..].iter().map(|&(s, _)| s).collect();
            path.reverse();
            return Err(cycle(items, path));
          }
          _ => {}
        }
      }
    }
  }
  Ok(out)
}

/// Builds the cycle error, starting the path at its earliest-inserted member so the
/// message does not depend on where the search happened to enter the cycle.
fn cycle(items: &[Item], mut indices: Vec<usize>) -> OrderError {
  if let Some(pos) = indices.iter().enumerate().min_by_key(|&(_, &i)| i).map(|(p, _)| p) {
    indices.rotate_left(pos);
  }
  let ids = indices.iter().map(|&i| items[i].id.clone()).collect();
  OrderError::Cycle { ids, indices }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn it(id: &str, before: &[&str], after: &[&str]) -> Item {
    Item {
      id: id.to_string(),
      before: before.iter().map(|s| s.to_string()).collect(),
      after: after.iter().map(|s| s.to_string()).collect(),
    }
  }

  fn ids(items: &[Item]) -> Vec<String> {
    order(items).unwrap().into_iter().map(|i| items[i].id.clone()).collect()
  }

  #[test]
  fn empty_list_orders_to_empty() {
    assert_eq!(order(&[]).unwrap(), Vec::<usize>::new());
  }

  #[test]
  fn unconstrained_items_keep_insertion_order() {
    let items = [it("a", &[], &[]), it("b", &[], &[]), it("c", &[], &[])];
    assert_eq!(ids(&items), ["a", "b", "c"]);
  }

  #[test]
  fn before_moves_an_item_ahead() {
    let items = [it("a", &[], &[]), it("b", &[], &[]), it("c", &["a"], &[])];
    assert_eq!(ids(&items), ["c", "a", "b"]);
  }

  #[test]
  fn after_places_the_item_right_behind_its_predecessor() {
    let items = [it("a", &[], &["c"]), it("b", &[], &[]), it("c", &[], &[])];
    assert_eq!(ids(&items), ["c", "a", "b"]);
    let items = [it("c", &[], &[]), it("b", &[], &[]), it("a", &[], &["c"])];
    assert_eq!(ids(&items), ["c", "b", "a"]);
  }

  #[test]
  fn before_star_goes_first_and_after_star_goes_last() {
    let items = [
      it("z", &[], &["*"]),
      it("a", &[], &[]),
      it("first", &["*"], &[]),
      it("b", &[], &[]),
    ];
    assert_eq!(ids(&items), ["first", "a", "b", "z"]);
  }

  #[test]
  fn several_star_items_keep_insertion_order_within_their_tier() {
    let items = [
      it("a", &[], &[]),
      it("f1", &["*"], &[]),
      it("l1", &[], &["*"]),
      it("f2", &["*"], &[]),
      it("l2", &[], &["*"]),
    ];
    assert_eq!(ids(&items), ["f1", "f2", "a", "l1", "l2"]);
  }

  #[test]
  fn explicit_constraints_apply_inside_a_star_tier() {
    let items = [it("f1", &["*"], &["f2"]), it("f2", &["*"], &[]), it("a", &[], &[])];
    assert_eq!(ids(&items), ["f2", "f1", "a"]);
  }

  #[test]
  fn unknown_ids_are_ignored() {
    let items = [it("a", &["nope"], &["missing"]), it("b", &[], &[])];
    assert_eq!(ids(&items), ["a", "b"]);
  }

  #[test]
  fn self_references_and_empty_ids_are_ignored() {
    let items = [it("a", &["a"], &[""]), it("", &[], &[]), it("b", &[], &[])];
    assert_eq!(ids(&items), ["a", "", "b"]);
  }

  #[test]
  fn ties_keep_insertion_order_when_an_item_waits() {
    // c must wait for b; a and d are free; d was added after c.
    let items = [it("a", &[], &[]), it("c", &[], &["b"]), it("b", &[], &[]), it("d", &[], &[])];
    assert_eq!(ids(&items), ["a", "b", "c", "d"]);
  }

  #[test]
  fn a_reference_applies_to_every_item_sharing_the_id() {
    let items = [it("x", &[], &[]), it("x", &[], &[]), it("y", &["x"], &[])];
    assert_eq!(order(&items).unwrap(), [2, 0, 1]);
  }

  #[test]
  fn chains_of_constraints_are_transitive() {
    let items = [it("c", &[], &["b"]), it("b", &[], &["a"]), it("a", &[], &[])];
    assert_eq!(ids(&items), ["a", "b", "c"]);
  }

  #[test]
  fn core_like_chain_places_user_listeners_around_a_core_id() {
    let items = [
      it("CheckOrderedError", &["*"], &[]),
      it("cio/move-aliases", &[], &[]),
      it("cio/secure", &[], &[]),
      it("cio/ensure-certs", &[], &[]),
      it("cio/createClient", &[], &[]),
      it("late", &[], &["cio/createClient"]),
      it("early", &["cio/createClient"], &[]),
    ];
    assert_eq!(
      ids(&items),
      [
        "CheckOrderedError",
        "cio/move-aliases",
        "cio/secure",
        "cio/ensure-certs",
        "early",
        "cio/createClient",
        "late"
      ]
    );
  }

  #[test]
  fn a_two_item_cycle_is_reported_with_both_ids() {
    let items = [it("a", &["b"], &[]), it("b", &["a"], &[]), it("c", &[], &[])];
    let err = order(&items).unwrap_err();
    assert_eq!(
      err,
      OrderError::Cycle { ids: vec!["a".into(), "b".into()], indices: vec![0, 1] }
    );
    assert_eq!(err.to_string(), "ordering cycle: a -> b -> a");
  }

  #[test]
  fn a_three_item_cycle_is_reported_in_edge_order() {
    let items = [
      it("free", &[], &[]),
      it("a", &[], &["c"]),
      it("b", &[], &["a"]),
      it("c", &[], &["b"]),
    ];
    let err = order(&items).unwrap_err();
    assert_eq!(err.to_string(), "ordering cycle: a -> b -> c -> a");
    match err {
      OrderError::Cycle { indices, .. } => assert_eq!(indices, vec![1, 2, 3]),
    }
  }

  #[test]
  fn cycle_report_excludes_items_that_merely_wait_on_the_cycle() {
    let items = [it("tail", &[], &["a"]), it("a", &["b"], &[]), it("b", &["a"], &[])];
    let err = order(&items).unwrap_err();
    assert_eq!(err.to_string(), "ordering cycle: a -> b -> a");
  }

  #[test]
  fn explicit_constraint_against_a_star_tier_is_a_cycle() {
    let items = [it("first", &["*"], &[]), it("a", &["first"], &[])];
    let err = order(&items).unwrap_err();
    assert_eq!(err.to_string(), "ordering cycle: first -> a -> first");
  }

  #[test]
  fn before_star_and_after_star_on_one_item_is_contradictory() {
    let items = [it("a", &[], &[]), it("both", &["*"], &["*"])];
    let err = order(&items).unwrap_err();
    assert_eq!(err.to_string(), "ordering cycle: both -> both");
  }

  #[test]
  fn anonymous_ids_are_named_in_cycle_messages() {
    let err = order(&[it("", &["*"], &["*"])]).unwrap_err();
    assert_eq!(err.to_string(), "ordering cycle: (anonymous) -> (anonymous)");
  }
  #[test]
  fn a_before_constraint_does_not_reorder_the_core_listeners() {
    let items = [
      it("CheckOrderedError", &["*"], &[]),
      it("cio/move-aliases", &[], &[]),
      it("cio/secure", &[], &[]),
      it("cio/ensure-certs", &[], &[]),
      it("cio/createClient", &[], &[]),
      it("mine", &["cio/secure"], &[]),
    ];
    assert_eq!(order(&items).unwrap(), [0, 1, 5, 2, 3, 4]);
  }
}

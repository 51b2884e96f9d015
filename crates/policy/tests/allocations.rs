//! Evaluation allocates per request, never per statement: the number of heap
//! allocations of `evaluate` stays the same whether the caller has 1 policy of 1
//! statement or 10 policies of 10 statements (each with String, IP and Bool
//! conditions), on the allow path and on the implicit-deny path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

#[path = "../benches/fixture/mod.rs"]
mod fixture;

use strongbox_policy::{evaluate, Decision};

/// Counts the allocations of the current thread (tests run on several threads).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations of one evaluation against `policies` × `statements`, and its decision.
fn measure(policies: usize, statements: usize, resource: &str) -> (u64, Decision) {
    let workload = fixture::Workload::new(policies, statements);
    let set = workload.set();
    let req = workload.request(resource);
    // Warm up once (lazily initialised statics), then count.
    let _ = evaluate(&req, &set);
    let before = allocations();
    let evaluation = evaluate(&req, &set);
    let used = allocations() - before;
    (used, evaluation.decision)
}

/// Both sizes, with their decisions checked, for `resource`.
fn small_and_large(resource: &str, decision: Decision) -> (u64, u64) {
    let (small, d1) = measure(1, 1, resource);
    let (large, d2) = measure(10, 10, resource);
    assert_eq!((d1, d2), (decision, decision));
    (small, large)
}

#[test]
fn allow_path_allocations_do_not_grow_with_statements() {
    let (small, large) = small_and_large(fixture::ALLOWED_RESOURCE, Decision::Allow);
    assert_eq!(
        small, large,
        "1×1: {small} allocations, 10×10: {large} allocations"
    );
    // A handful per request (trace buffers, the deciding statement), not one per statement.
    assert!(large <= 16, "{large} allocations for one evaluation");
    assert!(large > 0, "the counting allocator saw nothing");
}

#[test]
fn implicit_deny_allocations_do_not_grow_with_statements() {
    let (small, large) = small_and_large(fixture::OTHER_RESOURCE, Decision::Deny);
    assert_eq!(
        small, large,
        "1×1: {small} allocations, 10×10: {large} allocations"
    );
}

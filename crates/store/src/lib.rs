//! strongbox-store (work in progress).

//! strongbox-policy (work in progress).

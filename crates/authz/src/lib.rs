//! strongbox-authz (work in progress).

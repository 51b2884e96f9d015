//! strongbox-identity (work in progress).

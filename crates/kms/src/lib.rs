//! strongbox-kms (work in progress).

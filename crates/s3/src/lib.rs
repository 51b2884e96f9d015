//! strongbox-s3 (work in progress).

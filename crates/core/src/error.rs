//! The shape every service error takes on its way to the wire.

/// An error that maps to an AWS error code and HTTP status. Each service crate
/// implements this for its error enum, in one place, and the server renders it
/// in the protocol of that service (S3 XML, Query XML, JSON 1.1).
pub trait AwsError: std::error::Error {
    /// AWS's error code, e.g. `NoSuchBucket`.
    fn code(&self) -> &str;
    /// The HTTP status, e.g. 404.
    fn status(&self) -> u16;
    /// The human message; defaults to the `Display` text.
    fn message(&self) -> String {
        self.to_string()
    }
}

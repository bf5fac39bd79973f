/// A listing that failed: the registry's catalog, a repository's tags, or a Fly organisation. Reported in
/// `images.failed` under `what`.
public struct ListingFailure: Sendable, Equatable {
    public var what: String
    public var error: String
    /// The repository (`registry/repository`) whose tags were listed only in part: some of its images were not
    /// looked at, so it is not judged (nothing of it is resolved) in this run.
    public var partial: String?

    public init(what: String, error: String, partial: String? = nil) {
        self.what = what
        self.error = error
        self.partial = partial
    }
}

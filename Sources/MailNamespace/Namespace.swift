import MailCore
import MailPolicy
import MailStore

/// The directory with its behaviour wired in: the store below, recipient policies and (later)
/// the resolver beside it. Operations that involve more than the store — a recipient stamped
/// by its policy as it is added, a policy checked against the accepted domains before it is
/// saved — live here; plain directory reads and writes go to `directory`.
package final class Namespace: Sendable {
    package let directory: DirectoryStore

    /// Opens (creating and migrating when needed) the directory at `path`.
    package init(path: String) throws {
        directory = try DirectoryStore(path: path)
    }

    package init(directory: DirectoryStore) {
        self.directory = directory
    }
}

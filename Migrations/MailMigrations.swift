/// One schema step: a numbered SQL script, applied once, in order.
package struct Migration: Sendable {
    /// After this migration, `PRAGMA user_version` is `version`.
    package let version: Int
    package let name: String
    package let sql: String

    init(_ version: Int, _ name: String, _ bytes: [UInt8]) {
        self.version = version
        self.name = name
        self.sql = String(decoding: bytes, as: UTF8.self)
    }
}

/// The schema's history. Append only: a shipped migration is never edited, because databases
/// in the field have already run it. `scripts/new-migration NAME` creates the next file.
package enum MailMigrations {
    /// In order. Migration N leaves `PRAGMA user_version = N`.
    package static let all: [Migration] = [
        Migration(1, "initial_schema", PackageResources.v0001_initial_schema_sql),
        Migration(2, "address_lookup", PackageResources.v0002_address_lookup_sql),
        Migration(3, "routing", PackageResources.v0003_routing_sql),
        Migration(4, "postfix", PackageResources.v0004_postfix_sql),
        Migration(5, "route_index", PackageResources.v0005_route_index_sql),
        Migration(6, "import_keys", PackageResources.v0006_import_keys_sql),
        Migration(7, "address_keyed_table", PackageResources.v0007_address_keyed_table_sql),
    ]

    /// The schema version this binary creates and understands.
    package static var latestVersion: Int { all.last?.version ?? 0 }
}

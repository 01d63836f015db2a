// swift-tools-version: 6.1
import PackageDescription

// Layered like Postfix: util-tier modules (CSQLite, MailMigrations) know nothing of mail;
// MailCore holds the values; MailStore wraps SQLite; the `mailns` executable sits on top.
let package = Package(
    name: "MailNamespace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mailns", targets: ["mailns"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // SIGTERM/SIGINT → graceful shutdown of `mailns serve`.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "MailMigrations", path: "Migrations", resources: [.embedInCode("sql")]),
        .target(name: "MailCore"),
        // util tier: CSV (RFC 4180) and LDIF (RFC 2849) read and written as bytes, no mail words.
        .target(name: "DirectoryFormats"),
        .target(name: "MailStore", dependencies: ["MailCore", "CSQLite", "MailMigrations"]),
        .target(name: "MailPolicy", dependencies: ["MailCore"]),
        .target(name: "MailRouting", dependencies: ["MailCore"]),
        // util tier: the Postfix socketmap protocol (netstrings), no mail words.
        .target(
            name: "Socketmap",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "MailNamespace",
            dependencies: [
                "MailCore", "MailStore", "MailPolicy", "MailRouting", "Socketmap", "DirectoryFormats",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "mailns",
            dependencies: [
                "MailCore", "MailStore", "MailNamespace", "MailRouting", "Socketmap", "DirectoryFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // scripts/bench's in-process timing of resolve against its floor; not a product.
        // Also its socketmap floor (a trivial responder on the same server) and load client.
        .executableTarget(
            name: "mailns-bench",
            dependencies: [
                "MailNamespace", "MailStore", "MailRouting", "Socketmap",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "MailCoreTests", dependencies: ["MailCore"]),
        .testTarget(name: "DirectoryFormatsTests", dependencies: ["DirectoryFormats"]),
        .testTarget(name: "MailPolicyTests", dependencies: ["MailPolicy", "MailCore"]),
        .testTarget(name: "MailRoutingTests", dependencies: ["MailRouting", "MailCore"]),
        .testTarget(
            name: "SocketmapTests",
            dependencies: [
                "Socketmap", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "MailNamespaceTests",
            dependencies: [
                "MailNamespace", "MailStore", "MailPolicy", "MailRouting", "MailCore", "Socketmap",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "MailStoreTests", dependencies: ["MailStore", "MailCore", "MailMigrations"],
            exclude: ["Fixtures"]),
        .testTarget(name: "MailNSTests", dependencies: ["MailCore"]),
    ],
    swiftLanguageModes: [.v6]
)

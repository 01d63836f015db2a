import MailCore
import MailNamespace
import MailPolicy
import MailStore
import Testing

/// `applyPolicies` on a real directory file (spec §2, "What applying does").
@Suite struct PolicyApplyTests {
    let dir: TestDirectory
    var namespace: Namespace { dir.namespace }

    init() throws {
        dir = try TestDirectory()
    }

    // MARK: - The shared-namespace recipe (spec §6)

    @Test func theRecipeGivesEveryoneTheSharedPrimaryAndKeepsTheInternalAddressAsSecondary() throws {
        try dir.addRecipeDomains()
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@contoso.local"))
        // Added while only the Default Policy exists: each gets the internal primary at once.
        try namespace.addRecipient(person("jdoe", "John", "Doe"))
        try namespace.addRecipient(person("asmith", "Alice", "Smith"))
        #expect(try dir.addresses(of: "jdoe") == ["SMTP:jdoe@contoso.local"])

        try namespace.addPolicy(
            name: "Shared", priority: 1, filter: "(mailNickname=*)",
            templates: templates("SMTP:%g.%s@contoso.com", "smtp:%m@contoso.local"))
        let report = try namespace.applyPolicies(ApplyOptions())

        #expect(try dir.addresses(of: "jdoe") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
        #expect(try dir.addresses(of: "asmith") == ["SMTP:Alice.Smith@contoso.com", "smtp:asmith@contoso.local"])
        #expect(try dir.directory.recipient(alias: "jdoe")?.stampedByPolicy == "Shared")
        #expect(report.recipients == 2)
        #expect(report.changed == 2)
        #expect(report.added == 2)
        #expect(report.demoted == 2)
        #expect(report.promoted == 0)
        #expect(report.collisions == 0)
        #expect(report.failures.isEmpty)
        #expect(
            try dir.history(of: "jdoe", batch: report.batchID) == [
                Line("demoted", "smtp:jdoe@contoso.local"), Line("added", "SMTP:John.Doe@contoso.com"),
            ])
        let lines = try dir.directory.history(alias: "jdoe").filter { $0.batchID == report.batchID }
        #expect(lines.allSatisfy { $0.actor == "policy" && $0.actorName == "Shared" })
    }

    @Test func changingTheSharedTemplateDemotesTheOldPrimaryAndKeepsIt() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.addUnstamped(person("jdoe", "John", "Doe"), person("asmith", "Alice", "Smith"))
        let first = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.addresses(of: "jdoe") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
        #expect(
            try dir.history(of: "jdoe", batch: first.batchID) == [
                Line("added", "SMTP:John.Doe@contoso.com"), Line("added", "smtp:jdoe@contoso.local"),
            ])

        try namespace.setPolicyTemplates(name: "Shared", templates("SMTP:%1g%s@contoso.com", "smtp:%m@contoso.local"))
        let second = try namespace.applyPolicies(ApplyOptions())

        #expect(
            try dir.addresses(of: "jdoe") == ["SMTP:JDoe@contoso.com", "smtp:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
        #expect(
            try dir.addresses(of: "asmith") == [
                "SMTP:ASmith@contoso.com", "smtp:Alice.Smith@contoso.com", "smtp:asmith@contoso.local",
            ])
        #expect(second.changed == 2)
        #expect(second.added == 2)
        #expect(second.demoted == 2)
        #expect(
            try dir.history(of: "jdoe", batch: second.batchID) == [
                Line("demoted", "smtp:John.Doe@contoso.com"), Line("added", "SMTP:JDoe@contoso.com"),
            ])

        // One batch id per run, shared by every recipient the run changed; the policy is the actor.
        #expect(first.batchID != second.batchID)
        let everyLine = try dir.directory.history(alias: "jdoe") + dir.directory.history(alias: "asmith")
        #expect(Set(everyLine.map(\.batchID)) == [first.batchID, second.batchID])
        #expect(everyLine.allSatisfy { $0.actor == "policy" && $0.actorName == "Shared" })
        #expect(everyLine.count == 8)
    }

    @Test func namesWithDiacriticsAreStampedTransliterated() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.addUnstamped(
            person("jmueller", "Jürgen", "Müller-Lüdenscheidt"), person("zorsted", "Zoë", "Ørsted"),
            person("lzolc", "Łukasz", "Żółć"), person("ioconnell", "Ian", "O'Connell"))
        _ = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.primary(of: "jmueller") == "SMTP:Juergen.Mueller-Luedenscheidt@contoso.com")
        #expect(try dir.primary(of: "zorsted") == "SMTP:Zoe.Orsted@contoso.com")
        #expect(try dir.primary(of: "lzolc") == "SMTP:Lukasz.Zolc@contoso.com")
        #expect(try dir.primary(of: "ioconnell") == "SMTP:Ian.O'Connell@contoso.com")
    }

    // MARK: - Idempotency

    @Test func aSecondApplyReportsNoChangesAndWritesNothing() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.addUnstamped(
            person("jdoe", "John", "Doe"), person("johnd", "John", "Doe"), person("asmith", "Alice", "Smith"),
            person("outsider", "Olga", "Out", managed: false))
        let first = try namespace.applyPolicies(ApplyOptions())
        #expect(first.changed == 3)
        #expect(first.collisions == 1)

        let before = try dir.snapshot()
        let second = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.snapshot() == before)
        #expect(second.recipients == 3)
        #expect(second.changed == 0)
        #expect(second.added == 0)
        #expect(second.promoted == 0)
        #expect(second.demoted == 0)
        #expect(second.collisions == 0)
        #expect(second.failures.isEmpty)
    }

    @Test func aReapplyAfterADemotionIsAgainANoOp() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.addUnstamped(person("jdoe", "John", "Doe"), person("johnd", "John", "Doe"))
        _ = try namespace.applyPolicies(ApplyOptions())
        try namespace.setPolicyTemplates(name: "Shared", templates("SMTP:%1g%s@contoso.com", "smtp:%m@contoso.local"))
        let changed = try namespace.applyPolicies(ApplyOptions())
        #expect(changed.changed == 2)
        #expect(try dir.primary(of: "johnd") == "SMTP:JDoe2@contoso.com")

        let before = try dir.snapshot()
        let again = try namespace.applyPolicies(ApplyOptions())
        #expect(again.changed == 0)
        #expect(try dir.snapshot() == before)
    }

    // MARK: - Dry run

    /// A dry run keeps the claims of its earlier pages (by hash, with the claimant's alias) so
    /// that later pages see them taken, as the real run sees them written.
    @Test func aDryRunOverManyPagesSeesWhatEarlierPagesClaimedAndNamesWhoClaimedIt() throws {
        try dir.addRecipeDomains()
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%g.%s@contoso.com"))
        try dir.addUnstamped(person("doe1", "John", "Doe"), person("doe2", "John", "Doe"), person("doe3", "JOHN", "doe"), person("smith", "Ann", "Smith"))

        let before = try dir.snapshot()
        let dry = try namespace.applyPolicies(ApplyOptions(dryRun: true, batchSize: 1))
        #expect(try dir.snapshot() == before, "the dry run wrote something")
        #expect(dry.plans.map { $0.added.map(\.description) } == [
            ["SMTP:John.Doe@contoso.com"], ["SMTP:John.Doe2@contoso.com"], ["SMTP:JOHN.doe3@contoso.com"], ["SMTP:Ann.Smith@contoso.com"],
        ])
        #expect(dry.plans.map { $0.collisions.map(\.owner) } == [[], ["doe1"], ["doe1"], []])

        let real = try namespace.applyPolicies(ApplyOptions(batchSize: 1))
        #expect(real.collisions == dry.collisions)
        for plan in dry.plans { #expect(try dir.primary(of: plan.alias) == plan.added.first?.description) }
    }

    @Test func aDryRunWritesNothingAndPlansExactlyWhatTheRealRunThenDoes() throws {
        try dir.addRecipeDomains()
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@contoso.local"))
        // Stamped by the Default Policy as they are added, so the plans include demotions;
        // the two John Does collide with each other within the run.
        for recipient in [person("jdoe", "John", "Doe"), person("johnd", "John", "Doe"), person("asmith", "Alice", "Smith")] {
            try namespace.addRecipient(recipient)
        }
        try namespace.addPolicy(
            name: "Shared", priority: 1, filter: "(mailNickname=*)",
            templates: templates("SMTP:%g.%s@contoso.com", "smtp:%m@contoso.local"))
        let aliases = ["asmith", "jdoe", "johnd"]
        var addressesBefore: [String: Set<String>] = [:]
        for alias in aliases { addressesBefore[alias] = try dir.addresses(of: alias) }

        let before = try dir.snapshot()
        let dry = try namespace.applyPolicies(ApplyOptions(dryRun: true))
        #expect(try dir.snapshot() == before, "the dry run wrote something")
        #expect(dry.dryRun)
        #expect(dry.plans.map(\.alias) == aliases)

        let johnd = try #require(dry.plans.first { $0.alias == "johnd" })
        #expect(johnd.added.map(\.description) == ["SMTP:John.Doe2@contoso.com"])
        #expect(johnd.collisions.count == 1)
        #expect(johnd.collisions.first?.wanted.description == "John.Doe@contoso.com")
        #expect(johnd.collisions.first?.owner == "jdoe")
        #expect(johnd.collisions.first?.used.description == "John.Doe2@contoso.com")

        let real = try namespace.applyPolicies(ApplyOptions())
        #expect(!real.dryRun)
        #expect(real.recipients == dry.recipients)
        #expect(real.changed == dry.changed)
        #expect(real.added == dry.added)
        #expect(real.promoted == dry.promoted)
        #expect(real.demoted == dry.demoted)
        #expect(real.collisions == dry.collisions)
        #expect(real.failures.map(\.alias) == dry.failures.map(\.alias))
        #expect(dry.changed == 3)
        #expect(dry.collisions == 1)

        for plan in dry.plans {
            // The history of the real run says line for line what the plan said.
            var planned: [Line] = []
            if let demoted = plan.demoted { planned.append(Line("demoted", demoted.description)) }
            if let promoted = plan.promoted { planned.append(Line("promoted", promoted.description)) }
            planned += plan.added.map { Line("added", $0.description) }
            #expect(try dir.history(of: plan.alias, batch: real.batchID) == planned, "history of \(plan.alias)")

            // And the addresses are the old ones with the plan applied.
            var expected = addressesBefore[plan.alias] ?? []
            for changed in [plan.demoted, plan.promoted].compactMap({ $0 }) {
                var other = changed
                other.kind = changed.isPrimary ? .secondary : .primary
                expected.remove(other.description)
                expected.insert(changed.description)
            }
            expected.formUnion(plan.added.map(\.description))
            #expect(try dir.addresses(of: plan.alias) == expected, "addresses of \(plan.alias)")
        }
        #expect(try dir.primary(of: "jdoe") == "SMTP:John.Doe@contoso.com")
        #expect(try dir.primary(of: "johnd") == "SMTP:John.Doe2@contoso.com")
    }

    // MARK: - Collisions

    @Test func recipientsWithTheSameNameTakeSuffixesInAliasOrderWhateverTheOrderTheyWereAdded() throws {
        try dir.setUpSharedNamespaceRecipe()
        // Added in reverse alias order; "doej" < "jdoe" < "johnd".
        try dir.addUnstamped(person("johnd", "John", "Doe"), person("jdoe", "John", "Doe"), person("doej", "John", "Doe"))
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.primary(of: "doej") == "SMTP:John.Doe@contoso.com")
        #expect(try dir.primary(of: "jdoe") == "SMTP:John.Doe2@contoso.com")
        #expect(try dir.primary(of: "johnd") == "SMTP:John.Doe3@contoso.com")
        #expect(report.collisions == 2)
    }

    @Test func aCollisionThreeDeepTakesTheSmallestFreeSuffix() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.directory.addRecipient(
            Recipient(alias: "holder1", isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:John.Doe@contoso.com")]))
        // Taken in another letter case: still taken.
        try dir.directory.addRecipient(
            Recipient(alias: "holder2", isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:JOHN.DOE2@contoso.com")]))
        try dir.addUnstamped(person("jdoe", "John", "Doe"))

        let dry = try namespace.applyPolicies(ApplyOptions(dryRun: true))
        let collision = try #require(dry.plans.first?.collisions.first)
        #expect(collision.wanted.description == "John.Doe@contoso.com")
        #expect(collision.owner == "holder1")
        #expect(collision.used.description == "John.Doe3@contoso.com")

        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.addresses(of: "jdoe") == ["SMTP:John.Doe3@contoso.com", "smtp:jdoe@contoso.local"])
        #expect(report.collisions == 1)
        #expect(try dir.addresses(of: "holder1") == ["SMTP:John.Doe@contoso.com"])
        #expect(try dir.addresses(of: "holder2") == ["SMTP:JOHN.DOE2@contoso.com"])
    }

    @Test func anAddressAnotherRecipientHoldsUnderAnotherTypeIsACollision() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.directory.addRecipient(person("lync", managed: false))
        try dir.directory.addAddress(try ProxyAddress(parsing: "SIP:john.doe@contoso.com"), to: "lync")
        try dir.addUnstamped(person("jdoe", "John", "Doe"))

        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.primary(of: "jdoe") == "SMTP:John.Doe2@contoso.com")
        #expect(report.collisions == 1)
        #expect(try dir.addresses(of: "lync") == ["SIP:john.doe@contoso.com"])
    }

    /// Regression: the owner lookup returned the recipient's own SIP row first and hid the
    /// other recipient's SMTP address, so the insert hit UNIQUE and the whole batch rolled back.
    @Test func theRecipientsOwnAddressOfAnotherTypeDoesNotHideAnotherHolder() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.addUnstamped(person("jdoe", "John", "Doe"))
        try dir.directory.addAddress(try ProxyAddress(parsing: "SIP:john.doe@contoso.com"), to: "jdoe")
        try dir.directory.addRecipient(person("other", managed: false))
        try dir.directory.addAddress(try ProxyAddress(parsing: "SMTP:John.Doe@contoso.com"), to: "other")

        let dry = try namespace.applyPolicies(ApplyOptions(dryRun: true))
        #expect(dry.plans.first?.added.first?.description == "SMTP:John.Doe2@contoso.com")
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(report.failures.isEmpty)
        #expect(try dir.primary(of: "jdoe") == "SMTP:John.Doe2@contoso.com")
        #expect(try dir.addresses(of: "jdoe").contains("SIP:john.doe@contoso.com"))
    }

    /// Regression: in one batch, the second John Doe used the number it held as SIP although
    /// another recipient held it as SMTP; the insert failed and the whole batch rolled back.
    @Test func aNumberedAddressHeldUnderAnotherTypeIsNotUsedWhenAnotherRecipientHoldsItAsSMTP() throws {
        try dir.addRecipeDomains()
        try dir.directory.addRecipient(person("h1", managed: false))
        try dir.directory.addAddress(try ProxyAddress(parsing: "SMTP:john.doe@contoso.com"), to: "h1")
        try dir.directory.addRecipient(person("h2", managed: false))
        try dir.directory.addAddress(try ProxyAddress(parsing: "SMTP:john.doe2@contoso.com"), to: "h2")
        try dir.addUnstamped(person("a1", "John", "Doe"), person("b1", "John", "Doe"))
        try dir.directory.addAddress(try ProxyAddress(parsing: "SIP:john.doe2@contoso.com"), to: "b1")
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%g.%s@contoso.com"))

        let dry = try namespace.applyPolicies(ApplyOptions(dryRun: true))
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(report.failures.isEmpty)
        #expect(try dir.primary(of: "a1") == "SMTP:John.Doe3@contoso.com")
        #expect(try dir.primary(of: "b1") == "SMTP:John.Doe4@contoso.com")
        #expect(dry.plans.compactMap { $0.added.first(where: \.isPrimary)?.description } == ["SMTP:John.Doe3@contoso.com", "SMTP:John.Doe4@contoso.com"])
    }

    @Test func anAddressTheRecipientAlreadyOwnsIsPromotedNotSuffixed() throws {
        try dir.setUpSharedNamespaceRecipe()
        try dir.directory.addRecipient(
            Recipient(
                alias: "jdoe", attributes: [.givenName: "John", .sn: "Doe"],
                addresses: [try ProxyAddress(parsing: "SMTP:jd@contoso.local"), try ProxyAddress(parsing: "smtp:john.doe@contoso.com")]))

        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(
            try dir.addresses(of: "jdoe") == ["SMTP:john.doe@contoso.com", "smtp:jd@contoso.local", "smtp:jdoe@contoso.local"])
        #expect(report.collisions == 0)
        #expect(report.promoted == 1)
        #expect(report.demoted == 1)
        #expect(report.added == 1)
        #expect(
            try dir.history(of: "jdoe", batch: report.batchID) == [
                Line("demoted", "smtp:jd@contoso.local"), Line("promoted", "SMTP:john.doe@contoso.com"),
                Line("added", "smtp:jdoe@contoso.local"),
            ])
    }

    // MARK: - Priority and --policy

    /// Executives (1) `(title=CEO)`, Sales (2) `(department=Sales)`, Everyone (3)
    /// `(mailNickname=*)`, the Default Policy last. Alice is in Sales, Bob is not, Carol is the
    /// CEO and in Sales, Dave is in Sales but not policy-managed.
    private func setUpPriorities() throws {
        try dir.addRecipeDomains()
        try dir.addDomain("sales.contoso.com", .shared)
        try namespace.addPolicy(
            name: "Everyone", priority: nil, filter: "(mailNickname=*)",
            templates: templates("SMTP:%g.%s@contoso.com", "smtp:%m@contoso.local"))
        try namespace.addPolicy(name: "Sales", priority: 1, filter: "(department=Sales)", templates: templates("SMTP:%m@sales.contoso.com"))
        try namespace.addPolicy(name: "Executives", priority: 1, filter: "(title=CEO)", templates: templates("SMTP:%g@contoso.com"))
        #expect(try dir.directory.policies().map(\.name) == ["Executives", "Sales", "Everyone", "Default Policy"])
        try dir.addUnstamped(
            person("alice", "Alice", "A", extra: [.department: "Sales"]),
            person("bob", "Bob", "B"),
            person("carol", "Carol", "C", extra: [.department: "sales", .title: "CEO"]),
            person("dave", "Dave", "D", managed: false, extra: [.department: "Sales"]))
    }

    @Test func aRecipientMatchedByTwoPoliciesGetsOnlyTheBetterOnesAddresses() throws {
        try setUpPriorities()
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.addresses(of: "alice") == ["SMTP:alice@sales.contoso.com"])
        #expect(try dir.addresses(of: "bob") == ["SMTP:Bob.B@contoso.com", "smtp:bob@contoso.local"])
        #expect(try dir.addresses(of: "carol") == ["SMTP:Carol@contoso.com"])
        #expect(try dir.addresses(of: "dave") == [])
        #expect(try dir.directory.recipient(alias: "alice")?.stampedByPolicy == "Sales")
        #expect(try dir.directory.recipient(alias: "carol")?.stampedByPolicy == "Executives")
        #expect(report.recipients == 3)
        #expect(report.changed == 3)
    }

    @Test func applyingOnePolicyTouchesOnlyTheRecipientsItWins() throws {
        try setUpPriorities()
        let report = try namespace.applyPolicies(ApplyOptions(policy: "Sales"))
        #expect(try dir.addresses(of: "alice") == ["SMTP:alice@sales.contoso.com"])
        // Bob is Everyone's, Carol is matched by Sales but won by Executives, Dave is not managed.
        for alias in ["bob", "carol", "dave"] {
            #expect(try dir.addresses(of: alias) == [], "\(alias) was touched")
            #expect(try dir.directory.history(alias: alias).isEmpty, "\(alias) has history")
            #expect(try dir.directory.recipient(alias: alias)?.stampedByPolicy == nil)
        }
        #expect(report.changed == 1)
        #expect(report.added == 1)
    }

    @Test func applyingAPolicyThatDoesNotExistIsRefusedWithoutWriting() throws {
        try setUpPriorities()
        let message = try dir.expectRefusedWithoutWriting { _ = try namespace.applyPolicies(ApplyOptions(policy: "Marketing")) }
        #expect(message?.contains("Marketing") == true)
    }

    // MARK: - Recipients that get nothing

    @Test func aRecipientWithNoFreeAddressIsReportedAndGetsNothing() throws {
        try dir.setUpSharedNamespaceRecipe()
        // x@contoso.com and x2 … x10000@contoso.com are all taken: every suffix the stamper may try.
        let taken = try [ProxyAddress(parsing: "SMTP:x@contoso.com")]
            + (2...Stamper.maximumSuffix).map { try ProxyAddress(parsing: "smtp:x\($0)@contoso.com") }
        try dir.directory.addRecipient(Recipient(alias: "hoarder", isPolicyManaged: false, addresses: taken))
        // No surname: %g.%s gives "x." and the trailing dot goes, so the wanted address is x@contoso.com.
        try dir.addUnstamped(person("xavier", "x"), person("jdoe", "John", "Doe"))

        let dry = try namespace.applyPolicies(ApplyOptions(dryRun: true))
        #expect(dry.failures.map(\.alias) == ["xavier"])

        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(report.failures.map(\.alias) == ["xavier"])
        #expect(report.failures.first?.reason.contains("x@contoso.com") == true)
        #expect(try dir.addresses(of: "xavier") == [])
        #expect(try dir.directory.history(alias: "xavier").isEmpty)
        #expect(try dir.directory.recipient(alias: "xavier")?.stampedByPolicy == nil)
        // The others in the same run are stamped as usual.
        #expect(try dir.primary(of: "jdoe") == "SMTP:John.Doe@contoso.com")
        #expect(report.changed == 1)
    }

    // MARK: - Batches and progress

    @Test func moreRecipientsThanOneBatchAreAllStampedAndProgressEndsAtTheTotal() throws {
        try dir.addRecipeDomains()
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@contoso.local"))
        let total = Namespace.batchSize + 10
        let aliases = (1...total).map { "user" + String(repeating: "0", count: 5 - String($0).count) + String($0) }
        try dir.directory.transaction(writing: true) { tx in
            for alias in aliases { _ = try tx.addRecipient(person(alias, "U", alias), actor: .manual) }
        }

        var calls: [(done: Int, total: Int)] = []
        let report = try namespace.applyPolicies(ApplyOptions()) { done, total in calls.append((done, total)) }

        #expect(report.recipients == total)
        #expect(report.changed == total)
        #expect(report.added == total)
        #expect(report.failures.isEmpty)
        let recipients = try dir.directory.recipients()
        #expect(recipients.count == total)
        #expect(recipients.allSatisfy { $0.addresses.map(\.description) == ["SMTP:\($0.alias)@contoso.local"] })
        #expect(calls.last?.done == total)
        #expect(calls.allSatisfy { $0.total == total })
        #expect(calls.count >= 2)
        #expect(zip(calls, calls.dropFirst()).allSatisfy { $0.done <= $1.done })
        // One run, one batch id, across the write transactions.
        #expect(try dir.directory.history(alias: aliases.first!).map(\.batchID) == [report.batchID])
        #expect(try dir.directory.history(alias: aliases.last!).map(\.batchID) == [report.batchID])
    }

    /// History lines are written many to a statement with the rest one at a time: 130 lines
    /// are two full statements and two single rows, and every one must arrive as planned.
    @Test func everyHistoryLineOfAPageIsWrittenWhateverItsPositionInTheStatements() throws {
        try dir.addRecipeDomains()
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@contoso.local"))
        let aliases = (1...130).map { "u" + String(repeating: "0", count: 3 - String($0).count) + String($0) }
        try dir.directory.transaction(writing: true) { tx in
            for alias in aliases { _ = try tx.addRecipient(person(alias, "U", alias), actor: .manual) }
        }
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(report.added == 130)
        for alias in aliases {
            let lines = try dir.directory.history(alias: alias)
            #expect(lines.map { "\($0.action.rawValue) \($0.address) \($0.actor) \($0.actorName ?? "-")" }
                == ["added SMTP:\(alias)@contoso.local policy \(RecipientPolicy.defaultPolicyName)"], "\(alias)")
        }
    }

    // MARK: - Preview

    @Test func previewListsTheRecipientsAPolicyWinsWithTheirPrimary() throws {
        try setUpPriorities()
        try dir.addUnstamped(person("anna", "Anna", "N", extra: [.department: "SALES"]))
        let before = try dir.snapshot()

        let sales = try namespace.preview(policy: "Sales")
        #expect(sales.map(\.alias) == ["alice", "anna"])
        #expect(sales.map { $0.primary?.description } == ["alice@sales.contoso.com", "anna@sales.contoso.com"])
        let everyone = try namespace.preview(policy: "Everyone")
        #expect(everyone.map(\.alias) == ["bob"])
        #expect(everyone.first?.primary?.description == "Bob.B@contoso.com")
        #expect(try namespace.preview(policy: "Default Policy").isEmpty)
        #expect(try dir.snapshot() == before)
        #expect(throws: StoreError.self) { try namespace.preview(policy: "Marketing") }
    }

    // MARK: - Policy names as the store compares them (review item 2)

    /// Two policies whose names differ only in non-ASCII case (or in normalisation), which the
    /// store keeps apart, and a recipient each.
    private func setUpLookalikeNames(_ first: String, _ second: String) throws {
        try dir.addDomain("contoso.com", .shared)
        try dir.addUnstamped(person("p1", nil, "One"), person("p2", nil, "Two"))
        try namespace.addPolicy(name: first, priority: nil, filter: "(sn=One)", templates: templates("SMTP:a.%m@contoso.com"))
        try namespace.addPolicy(name: second, priority: nil, filter: "(sn=Two)", templates: templates("SMTP:b.%m@contoso.com"))
    }

    static let lookalikes = [("Ärzte", "ärzte"), ("\u{C4}rzte", "A\u{308}rzte")]

    @Test(arguments: lookalikes)
    func previewShowsOnlyThePolicyNamedThoughAnotherDiffersOnlyInNonASCIICase(_ first: String, _ second: String) throws {
        try setUpLookalikeNames(first, second)
        #expect(try namespace.preview(policy: first).map(\.alias) == ["p1"])
        #expect(try namespace.preview(policy: second).map(\.alias) == ["p2"])
        // ASCII letters still match in any case, as `policy show` finds them.
        let asciiUppercased = String(decoding: first.utf8.map { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) ? $0 - 32 : $0 }, as: UTF8.self)
        #expect(try namespace.preview(policy: asciiUppercased).map(\.alias) == ["p1"])
    }

    @Test(arguments: lookalikes)
    func applyingOnePolicyLeavesTheOneWhoseNameDiffersOnlyInNonASCIICase(_ first: String, _ second: String) throws {
        try setUpLookalikeNames(first, second)
        let dry = try namespace.applyPolicies(ApplyOptions(dryRun: true, policy: second))
        #expect(dry.plans.map(\.alias) == ["p2"])
        let report = try namespace.applyPolicies(ApplyOptions(policy: second))
        #expect(report.changed == 1)
        #expect(try dir.addresses(of: "p1") == [])
        #expect(try dir.addresses(of: "p2") == ["SMTP:b.p2@contoso.com"])
        #expect(try dir.directory.recipient(alias: "p2")?.stampedByPolicy?.unicodeScalars.elementsEqual(second.unicodeScalars) == true)
    }

    /// A recipient moving between two policies whose names Swift's `==` equates (NFC and NFD)
    /// is recorded as stamped by the one that won.
    @Test func theStampingPolicyFollowsBetweenNamesSwiftWouldEquate() throws {
        let nfc = "\u{C4}rzte", nfd = "A\u{308}rzte"
        try dir.addDomain("contoso.com", .shared)
        try dir.addUnstamped(person("p1", nil, "One"))
        try namespace.addPolicy(name: nfc, priority: nil, filter: "(sn=One)", templates: templates("SMTP:%m@contoso.com"))
        try namespace.addPolicy(name: nfd, priority: nil, filter: "(sn=One)", templates: templates("SMTP:%m@contoso.com"))
        _ = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.directory.recipient(alias: "p1")?.stampedByPolicy?.unicodeScalars.elementsEqual(nfc.unicodeScalars) == true)

        try dir.directory.setPolicyPriority(name: nfd, to: 1)
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.directory.recipient(alias: "p1")?.stampedByPolicy?.unicodeScalars.elementsEqual(nfd.unicodeScalars) == true)
        #expect(report.changed == 0, "the addresses were already right")
    }
}


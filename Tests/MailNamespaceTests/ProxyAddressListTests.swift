import Testing

@testable import MailNamespace

/// csvde's `;`-separated `proxyAddresses` field, with addresses that hold `;` themselves.
@Suite struct ProxyAddressListTests {
    @Test func aPieceWithoutATypePrefixContinuesTheAddressBeforeIt() {
        #expect(ProxyAddressList.split("SMTP:bob@contoso.com;EUM:4711;phone-context=dp.contoso.com;x500:/o=A")
            == ["SMTP:bob@contoso.com", "EUM:4711;phone-context=dp.contoso.com", "x500:/o=A"])
        #expect(ProxyAddressList.split("SIP:bob@contoso.com;maddr=x; user=phone") == ["SIP:bob@contoso.com;maddr=x; user=phone"])
        // Blank pieces separate nothing; hyphens count in a prefix; spaces around addresses go.
        #expect(ProxyAddressList.split(" SMTP:a@b.example ;; MS-Fax:1234;") == ["SMTP:a@b.example", "MS-Fax:1234"])
        // The first piece is an address whatever it looks like: import says what is wrong with it.
        #expect(ProxyAddressList.split("no prefix;smtp:a@b.example") == ["no prefix", "smtp:a@b.example"])
    }

    @Test func anAddressIsAmbiguousWhenAPieceAfterASemicolonWouldReadBackOnItsOwn() {
        #expect(ProxyAddressList.ambiguousPiece(of: "EUM:4711;phone-context=dp.contoso.com") == nil)
        #expect(ProxyAddressList.ambiguousPiece(of: "SIP:a@contoso.com;transport:tls") == "transport:tls")
        #expect(ProxyAddressList.ambiguousPiece(of: "X500:/o=A;") == "")
        #expect(ProxyAddressList.ambiguousPiece(of: "SMTP:a@b.example") == nil)
        #expect(!ProxyAddressList.startsWithTypePrefix("seventeen-letters:x"))
        #expect(ProxyAddressList.startsWithTypePrefix("sixteen-letters1:x"))
        #expect(!ProxyAddressList.startsWithTypePrefix(":x"))
    }
}
